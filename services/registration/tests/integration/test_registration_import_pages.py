"""The import pages through the real app: form, templates, the error table and the result, in
every language, and a coordinator kept to their own region's sessions and cities."""

from __future__ import annotations

import io
import re
import uuid
from html import unescape

import pytest
from openpyxl import Workbook
from registration_support import ADMIN, Harness, coordinator

from trainops_registration.domain.import_file import read_table
from trainops_registration.domain.import_rows import read_rows

pytestmark = pytest.mark.integration

ALMATY = coordinator("almaty")
AKTOBE = coordinator("aktobe")
TITLES = {
    "kk": "Тізімді файлдан жүктеу",
    "ru": "Загрузка списка из файла",
    "en": "Import a list from a file",
}
RU_EXCEL = (
    "ФИО;Электронная почта;Телефон;Организация;Сектор;Пол;Возрастная группа;Город;Язык\r\n"
    "Айгерим Сейткали;aigerim@example.kz;+7 701 123 45 67;Газета «Алматы»;СМИ;Женский;25–34;"
    "Алматы;Русский\r\n"
    "Берик Омаров;;87017654321;;НКО;Мужской;35–44;Алматы;Казахский\r\n"
    "Дина Садыкова;;;;Блогер;;;алматы;Английский\r\n"
)


def cells(html: str) -> list[list[str]]:
    """The error table's rows as text cells."""
    body = html.split('id="problem-table"', 1)[1].split("</tbody>", 1)[0]
    return [
        [unescape(re.sub(r"<[^>]+>", "", c)).strip() for c in re.findall(r"<td[^>]*>(.*?)</td>", r)]
        for r in re.findall(r"<tr>(.*?)</tr>", body.split("<tbody>", 1)[1], re.S)
    ]


async def upload(
    harness: Harness,
    session_id: uuid.UUID | str,
    content: bytes,
    headers: dict[str, str],
    *,
    name: str = "list.csv",
    media: str = "text/csv",
    lang: str = "ru",
) -> tuple[int, str]:
    r = await harness.client.post(
        f"/import?lang={lang}",
        data={"session_id": str(session_id)},
        files={"file": (name, content, media)},
        headers=headers,
    )
    assert r.status_code < 500, r.text
    return r.status_code, r.text


async def registered(harness: Harness, session_id: uuid.UUID) -> int:
    listed = await harness.client.get(
        "/registrations", params={"session_id": str(session_id)}, headers=ADMIN
    )
    assert listed.status_code == 200, listed.text
    return int(listed.json()["total"])


@pytest.mark.parametrize("lang", ["kk", "ru", "en"])
async def test_the_form_offers_own_region_sessions_and_a_template_in_each_language(
    harness: Harness, lang: str
) -> None:
    own = await harness.schedule(capacity=3, cities=("almaty",))
    other = await harness.schedule(capacity=3, cities=("aktobe",))
    r = await harness.client.get("/import", params={"lang": lang}, headers=ALMATY)
    assert r.status_code == 200, r.text
    assert r.headers["content-language"] == lang
    assert TITLES[lang] in r.text
    assert 'enctype="multipart/form-data"' in r.text
    assert f'value="{own}"' in r.text
    assert f'value="{other}"' not in r.text
    assert 'for="f-file"' in r.text and 'for="f-session_id"' in r.text
    for path in set(re.findall(r'href="(/import[^"#]*)"', r.text)):
        target = await harness.client.get(unescape(path), headers=ALMATY)
        assert target.status_code == 200, (path, target.status_code)

    csv_template = await harness.client.get(
        "/import/template.csv", params={"lang": lang}, headers=ALMATY
    )
    assert csv_template.content.startswith(b"\xef\xbb\xbf")
    assert "attachment" in csv_template.headers["content-disposition"]
    xlsx_template = await harness.client.get(
        "/import/template.xlsx", params={"lang": lang}, headers=ALMATY
    )
    assert xlsx_template.content.startswith(b"PK")
    for content in (csv_template.content, xlsx_template.content):
        table = read_table(content)
        header = table.rows[0][1]
        assert header[0] == {"kk": "Аты-жөні", "ru": "ФИО", "en": "Full name"}[lang]
        # The template's own example row is a clean import for this coordinator.
        parsed = read_rows(table, region="almaty")
        assert parsed.problems == [] and len(parsed.rows) == 1
        assert parsed.rows[0].participant.city == "almaty"
    # A template file goes back in as it came out.
    status, html = await upload(
        harness, own, xlsx_template.content, ALMATY, name="t.xlsx", media="", lang=lang
    )
    assert status == 200, html
    assert await registered(harness, own) == 1


async def test_a_cp1251_semicolon_file_from_russian_excel_imports_all_or_nothing(
    harness: Harness,
) -> None:
    session_id = await harness.schedule(capacity=2, cities=("almaty",))
    bad = (
        RU_EXCEL
        + "Х;не-почта;12;;Пресса;робот;;Алматы;Немецкий\r\n"
        + "Ерлан Нуров;;;;СМИ;;;Актобе;Русский\r\n"
    ).encode("cp1251")
    status, html = await upload(harness, session_id, bad, ALMATY)
    assert status == 422, html
    rows = cells(html)
    assert [(r[0], r[1]) for r in rows] == [
        ("5", "ФИО"),
        ("5", "Электронная почта"),
        ("5", "Телефон"),
        ("5", "Сектор"),
        ("5", "Пол"),
        ("5", "Язык"),
        ("6", "Город"),
    ]
    assert rows[3][2] == "Пресса"
    assert "СМИ, Блогер, НКО" in rows[3][3]
    assert rows[6][3] == "Вы можете загружать только участников из региона Алматы."
    assert "Ничего не загружено" in html
    assert f'value="{session_id}" selected' in html  # the form is ready for the fixed file
    assert await registered(harness, session_id) == 0

    status, html = await upload(harness, session_id, RU_EXCEL.encode("cp1251"), ALMATY)
    assert status == 200, html
    assert "Зарегистрировано участников: 3. Подтверждено: 2, в листе ожидания: 1." in html
    assert await registered(harness, session_id) == 3

    # The same people again: each row is refused as registered, nothing is added.
    status, html = await upload(harness, session_id, RU_EXCEL.encode("cp1251"), ALMATY)
    assert status == 422
    assert [r[3] for r in cells(html)] == ["Этот участник уже зарегистрирован на эту сессию."] * 3
    assert await registered(harness, session_id) == 3


async def test_problems_are_worded_in_the_pages_language(harness: Harness) -> None:
    session_id = await harness.schedule(capacity=2, cities=("almaty",))
    raw = b"Full name,E-mail,Sector,City,Language,Notes\nAida Ermekova,,media,almaty,kk,x\n"
    words = {
        "kk": "Белгісіз баған.",
        "ru": "Неизвестный столбец.",
        "en": "Unknown column.",
    }
    for lang, expected in words.items():
        status, html = await upload(harness, session_id, raw, ALMATY, lang=lang)
        assert status == 422
        assert cells(html)[0][:2] == ["1", "Notes"]
        assert cells(html)[0][3].startswith(expected)
    dup = (
        "Аты-жөні;Сала;Қала;Тіл\nАйгерім Сейітқали;БАҚ;Алматы;Қазақша\n"
        "айгерім  сейітқали;БАҚ;Алматы;Қазақша\n"
    ).encode()
    status, html = await upload(harness, session_id, dup, ALMATY, lang="kk")
    assert status == 422
    assert cells(html) == [
        ["3", "Аты-жөні", "айгерім  сейітқали", "Бұл адам 2-жолда бұрын жазылған."]
    ]


async def test_an_xlsx_upload_is_read_with_its_excel_row_numbers(harness: Harness) -> None:
    session_id = await harness.schedule(capacity=5, cities=("almaty",))
    book = Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.append(["Full name", "Phone", "Sector", "City", "Language"])
    sheet.append(["Aida Ermekova", 87011112233, "Media", "Almaty", "Kazakh"])
    sheet.append([None, None, None, None, None])
    sheet.append(["Dana Abenova", "+7 701 999 88 77", "Journalism", "Almaty", "Russian"])
    out = io.BytesIO()
    book.save(out)
    xlsx = out.getvalue()
    media = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    status, html = await upload(harness, session_id, xlsx, ALMATY, name="l.xlsx", media=media)
    assert status == 422
    assert [r[:3] for r in cells(html)] == [["4", "Sector", "Journalism"]]
    # A CSV sent as a workbook is named for what it is not.
    status, html = await upload(harness, session_id, b"a,b\n", ALMATY, name="l.xlsx", media=media)
    assert status == 422
    assert "книга Excel" in html
    assert await registered(harness, session_id) == 0


async def test_another_regions_session_and_a_missing_file_are_refused(harness: Harness) -> None:
    almaty = await harness.schedule(capacity=3, cities=("almaty",))
    aktobe_file = b"full_name,sector,city,language\nErlan Nurov,media,aktobe,ru\n"
    status, html = await upload(harness, almaty, aktobe_file, AKTOBE, lang="en")
    assert status == 422
    assert "not one of your region&#39;s sessions" in html or "not one of your region's" in html
    assert await registered(harness, almaty) == 0
    status, html = await upload(harness, str(uuid.uuid4()), aktobe_file, AKTOBE, lang="en")
    assert status == 422
    r = await harness.client.post(
        "/import?lang=en", data={"session_id": str(almaty)}, headers=ALMATY
    )
    assert r.status_code == 422
    assert 'id="f-file-error"' in r.text and "Choose a file to upload." in r.text
    # The admin may import into any region's session.
    good = b"full_name,sector,city,language\nAida Ermekova,media,almaty,ru\n"
    status, html = await upload(harness, almaty, good, ADMIN, lang="en")
    assert status == 200, html
    assert "Participants registered: 1 (1 confirmed, 0 waitlisted)." in html


async def test_the_import_pages_are_for_registrars_only(harness: Harness) -> None:
    from trainops_devtools.testing.tokens import token_for

    staff = {"Authorization": f"Bearer {token_for(role='programme_staff')}"}
    for path in ("/import", "/import/template.csv", "/import/template.xlsx"):
        r = await harness.client.get(path, headers=staff)
        assert r.status_code == 403, (path, r.status_code)
    r = await harness.client.get("/import")
    assert r.status_code == 401


async def test_the_json_import_reads_excels_files_too(harness: Harness) -> None:
    session_id = await harness.schedule(capacity=1, cities=("almaty",))
    url = f"/registrations/import?session_id={session_id}"
    book = Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.append(["Аты-жөні", "Сала", "Қала", "Тіл"])
    sheet.append(["Жанар Әбенова", "БАҚ", "Алматы", "Қазақша"])
    out = io.BytesIO()
    book.save(out)
    media = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    r = await harness.client.post(
        url, content=out.getvalue(), headers={"Content-Type": media, **ALMATY}
    )
    assert r.status_code == 201, r.text
    assert (r.json()["imported"], r.json()["confirmed"]) == (1, 1)
    r = await harness.client.post(
        url, content=RU_EXCEL.encode("cp1251"), headers={"Content-Type": "text/csv", **ALMATY}
    )
    assert r.status_code == 201, r.text
    assert (r.json()["imported"], r.json()["waitlisted"]) == (3, 3)
    bad = "ФИО;Сектор;Город;Язык\r\nЕрлан Нуров;Пресса;Актобе;Русский\r\n".encode("cp1251")
    r = await harness.client.post(url, content=bad, headers={"Content-Type": "text/csv", **ALMATY})
    assert r.status_code == 422
    assert [(e["line"], e["field"]) for e in r.json()["errors"]] == [(2, "sector"), (2, "city")]
    # The answer names the problem, never the cell: a cell may hold a name.
    assert "Пресса" not in r.text and "Ерлан" not in r.text
    assert await registered(harness, session_id) == 4
