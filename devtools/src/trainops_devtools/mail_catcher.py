"""The development mail catcher: an SMTP server that keeps every message as a file.

``trainops up`` runs one and points the services' ``SMTP_URL`` at it, so nothing leaves the
machine and every message can be opened with any mail client: each is written to the mail
directory as one ``.eml`` file holding the RFC 5322 bytes exactly as received.

The senders deliver at least once (a relay that crashes after the server accepted a message but
before it recorded that sends it again, with the same ``Message-ID``). The catcher does what a
careful receiving system does with that: a second message with a ``Message-ID`` it already
holds is accepted and counted in :attr:`MailCatcher.duplicates` but not written again, so the
folder shows each message once and a test can see both facts.

It runs on its own event loop in a thread, so synchronous code (the supervisor) and async tests
use it alike::

    with MailCatcher(data_dir / "mail") as catcher:
        catcher.url            # "smtp://127.0.0.1:40123"
"""

from __future__ import annotations

import asyncio
import hashlib
import os
import threading
from email.parser import BytesHeaderParser
from email.policy import default as default_policy
from pathlib import Path
from types import TracebackType

from aiosmtpd.smtp import SMTP, Envelope, Session

from trainops_shared.timeutil import utc_now

START_TIMEOUT_S = 10.0


def message_key(data: bytes) -> str:
    """What identifies a message: its ``Message-ID`` (hashed, to be a file name), else its
    bytes (a message without one can only be a duplicate of the very same bytes)."""
    headers = BytesHeaderParser(policy=default_policy).parsebytes(data)
    message_id = str(headers.get("Message-ID") or "").strip()
    return hashlib.sha256(message_id.encode() if message_id else data).hexdigest()[:24]


async def _cancel_sessions() -> None:
    sessions = [t for t in asyncio.all_tasks() if t is not asyncio.current_task()]
    for task in sessions:
        task.cancel()
    await asyncio.gather(*sessions, return_exceptions=True)


class _Keeper:
    """The aiosmtpd handler: every accepted message becomes a file (or a counted duplicate)."""

    def __init__(self, catcher: MailCatcher) -> None:
        self.catcher = catcher

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        data = envelope.original_content or b""
        self.catcher.keep(data)
        return "250 Message accepted for delivery"


class MailCatcher:
    def __init__(self, directory: Path, host: str = "127.0.0.1", port: int = 0) -> None:
        self.directory = directory
        self.host = host
        self.port = port
        self.duplicates = 0
        self.received = 0
        self._lock = threading.Lock()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._server: asyncio.Server | None = None
        self._thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        return f"smtp://{self.host}:{self.port}"

    def files(self) -> list[Path]:
        """The messages kept so far, oldest first."""
        return sorted(self.directory.glob("*.eml"))

    def keep(self, data: bytes) -> Path | None:
        """Write ``data`` as a new ``.eml`` file unless a message with its key is there;
        the file appears whole (written aside, then renamed) for readers polling the folder."""
        key = message_key(data)
        with self._lock:
            self.received += 1
            if any(self.directory.glob(f"*-{key}.eml")):
                self.duplicates += 1
                return None
            stamp = utc_now().strftime("%Y%m%dT%H%M%S%fZ")
            path = self.directory / f"{stamp}-{key}.eml"
            partial = path.with_suffix(".part")
            partial.write_bytes(data)
            os.replace(partial, path)
            return path

    def start(self) -> None:
        self.directory.mkdir(mode=0o700, parents=True, exist_ok=True)
        started = threading.Event()
        failure: list[BaseException] = []

        def serve() -> None:
            loop = asyncio.new_event_loop()
            self._loop = loop
            try:
                self._server = loop.run_until_complete(
                    loop.create_server(
                        lambda: SMTP(_Keeper(self), hostname="trainops-mail-catcher"),
                        host=self.host,
                        port=self.port,
                    )
                )
                self.port = int(self._server.sockets[0].getsockname()[1])
            except BaseException as exc:  # reported to start() in the calling thread
                failure.append(exc)
                started.set()
                loop.close()
                return
            started.set()
            loop.run_forever()
            self._server.close()
            # Sessions still open (a client that never said QUIT) end with the catcher: their
            # tasks are cancelled, which closes their connections; a partial message is lost,
            # as with any SMTP server that goes away.
            loop.run_until_complete(_cancel_sessions())
            loop.close()

        self._thread = threading.Thread(target=serve, name="mail-catcher", daemon=True)
        self._thread.start()
        if not started.wait(START_TIMEOUT_S):
            raise RuntimeError("the mail catcher did not start")
        if failure:
            raise RuntimeError(
                f"the mail catcher cannot listen on {self.host}:{self.port}: {failure[0]}"
            ) from failure[0]

    def stop(self) -> None:
        loop, thread = self._loop, self._thread
        if loop is None or thread is None:
            return
        if loop.is_running():
            loop.call_soon_threadsafe(loop.stop)
        thread.join(START_TIMEOUT_S)
        self._loop = self._thread = None

    def __enter__(self) -> MailCatcher:
        self.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    def __repr__(self) -> str:
        return f"MailCatcher({self.directory}, {self.url})"
