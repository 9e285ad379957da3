"""Running ``trainops up`` as a process in a test, finding its children, and a burst of
registrations under a fault with the checks every row of the fault matrix makes."""

from __future__ import annotations

import random
import subprocess
import threading
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

from trainops_cli.api_client import TrainopsClient, poll, retry_after
from trainops_devtools.demo_data import CITIES, Person, make_people
from trainops_devtools.testing.ports import port_is_free


def free_port_block(count: int, host: str = "127.0.0.1") -> int:
    """The first of ``count`` consecutive free ports (``trainops up`` numbers services from
    ``--base-port``), away from the defaults and the ephemeral range's busy start."""
    rng = random.Random()
    for _ in range(200):
        base = rng.randrange(20_000, 30_000)
        if all(port_is_free(base + i, host) for i in range(count)):
            return base
    raise RuntimeError(f"no block of {count} free ports found")


def _children(pid: int) -> list[int]:
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        # Field 4, after the parenthesised command name (which may hold spaces).
        if int(stat.rsplit(")", 1)[1].split()[1]) == pid:
            found.append(int(entry.name))
    return found


def _cmdline(pid: int) -> list[str]:
    try:
        raw = Path(f"/proc/{pid}/cmdline").read_bytes()
    except OSError:
        return []
    return [part.decode() for part in raw.split(b"\0") if part]


@dataclass
class UpProcess:
    """A running ``trainops up`` and where its parts are."""

    process: subprocess.Popen[bytes]
    output: Path
    data_dir: Path
    base_port: int
    nats_port: int
    urls: dict[str, str] = field(default_factory=dict)

    def text(self) -> str:
        return self.output.read_text(errors="replace")

    def child_pid(self, name: str) -> int:
        """The pid of service ``name`` (``python -m trainops_<name>``) or of nats-server."""
        for pid in _children(self.process.pid):
            command = _cmdline(pid)
            if name == "nats" and command and command[0].endswith("nats-server"):
                return pid
            if f"trainops_{name}" in command:
                return pid
        raise AssertionError(f"no child process {name} of trainops up:\n{self.text()}")

    def ready(self, name: str, client: httpx.Client) -> bool:
        try:
            return client.get(f"{self.urls[name]}/ready", timeout=2.0).status_code == 200
        except httpx.HTTPError:
            return False

    def all_ready(self) -> bool:
        with httpx.Client() as client:
            return all(self.ready(name, client) for name in self.urls)


# --------------------------------------------------------------------------------------------
# A burst of registrations under a fault, and what must hold afterwards
# --------------------------------------------------------------------------------------------


@dataclass
class Outcome:
    """One registration as the client lived it: every error it saw before the answer."""

    key: str
    person: Person
    errors: list[str] = field(default_factory=list)
    answer: dict[str, Any] | None = None


@dataclass
class BurstReport:
    """What the fault matrix counts for one row."""

    sent: int
    acknowledged: int
    lost: int
    duplicated: int
    errors_503: int
    connection_errors: int
    other_errors: list[str]
    retried_keys: int

    def line(self) -> str:
        return (
            f"{self.acknowledged} acknowledged of {self.sent}, {self.lost} lost, "
            f"{self.duplicated} duplicated; client errors: {self.errors_503} x 503, "
            f"{self.connection_errors} connection errors, {len(self.other_errors)} other; "
            f"{self.retried_keys} keys retried, each answered the same on replay"
        )


class Burst:
    """Registers ``people`` on ``session_id`` from a few threads, as a careful client would:
    a 503 (after its ``Retry-After``) or a connection error is retried with the same
    ``Idempotency-Key`` until ``deadline_s``; any other error is kept for the check."""

    def __init__(
        self,
        client: TrainopsClient,
        session_id: str,
        people: list[Person],
        *,
        threads: int = 4,
        deadline_s: float = 90.0,
    ) -> None:
        self.client = client
        self.session_id = session_id
        self.outcomes = [Outcome(str(uuid.uuid4()), person) for person in people]
        self._next = 0
        self._lock = threading.Lock()
        self._deadline_s = deadline_s
        self._threads = [threading.Thread(target=self._run, daemon=True) for _ in range(threads)]
        self._open = threading.Event()
        self._open.set()
        self._in_flight = 0
        self.finished_at: float | None = None

    @property
    def acknowledged(self) -> int:
        return sum(1 for outcome in self.outcomes if outcome.answer is not None)

    def start(self) -> Burst:
        for thread in self._threads:
            thread.start()
        return self

    def wait_acknowledged(self, count: int, timeout: float = 60.0) -> None:
        poll(
            lambda: True if self.acknowledged >= count else None,
            timeout=timeout,
            what=f"{count} acknowledged registrations",
            last=lambda: f"{self.acknowledged} acknowledged",
        )

    @property
    def answered_503(self) -> int:
        return sum(error == "503" for outcome in self.outcomes for error in outcome.errors)

    def pause(self, timeout: float = 30.0) -> None:
        """Stop taking new people and wait for the requests in flight, so a fault that must
        first win a lock (a writer starved by a busy burst) can take it before writes resume."""
        self._open.clear()
        poll(
            lambda: True if self._in_flight == 0 else None,
            timeout=timeout,
            what="the burst's requests in flight to finish",
            last=lambda: f"{self._in_flight} in flight",
        )

    def resume(self) -> None:
        self._open.set()

    def join(self, timeout: float = 120.0) -> None:
        for thread in self._threads:
            thread.join(timeout)
            assert not thread.is_alive(), "the burst did not finish in time"

    def _take(self) -> Outcome | None:
        while True:
            self._open.wait()
            with self._lock:
                if not self._open.is_set():
                    continue
                if self._next >= len(self.outcomes):
                    return None
                outcome = self.outcomes[self._next]
                self._next += 1
                self._in_flight += 1
                return outcome

    def _run(self) -> None:
        while (outcome := self._take()) is not None:
            try:
                outcome.answer = self.send(outcome, time.monotonic() + self._deadline_s)
            finally:
                with self._lock:
                    self._in_flight -= 1

    def send(self, outcome: Outcome, deadline: float) -> dict[str, Any] | None:
        """POST until answered or the deadline; errors are appended to ``outcome.errors``."""
        participant = outcome.person.participant()
        body = {"session_id": self.session_id, "participant": participant}
        while time.monotonic() < deadline:
            try:
                response = self.client.http.post(
                    f"{self.client.urls.registration}/registrations",
                    json=body,
                    headers={
                        "Idempotency-Key": outcome.key,
                        "Authorization": "Bearer "
                        + self.client.tokens("coordinator", str(participant["city"])),
                    },
                    timeout=15.0,
                )
            except httpx.TransportError as exc:
                outcome.errors.append(f"connection: {type(exc).__name__}")
                time.sleep(0.2)
                continue
            if response.status_code in (200, 201):
                answer: dict[str, Any] = response.json()
                return answer
            if response.status_code == 503:
                has_retry_after = "retry-after" in response.headers
                outcome.errors.append("503" if has_retry_after else "503 without Retry-After")
                time.sleep(min(retry_after(response), 1.0))
                continue
            if response.status_code == 404 and "session_id" in response.text:
                time.sleep(0.1)  # registration has not seen the session's event yet
                continue
            outcome.errors.append(f"{response.status_code}: {response.text[:200]}")
            return None
        outcome.errors.append("no answer before the deadline")
        return None


def check_burst(burst: Burst, training_id: str, *, timeout: float = 120.0) -> BurstReport:
    """N acknowledged, 0 lost, 0 duplicated, every client error a 503 (with ``Retry-After``) or a
    connection error whose retry with the same key returned the same answer (replayed now)."""
    client = burst.client
    outcomes = burst.outcomes
    other = [e for o in outcomes for e in o.errors if e != "503" and not e.startswith("connection")]
    answered = [o for o in outcomes if o.answer is not None]
    ids = [str(o.answer["id"]) for o in answered if o.answer is not None]
    retried = [o for o in answered if o.errors]
    for outcome in answered:
        assert outcome.answer is not None
        again = burst.send(Outcome(outcome.key, outcome.person), time.monotonic() + 30)
        assert again is not None and again["id"] == outcome.answer["id"], (
            f"replaying key {outcome.key} answered {again!r}, first {outcome.answer!r}"
        )
    for registration_id in ids:
        assert client.get_registration(registration_id)["id"] == registration_id

    def counted() -> int:
        return int(client.summary(training_id=training_id)["registered"])

    seen: list[int] = [0]

    def caught_up() -> bool | None:
        seen[0] = counted()
        return True if seen[0] == len(set(ids)) else None

    poll(
        caught_up,
        timeout=timeout,
        what="reporting to count every acknowledged registration once",
        last=lambda: f"{seen[0]} counted, {len(set(ids))} acknowledged",
    )
    report = BurstReport(
        sent=len(outcomes),
        acknowledged=len(answered),
        lost=len(set(ids)) - min(seen[0], len(set(ids))),
        duplicated=len(ids) - len(set(ids)) + max(0, seen[0] - len(set(ids))),
        errors_503=sum(e == "503" for o in outcomes for e in o.errors),
        connection_errors=sum(e.startswith("connection") for o in outcomes for e in o.errors),
        other_errors=other,
        retried_keys=len(retried),
    )
    assert report.other_errors == [], report.line() + f"\n{other[:10]}"
    assert report.acknowledged == report.sent, report.line()
    assert report.lost == 0 and report.duplicated == 0, report.line()
    return report


def session_for_burst(client: TrainopsClient, label: str) -> tuple[str, str]:
    """A training and an online session open to every city: ``(training_id, session_id)``."""
    training = client.define_training(
        f"fault-{label}-{uuid.uuid4().hex[:8]}", {"en": f"Fault drill {label}"}, ["media"]
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
    return training, str(session["id"])


def burst_people(count: int, seed: int) -> list[Person]:
    people: list[Person] = make_people(random.Random(seed), count)
    return people
