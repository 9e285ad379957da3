"""The reporting staff's pages through the real app, on a real nats-server and SQLite.

The programme of ``build_donor_scenario`` has small cells (almaty/male: 2 registered), so the
pages must show the marks where the JSON API hides a count, and every number they print must
be one the API publishes.
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import nats
import pytest
from litestar.testing import AsyncTestClient
from reporting_programme import Programme, build_donor_scenario

from trainops_devtools.nats_server import NatsServer
from trainops_devtools.testing.polling import eventually
from trainops_devtools.testing.tokens import TEST_JWT_ENV, token_for
from trainops_reporting.adapters.state import read_generation
from trainops_reporting.app import build_spec
from trainops_shared.events import encode_event
from trainops_shared.service import ServiceRuntime, create_app
from trainops_shared.settings import load_settings

pytestmark = pytest.mark.integration

REPORTING = {"Authorization": f"Bearer {token_for(role='reporting')}"}
STAFF = {"Authorization": f"Bearer {token_for(role='programme_staff')}"}
COORDINATOR = {"Authorization": f"Bearer {token_for(role='coordinator', region='almaty')}"}
TITLES = {
    "kk": "Есептер: бағдарлама көрсеткіштері",
    "ru": "Отчёты: показатели программы",
    "en": "Reports: programme dashboard",
}
HIDDEN_WORDS = {"kk": "жасырын", "ru": "скрыто", "en": "hidden"}
CELL = re.compile(r'<td class="num( hidden-cell suppressed)?" data-measure="(\w+)">([^<]*)</td>')
ROW = re.compile(r'<tr id="(row|total|margin\d)-([^"]+)">(.*?)</tr>', re.S)


@pytest.fixture
async def client(
    fresh_nats_server: NatsServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> AsyncIterator[AsyncTestClient[Any]]:
    """The app with the scenario projected, reporting by month as well as in all."""
    monkeypatch.setenv("REPORT_PERIODS", "all,month")
    settings = load_settings(
        "reporting",
        {
            "NATS_URL": fresh_nats_server.url,
            "DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path / 'reporting.db'}",
            **TEST_JWT_ENV,
            "TRAINOPS_DATA_DIR": str(tmp_path),
        },
    )
    app = create_app(build_spec(settings), settings)
    programme = Programme()
    build_donor_scenario(programme)
    async with AsyncTestClient(app) as test_client:
        nc = await nats.connect(fresh_nats_server.url)
        try:
            js = nc.jetstream()
            for event in programme.events:
                await js.publish(
                    event.subject,
                    encode_event(event),
                    headers={"Nats-Msg-Id": str(event.event_id)},
                    timeout=5,
                )
        finally:
            await nc.close()

        runtime: ServiceRuntime = app.state.runtime

        async def projected() -> bool | None:
            generation = await asyncio.to_thread(
                test_client.blocking_portal.call, runtime.read, read_generation
            )
            return True if generation == len(programme.events) else None

        await eventually(projected)
        yield test_client


def _expected_text(entry: dict[str, Any], measure: str, k: int, hidden_word: str) -> str:
    flags = entry["suppressed"]
    if measure == "satisfaction_mean" and "feedback_responses" in flags:
        return hidden_word
    if flags.get(measure) == "primary":
        return f"&lt;{k}"
    if measure in flags:
        return hidden_word
    value = entry[measure]
    if value is None:
        return "–"
    return f"{value:.2f}" if isinstance(value, float) else str(value)


def _rows_of(html: str) -> dict[str, dict[str, str]]:
    return {
        f"{kind}-{key}": {measure: text for _, measure, text in CELL.findall(body)}
        for kind, key, body in ROW.findall(html)
    }


@pytest.mark.parametrize("lang", ["kk", "ru", "en"])
async def test_dashboard_shows_published_figures_in_each_language(
    client: AsyncTestClient[Any], lang: str
) -> None:
    r = await client.get("/", params={"lang": lang}, headers=REPORTING)
    assert r.status_code == 200, r.text
    assert r.headers["content-language"] == lang
    html = r.text
    assert TITLES[lang] in html
    for dim in ("city", "sex", "age_band", "sector", "months"):
        assert f'<svg xmlns="http://www.w3.org/2000/svg" class="chart" id="chart-{dim}"' in html
    # Each chart's bars say what the API publishes: the number, or a hatched box with the
    # series and its mark, never the hidden value.
    for dim in ("city", "sex", "age_band", "sector"):
        report = (await client.get("/reports/donor", params={"by": dim}, headers=REPORTING)).json()
        svg = html.split(f'id="chart-{dim}"', 1)[1].split("</svg>", 1)[0]
        texts = re.findall(r"<text [^>]*>([^<]*)</text>", svg)[3:]  # after the legend
        hidden = 0
        for index, row in enumerate(report["rows"]):
            bars = texts[index * 3 + 1 : index * 3 + 3]
            for measure, text in zip(("registered", "attended"), bars, strict=True):
                if measure in row["suppressed"]:
                    hidden += 1
                    assert text.endswith(f": {HIDDEN_WORDS[lang]}") or text.endswith(": &lt;5")
                else:
                    assert text == str(row[measure]), (dim, row, measure)
        assert svg.count('class="bar hidden"') == hidden
        assert len(texts) == 3 * len(report["rows"])
    # Category words in the page's language.
    words = {"kk": "Әйел", "ru": "Женский", "en": "Female"}
    assert words[lang] in html.split('id="chart-sex"', 1)[1]
    # Satisfaction over time: one bar per month with sessions, as the monthly summary says.
    december = (
        await client.get("/reports/summary", params={"period": "2020-12"}, headers=REPORTING)
    ).json()
    months_table = html.split('id="chart-months-table"', 1)[1].split("</table>", 1)[0]
    assert "2020-12" in months_table and "2021-01" in months_table
    assert _expected_text(december, "satisfaction_mean", 5, HIDDEN_WORDS[lang]) in months_table
    # Every link within the service leads somewhere.
    for path in set(re.findall(r'href="(/[^"#]*)"', html)):
        if not path.startswith("/assets/"):
            target = await client.get(path.replace("&amp;", "&"), headers=REPORTING)
            assert target.status_code == 200, (path, target.status_code)


async def test_donor_table_marks_every_hidden_cell_and_nothing_else(
    client: AsyncTestClient[Any],
) -> None:
    params: list[tuple[str, str]] = [("period", "all"), ("by", "city"), ("by", "sex")]
    r = await client.get("/donor", params=[*params, ("lang", "en")], headers=REPORTING)
    assert r.status_code == 200, r.text
    report = (
        await client.get("/reports/donor", params={"by": "city,sex"}, headers=REPORTING)
    ).json()
    assert report["suppressed_cells"] > 0
    rows = _rows_of(r.text)
    expected: dict[str, dict[str, Any]] = {
        f"row-{row['city']}-{row['sex']}": row for row in report["rows"]
    }
    expected |= {f"margin1-{row['city']}": row for row in report["row_totals"]}
    expected |= {f"margin2-{row['sex']}": row for row in report["column_totals"]}
    expected["total-total"] = report["totals"]
    assert set(rows) == set(expected)
    measures = ("registered", "attended", "feedback_responses", "satisfaction_mean")
    for key, entry in expected.items():
        printed = rows[key]
        for measure in measures:
            assert printed[measure] == _expected_text(entry, measure, 5, "hidden"), (key, measure)
    # The small cell itself: almaty/male registered 2, shown as <5 only.
    assert rows["row-almaty-male"]["registered"] == "&lt;5"
    assert rows["row-almaty-male"]["attended"] == "&lt;5"
    assert "2" not in "".join(rows["row-almaty-male"].values())
    # The API's spelling of the breakdowns asks for the same table.
    joined = await client.get("/donor", params={"by": "city,sex", "lang": "en"}, headers=REPORTING)
    assert _rows_of(joined.text) == rows
    # The download is the API's CSV of the same table.
    assert 'href="/reports/donor?period=all&amp;by=city%2Csex&amp;format=csv"' in r.text
    csv = await client.get(
        "/reports/donor",
        params={"period": "all", "by": "city,sex", "format": "csv"},
        headers=REPORTING,
    )
    assert csv.status_code == 200 and csv.text.startswith("city,sex,registered")


@pytest.mark.parametrize("lang", ["kk", "ru", "en"])
async def test_donor_form_and_bad_parameters_rerender_with_the_error(
    client: AsyncTestClient[Any], lang: str
) -> None:
    empty = await client.get("/donor", params={"lang": lang}, headers=STAFF)
    assert empty.status_code == 200
    assert 'id="donor-form"' in empty.text and 'id="donor-table"' not in empty.text
    for code in ("city", "sector", "sex", "age_band", "language", "mode", "training"):
        assert f'id="by-{code}"' in empty.text
    assert '<option value="2020-12">2020-12</option>' in empty.text
    cases = [
        ({"by": ["sex", "age_band"]}, "f-by-error"),
        ({"period": "2020-13"}, "f-period-error"),
        ({"period": "2020"}, "f-period-error"),  # years are not offered by this server
        ({"training_id": "not-a-uuid"}, "f-training_id-error"),
        ({"by": ["nonsense"]}, "f-by-error"),
    ]
    for bad, marker in cases:
        r = await client.get("/donor", params={**bad, "lang": lang}, headers=REPORTING)
        assert r.status_code == 400, (bad, r.text)
        assert f'id="{marker}"' in r.text
        assert 'id="donor-form"' in r.text and 'id="donor-table"' not in r.text
    wrong = await client.get("/", params={"period": "bogus", "lang": lang}, headers=REPORTING)
    assert wrong.status_code == 400
    assert 'id="f-period-error"' in wrong.text and 'id="summary"' not in wrong.text


async def test_a_training_and_one_breakdown(client: AsyncTestClient[Any]) -> None:
    trainings = await client.get("/donor", headers=REPORTING)
    training_id = re.findall(r'<option value="([0-9a-f-]{36})">T1</option>', trainings.text)[0]
    r = await client.get(
        "/donor", params={"training_id": training_id, "by": "city"}, headers=REPORTING
    )
    assert r.status_code == 200, r.text
    report = (
        await client.get(
            "/reports/donor", params={"training_id": training_id, "by": "city"}, headers=REPORTING
        )
    ).json()
    rows = _rows_of(r.text)
    assert set(rows) == {f"row-{row['city']}" for row in report["rows"]} | {"total-total"}
    assert f"training_id={training_id}" in r.text
    # A training with a breakdown other than city is outside the protected tables.
    refused = await client.get(
        "/donor", params={"training_id": training_id, "by": "sex"}, headers=REPORTING
    )
    assert refused.status_code == 400 and 'id="f-by-error"' in refused.text


async def test_roles_without_reports(client: AsyncTestClient[Any]) -> None:
    page = await client.get("/", params={"lang": "en"}, headers=COORDINATOR)
    assert page.status_code == 200
    assert "reporting staff, programme staff and admins only" in page.text
    assert 'id="summary"' not in page.text and "<svg" not in page.text
    assert (await client.get("/donor", headers=COORDINATOR)).status_code == 403
    assert (await client.get("/donor")).status_code == 401
