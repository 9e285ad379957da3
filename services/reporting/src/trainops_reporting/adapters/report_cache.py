"""Finished reports cached per read-model generation: exact, because any change invalidates.

``report_state.generation`` is bumped in the same transaction as every projected event, so a
cached answer is served only while the read model is exactly what it was computed from. On a
quiet model (donors pull reports between programme events) repeated and concurrent report
requests then cost one primary-key read; the first request after a change pays the full query.
``TRAINOPS_REPORT_CACHE=off`` disables it (``api.controllers``): a report is then cut from the
disclosure pattern of the generation (one aggregate over the facts, see ``PatternCache``); the
cache only saves repeated identical requests. Several replicas each keep their own cache; the
generation lives in the shared database, so none of them can serve a stale figure.
"""

from __future__ import annotations

import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Hashable, Sequence
from dataclasses import dataclass
from typing import Any, TypeVar

from sqlalchemy.engine import Connection

from trainops_reporting.adapters.report_queries import finest_cells
from trainops_reporting.adapters.state import read_generation
from trainops_reporting.domain.disclosure import Pattern, Universe, build_universe, protect
from trainops_shared.logging import get_logger

log = get_logger(__name__)
T = TypeVar("T")


class ReportCache:
    """A small thread-safe LRU of report results keyed by ``(generation, request key)``.

    Reads run on worker threads (SQLite's reader pool), hence the lock.
    """

    def __init__(self, maxsize: int = 256, *, enabled: bool = True) -> None:
        self.enabled = enabled
        self._maxsize = maxsize
        self._entries: OrderedDict[tuple[int, Hashable], Any] = OrderedDict()
        self._lock = threading.Lock()
        self.hits = 0
        self.misses = 0

    def get_or_compute(
        self, conn: Connection, key: Hashable, compute: Callable[[Connection], T]
    ) -> T:
        """Return the cached report for ``key`` at the current generation, or compute it.

        The generation is read on the same connection, before the report's own queries. A
        disabled cache computes every time (and reads no generation).
        """
        if not self.enabled:
            self.misses += 1
            return compute(conn)
        slot = (read_generation(conn), key)
        with self._lock:
            if slot in self._entries:
                self._entries.move_to_end(slot)
                self.hits += 1
                cached: T = self._entries[slot]
                return cached
        value = compute(conn)
        with self._lock:
            self.misses += 1
            self._entries[slot] = value
            self._entries.move_to_end(slot)
            while len(self._entries) > self._maxsize:
                self._entries.popitem(last=False)
        return value


@dataclass(frozen=True)
class Protected:
    """A universe of publishable cells and its proven suppression pattern."""

    generation: int
    universe: Universe
    pattern: Pattern
    seconds: float


class PatternCache:
    """The disclosure pattern of the current generation, per threshold: computed once.

    Always on (unlike the report cache): it is exact for its generation, and recomputing it
    per request would cost seconds. Concurrent requests of a new generation wait for the one
    computation rather than each running their own. Only the latest generation is kept.
    """

    def __init__(self, levels: Sequence[str]) -> None:
        self.levels = tuple(levels)
        self._entries: dict[int, Protected] = {}
        self._lock = threading.Lock()
        self.computed = 0

    def get(self, conn: Connection, k: int) -> Protected:
        generation = read_generation(conn)
        with self._lock:
            entry = self._entries.get(k)
            if entry is not None and entry.generation == generation:
                return entry
            started = time.perf_counter()
            universe = build_universe(finest_cells(conn), self.levels)
            pattern = protect(universe, k)
            entry = Protected(generation, universe, pattern, time.perf_counter() - started)
            self._entries[k] = entry
            self.computed += 1
            log.info(
                "disclosure pattern computed",
                generation=generation,
                k=k,
                cells=len(universe.sums),
                seconds=round(entry.seconds, 3),
                lp_solves=pattern.lp_solves,
            )
            return entry
