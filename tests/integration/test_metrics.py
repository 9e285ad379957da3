"""``/metrics`` of every service after a real programme step on a real nats-server.

The four services run in-process on one NATS and their own SQLite files: a session is
scheduled, a participant registered and marked present, the session completed, the invitation
opened through ``/f/{token}``, the report read. Then each service's ``/metrics`` must show the
series the dashboards use (request counts and latency per route template, consumer batches,
events applied, lag, outbox backlog and relay latency, dead letters) with values that fit what
happened, and never a personal value, an id or the invitation token.
"""

from __future__ import annotations

import json
import re
import uuid
from collections.abc import AsyncIterator, Mapping
from contextlib import AsyncExitStack
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
from litestar import Litestar
from litestar.testing import AsyncTestClient
from prometheus_client.parser import text_string_to_metric_families

from trainops_devtools.testing.attack import Canary, leaks
from trainops_devtools.testing.polling import eventually
from trainops_devtools.testing.tokens import bearer, in_process_settings
from trainops_feedback.app import build_spec as feedback_spec
from trainops_registration.app import build_spec as registration_spec
from trainops_reporting.app import build_spec as reporting_spec
from trainops_scheduling.app import build_spec as scheduling_spec
from trainops_shared.service import ServiceSpec, create_app
from trainops_shared.settings import Settings

pytestmark = pytest.mark.integration

BUILDERS: dict[str, Any] = {
    "scheduling": scheduling_spec,
    "registration": registration_spec,
    "feedback": feedback_spec,
    "reporting": reporting_spec,
}
STAFF = bearer("programme_staff")
ALMATY = bearer("coordinator", "almaty", subject="metrics-coordinator")
REPORTER = bearer("reporting")

Labels = frozenset[tuple[str, str]]
METRIC_NAME = re.compile(r"\btrainops_[a-z_]+\b")
DASHBOARD = Path(__file__).parents[2] / "deploy" / "grafana" / "trainops.json"
UUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}", re.IGNORECASE)


class Scrape:
    """One ``/metrics`` answer, parsed with prometheus-client's own parser (so the text is
    valid exposition format), with the raw text kept for the leak checks."""

    def __init__(self, text: str) -> None:
        self.text = text
        self.samples: dict[tuple[str, Labels], float] = {}
        self.types: dict[str, str] = {}
        for family in text_string_to_metric_families(text):
            self.types[family.name] = family.type
            for sample in family.samples:
                self.samples[(sample.name, frozenset(sample.labels.items()))] = sample.value

    def value(self, name: str, **labels: str) -> float:
        """The one sample of ``name`` whose labels include ``labels``."""
        matches = [
            v for (n, ls), v in self.samples.items() if n == name and set(labels.items()) <= ls
        ]
        assert len(matches) == 1, f"{name}{labels}: {len(matches)} samples in\n{self.text}"
        return matches[0]

    def total(self, name: str, **labels: str) -> float:
        return sum(
            v for (n, ls), v in self.samples.items() if n == name and set(labels.items()) <= ls
        )

    def label_values(self, name: str, label: str) -> set[str]:
        return {dict(ls)[label] for (n, ls) in self.samples if n == name and label in dict(ls)}

    def check_histogram(self, name: str, **labels: str) -> float:
        """Buckets cumulative and ending in ``+Inf`` = ``_count``; returns the count."""
        buckets = sorted(
            (float(dict(ls)["le"]), v)
            for (n, ls), v in self.samples.items()
            if n == f"{name}_bucket" and set(labels.items()) <= ls
        )
        assert buckets, f"no buckets of {name}{labels}"
        counts = [v for _, v in buckets]
        assert counts == sorted(counts), f"{name}{labels} buckets not cumulative: {buckets}"
        count = self.value(f"{name}_count", **labels)
        assert buckets[-1] == (float("inf"), count)
        assert self.value(f"{name}_sum", **labels) >= 0
        return count


@dataclass
class System:
    clients: dict[str, AsyncTestClient[Litestar]]

    async def scrape(self, service: str) -> Scrape:
        response = await self.clients[service].get("/metrics")
        assert response.status_code == 200, response.text
        assert response.headers["content-type"] == "text/plain; version=0.0.4; charset=utf-8"
        assert response.headers["cache-control"] == "no-store"
        return Scrape(response.text)


def _settings(service: str, nats_url: str, root: Path) -> Settings:
    return in_process_settings(
        service,
        nats_url=nats_url,
        database_url=f"sqlite+aiosqlite:///{root / (service + '.db')}",
        data_dir=root,
        extra={"TRAINOPS_PUBLIC_URL": f"https://{service}.example.kz"},
    )


@pytest.fixture
async def system(fresh_nats_server: Any, tmp_path: Path) -> AsyncIterator[System]:
    async with AsyncExitStack() as stack:
        clients = {}
        for name, build in BUILDERS.items():
            settings = _settings(name, fresh_nats_server.url, tmp_path)
            spec: ServiceSpec = build(settings)
            app = create_app(spec, settings)
            clients[name] = await stack.enter_async_context(AsyncTestClient(app))
        yield System(clients)


async def _ok(response: httpx.Response, *statuses: int) -> Any:
    assert response.status_code in (statuses or (200, 201)), response.text
    return response.json()


async def _programme_step(system: System, canary: Canary) -> tuple[str, str]:
    """Schedule, register, attend, complete, open the invitation: ``(session id, token)``."""
    scheduling = system.clients["scheduling"]
    registration = system.clients["registration"]
    feedback = system.clients["feedback"]
    training = await _ok(
        await scheduling.post(
            "/trainings",
            json={"code": f"metrics-{uuid.uuid4().hex[:8]}", "title": {"en": "Metrics"}},
            headers=STAFF,
        )
    )
    trainer = await _ok(
        await scheduling.post(
            "/trainers", json={"name": "Metrics Trainer", "home_city": "almaty"}, headers=STAFF
        )
    )
    session = await _ok(
        await scheduling.post(
            "/sessions",
            json={
                "training_id": training["id"],
                "mode": "in_person",
                "cities": ["almaty"],
                "starts_at": "2021-02-01T10:00",
                "ends_at": "2021-02-01T16:00",
                "capacity": 10,
                "language": "ru",
                "trainer_ids": [trainer["id"]],
                "venue": "Almaty press centre",
            },
            headers=STAFF,
        )
    )
    body = {"session_id": session["id"], "participant": canary.participant("almaty")}
    key = {"Idempotency-Key": f"metrics-{uuid.uuid4().hex}"}

    async def registered() -> Any:
        # 404 until registration has its copy of the session (scheduling's event).
        response = await registration.post("/registrations", json=body, headers=ALMATY | key)
        return response.json() if response.status_code == 201 else None

    created = await eventually(registered, timeout=60, what="the registration")
    await _ok(
        await registration.post(
            f"/registrations/{created['id']}/attendance", json={"attended": True}, headers=ALMATY
        )
    )
    await _ok(await scheduling.post(f"/sessions/{session['id']}/complete", headers=STAFF))

    async def invited() -> list[Any]:
        response = await feedback.get(f"/sessions/{session['id']}/invitations", headers=STAFF)
        return list(response.json()) if response.status_code == 200 else []

    invitations = await eventually(invited, timeout=60, what="the invitation")
    token = str(invitations[0]["url"]).rsplit("/f/", 1)[1]
    form = await feedback.get(f"/f/{token}")
    assert form.status_code == 200, form.text[:300]
    return session["id"], token


async def test_every_service_exposes_its_series_without_personal_data(system: System) -> None:
    canary = Canary.fresh()
    session_id, token = await _programme_step(system, canary)
    reporting = system.clients["reporting"]

    async def projected() -> bool:
        response = await reporting.get("/reports/summary", headers=REPORTER)
        return (
            response.status_code == 200
            and (await system.scrape("reporting")).total("trainops_consumer_events_applied_total")
            >= 3
        )

    await eventually(projected, timeout=60, what="reporting to apply the programme's events")

    async def settled(service: str) -> Scrape | None:
        # Backlog and lag are read at most once a second: poll until everything is through.
        scrape = await system.scrape(service)
        unsent = scrape.value("trainops_outbox_unsent", service=service)
        pending = scrape.total("trainops_consumer_pending") + scrape.total(
            "trainops_consumer_ack_pending"
        )
        return scrape if unsent == 0 and pending == 0 else None

    scrapes = {
        name: await eventually(lambda n=name: settled(n), timeout=30, what=f"{name} idle")
        for name in BUILDERS
    }

    # What must never appear: the participant's personal data, the invitation token, ids.
    secrets: Mapping[str, str] = {
        **canary.personal_data(),
        "organisation": canary.organisation,
        "invitation token": token,
        "session id": session_id,
    }
    for name, scrape in scrapes.items():
        assert leaks(scrape.text, secrets) == [], (
            f"{name} /metrics leaks {leaks(scrape.text, secrets)}"
        )
        # Route templates only: no id (all ids here are UUIDs) made it into a label.
        assert UUID.search(scrape.text) is None, UUID.search(scrape.text)
        assert scrape.types["trainops_http_request_duration_seconds"] == "histogram"
        assert scrape.value("trainops_metrics_source_up", service=name, source="database") == 1
        assert scrape.total("trainops_consumer_dead_letters_total") == 0
        # Every request counted under a route is timed under it too.
        for method, route in {
            (dict(ls)["method"], dict(ls)["route"])
            for (n, ls) in scrape.samples
            if n == "trainops_http_requests_total"
        }:
            count = scrape.check_histogram(
                "trainops_http_request_duration_seconds", method=method, route=route
            )
            assert count == scrape.total("trainops_http_requests_total", method=method, route=route)

    # Each request the test made, counted once under its route template and status.
    for service, method, route, status in (
        ("registration", "POST", "/registrations", "201"),
        ("registration", "POST", "/registrations/{registration_id}/attendance", "200"),
        ("scheduling", "POST", "/sessions", "201"),
        ("scheduling", "POST", "/sessions/{session_id}/complete", "200"),
        ("feedback", "GET", "/f/{token}", "200"),
    ):
        counted = scrapes[service].value(
            "trainops_http_requests_total", method=method, route=route, status=status
        )
        assert counted == 1, (service, method, route, status, counted)

    registration = scrapes["registration"]
    # Its own events (registered, attended) published; their batches timed.
    assert registration.value("trainops_outbox_published_total") >= 2
    assert registration.check_histogram("trainops_outbox_relay_publish_seconds") >= 1
    assert registration.check_histogram("trainops_outbox_relay_batch_size") >= 1
    # Scheduling's three events (scheduled, trainer... as they come) applied from SCHEDULING.
    assert registration.value("trainops_consumer_events_applied_total") >= 2
    assert registration.check_histogram("trainops_consumer_batch_size", stream="SCHEDULING") >= 1
    assert (
        registration.value(
            "trainops_consumer_pending", stream="SCHEDULING", consumer="registration"
        )
        == 0
    )
    assert registration.value("trainops_metrics_source_up", source="nats") == 1

    assert scrapes["scheduling"].value("trainops_outbox_published_total") >= 3

    feedback = scrapes["feedback"]
    assert feedback.value("trainops_consumer_events_applied_total") >= 2
    assert feedback.label_values("trainops_consumer_pending", "stream") >= {
        "SCHEDULING",
        "REGISTRATION",
    }

    # The dashboard queries only series the services really serve.
    served = {name for scrape in scrapes.values() for (name, _) in scrape.samples}
    panels = json.loads(DASHBOARD.read_text())["panels"]
    exprs = [t["expr"] for panel in panels for t in panel.get("targets", [])]
    queried = {name for expr in exprs for name in METRIC_NAME.findall(expr)}
    assert queried and queried - served == set(), f"dashboard queries unknown {queried - served}"

    report = scrapes["reporting"]
    assert (
        report.total(
            "trainops_http_requests_total", method="GET", route="/reports/summary", status="200"
        )
        >= 1
    )
    assert report.check_histogram("trainops_consumer_batch_size", stream="REGISTRATION") >= 1


async def test_metrics_is_public_and_refuses_unknown_parameters(system: System) -> None:
    client = system.clients["registration"]
    anonymous = await client.get("/metrics")
    assert anonymous.status_code == 200
    assert "trainops_http_requests_total" in anonymous.text
    refused = await client.get("/metrics", params={"name": "x"})
    assert refused.status_code == 422, refused.text
    schema = (await client.get("/schema/openapi.json")).json()
    operation = schema["paths"]["/metrics"]["get"]
    assert operation["security"] == []
    assert "text/plain; version=0.0.4" in operation["responses"]["200"]["content"]
