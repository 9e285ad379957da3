"""NATS connection, JetStream stream declarations and the FastStream broker, set up one way.

Every service declares, with identical configuration, each stream it produces to or consumes
from, so start-up order never matters and no declaration "wins" over another.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Iterable

import nats
import nats.errors
from fast_depends.msgspec import MsgSpecSerializer
from faststream.nats import NatsBroker
from nats.js import JetStreamContext
from nats.js.api import DiscardPolicy, RetentionPolicy, StorageType, StreamConfig
from nats.js.errors import BadRequestError, NotFoundError

from trainops_shared.events.streams import DEAD_LETTER, DUPLICATE_WINDOW_SECONDS, StreamSpec


def nats_servers(url: str | list[str]) -> list[str]:
    """``NATS_URL`` may list a cluster's servers comma-separated; nats-py wants a list."""
    parts = url if isinstance(url, list) else url.split(",")
    return [p.strip() for p in parts if p.strip()]


class NatsUnavailable(Exception):
    """NATS could not be reached at start-up; the message says where we looked."""


def stream_config(spec: StreamSpec, replicas: int = 1) -> StreamConfig:
    """The one configuration of a stream; ``replicas`` is 3 on a NATS cluster (R3)."""
    return StreamConfig(
        name=spec.name,
        subjects=spec.subjects,
        retention=RetentionPolicy.LIMITS,
        storage=StorageType.FILE,
        discard=DiscardPolicy.OLD,
        duplicate_window=DUPLICATE_WINDOW_SECONDS,
        max_msg_size=1024 * 1024,
        allow_direct=True,
        num_replicas=replicas,
    )


async def ensure_streams(
    js: JetStreamContext, specs: Iterable[StreamSpec], replicas: int = 1
) -> None:
    for spec in specs:
        config = stream_config(spec, replicas)
        try:
            await js.stream_info(spec.name)
        except NotFoundError:
            try:
                await js.add_stream(config)
            except BadRequestError:
                # Another service created it between our look and our add: fine if it exists now.
                await js.stream_info(spec.name)
        else:
            await js.update_stream(config)


async def _quiet(_: Exception) -> None:
    """Swallow nats-py's per-attempt error callbacks: the probe reports one clear line."""


async def probe_nats(url: str, connect_timeout: float) -> None:
    """Connect once with no retries so that a wrong URL fails in seconds, not after ~120 s.

    nats-py keeps cycling through its server list on a refused first connect even with
    ``allow_reconnect=False``, so the whole attempt is bounded by a deadline as well.
    """
    try:
        nc = await asyncio.wait_for(
            nats.connect(
                nats_servers(url),
                connect_timeout=max(1, int(connect_timeout)),
                allow_reconnect=False,
                max_reconnect_attempts=0,
                name="trainops-probe",
                error_cb=_quiet,
            ),
            timeout=connect_timeout + 1,
        )
    except (OSError, nats.errors.Error, TimeoutError) as exc:
        raise NatsUnavailable(
            f"cannot reach NATS at {url} ({type(exc).__name__}): start nats-server with "
            f"JetStream or set NATS_URL"
        ) from None
    try:
        try:
            await nc.jetstream().account_info()
        except Exception as exc:
            raise NatsUnavailable(
                f"NATS at {url} answers but JetStream is not enabled ({exc}): run nats-server -js"
            ) from None
    finally:
        with contextlib.suppress(Exception):
            await nc.close()


async def declare_all_streams(url: str, specs: Iterable[StreamSpec], replicas: int = 1) -> None:
    nc = await nats.connect(
        nats_servers(url), connect_timeout=2, allow_reconnect=False, name="trainops-setup"
    )
    try:
        await ensure_streams(nc.jetstream(), [*specs, DEAD_LETTER], replicas)
    finally:
        await nc.close()


def make_broker(url: str, *, service: str, timeout: float) -> NatsBroker:
    return NatsBroker(
        nats_servers(url),
        name=f"trainops-{service}",
        serializer=MsgSpecSerializer(),
        connect_timeout=max(1, int(timeout)),
        allow_reconnect=True,
        max_reconnect_attempts=-1,
        reconnect_time_wait=1,
        logger=logging.getLogger(f"trainops.{service}.faststream"),
        log_level=logging.DEBUG,
        graceful_timeout=10.0,
        drain_timeout=5,
    )
