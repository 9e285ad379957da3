"""The sessions a coordinator registers people for: their region's copies of scheduling's
sessions, upcoming first."""

from __future__ import annotations

from datetime import datetime

import msgspec
from sqlalchemy.engine import Connection

from trainops_registration.adapters import sessions
from trainops_registration.domain.identity import region_code
from trainops_registration.domain.records import SessionCopy
from trainops_shared.auth import Principal


class RegionSessions(msgspec.Struct, frozen=True, kw_only=True):
    """Sessions not yet over (soonest first), then those over (latest first)."""

    region: str | None
    upcoming: list[SessionCopy]
    past: list[SessionCopy]


def read_region_sessions(
    conn: Connection, principal: Principal, *, region: str | None, now: datetime
) -> RegionSessions:
    """A coordinator always gets their own region (whatever ``region`` says); an admin gets
    ``region``, or every region when it is ``None``."""
    region = (
        region_code(principal.region) or ""
        if principal.role == "coordinator"
        else (region_code(region))
    )
    found = [s for s in sessions.list_sessions(conn) if region is None or region in s.cities]
    upcoming = [s for s in found if s.ends_at >= now]
    past = sorted((s for s in found if s.ends_at < now), key=lambda s: s.starts_at, reverse=True)
    return RegionSessions(region=region, upcoming=upcoming, past=past)
