"""The personal-data lifecycle at the handler level: consents recorded and withdrawn, the
sealed fields, erasure and its reach, subject access, retention on a fake clock, and the
audit entries, none of which holds the person's data."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from sqlalchemy.engine import Connection

from trainops_devtools.testing.events import session_scheduled
from trainops_registration.adapters import outbox, people, personal_data
from trainops_registration.adapters.tables import (
    consents,
    duplicate_flags,
    participant_merges,
    participants,
    person_keys,
)
from trainops_registration.api import views
from trainops_registration.app import build_spec
from trainops_registration.domain import ParticipantInput
from trainops_registration.domain.consent import configured_purposes
from trainops_registration.domain.records import Registration
from trainops_registration.handlers import events, identity, lifecycle
from trainops_registration.handlers import people as people_handlers
from trainops_registration.handlers.registering import RegisterParticipant, register_participant
from trainops_shared.audit import AuditQuery, list_audit
from trainops_shared.auth import Principal
from trainops_shared.errors import Conflict, Invalid, NotFound
from trainops_shared.settings import SettingsError, load_settings

pytestmark = pytest.mark.unit

ADMIN = Principal("admin-1", "admin")
ALMATY = Principal("coord-1", "coordinator", "almaty")
AKTOBE = Principal("coord-2", "coordinator", "aktobe")
STARTS = datetime(2021, 2, 1, 4, 0, tzinfo=UTC)
NAME, EMAIL, PHONE = "Zhanar Kanareykina", "zhanar.k@example.kz", "+77015550123"


def session(conn: Connection, starts_at: datetime = STARTS) -> uuid.UUID:
    event = session_scheduled(capacity=5, starts_at=starts_at, hours=3)
    events.on_session_scheduled(conn, event)
    return event.session_id


def register(
    conn: Connection,
    sid: uuid.UUID,
    *,
    name: str = NAME,
    email: str | None = EMAIL,
    phone: str | None = PHONE,
    consents: tuple[str, ...] | None = None,
    principal: Principal = ALMATY,
) -> Registration:
    participant = ParticipantInput(
        full_name=name,
        sector="ngo",
        city="almaty",
        language="ru",
        email=email,
        phone=phone,
        organisation="Kanareyka Media",
    )
    command = RegisterParticipant(session_id=sid, participant=participant, consents=consents)
    registered = register_participant(conn, command, principal, render=views.registration_json)
    assert isinstance(registered, Registration)
    return registered


def raw_participant(conn: Connection, pid: uuid.UUID) -> dict[str, Any]:
    row = conn.execute(sa.select(participants).where(participants.c.participant_id == pid))
    return dict(row.mappings().one())


def purposes(conn: Connection, pid: uuid.UUID) -> dict[str, bool]:
    rows = conn.execute(
        sa.select(consents.c.purpose, consents.c.withdrawn_at).where(
            consents.c.participant_id == pid
        )
    ).all()
    return {purpose: withdrawn is None for purpose, withdrawn in rows}


def audit_entries(conn: Connection) -> list[Any]:
    return list_audit(conn, AuditQuery(limit=1000))


def test_personal_fields_are_stored_sealed_and_read_back_opened(conn: Connection) -> None:
    registered = register(conn, session(conn))
    stored = raw_participant(conn, registered.participant_id)
    text = repr(stored).casefold()
    for value in (NAME, EMAIL, PHONE, "kanareyka media", "zhanar kanareykina"):
        assert value.casefold() not in text
    assert stored["email_index"] == personal_data.keyring().blind("email", EMAIL)
    person = people.get_person(conn, registered.participant_id, ALMATY)
    assert person is not None
    assert (person.full_name, person.email, person.phone) == (NAME, EMAIL, PHONE)
    # A sealed value copied into another column does not open there.
    cipher = personal_data.cipher_for(conn, registered.participant_id)
    assert cipher is not None
    with pytest.raises(ValueError, match="does not open"):
        cipher.open("full_name", stored["email"])


def test_search_and_matching_work_on_sealed_rows(conn: Connection) -> None:
    sid = session(conn)
    registered = register(conn, sid)
    for query in ("kanareykina", "ZHANAR", "zhanar.k@", "87015550123", "5550123"):
        found = people_handlers.search_people(conn, ALMATY, query=query)
        assert [p.participant_id for p in found] == [registered.participant_id], query
    assert people_handlers.search_people(conn, AKTOBE, query="kanareykina") == []
    # The same e-mail again is the same person (matched through the blind index).
    with pytest.raises(Conflict):
        register(conn, sid, name="Someone Else", phone=None)


def test_consent_defaults_to_taking_part_and_records_what_was_ticked(conn: Connection) -> None:
    sid = session(conn)
    first = register(conn, sid)
    assert purposes(conn, first.participant_id) == {"taking_part": True}
    second = register(
        conn,
        sid,
        name="Aruzhan Bekova",
        email="a.bekova@example.kz",
        phone=None,
        consents=("taking_part", "future_trainings"),
    )
    assert purposes(conn, second.participant_id) == {"taking_part": True, "future_trainings": True}


@pytest.mark.parametrize(
    ("requested", "field"),
    [(("future_trainings",), "consents"), (("taking_part", "photos"), "consents[1]")],
)
def test_a_bad_consent_is_refused_naming_it_and_nothing_is_stored(
    conn: Connection, requested: tuple[str, ...], field: str
) -> None:
    sid = session(conn)
    with pytest.raises(Invalid) as refused:
        register(conn, sid, consents=requested)
    assert refused.value.field == field
    assert conn.execute(sa.select(sa.func.count()).select_from(participants)).scalar_one() == 0


def test_configured_purposes_always_include_taking_part() -> None:
    assert configured_purposes("future_trainings") == ("taking_part", "future_trainings")
    assert configured_purposes("") == ("taking_part", "future_trainings")
    with pytest.raises(ValueError, match="unknown purpose 'photos'"):
        configured_purposes("photos")


def test_withdrawing_a_consent_is_audited_and_taking_part_cannot_be(conn: Connection) -> None:
    sid = session(conn)
    pid = register(conn, sid, consents=("taking_part", "future_trainings")).participant_id
    offered = configured_purposes("")
    command = lifecycle.WithdrawConsent(pid, "future_trainings", offered)
    with pytest.raises(NotFound):
        lifecycle.withdraw_consent(conn, command, AKTOBE)
    after = lifecycle.withdraw_consent(conn, command, ALMATY)
    assert {c.purpose: c.withdrawn_at is not None for c in after} == {
        "future_trainings": True,
        "taking_part": False,
    }
    with pytest.raises(Conflict):
        lifecycle.withdraw_consent(
            conn, lifecycle.WithdrawConsent(pid, "taking_part", offered), ALMATY
        )
    withdrawn = [e for e in audit_entries(conn) if e.action == "participant.consent_withdrawn"]
    assert [(e.record_id, e.detail) for e in withdrawn] == [
        (str(pid), {"purpose": "future_trainings"})
    ]


def test_the_outbox_holds_back_a_message_without_consent(conn: Connection) -> None:
    registered = register(conn, session(conn))
    message_id = conn.execute(sa.select(outbox.message_outbox.c.message_id)).scalar_one()
    assert outbox.purpose_withheld(conn, message_id) is None
    conn.execute(
        consents.update()
        .where(consents.c.participant_id == registered.participant_id)
        .values(withdrawn_at=STARTS)
    )
    assert outbox.purpose_withheld(conn, message_id) == "taking_part"
    outbox.mark_no_consent(conn, message_id, "taking_part")
    assert outbox.message_counts(conn) == {"no_consent": 1}


def test_erasure_shreds_the_person_and_keeps_the_registration(conn: Connection) -> None:
    sid = session(conn)
    registered = register(conn, sid)
    pid = registered.participant_id
    with pytest.raises(NotFound):
        lifecycle.erase_participant(conn, pid, AKTOBE)
    assert people.get_person(conn, pid, ADMIN) is not None
    lifecycle.erase_participant(conn, pid, ALMATY)
    stored = raw_participant(conn, pid)
    assert stored["erased_at"] is not None
    assert all(stored[c] in (None, "") for c in personal_data.PERSONAL_FIELDS)
    assert {stored[c] for c in personal_data.BLIND_INDEXED.values()} == {None}
    keys = sa.select(sa.func.count()).select_from(person_keys)
    assert conn.execute(keys.where(person_keys.c.participant_id == pid)).scalar_one() == 0
    # The pseudonymous id and categories stay with the registration: counts do not move.
    assert (stored["city"], stored["sector"]) == ("almaty", "ngo")
    kept = people.registrations_of(conn, pid, ADMIN)
    assert [r.registration_id for r in kept] == [registered.registration_id]
    assert kept[0].status == "confirmed"
    # Nothing is left to find, export or erase again; the message cannot be addressed.
    assert people.get_person(conn, pid, ADMIN) is None
    assert people_handlers.search_people(conn, ADMIN, query="kanareykina") == []
    for action in (lifecycle.erase_participant, lifecycle.export_participant):
        with pytest.raises(NotFound):
            action(conn, pid, ADMIN)
    message_id = conn.execute(sa.select(outbox.message_outbox.c.message_id)).scalar_one()
    assert outbox.message_facts(conn, message_id, "noreply@example.org") is None
    # The same person registering again is a new participant id (nothing matched).
    again = register(conn, session(conn))
    assert again.participant_id != pid
    erased = [e for e in audit_entries(conn) if e.action == "participant.erased"]
    assert [(e.record_id, e.detail) for e in erased] == [(str(pid), {"reason": "request"})]


def test_subject_access_returns_everything_held_in_reach_only(conn: Connection) -> None:
    sid = session(conn)
    registered = register(conn, sid, consents=("taking_part", "future_trainings"))
    pid = registered.participant_id
    with pytest.raises(NotFound):
        lifecycle.export_participant(conn, pid, AKTOBE)
    exported = lifecycle.export_participant(conn, pid, ALMATY)
    person = exported["participant"]
    assert (person["full_name"], person["email"], person["phone"]) == (NAME, EMAIL, PHONE)
    assert person["organisation"] == "Kanareyka Media"
    assert [c["purpose"] for c in exported["consents"]] == ["future_trainings", "taking_part"]
    assert [r["registration_id"] for r in exported["registrations"]] == [
        str(registered.registration_id)
    ]
    assert [m["kind"] for m in exported["messages"]] == ["confirmed"]
    assert "registration.registered" in {a["action"] for a in exported["audit"]}
    exports = [e for e in audit_entries(conn) if e.action == "participant.exported"]
    assert [(e.record_id, e.detail) for e in exports] == [(str(pid), None)]


class OneConnection:
    """The part of ``Database`` the retention schedule uses, over the test's connection."""

    def __init__(self, conn: Connection) -> None:
        self.conn = conn
        self.writes = 0

    async def write(self, fn: Any) -> Any:
        self.writes += 1
        return fn(self.conn)


async def test_retention_erases_on_schedule_once_and_only_after_the_last_session(
    conn: Connection,
) -> None:
    ended = session(conn, STARTS)
    later = session(conn, STARTS + timedelta(days=200))
    old = register(conn, ended, name="Old Person", email="old@example.kz", phone=None)
    busy = register(conn, ended, name="Busy Person", email="busy@example.kz", phone=None)
    register(conn, later, name="Busy Person", email="busy@example.kz", phone=None)
    clock = [STARTS + timedelta(days=100)]
    schedule = lifecycle.RetentionSchedule(
        OneConnection(conn),  # type: ignore[arg-type]
        timedelta(days=90),
        60.0,
        clock=lambda: clock[0],
    )
    # 100 days after the first session (90 days kept): the old person is due, the busy one
    # (a session still to come) is not.
    assert await schedule.run_once() == 1
    assert people.get_person(conn, old.participant_id, ADMIN) is None
    assert people.get_person(conn, busy.participant_id, ADMIN) is not None
    assert await schedule.run_once() == 0  # idempotent: nothing is due twice
    clock[0] = STARTS + timedelta(days=200 + 91)
    assert await schedule.run_once() == 1
    assert people.get_person(conn, busy.participant_id, ADMIN) is None
    erased = [e for e in audit_entries(conn) if e.action == "participant.erased"]
    assert sorted(e.record_id for e in erased) == sorted(str(p.participant_id) for p in (old, busy))
    assert {e.actor for e in erased} == {lifecycle.RETENTION_ACTOR}
    assert all(e.detail == {"reason": "retention", "retention_days": 90} for e in erased)


def test_no_audit_entry_holds_the_persons_data(conn: Connection) -> None:
    sid = session(conn)
    pid = register(conn, sid, consents=("taking_part", "future_trainings")).participant_id
    offered = configured_purposes("")
    lifecycle.withdraw_consent(
        conn, lifecycle.WithdrawConsent(pid, "future_trainings", offered), ALMATY
    )
    lifecycle.export_participant(conn, pid, ALMATY)
    lifecycle.erase_participant(conn, pid, ADMIN)
    text = repr(audit_entries(conn)).casefold()
    assert {"participant.erased", "participant.exported"} <= {e.action for e in audit_entries(conn)}
    for value in (NAME, EMAIL, PHONE, "kanareyka"):
        assert value.casefold() not in text


def test_the_service_refuses_to_start_with_an_unknown_consent_purpose(tmp_path: Path) -> None:
    env = {"TRAINOPS_DATA_DIR": str(tmp_path), "REGISTRATION_CONSENT_PURPOSES": "photos"}
    with pytest.raises(SettingsError, match="unknown purpose 'photos'"):
        build_spec(load_settings("registration", env))


# --------------------------------------------------------------------------------------------
# Staff's free text about a person: flag notes and merge reasons


NOTE = f"same person as {NAME}, wrote from {EMAIL}"
REASON = f"{NAME} confirmed by phone {PHONE}"


def flag_and_merge(conn: Connection) -> tuple[Any, Any, uuid.UUID]:
    """An Almaty participant flagged (the note names them) and a duplicate of theirs merged
    into them (the reason names them); returns (flag, merge, the kept person's id)."""
    sid = session(conn)
    kept = register(conn, sid).participant_id
    twin = register(conn, session(conn), name="Zhanar Kanareykina-2", email=None, phone=None)
    flag = identity.flag_duplicate(
        conn, identity.FlagDuplicate(participant_id=kept, note=NOTE), ALMATY
    )
    merged = identity.merge_participants(
        conn,
        identity.MergeParticipants(keep=kept, merge=twin.participant_id, reason=REASON),
        ADMIN,
    )
    return flag, merged, kept


def raw_texts(conn: Connection) -> list[str]:
    notes = conn.execute(sa.select(duplicate_flags.c.note)).scalars()
    reasons = conn.execute(sa.select(participant_merges.c.reason)).scalars()
    return [*notes, *reasons]


def test_flag_notes_and_merge_reasons_are_sealed_and_read_back(conn: Connection) -> None:
    flag, merged, kept = flag_and_merge(conn)
    stored = raw_texts(conn)
    assert len(stored) == 2 and all(personal_data.is_sealed(t) for t in stored)
    assert not any(v.casefold() in repr(stored).casefold() for v in (NAME, EMAIL, PHONE))
    assert identity.read_flags(conn, ALMATY, status=None, limit=10, offset=0).items[0].note == NOTE
    assert identity.read_merges(conn, ADMIN, limit=10, offset=0).items[0].reason == REASON
    # A note sealed for one flag does not open as another's: the row is bound in.
    cipher = personal_data.cipher_for(conn, kept)
    with pytest.raises(ValueError, match="does not open"):
        personal_data.open_text(cipher, "duplicate_flags.note", merged.merge_id, stored[0])
    exported = lifecycle.export_participant(conn, kept, ALMATY)
    assert [f["note"] for f in exported["duplicate_flags"]] == [NOTE]
    assert [m["reason"] for m in exported["merges"]] == [REASON]
    assert flag.flag_id == uuid.UUID(exported["duplicate_flags"][0]["flag_id"])


def test_erasure_takes_the_notes_and_reasons_about_the_person(conn: Connection) -> None:
    flag, merged, kept = flag_and_merge(conn)
    sealed = raw_texts(conn)
    lifecycle.erase_participant(conn, kept, ADMIN)
    assert raw_texts(conn) == ["", ""]
    flags = identity.read_flags(conn, ADMIN, status=None, limit=10, offset=0).items
    assert [(f.flag_id, f.note) for f in flags] == [(flag.flag_id, "")]
    merges = identity.read_merges(conn, ADMIN, limit=10, offset=0).items
    assert [(m.merge_id, m.reason) for m in merges] == [(merged.merge_id, "")]
    # A copy of the ciphertext (a backup) no longer opens: the key it needs is gone.
    assert personal_data.cipher_for(conn, kept) is None
    assert all(personal_data.is_sealed(t) for t in sealed)
