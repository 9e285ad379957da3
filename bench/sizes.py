"""How big and how long each benchmark runs, per mode, in one place.

* ``full``: the sizes the issue names (1M-event rebuild, 1M registrations for the report query),
  with time budgets chosen so that the whole run stays under 10 minutes on a 2-core machine;
  a part that hits its budget says so (``"completed": false``) and reports what it reached.
* ``quick``: ``trainops bench --quick``, a short run (under a minute) of every benchmark.
* ``smoke``: the smallest sizes that still exercise every code path; for the test suite.

Budgets bound the wall time of a part; they never make a figure look better: a rate measured
over a part cut short is over what was actually done, and the JSON says it was cut short.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any


@dataclass(frozen=True, slots=True)
class Sizes:
    mode: str
    # write_path
    write_duration_s: float
    write_warmup_s: float
    write_sessions: int
    write_postgres: bool
    # event_to_report
    e2r_rate_per_s: float
    e2r_duration_s: float
    e2r_sessions: int
    e2r_drain_timeout_s: float
    # projection (+ rebuild, footprint): one JetStream store holds the programme's events
    programme_events: int
    projection_backlog: int
    projection_budget_s: float
    rebuild_budget_s: float
    others_catch_up_budget_s: float
    # relay
    relay_backlog: int
    relay_min_deadline_s: float
    # report_query
    query_registrations: int
    query_fill_budget_s: float
    query_warm_requests: int
    query_cold_requests: int
    # soak: steady registrations, RSS of registration, reporting and nats-server before and after
    soak_rate_per_s: float
    soak_duration_s: float
    soak_warmup_s: float
    soak_sessions: int
    # system_write: every service up, write load, then the consumers' catch-up
    system_write_duration_s: float
    system_write_warmup_s: float
    system_write_sessions: int
    system_write_catch_up_timeout_s: float

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


SMOKE = Sizes(
    mode="smoke",
    write_duration_s=1.0,
    write_warmup_s=0.3,
    write_sessions=4,
    write_postgres=False,
    e2r_rate_per_s=200.0,
    e2r_duration_s=1.0,
    e2r_sessions=4,
    e2r_drain_timeout_s=20.0,
    programme_events=600,
    projection_backlog=300,
    projection_budget_s=30.0,
    rebuild_budget_s=30.0,
    others_catch_up_budget_s=10.0,
    relay_backlog=300,
    relay_min_deadline_s=120.0,
    query_registrations=500,
    query_fill_budget_s=10.0,
    query_warm_requests=20,
    query_cold_requests=2,
    soak_rate_per_s=100.0,
    soak_duration_s=2.0,
    soak_warmup_s=0.5,
    soak_sessions=4,
    system_write_duration_s=1.5,
    system_write_warmup_s=0.3,
    system_write_sessions=4,
    system_write_catch_up_timeout_s=30.0,
)

QUICK = Sizes(
    mode="quick",
    write_duration_s=2.0,
    write_warmup_s=0.5,
    write_sessions=8,
    write_postgres=False,
    e2r_rate_per_s=500.0,
    e2r_duration_s=2.0,
    e2r_sessions=8,
    e2r_drain_timeout_s=15.0,
    programme_events=2_500,
    projection_backlog=1_000,
    projection_budget_s=15.0,
    rebuild_budget_s=20.0,
    others_catch_up_budget_s=5.0,
    relay_backlog=1_000,
    relay_min_deadline_s=120.0,
    query_registrations=2_000,
    query_fill_budget_s=3.0,
    query_warm_requests=40,
    query_cold_requests=3,
    soak_rate_per_s=250.0,
    soak_duration_s=20.0,
    soak_warmup_s=4.0,
    soak_sessions=16,
    system_write_duration_s=5.0,
    system_write_warmup_s=1.0,
    system_write_sessions=8,
    system_write_catch_up_timeout_s=60.0,
)

FULL = Sizes(
    mode="full",
    write_duration_s=8.0,
    write_warmup_s=1.0,
    write_sessions=64,
    write_postgres=True,
    e2r_rate_per_s=500.0,
    e2r_duration_s=10.0,
    e2r_sessions=32,
    e2r_drain_timeout_s=30.0,
    programme_events=1_000_000,
    projection_backlog=100_000,
    projection_budget_s=40.0,
    # The 1M-event rebuild runs to completion (a partial run publishes nothing): ~2 minutes
    # on a quiet 2-core machine, the budget leaves room for a loaded one.
    rebuild_budget_s=420.0,
    others_catch_up_budget_s=20.0,
    # At `sync_interval: always` every message costs one fsync (~1 ms here) on either side, so
    # 100k rows would cost ~3 minutes for relay + baseline; the rate is flat over the backlog.
    relay_backlog=50_000,
    relay_min_deadline_s=300.0,
    query_registrations=1_000_000,
    query_fill_budget_s=45.0,
    query_warm_requests=300,
    query_cold_requests=15,
    # >= 50k registrations at a steady rate: a leak of a few KB per registration shows as
    # hundreds of MB, noise stays within a few.
    soak_rate_per_s=250.0,
    soak_duration_s=210.0,
    soak_warmup_s=20.0,
    soak_sessions=64,
    system_write_duration_s=20.0,
    system_write_warmup_s=2.0,
    system_write_sessions=64,
    system_write_catch_up_timeout_s=180.0,
)

MODES: dict[str, Sizes] = {s.mode: s for s in (SMOKE, QUICK, FULL)}
