"""Fault tolerance end to end: reporting killed with SIGKILL while writes stream in.

Registration and feedback keep acknowledging writes while reporting is dead; after a restart,
reporting must show every acknowledged registration, attendance and feedback response exactly
once (``feedback_responses`` is a plain count, so a response projected twice would show).
"""

from __future__ import annotations

import random
import threading
import uuid
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import pytest
from e2e_checks import summary_of, wait_equal

from trainops_cli.api_client import TrainopsClient, poll, token_of
from trainops_devtools.demo_data import (
    CITIES,
    Fact,
    Person,
    SessionFact,
    expected_cells,
    expected_summary,
    make_people,
)

pytestmark = pytest.mark.e2e


class Writer(threading.Thread):
    """Runs ``write(item)`` for each item in order; keeps what was acknowledged."""

    def __init__(self, items: list[Any], write: Callable[[Any], Any]) -> None:
        super().__init__(daemon=True)
        self.items = items
        self.write = write
        self.acked: list[tuple[Any, Any]] = []
        self.error: BaseException | None = None

    def run(self) -> None:
        try:
            for item in self.items:
                self.acked.append((item, self.write(item)))
        except BaseException as exc:  # reported by the test after join()
            self.error = exc

    def wait_acked(self, count: int, timeout: float = 60.0) -> None:
        poll(
            lambda: True if len(self.acked) >= count or not self.is_alive() else None,
            timeout=timeout,
            what=f"{count} acknowledged writes",
            last=lambda: f"{len(self.acked)} acknowledged",
        )

    def finish(self, timeout: float = 120.0) -> None:
        self.join(timeout)
        assert not self.is_alive(), "the writer did not finish in time"
        if self.error is not None:
            raise self.error
        assert len(self.acked) == len(self.items)


def _cells(client: TrainopsClient, training: str) -> dict[tuple[str, ...], dict[str, Any]]:
    rows = client.donor(by="city", k=1, training_id=training)["rows"]
    measures = ("registered", "attended", "feedback_responses", "satisfaction_mean")
    return {(r["city"],): {m: r[m] for m in measures} for r in rows}


def test_reporting_killed_mid_stream_counts_every_acknowledged_write_once(
    start_system: Any,
) -> None:
    system = start_system("sqlite")
    client = system.client
    reporting = system.processes["reporting"]
    training = client.define_training(
        f"e2e-fault-{uuid.uuid4().hex[:8]}", {"en": "Fault drill"}, ["media"]
    )["id"]
    session = client.schedule_session(
        {
            "training_id": training,
            "mode": "online",
            "cities": list(CITIES),
            "starts_at": "2021-01-20T10:00",
            "ends_at": "2021-01-20T13:00",
            "capacity": 10_000,
            "language": "kk",
        }
    )
    session_id = session["id"]
    starts_at = datetime.fromisoformat(session["starts_at_utc"].replace("Z", "+00:00"))
    people = make_people(random.Random(4242), 200)

    # Phase 1: registrations stream in; reporting is killed once it is consuming them.
    writer = Writer(people, lambda p: client.register(session_id, p.participant()))
    writer.start()
    writer.wait_acked(30)
    poll(
        lambda: True if client.summary(training_id=training)["registered"] else None,
        timeout=60,
        what="reporting consuming registrations",
    )
    reporting.kill()
    assert not reporting.is_running()
    writer.wait_acked(110)
    reporting.restart(timeout=60)
    writer.finish()
    regs: dict[str, tuple[Person, dict[str, Any]]] = {
        body["id"]: (person, body) for person, body in writer.acked
    }
    assert all(body["status"] == "confirmed" for _, body in regs.values())

    def facts(attended: dict[str, bool], overall: dict[str, int], status: str) -> list[Fact]:
        return [
            Fact(
                participant_id=body["participant_id"],
                training=training,
                session=session_id,
                session_status=status,
                starts_at=starts_at.astimezone(UTC),
                mode="online",
                status="confirmed",
                attended=attended.get(rid, False),
                overall=(overall[rid],) if rid in overall else (),
                city=person.city,
                sector=person.sector,
                sex=person.sex,
                age_band=person.age_band,
                language=person.language,
            )
            for rid, (person, body) in regs.items()
        ]

    sessions = [SessionFact(session_id, training, starts_at, "scheduled")]
    phase1 = facts({}, {}, "scheduled")
    wait_equal(
        lambda: summary_of(client, training_id=training),
        expected_summary(phase1, sessions),
        "every acknowledged registration in the summary after the restart",
    )
    assert summary_of(client, training_id=training)["registered"] == len(people)
    wait_equal(
        lambda: _cells(client, training),
        expected_cells(phase1, ("city",)),
        "every acknowledged registration in the donor cells",
    )

    # Phase 2: attendance, completion, feedback; reporting killed while responses stream in.
    attended = {rid: i % 5 != 4 for i, rid in enumerate(sorted(regs))}
    for rid, present in attended.items():
        client.record_attendance(rid, present)
    client.complete_session(session_id)
    invitations = client.wait_invitations(session_id, sum(attended.values()), timeout=90)
    scores = {str(inv["registration_id"]): 1 + (i * 7) % 5 for i, inv in enumerate(invitations)}

    def respond(invitation: dict[str, Any]) -> Any:
        score = scores[str(invitation["registration_id"])]
        answers = {"overall": score, "relevance": 4, "trainer": 5, "knowledge_gain": score}
        return client.submit_response(token_of(invitation["url"]), answers)

    responder = Writer(invitations, respond)
    responder.start()
    responder.wait_acked(25)
    reporting.kill()
    responder.wait_acked(80)
    reporting.restart(timeout=60)
    responder.finish()

    sessions = [SessionFact(session_id, training, starts_at, "completed")]
    final = facts(attended, scores, "completed")
    want = expected_summary(final, sessions)
    assert want["feedback_responses"] == len(invitations)
    wait_equal(
        lambda: summary_of(client, training_id=training),
        want,
        "every acknowledged attendance and response, exactly once, after the restart",
    )
    wait_equal(
        lambda: _cells(client, training),
        expected_cells(final, ("city",)),
        "donor cells after the restart",
    )
