"""Check-in codes: the credential behind a registration's QR code and an online session's
personal join link.

The code is derived from the installation's ``REGISTRATION_LINK_KEY`` and the registration id,
so the attendance sheet and the confirmation message show the same code, while only its hash is
stored (whoever stores it first, the other finds it there).
"""

from __future__ import annotations

import io
import uuid
from functools import lru_cache
from typing import Final

import segno

from trainops_shared.events.vocabulary import Language
from trainops_shared.link_tokens import LinkTokens

CHECKIN_PURPOSE: Final = "registration-checkin"
CHECKIN_PATH: Final = "/checkin/"
JOIN_PATH: Final = "/join/"


@lru_cache(maxsize=4)
def checkin_tokens(secret: str) -> LinkTokens:
    """The (cached) code deriver of ``secret``: one key derivation per process."""
    return LinkTokens(secret, CHECKIN_PURPOSE)


def checkin_url(
    public_url: str, tokens: LinkTokens, registration_id: uuid.UUID, *, online: bool = False
) -> str:
    """The address a registration's QR code holds: the check-in page a coordinator's phone
    opens, or for an online session the participant's join link."""
    path = JOIN_PATH if online else CHECKIN_PATH
    return f"{public_url.rstrip('/')}{path}{tokens.token(str(registration_id))}"


QR_CONTENT_ID: Final = "checkin-qr@trainops"
"""The Content-ID the message's HTML shows the QR code by (``src="cid:…"``)."""
QR_FILENAME: Final = "checkin-qr.png"
CARRIES_CHECKIN: Final = frozenset({"confirmed", "promoted", "rescheduled"})
"""The message kinds that hand the participant their code: the ones that give them a seat, and
the one about a new time (the code is the same, and it is what they will look for that day)."""

CHECKIN_TEXTS: Final[dict[Language, dict[str, str]]] = {
    "en": {
        "checkin.in_person": (
            "Your check-in code: show it at the entrance, and the coordinator scans it to "
            "record your attendance. It is yours alone; the same code as a link:"
        ),
        "checkin.online": (
            "Your personal join link: it records your presence and then opens the meeting. "
            "It is yours alone, please do not pass it on:"
        ),
        "checkin.qr": "QR check-in code",
    },
    "ru": {
        "checkin.in_person": (
            "Ваш код для отметки: покажите его на входе, координатор отсканирует его и "
            "отметит ваше присутствие. Код только ваш; тот же код в виде ссылки:"
        ),
        "checkin.online": (
            "Ваша личная ссылка для входа: она отмечает ваше присутствие и открывает "
            "встречу. Ссылка только ваша, не передавайте её другим:"
        ),
        "checkin.qr": "QR-код для отметки присутствия",
    },
    "kk": {
        "checkin.in_person": (
            "Сіздің тіркелу кодыңыз: оны кіреберісте көрсетіңіз, үйлестіруші оны сканерлеп, "
            "қатысуыңызды белгілейді. Код тек сіздікі; сол код сілтеме түрінде:"
        ),
        "checkin.online": (
            "Жеке қосылу сілтемеңіз: ол қатысуыңызды белгілеп, кездесуді ашады. "
            "Сілтеме тек сіздікі, оны басқаларға бермеңіз:"
        ),
        "checkin.qr": "Қатысуды белгілеуге арналған QR код",
    },
}


def qr_png(url: str) -> tuple[bytes, int]:
    """The QR code of ``url`` as a PNG, and its width in pixels (square): large enough for a
    phone to scan from another screen or a printout."""
    code = segno.make(url, error="m")
    out = io.BytesIO()
    code.save(out, kind="png", scale=6, border=4)
    width, _ = code.symbol_size(scale=6, border=4)
    return out.getvalue(), int(width)
