"""POST /sessions/{session_id}/move: a coordinator moves people of a cancelled or full session."""

from __future__ import annotations

import uuid
from functools import partial
from typing import Final

from litestar import post
from litestar.di import NamedDependency
from litestar.params import FromPath, JSONBody

from trainops_registration.api import views
from trainops_registration.api.responses import MovedBody, MovedRegistration
from trainops_registration.api.schemas import MoveRequest
from trainops_registration.handlers.moving import move_registrations
from trainops_shared.auth import Principal, requires
from trainops_shared.errors import Invalid
from trainops_shared.events import uuid7
from trainops_shared.openapi_docs import protected
from trainops_shared.service import ServiceRuntime

MOVE_MAX: Final = 1000
"""More people than any session seats."""


@post(
    "/sessions/{session_id:uuid}/move",
    tags=["registrations"],
    status_code=200,
    guards=[requires("admin", "coordinator")],
    responses=protected(413, 404, 409),
)
async def move_people(
    session_id: FromPath[uuid.UUID],
    data: JSONBody[MoveRequest],
    runtime: NamedDependency[ServiceRuntime],
    principal: NamedDependency[Principal],
) -> MovedBody:
    """Register each named person of this (cancelled or full) session for ``to_session_id``,
    all or none: confirmed while seats last, then waitlisted; each is told once, by the new
    registration's message. 404 for a registration not of this session (or another region's),
    409 for a session neither cancelled nor full, a closed target or a person already there."""
    if len(data.registration_ids) > MOVE_MAX:
        raise Invalid(f"at most {MOVE_MAX} registrations at once", field="registration_ids")
    moved = await runtime.write(
        partial(
            move_registrations,
            from_session_id=session_id,
            to_session_id=data.to_session_id,
            registration_ids=list(data.registration_ids),
            principal=principal,
            correlation_id=uuid7(),
        )
    )
    return MovedBody(
        moved=[
            MovedRegistration(
                from_registration_id=m.from_registration_id,
                registration=views.registration_body(m.registration),
            )
            for m in moved
        ]
    )
