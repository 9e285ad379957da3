"""Which sessions and personal API tokens were revoked, as every service knows it.

Services verify JWTs offline with the identity service's public key, so a signed-out session's
token (or a revoked personal token) would stay valid until its ``exp``. The identity service
publishes a revocation event on its ``IDENTITY`` stream for each, and this module keeps the set
of revoked ``sid``/``jti`` values in memory, fed by that stream:

* live, by a plain subscription to ``identity.>`` (a revocation reaches every service within
  milliseconds of its publication);
* replayed, message by message from the stream's first sequence, when the feed starts and
  after every reconnect (whatever was published while a service was down or cut off).

Both paths only ever add to the set, so their overlap is harmless. An entry is dropped once the
credential it names has expired anyway (``expires_at``): the set stays as small as the number
of revocations within one token lifetime.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from dataclasses import dataclass, field

import msgspec
import nats
import nats.errors
from nats.aio.client import Client as NatsClient
from nats.aio.msg import Msg
from nats.js.errors import NotFoundError

from trainops_shared.auth import Principal
from trainops_shared.broker import ConnectionWatch, connect_watched
from trainops_shared.events.identity import ApiTokenRevoked, SessionRevoked
from trainops_shared.events.streams import IDENTITY
from trainops_shared.logging import get_logger

log = get_logger(__name__)

_decoder = msgspec.json.Decoder(SessionRevoked | ApiTokenRevoked)


@dataclass
class RevocationSet:
    """Revoked session ids and token ids, each with the time after which it can be forgotten."""

    sessions: dict[str, float] = field(default_factory=dict)
    tokens: dict[str, float] = field(default_factory=dict)
    _next_prune: float = 0.0

    def add(self, event: SessionRevoked | ApiTokenRevoked) -> None:
        if isinstance(event, SessionRevoked):
            self.sessions[event.session_id] = event.expires_at.timestamp()
        else:
            self.tokens[event.token_id] = event.expires_at.timestamp()

    def add_payload(self, payload: bytes) -> bool:
        """Add the revocation ``payload`` encodes; ``False`` (nothing added) for anything else."""
        try:
            event = _decoder.decode(payload)
        except msgspec.DecodeError:
            return False
        self.add(event)
        return True

    def is_revoked(self, principal: Principal) -> bool:
        self._prune()
        if principal.session_id is not None and principal.session_id in self.sessions:
            return True
        return principal.token_id is not None and principal.token_id in self.tokens

    def _prune(self) -> None:
        now = time.time()
        if now < self._next_prune:
            return
        self._next_prune = now + 60
        # A minute of slack past expiry: the verifiers' leeway accepts a token that long.
        horizon = now - 60
        for entries in (self.sessions, self.tokens):
            for key in [k for k, expires in entries.items() if expires < horizon]:
                del entries[key]


class RevocationFeed:
    """Keeps a :class:`RevocationSet` current from the ``IDENTITY`` stream (see module doc)."""

    def __init__(self, nats_url: str, revocations: RevocationSet, *, name: str) -> None:
        self._url = nats_url
        self.revocations = revocations
        self._name = name
        self._nc: NatsClient | None = None
        self._watch = ConnectionWatch(f"{name}-revocations", log)
        self._replay_task: asyncio.Task[None] | None = None
        self.replayed = 0

    async def start(self) -> None:
        """Subscribe, then replay what the stream holds; a NATS outage now only delays both."""

        async def reconnected() -> None:
            await self._watch.reconnected_cb()
            self._schedule_replay()

        try:
            self._nc = await connect_watched(
                self._url,
                client=f"{self._name}-revocations",
                watch=self._watch,
                reconnected_cb=reconnected,
            )
            await self._nc.subscribe(f"{IDENTITY.context}.>", cb=self._on_message)
            await self.replay()
        except (nats.errors.Error, OSError, TimeoutError) as exc:
            log.warning("revocation_feed_not_ready", error=type(exc).__name__)

    async def _on_message(self, msg: Msg) -> None:
        if not self.revocations.add_payload(msg.data):
            log.warning("revocation_undecodable", subject=msg.subject)

    def _schedule_replay(self) -> None:
        if self._replay_task is None or self._replay_task.done():
            self._replay_task = asyncio.create_task(self._replay_quietly())

    async def _replay_quietly(self) -> None:
        try:
            await self.replay()
        except (nats.errors.Error, OSError, TimeoutError) as exc:
            log.warning("revocation_replay_failed", error=type(exc).__name__)

    async def replay(self) -> int:
        """Read every message of the stream into the set; returns how many were revocations."""
        if self._nc is None:
            return 0
        manager = self._nc.jsm(timeout=5)
        try:
            info = await manager.stream_info(IDENTITY.name)
        except NotFoundError:
            return 0  # no revocation was ever published
        added = 0
        first, last = info.state.first_seq, info.state.last_seq
        for seq in range(max(first, 1), last + 1):
            try:
                message = await manager.get_msg(IDENTITY.name, seq)
            except NotFoundError:
                continue  # removed by the stream's limits
            if message.data is not None and self.revocations.add_payload(message.data):
                added += 1
        self.replayed = added
        log.info("revocations_replayed", count=added, last_seq=last)
        return added

    async def stop(self) -> None:
        if self._replay_task is not None:
            self._replay_task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._replay_task
        if self._nc is not None and not self._nc.is_closed:
            with contextlib.suppress(Exception):
                await self._nc.close()
