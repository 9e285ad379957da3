"""Survey definitions written by programme staff and their versions."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

import msgspec
import sqlalchemy as sa
from sqlalchemy.engine import Connection

from trainops_feedback.adapters.tables import definition_versions, definitions
from trainops_feedback.domain.definitions import Definition, Purpose, VersionRow

_COLUMNS = (
    definitions.c.survey_id,
    definitions.c.code,
    definitions.c.purpose,
    definitions.c.training_id,
    definition_versions.c.version,
    definition_versions.c.status,
    definition_versions.c.definition,
    definition_versions.c.published_at,
)
_JOINED = definitions.join(
    definition_versions, definition_versions.c.survey_id == definitions.c.survey_id
)


def _row(row: Any) -> VersionRow:
    return VersionRow(
        survey_id=row.survey_id,
        code=row.code,
        purpose=row.purpose,
        training_id=row.training_id,
        version=row.version,
        status=row.status,
        definition=msgspec.convert(row.definition, Definition),
        published_at=row.published_at,
    )


def code_taken(conn: Connection, code: str) -> bool:
    query = sa.select(definitions.c.survey_id).where(definitions.c.code == code)
    return conn.execute(query).first() is not None


def knowledge_test_of(conn: Connection, training_id: uuid.UUID) -> uuid.UUID | None:
    """The knowledge test defined for ``training_id`` (at most one per training)."""
    query = sa.select(definitions.c.survey_id).where(
        definitions.c.purpose == "knowledge_test", definitions.c.training_id == training_id
    )
    found: uuid.UUID | None = conn.execute(query).scalar()
    return found


def insert_definition(
    conn: Connection,
    *,
    survey_id: uuid.UUID,
    code: str,
    purpose: Purpose,
    training_id: uuid.UUID | None,
    actor: str,
    now: datetime,
) -> None:
    conn.execute(
        definitions.insert().values(
            survey_id=survey_id,
            code=code,
            purpose=purpose,
            training_id=training_id,
            created_at=now,
            created_by=actor,
            published_version=None,
        )
    )


def insert_version(
    conn: Connection, survey_id: uuid.UUID, version: int, definition: Definition, now: datetime
) -> None:
    conn.execute(
        definition_versions.insert().values(
            survey_id=survey_id,
            version=version,
            status="draft",
            definition=msgspec.to_builtins(definition),
            updated_at=now,
            published_at=None,
        )
    )


def versions(conn: Connection, survey_id: uuid.UUID) -> list[VersionRow]:
    query = (
        sa.select(*_COLUMNS)
        .select_from(_JOINED)
        .where(definitions.c.survey_id == survey_id)
        .order_by(definition_versions.c.version)
    )
    return [_row(row) for row in conn.execute(query)]


def latest_versions(conn: Connection) -> list[VersionRow]:
    """The newest version of every definition, by code."""
    newest = (
        sa.select(
            definition_versions.c.survey_id, sa.func.max(definition_versions.c.version).label("v")
        )
        .group_by(definition_versions.c.survey_id)
        .subquery()
    )
    query = (
        sa.select(*_COLUMNS)
        .select_from(
            _JOINED.join(
                newest,
                sa.and_(
                    newest.c.survey_id == definition_versions.c.survey_id,
                    newest.c.v == definition_versions.c.version,
                ),
            )
        )
        .order_by(definitions.c.code)
    )
    return [_row(row) for row in conn.execute(query)]


def latest_published(conn: Connection, survey_id: uuid.UUID) -> VersionRow | None:
    query = (
        sa.select(*_COLUMNS)
        .select_from(_JOINED)
        .where(definitions.c.survey_id == survey_id, definition_versions.c.status == "published")
        .order_by(definition_versions.c.version.desc())
        .limit(1)
    )
    row = conn.execute(query).one_or_none()
    return None if row is None else _row(row)


def get_version(conn: Connection, survey_id: uuid.UUID, version: int) -> VersionRow | None:
    query = (
        sa.select(*_COLUMNS)
        .select_from(_JOINED)
        .where(definitions.c.survey_id == survey_id, definition_versions.c.version == version)
    )
    row = conn.execute(query).one_or_none()
    return None if row is None else _row(row)


def replace_draft(
    conn: Connection, survey_id: uuid.UUID, version: int, definition: Definition, now: datetime
) -> bool:
    """Overwrite a draft; ``False`` if the version is not a draft (the status guards it in the
    statement itself, so a publish racing an edit can never change a published version)."""
    result = conn.execute(
        definition_versions.update()
        .where(
            definition_versions.c.survey_id == survey_id,
            definition_versions.c.version == version,
            definition_versions.c.status == "draft",
        )
        .values(definition=msgspec.to_builtins(definition), updated_at=now)
    )
    return int(result.rowcount) == 1


def lock_definition(conn: Connection, survey_id: uuid.UUID) -> None:
    """``SELECT … FOR UPDATE`` of the survey's row: publishing and issuing test links take
    this lock, so neither misses the other's change (see ``knowledge.lock_test_definitions``)."""
    query = sa.select(definitions.c.survey_id).where(definitions.c.survey_id == survey_id)
    conn.execute(query.with_for_update()).all()


def mark_published(conn: Connection, survey_id: uuid.UUID, version: int, now: datetime) -> bool:
    result = conn.execute(
        definition_versions.update()
        .where(
            definition_versions.c.survey_id == survey_id,
            definition_versions.c.version == version,
            definition_versions.c.status == "draft",
        )
        .values(status="published", published_at=now, updated_at=now)
    )
    if int(result.rowcount) != 1:
        return False
    conn.execute(
        definitions.update()
        .where(definitions.c.survey_id == survey_id)
        .values(published_version=version)
    )
    return True
