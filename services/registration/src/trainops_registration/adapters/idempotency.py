"""Idempotency keys: the first answer to a keyed POST, kept for its sender's retries.

A key is only ever compared within one :class:`IdempotencyScope` (the sender and the route):
the same key sent by another principal or to another route is another row, a claim of its own.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from trainops_registration.adapters.common import execute_may_conflict, normalise_region
from trainops_registration.adapters.tables import idempotency_keys
from trainops_shared.auth import Principal


@dataclass(frozen=True, slots=True)
class StoredResponse:
    request_hash: str
    status_code: int
    body: dict[str, Any]


@dataclass(frozen=True, slots=True)
class IdempotencyScope:
    """Whose key it is and for which route.

    The subject alone does not identify a principal (development tokens all say ``dev``), so
    the role and the (normalised) region claim belong to the scope as well.
    """

    subject: str
    role: str
    region: str
    route: str

    @classmethod
    def of(cls, principal: Principal, route: str) -> IdempotencyScope:
        region = normalise_region(principal).region or ""
        return cls(principal.subject, principal.role, region, route)

    def params(self) -> dict[str, str]:
        return {
            "b_subject": self.subject,
            "b_role": self.role,
            "b_region": self.region,
            "b_route": self.route,
        }


_ik = idempotency_keys.c
_KEY_IN_SCOPE = sa.and_(
    _ik.subject == sa.bindparam("b_subject"),
    _ik.role == sa.bindparam("b_role"),
    _ik.region == sa.bindparam("b_region"),
    _ik.route == sa.bindparam("b_route"),
    _ik.key == sa.bindparam("b_key"),
)
_CLAIM_KEY = idempotency_keys.insert()
_GET_KEY = sa.select(idempotency_keys).where(_KEY_IN_SCOPE)
_STORE_RESPONSE = (
    idempotency_keys.update()
    .where(_KEY_IN_SCOPE)
    .values(status_code=sa.bindparam("b_code"), response=sa.bindparam("b_body"))
)


def claim_idempotency_key(
    conn: Connection, scope: IdempotencyScope, key: str, request_hash: str, now: datetime
) -> StoredResponse | None:
    """Claim ``key`` within ``scope``, or return what the first request with it answered.

    The claim is an INSERT: on PostgreSQL a concurrent retry blocks on the primary key until the
    first transaction commits (then finds its answer) or rolls back (then claims it itself).
    """
    claimed = execute_may_conflict(
        conn,
        _CLAIM_KEY,
        {
            "subject": scope.subject,
            "role": scope.role,
            "region": scope.region,
            "route": scope.route,
            "key": key,
            "request_hash": request_hash,
            "status_code": 0,
            "response": {},
            "created_at": now,
        },
    )
    if claimed:
        return None
    row = conn.execute(_GET_KEY, {"b_key": key, **scope.params()}).mappings().one()
    return StoredResponse(row["request_hash"], int(row["status_code"]), dict(row["response"]))


def store_idempotent_response(
    conn: Connection, scope: IdempotencyScope, key: str, status_code: int, body: dict[str, Any]
) -> None:
    conn.execute(
        _STORE_RESPONSE, {"b_key": key, "b_code": status_code, "b_body": body, **scope.params()}
    )
