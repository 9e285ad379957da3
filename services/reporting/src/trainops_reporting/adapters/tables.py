"""The reporting read model: SQLAlchemy Core tables and their versioned migrations.

Everything here is rebuilt from the event streams alone (the service never reads another
service's database). The central table is :data:`facts`: one row per registration, i.e. per
(participant, session) sitting, with every report dimension copied onto it (the participant's
profile at registration, the session's mode, training and start time) so that a donor report is one
range scan over one table with no joins.

A participant's profile dimensions on every fact are those of the participant's *latest*
registration (by the event's ``occurred_at``, then ``event_id``; kept in :data:`participants`), so
each person falls in exactly one cell of a breakdown by profile dimensions: cells then partition
the people, and a table's cells add up to its distinct-participant total, which is what
small-cell suppression relies on. (The latest-wins rule does not depend on arrival order, so a
replay converges to the same rows.)

Reports read the facts only: every published figure is a cell of the disclosure universe, which
is one aggregate over :data:`facts` per read-model generation (``adapters.report_queries``,
``finest_cells``). The window index is covering on both backends (``INCLUDE`` columns on
PostgreSQL, every read column in the key on SQLite), so a window scan never touches the table.
Finished reports are also cached per ``report_state.generation`` (``adapters.report_cache``).
The versioned migrations that create and evolve these tables are in ``adapters.migrations``.

Per-row version columns (``status_version``, ``attendance_version``, ``times_version`` …) guard each
independently changing attribute: a late redelivery of an older event never rolls that attribute
back, and an older event for a *different* attribute (a promotion naked and redelivered after a
later attendance record) is still applied.
"""

from __future__ import annotations

import sqlalchemy as sa

from trainops_shared.columns import UtcDateTime, UUIDType

metadata = sa.MetaData()

trainings = sa.Table(
    "report_trainings",
    metadata,
    sa.Column("training_id", UUIDType(), primary_key=True),
    sa.Column("code", sa.String(64), nullable=False),
    sa.Column("title", sa.JSON, nullable=False),
    sa.Column("target_sectors", sa.JSON, nullable=False),
    sa.Column("version", sa.Integer, nullable=False),
)

trainers = sa.Table(
    "report_trainers",
    metadata,
    sa.Column("trainer_id", UUIDType(), primary_key=True),
    sa.Column("home_city", sa.String(100), nullable=False),
    sa.Column("version", sa.Integer, nullable=False),
)

sessions = sa.Table(
    "report_sessions",
    metadata,
    sa.Column("session_id", UUIDType(), primary_key=True),
    sa.Column("training_id", UUIDType(), nullable=False),
    sa.Column("mode", sa.String(16), nullable=False),
    sa.Column("cities", sa.JSON, nullable=False),
    sa.Column("timezone", sa.String(64), nullable=False),
    sa.Column("language", sa.String(8), nullable=False),
    sa.Column("starts_at", UtcDateTime(), nullable=False),
    sa.Column("ends_at", UtcDateTime(), nullable=False),
    sa.Column("capacity", sa.Integer, nullable=False),
    sa.Column("status", sa.String(16), nullable=False),  # scheduled | cancelled | completed
    sa.Column("created_version", sa.Integer, nullable=False),
    sa.Column("times_version", sa.Integer, nullable=False),
    sa.Column("capacity_version", sa.Integer, nullable=False),
    sa.Column("status_version", sa.Integer, nullable=False),
    sa.Index("ix_report_sessions_starts_at", "starts_at"),
)

surveys = sa.Table(
    "report_surveys",
    metadata,
    sa.Column("survey_id", UUIDType(), primary_key=True),
    sa.Column("code", sa.String(64), nullable=False),
    sa.Column("items", sa.JSON, nullable=False),
    sa.Column("session_id", UUIDType(), nullable=True),
    sa.Column("version", sa.Integer, nullable=False),
)

participants = sa.Table(
    "report_participants",
    metadata,
    sa.Column("participant_id", UUIDType(), primary_key=True),
    sa.Column("city", sa.String(100), nullable=False),
    sa.Column("sector", sa.String(32), nullable=False),
    sa.Column("sex", sa.String(16), nullable=False),
    sa.Column("age_band", sa.String(16), nullable=False),
    sa.Column("language", sa.String(8), nullable=False),
    # which registration's profile this is: the latest by (occurred_at, event_id)
    sa.Column("profile_at", UtcDateTime(), nullable=False),
    sa.Column("profile_event_id", sa.String(36), nullable=False),
)

participant_merges = sa.Table(
    "report_participant_merges",
    metadata,
    # since v8: a participant merged into another (``registration.participants_merged.v1``);
    # ``kept_participant_id`` is the end of the chain (a kept one merged later is followed)
    sa.Column("merged_participant_id", UUIDType(), primary_key=True),
    sa.Column("kept_participant_id", UUIDType(), nullable=False),
    sa.Column("merge_id", UUIDType(), nullable=False),
    sa.Index("ix_report_participant_merges_kept", "kept_participant_id"),
)

facts = sa.Table(
    "report_facts",
    metadata,
    sa.Column("registration_id", UUIDType(), primary_key=True),
    sa.Column("participant_id", UUIDType(), nullable=False),
    sa.Column("session_id", UUIDType(), nullable=False),
    # dimensions, denormalised
    sa.Column("training_id", UUIDType(), nullable=False),
    sa.Column("mode", sa.String(16), nullable=False),
    sa.Column("starts_at", UtcDateTime(), nullable=False),
    sa.Column("city", sa.String(100), nullable=False),
    sa.Column("sector", sa.String(32), nullable=False),
    sa.Column("sex", sa.String(16), nullable=False),
    sa.Column("age_band", sa.String(16), nullable=False),
    sa.Column("language", sa.String(8), nullable=False),
    # state
    sa.Column("status", sa.String(16), nullable=False),  # confirmed | waitlisted | cancelled
    sa.Column("session_cancelled", sa.Boolean, nullable=False),
    sa.Column("registered", sa.Boolean, nullable=False),
    sa.Column("attended", sa.Boolean, nullable=False),
    sa.Column("feedback_count", sa.Integer, nullable=False),
    sa.Column("overall_sum", sa.Integer, nullable=False),
    sa.Column("overall_count", sa.Integer, nullable=False),
    # per-attribute version guards
    sa.Column("status_version", sa.Integer, nullable=False),
    sa.Column("attendance_version", sa.Integer, nullable=False),
    sa.Index("ix_report_facts_session", "session_id"),
    sa.Index("ix_report_facts_participant", "participant_id"),
)

WINDOW_READ_COLUMNS = (
    "registered",
    "attended",
    "participant_id",
    "city",
    "sector",
    "sex",
    "age_band",
    "language",
    "mode",
    "feedback_count",
    "overall_sum",
    "overall_count",
)
"""Every fact column a windowed report reads besides ``starts_at`` and ``training_id``."""

ix_facts_window_pg = sa.Index(
    "ix_report_facts_window",
    facts.c.starts_at,
    facts.c.training_id,
    postgresql_include=list(WINDOW_READ_COLUMNS),
).ddl_if(dialect="postgresql")
"""PostgreSQL: a B-tree on the window with the read columns as payload (index-only scans)."""

ix_facts_window_sqlite = sa.Index(
    "ix_report_facts_window_cover",
    facts.c.starts_at,
    facts.c.training_id,
    *(facts.c[name] for name in WINDOW_READ_COLUMNS),
).ddl_if(dialect="sqlite")
"""SQLite has no ``INCLUDE``: the read columns go in the key so the window scan is covering."""

feedback_responses = sa.Table(
    "report_feedback_responses",
    metadata,
    sa.Column("response_id", UUIDType(), primary_key=True),
    sa.Column("registration_id", UUIDType(), nullable=False),
    sa.Column("session_id", UUIDType(), nullable=False),
    sa.Column("survey_id", UUIDType(), nullable=False),
    sa.Column("overall", sa.Integer, nullable=True),
    sa.Column("language", sa.String(8), nullable=False),
    sa.Column("has_comment", sa.Boolean, nullable=False),
    sa.Column("submitted_at", UtcDateTime(), nullable=False),
    # since v3: the invitation used (None from older producers); one response per registration
    sa.Column("invitation_id", UUIDType(), nullable=True),
)

item_answers = sa.Table(
    "report_item_answers",
    metadata,
    # The Likert answers of a counted response (one per registration), item by item.
    sa.Column("response_id", UUIDType(), primary_key=True),
    sa.Column("item", sa.String(40), primary_key=True),
    sa.Column("value", sa.Integer, nullable=False),
)

item_choices = sa.Table(
    "report_item_choices",
    metadata,
    # The chosen options of a counted response's choice items.
    sa.Column("response_id", UUIDType(), primary_key=True),
    sa.Column("item", sa.String(40), primary_key=True),
    sa.Column("option", sa.String(40), primary_key=True),
)

test_scores = sa.Table(
    "report_test_scores",
    metadata,
    sa.Column("response_id", UUIDType(), primary_key=True),
    sa.Column("participant_id", UUIDType(), nullable=False),
    sa.Column("session_id", UUIDType(), nullable=False),
    sa.Column("survey_id", UUIDType(), nullable=False),
    sa.Column("phase", sa.String(8), nullable=False),
    sa.Column("score", sa.Integer, nullable=False),
    sa.Column("max_score", sa.Integer, nullable=False),
    sa.Column("submitted_at", UtcDateTime(), nullable=False),
    # One counted test per person, session and phase (the earliest), whatever arrives later.
    sa.UniqueConstraint("participant_id", "session_id", "phase", name="ux_report_test_phase"),
)

survey_items = sa.Table(
    "report_survey_items",
    metadata,
    # Each published version's items: their kind and option keys (for distributions).
    sa.Column("survey_id", UUIDType(), primary_key=True),
    sa.Column("version", sa.Integer, primary_key=True),
    sa.Column("item", sa.String(40), primary_key=True),
    sa.Column("kind", sa.String(16), nullable=False),
    sa.Column("options", sa.JSON, nullable=False),
)

comments = sa.Table(
    "report_comments",
    metadata,
    # Unattributed free text: nothing here ties a comment to a response or a person.
    sa.Column("comment_id", UUIDType(), primary_key=True),
    sa.Column("session_id", UUIDType(), nullable=False),
    sa.Column("survey_id", UUIDType(), nullable=False),
    sa.Column("item", sa.String(40), nullable=False),
    sa.Column("text", sa.Text, nullable=False),
    sa.Column("language", sa.String(8), nullable=False),
    sa.Index("ix_report_comments_session", "session_id"),
)

EVIDENCE_TABLES: tuple[sa.Table, ...] = (
    item_answers,
    item_choices,
    test_scores,
    survey_items,
    comments,
)
"""Every answer reported: per-item answers, knowledge-test scores, comments (migration 7)."""

report_state = sa.Table(
    "report_state",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=False),
    sa.Column("generation", sa.BigInteger, nullable=False),
)

READ_MODEL_TABLES: tuple[sa.Table, ...] = (
    trainings,
    trainers,
    sessions,
    surveys,
    participants,
    participant_merges,
    facts,
    feedback_responses,
    *EVIDENCE_TABLES,
)
"""The projected tables (``report_state`` is bookkeeping, not part of the model)."""
