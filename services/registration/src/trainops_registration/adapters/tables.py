"""The registration service's tables (their versioned migrations: :mod:`.migrations`).

Personal data (name, e-mail, phone, organisation) lives only in ``participants``, sealed with
the person's own key (``person_keys``; see :mod:`.personal_data`); everything else refers to a
person by the pseudonymous ``participant_id``. ``sessions`` is this service's
own copy of scheduling's sessions, built from events (it never calls scheduling), with the
``version`` of the last scheduling event applied so that late redeliveries never roll it back.
"""

from __future__ import annotations

import sqlalchemy as sa

from trainops_shared.columns import UtcDateTime, UUIDType

metadata = sa.MetaData()

_UUID = UUIDType()
_Time = UtcDateTime()

sessions = sa.Table(
    "sessions",
    metadata,
    sa.Column("session_id", _UUID, primary_key=True),
    sa.Column("training_id", _UUID, nullable=False),
    sa.Column("mode", sa.String(16), nullable=False),
    sa.Column("cities", sa.JSON, nullable=False),
    sa.Column("timezone", sa.String(64), nullable=False),
    sa.Column("starts_at", _Time, nullable=False),
    sa.Column("ends_at", _Time, nullable=False),
    sa.Column("capacity", sa.Integer, nullable=False),
    sa.Column("language", sa.String(8), nullable=False),
    sa.Column("status", sa.String(16), nullable=False),
    sa.Column("version", sa.Integer, nullable=False),
    sa.Column("updated_at", _Time, nullable=False),
    # Seat counters of the session's registrations, kept in the same transaction as every status
    # change (register, cancel, promote, cascade cancel), so that deciding "confirmed or
    # waitlisted" reads one locked row instead of counting a session's registrations each time.
    # Waitlist positions stay 1..n (every exit closes the gap), so the last position is the
    # number waiting; both are kept because the seat rules speak of the last position.
    sa.Column("confirmed_count", sa.Integer, nullable=False, server_default="0"),
    sa.Column("waitlisted_count", sa.Integer, nullable=False, server_default="0"),
    sa.Column("last_waitlist_position", sa.Integer, nullable=False, server_default="0"),
    # Scheduling's seat quotas of the session (SeatQuota objects); NULL: none.
    sa.Column("quotas", sa.JSON, nullable=True),
)

PER_CITY_UNIQUE = tuple(
    sa.Index(
        f"ux_participants_{column}_city",
        column,
        "city",
        unique=True,
        sqlite_where=sa.text(f"{column} IS NOT NULL"),
        postgresql_where=sa.text(f"{column} IS NOT NULL"),
    )
    for column in ("email_index", "phone_index")
)

trainings = sa.Table(
    "trainings",
    metadata,
    # The programme's trainings as scheduling defined them: only their names, so that the
    # coordinators' pages say which training a session is of.
    sa.Column("training_id", _UUID, primary_key=True),
    sa.Column("code", sa.String(64), nullable=False),
    sa.Column("title", sa.JSON, nullable=False),
)

participants = sa.Table(
    "participants",
    metadata,
    sa.Column("participant_id", _UUID, primary_key=True),
    # The personal fields hold values sealed with the person's key (``person_keys``): text
    # of any length, opened only in the adapters. ``name_key`` is the normalised name.
    sa.Column("full_name", sa.Text, nullable=False),
    sa.Column("name_key", sa.Text, nullable=False),
    sa.Column("email", sa.Text, nullable=True),
    sa.Column("phone", sa.Text, nullable=True),
    sa.Column("organisation", sa.Text, nullable=True),
    # Blind index (keyed HMAC) of the normalised e-mail, phone and name: equality lookups for
    # duplicate matching without opening rows; cleared when the person is erased.
    sa.Column("email_index", sa.String(64), nullable=True),
    sa.Column("phone_index", sa.String(64), nullable=True),
    sa.Column("name_index", sa.String(64), nullable=True),
    sa.Column("city", sa.String(64), nullable=False),
    sa.Column("sector", sa.String(16), nullable=False),
    sa.Column("sex", sa.String(16), nullable=False),
    sa.Column("age_band", sa.String(16), nullable=False),
    sa.Column("language", sa.String(8), nullable=False),
    sa.Column("created_at", _Time, nullable=False),
    sa.Column("updated_at", _Time, nullable=False),
    # Set when an admin merged this participant into another (``participant_merges``): the
    # row stays as the target of old references, without personal data, and never matches.
    sa.Column("merged_into", _UUID, nullable=True),
    # Set when the person's personal data was erased (on request or by retention): their key
    # is destroyed, the row keeps the pseudonymous id and categories only.
    sa.Column("erased_at", _Time, nullable=True),
    # One person per e-mail and per phone *within a city*: concurrent first registrations of the
    # same person (two clicks at once) cannot create two participant ids, and a person of
    # another city with the same e-mail neither blocks nor reveals anything (identity matching
    # never leaves the city; see docs/identity-matching.md). E-mail/phone lead so that the
    # matching query's ``email_index = :e AND city = :c`` branches each use one index.
    *PER_CITY_UNIQUE,
    sa.Index("ix_participants_name_index_city", "name_index", "city"),
)

person_keys = sa.Table(
    "person_keys",
    metadata,
    # Each participant's own data key, wrapped by the installation key. Deleting the row is
    # the erasure: the person's sealed fields can never be opened again.
    sa.Column("participant_id", _UUID, primary_key=True),
    sa.Column("wrapped_key", sa.LargeBinary, nullable=False),
    sa.Column("created_at", _Time, nullable=False),
)

consents = sa.Table(
    "consents",
    metadata,
    # What a person agreed their data may be used for, per purpose (``taking_part``,
    # ``future_trainings``, ...): granted when registering, withdrawn by them or for them.
    sa.Column("participant_id", _UUID, primary_key=True),
    sa.Column("purpose", sa.String(32), primary_key=True),
    sa.Column("granted_at", _Time, nullable=False),
    sa.Column("withdrawn_at", _Time, nullable=True),
    # Who recorded the last change: ``registration`` form/API, ``participant`` (self-service),
    # ``staff`` (a coordinator or admin on the person's behalf).
    sa.Column("source", sa.String(16), nullable=False),
)

registrations = sa.Table(
    "registrations",
    metadata,
    sa.Column("registration_id", _UUID, primary_key=True),
    sa.Column("session_id", _UUID, nullable=False),
    sa.Column("participant_id", _UUID, nullable=False),
    # The region the registration belongs to (the participant's city when registered): every
    # coordinator query filters on it, so it is a column of its own rather than a join.
    sa.Column("city", sa.String(64), nullable=False),
    sa.Column("sector", sa.String(16), nullable=False),
    sa.Column("sex", sa.String(16), nullable=False),
    sa.Column("age_band", sa.String(16), nullable=False),
    sa.Column("language", sa.String(8), nullable=False),
    sa.Column("status", sa.String(16), nullable=False),
    sa.Column("waitlist_position", sa.Integer, nullable=True),
    sa.Column("attended", sa.Boolean, nullable=True),
    sa.Column("cancel_cause", sa.String(32), nullable=True),
    sa.Column("version", sa.Integer, nullable=False),
    sa.Column("created_by", sa.String(200), nullable=False),
    sa.Column("created_at", _Time, nullable=False),
    sa.Column("updated_at", _Time, nullable=False),
    # Seat counting and waitlist order of one session.
    sa.Index("ix_registrations_session_status", "session_id", "status", "waitlist_position"),
    # Listing a region's registrations, newest first.
    sa.Index("ix_registrations_city_created", "city", "created_at"),
    # At most one live registration of a person per session (the duplicate 409's safety net).
    sa.Index(
        "ux_registrations_live",
        "participant_id",
        "session_id",
        unique=True,
        sqlite_where=sa.text("status <> 'cancelled'"),
        postgresql_where=sa.text("status <> 'cancelled'"),
    ),
)

idempotency_keys = sa.Table(
    "idempotency_keys",
    metadata,
    # A key belongs to the principal that sent it and to the route it was sent to: the token's
    # subject alone is not a principal (every development token says "dev"), so its role and
    # region are part of the key too ("" for a principal without a region).
    sa.Column("subject", sa.String(200), primary_key=True),
    sa.Column("role", sa.String(32), primary_key=True),
    sa.Column("region", sa.String(64), primary_key=True),
    sa.Column("route", sa.String(100), primary_key=True),
    sa.Column("key", sa.String(200), primary_key=True),
    sa.Column("request_hash", sa.String(64), nullable=False),
    sa.Column("status_code", sa.Integer, nullable=False),
    sa.Column("response", sa.JSON, nullable=False),
    sa.Column("created_at", _Time, nullable=False),
)


duplicate_flags = sa.Table(
    "duplicate_flags",
    metadata,
    sa.Column("flag_id", _UUID, primary_key=True),
    sa.Column("participant_id", _UUID, nullable=False),
    # The flagged participant's city when flagged: the region column every query filters on.
    sa.Column("city", sa.String(64), nullable=False),
    # Optionally a second participant the flagger may see (their own region) it may duplicate.
    sa.Column("possible_duplicate_of", _UUID, nullable=True),
    # Sealed with the flagged participant's key (it may name them): see personal_data.
    sa.Column("note", sa.Text, nullable=False),
    sa.Column("status", sa.String(16), nullable=False),  # open | resolved
    sa.Column("flagged_by", sa.String(200), nullable=False),
    sa.Column("flagged_by_role", sa.String(32), nullable=False),
    sa.Column("created_at", _Time, nullable=False),
    sa.Column("resolved_by_merge", _UUID, nullable=True),
    sa.Index("ix_duplicate_flags_city_status", "city", "status", "created_at"),
    sa.Index("ix_duplicate_flags_participant", "participant_id"),
)

participant_merges = sa.Table(
    "participant_merges",
    metadata,
    # The audit record of a merge: who, when, which ids, why. Ids and cities in clear; the
    # reason, free text that may name the person, sealed with the kept participant's key, so
    # the record can be kept as long as the audit needs it and an erasure still takes the name.
    sa.Column("merge_id", _UUID, primary_key=True),
    sa.Column("kept_participant_id", _UUID, nullable=False),
    sa.Column("merged_participant_id", _UUID, nullable=False, unique=True),
    sa.Column("kept_city", sa.String(64), nullable=False),
    sa.Column("merged_city", sa.String(64), nullable=False),
    sa.Column("reason", sa.Text, nullable=False),
    sa.Column("merged_by", sa.String(200), nullable=False),
    sa.Column("merged_by_role", sa.String(32), nullable=False),
    sa.Column("merged_by_region", sa.String(64), nullable=True),
    sa.Column("merged_at", _Time, nullable=False),
    sa.Column("registrations_moved", sa.Integer, nullable=False),
    sa.Column("flags_resolved", sa.Integer, nullable=False),
    sa.Index("ix_participant_merges_at", "merged_at"),
)

checkin_codes = sa.Table(
    "checkin_codes",
    metadata,
    # A registration's check-in code (the QR of the attendance list, the participant's join
    # link) as its SHA-256 only: the code itself is derived from REGISTRATION_LINK_KEY when a
    # page shows it, so a dump of this table opens nothing.
    sa.Column("code_hash", sa.String(64), primary_key=True),
    sa.Column("registration_id", _UUID, nullable=False, unique=True),
    sa.Column("created_at", _Time, nullable=False),
)

session_meetings = sa.Table(
    "session_meetings",
    metadata,
    # The meeting address of an online session, set by its coordinators here: it may carry the
    # meeting's passcode, so it stays in this service (no event carries it) and the participants'
    # join links redirect to it.
    sa.Column("session_id", _UUID, primary_key=True),
    sa.Column("url", sa.String(1000), nullable=False),
    sa.Column("updated_at", _Time, nullable=False),
)

participant_feeds = sa.Table(
    "participant_feeds",
    metadata,
    # A participant's calendar feed: its URL's token derives from REGISTRATION_LINK_KEY and the
    # generation; only its hash is kept, NULL once revoked. A new feed is the next generation, so
    # an old URL never works again.
    sa.Column("participant_id", _UUID, primary_key=True),
    sa.Column("generation", sa.Integer, nullable=False),
    sa.Column("token_hash", sa.String(64), nullable=True, unique=True),
    sa.Column("updated_at", _Time, nullable=False),
)
