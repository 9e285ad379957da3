import base64
import hashlib
import hmac
import json
import time

import jwt
import pytest
import sqlalchemy as sa
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from litestar.exceptions import NotAuthorizedException

from trainops_shared.auth import JwtConfig, Principal, decode_token, issue_token, region_filter
from trainops_shared.credentials import public_key_pem

pytestmark = pytest.mark.unit
KEY = Ed25519PrivateKey.generate()
PUBLIC_PEM = public_key_pem(KEY)
CONFIG = JwtConfig(PUBLIC_PEM)
OLD_DEV_SECRET = "trainops-development-secret-do-not-use-in-production"
"""The HS256 secret every default install shared before keys were generated per install."""


def _claims(**overrides):
    base = {"sub": "u", "role": "admin", "iss": "trainops", "aud": "trainops"}
    base["exp"] = int(time.time()) + 60
    base.update(overrides)
    return {k: v for k, v in base.items() if v is not None}


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _hs256_by_hand(claims, secret: bytes) -> str:
    """An HS256 token whatever the secret looks like (PyJWT refuses PEM text as an HMAC key)."""
    head = _b64(json.dumps({"alg": "HS256", "typ": "JWT"}).encode())
    body = _b64(json.dumps(claims).encode())
    signature = hmac.new(secret, f"{head}.{body}".encode(), hashlib.sha256).digest()
    return f"{head}.{body}.{_b64(signature)}"


def test_round_trip_with_region():
    token = issue_token(key=KEY, role="coordinator", region="aktobe", subject="c1")
    assert jwt.get_unverified_header(token)["alg"] == "EdDSA"
    p = decode_token(token, CONFIG)
    assert p == Principal(subject="c1", role="coordinator", region="aktobe")
    assert p.region_scope == "aktobe"


def test_admin_sees_every_region():
    p = decode_token(issue_token(key=KEY, role="admin", region="aktobe"), CONFIG)
    assert p.region_scope is None


@pytest.mark.parametrize(
    ("claims", "message"),
    [
        ({"exp": 1}, "token expired"),
        ({"iss": "someone-else"}, "invalid token"),
        ({"aud": "other"}, "invalid token"),
        ({"exp": None}, "invalid token"),
        ({"iss": None}, "invalid token"),
        ({"aud": None}, "invalid token"),
        ({"sub": None}, "invalid token"),
        ({"role": "root"}, "no valid role"),
        ({"role": "coordinator"}, "no region claim"),
    ],
)
def test_rejected_tokens(claims, message):
    token = jwt.encode(_claims(**claims), KEY, algorithm="EdDSA")
    with pytest.raises(NotAuthorizedException, match=message):
        decode_token(token, CONFIG)


def test_another_key_is_rejected():
    token = issue_token(key=Ed25519PrivateKey.generate(), role="admin")
    with pytest.raises(NotAuthorizedException, match="invalid token"):
        decode_token(token, CONFIG)


@pytest.mark.parametrize(
    "secret",
    [OLD_DEV_SECRET.encode(), b"s" * 40, PUBLIC_PEM.encode()],
    ids=["old-dev-secret", "guessable", "public-key-as-hmac-secret"],
)
def test_hs256_tokens_are_refused_whatever_the_secret(secret):
    """The old default secret, any guessed one, and the RS/HS confusion (the public key's text
    used as an HMAC secret) all fail: only EdDSA is accepted."""
    token = _hs256_by_hand(_claims(), secret)
    with pytest.raises(NotAuthorizedException, match="invalid token"):
        decode_token(token, CONFIG)


def test_alg_none_is_refused():
    head = _b64(json.dumps({"alg": "none", "typ": "JWT"}).encode())
    token = f"{head}.{_b64(json.dumps(_claims()).encode())}."
    with pytest.raises(NotAuthorizedException, match="invalid token"):
        decode_token(token, CONFIG)


def test_a_verifier_takes_only_an_ed25519_public_key():
    from trainops_shared.credentials import CredentialsError

    with pytest.raises(CredentialsError, match="not a PEM public key"):
        JwtConfig(OLD_DEV_SECRET)


def test_issue_refuses_coordinator_without_region():
    with pytest.raises(ValueError, match="needs a region"):
        issue_token(key=KEY, role="coordinator")


def test_region_filter_scopes_coordinators_only():
    t = sa.table("r", sa.column("city"))
    coordinator = Principal("c", "coordinator", "aktau")
    clause = region_filter(coordinator, t.c.city)
    assert str(clause.compile(compile_kwargs={"literal_binds": True})) == "r.city = 'aktau'"
    assert str(region_filter(Principal("a", "admin"), t.c.city).compile()) == "true"


def test_token_cache_verifies_once_and_still_expires(monkeypatch):
    from trainops_shared import auth

    cache = auth.TokenCache(JwtConfig(PUBLIC_PEM, leeway_seconds=0))
    token = issue_token(key=KEY, role="reporting", ttl_seconds=60)
    calls = []
    real = auth._decode
    monkeypatch.setattr(auth, "_decode", lambda t, c: calls.append(t) or real(t, c))
    assert cache.principal(token).role == "reporting"
    assert cache.principal(token).role == "reporting"
    assert len(calls) == 1
    monkeypatch.setattr(auth.time, "time", lambda: 10**10)  # past its exp: verified afresh
    cache.principal(token)
    assert len(calls) == 2
