"""Participant validation/normalisation and the duplicate-spotting name key."""

from __future__ import annotations

import pytest

from trainops_registration.domain.errors import Invalid
from trainops_registration.domain.participant import (
    Participant,
    ParticipantInput,
    name_key,
    normalise_phone,
    validate_email,
    validate_participant,
)

pytestmark = pytest.mark.unit


def _input(**overrides: object) -> ParticipantInput:
    fields: dict[str, object] = {
        "full_name": "  Айгерім   Сейтова ",
        "sector": "media",
        "city": "Almaty",
        "language": "kk",
        "sex": "female",
        "age_band": "25-34",
        "email": " aigerim@Example.KZ ",
        "phone": "8 (701) 123-45-67",
        "organisation": "  Kazinform ",
    }
    fields.update(overrides)
    return ParticipantInput(**fields)  # type: ignore[arg-type]


# -- whole participant -------------------------------------------------------------------------


def test_valid_participant_is_normalised() -> None:
    p = validate_participant(_input())
    assert p == Participant(
        full_name="Айгерім Сейтова",
        sector="media",
        sex="female",
        age_band="25-34",
        city="almaty",
        language="kk",
        email="aigerim@example.kz",
        phone="+77011234567",
        organisation="Kazinform",
    )
    assert p.name_key == "aigerim seitova"


def test_optional_fields_may_be_absent_or_blank() -> None:
    p = validate_participant(
        ParticipantInput(
            full_name="Ержан",
            sector="akimat",
            city="shymkent",
            language="ru",
            email="",
            phone="  ",
            organisation="",
        )
    )
    assert p.email is None and p.phone is None and p.organisation is None
    assert p.sex == "undisclosed" and p.age_band == "undisclosed"


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"full_name": "   "}, "participant.full_name"),
        ({"full_name": "A"}, "participant.full_name"),
        ({"full_name": "x" * 201}, "participant.full_name"),
        ({"full_name": "12 34"}, "participant.full_name"),
        ({"email": "aigerim.example.kz"}, "participant.email"),
        ({"phone": "call me"}, "participant.phone"),
        ({"organisation": "o" * 201}, "participant.organisation"),
        ({"sector": "journalist"}, "participant.sector"),
        ({"sex": "f"}, "participant.sex"),
        ({"age_band": "18-25"}, "participant.age_band"),
        ({"age_band": "55-64"}, "participant.age_band"),
        ({"city": " "}, "participant.city"),
        ({"language": "kz"}, "participant.language"),
    ],
)
def test_invalid_field_is_named(overrides: dict[str, object], field: str) -> None:
    with pytest.raises(Invalid) as exc_info:
        validate_participant(_input(**overrides))
    assert exc_info.value.field == field
    assert exc_info.value.status == 422
    assert field in str(exc_info.value)


def test_field_prefix_for_bulk_import() -> None:
    with pytest.raises(Invalid) as exc_info:
        validate_participant(_input(email="bad"), field_prefix="participants[3]")
    assert exc_info.value.field == "participants[3].email"


def test_invalid_choice_lists_valid_values() -> None:
    with pytest.raises(Invalid) as exc_info:
        validate_participant(_input(sector="press"))
    assert "media, blogger, ngo, akimat, other" in exc_info.value.message


def test_full_name_boundaries() -> None:
    assert validate_participant(_input(full_name="Ли")).full_name == "Ли"
    assert len(validate_participant(_input(full_name="ы" * 200)).full_name) == 200


def test_language_is_case_insensitive() -> None:
    assert validate_participant(_input(language=" RU ")).language == "ru"


# -- e-mail ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("a@b.kz", "a@b.kz"),
        ("Aigerim.Seitova+unicef@Mail.RU", "Aigerim.Seitova+unicef@mail.ru"),
        ("  zhanar@ngo.org.kz ", "zhanar@ngo.org.kz"),
        (None, None),
        ("", None),
    ],
)
def test_email_accepted(raw: str | None, expected: str | None) -> None:
    assert validate_email(raw) == expected


@pytest.mark.parametrize(
    "raw",
    ["plain", "a@b", "a@@b.kz", "a b@c.kz", "a@b.kz.", "a@.b.kz", "a..b@c.kz", "@b.kz", "a@b.k"],
)
def test_email_rejected(raw: str) -> None:
    with pytest.raises(Invalid) as exc_info:
        validate_email(raw)
    assert exc_info.value.field == "participant.email"


# -- phone -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("8 701 123 45 67", "+77011234567"),
        ("87011234567", "+77011234567"),
        ("+7 (701) 123-45-67", "+77011234567"),
        ("7 701 123 4567", "+77011234567"),
        ("+77011234567", "+77011234567"),
        ("8 (7172) 55-12-34", "+77172551234"),
        ("701 123 45 67", "+77011234567"),
        ("+998 90 123 45 67", "+998901234567"),
        ("+44 20 7946 0958", "+442079460958"),
        (None, None),
        ("", None),
    ],
)
def test_phone_normalised(raw: str | None, expected: str | None) -> None:
    assert normalise_phone(raw) == expected


@pytest.mark.parametrize(
    "raw",
    [
        "8-701-123-45",  # too short
        "123456",
        "+7 701 123",  # international form but too short
        "8 701 123 45 67 ext 2",
        "+7 701 +123",
        "90 123 45 67 89 12",  # foreign without '+'
        "+0123456789",
    ],
)
def test_phone_rejected(raw: str) -> None:
    with pytest.raises(Invalid) as exc_info:
        normalise_phone(raw)
    assert exc_info.value.field == "participant.phone"


def test_same_phone_typed_two_ways_compares_equal() -> None:
    assert normalise_phone("8 777 000 11 22") == normalise_phone("+7(777)000-11-22")


# -- name key --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("a", "b"),
    [
        ("Айгерім", "Aigerim"),
        ("Айгерім", "Айгерим"),
        ("Aygerim", "Aigerim"),
        ("Нұрсұлтан", "Nursultan"),
        ("Жанар", "Zhanar"),
        ("Zhanar", "Janar"),
        ("Ержан", "Yerzhan"),
        ("Ержан", "Erzhan"),
        ("Yerzhan", "Erzhan"),
        ("Сейтова Айгерім", "Aigerim Seitova"),
        ("СЕЙТОВА Айгерим", "aigerim  seytova"),
        ("Әсел Нұрланқызы", "Assel Nurlankyzy"),
        ("Ғалымжан", "Ghalymzhan"),
        ("Ғалымжан", "Galymzhan"),
        ("Қайрат Әбенов", "Qairat Abenov"),
        ("Хасен", "Khasen"),
        ("Хасен", "Hasen"),
        ("Дмитрий Цой", "Dmitriy Tsoy"),
        ("Дмитрий", "Dmitry"),
        ("Юлия Ильина", "Iuliia Ilina"),
        ("Юлия", "Yulia"),
        ("Ольга", "Olga"),
        ("Артём", "Artem"),
        ("Евгений", "Yevgeniy"),
        ("Евгений", "Evgenii"),
        ("Сергеев", "Sergeyev"),
        ("Джамиля", "Dzhamilya"),
        ("Джамиля", "Jamilya"),
        ("Şınar", "Шынар"),
        ("Жаннa", "Zhanna"),  # mixed scripts: the last letter is a Latin a
        ("Анна-Мария", "Anna Maria"),
    ],
)
def test_same_person_same_key(a: str, b: str) -> None:
    assert name_key(a) == name_key(b)


@pytest.mark.parametrize(
    ("a", "b"),
    [
        ("Айгерім", "Айжан"),
        ("Нұрсұлтан", "Нұрлан"),
        ("Жанар", "Жанна"),
        ("Ержан Сейтов", "Ержан Сейткали"),
        ("Асель", "Асылан"),
        ("Дмитрий", "Дамир"),
        ("Сейтова Айгерім", "Сейтова Айгүл"),
        ("Марат", "Мурат"),
        ("Саша", "Сауле"),
    ],
)
def test_different_people_different_keys(a: str, b: str) -> None:
    assert name_key(a) != name_key(b)


def test_name_key_is_sorted_lowercase_latin() -> None:
    key = name_key("Сейтова Айгерім Нұрланқызы")
    assert key == " ".join(sorted(key.split()))
    assert key.isascii() and key == key.lower()


def test_name_key_ignores_punctuation_and_spacing() -> None:
    assert name_key("  Seitova,  Aigerim. ") == name_key("Aigerim Seitova")
    assert name_key("O'Brien") == name_key("OBrien")
