"""Programme staff's use cases on survey definitions: create, edit a draft, publish, revise.

Each runs in one transaction (``runtime.write``). Publishing records ``SurveyPublished`` with
the version, its kinds and option keys (never which options are correct) in the same
transaction; publishing a knowledge test also issues the pre-tests now due to people already
registered for its training's sessions.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.engine import Connection

from trainops_feedback.adapters import copies
from trainops_feedback.adapters import definitions as store
from trainops_feedback.adapters.copies import TrainingChoice
from trainops_feedback.domain.definitions import (
    Definition,
    Purpose,
    VersionRow,
    check_definition,
    ensure_editable,
)
from trainops_feedback.domain.errors import Conflict, Invalid, NotFound
from trainops_shared.auth import Principal
from trainops_shared.events import SurveyPublished, uuid7
from trainops_shared.outbox import record_events

CODE_RE = re.compile(r"^[a-z0-9][a-z0-9_-]{1,63}$")


@dataclass(frozen=True, slots=True)
class CreateDefinition:
    code: str
    purpose: Purpose
    definition: Definition
    training_id: uuid.UUID | None = None


def create_definition(
    conn: Connection, command: CreateDefinition, principal: Principal, now: datetime
) -> VersionRow:
    """A new survey with its first version as a draft."""
    if not CODE_RE.fullmatch(command.code):
        raise Invalid("code", "a code is 2..64 of a-z, 0-9, - and _")
    if command.purpose == "knowledge_test" and command.training_id is None:
        raise Invalid("training_id", "a knowledge test belongs to one training")
    if command.purpose == "feedback" and command.training_id is not None:
        raise Invalid("training_id", "only a knowledge test names a training")
    definition = check_definition(command.definition, command.purpose)
    if store.code_taken(conn, command.code):
        raise Conflict("code", f"a survey with code {command.code!r} exists")
    if command.training_id is not None and store.knowledge_test_of(conn, command.training_id):
        raise Conflict("training_id", "this training has a knowledge test; revise that one")
    survey_id = uuid7()
    store.insert_definition(
        conn,
        survey_id=survey_id,
        code=command.code,
        purpose=command.purpose,
        training_id=command.training_id,
        actor=principal.subject,
        now=now,
    )
    store.insert_version(conn, survey_id, 1, definition, now)
    return _version(conn, survey_id, 1)


def _version(conn: Connection, survey_id: uuid.UUID, version: int) -> VersionRow:
    row = store.get_version(conn, survey_id, version)
    if row is None:
        raise NotFound("version", f"survey {survey_id} has no version {version}")
    return row


def list_definitions(conn: Connection) -> list[VersionRow]:
    return store.latest_versions(conn)


def definition_versions(conn: Connection, survey_id: uuid.UUID) -> list[VersionRow]:
    rows = store.versions(conn, survey_id)
    if not rows:
        raise NotFound("survey_id", f"survey {survey_id} not found")
    return rows


def edit_draft(
    conn: Connection, survey_id: uuid.UUID, version: int, definition: Definition, now: datetime
) -> VersionRow:
    """Replace a draft's content; a published version answers 409 and stays as it was."""
    current = _version(conn, survey_id, version)
    ensure_editable(current.status)
    checked = check_definition(definition, current.purpose)
    if not store.replace_draft(conn, survey_id, version, checked, now):
        ensure_editable("published")
    return _version(conn, survey_id, version)


def new_version(
    conn: Connection, survey_id: uuid.UUID, now: datetime, source: int | None = None
) -> VersionRow:
    """A new draft copied from version ``source`` (the newest when ``None``); a survey has at
    most one draft, so while one exists this is a 409 naming it."""
    store.lock_definition(conn, survey_id)
    rows = definition_versions(conn, survey_id)
    newest = rows[-1]
    if newest.status == "draft":
        raise Conflict("version", f"version {newest.version} is still a draft: edit that one")
    copied = newest if source is None else next((r for r in rows if r.version == source), None)
    if copied is None:
        raise NotFound("version", f"survey {survey_id} has no version {source}")
    store.insert_version(conn, survey_id, newest.version + 1, copied.definition, now)
    return _version(conn, survey_id, newest.version + 1)


def training_choices(conn: Connection) -> list[TrainingChoice]:
    """The trainings feedback knows of (from scheduling's events), for a knowledge test's
    form; the JSON API takes any training id."""
    return copies.list_trainings(conn)


def publish_version(
    conn: Connection,
    survey_id: uuid.UUID,
    version: int,
    principal: Principal,
    now: datetime,
    issue_due_tests: Callable[[Connection], None],
) -> VersionRow:
    """Freeze a draft and announce it; publishing twice is a 409 (the first stands)."""
    store.lock_definition(conn, survey_id)
    current = _version(conn, survey_id, version)
    ensure_editable(current.status)
    if not store.mark_published(conn, survey_id, version, now):
        ensure_editable("published")
    definition = current.definition
    record_events(
        conn,
        [
            SurveyPublished(
                occurred_at=now,
                aggregate_id=survey_id,
                aggregate_version=version,
                actor=principal.subject,
                survey_id=survey_id,
                code=current.code,
                items=definition.likert_keys,
                version=version,
                purpose=current.purpose,
                training_id=current.training_id,
                item_kinds=definition.item_kinds,
                options=definition.choice_options,
            )
        ],
    )
    if current.purpose == "knowledge_test":
        issue_due_tests(conn)
    return _version(conn, survey_id, version)
