"""NATS connection, JetStream stream declarations and the FastStream broker, set up one way.

Every service declares, with identical configuration, each stream it produces to or consumes
from, so start-up order never matters and no declaration "wins" over another. A declaration only
creates a missing stream or updates one whose configuration differs: a service's NATS user may
create the streams it uses but update only the one it produces.

Credentials travel in the URL's userinfo (filled in by the settings from a 0600 file); every
connection uses its user's own inbox prefix (``_INBOX_<user>``), the only reply subjects that
user may subscribe to, and every message that shows a URL hides its password.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Awaitable, Callable, Iterable

import nats
import nats.errors
import structlog
from fast_depends.msgspec import MsgSpecSerializer
from faststream.nats import NatsBroker
from nats.aio.client import Client as NatsClient
from nats.js import JetStreamContext
from nats.js.api import DiscardPolicy, RetentionPolicy, StorageType, StreamConfig
from nats.js.errors import BadRequestError, NotFoundError

from trainops_shared.credentials import redact_urls
from trainops_shared.events.streams import DEAD_LETTER, DUPLICATE_WINDOW_SECONDS, StreamSpec
from trainops_shared.logging import get_logger
from trainops_shared.nats_auth import inbox_prefix

_log = get_logger(__name__)


def nats_servers(url: str | list[str]) -> list[str]:
    """``NATS_URL`` may list a cluster's servers comma-separated; nats-py wants a list."""
    parts = url if isinstance(url, list) else url.split(",")
    return [p.strip() for p in parts if p.strip()]


def url_user(url: str | list[str]) -> str | None:
    """The NATS user in the first server URL, if any."""
    from urllib.parse import urlsplit

    servers = nats_servers(url)
    try:
        return urlsplit(servers[0]).username or None if servers else None
    except ValueError:
        return None


def connection_inbox_prefix(url: str | list[str]) -> str:
    """The inbox prefix a connection with the credentials of ``url`` must use."""
    return inbox_prefix(url_user(url))


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


_COMPARED = (
    "subjects",
    "retention",
    "storage",
    "discard",
    "duplicate_window",
    "max_msg_size",
    "allow_direct",
    "num_replicas",
)


def _same_config(current: StreamConfig, wanted: StreamConfig) -> bool:
    def norm(value: object) -> object:
        return sorted(value) if isinstance(value, list) else value

    return all(norm(getattr(current, name)) == norm(getattr(wanted, name)) for name in _COMPARED)


async def ensure_streams(
    js: JetStreamContext, specs: Iterable[StreamSpec], replicas: int = 1
) -> None:
    for spec in specs:
        config = stream_config(spec, replicas)
        try:
            info = await js.stream_info(spec.name)
        except NotFoundError:
            try:
                await js.add_stream(config)
            except BadRequestError:
                # Another service created it between our look and our add: fine if it exists now.
                await js.stream_info(spec.name)
        else:
            if not _same_config(info.config, config):
                try:
                    await js.update_stream(config)
                except (nats.errors.TimeoutError, nats.errors.NoRespondersError) as exc:
                    # A consumer's user may not update a stream it does not produce (the
                    # server ignores the request): the stream keeps working as declared by its
                    # producer or an operator, so starting is right; saying so is too.
                    _log.warning(
                        "stream_declaration_differs",
                        stream=spec.name,
                        error=type(exc).__name__,
                        hint="its producer or an operator must update it",
                    )


async def _quiet(_: Exception) -> None:
    """Swallow nats-py's per-attempt error callbacks: the probe reports one clear line."""


async def probe_nats(url: str, connect_timeout: float) -> None:
    """Connect once with no retries so that a wrong URL fails in seconds, not after ~120 s.

    nats-py keeps cycling through its server list on a refused first connect even with
    ``allow_reconnect=False``, so the whole attempt is bounded by a deadline as well.
    """
    shown = redact_urls(",".join(nats_servers(url)))
    refused: list[Exception] = []

    async def on_error(exc: Exception) -> None:
        if isinstance(exc, nats.errors.AuthorizationError) or "authorization" in str(exc).lower():
            refused.append(exc)

    nc = NatsClient()
    try:
        await asyncio.wait_for(
            nc.connect(
                nats_servers(url),
                connect_timeout=max(1, int(connect_timeout)),
                allow_reconnect=False,
                max_reconnect_attempts=0,
                name="trainops-probe",
                error_cb=on_error,
                inbox_prefix=connection_inbox_prefix(url),
            ),
            timeout=connect_timeout + 1,
        )
    except (OSError, nats.errors.Error, TimeoutError) as exc:
        # A refused client keeps its socket open unless closed.
        with contextlib.suppress(Exception):
            await nc.close()
        if refused or isinstance(exc, nats.errors.AuthorizationError):
            user = url_user(url)
            who = f"the credentials of user {user!r}" if user else "a client without credentials"
            raise NatsUnavailable(
                f"NATS at {shown} refused {who} (authorization violation): set "
                f"NATS_CREDENTIALS_FILE to this service's credentials file"
            ) from None
        raise NatsUnavailable(
            f"cannot reach NATS at {shown} ({type(exc).__name__}): start nats-server with "
            f"JetStream or set NATS_URL"
        ) from None
    try:
        try:
            await nc.jetstream().account_info()
        except Exception as exc:
            raise NatsUnavailable(
                f"NATS at {shown} answers but JetStream is not enabled "
                f"({redact_urls(str(exc))}): run nats-server -js"
            ) from None
    finally:
        with contextlib.suppress(Exception):
            await nc.close()


async def declare_all_streams(url: str, specs: Iterable[StreamSpec], replicas: int = 1) -> None:
    nc = await nats.connect(
        nats_servers(url),
        connect_timeout=2,
        allow_reconnect=False,
        name="trainops-setup",
        inbox_prefix=connection_inbox_prefix(url),
    )
    try:
        await ensure_streams(nc.jetstream(), [*specs, DEAD_LETTER], replicas)
    finally:
        await nc.close()


async def connect_watched(
    url: str | list[str],
    *,
    client: str,
    watch: ConnectionWatch,
    reconnected_cb: Callable[[], Awaitable[None]] | None = None,
) -> NatsClient:
    """A long-lived connection of a background loop (outbox relay, revocation feed): it retries
    for ever, and ``watch`` reports each outage once instead of nats-py's line per attempt.
    ``reconnected_cb`` replaces the watch's own when the caller must act on reconnection too
    (it should then call ``watch.reconnected_cb`` itself)."""
    return await nats.connect(
        nats_servers(url),
        name=client,
        inbox_prefix=connection_inbox_prefix(url),
        connect_timeout=2,
        max_reconnect_attempts=-1,
        reconnect_time_wait=0.5,
        allow_reconnect=True,
        error_cb=watch.error_cb,
        disconnected_cb=watch.disconnected_cb,
        reconnected_cb=reconnected_cb or watch.reconnected_cb,
    )


def make_broker(url: str, *, service: str, timeout: float) -> NatsBroker:
    logger = logging.getLogger(f"trainops.{service}.faststream")
    if not any(isinstance(f, _DropBrokenConnection) for f in logger.filters):
        logger.addFilter(_DropBrokenConnection())
    watch = ConnectionWatch(f"trainops-{service}")
    return NatsBroker(
        nats_servers(url),
        name=f"trainops-{service}",
        serializer=MsgSpecSerializer(),
        connect_timeout=max(1, int(timeout)),
        allow_reconnect=True,
        max_reconnect_attempts=-1,
        reconnect_time_wait=1,
        logger=logger,
        log_level=logging.DEBUG,
        graceful_timeout=10.0,
        drain_timeout=5,
        inbox_prefix=connection_inbox_prefix(url),
        error_cb=watch.error_cb,
        disconnected_cb=watch.disconnected_cb,
        reconnected_cb=watch.reconnected_cb,
    )


class ConnectionWatch:
    """The callbacks of one NATS connection, logging each outage twice: once when the connection
    is lost, once when it is back with the outage's duration.

    nats-py's default error callback logs an ERROR with a traceback on every reconnect attempt
    (every ``reconnect_time_wait``) and FastStream adds a WARNING with a traceback per broken
    connection; during an outage those say nothing new, so here they are counted instead.
    Errors while connected (a permission violation, a slow consumer) are logged, one line each.
    """

    def __init__(self, client: str, logger: structlog.stdlib.BoundLogger | None = None) -> None:
        self.client = client
        self._log = logger or _log
        self.lost_at: float | None = None
        self.outages = 0
        self.failed_attempts = 0
        self._last_error: str | None = None
        self._lost_said = False

    @property
    def connected(self) -> bool:
        return self.lost_at is None

    async def error_cb(self, exc: Exception) -> None:
        reason = repr(exc)
        if self.lost_at is not None:
            # A failed reconnect attempt: the outage is real (not our own close), say so once.
            self.failed_attempts += 1
            self._say_lost()
            self._last_error = reason
            return
        if isinstance(exc, _CONNECTION_ERRORS):
            # The disconnected callback follows; the outage is reported with this reason.
            self._last_error = reason
            return
        self._log.warning("nats_error", client=self.client, error=reason)

    async def disconnected_cb(self) -> None:
        # nats-py calls this for a close we asked for too, so nothing is logged yet: the loss
        # is reported at the first failed reconnect attempt, or with the reconnection.
        if self.lost_at is not None:
            return
        self.lost_at = time.monotonic()
        self.outages += 1
        self.failed_attempts = 0
        self._lost_said = False

    async def reconnected_cb(self) -> None:
        if self.lost_at is None:
            return
        self._say_lost()
        outage = time.monotonic() - self.lost_at
        self._log.info(
            "nats_connection_restored",
            client=self.client,
            outage_s=round(outage, 3),
            failed_attempts=self.failed_attempts,
            last_error=self._last_error,
        )
        self.lost_at = None
        self._last_error = None

    def _say_lost(self) -> None:
        if self._lost_said:
            return
        self._lost_said = True
        self._log.warning(
            "nats_connection_lost", client=self.client, reason=self._last_error or "disconnected"
        )


_CONNECTION_ERRORS: tuple[type[BaseException], ...] = (
    OSError,
    TimeoutError,
    nats.errors.UnexpectedEOF,
    nats.errors.StaleConnectionError,
    nats.errors.ConnectionClosedError,
    nats.errors.NoServersError,
)


class _DropBrokenConnection(logging.Filter):
    """FastStream logs "Connection broken with ..." with a traceback for every connection error;
    the broker's :class:`ConnectionWatch` reports outages instead."""

    def filter(self, record: logging.LogRecord) -> bool:
        return not str(record.msg).startswith("Connection broken with")
