"""Routes for possible duplicates and merges of participants.

Flags are for coordinators and admins (a coordinator's reach is their region, narrowed in the
repository queries: another region's participant or flag is 404); candidate review and merges
are admin-only (other roles: 403).
"""

from __future__ import annotations

import uuid
from functools import partial
from typing import Annotated, Any

from litestar import Controller, delete, get, post
from litestar.di import NamedDependency
from litestar.params import FromPath, FromQuery, JSONBody, QueryParameter

from trainops_registration.api import views
from trainops_registration.api.responses import (
    CandidatesBody,
    ConsentsBody,
    ErasureBody,
    FlagBody,
    FlagPage,
    MergeBody,
    MergePage,
)
from trainops_registration.api.schemas import DuplicateFlagRequest, MergeRequest
from trainops_registration.domain.consent import configured_purposes
from trainops_registration.domain.records import FlagStatus
from trainops_registration.handlers import identity, lifecycle
from trainops_shared.auth import Principal, requires
from trainops_shared.openapi_docs import protected
from trainops_shared.service import ServiceRuntime
from trainops_shared.validation import MAX_OFFSET

Runtime = NamedDependency[ServiceRuntime]
Caller = NamedDependency[Principal]
Limit = Annotated[int, QueryParameter(ge=1, le=500)]
Offset = Annotated[int, QueryParameter(ge=0, le=MAX_OFFSET)]


class ParticipantController(Controller):
    path = "/participants"
    tags = ["participants"]  # noqa: RUF012 - Litestar declares these as plain lists

    @post(
        "/{participant_id:uuid}/duplicate-flags",
        status_code=201,
        guards=[requires("admin", "coordinator")],
        responses=protected(413, 404, 409),
    )
    async def flag_duplicate(
        self,
        participant_id: FromPath[uuid.UUID],
        data: JSONBody[DuplicateFlagRequest],
        runtime: Runtime,
        principal: Caller,
    ) -> FlagBody:
        """Flag one of your participants as possibly registered before (here or elsewhere).

        ``possible_duplicate_of`` may name another participant you can see; for someone of
        another region, say in the note what you know (an admin can see every region).
        """
        command = identity.FlagDuplicate(
            participant_id=participant_id,
            note=data.note,
            possible_duplicate_of=data.possible_duplicate_of,
        )
        flag = await runtime.write(
            partial(identity.flag_duplicate, command=command, principal=principal)
        )
        return views.flag_body(flag)

    @get("/duplicate-flags", guards=[requires("admin", "coordinator")], responses=protected())
    async def list_flags(
        self,
        runtime: Runtime,
        principal: Caller,
        status: FromQuery[FlagStatus | None] = None,
        limit: Limit = 50,
        offset: Offset = 0,
    ) -> FlagPage:
        """Flags you may see (a coordinator: those on their region's people), oldest first."""

        page = await runtime.read(
            partial(
                identity.read_flags, principal=principal, status=status, limit=limit, offset=offset
            )
        )
        return views.flag_page(page)

    @get("/duplicate-candidates", guards=[requires("admin")], responses=protected())
    async def candidates(
        self, runtime: Runtime, principal: Caller, limit: Limit = 100
    ) -> CandidatesBody:
        """Participants of different cities sharing an e-mail or phone, and the open flags."""

        found = await runtime.read(
            partial(identity.read_candidates, principal=principal, limit=limit)
        )
        return views.candidates_body(found)

    @post(
        "/merges",
        status_code=201,
        guards=[requires("admin")],
        responses=protected(413, 404, 409),
    )
    async def merge(
        self, data: JSONBody[MergeRequest], runtime: Runtime, principal: Caller
    ) -> MergeBody:
        """Merge ``merge`` into ``keep``: its registrations move to the kept participant (and
        the kept participant's city), it keeps no personal data; the audit record is returned."""
        command = identity.MergeParticipants(keep=data.keep, merge=data.merge, reason=data.reason)
        merge = await runtime.write(
            partial(identity.merge_participants, command=command, principal=principal)
        )
        return views.merge_body(merge)

    @get("/merges", guards=[requires("admin")], responses=protected())
    async def list_merges(
        self, runtime: Runtime, principal: Caller, limit: Limit = 50, offset: Offset = 0
    ) -> MergePage:
        """The merge audit records, newest first."""

        page = await runtime.read(
            partial(identity.read_merges, principal=principal, limit=limit, offset=offset)
        )
        return views.merge_page(page)


class LifecycleController(Controller):
    """The person's data lifecycle: erasure, subject access and consents (admin, or the
    coordinator of the person's region; another region's person is 404)."""

    path = "/participants"
    tags = ["participants"]  # noqa: RUF012 - Litestar declares these as plain lists
    guards = [requires("admin", "coordinator")]  # noqa: RUF012

    @delete("/{participant_id:uuid}", status_code=200, responses=protected(404))
    async def erase(
        self, participant_id: FromPath[uuid.UUID], runtime: Runtime, principal: Caller
    ) -> ErasureBody:
        """Erase the person's personal data for good: their key is destroyed, so their name,
        contacts and organisation can never be read again (copies in backups included). The
        pseudonymous id, the categories and the registrations stay: counts do not change."""
        erased_at = await runtime.write(
            partial(lifecycle.erase_participant, participant_id=participant_id, principal=principal)
        )
        return ErasureBody(participant_id=participant_id, erased_at=views.instant(erased_at))

    @get("/{participant_id:uuid}/export", responses=protected(404))
    async def export(
        self, participant_id: FromPath[uuid.UUID], runtime: Runtime, principal: Caller
    ) -> dict[str, Any]:
        """Everything held about the person (subject access), as JSON."""
        return await runtime.write(
            partial(
                lifecycle.export_participant, participant_id=participant_id, principal=principal
            )
        )

    @get("/{participant_id:uuid}/consents", responses=protected(404))
    async def consents(
        self, participant_id: FromPath[uuid.UUID], runtime: Runtime, principal: Caller
    ) -> ConsentsBody:
        """The purposes the person agreed to, and when any was withdrawn."""
        found = await runtime.read(
            partial(lifecycle.read_consents, participant_id=participant_id, principal=principal)
        )
        return views.consents_body(participant_id, found)

    @delete(
        "/{participant_id:uuid}/consents/{purpose:str}",
        status_code=200,
        responses=protected(404, 409),
    )
    async def withdraw_consent(
        self,
        participant_id: FromPath[uuid.UUID],
        purpose: FromPath[str],
        runtime: Runtime,
        principal: Caller,
    ) -> ConsentsBody:
        """Withdraw one purpose on the person's behalf (taking part itself: ask for erasure)."""
        command = lifecycle.WithdrawConsent(
            participant_id=participant_id,
            purpose=purpose,
            offered=configured_purposes(runtime.settings.consent_purposes),
        )
        found = await runtime.write(
            partial(lifecycle.withdraw_consent, command=command, principal=principal)
        )
        return views.consents_body(participant_id, found)
