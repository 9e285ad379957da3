"""Waiting for an asynchronous outcome in a test: poll with a deadline, never a fixed sleep.

Events cross processes and streams, so a test sees their effect "eventually"; a fixed sleep is
either too short on a loaded 2-core machine or wastes time everywhere else.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from typing import TypeVar

T = TypeVar("T")


async def eventually(
    check: Callable[[], Awaitable[T]],
    timeout: float = 30.0,  # noqa: ASYNC109 - a polling deadline, not an I/O timeout
    *,
    what: str = "the condition",
    interval: float = 0.05,
    tolerate: tuple[type[BaseException], ...] = (),
) -> T:
    """Await ``check()`` until it returns something truthy, and return that.

    Exceptions of the ``tolerate`` types count as "not yet" (e.g. a NATS cluster electing a
    leader). On the deadline the assertion names ``what`` and the last value seen.
    """
    deadline = time.monotonic() + timeout
    last: object = None
    while True:
        try:
            value = await check()
        except tolerate as exc:
            last = exc
        else:
            if value:
                return value
            last = value
        if time.monotonic() > deadline:
            raise AssertionError(
                f"timed out after {timeout:g}s waiting for {what} (last: {last!r})"
            )
        await asyncio.sleep(interval)
