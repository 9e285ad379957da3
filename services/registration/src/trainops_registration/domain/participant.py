"""Participant input: the value sets, validation/normalisation, and the duplicate-spotting key.

Coordinators in eight cities type registrations by hand (often from paper lists or messenger
chats), so the input is normalised here once: names trimmed, phones turned into one comparable
``+7…`` form, and :func:`name_key` lets the service notice that "Айгерім Сейтова" registered in
Almaty and "Seitova Aigerim" registered by a second coordinator are probably the same person.
"""

from __future__ import annotations

import re
import unicodedata
from typing import Final, TypeVar, get_args

import msgspec

from trainops_registration.domain.errors import Invalid
from trainops_shared import errors as shared_errors
from trainops_shared.events.vocabulary import AgeBand, Language, Sector, Sex
from trainops_shared.validation import check_text

T = TypeVar("T", bound=str)

_SECTOR: Final[dict[str, Sector]] = {v: v for v in get_args(Sector)}
_SEX: Final[dict[str, Sex]] = {v: v for v in get_args(Sex)}
_AGE_BAND: Final[dict[str, AgeBand]] = {v: v for v in get_args(AgeBand)}
_LANGUAGE: Final[dict[str, Language]] = {v: v for v in get_args(Language)}
"""Each category value by its spelling: a lookup that hands back the ``Literal`` type."""

FULL_NAME_MIN: Final = 2
FULL_NAME_MAX: Final = 200
ORGANISATION_MAX: Final = 200
CITY_MAX: Final = 64
EMAIL_MAX: Final = 254


class ParticipantInput(msgspec.Struct, kw_only=True, frozen=True):
    """What a coordinator submits, loosely typed so every problem becomes a field error.

    The API can decode a request body straight into this struct; :func:`validate_participant`
    then checks the value sets itself, so that a bad sector is reported as
    ``participant.sector`` with the list of valid values rather than as a decoding error.
    """

    full_name: str
    sector: str
    city: str
    language: str
    sex: str = "undisclosed"
    age_band: str = "undisclosed"
    email: str | None = None
    phone: str | None = None
    organisation: str | None = None


class Participant(msgspec.Struct, kw_only=True, frozen=True):
    """A validated, normalised participant; safe to store and to compare."""

    full_name: str
    sector: Sector
    sex: Sex
    age_band: AgeBand
    city: str
    language: Language
    email: str | None = None
    phone: str | None = None
    organisation: str | None = None

    @property
    def name_key(self) -> str:
        """The duplicate-spotting key of :attr:`full_name` (see :func:`name_key`)."""
        return name_key(self.full_name)


# --------------------------------------------------------------------------------------------
# Field validation


def _collapse_spaces(value: str) -> str:
    return " ".join(value.split())


def _plain(value: str, field: str) -> str:
    """``value`` if it holds no control or bidi-control character (after whitespace, including
    tabs and line breaks, was collapsed): a NUL or a right-to-left override stored in a name
    would travel into CSV exports and make a cell read differently from what it holds."""
    try:
        return check_text(value, field)
    except shared_errors.Invalid as exc:
        raise Invalid(field, exc.detail.removeprefix(f"{field} ")) from None


def _optional(value: str | None) -> str | None:
    """Blank optional fields arrive as ``""`` from forms; they mean "not given"."""
    if value is None:
        return None
    value = _collapse_spaces(value)
    return value or None


def validate_full_name(value: str, field: str = "participant.full_name") -> str:
    """Trim and collapse inner whitespace; 2..200 characters and at least one letter."""
    if not isinstance(value, str):
        raise Invalid(field, "full name must be a string")
    name = _plain(_collapse_spaces(value), field)
    if not name:
        raise Invalid(field, "full name is required")
    if len(name) < FULL_NAME_MIN:
        raise Invalid(field, f"full name must be at least {FULL_NAME_MIN} characters")
    if len(name) > FULL_NAME_MAX:
        raise Invalid(field, f"full name must be at most {FULL_NAME_MAX} characters")
    if not any(ch.isalpha() for ch in name):
        raise Invalid(field, "full name must contain letters")
    return name


_EMAIL_RE: Final = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s.]{2,}$")


def validate_email(value: str | None, field: str = "participant.email") -> str | None:
    """Light syntax check only (one ``@``, a dotted domain, no spaces); lower-cases the domain.

    Deliverability cannot be checked offline and strict RFC 5322 parsing rejects addresses
    people really use, so this only catches typos such as a missing ``@`` or a trailing dot.
    """
    email = _optional(value)
    if email is None:
        return None
    if len(email) > EMAIL_MAX:
        raise Invalid(field, f"e-mail address must be at most {EMAIL_MAX} characters")
    _plain(email, field)
    if not _EMAIL_RE.match(email) or ".." in email:
        raise Invalid(field, f"{email!r} is not a valid e-mail address")
    local, domain = email.rsplit("@", 1)
    if domain.startswith(".") or domain.startswith("-"):
        raise Invalid(field, f"{email!r} is not a valid e-mail address")
    return f"{local}@{domain.lower()}"


_PHONE_ALLOWED_RE: Final = re.compile(r"^\+?[0-9\s\-()]+$")


def normalise_phone(value: str | None, field: str = "participant.phone") -> str | None:
    """Return an E.164-like ``+<digits>`` form so the same phone typed two ways compares equal.

    Kazakhstan numbers are written ``8 701 123 45 67``, ``+7 (701) 123-45-67`` or
    ``87011234567``: 11 digits starting 8 or 7 become ``+7`` and the last 10 digits. A 10-digit
    number starting with 7 (a Kazakh national number without the trunk prefix) gets ``+7`` too.
    Any other number must carry its country code with a leading ``+``.
    """
    raw = _optional(value)
    if raw is None:
        return None
    if not _PHONE_ALLOWED_RE.match(raw) or raw.count("+") > 1:
        raise Invalid(field, "phone may contain only digits, '+', spaces, dashes and parentheses")
    digits = re.sub(r"\D", "", raw)
    has_plus = raw.startswith("+")
    if len(digits) == 11 and digits[0] in "78" and (not has_plus or digits[0] == "7"):
        return "+7" + digits[1:]
    if not has_plus and len(digits) == 10 and digits[0] == "7":
        return "+7" + digits
    if has_plus and 8 <= len(digits) <= 15 and digits[0] != "0":
        return "+" + digits
    if has_plus:
        raise Invalid(field, f"{raw!r} is not a valid international phone number")
    raise Invalid(
        field,
        f"{raw!r} is not a Kazakhstan number (8 7xx xxx xx xx); "
        "write other numbers with '+' and the country code",
    )


def _choice(value: str, valid: dict[str, T], field: str, what: str) -> T:
    if not isinstance(value, str) or value.strip() not in valid:
        raise Invalid(field, f"unknown {what} {value!r}; valid: {', '.join(valid)}")
    return valid[value.strip()]


def validate_sector(value: str, field: str = "participant.sector") -> Sector:
    """One of :data:`~trainops_shared.events.vocabulary.SECTORS`."""
    return _choice(value, _SECTOR, field, "sector")


def validate_sex(value: str, field: str = "participant.sex") -> Sex:
    """One of :data:`~trainops_shared.events.vocabulary.SEXES`."""
    return _choice(value, _SEX, field, "sex")


def validate_age_band(value: str, field: str = "participant.age_band") -> AgeBand:
    """One of :data:`~trainops_shared.events.vocabulary.AGE_BANDS`."""
    return _choice(value, _AGE_BAND, field, "age band")


def validate_language(value: str, field: str = "participant.language") -> Language:
    """One of :data:`~trainops_shared.events.vocabulary.LANGUAGES`, case-insensitive (``RU``
    from a spreadsheet is accepted)."""
    lowered = value.strip().lower() if isinstance(value, str) else value
    return _choice(lowered, _LANGUAGE, field, "language")


def validate_city(value: str, field: str = "participant.city") -> str:
    """A non-empty city code (``almaty``); lower-cased so it matches the scheduling catalogue."""
    if not isinstance(value, str) or not value.strip():
        raise Invalid(field, "city is required")
    city = value.strip().lower()
    if len(city) > CITY_MAX:
        raise Invalid(field, f"city must be at most {CITY_MAX} characters")
    _plain(city, field)
    return city


def validate_organisation(value: str | None, field: str = "participant.organisation") -> str | None:
    """Optional free text, trimmed, at most 200 characters."""
    organisation = _optional(value)
    if organisation is not None and len(organisation) > ORGANISATION_MAX:
        raise Invalid(field, f"organisation must be at most {ORGANISATION_MAX} characters")
    if organisation is not None:
        _plain(organisation, field)
    return organisation


def validate_participant(
    raw: ParticipantInput, *, field_prefix: str = "participant"
) -> Participant:
    """Validate and normalise every field, raising :class:`Invalid` on the first bad one.

    ``field_prefix`` lets a bulk import report ``participants[3].email`` instead of
    ``participant.email``.
    """

    def f(name: str) -> str:
        return f"{field_prefix}.{name}" if field_prefix else name

    return Participant(
        full_name=validate_full_name(raw.full_name, f("full_name")),
        email=validate_email(raw.email, f("email")),
        phone=normalise_phone(raw.phone, f("phone")),
        organisation=validate_organisation(raw.organisation, f("organisation")),
        sector=validate_sector(raw.sector, f("sector")),
        sex=validate_sex(raw.sex, f("sex")),
        age_band=validate_age_band(raw.age_band, f("age_band")),
        city=validate_city(raw.city, f("city")),
        language=validate_language(raw.language, f("language")),
    )


def canonical_participant(person: Participant) -> Participant:
    """The validated person with an e-mail fit for matching: wholly lower-case.

    :func:`validate_email` keeps the local part as typed (RFC 5321 allows case-sensitive
    mailboxes), but no provider people here use treats ``A.S@mail.kz`` and ``a.s@mail.kz`` as
    two mailboxes, and a coordinator typing it differently must not create a second person.
    """
    if person.email is None or person.email == person.email.lower():
        return person
    return msgspec.structs.replace(person, email=person.email.lower())


# --------------------------------------------------------------------------------------------
# Duplicate-spotting name key

_CYRILLIC_TO_LATIN: Final[dict[str, str]] = {
    # Russian alphabet
    "а": "a", "б": "b", "в": "v", "г": "g", "д": "d", "е": "e", "ё": "yo", "ж": "zh",
    "з": "z", "и": "i", "й": "y", "к": "k", "л": "l", "м": "m", "н": "n", "о": "o",
    "п": "p", "р": "r", "с": "s", "т": "t", "у": "u", "ф": "f", "х": "kh", "ц": "ts",
    "ч": "ch", "ш": "sh", "щ": "shch", "ъ": "", "ы": "y", "ь": "", "э": "e", "ю": "yu",
    "я": "ya",
    # Kazakh additions
    "ә": "a", "ғ": "g", "қ": "k", "ң": "ng", "ө": "o", "ұ": "u", "ү": "u", "һ": "h", "і": "i",
    # Ukrainian/Belarusian letters that turn up in surnames
    "ї": "yi", "є": "ye", "ў": "u", "ґ": "g",
}  # fmt: skip
"""Cyrillic → Latin skeleton. Kazakh-specific vowels fold onto their plain Latin neighbours
because that is how they are written in passports and on social media (Әсел → Asel)."""

_LATIN_SPECIALS: Final[dict[str, str]] = {
    # Kazakh Latin (2017-2021 drafts) and Turkish-style letters diacritic stripping would get wrong
    "ş": "sh", "ç": "ch", "ı": "i", "ğ": "g", "ñ": "ng", "ä": "a", "ö": "o", "ü": "u", "ū": "u",
    "ß": "ss", "æ": "ae", "ø": "o", "đ": "d", "ł": "l",
}  # fmt: skip

_VARIANT_RULES: Final[tuple[tuple[re.Pattern[str], str], ...]] = tuple(
    (re.compile(pattern), replacement)
    for pattern, replacement in (
        (r"shch", "sh"),  # Щ: shch / sch / sh
        (r"sch", "sh"),
        (r"dzh|dj|zh", "j"),  # Ж, Дж: Zhanar / Janar, Dzhamilya / Jamila
        (r"kh", "h"),  # Х: Khasen / Hasen
        (r"gh", "g"),  # Ғ written gh: Ghani
        (r"tz|tc", "ts"),  # Ц: passports once wrote TC
        (r"x", "ks"),  # Alexander / Aleksandr
        (r"q", "k"),  # Kazakh Latin Q for Қ: Qairat / Kairat
        (r"w", "v"),
        (r"^ye|^ie", "e"),  # Е at the start: Yerzhan / Erzhan, Yelena / Elena
        (r"ye", "e"),  # Sergeyev / Sergeev
        (r"yo", "e"),  # Ё written as Е: Artyom / Artem, Fyodor / Fedor
        (r"y", "i"),  # Й, Ы, Y: Aigerim / Aygerim, Dmitriy / Dmitrii
        (r"(.)\1+", r"\1"),  # double letters: Zhanna / Zhana, Iuliia / Iulia
    )
)
"""Rules applied in order to each Latin token so the common spelling variants meet."""

_TOKEN_SPLIT_RE: Final = re.compile(r"[^a-z0-9]+")


def _to_latin(text: str) -> str:
    latin = "".join(_CYRILLIC_TO_LATIN.get(ch, _LATIN_SPECIALS.get(ch, ch)) for ch in text)
    decomposed = unicodedata.normalize("NFKD", latin)
    return "".join(ch for ch in decomposed if not unicodedata.combining(ch))


def _fold_token(token: str) -> str:
    for pattern, replacement in _VARIANT_RULES:
        token = pattern.sub(replacement, token)
    return token


def name_key(full_name: str) -> str:
    """A spelling-insensitive key for spotting one person registered twice.

    Names reach the service in Kazakh Cyrillic, Russian Cyrillic and several Latin spellings
    (Айгерім / Айгерим / Aigerim / Aygerim; Ержан / Yerzhan / Erzhan), and in either order
    ("Surname Name" or "Name Surname"). The key transliterates to a Latin skeleton, casefolds,
    strips diacritics, folds the usual variants (y/i, zh/j, kh/h, ts, initial ye/e, doubled
    letters, soft and hard signs) and sorts the tokens. Equal keys mean "probably the same
    person, ask a human": the key is for flagging, never for merging automatically.
    """
    folded = unicodedata.normalize("NFKC", full_name).casefold()
    latin = _to_latin(folded)
    # Apostrophes inside a token (O'Brien, Kazakh Latin 2017's a') belong to the word.
    latin = re.sub(r"['’ʼ`´]", "", latin)
    tokens = [_fold_token(t) for t in _TOKEN_SPLIT_RE.split(latin) if t]
    return " ".join(sorted(t for t in tokens if t))
