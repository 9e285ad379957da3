"""The UTC helper, the column types on SQLite, and the domain error base."""

from __future__ import annotations

import doctest
import uuid
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

import pytest
import sqlalchemy as sa

import trainops_shared.columns
import trainops_shared.errors
import trainops_shared.timeutil
from trainops_shared.columns import UtcDateTime, UUIDType, convert_string_uuid_columns
from trainops_shared.errors import AppError, Conflict, DomainError, NotFound
from trainops_shared.events import utc_now as events_utc_now
from trainops_shared.timeutil import as_utc, utc_now

pytestmark = pytest.mark.unit

ALMATY = timezone(timedelta(hours=5))


@pytest.mark.parametrize(
    "module", [trainops_shared.timeutil, trainops_shared.columns, trainops_shared.errors]
)
def test_docstring_examples_hold(module: object) -> None:
    result = doctest.testmod(module)  # type: ignore[arg-type]
    assert result.attempted > 0
    assert result.failed == 0


def test_as_utc_assumes_naive_is_utc_and_converts_aware() -> None:
    assert as_utc(datetime(2026, 3, 1, 9, 0)) == datetime(2026, 3, 1, 9, 0, tzinfo=UTC)
    converted = as_utc(datetime(2026, 3, 1, 14, 0, tzinfo=ALMATY))
    assert converted.tzinfo is UTC
    assert (converted.hour, converted.minute) == (9, 0)


def test_utc_now_is_aware_utc_and_events_use_the_same_clock() -> None:
    now = utc_now()
    assert now.tzinfo is UTC
    assert events_utc_now is utc_now


metadata = sa.MetaData()
things = sa.Table(
    "things",
    metadata,
    sa.Column("thing_id", UUIDType(), primary_key=True),
    sa.Column("at", UtcDateTime(), nullable=True),
)


@pytest.fixture
def engine(tmp_path: Path) -> sa.Engine:
    eng = sa.create_engine(f"sqlite:///{tmp_path / 'cols.db'}")
    metadata.create_all(eng)
    return eng


def test_utc_datetime_round_trips_aware_utc_on_sqlite(engine: sa.Engine) -> None:
    a, b, c = uuid.uuid4(), uuid.uuid4(), uuid.uuid4()
    with engine.begin() as conn:
        conn.execute(
            things.insert(),
            [
                {"thing_id": a, "at": datetime(2026, 3, 1, 14, 0, tzinfo=ALMATY)},
                {"thing_id": b, "at": datetime(2026, 3, 1, 9, 30)},
                {"thing_id": c, "at": None},
            ],
        )
        rows = dict(conn.execute(sa.select(things.c.thing_id, things.c.at)).all())
        stored = conn.execute(
            sa.text("SELECT at FROM things WHERE at IS NOT NULL ORDER BY at")
        ).scalars()
        assert list(stored) == ["2026-03-01 09:00:00.000000", "2026-03-01 09:30:00.000000"]
        # Filtering with an aware bound in another zone compares instants, not wall clocks.
        later = conn.execute(
            sa.select(things.c.thing_id).where(
                things.c.at > datetime(2026, 3, 1, 14, 15, tzinfo=ALMATY)
            )
        ).scalars()
        assert list(later) == [b]
    assert rows[a] == datetime(2026, 3, 1, 9, 0, tzinfo=UTC)
    assert rows[a].tzinfo is UTC
    assert rows[b] == datetime(2026, 3, 1, 9, 30, tzinfo=UTC)
    assert rows[c] is None


def test_utc_datetime_refuses_a_string(engine: sa.Engine) -> None:
    with pytest.raises(sa.exc.StatementError, match="expects a datetime"), engine.begin() as conn:
        conn.execute(things.insert().values(thing_id=uuid.uuid4(), at="2026-03-01"))


def test_uuid_type_reads_uuid_objects_and_accepts_strings(engine: sa.Engine) -> None:
    ident = uuid.uuid4()
    with engine.begin() as conn:
        conn.execute(things.insert().values(thing_id=str(ident)))
        got = conn.execute(
            sa.select(things.c.thing_id).where(things.c.thing_id == str(ident))
        ).scalar_one()
        assert conn.execute(sa.text("SELECT thing_id FROM things")).scalar_one() == ident.hex
    assert got == ident
    assert isinstance(got, uuid.UUID)
    with pytest.raises(sa.exc.StatementError), engine.begin() as conn:
        conn.execute(things.insert().values(thing_id="not-a-uuid"))


def test_string_uuid_columns_convert_on_sqlite(engine: sa.Engine) -> None:
    legacy = sa.MetaData()
    old = sa.Table(
        "old_ids",
        legacy,
        sa.Column("id", sa.String(36), primary_key=True),
        sa.Column("other", sa.String(36), nullable=True),
    )
    ident, other = uuid.uuid4(), uuid.uuid4()
    with engine.begin() as conn:
        legacy.create_all(conn)
        conn.execute(old.insert(), [{"id": str(ident).upper(), "other": str(other)}])
        conn.execute(old.insert(), [{"id": str(other), "other": None}])
        convert_string_uuid_columns(conn, [("old_ids", "id"), ("old_ids", "other")])
        new = sa.Table(
            "old_ids",
            sa.MetaData(),
            sa.Column("id", UUIDType(), primary_key=True),
            sa.Column("other", UUIDType(), nullable=True),
        )
        rows = dict(conn.execute(sa.select(new.c.id, new.c.other)).all())
        found = conn.execute(sa.select(new.c.id).where(new.c.id == ident)).scalar_one()
    assert rows == {ident: other, other: None}
    assert found == ident


class _FamilyError(DomainError):
    code = "family_error"


class _Missing(NotFound, _FamilyError):
    """The shared status first: its status and code win, the family's constructor stays."""


class _Plain(DomainError):
    status = 409
    code = "conflict"
    field_in_detail = False


def test_domain_error_is_field_first_and_carries_its_status() -> None:
    err = _Missing("session_id", "no such session", known=3)
    assert isinstance(err, NotFound)
    assert isinstance(err, AppError)
    assert isinstance(err, ValueError)
    assert err.status == 404
    assert err.body() == {
        "status": 404,
        "error": "not_found",
        "detail": "session_id: no such session",
        "field": "session_id",
        "known": 3,
    }
    assert _FamilyError("x", "y").status == 400
    assert _Plain("token", "already used").body()["detail"] == "already used"


def test_app_error_keeps_its_sentence_first_shape() -> None:
    err = Conflict("the session is full", field="session.status")
    assert err.body() == {
        "status": 409,
        "error": "conflict",
        "detail": "the session is full",
        "field": "session.status",
    }


def test_a_status_spelt_the_old_way_or_outside_4xx_is_refused() -> None:
    with pytest.raises(TypeError, match="not `status_code`"):

        class _Old(DomainError):
            status_code = 404

    with pytest.raises(TypeError, match="not a client error"):

        class _Ours(DomainError):
            status = 503
