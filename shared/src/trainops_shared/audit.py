"""Who did what: the per-service audit log, written in the transaction of the change it records.

A handler that changes state calls :func:`record_audit` with the same ``Connection`` it writes
the change (and its outbox rows) with, so an entry exists exactly when the change committed.
``GET /audit`` (added to every service by ``create_app``, admins only) reads it back.

Entries say who (the account's subject and role), what (a dotted action), when, and which record
(type and id); never a participant's name, contact or organisation. The API makes that hard to
get wrong: ``record_id`` must look like an identifier, and ``detail`` is a small mapping whose
keys are lower-case names (none that suggest personal data) and whose values are numbers,
booleans, UUIDs, instants or lower-case codes (``confirmed``, ``almaty``), so a name, an e-mail
address, a phone number or a sentence is refused with :class:`AuditDetailRefused` before anything
is written.

>>> import sqlalchemy as sa
>>> from trainops_shared.auth import Principal
>>> from trainops_shared.tables import audit_log
>>> engine = sa.create_engine("sqlite://")
>>> audit_log.create(engine)
>>> with engine.begin() as conn:
...     record_audit(
...         conn,
...         Principal(subject="019ad2f4-88c0-7b1e-a5d2-3e6f9c1b7a40", role="coordinator"),
...         "registration.cancelled",
...         "registration",
...         "019ad3e1-6c00-7a4e-9b21-5f0c8e7d2a13",
...         {"previous_status": "confirmed", "seats_freed": 1},
...     )
...     [(e.action, e.detail) for e in list_audit(conn, AuditQuery())]
[('registration.cancelled', {'previous_status': 'confirmed', 'seats_freed': 1})]
>>> try:
...     record_audit(conn, "someone", "x.y", "participant", "1", {"name": "Aigerim Bekova"})
... except AuditDetailRefused as refused:
...     print(refused)
detail key 'name' may hold personal data: never in an audit entry
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Annotated, Any, Final, TypeVar

import msgspec
import sqlalchemy as sa
from litestar import get
from litestar.params import Parameter
from sqlalchemy.engine import Connection

from trainops_shared.auth import Principal, requires
from trainops_shared.openapi_docs import protected
from trainops_shared.tables import AUDIT_ACTOR_LENGTH, AUDIT_NAME_LENGTH, audit_log
from trainops_shared.timeutil import as_utc, utc_now
from trainops_shared.validation import check_instant

__all__ = [
    "AUDIT_PATH",
    "AuditDetailRefused",
    "AuditEntry",
    "AuditPage",
    "AuditQuery",
    "DetailValue",
    "audit_route",
    "list_audit",
    "record_audit",
]

T = TypeVar("T")

AUDIT_PATH: Final = "/audit"
DEFAULT_LIMIT: Final = 100
MAX_LIMIT: Final = 1000
MAX_DETAIL_KEYS: Final = 16
MAX_CODE_LENGTH: Final = 64
MAX_ENTRY_ID: Final = 2**63 - 1
"""The largest id a BIGINT holds: a larger ``before`` would overflow in SQL instead of paging."""

DetailValue = int | float | bool | None | uuid.UUID | datetime | str
"""What a ``detail`` value may be; a ``str`` must also be a lower-case code (see module doc)."""

_NAME = re.compile(r"^[a-z][a-z0-9_]*(\.[a-z][a-z0-9_]*)*$")
_KEY = re.compile(r"^[a-z][a-z0-9_]{0,39}$")
_CODE = re.compile(r"^[a-z0-9:][a-z0-9_.:-]*$")  # a leading ":" for IPv6 (``::1``)
_RECORD_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.:-]*$")
_PERSONAL_KEY = re.compile(
    r"name|mail|phone|organi[sz]ation|^org$|^org_|contact|address|comment|iin|birth|passport"
    r"|note|text|message"
)
"""Key fragments that suggest personal data or free text; such a key is refused outright."""


class AuditDetailRefused(ValueError):
    """An audit call that would store something other than non-personal identifiers and codes.

    A programming error, not bad input from a client: it surfaces as a 500 and the change it
    was recorded with rolls back, so a careless call can never leak into the log silently.
    """


def _checked_name(value: str, what: str) -> str:
    if not (0 < len(value) <= AUDIT_NAME_LENGTH and _NAME.match(value)):
        raise AuditDetailRefused(
            f"{what} {value[:AUDIT_NAME_LENGTH]!r} must be a dotted lower-case name "
            f"(e.g. registration.cancelled), at most {AUDIT_NAME_LENGTH} characters"
        )
    return value


def _checked_record_id(value: str | uuid.UUID) -> str:
    text = str(value)
    if not (0 < len(text) <= AUDIT_NAME_LENGTH and _RECORD_ID.match(text)):
        raise AuditDetailRefused(
            "record_id must be an identifier (a UUID, a number or a code without spaces or @), "
            f"at most {AUDIT_NAME_LENGTH} characters"
        )
    return text


def _checked_detail(detail: Mapping[str, DetailValue] | None) -> dict[str, Any] | None:
    if detail is None:
        return None
    if len(detail) > MAX_DETAIL_KEYS:
        raise AuditDetailRefused(f"detail has {len(detail)} keys; at most {MAX_DETAIL_KEYS}")
    out: dict[str, Any] = {}
    for key, value in detail.items():
        if not isinstance(key, str) or not _KEY.match(key):
            raise AuditDetailRefused(f"detail key {str(key)[:40]!r} must be a lower-case name")
        if _PERSONAL_KEY.search(key):
            raise AuditDetailRefused(
                f"detail key {key!r} may hold personal data: never in an audit entry"
            )
        out[key] = _checked_value(key, value)
    return out


def _checked_value(key: str, value: DetailValue) -> Any:
    if value is None or isinstance(value, bool | int | float):
        return value
    if isinstance(value, uuid.UUID):
        return str(value)
    if isinstance(value, datetime):
        return as_utc(value).isoformat().replace("+00:00", "Z")
    if isinstance(value, str):
        if len(value) <= MAX_CODE_LENGTH and _CODE.match(value):
            return value
        raise AuditDetailRefused(
            f"detail value of {key!r} must be a lower-case code without spaces or @ (at most "
            f"{MAX_CODE_LENGTH} characters); names, contacts and sentences never go here"
        )
    raise AuditDetailRefused(
        f"detail value of {key!r} is a {type(value).__name__}; use a number, a boolean, a UUID, "
        "a datetime or a lower-case code"
    )


#: Built once: a fresh ``insert().values(...)`` per entry costs more than the write itself on
#: the registration path (SQLAlchemy caches the compiled form of this one statement).
_INSERT: Final = audit_log.insert()


def record_audit(
    conn: Connection,
    actor: Principal | str,
    action: str,
    record_type: str,
    record_id: str | uuid.UUID,
    detail: Mapping[str, DetailValue] | None = None,
    *,
    at: datetime | None = None,
) -> None:
    """Append one entry; call it inside the transaction of the change it records.

    ``actor`` is the request's :class:`~trainops_shared.auth.Principal` (its subject and role
    are kept) or an account subject. ``action`` is a dotted name (``session.cancelled``),
    ``record_type`` the kind of record (``session``), ``record_id`` its identifier.
    """
    if isinstance(actor, Principal):
        subject, role = actor.subject, actor.role
    else:
        subject, role = actor, None
    if not (0 < len(subject) <= AUDIT_ACTOR_LENGTH) or any(c.isspace() for c in subject):
        raise AuditDetailRefused(
            f"actor must be an account subject without spaces, at most {AUDIT_ACTOR_LENGTH} "
            "characters"
        )
    checked = _checked_detail(detail)
    conn.execute(
        _INSERT,
        {
            "occurred_at": as_utc(at) if at is not None else utc_now(),
            "actor": subject,
            "actor_role": role,
            "action": _checked_name(action, "action"),
            "record_type": _checked_name(record_type, "record_type"),
            "record_id": _checked_record_id(record_id),
            "detail": None if checked is None else msgspec.json.encode(checked).decode(),
        },
    )


class AuditEntry(msgspec.Struct, frozen=True, kw_only=True):
    """One audit entry: who did what, when, to which record."""

    id: int
    """Increasing with time; pass the smallest one seen as ``before`` for the next page."""
    occurred_at: datetime
    actor: str
    """The acting account's subject."""
    actor_role: str | None
    action: str
    record_type: str
    record_id: str
    detail: dict[str, Any] | None
    """Non-personal particulars of the change (statuses, counts, ids)."""


class AuditPage(msgspec.Struct, frozen=True, kw_only=True):
    """Entries newest first, at most ``limit`` of them."""

    entries: list[AuditEntry]
    limit: int
    next_before: int | None
    """``before`` for the next (older) page, or ``None`` when this page is the last."""


@dataclass(frozen=True, slots=True)
class AuditQuery:
    """The filters of ``GET /audit``, already validated."""

    since: datetime | None = None
    action: str | None = None
    actor: str | None = None
    before: int | None = None
    limit: int = DEFAULT_LIMIT


def list_audit(conn: Connection, query: AuditQuery) -> list[AuditEntry]:
    """Entries matching ``query``, newest first (by ``id``, which grows with every entry)."""
    stmt = sa.select(audit_log).order_by(audit_log.c.id.desc()).limit(query.limit)
    if query.since is not None:
        stmt = stmt.where(audit_log.c.occurred_at >= query.since)
    if query.action is not None:
        stmt = stmt.where(audit_log.c.action == query.action)
    if query.actor is not None:
        stmt = stmt.where(audit_log.c.actor == query.actor)
    if query.before is not None:
        stmt = stmt.where(audit_log.c.id < query.before)
    return [
        AuditEntry(
            id=row.id,
            occurred_at=row.occurred_at,
            actor=row.actor,
            actor_role=row.actor_role,
            action=row.action,
            record_type=row.record_type,
            record_id=row.record_id,
            detail=None if row.detail is None else msgspec.json.decode(row.detail),
        )
        for row in conn.execute(stmt)
    ]


Reader = Callable[[Callable[[Connection], T]], Awaitable[T]]


def audit_route(read: Reader[list[AuditEntry]]) -> Any:
    """The ``GET /audit`` handler over ``read`` (the service runtime's read transaction)."""

    @get(
        AUDIT_PATH,
        guards=[requires("admin")],
        tags=["operations"],
        responses=protected(),
    )
    async def read_audit_log(
        since: Annotated[
            datetime | None,
            Parameter(description="Only entries at or after this instant (ISO 8601)."),
        ] = None,
        action: Annotated[
            str | None,
            Parameter(
                description="Only this action (``registration.cancelled``).",
                max_length=AUDIT_NAME_LENGTH,
                pattern=_NAME.pattern,
            ),
        ] = None,
        actor: Annotated[
            str | None,
            Parameter(
                description="Only this account subject.",
                min_length=1,
                max_length=AUDIT_ACTOR_LENGTH,
                pattern=r"^\S+$",
            ),
        ] = None,
        before: Annotated[
            int,
            Parameter(
                description="Only entries older than this id (paging; the default is no bound).",
                ge=1,
                le=MAX_ENTRY_ID,
            ),
        ] = MAX_ENTRY_ID,
        limit: Annotated[int, Parameter(ge=1, le=MAX_LIMIT)] = DEFAULT_LIMIT,
    ) -> AuditPage:
        """Who changed what and when in this service (admins only), newest first.

        Entries hold account subjects, actions and record ids, never participants' personal data.
        """
        query = AuditQuery(
            since=None if since is None else check_instant(since, "since"),
            action=action,
            actor=actor,
            before=before,
            limit=limit,
        )
        entries = await read(lambda conn: list_audit(conn, query))
        more = len(entries) == limit and entries[-1].id > 1
        return AuditPage(entries=entries, limit=limit, next_before=entries[-1].id if more else None)

    return read_audit_log
