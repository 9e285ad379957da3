"""Composition root of the scheduling service: tables, routes, the stream it produces.

The city catalogue is data: ``TRAINOPS_CITIES_FILE`` may point at a JSON file
(``{"almaty": {"timezone": "Asia/Almaty", "names": {...}}, ...}``) replacing the built-in
programme cities, so adding a city needs no release.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path

from litestar import Router
from litestar.di import Provide

from trainops_scheduling.adapters.tables import MIGRATIONS
from trainops_scheduling.api.console import CONSOLE_ROUTES, TEMPLATE_CONFIG
from trainops_scheduling.api.controllers import ROUTES
from trainops_scheduling.api.feeds import FEED_ROUTES
from trainops_scheduling.domain import (
    CAPACITY_CEILING,
    DEFAULT_MAX_CAPACITY,
    CityCatalogue,
    InvalidField,
    TravelTimes,
)
from trainops_scheduling.handlers.registration_events import EVENT_HANDLERS
from trainops_shared.events.streams import SCHEDULING
from trainops_shared.service import ServiceSpec
from trainops_shared.settings import Settings, SettingsError

CITIES_FILE_ENV = "TRAINOPS_CITIES_FILE"
MAX_CAPACITY_ENV = "SCHEDULING_MAX_CAPACITY"
TRAVEL_ENV = "SCHEDULING_TRAVEL_MINUTES"
TRAVEL_PAIRS_ENV = "SCHEDULING_TRAVEL_PAIRS"


def load_max_capacity(env: Mapping[str, str] | None = None) -> int:
    """The largest session that may be scheduled: ``SCHEDULING_MAX_CAPACITY``, default
    :data:`DEFAULT_MAX_CAPACITY`, never above :data:`CAPACITY_CEILING`."""
    env = os.environ if env is None else env
    raw = env.get(MAX_CAPACITY_ENV, "").strip()
    if not raw:
        return DEFAULT_MAX_CAPACITY
    try:
        value = int(raw.replace("_", ""))
    except ValueError:
        value = 0
    if not 1 <= value <= CAPACITY_CEILING:
        raise SettingsError(
            f"{MAX_CAPACITY_ENV}={raw!r}: must be a whole number of seats between 1 and "
            f"{CAPACITY_CEILING}"
        )
    return value


def load_catalogue(env: Mapping[str, str] | None = None) -> CityCatalogue:
    """The built-in cities, or the JSON file named by ``TRAINOPS_CITIES_FILE``."""
    env = os.environ if env is None else env
    path = env.get(CITIES_FILE_ENV)
    if not path:
        return CityCatalogue.default()
    try:
        return CityCatalogue.from_json(Path(path).read_bytes())
    except OSError as exc:
        raise SettingsError(f"{CITIES_FILE_ENV}={path!r} cannot be read: {exc}") from None
    except InvalidField as exc:
        raise SettingsError(f"{CITIES_FILE_ENV}={path!r}: {exc.field}: {exc.message}") from None


def load_travel(catalogue: CityCatalogue, env: Mapping[str, str] | None = None) -> TravelTimes:
    """The trainers' travel times: ``SCHEDULING_TRAVEL_MINUTES`` between any two cities
    (default 180) and ``SCHEDULING_TRAVEL_PAIRS`` (``almaty:astana=120,...``) for given pairs."""
    env = os.environ if env is None else env
    default, pairs = env.get(TRAVEL_ENV, ""), env.get(TRAVEL_PAIRS_ENV, "")
    try:
        return TravelTimes.parse(default, pairs, catalogue)
    except InvalidField as exc:
        name = TRAVEL_ENV if exc.field == "default" else TRAVEL_PAIRS_ENV
        raise SettingsError(f"{name}: {exc.message}") from None


def build_spec(
    settings: Settings,
    catalogue: CityCatalogue | None = None,
    max_capacity: int | None = None,
    travel: TravelTimes | None = None,
) -> ServiceSpec:
    cities = catalogue if catalogue is not None else load_catalogue()
    capacity_bound = max_capacity if max_capacity is not None else load_max_capacity()
    travel_times = travel if travel is not None else load_travel(cities)

    def provide_catalogue() -> CityCatalogue:
        return cities

    def provide_max_capacity() -> int:
        return capacity_bound

    def provide_travel() -> TravelTimes:
        return travel_times

    # Route dependencies of this service only: a Router around its routes provides them, typed,
    # so Litestar can resolve them by name at start-up.
    api = Router(
        path="/",
        route_handlers=[*ROUTES, *FEED_ROUTES, *CONSOLE_ROUTES],
        dependencies={
            "catalogue": Provide(provide_catalogue, sync_to_thread=False),
            "max_capacity": Provide(provide_max_capacity, sync_to_thread=False),
            "travel": Provide(provide_travel, sync_to_thread=False),
        },
    )
    return ServiceSpec(
        name="scheduling",
        title="trainops scheduling",
        description=(
            "Programme staff define trainings and trainers and schedule sessions across cities, "
            "online or in person, in each city's own time zone."
        ),
        migrations=MIGRATIONS,
        route_handlers=[api],
        produces=[SCHEDULING],
        event_handlers=EVENT_HANDLERS,
        only_handled_subjects=True,
        template_config=TEMPLATE_CONFIG,
        home_page=False,
        public_paths=["^/feeds/"],
    )
