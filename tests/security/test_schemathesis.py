"""Schemathesis against every service's OpenAPI document: no input makes a service fail.

Each operation of each service gets a bounded number of generated requests (valid and invalid
by the schema), once as the admin and once as a coordinator, against the running processes of
the seeded system. Zero server errors is the property everywhere; where the document claims to
describe the answers (status codes and media types), the answers must match it.

``TRAINOPS_SCHEMATHESIS_EXAMPLES`` sets the examples per operation (default 10: the module runs
in well under two minutes on two cores; raise it for a deeper run).
"""

from __future__ import annotations

import os
from collections.abc import Callable
from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    negative_data_rejection,
    response_schema_conformance,
    status_code_conformance,
)
from security_support import SecuritySystem

from trainops_devtools.testing.processes import SERVICES

pytestmark = pytest.mark.e2e

EXAMPLES = int(os.environ.get("TRAINOPS_SCHEMATHESIS_EXAMPLES", "10"))
PRINCIPALS = ("admin", "coordinator_a")
FRAMING_HEADERS = frozenset({"content-length", "transfer-encoding", "host", "connection"})
MODES = (schemathesis.GenerationMode.POSITIVE, schemathesis.GenerationMode.NEGATIVE)
"""Requests the document allows, and requests it forbids (which must be refused with a 4xx)."""


def fuzz(
    system: SecuritySystem, service: str, principal: str, checks: list[Callable[..., Any]]
) -> list[str]:
    """Run every operation of ``service`` as ``principal``; the failures, one line each."""
    base = system.url(service)
    schema = schemathesis.openapi.from_url(f"{base}/schema/openapi.json", timeout=30)
    headers = system.headers(principal)
    failures: list[str] = []
    for result in schema.get_all_operations():
        operation = result.ok()

        @settings(
            max_examples=EXAMPLES,
            deadline=None,
            database=None,
            derandomize=True,
            phases=[Phase.explicit, Phase.generate],
            suppress_health_check=list(HealthCheck),
        )
        @given(case=st.one_of(*(operation.as_strategy(generation_mode=m) for m in MODES)))
        def run(case: schemathesis.Case) -> None:
            if case.headers:
                # Framing headers are the HTTP client's, not the API's: a generated
                # ``Content-Length: QVmY`` is refused by the HTTP server (uvicorn's plain-text
                # 400) before any service code runs, which says nothing about the document.
                case.headers = {
                    name: value
                    for name, value in case.headers.items()
                    if name.lower() not in FRAMING_HEADERS
                }
            case.call_and_validate(base_url=base, headers=headers, checks=checks, timeout=30)

        try:
            run()
        except Exception as exc:  # every failing operation is reported, not only the first
            failures.append(f"{operation.label}: {str(exc)[:1500]}")
    return failures


@pytest.mark.parametrize("principal", PRINCIPALS)
@pytest.mark.parametrize("service", SERVICES)
def test_no_server_errors(security_system: SecuritySystem, service: str, principal: str) -> None:
    failures = fuzz(security_system, service, principal, [not_a_server_error])
    assert not failures, "\n\n".join(failures)


@pytest.mark.parametrize("service", SERVICES)
def test_answers_match_the_document(security_system: SecuritySystem, service: str) -> None:
    """Every status code and media type a service answers with is one its document declares."""
    failures = fuzz(
        security_system,
        service,
        "admin",
        [
            status_code_conformance,
            content_type_conformance,
            response_schema_conformance,
            negative_data_rejection,
        ],
    )
    assert not failures, "\n\n".join(failures)
