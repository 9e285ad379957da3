"""The rendered feedback pages: structure, escaping, languages, error re-display."""

from __future__ import annotations

from datetime import date, datetime
from html.parser import HTMLParser
from typing import Any

import pytest

from trainops_feedback.api.texts import TEXTS
from trainops_feedback.api.views import (
    HtmlPage,
    render_already_submitted,
    render_form,
    render_form_with_errors,
    render_not_found,
    render_thanks,
)
from trainops_feedback.domain.errors import FieldError, InvalidAnswers
from trainops_feedback.domain.language import Language
from trainops_feedback.domain.survey import parse_form

pytestmark = pytest.mark.unit

TOKEN = "k3Y_abc-DEF0123456789xyzXYZ0123456789abcdE"
SESSION_DAY = date(2025, 3, 12)


class Element:
    def __init__(self, tag: str, attrs: dict[str, str | None]) -> None:
        self.tag = tag
        self.attrs = attrs
        self.text = ""


class Collector(HTMLParser):
    """Flat list of elements with their attributes and direct text, enough for assertions."""

    VOID = frozenset({"meta", "input", "br", "link", "img"})

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.elements: list[Element] = []
        self.stack: list[Element] = []
        self.doctype: str | None = None

    def handle_decl(self, decl: str) -> None:
        self.doctype = decl

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        element = Element(tag, dict(attrs))
        self.elements.append(element)
        if tag not in self.VOID:
            self.stack.append(element)

    def handle_endtag(self, tag: str) -> None:
        assert self.stack and self.stack[-1].tag == tag, f"unbalanced </{tag}>"
        self.stack.pop()

    def handle_data(self, data: str) -> None:
        for element in self.stack:
            element.text += data


def parse(page: HtmlPage) -> Collector:
    collector = Collector()
    collector.feed(page.body)
    collector.close()
    assert not collector.stack, "unclosed elements"
    return collector


def find(doc: Collector, tag: str | None = None, **attrs: str) -> list[Element]:
    return [
        e
        for e in doc.elements
        if (tag is None or e.tag == tag)
        and all(e.attrs.get(k.rstrip("_")) == v for k, v in attrs.items())
    ]


def one(doc: Collector, tag: str | None = None, **attrs: str) -> Element:
    found = find(doc, tag, **attrs)
    assert len(found) == 1, (tag, attrs, len(found))
    return found[0]


def form_page(lang: str | None = "ru", **kwargs: Any) -> HtmlPage:
    return render_form(
        token=TOKEN,
        training_title="Права ребёнка в СМИ",
        session_date=SESSION_DAY,
        lang=lang,
        **kwargs,
    )


# -- the form --------------------------------------------------------------------------------


def test_document_skeleton() -> None:
    page = form_page("ru")
    assert page.status == 200 and page.language == "ru"
    assert page.content_type == "text/html; charset=utf-8"
    assert page.body.startswith("<!doctype html>")
    doc = parse(page)
    assert one(doc, "html").attrs["lang"] == "ru"
    assert one(doc, "meta", name="viewport").attrs["content"] == (
        "width=device-width, initial-scale=1"
    )
    assert find(doc, "meta", charset="utf-8")
    assert one(doc, "meta", name="referrer").attrs["content"] == "no-referrer"


def test_self_contained_only_the_own_answer_keeping_script() -> None:
    page = form_page()
    body = page.body
    lowered = body.lower()
    scripts = find(parse(page), "script")
    assert [s.attrs for s in scripts] == [{"src": "/assets/answers.js", "defer": None}]
    assert lowered.count("<script") == 1, "no inline script"
    assert "<link" not in lowered
    assert "http://" not in lowered and "https://" not in lowered
    assert "<style>" in body
    assert "@import" not in lowered and "url(" not in lowered


def test_form_posts_urlencoded_to_same_url_with_hidden_lang() -> None:
    doc = parse(form_page("kk"))
    form = one(doc, "form", id="feedback-form")
    assert form.attrs["method"] == "post"
    assert form.attrs["action"] == f"/f/{TOKEN}"
    assert form.attrs["enctype"] == "application/x-www-form-urlencoded"
    hidden = one(doc, "input", name="lang")
    assert hidden.attrs["type"] == "hidden" and hidden.attrs["value"] == "kk"


def test_likert_items_are_fieldsets_of_five_radios() -> None:
    doc = parse(form_page())
    for key, required in [
        ("overall", True),
        ("relevance", True),
        ("trainer", True),
        ("knowledge_gain", True),
        ("materials", False),
    ]:
        one(doc, "fieldset", id=f"item-{key}")
        radios = find(doc, "input", name=key)
        assert [r.attrs["value"] for r in radios] == ["1", "2", "3", "4", "5"]
        assert all(r.attrs["type"] == "radio" for r in radios)
        assert all(("required" in r.attrs) is required for r in radios)
        assert not any("checked" in r.attrs for r in radios)
        for radio in radios:
            label = one(doc, "label", for_=radio.attrs["id"] or "")
            assert label.text.strip()


def test_scale_labels_and_questions_in_language() -> None:
    doc = parse(form_page("en"))
    label = one(doc, "label", for_="overall-1")
    assert "Very dissatisfied" in label.text
    assert "Very satisfied" in one(doc, "label", for_="overall-5").text
    legend_texts = [e.text for e in find(doc, "legend")]
    assert any(TEXTS["en"].items["trainer"] in t for t in legend_texts)


def test_comment_and_submit() -> None:
    doc = parse(form_page())
    textarea = one(doc, "textarea", name="comment")
    assert textarea.attrs["id"] == "comment"
    assert textarea.attrs["maxlength"] == "2000"
    assert "required" not in textarea.attrs
    button = one(doc, "button", id="submit")
    assert button.attrs["type"] == "submit"
    assert button.text == TEXTS["ru"].submit


def test_title_and_date_shown() -> None:
    doc = parse(form_page())
    assert one(doc, id="training-title").text == "Права ребёнка в СМИ"
    assert one(doc, "time").attrs["datetime"] == "2025-03-12"
    assert "12.03.2025" in one(doc, id="session-date").text
    assert "Права ребёнка в СМИ" in one(doc, "title").text


def test_datetime_session_date_accepted() -> None:
    page = render_form(
        token=TOKEN,
        training_title="T",
        session_date=datetime(2025, 3, 12, 10, 0),
        lang="en",
    )
    assert 'datetime="2025-03-12"' in page.body


def test_language_switcher_links() -> None:
    doc = parse(form_page("kk"))
    nav = one(doc, "nav", id="lang-switch")
    assert nav
    for code in ("kk", "ru", "en"):
        link = one(doc, "a", id=f"lang-{code}")
        assert link.attrs["href"] == f"?lang={code}"
    assert "aria-current" in one(doc, "a", id="lang-kk").attrs
    assert "aria-current" not in one(doc, "a", id="lang-ru").attrs
    assert one(doc, "a", id="lang-kk").text == "Қазақша"


@pytest.mark.parametrize(
    ("requested", "participant", "expected"),
    [("en", "kk", "en"), (None, "kk", "kk"), ("xx", None, "ru"), (None, None, "ru")],
)
def test_page_language_fallback(
    requested: str | None, participant: str | None, expected: Language
) -> None:
    page = form_page(requested, participant_language=participant)
    assert page.language == expected
    assert f'<html lang="{expected}">' in page.body
    assert TEXTS[expected].submit in page.body


@pytest.mark.parametrize("lang", ["kk", "ru", "en"])
def test_every_language_renders_its_texts(lang: Language) -> None:
    body = form_page(lang).body
    texts = TEXTS[lang]
    for question in texts.items.values():
        assert question in body or question.replace("'", "&#x27;") in body
    for label in texts.scale:
        assert label in body


def test_everything_interpolated_is_escaped() -> None:
    evil = '<script>alert("x")</script> & "quotes"'
    page = render_form(
        token='t"><script>',
        training_title=evil,
        session_date=None,
        lang="en",
        values={"comment": "</textarea><script>bad()</script>", "overall": '5" onclick="x'},
    )
    assert "<script>" not in page.body
    doc = parse(page)
    assert one(doc, id="training-title").text == evil
    assert one(doc, "textarea").text == "</textarea><script>bad()</script>"
    assert one(doc, "form").attrs["action"] == "/f/t%22%3E%3Cscript%3E"
    assert not find(doc, id="session-date")


# -- the 422 page ----------------------------------------------------------------------------


def test_errors_shown_per_field_and_values_kept() -> None:
    submitted = {
        "lang": "ru",
        "overall": "5",
        "relevance": "abc",
        "trainer": "2",
        "materials": "4",
        "comment": "Хорошо, но мало практики",
    }
    with pytest.raises(InvalidAnswers) as exc_info:
        parse_form(submitted)
    page = render_form_with_errors(
        token=TOKEN,
        training_title="Права ребёнка в СМИ",
        session_date=SESSION_DAY,
        lang="ru",
        error=exc_info.value,
        values=submitted,
    )
    assert page.status == 422
    doc = parse(page)
    assert one(doc, id="error-summary").attrs["role"] == "alert"
    assert one(doc, "p", id="error-relevance").text == TEXTS["ru"].errors["not_integer"]
    assert one(doc, "p", id="error-knowledge_gain").text == TEXTS["ru"].errors["required"]
    assert not find(doc, id="error-overall") and not find(doc, id="error-trainer")
    assert "invalid" in str(one(doc, "fieldset", id="item-relevance").attrs["class"])
    assert one(doc, "fieldset", id="item-relevance").attrs["aria-describedby"] == "error-relevance"
    # Earlier choices survive.
    checked = {
        e.attrs["name"]: e.attrs["value"] for e in find(doc, "input") if "checked" in e.attrs
    }
    assert checked == {"overall": "5", "trainer": "2", "materials": "4"}
    assert one(doc, "textarea").text == "Хорошо, но мало практики"


def test_comment_error_shown() -> None:
    error = InvalidAnswers([FieldError(field="comment", code="too_long", message="too long")])
    doc = parse(form_page("en", errors=error, values={"comment": "x"}))
    assert one(doc, "p", id="error-comment").text == TEXTS["en"].errors["too_long"]
    assert "error-comment" in (one(doc, "textarea").attrs["aria-describedby"] or "")


def test_unknown_item_error_only_in_summary() -> None:
    error = InvalidAnswers([FieldError(field="answers.speed", code="unknown_item", message="m")])
    page = form_page("en", errors=error)
    assert page.status == 422
    doc = parse(page)
    assert "speed" in one(doc, id="error-summary").text
    assert not find(doc, id="error-speed")


def test_error_page_in_kazakh() -> None:
    error = InvalidAnswers([FieldError(field="answers.overall", code="required", message="m")])
    doc = parse(form_page("kk", errors=error))
    assert one(doc, id="error-overall").text == TEXTS["kk"].errors["required"]


# -- status pages ----------------------------------------------------------------------------


@pytest.mark.parametrize("lang", ["kk", "ru", "en"])
def test_thanks_page(lang: Language) -> None:
    page = render_thanks(lang, training_title="Права ребёнка")
    assert page.status == 200
    doc = parse(page)
    thanks = one(doc, "section", id="thanks")
    assert TEXTS[lang].thanks_title in thanks.text
    assert one(doc, "html").attrs["lang"] == lang
    assert not find(doc, "form") and not find(doc, "nav")


@pytest.mark.parametrize("lang", ["kk", "ru", "en"])
def test_already_submitted_page(lang: Language) -> None:
    page = render_already_submitted(lang)
    assert page.status == 409
    doc = parse(page)
    section = one(doc, "section", id="already-submitted")
    assert TEXTS[lang].already_title in section.text
    assert not find(doc, "form")
    assert one(doc, "nav", id="lang-switch")


@pytest.mark.parametrize("lang", ["kk", "ru", "en"])
def test_not_found_page(lang: Language) -> None:
    page = render_not_found(lang)
    assert page.status == 404
    doc = parse(page)
    section = one(doc, "section", id="not-found")
    assert TEXTS[lang].not_found_title in section.text
    assert TEXTS[lang].not_found_body in section.text
    assert page.body.startswith("<!doctype html>")
    assert one(doc, "meta", name="viewport")


def test_status_pages_fall_back_to_participant_language_then_russian() -> None:
    assert render_not_found(None, participant_language="kk").language == "kk"
    assert render_already_submitted("xx").language == "ru"
    assert render_thanks(None).language == "ru"


def test_form_restores_a_draft_and_names_its_draft_route() -> None:
    page = render_form(
        token=TOKEN,
        training_title="T",
        session_date=None,
        lang="en",
        values={"overall": 4, "comment": "So far"},
    )
    assert page.status == 200
    doc = parse(page)
    assert one(doc, "form", id="feedback-form").attrs["data-draft"] == f"/f/{TOKEN}/draft"
    assert one(doc, "input", id="overall-4").attrs.get("checked", "") is None
    assert "checked" not in one(doc, "input", id="overall-3").attrs
    assert one(doc, "textarea").text == "So far"
    status = one(doc, "p", id="answers-status")
    assert status.attrs["data-offline"].startswith("No connection")
