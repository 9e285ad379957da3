"""The XLSX and PDF downloads through the app, on a real nats-server and SQLite: the same
figures and suppression as the JSON answer, in the language asked for, to the report roles only."""

from __future__ import annotations

import csv
import io
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import nats
import pypdfium2 as pdfium
import pytest
from litestar import Litestar
from litestar.testing import AsyncTestClient
from openpyxl import load_workbook
from openpyxl.worksheet.worksheet import Worksheet
from reporting_programme import Programme, build_donor_scenario

from trainops_devtools.nats_server import NatsServer
from trainops_devtools.testing.polling import eventually
from trainops_devtools.testing.tokens import TEST_JWT_ENV, token_for
from trainops_reporting.app import build_spec
from trainops_shared.events import Event, ParticipantRegistered, encode_event
from trainops_shared.service import create_app
from trainops_shared.settings import load_settings

pytestmark = pytest.mark.integration

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
PDF = "application/pdf"


def bearer(role: str, region: str | None = None) -> dict[str, str]:
    return {"Authorization": f"Bearer {token_for(role=role, region=region)}"}


REPORTING = bearer("reporting")


async def publish(nats_url: str, events: Sequence[Event]) -> None:
    nc = await nats.connect(nats_url)
    try:
        js = nc.jetstream()
        for event in events:
            headers = {"Nats-Msg-Id": str(event.event_id)}
            await js.publish(event.subject, encode_event(event), headers=headers, timeout=5)
    finally:
        await nc.close()


async def publish_sessions_first(nats_url: str, events: Sequence[Event]) -> None:
    await publish(nats_url, [e for e in events if e.subject.startswith("sch")])
    await publish(nats_url, [e for e in events if not e.subject.startswith("sch")])


def make_app(nats_url: str, data_dir: Path) -> Litestar:
    settings = load_settings(
        "reporting",
        {
            "NATS_URL": nats_url,
            "DATABASE_URL": f"sqlite+aiosqlite:///{data_dir / 'reporting.db'}",
            **TEST_JWT_ENV,
            "TRAINOPS_DATA_DIR": str(data_dir),
        },
    )
    app: Litestar = create_app(build_spec(settings), settings)
    return app


def table_of(content: bytes, heading: str) -> list[list[Any]]:
    """The header row (its first cell ``heading``) and the lines under it."""
    sheet = load_workbook(io.BytesIO(content)).active
    assert isinstance(sheet, Worksheet)
    assert sheet.freeze_panes is not None
    top = int(sheet.freeze_panes.lstrip("A")) - 1  # the frozen header row
    assert sheet.cell(top, 1).value == heading
    return [[c.value for c in row] for row in sheet.iter_rows(min_row=top)]


def pdf_text(content: bytes) -> str:
    document = pdfium.PdfDocument(content)
    return "\n".join(document[i].get_textpage().get_text_range() for i in range(len(document)))


async def test_donor_and_summary_downloads(fresh_nats_server: NatsServer, tmp_path: Path) -> None:
    programme = Programme()
    build_donor_scenario(programme)
    events = programme.events
    app = make_app(fresh_nats_server.url, tmp_path)
    async with AsyncTestClient(app) as client:
        await publish_sessions_first(fresh_nats_server.url, events)

        async def projected() -> bool:
            r = await client.get("/reports/summary", headers=REPORTING)
            return bool(r.status_code == 200 and r.json()["feedback_responses"] == 9)

        await eventually(projected)
        donor_json = (
            await client.get("/reports/donor", params={"by": "city"}, headers=REPORTING)
        ).json()
        hidden = sum(len(row["suppressed"]) for row in donor_json["rows"])
        assert hidden == 4  # the figures below are the JSON's, markers where it says null

        # --- donor XLSX: the JSON's figures, Russian words from Accept-Language
        r = await client.get(
            "/reports/donor",
            params={"by": "city", "format": "xlsx"},
            headers={**REPORTING, "Accept-Language": "ru-RU,ru;q=0.9,en;q=0.5"},
        )
        assert r.status_code == 200, r.text
        assert r.headers["content-type"] == XLSX
        assert r.headers["content-disposition"] == 'attachment; filename="donor-report.xlsx"'
        assert table_of(r.content, "Город") == [
            [
                "Город",
                "Зарегистрировано",
                "Присутствовали",
                "Отзывы",
                "Средняя удовлетворённость (1–5)",
                "Явка",
                "Доля отзывов",
                "Доля женщин",
            ],
            # a ratio made of a hidden count is hidden with it
            ["Актау", 10, "x", "x", "x", "x", "x", 0.5],
            ["Алматы", 10, "x", "<5", "x", "x", "x", "x"],
            ["Итого", 20, 15, 9, 3.89, 0.75, 0.6, "x"],
        ]

        # --- ?lang= wins over Accept-Language; the two-dimension table with its markers
        r = await client.get(
            "/reports/donor",
            params={"by": "city,sex", "format": "XLSX", "lang": "kk"},
            headers={**REPORTING, "Accept-Language": "ru"},
        )
        assert r.status_code == 200
        rows = table_of(r.content, "Қала")
        cells = {(row[0], row[1]): row[2:] for row in rows[1:-1]}
        assert cells["Алматы", "Ер"][:2] == ["<5", "<5"]
        assert cells["Алматы", "Әйел"][0] == "x"
        assert cells["Ақтау", "Әйел"][:2] == [5, "<5"]
        assert rows[-1][0] == "Барлығы" and rows[-1][2] == 20

        # --- donor PDF
        r = await client.get(
            "/reports/donor",
            params={"by": "city", "format": "pdf", "lang": "ru"},
            headers=REPORTING,
        )
        assert r.status_code == 200
        assert r.headers["content-type"] == PDF
        assert r.headers["content-disposition"] == 'attachment; filename="donor-report.pdf"'
        text = pdf_text(r.content)
        for words in (
            "Отчёт для донора",
            "Разбивка",
            "Город",
            "Актау",
            "Алматы",
            "Итого",
            "Стр. 1 / 2",  # the evidence tables follow on the next page
        ):
            assert words in text, words
        table = text[text.index("Зарегистрировано") : text.index("Подавление малых ячеек")]
        assert table.count("<5") == 1 and table.count("x") == 5 + 6  # counts, then ratios

        # --- summary: XLSX and PDF, English
        r = await client.get(
            "/reports/summary", params={"format": "xlsx", "lang": "en"}, headers=REPORTING
        )
        assert r.status_code == 200
        assert r.headers["content-type"] == XLSX
        assert r.headers["content-disposition"] == 'attachment; filename="summary-report.xlsx"'
        assert table_of(r.content, "Figure")[1:] == [
            ["Sessions scheduled", 2],
            ["Sessions delivered", 1],
            ["Registered", 20],
            ["Attended", 15],
            ["Feedback responses", 9],
            ["Mean satisfaction (1–5)", 3.89],
            ["Cities reached", 2],
            ["Attendance rate", 0.75],
            ["Feedback completion", 0.6],
            ["Share of women", "x"],
        ]
        r = await client.get(
            "/reports/summary",
            params={"format": "pdf"},
            headers={**REPORTING, "Accept-Language": "kk"},
        )
        assert r.status_code == 200 and r.headers["content-type"] == PDF
        assert r.headers["content-disposition"] == 'attachment; filename="summary-report.pdf"'
        text = pdf_text(r.content)
        assert "Бағдарлама қорытындысы" in text and "Қамтылған қалалар" in text

        # --- by training: the second training's 2 registrations are a primary count
        r = await client.get("/reports/donor", params={"by": "training"}, headers=REPORTING)
        trainings = r.json()["rows"]
        assert any(row["suppressed"].get("registered") == "primary" for row in trainings)
        r = await client.get(
            "/reports/donor",
            params={"by": "training", "format": "xlsx", "lang": "en"},
            headers=REPORTING,
        )
        by_training = {row[0]: row[1] for row in table_of(r.content, "Training")[1:-1]}
        marks = {"primary": "<5", "complementary": "x"}
        assert by_training == {
            row["training"]: marks.get(row["suppressed"].get("registered", ""), row["registered"])
            for row in trainings
        }

        # --- roles: 401 without a token, 403 for a coordinator, 200 for the report roles
        for path, fmt in (
            ("/reports/donor", "xlsx"),
            ("/reports/donor", "pdf"),
            ("/reports/summary", "xlsx"),
            ("/reports/summary", "pdf"),
        ):
            params = {"format": fmt}
            assert (await client.get(path, params=params)).status_code == 401
            r = await client.get(path, params=params, headers=bearer("coordinator", "almaty"))
            assert r.status_code == 403 and r.json()["error"] == "forbidden"
            for role in ("programme_staff", "admin"):
                r = await client.get(path, params=params, headers=bearer(role))
                assert r.status_code == 200 and r.content.startswith((b"PK", b"%PDF-"))

        # --- an unknown format is refused, naming the parameter and what is offered
        r = await client.get("/reports/donor", params={"format": "docx"}, headers=REPORTING)
        assert r.status_code == 422
        assert r.json()["field"] == "format"
        assert "json, csv, xlsx, pdf" in r.json()["detail"]
        r = await client.get("/reports/summary", params={"format": "csv"}, headers=REPORTING)
        assert r.status_code == 422 and "json, xlsx, pdf" in r.json()["detail"]


async def test_knowledge_gain_and_items_on_the_summary_donor_and_downloads(
    fresh_nats_server: NatsServer, tmp_path: Path
) -> None:
    """Tests and answers sent as events reach the summary and the donor answer as the
    evidence routes publish them, and the CSV, XLSX and PDF carry the same figures."""
    programme = Programme()
    ids = build_donor_scenario(programme)
    regs = [
        e
        for e in programme.events
        if isinstance(e, ParticipantRegistered) and e.session_id == ids["s1"]
    ]
    for reg, (pre, post) in zip(regs[:5], [(4, 8), (5, 5), (6, 9), (2, 6), (3, 8)], strict=True):
        programme.knowledge_test(reg, "pre", pre)
        programme.knowledge_test(reg, "post", post)
    for text in ("Очень полезно", "clear, practical", "Жақсы", "more cases", "Спасибо"):
        programme.comment(ids["s1"], text)
    programme.comment(ids["s1"], "shorter breaks", item="improve")
    events = programme.events
    app = make_app(fresh_nats_server.url, tmp_path)
    async with AsyncTestClient(app) as client:
        await publish_sessions_first(fresh_nats_server.url, events)

        async def projected() -> bool:
            r = await client.get("/reports/knowledge-gain", headers=REPORTING)
            c = await client.get("/reports/comments", headers=REPORTING)
            return bool(
                r.status_code == 200
                and r.json()["pairs"] == 5
                and c.status_code == 200
                and len(c.json()["comments"]) == 6
            )

        await eventually(projected)
        gain = (await client.get("/reports/knowledge-gain", headers=REPORTING)).json()
        items = (await client.get("/reports/items", headers=REPORTING)).json()["items"]
        summary = (await client.get("/reports/summary", headers=REPORTING)).json()
        donor = (
            await client.get("/reports/donor", params={"by": "city"}, headers=REPORTING)
        ).json()
        expected_gain = {
            "pairs": 5,
            "mean_pre": 40.0,
            "mean_post": 72.0,
            "mean_gain": 32.0,
            "share_improved": 0.8,
            "suppressed": None,
        }
        assert {name: gain[name] for name in expected_gain} == expected_gain
        shown = sorted(
            ("Очень полезно", "clear, practical", "Жақсы", "more cases", "Спасибо"),
            key=lambda t: (t.casefold(), t),
        )
        comments = [
            {"item": "comment", "respondents": 9, "comments": shown, "suppressed": None},
            {"item": "improve", "respondents": None, "comments": [], "suppressed": "primary"},
        ]
        for answer in (summary, donor):
            assert answer["evidence"] == {
                "knowledge_gain": expected_gain,
                "items": items,
                "comments": comments,
            }
        overall = next(i for i in items if i["item"] == "overall")
        assert overall["respondents"] == 9 and overall["mean"] == 3.89
        assert summary["indicators_version"] == "2"

        # a training without tests or answers: nothing to report, nothing hidden
        t2 = await client.get(
            "/reports/summary", params={"training_id": str(ids["t2"])}, headers=REPORTING
        )
        assert t2.json()["evidence"]["items"] == []
        assert t2.json()["evidence"]["comments"] == []
        assert t2.json()["evidence"]["knowledge_gain"]["pairs"] is None

        # --- CSV: the evidence rows after the table
        r = await client.get(
            "/reports/donor", params={"by": "city", "format": "csv"}, headers=REPORTING
        )
        lines = list(csv.reader(io.StringIO(r.text)))
        start = lines.index(["section", "item", "figure", "value"])
        rows = {(item, figure): value for _, item, figure, value in lines[start + 1 :]}
        said = [(item, text) for section, item, figure, text in lines[start + 1 :]
                if section == "comments" and figure == "comment"]  # fmt: skip
        assert said == [("comment", text) for text in shown]
        assert rows["comment", "respondents"] == "9" and rows["improve", "comments"] == "x"
        assert "shorter breaks" not in r.text
        assert rows["knowledge_gain", "pairs"] == "5"
        assert rows["knowledge_gain", "mean_gain"] == "32.0"
        assert rows["overall", "mean"] == "3.89"
        for cell in overall["cells"]:
            marker = {"primary": "<5", "complementary": "x"}.get(cell["suppressed"] or "")
            assert rows["overall", f"answer:{cell['value']}"] == (marker or str(cell["count"]))

        # --- XLSX: an evidence sheet in the language asked for
        r = await client.get(
            "/reports/donor",
            params={"by": "city", "format": "xlsx", "lang": "en"},
            headers=REPORTING,
        )
        book = load_workbook(io.BytesIO(r.content))
        assert book.sheetnames == [
            "Donor report",
            "Learning evidence",
            "Comments - comment",
            "Comments - improve",
        ]
        on_sheet = [row[0].value for row in book["Comments - comment"].iter_rows()]
        assert on_sheet[-6:] == ["Comments", *shown]
        values = [[c.value for c in row] for row in book["Learning evidence"].iter_rows()]
        assert ["Mean gain (percentage points)", 32, None, None] in values
        assert values[
            values.index(["Item", "Respondents", "Mean (1–5)", "Distribution of answers"]) + 1
        ][:3] == ["overall", 9, 3.89]

        # --- PDF: the gain table of the summary, in Kazakh
        r = await client.get(
            "/reports/summary", params={"format": "pdf", "lang": "kk"}, headers=REPORTING
        )
        text = pdf_text(r.content)
        assert "Білімнің өсуі" in text and "32.00" in text and "Сауалнаманың әр сұрағы" in text
        assert "Пікірлер: comment" in text and all(t in text for t in shown)
        assert "shorter breaks" not in text
