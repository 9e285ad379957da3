"""The system the attack-matrix tests attack: the four services as processes on a NATS server of
their own, with real data in region A (``almaty``) so every path parameter is a real id.

One system serves a whole test session (starting four processes costs seconds on two cores);
tests that must see a pristine system (the PII canaries) start their own.

Seeded in region A: a training, a trainer, an in-person session in Almaty (completed) with one
registration of a canary participant who attended and has a feedback invitation, and an online
session in Almaty and Aktobe (scheduled) with a second registration of the same person, made with
an Idempotency-Key. Region B (``aktobe``) has nothing of its own: whatever a coordinator of
Aktobe sees of region A is a leak.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from security_support import SecuritySystem, Seed, seed_region_a, start_security_system

from trainops_devtools.testing.attack import Canary


@pytest.fixture(scope="session")
def security_system(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[SecuritySystem]:
    """The seeded system shared by the matrix, JWT and schemathesis tests."""
    system, teardown = start_security_system(request, tmp_path_factory.mktemp("security"))
    try:
        system.seed = seed_region_a(system.client, Canary.fresh(), system.harness.data_dir)
        yield system
    finally:
        teardown()


@pytest.fixture
def seed(security_system: SecuritySystem) -> Seed:
    assert security_system.seed is not None
    return security_system.seed
