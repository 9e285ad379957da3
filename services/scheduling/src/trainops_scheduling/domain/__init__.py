"""Pure scheduling rules: no HTTP, messaging or SQL, so they are testable in microseconds.

Import from here; the submodules are split by what they hold (reference data, time handling, the
session aggregate, overlap checks, iCalendar export, errors).
"""

from trainops_scheduling.domain.cities import (
    DEFAULT_CITIES,
    City,
    CityCatalogue,
    validate_language,
    validate_sector,
)
from trainops_scheduling.domain.errors import (
    IllegalTransition,
    InvalidField,
    InvalidTime,
    NonexistentLocalTime,
    SchedulingError,
    TrainerDoubleBooked,
    UnknownCity,
)
from trainops_scheduling.domain.ical import render_calendar_ical, render_session_ical
from trainops_scheduling.domain.overlap import (
    TrainerConflict,
    ensure_trainers_free,
    find_trainer_conflict,
    find_trainer_conflicts,
)
from trainops_scheduling.domain.session import (
    CAPACITY_CEILING,
    DEFAULT_MAX_CAPACITY,
    MIN_CAPACITY,
    Session,
    SessionMode,
    SessionStatus,
)
from trainops_scheduling.domain.times import (
    MAX_SESSION_LENGTH,
    TimeRange,
    check_interval,
    format_local,
    local_times,
    parse_instant,
    parse_interval,
)
from trainops_scheduling.domain.travel import (
    DEFAULT_TRAVEL,
    TrainerTravelTooShort,
    TravelTimes,
    ensure_travel_possible,
    find_travel_conflicts,
    search_window,
)

__all__ = [
    "CAPACITY_CEILING",
    "DEFAULT_CITIES",
    "DEFAULT_MAX_CAPACITY",
    "DEFAULT_TRAVEL",
    "MAX_SESSION_LENGTH",
    "MIN_CAPACITY",
    "City",
    "CityCatalogue",
    "IllegalTransition",
    "InvalidField",
    "InvalidTime",
    "NonexistentLocalTime",
    "SchedulingError",
    "Session",
    "SessionMode",
    "SessionStatus",
    "TimeRange",
    "TrainerConflict",
    "TrainerDoubleBooked",
    "TrainerTravelTooShort",
    "TravelTimes",
    "UnknownCity",
    "check_interval",
    "ensure_trainers_free",
    "ensure_travel_possible",
    "find_trainer_conflict",
    "find_trainer_conflicts",
    "find_travel_conflicts",
    "format_local",
    "local_times",
    "parse_instant",
    "parse_interval",
    "render_calendar_ical",
    "render_session_ical",
    "search_window",
    "validate_language",
    "validate_sector",
]
