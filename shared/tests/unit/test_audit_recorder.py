"""The audit recorder: what it keeps, what it refuses, and the reader's filters."""

from __future__ import annotations

import doctest
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from sqlalchemy.engine import Connection

import trainops_shared.audit
from trainops_shared.audit import (
    AuditDetailRefused,
    AuditQuery,
    DetailValue,
    list_audit,
    record_audit,
)
from trainops_shared.auth import Principal
from trainops_shared.storage import apply_migrations
from trainops_shared.tables import PLUMBING_MIGRATIONS, audit_log

pytestmark = pytest.mark.unit

ADMIN = Principal(subject="acct-admin-1", role="admin")
COORDINATOR = Principal(subject="acct-coord-7", role="coordinator", region="almaty")
SESSION = uuid.UUID("019ad0b2-4e80-7c3a-8f55-1a2b3c4d5e6f")


@pytest.fixture
def engine(tmp_path: Path) -> Iterator[sa.Engine]:
    eng = sa.create_engine(f"sqlite:///{tmp_path / 'audit.db'}")
    with eng.begin() as conn:
        apply_migrations(conn, [PLUMBING_MIGRATIONS])
    yield eng
    eng.dispose()


def test_docstring_example_holds() -> None:
    result = doctest.testmod(trainops_shared.audit)
    assert result.attempted > 0
    assert result.failed == 0


def test_the_plumbing_migration_creates_the_table_and_reapplying_is_a_no_op(
    engine: sa.Engine,
) -> None:
    with engine.begin() as conn:
        assert "audit_log" in sa.inspect(conn).get_table_names()
        assert apply_migrations(conn, [PLUMBING_MIGRATIONS]) == []


def test_an_older_database_gets_the_table_from_the_new_migration(tmp_path: Path) -> None:
    eng = sa.create_engine(f"sqlite:///{tmp_path / 'old.db'}")
    with eng.begin() as conn:
        apply_migrations(conn, [PLUMBING_MIGRATIONS])
        audit_log.drop(conn)
        conn.execute(sa.text("DELETE FROM schema_migrations WHERE version = 3"))
    with eng.begin() as conn:
        assert apply_migrations(conn, [PLUMBING_MIGRATIONS]) == [("plumbing", 3)]
        record_audit(conn, ADMIN, "session.cancelled", "session", SESSION)
        assert len(list_audit(conn, AuditQuery())) == 1
    eng.dispose()


def test_an_entry_keeps_who_what_when_and_which_record(engine: sa.Engine) -> None:
    at = datetime(2026, 11, 30, 14, 15, tzinfo=timezone(timedelta(hours=5)))
    other = uuid.uuid4()
    with engine.begin() as conn:
        record_audit(
            conn,
            COORDINATOR,
            "registration.cancelled",
            "registration",
            SESSION,
            {
                "previous_status": "confirmed",
                "seats_freed": 1,
                "waitlist": False,
                "ratio": 0.5,
                "session_id": other,
                "starts_at": at,
                "reason_code": None,
                "client": "::1",
            },
            at=at,
        )
        (entry,) = list_audit(conn, AuditQuery())
    assert entry.actor == "acct-coord-7"
    assert entry.actor_role == "coordinator"
    assert entry.action == "registration.cancelled"
    assert (entry.record_type, entry.record_id) == ("registration", str(SESSION))
    assert entry.occurred_at == datetime(2026, 11, 30, 9, 15, tzinfo=UTC)
    assert entry.detail == {
        "previous_status": "confirmed",
        "seats_freed": 1,
        "waitlist": False,
        "ratio": 0.5,
        "session_id": str(other),
        "starts_at": "2026-11-30T09:15:00Z",
        "reason_code": None,
        "client": "::1",
    }


def test_an_entry_rolls_back_with_the_change_it_records(engine: sa.Engine) -> None:
    with pytest.raises(RuntimeError), engine.begin() as conn:
        record_audit(conn, ADMIN, "session.cancelled", "session", SESSION)
        raise RuntimeError("the change failed after the entry was written")
    with engine.connect() as conn:
        assert list_audit(conn, AuditQuery()) == []


@pytest.mark.parametrize(
    ("detail", "complaint"),
    [
        ({"name": "Aigerim Bekova"}, "personal data"),
        ({"participant_name": "x"}, "personal data"),
        ({"email": "a.bekova"}, "personal data"),
        ({"phone_number": 77011234567}, "personal data"),
        ({"organisation": "ngo"}, "personal data"),
        ({"org": "ngo"}, "personal data"),
        ({"contact": None}, "personal data"),
        ({"comment": "ok"}, "personal data"),
        ({"status": "Aigerim"}, "lower-case code"),
        ({"status": "aigerim bekova"}, "lower-case code"),
        ({"status": "a.bekova@example.kz"}, "lower-case code"),
        ({"status": "+77011234567"}, "lower-case code"),
        ({"status": "x" * 65}, "lower-case code"),
        ({"status": ""}, "lower-case code"),
        ({"counts": [1, 2]}, "is a list"),
        ({"nested": {"a": 1}}, "is a dict"),
        ({"Status": "ok"}, "lower-case name"),
        ({"": "ok"}, "lower-case name"),
        ({f"k{n}": n for n in range(17)}, "at most 16"),
    ],
)
def test_detail_that_could_hold_personal_data_is_refused(
    engine: sa.Engine, detail: dict[str, Any], complaint: str
) -> None:
    with engine.begin() as conn:
        with pytest.raises(AuditDetailRefused, match=complaint):
            record_audit(conn, ADMIN, "registration.cancelled", "registration", SESSION, detail)
        assert list_audit(conn, AuditQuery()) == []


@pytest.mark.parametrize(
    ("actor", "action", "record_type", "record_id", "complaint"),
    [
        ("two words", "session.cancelled", "session", "1", "actor"),
        ("", "session.cancelled", "session", "1", "actor"),
        ("a" * 201, "session.cancelled", "session", "1", "actor"),
        ("acct-1", "Session Cancelled", "session", "1", "action"),
        ("acct-1", "session.", "session", "1", "action"),
        ("acct-1", "session.cancelled", "Participant", "1", "record_type"),
        ("acct-1", "session.cancelled", "participant", "a.bekova@example.kz", "record_id"),
        ("acct-1", "session.cancelled", "participant", "Aigerim Bekova", "record_id"),
        ("acct-1", "session.cancelled", "participant", "", "record_id"),
    ],
)
def test_who_what_and_which_record_must_be_identifiers(
    engine: sa.Engine,
    actor: str,
    action: str,
    record_type: str,
    record_id: str,
    complaint: str,
) -> None:
    with engine.begin() as conn:
        with pytest.raises(AuditDetailRefused, match=complaint):
            record_audit(conn, actor, action, record_type, record_id)
        assert list_audit(conn, AuditQuery()) == []


def _seed(conn: Connection) -> None:
    base = datetime(2026, 11, 1, 9, 0, tzinfo=UTC)
    steps: list[tuple[Principal | str, str, dict[str, DetailValue] | None]] = [
        (ADMIN, "session.cancelled", None),
        (COORDINATOR, "registration.created", {"status": "confirmed"}),
        (COORDINATOR, "registration.cancelled", None),
        ("acct-staff-2", "session.cancelled", None),
        (COORDINATOR, "registration.created", {"status": "waitlisted"}),
    ]
    for day, (actor, action, detail) in enumerate(steps):
        record_audit(
            conn,
            actor,
            action,
            action.split(".")[0],
            uuid.uuid4(),
            detail,
            at=base + timedelta(days=day),
        )


def test_the_reader_filters_and_pages_newest_first(engine: sa.Engine) -> None:
    with engine.begin() as conn:
        _seed(conn)
        every = list_audit(conn, AuditQuery())
        assert [e.occurred_at.day for e in every] == [5, 4, 3, 2, 1]
        assert [e.id for e in every] == sorted((e.id for e in every), reverse=True)
        mine = list_audit(conn, AuditQuery(actor="acct-coord-7"))
        assert [e.action for e in mine] == [
            "registration.created",
            "registration.cancelled",
            "registration.created",
        ]
        assert {e.actor_role for e in mine} == {"coordinator"}
        cancelled = list_audit(conn, AuditQuery(action="session.cancelled"))
        assert [e.actor for e in cancelled] == ["acct-staff-2", "acct-admin-1"]
        assert cancelled[0].actor_role is None
        recent = list_audit(conn, AuditQuery(since=datetime(2026, 11, 3, 9, 0, tzinfo=UTC)))
        assert [e.occurred_at.day for e in recent] == [5, 4, 3]
        first_page = list_audit(conn, AuditQuery(limit=2))
        second_page = list_audit(conn, AuditQuery(limit=2, before=first_page[-1].id))
        assert [e.occurred_at.day for e in first_page + second_page] == [5, 4, 3, 2]
        both = list_audit(conn, AuditQuery(actor="acct-coord-7", action="registration.created"))
        assert [e.detail for e in both] == [{"status": "waitlisted"}, {"status": "confirmed"}]
