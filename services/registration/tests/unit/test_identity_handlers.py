"""Identity use cases over an in-memory SQLite connection: the city invariant through merges,
and rows linked across regions before matching was confined to a city."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any

import msgspec
import pytest
import sqlalchemy as sa
from sqlalchemy.engine import Connection

from trainops_devtools.testing.events import session_scheduled
from trainops_registration.adapters import identity as store
from trainops_registration.adapters.tables import participants, registrations
from trainops_registration.api import views
from trainops_registration.domain import ParticipantInput
from trainops_registration.domain.records import Registration
from trainops_registration.handlers import events, identity
from trainops_registration.handlers import registrations as reads
from trainops_registration.handlers.registering import RegisterParticipant, register_participant
from trainops_shared.auth import Principal
from trainops_shared.errors import Conflict, Forbidden, NotFound
from trainops_shared.events import ParticipantsMerged, decode_event
from trainops_shared.tables import outbox

pytestmark = pytest.mark.unit

ADMIN = Principal("dev", "admin")
ALMATY = Principal("dev", "coordinator", "almaty")
AKTOBE = Principal("dev", "coordinator", "Aktobe")  # region claims compare lower-cased


def session(conn: Connection) -> uuid.UUID:
    event = session_scheduled(capacity=5, starts_at=datetime(2021, 2, 1, 4, 0, tzinfo=UTC), hours=3)
    events.on_session_scheduled(conn, event)
    return event.session_id


def register(
    conn: Connection, sid: uuid.UUID, name: str, city: str, principal: Principal, **kw: str
) -> dict[str, Any]:
    participant = ParticipantInput(full_name=name, sector="ngo", city=city, language="ru", **kw)
    command = RegisterParticipant(session_id=sid, participant=participant)
    registered = register_participant(conn, command, principal, render=views.registration_json)
    assert isinstance(registered, Registration)
    return views.registration_json(registered)


def read(conn: Connection, registration_id: uuid.UUID, principal: Principal) -> dict[str, Any]:
    """The registration as GET /registrations/{id} answers it."""
    return views.registration_json(reads.read_registration(conn, registration_id, principal))


def city_mismatches(conn: Connection) -> int:
    """Registrations whose city is not their participant's (must stay 0)."""
    return int(
        conn.execute(
            sa.select(sa.func.count())
            .select_from(
                registrations.join(
                    participants, participants.c.participant_id == registrations.c.participant_id
                )
            )
            .where(registrations.c.city != participants.c.city)
        ).scalar_one()
    )


def test_every_registration_lies_in_its_participants_city_through_a_merge(
    conn: Connection,
) -> None:
    s1, s2 = session(conn), session(conn)
    old = register(conn, s1, "Dana Abenova", "aktobe", AKTOBE, email="dana@x.kz")
    new = register(
        conn, s2, "Dana Abenova", "almaty", ALMATY, email="dana@x.kz", phone="87010000009"
    )
    # Same e-mail, two cities: two people, each registration in its own person's city.
    assert old["participant_id"] != new["participant_id"]
    assert city_mismatches(conn) == 0
    with pytest.raises(Forbidden):  # the merge is the admin's, even below the route guard
        identity.merge_participants(
            conn,
            identity.MergeParticipants(
                keep=uuid.UUID(new["participant_id"]),
                merge=uuid.UUID(old["participant_id"]),
                reason="moved",
            ),
            ALMATY,
        )
    merged = identity.merge_participants(
        conn,
        identity.MergeParticipants(
            keep=uuid.UUID(new["participant_id"]),
            merge=uuid.UUID(old["participant_id"]),
            reason="moved",
        ),
        ADMIN,
    )
    outcome = msgspec.to_builtins(views.merge_body(merged))
    assert outcome["registrations_moved"] == 1
    assert city_mismatches(conn) == 0
    # One event in the outbox of the same transaction: the pseudonyms and the kept categories.
    rows = conn.execute(
        sa.select(outbox.c.subject, outbox.c.payload).where(
            outbox.c.subject == ParticipantsMerged.type_name()
        )
    ).all()
    assert len(rows) == 1
    event = decode_event(bytes(rows[0].payload))
    assert isinstance(event, ParticipantsMerged)
    assert (event.kept_participant_id, event.merged_participant_id) == (
        uuid.UUID(new["participant_id"]),
        uuid.UUID(old["participant_id"]),
    )
    assert (event.merge_id, event.aggregate_id) == (merged.merge_id, merged.merge_id)
    assert (event.profile.city, event.profile.sector, event.actor) == ("almaty", "ngo", "dev")
    for personal in (b"Dana", b"dana@x.kz", b"87010000009", b"moved"):
        assert personal not in bytes(rows[0].payload)
    # The merged row keeps no personal data and never matches again.
    gone = conn.execute(
        sa.select(participants).where(participants.c.participant_id == old["participant_id"])
    ).one()
    assert (gone.full_name, gone.email, gone.phone, str(gone.merged_into)) == (
        "",
        None,
        None,
        new["participant_id"],
    )
    again = register(conn, s2, "Dana Abenova", "aktobe", AKTOBE, email="dana@x.kz")
    assert again["participant_id"] not in (old["participant_id"], new["participant_id"])
    with pytest.raises(NotFound):  # aktobe no longer reaches the moved registration
        read(conn, uuid.UUID(old["id"]), AKTOBE)
    assert read(conn, uuid.UUID(old["id"]), ALMATY)["city"] == "almaty"


def test_a_link_across_regions_from_before_v3_discloses_nothing(conn: Connection) -> None:
    """Rows as the old matching could leave them: an almaty registration of an aktobe person."""
    sid = session(conn)
    theirs = register(conn, sid, "Bolat Serikov", "aktobe", AKTOBE, email="bolat@x.kz")
    legacy_id = uuid.uuid4()
    row = conn.execute(
        sa.select(registrations).where(registrations.c.registration_id == theirs["id"])
    ).one()
    values = dict(row._mapping)
    values.update(registration_id=str(legacy_id), city="almaty", session_id=str(session(conn)))
    conn.execute(registrations.insert().values(**values))

    shown = read(conn, legacy_id, ALMATY)
    assert "participant" not in shown  # the registration is almaty's, the person is not
    listed = msgspec.to_builtins(
        views.registration_page(
            reads.read_registrations(conn, ALMATY, session_id=None, status=None, limit=10, offset=0)
        )
    )
    assert [i["id"] for i in listed["items"]] == [str(legacy_id)]
    assert "participant" not in listed["items"][0]
    assert read(conn, legacy_id, ADMIN)["participant"]["full_name"] == ("Bolat Serikov")
    # aktobe registering their own person again for the legacy registration's session: a 409
    # that does not name almaty's registration.
    with pytest.raises(Conflict) as info:
        register(conn, uuid.UUID(values["session_id"]), "Bolat Serikov", "aktobe", AKTOBE)
    assert "registration_id" not in info.value.extra
    assert str(legacy_id) not in info.value.detail


def test_flags_are_region_scoped_in_the_queries(conn: Connection) -> None:
    sid = session(conn)
    mine = register(conn, sid, "Aliya Akhmetova", "almaty", ALMATY)
    theirs = register(conn, sid, "Bolat Serikov", "aktobe", AKTOBE)
    flag = msgspec.to_builtins(
        views.flag_body(
            identity.flag_duplicate(
                conn,
                identity.FlagDuplicate(participant_id=uuid.UUID(mine["participant_id"]), note="n"),
                ALMATY,
            )
        )
    )
    assert flag["city"] == "almaty"
    with pytest.raises(NotFound):
        identity.flag_duplicate(
            conn,
            identity.FlagDuplicate(participant_id=uuid.UUID(theirs["participant_id"]), note="n"),
            ALMATY,
        )
    assert store.get_flag(conn, uuid.UUID(flag["flag_id"]), AKTOBE) is None
    stored = store.get_flag(conn, uuid.UUID(flag["flag_id"]), ALMATY)
    assert stored is not None and msgspec.to_builtins(views.flag_body(stored)) == flag
    assert identity.read_flags(conn, AKTOBE, status=None, limit=10, offset=0).total == 0
    assert store.participant_summaries(conn, AKTOBE, [uuid.UUID(mine["participant_id"])]) == {}
