"""Invitation tokens: randomness, hashing, expiry."""

from __future__ import annotations

import hashlib
import uuid
from datetime import UTC, datetime, timedelta, timezone

import pytest

from trainops_feedback.domain.tokens import (
    DEFAULT_TOKEN_TTL,
    InvitationTokens,
    expiry_for,
    hash_token,
    is_expired,
    looks_like_token,
)

pytestmark = pytest.mark.unit

ALMATY = timezone(timedelta(hours=5))
INVITED = datetime(2025, 3, 12, 18, 0, tzinfo=UTC)


def test_derived_token_is_urlsafe_and_unique() -> None:
    deriver = InvitationTokens("link-key")
    tokens = {deriver.token(uuid.uuid4()) for _ in range(200)}
    assert len(tokens) == 200
    for token in tokens:
        assert len(token) == 43
        assert looks_like_token(token)


def test_hash_is_sha256_hex_and_deterministic() -> None:
    token = "abc-DEF_123"
    assert hash_token(token) == hashlib.sha256(b"abc-DEF_123").hexdigest()
    assert hash_token(token) == hash_token(token)
    assert len(hash_token(token)) == 64
    assert hash_token(token) != hash_token(token + "x")
    assert token not in hash_token(token)


@pytest.mark.parametrize(
    "junk", ["", "short", "a" * 129, "has space" * 3, "../../etc/passwd-xxxxxx", "токен" * 5]
)
def test_looks_like_token_rejects_junk(junk: str) -> None:
    assert not looks_like_token(junk)


def test_default_expiry_is_60_days() -> None:
    assert timedelta(days=60) == DEFAULT_TOKEN_TTL
    assert expiry_for(INVITED) == INVITED + timedelta(days=60)


def test_expiry_is_configurable() -> None:
    assert expiry_for(INVITED, timedelta(days=14)) == datetime(2025, 3, 26, 18, 0, tzinfo=UTC)


@pytest.mark.parametrize("ttl", [timedelta(0), timedelta(days=-1)])
def test_expiry_ttl_must_be_positive(ttl: timedelta) -> None:
    with pytest.raises(ValueError, match="ttl"):
        expiry_for(INVITED, ttl)


def test_is_expired_boundary() -> None:
    expires = expiry_for(INVITED)
    assert not is_expired(expires, expires - timedelta(microseconds=1))
    assert is_expired(expires, expires)
    assert is_expired(expires, expires + timedelta(days=1))


def test_is_expired_compares_instants_across_zones() -> None:
    expires = datetime(2025, 5, 11, 18, 0, tzinfo=UTC)
    # 22:59 in Almaty (UTC+5) is 17:59 UTC: not yet expired.
    assert not is_expired(expires, datetime(2025, 5, 11, 22, 59, tzinfo=ALMATY))
    assert is_expired(expires, datetime(2025, 5, 11, 23, 0, tzinfo=ALMATY))


def test_naive_datetimes_refused() -> None:
    naive = datetime(2025, 5, 11, 18, 0)
    with pytest.raises(ValueError, match="timezone-aware"):
        is_expired(naive, INVITED)
    with pytest.raises(ValueError, match="timezone-aware"):
        is_expired(INVITED, naive)
    with pytest.raises(ValueError, match="timezone-aware"):
        expiry_for(naive)
