"""Fixtures of the end-to-end tests: the four services as separate processes on a NATS server
of the test's own (so no stream or durable consumer leaks between tests), driven only through
:class:`trainops_cli.api_client.TrainopsClient`."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any, Literal

import pytest

from trainops_cli.api_client import ServiceUrls, TokenIssuer, TrainopsClient
from trainops_devtools.testing.processes import ServiceProcess
from trainops_devtools.testing.pytest_plugin import ServiceHarness

EXACT_REPORTS = {"REPORT_MIN_CELL": "1"}


@dataclass
class E2ESystem:
    harness: ServiceHarness
    processes: dict[str, ServiceProcess]
    client: TrainopsClient
    nats_url: str

    @property
    def urls(self) -> ServiceUrls:
        return self.client.urls

    def logs(self) -> str:
        """The tail of every service's log, for assertion messages."""
        return "\n\n".join(
            f"--- {name} ({p.log_path}):\n{p.log_tail(30)}" for name, p in self.processes.items()
        )


@pytest.fixture
def start_system(
    service_processes: ServiceHarness, fresh_nats_server: Any
) -> Iterator[Callable[..., E2ESystem]]:
    """``start_system(database="sqlite"|"postgres")``: the four services, ready."""
    clients: list[TrainopsClient] = []

    def start(
        database: Literal["sqlite", "postgres"] = "sqlite",
        report_env: Mapping[str, str] | None = None,
    ) -> E2ESystem:
        """``report_env``: reporting's disclosure settings; by default the smallest cell 1, so
        that a test can read exact counts (k=1) and compare them with what it sent (a test
        that checks suppression restarts reporting with another ``REPORT_MIN_CELL``)."""
        env = EXACT_REPORTS if report_env is None else report_env
        processes = service_processes.start(
            nats_url=fresh_nats_server.url, database=database, extra_env=env
        )
        urls = ServiceUrls.from_mapping({name: p.url for name, p in processes.items()})
        client = TrainopsClient(urls, TokenIssuer(service_processes.signing_key))
        clients.append(client)
        return E2ESystem(service_processes, processes, client, fresh_nats_server.url)

    try:
        yield start
    finally:
        for client in clients:
            client.close()
