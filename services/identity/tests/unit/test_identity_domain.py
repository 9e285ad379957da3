"""The identity service's pure rules: passwords, roles, redirects, session expiry, languages."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest

from trainops_identity.adapters.passwords import Passwords
from trainops_identity.api.texts import choose, from_accept_language
from trainops_identity.domain.accounts import check_password, check_role, check_username
from trainops_identity.domain.errors import Invalid
from trainops_identity.domain.redirects import safe_next
from trainops_identity.domain.sessions import SessionPolicy, SessionRow, session_ended, touched

pytestmark = pytest.mark.unit

OWN = "http://127.0.0.1:8005"
ALLOWED = ("http://127.0.0.1:8001", "http://127.0.0.1:8004")


@pytest.mark.parametrize(
    "password",
    ["short one", "Password1234", "aaaaaaaaaaaaaaaa", "aigerim-is-my-name", "x" * 1025],
)
def test_weak_passwords_are_refused(password: str) -> None:
    with pytest.raises(Invalid) as refused:
        check_password(password, "aigerim")
    assert refused.value.field == "password"


def test_a_long_phrase_is_accepted() -> None:
    assert check_password("steppe wind over aktobe", "aigerim") == "steppe wind over aktobe"


def test_roles_and_regions() -> None:
    assert check_role("coordinator", " Aktobe ") == ("coordinator", "aktobe")
    assert check_role("reporting", "") == ("reporting", None)
    for role, region in (("coordinator", None), ("admin", "almaty"), ("root", None)):
        with pytest.raises(Invalid):
            check_role(role, region)
    assert check_username(" Dana.K ") == "dana.k"
    for bad in ("", "a", "has space", "x" * 64, "semi;colon", "-dash"):
        with pytest.raises(Invalid):
            check_username(bad)


@pytest.mark.parametrize(
    ("given", "expected"),
    [
        ("http://127.0.0.1:8001/sessions?x=1", "http://127.0.0.1:8001/sessions?x=1"),
        ("http://127.0.0.1:8004/", "http://127.0.0.1:8004/"),
        ("/tokens", f"{OWN}/tokens"),
        ("https://evil.example/", f"{OWN}/"),
        ("//evil.example/", f"{OWN}/"),
        ("/\\evil.example", f"{OWN}/"),
        ("http://127.0.0.1:9999/", f"{OWN}/"),
        ("javascript:alert(1)", f"{OWN}/"),
        ("http://127.0.0.1:8001@evil.example/", f"{OWN}/"),
        ("http://127.0.0.1:8001/\r\nSet-Cookie: x", f"{OWN}/"),
        (None, f"{OWN}/"),
    ],
)
def test_next_goes_only_to_our_services(given: str | None, expected: str) -> None:
    assert safe_next(given, OWN, ALLOWED) == expected


def test_session_expiry_idle_and_absolute() -> None:
    start = datetime(2026, 12, 2, 9, 0, tzinfo=UTC)
    policy = SessionPolicy()
    row = SessionRow(
        session_id="s",
        account_id="a",
        csrf="c",
        created_at=start,
        last_seen_at=start,
        idle_expires_at=start + policy.idle,
        absolute_expires_at=start + policy.absolute,
        revoked_at=None,
    )
    assert session_ended(row, start + timedelta(minutes=29)) is None
    assert session_ended(row, start + timedelta(minutes=31)) == "the session was idle too long"
    late = start + timedelta(hours=11, minutes=50)
    assert touched(row, policy, late) == row.absolute_expires_at
    kept = replace(row, idle_expires_at=row.absolute_expires_at)
    assert "maximum lifetime" in str(session_ended(kept, start + timedelta(hours=12)))
    revoked = replace(row, revoked_at=start)
    assert session_ended(revoked, start) == "signed out"


def test_language_choice() -> None:
    assert from_accept_language("de-DE,kk;q=0.8,ru;q=0.9") == "ru"
    assert from_accept_language("kk-KZ") == "kk"
    assert from_accept_language("de, fr;q=0.5") is None
    assert choose("en", "kk", "ru") == "en"
    assert choose(None, "kk", "ru") == "kk"
    assert choose("xx", None, "fr") == "ru"


def test_hashes_are_argon2id_verified_and_rehashed_on_new_parameters() -> None:
    old = Passwords(time_cost=1, memory_cost=8 * 1024)
    stored = old.hash("steppe wind over aktobe")
    assert stored.startswith("$argon2id$")
    assert old.verify(stored, "steppe wind over aktobe")
    assert not old.verify(stored, "steppe wind over almaty")
    assert not old.verify(None, "anything at all")
    assert not old.needs_rehash(stored)
    assert Passwords(time_cost=2, memory_cost=8 * 1024).needs_rehash(stored)
