"""The reporting OpenAPI document tells what the routes do: periods, the CSV, XLSX and PDF
representations, the error answers."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from trainops_devtools.testing.tokens import TEST_JWT_ENV
from trainops_reporting.app import build_spec
from trainops_shared.service import create_app
from trainops_shared.settings import load_settings

pytestmark = pytest.mark.unit


def _operations(tmp_path: Path) -> dict[str, Any]:
    settings = load_settings(
        "reporting",
        {
            "NATS_URL": "nats://127.0.0.1:1",
            "DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path / 'r.db'}",
            **TEST_JWT_ENV,
            "TRAINOPS_DATA_DIR": str(tmp_path),
        },
    )
    doc = create_app(build_spec(settings), settings).openapi_schema.to_schema()
    return {path: doc["paths"][path]["get"] for path in ("/reports/donor", "/reports/summary")}


def test_report_routes_document_parameters_media_types_and_errors(tmp_path: Path) -> None:
    operations = _operations(tmp_path)
    donor = operations["/reports/donor"]
    documents = {
        "application/pdf",
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    }
    assert set(donor["responses"]["200"]["content"]) == {"application/json", "text/csv", *documents}
    summary = operations["/reports/summary"]["responses"]["200"]["content"]
    assert set(summary) == {"application/json", *documents}
    assert summary["application/pdf"]["schema"]["format"] == "binary"
    for operation in operations.values():
        parameters = {p["name"]: p for p in operation["parameters"]}
        assert "xlsx" in parameters["format"]["description"]
        assert "Accept-Language" in parameters["lang"]["description"]
    for operation in operations.values():
        assert {"401", "403", "422"} <= set(operation["responses"])
        parameters = {p["name"]: p for p in operation["parameters"]}
        assert "period" in parameters and "k" in parameters
        assert "422" in parameters["from"]["description"]
        assert "REPORT_MIN_CELL" in parameters["k"]["description"]


def test_a_bad_disclosure_setting_stops_the_service_at_start_up(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from trainops_shared.settings import SettingsError

    monkeypatch.setenv("REPORT_MIN_CELL", "0")
    with pytest.raises(SettingsError, match="REPORT_MIN_CELL"):
        _operations(tmp_path)
