"""The fault matrix: a burst of registrations with one fault injected part-way, then the check
"N acknowledged, 0 lost, 0 duplicated, every client error a 503 or a connection error whose
retry with the same Idempotency-Key returns the same answer" (:func:`check_burst`).

Each row prints its counts (``-s`` shows them; they are also attached to the test report).
SIGKILL of reporting, the read-only service, is a row of ``tests/e2e/test_e2e_faults.py``
(with attendance and feedback as well); the rows here are the ones on the write path and the
bus. Every row runs on SQLite, and those whose outcome could depend on the backend on PostgreSQL
too; "PostgreSQL stopped" runs on a server the test starts (and stops) itself.
"""

from __future__ import annotations

import json
import os
import signal
import sqlite3
import threading
import uuid
import zlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Literal

import pytest
from fault_support import Burst, BurstReport, burst_people, check_burst, session_for_burst
from private_postgres import PrivatePostgres, postgres_binaries

from trainops_cli.api_client import ServiceUrls, TokenIssuer, TrainopsClient, poll
from trainops_cli.deadletters import connect as connect_operator
from trainops_cli.deadletters import read_dead_letters
from trainops_devtools.nats_server import NatsServer
from trainops_devtools.testing.processes import SERVICES, ServiceProcess, stop_all
from trainops_devtools.testing.pytest_plugin import ServiceHarness, run_coroutine_sync
from trainops_shared.events import ParticipantProfile, encode_event
from trainops_shared.events.registration import AttendanceRecorded, ParticipantRegistered
from trainops_shared.events.scheduling import SessionScheduled

pytestmark = pytest.mark.e2e

DATABASES = [
    pytest.param("sqlite", id="sqlite"),
    pytest.param("postgres", id="postgres", marks=pytest.mark.postgres),
]
"""Rows whose outcome could depend on the backend run on both (PostgreSQL: fresh databases on
the test server, as every PostgreSQL test gets them)."""

BURST = 120
FAULT_AFTER = 30
"""Acknowledged registrations before the fault is injected."""
WRITE_TIMEOUT_MS = 500
"""The services' ``DB_WRITE_TIMEOUT_MS`` here: short, so a held lock outlasts it quickly."""


@dataclass
class FaultSystem:
    harness: ServiceHarness
    processes: dict[str, ServiceProcess]
    nats: NatsServer
    client: TrainopsClient
    data_dir: Path

    def log_lines(self, name: str) -> list[str]:
        return self.processes[name].log_path.read_text(errors="replace").splitlines()


@pytest.fixture
def fault_system(
    service_processes: ServiceHarness, fresh_nats_server: NatsServer
) -> Iterator[Callable[..., FaultSystem]]:
    clients: list[TrainopsClient] = []

    def start(database: Literal["sqlite", "postgres"] | dict[str, str] = "sqlite") -> FaultSystem:
        processes = service_processes.start(
            nats_url=fresh_nats_server.url,
            database=database,
            # Exact counts (k=1): the check compares the report with every acknowledged write.
            extra_env={"DB_WRITE_TIMEOUT_MS": str(WRITE_TIMEOUT_MS), "REPORT_MIN_CELL": "1"},
        )
        urls = ServiceUrls.from_mapping({name: p.url for name, p in processes.items()})
        client = TrainopsClient(urls, TokenIssuer(key=service_processes.signing_key))
        clients.append(client)
        return FaultSystem(
            service_processes, processes, fresh_nats_server, client, service_processes.data_dir
        )

    try:
        yield start
    finally:
        for client in clients:
            client.close()


def _run_row(
    system: FaultSystem,
    label: str,
    inject: Callable[[Burst], None],
    record_property: Callable[[str, object], None],
) -> BurstReport:
    training, session = session_for_burst(system.client, label)
    burst = Burst(
        system.client, session, burst_people(BURST, seed=zlib.crc32(label.encode()))
    ).start()
    burst.wait_acknowledged(FAULT_AFTER)
    inject(burst)
    burst.join()
    report = check_burst(burst, training)
    print(f"\nfault matrix [{label}]: {report.line()}")
    record_property("fault_matrix", f"{label}: {report.line()}")
    return report


def _hold(seconds: float) -> None:
    """A fault's duration (the fault is what is timed, not an outcome waited for)."""
    threading.Event().wait(seconds)


def _assert_outage_logged_once_per_client(system: FaultSystem, name: str) -> None:
    """Every NATS client of ``name`` said "lost" and "restored" as often as the connection was
    lost and back (once for one outage), never a traceback per reconnect attempt."""
    lost: dict[str, int] = {}
    restored: dict[str, int] = {}
    for line in system.log_lines(name):
        assert "nats: encountered error" not in line, line
        assert "Connection broken with" not in line, line
        if not line.startswith("{"):
            continue
        record = json.loads(line)
        if record.get("event") == "nats_connection_lost":
            lost[record["client"]] = lost.get(record["client"], 0) + 1
        elif record.get("event") == "nats_connection_restored":
            restored[record["client"]] = restored.get(record["client"], 0) + 1
            assert record["outage_s"] > 0
    assert lost and lost == restored, (lost, restored)


# --------------------------------------------------------------------------------------------
# NATS
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize("database", DATABASES)
def test_nats_server_sigkill_mid_burst(
    database: str,
    fault_system: Callable[..., FaultSystem],
    record_property: Callable[[str, object], None],
) -> None:
    system = fault_system(database)

    def inject(burst: Burst) -> None:
        system.nats.kill()
        # Down while at least 20 more registrations are acknowledged (they wait in the outbox).
        burst.wait_acknowledged(burst.acknowledged + 20)
        system.nats.start()

    _run_row(system, f"nats-sigkill-{database}", inject, record_property)
    _assert_outage_logged_once_per_client(system, "registration")
    _assert_outage_logged_once_per_client(system, "reporting")


def test_nats_server_sigstop_for_six_seconds_mid_burst(
    fault_system: Callable[..., FaultSystem], record_property: Callable[[str, object], None]
) -> None:
    system = fault_system()
    assert system.nats.pid is not None
    pid = system.nats.pid

    def inject(_: Burst) -> None:
        os.kill(pid, signal.SIGSTOP)
        try:
            _hold(6.0)
        finally:
            os.kill(pid, signal.SIGCONT)

    _run_row(system, "nats-sigstop", inject, record_property)
    for name in ("registration", "reporting"):
        for line in system.log_lines(name):
            assert "nats: encountered error" not in line, line


# --------------------------------------------------------------------------------------------
# Services
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("victim", "database"),
    [
        ("registration", "sqlite"),
        ("scheduling", "sqlite"),
        ("feedback", "sqlite"),
        pytest.param("registration", "postgres", marks=pytest.mark.postgres),
    ],
)
def test_sigkill_of_a_writing_service_mid_burst(
    victim: str,
    database: str,
    fault_system: Callable[..., FaultSystem],
    record_property: Callable[[str, object], None],
) -> None:
    system = fault_system(database)
    process = system.processes[victim]

    def inject(_: Burst) -> None:
        process.kill()
        process.restart(timeout=60)

    _run_row(system, f"sigkill-{victim}-{database}", inject, record_property)


@pytest.mark.parametrize("database", DATABASES)
def test_full_restart_mid_burst(
    database: str,
    fault_system: Callable[..., FaultSystem],
    record_property: Callable[[str, object], None],
) -> None:
    system = fault_system(database)

    def inject(_: Burst) -> None:
        everything = [system.processes[name] for name in SERVICES]
        stop_all(everything)
        system.nats.restart()
        for process in everything:
            process.process = None
            process.start()
        for process in everything:
            process.wait_ready(60)

    _run_row(system, f"full-restart-{database}", inject, record_property)


# --------------------------------------------------------------------------------------------
# Poison on the bus
# --------------------------------------------------------------------------------------------


def _poison(session_id: str) -> dict[str, tuple[str, bytes]]:
    """name -> (subject, payload) of each kind of poison, on registration's stream."""
    subject = ParticipantRegistered.type_name()
    wrong_type = SessionScheduled(
        aggregate_id=uuid.uuid4(),
        session_id=uuid.uuid4(),
        training_id=uuid.uuid4(),
        mode="online",
        cities=["almaty"],
        timezone="Asia/Almaty",
        starts_at=datetime(2021, 1, 20, 5, tzinfo=UTC),
        ends_at=datetime(2021, 1, 20, 8, tzinfo=UTC),
        capacity=10,
        language="kk",
    )
    registration_id = uuid.uuid4()
    invalid = ParticipantRegistered(
        aggregate_id=registration_id,
        registration_id=registration_id,
        session_id=uuid.UUID(session_id),
        participant_id=uuid.uuid4(),
        status="confirmed",
        profile=ParticipantProfile(
            city="atlantis",  # the poison: categories nobody defined
            sector="media",
            sex="banana",  # type: ignore[arg-type]  # deliberately outside the Literal
            age_band="25-34",
            language="kk",
        ),
    )
    unknown = uuid.uuid4()
    orphan = AttendanceRecorded(
        aggregate_id=unknown,
        registration_id=unknown,
        session_id=uuid.UUID(session_id),
        participant_id=uuid.uuid4(),
        attended=True,
    )
    return {
        "undecodable": (subject, b"\xff\xfe not an event {"),
        "wrong type for the subject": (subject, encode_event(wrong_type)),
        "invalid categories": (subject, encode_event(invalid)),
        "unknown aggregate": (AttendanceRecorded.type_name(), encode_event(orphan)),
    }


async def _publish(url: str, messages: dict[str, tuple[str, bytes]]) -> None:
    nc = await connect_operator(url, 5.0)
    try:
        js = nc.jetstream()
        for subject, payload in messages.values():
            await js.publish(subject, payload, headers={"Nats-Msg-Id": str(uuid.uuid4())})
    finally:
        await nc.close()


async def _dead_letters(url: str, consumer: str) -> list[Any]:
    nc = await connect_operator(url, 5.0)
    try:
        letters: list[Any] = await read_dead_letters(nc.jetstream(), consumer, None)
        return letters
    finally:
        await nc.close()


@pytest.mark.parametrize("database", DATABASES)
def test_poison_on_the_registration_stream_mid_burst(
    database: str,
    fault_system: Callable[..., FaultSystem],
    record_property: Callable[[str, object], None],
) -> None:
    system = fault_system(database)
    sessions: list[str] = []

    def inject(burst: Burst) -> None:
        sessions.append(burst.session_id)
        run_coroutine_sync(lambda: _publish(system.nats.url, _poison(burst.session_id)))

    _run_row(system, f"poison-{database}", inject, record_property)
    summary = system.client.summary()
    # The wrong-type payload described a session: nobody may have applied it as one.
    assert summary["sessions_scheduled"] == 1, summary
    assert summary["attended"] == 0, summary

    for consumer in ("reporting", "feedback"):

        def three_dead(consumer: str = consumer) -> list[Any] | None:
            letters = run_coroutine_sync(lambda: _dead_letters(system.nats.url, consumer))
            return letters if len(letters) >= 3 else None

        letters = poll(
            three_dead, timeout=60, what=f"{consumer} to dead-letter the three malformed messages"
        )
        reasons = " | ".join(letter.reason for letter in letters)
        assert all(letter.reason for letter in letters), reasons
        assert "undecodable" in reasons, reasons
        record_property(f"dead_letters_{consumer}", reasons)


# --------------------------------------------------------------------------------------------
# Databases
# --------------------------------------------------------------------------------------------


def test_sqlite_write_lock_held_past_the_bound_mid_burst(
    fault_system: Callable[..., FaultSystem], record_property: Callable[[str, object], None]
) -> None:
    system = fault_system()
    database = system.data_dir / "registration.db"

    def inject(burst: Burst) -> None:
        # A busy burst can starve a second writer's busy handler until the burst is over, so the
        # lock is taken while the burst is paused, and held (at least 4x the write bound) until
        # a write has been refused with 503 while it waited.
        burst.pause()
        locker = sqlite3.connect(database, isolation_level=None, timeout=10)
        try:
            locker.execute("BEGIN IMMEDIATE")
            burst.resume()
            _hold(4 * WRITE_TIMEOUT_MS / 1000)
            poll(
                lambda: True if burst.answered_503 else None,
                timeout=30,
                what="a write refused with 503 while the lock is held",
            )
            locker.execute("ROLLBACK")
        finally:
            burst.resume()
            locker.close()

    report = _run_row(system, "sqlite-lock", inject, record_property)
    assert report.errors_503 > 0, "the held lock never made a write answer 503"


def test_postgresql_stopped_mid_burst(
    fault_system: Callable[..., FaultSystem],
    record_property: Callable[[str, object], None],
) -> None:
    binaries = postgres_binaries()
    if binaries is None:
        pytest.skip("no initdb/pg_ctl under /usr/lib/postgresql/*/bin")
    with PrivatePostgres(binaries) as server:
        databases = {name: server.create_database(f"trainops_{name}") for name in SERVICES}
        system = fault_system(databases)

        def inject(burst: Burst) -> None:
            server.stop()
            # Down while the burst keeps trying (its clients see 503s or connection errors).
            _hold(3.0)
            server.start()

        report = _run_row(system, "postgres-stopped", inject, record_property)
        assert report.errors_503 + report.connection_errors > 0, report.line()
