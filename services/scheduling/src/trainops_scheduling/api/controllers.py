"""Thin HTTP routes: parse, run one use case in one transaction, shape the answer.

Writes need ``programme_staff`` or ``admin``; any authenticated role may read (coordinators need
the calendar of every city to place participants, and sessions hold no personal data).
"""

from __future__ import annotations

import re
import uuid
from datetime import date, datetime, time
from functools import partial
from typing import Annotated

from litestar import Response, get, post
from litestar.di import NamedDependency
from litestar.params import FromPath, FromQuery, JSONBody, QueryParameter
from litestar.status_codes import HTTP_200_OK
from sqlalchemy.exc import IntegrityError

from trainops_scheduling.api.schemas import (
    CancelIn,
    CapacityIn,
    CityOut,
    DefineTrainingIn,
    RegisterTrainerIn,
    RescheduleIn,
    ScheduleSessionIn,
    SessionOut,
    Status,
    TrainerOut,
    TrainingOut,
)
from trainops_scheduling.domain import (
    CityCatalogue,
    InvalidField,
    TravelTimes,
    render_session_ical,
)
from trainops_scheduling.domain.cities import load_zone
from trainops_scheduling.domain.records import SessionFilter
from trainops_scheduling.domain.times import to_utc
from trainops_scheduling.handlers import commands, queries
from trainops_shared.auth import Principal, requires
from trainops_shared.errors import Conflict, Invalid
from trainops_shared.openapi_docs import protected
from trainops_shared.service import ServiceRuntime
from trainops_shared.validation import MAX_OFFSET, check_text

Runtime = NamedDependency[ServiceRuntime]
Actor = NamedDependency[Principal]
Catalogue = NamedDependency[CityCatalogue]
MaxCapacity = NamedDependency[int]
Travel = NamedDependency[TravelTimes]
"""Injected by name: the shared runtime and the signed-in principal (the acting account of every
change), and the city catalogue, the capacity bound (``SCHEDULING_MAX_CAPACITY``) and the
trainers' travel times (``SCHEDULING_TRAVEL_*``) the app's Router provides."""

WRITERS = [requires("programme_staff", "admin")]
CALENDAR_MEDIA_TYPE = "text/calendar"
"""Litestar appends ``; charset=utf-8`` to ``text/*`` types itself (the response charset)."""
_DATE_ONLY = re.compile(r"^\d{4}-\d{2}-\d{2}$")


# ------------------------------------------------------------------------------------------
# Reference data
# ------------------------------------------------------------------------------------------


@get("/cities", tags=["reference"], sync_to_thread=False, responses=protected())
def list_cities(catalogue: Catalogue) -> list[CityOut]:
    """The programme's cities with their IANA zones and names (codes are what sessions use)."""
    return [CityOut(c.code, c.timezone, dict(c.names)) for c in catalogue]


# ------------------------------------------------------------------------------------------
# Trainings and trainers
# ------------------------------------------------------------------------------------------


@post("/trainings", guards=WRITERS, tags=["trainings"], responses=protected(413, 409))
async def define_training(
    runtime: Runtime, principal: Actor, data: JSONBody[DefineTrainingIn]
) -> TrainingOut:
    """Define a training of the programme; ``code`` is unique (409 on a duplicate)."""
    for lang, text in data.title.as_dict().items():
        check_text(text, f"title.{lang}")
    try:
        training = await runtime.write(
            partial(
                commands.define_training,
                actor=principal,
                code=data.code,
                title=data.title.as_dict(),
                target_sectors=data.target_sectors,
            )
        )
    except IntegrityError:
        # Two concurrent requests with one code on PostgreSQL: both passed the lookup, the
        # unique index stopped the second (its transaction rolled back whole).
        raise Conflict(
            f"a training with code {data.code.strip()!r} already exists", field="code"
        ) from None
    return TrainingOut.of(training)


@get("/trainings", tags=["trainings"], responses=protected())
async def list_trainings(runtime: Runtime) -> list[TrainingOut]:
    return [TrainingOut.of(t) for t in await runtime.read(queries.list_trainings)]


@get("/trainings/{training_id:uuid}", tags=["trainings"], responses=protected(404))
async def get_training(runtime: Runtime, training_id: FromPath[uuid.UUID]) -> TrainingOut:
    training = await runtime.read(partial(queries.get_training, training_id=training_id))
    return TrainingOut.of(training)


@post("/trainers", guards=WRITERS, tags=["trainers"], responses=protected(413))
async def register_trainer(
    runtime: Runtime, principal: Actor, data: JSONBody[RegisterTrainerIn]
) -> TrainerOut:
    """Register a trainer (staff or invited expert) who can then be booked on sessions."""
    check_text(data.name, "name")
    check_text(data.home_city, "home_city")
    trainer = await runtime.write(
        partial(
            commands.register_trainer, actor=principal, name=data.name, home_city=data.home_city
        )
    )
    return TrainerOut.of(trainer)


@get("/trainers", tags=["trainers"], responses=protected())
async def list_trainers(runtime: Runtime) -> list[TrainerOut]:
    return [TrainerOut.of(t) for t in await runtime.read(queries.list_trainers)]


@get("/trainers/{trainer_id:uuid}", tags=["trainers"], responses=protected(404))
async def get_trainer(runtime: Runtime, trainer_id: FromPath[uuid.UUID]) -> TrainerOut:
    trainer = await runtime.read(partial(queries.get_trainer, trainer_id=trainer_id))
    return TrainerOut.of(trainer)


# ------------------------------------------------------------------------------------------
# Sessions
# ------------------------------------------------------------------------------------------


def session_change(action: str, *statuses: int) -> post:
    """The route of one change to an existing session: ``POST /sessions/{id}/<action>``, writers
    only, answering 200 with the session as it now is."""
    return post(
        f"/sessions/{{session_id:uuid}}/{action}",
        guards=WRITERS,
        status_code=HTTP_200_OK,
        tags=["sessions"],
        responses=protected(*statuses),
    )


@post("/sessions", guards=WRITERS, tags=["sessions"], responses=protected(413, 404, 409))
async def schedule_session(
    runtime: Runtime,
    principal: Actor,
    catalogue: Catalogue,
    max_capacity: MaxCapacity,
    travel: Travel,
    data: JSONBody[ScheduleSessionIn],
) -> SessionOut:
    """Schedule a session: in person in exactly one city, online across one or more.

    ``starts_at``/``ends_at`` carry an offset, or are wall times in ``timezone`` (default: the
    first city's zone). 409 with ``conflicting_session_id`` if a trainer is already booked, or
    (with ``travel_minutes``) if a trainer's in-person session in another city ends too shortly
    before or starts too shortly after this one to travel between them.
    """
    if data.venue is not None:
        check_text(data.venue, "venue")
    session = await runtime.write(
        partial(
            commands.schedule_session,
            actor=principal,
            catalogue=catalogue,
            training_id=data.training_id,
            mode=data.mode,
            cities=data.cities,
            starts_at=data.starts_at,
            ends_at=data.ends_at,
            capacity=data.capacity,
            language=data.language,
            trainer_ids=data.trainer_ids,
            venue=data.venue,
            timezone=data.timezone,
            max_capacity=max_capacity,
            travel=travel,
            quotas=[q.quota() for q in data.quotas],
        )
    )
    return SessionOut.of(session, catalogue)


@session_change("reschedule", 413, 404, 409)
async def reschedule_session(
    runtime: Runtime,
    principal: Actor,
    catalogue: Catalogue,
    travel: Travel,
    session_id: FromPath[uuid.UUID],
    data: JSONBody[RescheduleIn],
) -> SessionOut:
    """Move a session (naive times are read in the session's zone); trainers re-checked,
    double bookings and travel time alike (409 as for scheduling)."""
    session = await runtime.write(
        partial(
            commands.reschedule_session,
            actor=principal,
            session_id=session_id,
            starts_at=data.starts_at,
            ends_at=data.ends_at,
            travel=travel,
        )
    )
    return SessionOut.of(session, catalogue)


@session_change("capacity", 413, 404, 409)
async def change_capacity(
    runtime: Runtime,
    principal: Actor,
    catalogue: Catalogue,
    max_capacity: MaxCapacity,
    session_id: FromPath[uuid.UUID],
    data: JSONBody[CapacityIn],
) -> SessionOut:
    """Change the seat count (at most ``SCHEDULING_MAX_CAPACITY``, 100,000 by default) and,
    with ``quotas``, the seat quotas (registration enforces them and promotes who now fits)."""
    session = await runtime.write(
        partial(
            commands.change_capacity,
            actor=principal,
            session_id=session_id,
            capacity=data.capacity,
            max_capacity=max_capacity,
            quotas=data.new_quotas(),
        )
    )
    return SessionOut.of(session, catalogue)


@session_change("cancel", 413, 404, 409)
async def cancel_session(
    runtime: Runtime,
    principal: Actor,
    catalogue: Catalogue,
    session_id: FromPath[uuid.UUID],
    data: JSONBody[CancelIn],
) -> SessionOut:
    check_text(data.reason, "reason", multiline=True)
    session = await runtime.write(
        partial(
            commands.cancel_session,
            actor=principal,
            session_id=session_id,
            reason=data.reason,
            alternative_session_id=data.alternative_session_id,
        )
    )
    return SessionOut.of(session, catalogue)


@session_change("complete", 404, 409)
async def complete_session(
    runtime: Runtime, principal: Actor, catalogue: Catalogue, session_id: FromPath[uuid.UUID]
) -> SessionOut:
    session = await runtime.write(
        partial(commands.complete_session, actor=principal, session_id=session_id)
    )
    return SessionOut.of(session, catalogue)


def parse_bound(value: str, zone: str, field: str) -> datetime:
    """A ``from``/``to`` bound: an ISO date (midnight) or date-time, naive ones read in ``zone``."""
    text = value.strip()
    try:
        if _DATE_ONLY.match(text):
            naive = datetime.combine(date.fromisoformat(text), time())
        else:
            naive = datetime.fromisoformat(text)
        return to_utc(naive, load_zone(zone), field)
    except InvalidField as exc:
        # Parsed, but not placeable (outside the programme window, in a DST gap).
        raise Invalid(exc.message, field=field) from None
    except ValueError:
        raise Invalid(
            f"{value[:40]!r} is not an ISO 8601 date (2020-12-22) or date-time (2020-12-22T10:00)",
            field=field,
        ) from None


@get("/sessions", tags=["sessions"], responses=protected())
async def list_sessions(
    runtime: Runtime,
    catalogue: Catalogue,
    city: FromQuery[str | None] = None,
    from_: Annotated[str | None, QueryParameter(name="from")] = None,
    to: FromQuery[str | None] = None,
    training_id: FromQuery[uuid.UUID | None] = None,
    status: FromQuery[Status | None] = None,
    timezone: FromQuery[str | None] = None,
    limit: Annotated[int, QueryParameter(ge=1, le=10_000)] = 1000,
    offset: Annotated[int, QueryParameter(ge=0, le=MAX_OFFSET)] = 0,
) -> list[SessionOut]:
    """Sessions starting in ``[from, to)``, earliest first.

    Naive ``from``/``to`` values (and plain dates, meaning midnight) are read in ``timezone``,
    else in the zone of ``city``, else in UTC; values with an offset are exact.
    """
    if timezone is not None:
        try:
            load_zone(timezone, field="timezone")
        except InvalidField as exc:
            raise Invalid(exc.message, field="timezone") from None
        zone = timezone
    elif city is not None and city in catalogue:
        zone = catalogue.timezone_of(city)
    else:
        zone = "UTC"
    flt = SessionFilter(
        city=city,
        training_id=training_id,
        status=status,
        starts_from=parse_bound(from_, zone, "from") if from_ is not None else None,
        starts_before=parse_bound(to, zone, "to") if to is not None else None,
        limit=limit,
        offset=offset,
    )
    sessions = await runtime.read(partial(queries.find_sessions, flt=flt))
    return [SessionOut.of(s, catalogue) for s in sessions]


@get("/sessions/{session_id:uuid}", tags=["sessions"], responses=protected(404))
async def get_session(
    runtime: Runtime, catalogue: Catalogue, session_id: FromPath[uuid.UUID]
) -> SessionOut:
    session = await runtime.read(partial(queries.get_session, session_id=session_id))
    return SessionOut.of(session, catalogue)


@get(
    "/sessions/{session_id:uuid}/calendar.ics",
    tags=["sessions"],
    media_type=CALENDAR_MEDIA_TYPE,
    responses=protected(404),
)
async def session_calendar(
    runtime: Runtime, catalogue: Catalogue, session_id: FromPath[uuid.UUID]
) -> Response[bytes]:
    """The session as an iCalendar file; re-downloading after a change updates the entry."""
    session, title = await runtime.read(partial(queries.session_with_title, session_id=session_id))
    body = render_session_ical(session, title, catalogue)
    return Response(
        content=body.encode("utf-8"),
        media_type=CALENDAR_MEDIA_TYPE,
        headers={"Content-Disposition": f'attachment; filename="session-{session_id}.ics"'},
    )


ROUTES = [
    list_cities,
    define_training,
    list_trainings,
    get_training,
    register_trainer,
    list_trainers,
    get_trainer,
    schedule_session,
    reschedule_session,
    change_capacity,
    cancel_session,
    complete_session,
    list_sessions,
    get_session,
    session_calendar,
]
