"""The check-in code in the messages that give a seat: the QR image (by Content-ID in the HTML)
and the link in the plain text, in each language; an online session's join link instead."""

from __future__ import annotations

import io
import uuid

import pytest
import segno
from PIL import Image
from test_messages import NOW, facts

from trainops_registration.domain.checkin import QR_CONTENT_ID, checkin_tokens, checkin_url
from trainops_registration.domain.messages import MessageKind, render_message
from trainops_shared.events.vocabulary import Language

pytestmark = pytest.mark.unit

TOKENS = checkin_tokens("a-test-link-key-of-some-length")
RID = uuid.UUID(int=7)
URL = checkin_url("https://reg.example.org/", TOKENS, RID)
JOIN = checkin_url("https://reg.example.org", TOKENS, RID, online=True)

SENTENCE: dict[Language, str] = {
    "kk": "оны кіреберісте көрсетіңіз",
    "ru": "покажите его на входе",
    "en": "show it at the entrance",
}
ALT: dict[Language, str] = {
    "kk": "Қатысуды белгілеуге арналған QR код",
    "ru": "QR-код для отметки присутствия",
    "en": "QR check-in code",
}


def modules(png: bytes, size: int, scale: int = 6, border: int = 4) -> list[list[bool]]:
    """The dark modules the image shows, read at each module's centre."""
    image = Image.open(io.BytesIO(png)).convert("L")
    assert image.size == ((size + 2 * border) * scale,) * 2
    half = scale // 2
    return [
        [
            image.getpixel(((border + x) * scale + half, (border + y) * scale + half)) < 128
            for x in range(size)
        ]
        for y in range(size)
    ]


def test_the_code_is_one_registrations_own_and_stable() -> None:
    assert URL.startswith("https://reg.example.org/checkin/")
    assert JOIN.startswith("https://reg.example.org/join/")
    assert URL.rsplit("/", 1)[1] == JOIN.rsplit("/", 1)[1]
    assert checkin_url("https://reg.example.org", TOKENS, RID) == URL
    assert checkin_url("https://reg.example.org", TOKENS, uuid.UUID(int=8)) != URL


@pytest.mark.parametrize("language", ["kk", "ru", "en"])
@pytest.mark.parametrize("kind", ["confirmed", "promoted", "rescheduled"])
def test_a_seat_message_carries_the_qr_and_the_link(language: Language, kind: MessageKind) -> None:
    message = render_message(facts(kind, language, checkin_url=URL), NOW)
    assert SENTENCE[language] in message.text and f"\n{URL}\n" in message.text
    assert f'src="cid:{QR_CONTENT_ID}"' in message.html
    assert f'alt="{ALT[language]}"' in message.html
    assert f'<a href="{URL}">{URL}</a>' in message.html
    for other in {"kk", "ru", "en"} - {language}:
        assert SENTENCE[other] not in message.text  # type: ignore[index]
    # The image is exactly the QR symbol of the link (module by module).
    assert message.qr is not None and message.qr.startswith(b"\x89PNG")
    symbol = segno.make(URL, error="m")
    expected = [[bool(bit) for bit in row] for row in symbol.matrix]
    assert modules(message.qr, len(expected)) == expected


def test_an_online_session_gets_its_join_link() -> None:
    message = render_message(facts(language="en", mode="online", checkin_url=JOIN), NOW)
    assert "personal join link" in message.text and JOIN in message.text
    assert "entrance" not in message.text
    assert f'<a href="{JOIN}">' in message.html and message.qr is not None


@pytest.mark.parametrize("kind", ["waitlisted", "cancellation"])
def test_no_code_in_a_message_that_gives_no_seat(kind: MessageKind) -> None:
    message = render_message(facts(kind, "en", checkin_url=URL), NOW)
    assert URL not in message.text and "cid:" not in message.html and message.qr is None


def test_without_a_code_the_message_has_no_qr() -> None:
    message = render_message(facts("confirmed", "en"), NOW)
    assert message.qr is None and "cid:" not in message.html and "/checkin/" not in message.text
