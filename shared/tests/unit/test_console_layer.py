"""The staff pages' shared layer: words for every code, local times, the layout and its headers."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
from litestar import Litestar, Request, get
from litestar.response import Template
from litestar.template import TemplateConfig
from litestar.testing import TestClient

from trainops_shared.auth import Principal
from trainops_shared.console.labels import LABELS, choices, code_for, label
from trainops_shared.console.pages import console_engine, local_time, render_console
from trainops_shared.events.vocabulary import AGE_BANDS, LANGUAGES, SECTORS, SEXES
from trainops_shared.http_security import add_security_headers, console_assets_router

pytestmark = pytest.mark.unit


@pytest.mark.parametrize(
    ("kind", "codes"),
    [("sector", SECTORS), ("sex", SEXES), ("age_band", AGE_BANDS), ("language", LANGUAGES)],
)
def test_every_code_of_the_vocabulary_has_a_word_in_every_language(
    kind: str, codes: tuple[str, ...]
) -> None:
    assert tuple(LABELS[kind]) == codes
    for code in codes:
        for lang in LANGUAGES:
            assert label(kind, code, lang).strip()


def test_words_read_back_as_codes_in_any_language_and_unknown_codes_show_as_themselves() -> None:
    assert code_for("sector", " сми ") == "media"
    assert code_for("sector", "БАҚ") == "media"
    assert code_for("city", "Ақтөбе") == "aktobe"
    assert code_for("sector", "press") is None
    assert label("city", "turkistan", "kk") == "turkistan"
    assert choices("mode", "en") == [("online", "Online"), ("in_person", "In person")]


def test_local_time_is_the_wall_clock_of_the_session_with_its_offset() -> None:
    moment = datetime(2026, 3, 12, 5, 0, tzinfo=UTC)
    assert local_time(moment, "Asia/Almaty") == "12.03.2026 10:00 UTC+5"
    assert local_time(moment, "Asia/Aqtobe") == "12.03.2026 10:00 UTC+5"
    assert local_time(moment, "UTC") == "12.03.2026 05:00 UTC+0"
    assert local_time(moment, "Not/AZone") == "12.03.2026 05:00 UTC+0"


def _app(tmp_path: Path, principal: Principal) -> Litestar:
    (tmp_path / "page.html").write_text(
        '{% extends "console/base.html" %}{% import "console/macros.html" as ui with context %}'
        '{% block main %}<form method="post">{{ ui.csrf() }}'
        '{{ ui.select("sector", "Sector", choices("sector", lang), value="ngo") }}'
        '{{ ui.input("full_name", "Name", value=name, error="required") }}</form>'
        "{% endblock %}",
        encoding="utf-8",
    )

    @get("/page", sync_to_thread=False)
    def page(request: Request[Any, Any, Any]) -> Template:
        return render_console(
            request, principal, "page.html", {"name": "<b>x</b>"}, title="Регистрация"
        )

    app = Litestar(
        [page, console_assets_router()],
        template_config=TemplateConfig(instance=console_engine(tmp_path)),
        before_send=[add_security_headers],
    )
    app.state.runtime = SimpleNamespace(
        settings=SimpleNamespace(
            service="registration",
            identity_url="http://id.example:8005",
            service_urls={"reporting": "http://rep.example:8004"},
            cookie_secure=False,
        )
    )
    return app


def test_a_page_carries_the_layout_the_session_and_a_strict_policy(tmp_path: Path) -> None:
    principal = Principal("aigul", "coordinator", "aktobe", session_id="s", csrf="c5rf")
    with TestClient(_app(tmp_path, principal)) as client:
        response = client.get("/page?lang=kk")
        body = response.text
        assert response.status_code == 200
        assert '<html lang="kk">' in body
        assert 'name="csrf_token" value="c5rf"' in body
        assert 'action="http://id.example:8005/sign-out"' in body
        assert "Ақтөбе" in body and "Өңірлік үйлестіруші" in body
        assert '<option value="ngo" selected>ҮЕҰ</option>' in body
        assert "&lt;b&gt;x&lt;/b&gt;" in body and 'aria-invalid="true"' in body
        # A coordinator's navigation: registration and feedback (no URL known for feedback
        # here), never reporting.
        assert 'id="nav-registration"' in body and "nav-reporting" not in body
        csp = response.headers["content-security-policy"]
        assert "default-src 'none'" in csp and "form-action 'self' http://id.example:8005" in csp
        assert response.cookies.get("trainops_lang") == "kk"
        css = client.get("/assets/console/1/console.css")
        assert css.status_code == 200 and "max-age=31536000" in css.headers["cache-control"]


def test_an_instant_at_the_calendars_edge_is_shown_in_utc() -> None:
    """31 December 9999 22:00 at UTC−5 is past year 9999 in UTC+5: shown in UTC, not a 500."""
    from datetime import UTC, datetime

    from trainops_shared.console.pages import local_date, local_time

    edge = datetime(9999, 12, 31, 23, 0, tzinfo=UTC)
    assert local_time(edge, "Asia/Almaty") == "31.12.9999 23:00 UTC+0"
    assert local_date(edge, "Asia/Almaty") == "31.12.9999"
