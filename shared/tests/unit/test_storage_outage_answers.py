"""A storage outage answers 503 with Retry-After, whatever the backend says; bugs stay 500."""

from __future__ import annotations

import sqlite3
from typing import Any

import pytest
from sqlalchemy.exc import DBAPIError, OperationalError

from trainops_shared.service import _handle_unexpected
from trainops_shared.storage import DatabaseUnavailable

pytestmark = pytest.mark.unit


class _ConnectionDoesNotExist(Exception):
    """Stands in for asyncpg's error when the server closed the connection mid-operation."""

    sqlstate = "08003"


class _CannotConnectNow(Exception):
    sqlstate = "57P03"


NO_REQUEST: Any = None
"""The handlers ignore the request; they are called directly to test the mapping alone."""


def _dbapi(orig: Exception, *, invalidated: bool = False) -> DBAPIError:
    return DBAPIError("COMMIT", None, orig, connection_invalidated=invalidated)


OUTAGES: list[tuple[str, Exception]] = [
    ("our own wrapper", DatabaseUnavailable("down")),
    ("asyncpg connection refused", ConnectionRefusedError(111, "Connect call failed")),
    (
        "sqlite database is locked",
        OperationalError("INSERT", None, sqlite3.OperationalError("database is locked")),
    ),
    (
        "postgres starting up",
        _dbapi(type("CannotConnectNow", (Exception,), {"sqlstate": "57P03"})()),
    ),
    ("closed mid-operation", _dbapi(_ConnectionDoesNotExist("connection was closed"))),
    ("connection invalidated", _dbapi(Exception("server closed"), invalidated=True)),
]


@pytest.mark.parametrize(("case", "exc"), OUTAGES, ids=[c for c, _ in OUTAGES])
def test_an_outage_is_503_with_retry_after(case: str, exc: Exception) -> None:
    response: Any = _handle_unexpected(NO_REQUEST, exc)
    assert response.status_code == 503, case
    assert response.headers["Retry-After"].isdigit()
    assert response.content["error"] == "unavailable"
    assert "Idempotency-Key" in response.content["detail"]


def test_a_bug_stays_500_without_detail() -> None:
    response: Any = _handle_unexpected(NO_REQUEST, KeyError("user"))
    assert response.status_code == 500
    assert "user" not in str(response.content)
