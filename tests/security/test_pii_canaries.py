"""Personal data never leaves registration: a canary participant's name, e-mail and phone are in
no stream message, no other service's files and no log line, and not in clear in registration's
own files either (sealed per person); once erased, not anywhere at all.

A canary (a person nobody else could be) is registered, attends, is invited and answers the
feedback form; mistakes are made with it too (a duplicate registration, a refused field, a bad
CSV row), because error paths are where personal data slips into logs. Then every message of
every JetStream stream is read, every file of the other services' data and every service log is
searched for the canary's values.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from security_support import REGION_A, SecuritySystem, Seed, seed_region_a, start_security_system

from trainops_cli.api_client import poll
from trainops_devtools.testing.attack import Canary, every_stream_message, files_leaking, leaks

pytestmark = pytest.mark.e2e


@pytest.fixture
def canary_system(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[SecuritySystem]:
    # Exact counts: the test waits for the canary's one response to reach the report, a count
    # the production threshold would hide.
    system, teardown = start_security_system(request, tmp_path, extra_env={"REPORT_MIN_CELL": "1"})
    try:
        yield system
    finally:
        teardown()


def make_mistakes(system: SecuritySystem, seed: Seed) -> list[str]:
    """Requests that fail while carrying the canary's personal data; returns the answers that
    were not a clear 4xx."""
    headers = system.headers("coordinator_a")
    url = f"{system.url('registration')}/registrations"
    person = seed.canary.participant(REGION_A)
    answers = [
        httpx.post(
            url, json={"session_id": seed.session_id, "participant": person}, headers=headers
        ),
        httpx.post(
            url,
            json={"session_id": seed.session_id, "participant": {**person, "sex": "unknown"}},
            headers=headers,
        ),
        httpx.post(
            f"{url}/import",
            params={"session_id": seed.open_session_id},
            content=(
                "full_name,email,phone,organisation,sector,sex,age_band,city,language\n"
                f"{seed.canary.full_name},{seed.canary.email},{seed.canary.phone},x,"
                "nowhere,female,25-34,almaty,ru\n"
            ).encode(),
            headers={**headers, "Content-Type": "text/csv"},
        ),
        httpx.post(
            url,
            # Invalid UTF-8 right after the name: the bytes must not be echoed into a log.
            content=(
                f'{{"session_id": "{seed.session_id}", "participant": '
                f'{{"full_name": "{seed.canary.full_name}'.encode()
                + b"\xff\xfe"
                + f'", "email": "{seed.canary.email}", "phone": "{seed.canary.phone}", '
                f'"sector": "media", "sex": "female", "age_band": "25-34", "city": "almaty", '
                f'"language": "ru"}}}}'.encode()
            ),
            headers={**headers, "Content-Type": "application/json"},
        ),
    ]
    return [
        f"{a.request.method} {a.request.url} -> {a.status_code}: {a.text[:200]}"
        for a in answers
        if not 400 <= a.status_code < 500
    ]


def test_canary_personal_data_stays_in_registration(canary_system: SecuritySystem) -> None:
    system = canary_system
    client = system.client
    seed = seed_region_a(client, Canary.fresh())
    client.submit_response(
        seed.invitation_token,
        {"overall": 4, "relevance": 5, "trainer": 5, "knowledge_gain": 4},
        comment="useful",
    )
    not_refused = make_mistakes(system, seed)

    def reported() -> bool | None:
        summary = client.summary(training_id=seed.training_id)
        return True if summary["feedback_responses"] >= 1 else None

    poll(reported, timeout=90, what="the canary's feedback in the report")
    pii = seed.canary.personal_data()

    streams = asyncio.run(every_stream_message(system.nats_url))
    assert {"REGISTRATION", "SCHEDULING", "FEEDBACK"} <= set(streams), sorted(streams)
    # The control: the payloads read are the real ones (they carry the pseudonymous id).
    assert any(leaks(m, {"id": seed.participant_id}) for m in streams["REGISTRATION"]), (
        "the participant's events are not in the registration stream: nothing was checked"
    )
    in_streams = {
        f"{name}[{i}]": hits
        for name, messages in streams.items()
        for i, message in enumerate(messages)
        if (hits := leaks(message, pii))
    }
    assert in_streams == {}, f"personal data in stream messages: {in_streams}"
    # The server's own files too: dead letters, consumer state, anything not read above.
    store = [p for p in (system.root / "nats" / "jetstream").rglob("*") if p.is_file()]
    assert files_leaking(store, {"id": seed.participant_id}), "the store is not searchable"
    assert files_leaking(store, pii) == {}, "personal data in the JetStream store"

    data_dir = system.harness.root / "data"
    others = [
        path
        for path in data_dir.rglob("*")
        if path.is_file() and not path.name.startswith("registration.db")
    ]
    assert any(p.name.startswith("reporting.db") for p in others), sorted(map(str, others))
    assert any(p.name.startswith("feedback.db") for p in others), sorted(map(str, others))
    assert files_leaking(others, pii) == {}, "personal data in other services' files"
    # Registration holds the canary too, but only sealed with the canary's own key.
    own = [p for p in data_dir.glob("registration.db*") if p.is_file()]
    assert own, sorted(map(str, data_dir.iterdir()))
    assert files_leaking(own, pii) == {}, "personal data in clear in registration's database"

    logs = [p for p in system.root.rglob("*.log") if p.is_file()]
    services = {"registration", "scheduling", "feedback", "reporting", "nats-server"}
    assert {p.stem for p in logs} >= services, sorted(map(str, logs))
    assert files_leaking(logs, pii) == {}, "personal data in log files"
    assert not_refused == [], "mistakes not answered with a clear 4xx"


def published_counts(system: SecuritySystem, training_id: str) -> tuple[Any, Any]:
    client = system.client
    return client.summary(training_id=training_id), client.donor("city", training_id=training_id)


def test_erased_canary_leaves_no_trace_and_the_counts_stay(canary_system: SecuritySystem) -> None:
    """Through the public API: the canary registers (twice), attends and answers, and their
    coordinator flags them with a note naming them; their data is exported, then erased;
    afterwards their name, e-mail, phone and the note are in no database file (SQLite pages
    and WAL), no stream, no JetStream store file and no log, and what reporting publishes is
    what it published before."""
    system = canary_system
    client = system.client
    seed = seed_region_a(client, Canary.fresh())
    client.submit_response(
        seed.invitation_token,
        {"overall": 5, "relevance": 4, "trainer": 5, "knowledge_gain": 3},
        comment="helpful",
    )

    def settled() -> tuple[Any, Any] | None:
        summary, donor = published_counts(system, seed.training_id)
        return (summary, donor) if summary["feedback_responses"] >= 1 else None

    before = poll(settled, timeout=90, what="the canary's feedback in the report")
    base = f"{system.url('registration')}/participants/{seed.participant_id}"
    own, other = system.headers("coordinator_a"), system.headers("coordinator_b")
    # Staff's free text names people too: a note is sealed with the flagged person's key.
    note = f"{seed.canary.full_name} took part before as Kanareyka-{seed.participant_id[:8]}"
    flagged = httpx.post(f"{base}/duplicate-flags", json={"note": note}, headers=own, timeout=30)
    assert flagged.status_code == 201, flagged.text
    flag_id = flagged.json()["flag_id"]
    pii = {**seed.canary.personal_data(), "note": note.split(" took part before as ")[1]}
    flags_url = f"{system.url('registration')}/participants/duplicate-flags"

    def note_of_flag() -> str:
        listed = httpx.get(flags_url, headers=own, timeout=30)
        assert listed.status_code == 200, listed.text
        notes = {f["flag_id"]: f["note"] for f in listed.json()["items"]}
        return str(notes[flag_id])

    assert note_of_flag() == note

    exported = httpx.get(f"{base}/export", headers=own, timeout=30)
    assert exported.status_code == 200, exported.text
    assert set(leaks(exported.text, pii)) == set(pii), "the export lacks the person's data"
    assert len(exported.json()["registrations"]) == 2
    # Another region's coordinator learns nothing, erases nothing.
    for method in ("GET", "DELETE"):
        url = f"{base}/export" if method == "GET" else base
        refused = httpx.request(method, url, headers=other, timeout=30)
        assert refused.status_code == 404, (method, refused.text)
        assert leaks(refused.text, pii) == []
    erased = httpx.delete(base, headers=own, timeout=30)
    assert erased.status_code == 200, erased.text
    assert erased.json()["participant_id"] == seed.participant_id
    assert httpx.get(f"{base}/export", headers=own, timeout=30).status_code == 404
    assert httpx.delete(base, headers=own, timeout=30).status_code == 404
    assert note_of_flag() == "", "the note outlived the person's key"
    # The search page shows the query typed; the erased person is no longer among its people.
    found = httpx.get(
        f"{system.url('registration')}/people",
        params={"q": seed.canary.email},
        headers=own,
        timeout=30,
    )
    assert found.status_code == 200, found.text
    assert leaks(found.text, {"id": seed.participant_id, "name": seed.canary.full_name}) == []

    # Counts: erasure publishes nothing, reporting keeps every registration and answer.
    assert published_counts(system, seed.training_id) == before
    audit = httpx.get(
        f"{system.url('registration')}/audit",
        params={"action": "participant.erased"},
        headers=system.headers("admin"),
        timeout=30,
    )
    assert audit.status_code == 200, audit.text
    assert [e["record_id"] for e in audit.json()["entries"]] == [seed.participant_id]

    streams = asyncio.run(every_stream_message(system.nats_url))
    assert any(leaks(m, {"id": seed.participant_id}) for m in streams["REGISTRATION"])
    in_streams = [
        f"{name}[{i}]"
        for name, messages in streams.items()
        for i, message in enumerate(messages)
        if leaks(message, pii)
    ]
    assert in_streams == [], f"personal data in stream messages: {in_streams}"
    store = [p for p in (system.root / "nats" / "jetstream").rglob("*") if p.is_file()]
    assert files_leaking(store, {"id": seed.participant_id}), "the store is not searchable"
    assert files_leaking(store, pii) == {}, "personal data in the JetStream store"
    data_dir = system.harness.root / "data"
    # The mail catcher's folder is the participants' mailbox, outside the system: what was
    # delivered to a person is theirs. Everything else the services wrote is searched.
    files = [
        p
        for p in data_dir.rglob("*")
        if p.is_file() and "mail" not in p.relative_to(data_dir).parts
    ]
    databases = [p for p in files if p.name.startswith("registration.db")]
    assert databases, sorted(map(str, files))
    # SQLite keeps an id as its 32 hex digits: the control that the pages are searched.
    stored_id = {"id": seed.participant_id.replace("-", "")}
    assert files_leaking(databases, stored_id), "registration's database is not searchable"
    assert files_leaking(files, pii) == {}, "personal data in the services' files"
    logs = [p for p in system.root.rglob("*.log") if p.is_file()]
    assert {p.stem for p in logs} >= {"registration", "reporting", "nats-server"}
    assert files_leaking(logs, pii) == {}, "personal data in log files"
