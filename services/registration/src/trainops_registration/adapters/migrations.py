"""The registration service's schema versions, applied in order at start-up.

v1 is ``create_all`` of the current tables, so on a fresh database every later step finds
nothing to do; on an older database each step brings it forward without losing a row.
"""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from trainops_registration.adapters import personal_data
from trainops_registration.adapters.consent_links import consent_links
from trainops_registration.adapters.followups import FOLLOWUP_TABLES
from trainops_registration.adapters.links import registration_links
from trainops_registration.adapters.outbox import message_outbox
from trainops_registration.adapters.tables import (
    checkin_codes,
    consents,
    duplicate_flags,
    idempotency_keys,
    metadata,
    participant_feeds,
    participant_merges,
    participants,
    person_keys,
    registrations,
    session_meetings,
    sessions,
    trainings,
)
from trainops_registration.domain.participant import name_key
from trainops_shared.columns import convert_string_uuid_columns
from trainops_shared.storage import Migration, MigrationSet
from trainops_shared.text_repair import TextColumn, repair_text_columns


def _create_v1(conn: Connection) -> None:
    metadata.create_all(conn)


_SEAT_COUNTERS = ("confirmed_count", "waitlisted_count", "last_waitlist_position")


def _seat_counters_v2(conn: Connection) -> None:
    """Add the seat counters to ``sessions`` (if v1 predates them) and fill them from the rows.

    v1 is ``create_all`` of the current tables, so on a fresh database the columns exist
    already; on a database created before v2 they are added here. Either way the backfill makes
    them agree with the registrations (a no-op on a fresh database).
    """
    present = {c["name"] for c in sa.inspect(conn).get_columns("sessions")}
    for name in _SEAT_COUNTERS:
        if name not in present:
            conn.exec_driver_sql(
                f"ALTER TABLE sessions ADD COLUMN {name} INTEGER NOT NULL DEFAULT 0"
            )
    r = registrations.c

    def count(status: str) -> sa.ScalarSelect[int]:
        return (
            sa.select(sa.func.count())
            .where(r.session_id == sessions.c.session_id, r.status == status)
            .scalar_subquery()
        )

    last = (
        sa.select(sa.func.coalesce(sa.func.max(r.waitlist_position), 0))
        .where(r.session_id == sessions.c.session_id, r.status == "waitlisted")
        .scalar_subquery()
    )
    conn.execute(
        sessions.update().values(
            confirmed_count=count("confirmed"),
            waitlisted_count=count("waitlisted"),
            last_waitlist_position=last,
        )
    )


def _identity_v3(conn: Connection) -> None:
    """Identity within a city, flags and merges, idempotency keys per principal and route.

    v1 is ``create_all`` of the current tables, so on a fresh database all of this exists
    already and every step below finds nothing to do. On a database from before v3:

    * the global unique indexes on e-mail and phone become per-city ones (globally unique
      values are unique per city too, so this cannot fail);
    * ``participants.merged_into`` is added, and the flag and merge tables are created;
    * ``idempotency_keys`` is recreated with the principal's role and region and the route in
      its key. Stored keys are not carried over: they do not say which role and region sent
      them, and answering them to anyone but their sender is what this migration ends. A retry
      of a request sent before the upgrade is then a fresh request (same person and session:
      a 409 naming the first registration, in the sender's own region).
    """
    inspector = sa.inspect(conn)
    for name in ("ux_participants_email", "ux_participants_phone"):
        conn.exec_driver_sql(f"DROP INDEX IF EXISTS {name}")
    if "merged_into" not in {c["name"] for c in inspector.get_columns("participants")}:
        conn.exec_driver_sql("ALTER TABLE participants ADD COLUMN merged_into VARCHAR(36)")
    for column in ("email", "phone"):
        # The per-city indexes as v3 made them, on the plaintext columns (v11 moves them to the
        # blind index); raw SQL because the table definition has moved on.
        conn.exec_driver_sql(
            f"CREATE UNIQUE INDEX IF NOT EXISTS ux_participants_{column}_city "
            f"ON participants ({column}, city) WHERE {column} IS NOT NULL"
        )
    duplicate_flags.create(conn, checkfirst=True)
    participant_merges.create(conn, checkfirst=True)
    if "route" not in {c["name"] for c in inspector.get_columns("idempotency_keys")}:
        conn.exec_driver_sql("DROP TABLE idempotency_keys")
        idempotency_keys.create(conn)


UUID_COLUMNS = (
    ("sessions", "session_id"),
    ("sessions", "training_id"),
    ("participants", "participant_id"),
    ("participants", "merged_into"),
    ("registrations", "registration_id"),
    ("registrations", "session_id"),
    ("registrations", "participant_id"),
    ("duplicate_flags", "flag_id"),
    ("duplicate_flags", "participant_id"),
    ("duplicate_flags", "possible_duplicate_of"),
    ("duplicate_flags", "resolved_by_merge"),
    ("participant_merges", "merge_id"),
    ("participant_merges", "kept_participant_id"),
    ("participant_merges", "merged_participant_id"),
)
"""Every identifier column: ``String(36)`` text until v4, ``UUIDType`` storage from then on."""


def _uuid_columns_v4(conn: Connection) -> None:
    """Identifiers from 36-character text to the shared UUID column type, rows kept.

    PostgreSQL converts each column to the native ``uuid`` type (a value that is not a UUID
    fails the migration, which rolls back whole); SQLite rewrites the text to the 32 hex
    digits ``sa.Uuid`` stores there. No foreign key joins these columns, so none is dropped.
    On a fresh database the columns already have the new type and hold nothing to rewrite.
    """
    convert_string_uuid_columns(conn, UUID_COLUMNS)


def _message_outbox_v5(conn: Connection) -> None:
    """The message outbox (participants' mail, decided with its cause); nothing to backfill:
    registrations made before it were never promised a message. On a fresh database v1 made
    it already."""
    message_outbox.create(conn, checkfirst=True)


def _trainings_v6(conn: Connection) -> None:
    """The trainings' names. Definitions published before it were skipped by this service, so
    their sessions show the training's short id instead of its name."""
    trainings.create(conn, checkfirst=True)


def _clean_text_v7(conn: Connection) -> None:
    """Names, organisations and training titles stored before control and bidi characters were
    refused lose those characters (``trainops_shared.text_repair``); a name's search key is
    recomputed with it, so matching sees the name as it now reads. Only counts are logged."""
    repair_text_columns(
        conn,
        participants,
        "participant_id",
        (
            TextColumn("full_name", collapse=True),
            TextColumn("organisation", collapse=True, nullable=True),
        ),
        derive=lambda changes: (
            {"name_key": name_key(changes["full_name"])} if "full_name" in changes else {}
        ),
    )
    repair_text_columns(conn, trainings, "training_id", (TextColumn("title", json_texts=True),))


def _followups_v9(conn: Connection) -> None:
    """Feedback links, who answered, certificates. Sessions completed before it get no
    invitation mail (their links were handed out by hand); attendances recorded after it do."""
    for table in FOLLOWUP_TABLES:
        table.create(conn, checkfirst=True)


_SEALED_COLUMNS = {"full_name", "name_key", "email", "phone", "organisation"}


def _seal_personal_data_v11(conn: Connection) -> None:
    """Seal every participant's personal fields with a key of their own (crypto-shredding).

    On an older database: the blind-index, ``erased_at`` columns and the key and consent
    tables are added; each live row gets a person key, its fields are replaced by their sealed
    values and its blind index filled; merged-away rows (already empty) get neither. Everyone
    registered before consent was asked agreed to taking part by registering, and to nothing
    more. The plaintext indexes go (their entries held e-mails and phones). On PostgreSQL the
    personal columns become TEXT (sealed values are longer than the old limits); SQLite's
    ``secure_delete`` (set on every connection) zeroes the plaintext the rewrite frees, and on
    PostgreSQL a ``VACUUM`` after the upgrade clears the dead tuples.
    """
    present = {c["name"] for c in sa.inspect(conn).get_columns("participants")}
    for name, ddl in (
        ("email_index", "VARCHAR(64)"),
        ("phone_index", "VARCHAR(64)"),
        ("name_index", "VARCHAR(64)"),
        ("erased_at", "TIMESTAMP WITH TIME ZONE" if conn.dialect.name != "sqlite" else "DATETIME"),
    ):
        if name not in present:
            conn.exec_driver_sql(f"ALTER TABLE participants ADD COLUMN {name} {ddl}")
    for legacy in (
        "ux_participants_email_city",
        "ux_participants_phone_city",
        "ix_participants_name_key_city",
    ):
        conn.exec_driver_sql(f"DROP INDEX IF EXISTS {legacy}")
    if conn.dialect.name == "postgresql":
        for column in sorted(_SEALED_COLUMNS):
            conn.exec_driver_sql(f"ALTER TABLE participants ALTER COLUMN {column} TYPE TEXT")
    person_keys.create(conn, checkfirst=True)
    consents.create(conn, checkfirst=True)
    p, k = participants.c, person_keys.c
    rows = conn.execute(
        sa.select(participants)
        .outerjoin(person_keys, k.participant_id == p.participant_id)
        .where(p.merged_into.is_(None), p.erased_at.is_(None), k.participant_id.is_(None))
    ).mappings()
    for row in list(rows):
        pid = row["participant_id"]
        cipher = personal_data.create_person_key(conn, pid, row["updated_at"])
        conn.execute(
            participants.update()
            .where(p.participant_id == pid)
            .values(
                personal_data.sealed_values(
                    cipher, {field: row[field] for field in personal_data.PERSONAL_FIELDS}
                )
            )
        )
        conn.execute(
            consents.insert().values(
                participant_id=pid,
                purpose="taking_part",
                granted_at=row["created_at"],
                source="registration",
            )
        )
    for index in participants.indexes:
        index.create(conn, checkfirst=True)


def _session_changes_v8(conn: Connection) -> None:
    """Messages about a changed session and the participant's own links.

    ``message_outbox`` gets ``alternative_session_id`` and its one-per-cause index widens to
    (registration, kind, session version): a session moved twice tells its people twice. The
    old index's rows are unique under the new one as well, so this cannot fail. The links
    table is new (links exist only in messages rendered from now on). On a fresh database v1
    made all of it already.
    """
    columns = {c["name"] for c in sa.inspect(conn).get_columns("message_outbox")}
    if "alternative_session_id" not in columns:
        kind = message_outbox.c.alternative_session_id.type.compile(dialect=conn.dialect)
        conn.exec_driver_sql(f"ALTER TABLE message_outbox ADD COLUMN alternative_session_id {kind}")
    conn.exec_driver_sql("DROP INDEX IF EXISTS ux_message_outbox_cause")
    for index in message_outbox.indexes:
        if index.name == "ux_message_outbox_cause_seq":
            index.create(conn, checkfirst=True)
    registration_links.create(conn, checkfirst=True)


def _quotas_and_checkin_v10(conn: Connection) -> None:
    """The sessions' seat quotas from scheduling's events (sessions heard of before have none:
    scheduling had none to send), the check-in codes' hashes (made when a list shows them) and
    the online sessions' meeting addresses, the participants' calendar feeds. On a fresh
    database v1 made them all already."""
    if "quotas" not in {c["name"] for c in sa.inspect(conn).get_columns("sessions")}:
        conn.exec_driver_sql("ALTER TABLE sessions ADD COLUMN quotas JSON")
    checkin_codes.create(conn, checkfirst=True)
    session_meetings.create(conn, checkfirst=True)
    participant_feeds.create(conn, checkfirst=True)


def _seal_staff_text_v13(conn: Connection) -> None:
    """Seal the staff's free text about a person: a duplicate flag's note with the flagged
    participant's key, a merge's reason with the kept participant's key (either may name the
    person, so an erasure has to take it too). A text whose person's key is gone already
    (erased, merged away) is emptied: it could be opened by nobody but the database's reader.
    On PostgreSQL both columns become TEXT (sealed text is longer than the old limit)."""
    if conn.dialect.name == "postgresql":
        conn.exec_driver_sql("ALTER TABLE duplicate_flags ALTER COLUMN note TYPE TEXT")
        conn.exec_driver_sql("ALTER TABLE participant_merges ALTER COLUMN reason TYPE TEXT")
    for table, id_column, owner_column, text_column in (
        (duplicate_flags, "flag_id", "participant_id", "note"),
        (participant_merges, "merge_id", "kept_participant_id", "reason"),
    ):
        c = table.c
        rows = conn.execute(sa.select(c[id_column], c[owner_column], c[text_column])).all()
        plain = [r for r in rows if not personal_data.is_sealed(r[2])]
        ciphers = personal_data.ciphers_for(conn, (r[1] for r in plain))
        for row_id, owner, text in plain:
            conn.execute(
                table.update()
                .where(c[id_column] == row_id)
                .values(
                    {
                        text_column: personal_data.seal_text(
                            ciphers.get(owner), f"{table.name}.{text_column}", row_id, text
                        )
                    }
                )
            )


def _consent_links_v15(conn: Connection) -> None:
    """The consent links' hashes (links exist only in mails composed from now on); a fresh
    database made the table in v1 already."""
    consent_links.create(conn, checkfirst=True)


MIGRATIONS = MigrationSet(
    "registration",
    (
        Migration(1, "sessions copy, participants, registrations, idempotency keys", _create_v1),
        Migration(2, "seat counters on the sessions copy, backfilled", _seat_counters_v2),
        Migration(
            3,
            "identity per city, duplicate flags, merge audit, idempotency keys per principal",
            _identity_v3,
        ),
        Migration(4, "identifier columns as the shared UUID type", _uuid_columns_v4),
        Migration(5, "message outbox of participants' mail", _message_outbox_v5),
        Migration(6, "the trainings' names, from scheduling's definitions", _trainings_v6),
        Migration(7, "control and bidi characters out of stored names and titles", _clean_text_v7),
        Migration(
            8, "messages about changed sessions, participants' own links", _session_changes_v8
        ),
        Migration(9, "feedback links, answers and certificates", _followups_v9),
        Migration(
            10, "seat quotas, check-in codes, meeting addresses, feeds", _quotas_and_checkin_v10
        ),
        Migration(
            11,
            "personal data sealed per person, blind index, person keys, consents",
            _seal_personal_data_v11,
        ),
        Migration(
            13, "staff's notes and merge reasons sealed with the person's key", _seal_staff_text_v13
        ),
        Migration(15, "participants' consent links", _consent_links_v15),
    ),
)
