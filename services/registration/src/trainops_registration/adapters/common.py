"""What every repository module of this service needs: one way to run a statement a unique
index may refuse, and the region claim in the form the city columns hold.

Region scoping happens in the repositories, in the WHERE clause of every staff-facing read
(:func:`trainops_shared.auth.region_filter` on a city column), so a coordinator's query simply
cannot return another region's rows: they are "not found", never "forbidden".
"""

from __future__ import annotations

import dataclasses
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection
from sqlalchemy.exc import IntegrityError

from trainops_registration.adapters.tables import registrations
from trainops_registration.domain.identity import region_code
from trainops_shared.auth import Principal

# Rendered inline (not as a bound parameter) so that SQLite can prove the partial unique index
# ``ux_registrations_live`` (``WHERE status <> 'cancelled'``) applies to the query.
NOT_CANCELLED = registrations.c.status != sa.literal_column("'cancelled'")


def _tolerates_failed_statement(conn: Connection) -> bool:
    """Whether a failed INSERT/UPDATE leaves the transaction usable without a SAVEPOINT.

    SQLite undoes just the failing statement (constraint violations ABORT the statement only);
    PostgreSQL aborts the whole transaction, so there a SAVEPOINT must fence the statement.
    """
    return conn.dialect.name == "sqlite"


def execute_may_conflict(conn: Connection, stmt: sa.Executable, params: dict[str, Any]) -> bool:
    """Execute ``stmt``; ``False`` (and nothing changed) when a unique index refused it."""
    try:
        if _tolerates_failed_statement(conn):
            conn.execute(stmt, params)
        else:
            with conn.begin_nested():
                conn.execute(stmt, params)
    except IntegrityError:
        return False
    return True


def normalise_region(principal: Principal) -> Principal:
    """Region claims compare with lower-cased city codes (``Almaty`` in a token is ``almaty``)."""
    if principal.region is None:
        return principal
    return dataclasses.replace(principal, region=region_code(principal.region))
