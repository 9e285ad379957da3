import time

import jwt
import pytest
import sqlalchemy as sa
from litestar.exceptions import NotAuthorizedException

from trainops_shared.auth import JwtConfig, Principal, decode_token, issue_token, region_filter

pytestmark = pytest.mark.unit
SECRET = "s" * 40
CONFIG = JwtConfig(SECRET)


def test_round_trip_with_region():
    token = issue_token(secret=SECRET, role="coordinator", region="aktobe", subject="c1")
    p = decode_token(token, CONFIG)
    assert p == Principal(subject="c1", role="coordinator", region="aktobe")
    assert p.region_scope == "aktobe"


def test_admin_sees_every_region():
    p = decode_token(issue_token(secret=SECRET, role="admin", region="aktobe"), CONFIG)
    assert p.region_scope is None


@pytest.mark.parametrize(
    ("claims", "message"),
    [
        ({"exp": 1}, "token expired"),
        ({"iss": "someone-else"}, "invalid token"),
        ({"aud": "other"}, "invalid token"),
        ({"role": "root"}, "no valid role"),
        ({"role": "coordinator"}, "no region claim"),
    ],
)
def test_rejected_tokens(claims, message):
    base = {"sub": "u", "role": "admin", "iss": "trainops", "aud": "trainops"}
    base["exp"] = int(time.time()) + 60
    base.update(claims)
    token = jwt.encode(base, SECRET, algorithm="HS256")
    with pytest.raises(NotAuthorizedException, match=message):
        decode_token(token, CONFIG)


def test_wrong_secret_rejected():
    token = issue_token(secret="x" * 40, role="admin")
    with pytest.raises(NotAuthorizedException, match="invalid token"):
        decode_token(token, CONFIG)


def test_issue_refuses_coordinator_without_region():
    with pytest.raises(ValueError, match="needs a region"):
        issue_token(secret=SECRET, role="coordinator")


def test_region_filter_scopes_coordinators_only():
    t = sa.table("r", sa.column("city"))
    coordinator = Principal("c", "coordinator", "aktau")
    clause = region_filter(coordinator, t.c.city)
    assert str(clause.compile(compile_kwargs={"literal_binds": True})) == "r.city = 'aktau'"
    assert str(region_filter(Principal("a", "admin"), t.c.city).compile()) == "true"


def test_token_cache_verifies_once_and_still_expires(monkeypatch):
    from trainops_shared import auth

    cache = auth.TokenCache(JwtConfig(SECRET, leeway_seconds=0))
    token = issue_token(secret=SECRET, role="reporting", ttl_seconds=60)
    calls = []
    real = auth._decode
    monkeypatch.setattr(auth, "_decode", lambda t, c: calls.append(t) or real(t, c))
    assert cache.principal(token).role == "reporting"
    assert cache.principal(token).role == "reporting"
    assert len(calls) == 1
    monkeypatch.setattr(auth.time, "time", lambda: 10**10)  # past its exp: verified afresh
    cache.principal(token)
    assert len(calls) == 2
