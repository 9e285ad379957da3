"""``trainops deadletters``: inspect and replay the events consumers gave up on.

A consumer dead-letters an event it cannot apply (undecodable, or its handler failed
``max_attempts`` times, or the server's ``max_deliver`` ran out) into the ``DEAD_LETTERS`` stream
on ``deadletter.<consumer>.<original subject>``, with the original payload and headers saying
where it came from and why (:mod:`trainops_shared.inbox`). This command is the operator's side:

* ``list`` reads them by stream sequence (message get requests: nothing is consumed or acked, so
  listing twice shows the same thing);
* ``replay`` publishes the original payload again to its original subject once the cause is fixed,
  then deletes the dead letter. The republish carries a fresh ``Nats-Msg-Id``
  (``replay:<dead-letter seq>:<event id>``) because the original id is still inside the stream's
  duplicate window and would be dropped. Every consumer of that stream sees the copy, and that is
  safe: each consumer's inbox (processed-event table) skips an event it has already applied.

The publish comes before the delete, so a crash between the two leaves the dead letter in place:
replaying it again is harmless for the same reason (the same message id, then the inbox).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

DEFAULT_NATS_URL = "nats://127.0.0.1:4222"
DEFAULT_TIMEOUT = 3.0
REASON_WIDTH = 70
PROG = "trainops deadletters"


class CommandError(Exception):
    """A failure the operator can act on; the message says what went wrong and what to do."""


# --------------------------------------------------------------------------------------------
# Parser
# --------------------------------------------------------------------------------------------


def _positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number") from None
    if value <= 0:
        raise argparse.ArgumentTypeError(f"{text!r} must be 1 or more")
    return value


def add_timeout_argument(parser: argparse.ArgumentParser) -> None:
    """``--timeout``: how long a command waits for an unreachable NATS."""
    parser.add_argument(
        "--timeout",
        type=float,
        default=DEFAULT_TIMEOUT,
        metavar="SECONDS",
        help=f"give up on an unreachable NATS after this long (default: {DEFAULT_TIMEOUT:g})",
    )


def _common(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--nats-url",
        default=os.environ.get("NATS_URL") or DEFAULT_NATS_URL,
        metavar="URL",
        help="NATS server(s), comma-separated for a cluster (default: $NATS_URL or "
        f"{DEFAULT_NATS_URL})",
    )
    parser.add_argument(
        "--credentials",
        metavar="FILE",
        default=os.environ.get("NATS_CREDENTIALS_FILE") or None,
        help="NATS user and password, a 0600 JSON file (default: $NATS_CREDENTIALS_FILE, else "
        "the operator's file of the install in --data-dir, if there is one)",
    )
    parser.add_argument(
        "--data-dir",
        help="the install whose operator credentials to use (default: $TRAINOPS_DATA_DIR or "
        "~/.local/share/trainops)",
    )
    parser.add_argument(
        "--consumer",
        metavar="NAME",
        help="only the dead letters of this consumer (the service name, e.g. reporting)",
    )
    add_timeout_argument(parser)
    parser.add_argument("--json", action="store_true", help="print JSON instead of a table")


HELP = "list and replay events that consumers dead-lettered"
DESCRIPTION = (
    "Inspect the DEAD_LETTERS stream (events a consumer could not apply) and replay them "
    "to their original subject once the cause is fixed."
)


def arguments(parser: argparse.ArgumentParser) -> None:
    actions = parser.add_subparsers(dest="action", metavar="ACTION", required=True)

    list_parser = actions.add_parser(
        "list",
        help="show dead letters without consuming them",
        description="Show the dead letters, oldest first, without consuming or changing them.",
    )
    _common(list_parser)
    list_parser.add_argument(
        "--limit",
        type=_positive_int,
        default=100,
        metavar="N",
        help="show at most N dead letters (default: 100)",
    )
    list_parser.set_defaults(func=run_list)

    replay_parser = actions.add_parser(
        "replay",
        help="republish dead letters to their original subject, then delete them",
        description=(
            "Republish each dead letter's original payload to its original subject and stream "
            "(with a fresh Nats-Msg-Id so the duplicate window does not drop it), then delete "
            "the dead letter. Every consumer of that stream receives the copy; consumers that "
            "already applied the event skip it (inbox), so nothing is counted twice."
        ),
    )
    _common(replay_parser)
    which = replay_parser.add_mutually_exclusive_group(required=True)
    which.add_argument(
        "seqs",
        nargs="*",
        type=_positive_int,
        default=[],
        metavar="SEQ",
        help="dead-letter stream sequence numbers (see 'trainops deadletters list')",
    )
    which.add_argument(
        "--all", action="store_true", help="every dead letter (of --consumer, if given)"
    )
    replay_parser.add_argument(
        "--dry-run", action="store_true", help="say what would be replayed; change nothing"
    )
    replay_parser.set_defaults(func=run_replay)


# --------------------------------------------------------------------------------------------
# Reading dead letters
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class DeadLetter:
    seq: int
    time: datetime | None
    subject: str
    consumer: str
    original_subject: str
    original_stream: str
    original_seq: int | None
    attempts: int | None
    reason: str
    event_id: str | None
    """The event's id when the payload decodes as an event; ``None`` for poison payloads."""
    data: bytes

    def as_json(self) -> dict[str, Any]:
        return {
            "seq": self.seq,
            "time": self.time.isoformat() if self.time is not None else None,
            "consumer": self.consumer,
            "subject": self.subject,
            "original_subject": self.original_subject,
            "original_stream": self.original_stream,
            "original_seq": self.original_seq,
            "attempts": self.attempts,
            "reason": self.reason,
            "event_id": self.event_id,
            "size": len(self.data),
        }


def _int_or_none(value: object) -> int | None:
    try:
        return int(str(value))
    except ValueError:
        return None


def _event_id(data: bytes) -> str | None:
    from trainops_shared.events import decode_event

    try:
        return str(decode_event(data).event_id)
    except Exception:  # poison: undecodable or an unknown event type
        return None


def to_dead_letter(raw: Any) -> DeadLetter:
    """Read a stored message (nats-py ``RawStreamMsg``) of the ``DEAD_LETTERS`` stream.

    The ``Trainops-*`` headers are written by the consumer; when one is missing (a message put
    there by hand), the consumer and original subject are taken from the subject
    ``deadletter.<consumer>.<original subject>`` and the stream from the subject's context.
    """
    from trainops_shared.events.streams import DEAD_LETTER, stream_for_subject

    headers: dict[str, str] = dict(raw.headers or {})
    subject = str(raw.subject or "")
    prefix, _, rest = subject.partition(".")
    by_subject_consumer, _, by_subject_original = rest.partition(".")
    if prefix != DEAD_LETTER.context:
        by_subject_consumer = by_subject_original = ""
    original_subject = headers.get("Trainops-Original-Subject") or by_subject_original
    original_stream = headers.get("Trainops-Original-Stream", "")
    if not original_stream and original_subject:
        with contextlib.suppress(ValueError):
            original_stream = stream_for_subject(original_subject).name
    data = bytes(raw.data or b"")
    moment = raw.time
    if isinstance(moment, datetime) and moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return DeadLetter(
        seq=int(raw.seq),
        time=moment if isinstance(moment, datetime) else None,
        subject=subject,
        consumer=headers.get("Trainops-Consumer") or by_subject_consumer,
        original_subject=original_subject,
        original_stream=original_stream,
        original_seq=_int_or_none(headers.get("Trainops-Original-Seq", "")),
        attempts=_int_or_none(headers.get("Trainops-Attempts", "")),
        reason=headers.get("Trainops-Reason", ""),
        event_id=_event_id(data),
        data=data,
    )


def _filter_subject(consumer: str | None) -> str:
    from trainops_shared.events.streams import DEAD_LETTER

    return f"{DEAD_LETTER.context}.{consumer}.>" if consumer else f"{DEAD_LETTER.context}.>"


async def read_dead_letters(js: Any, consumer: str | None, limit: int | None) -> list[DeadLetter]:
    """Dead letters in stream order (of ``consumer`` if given), at most ``limit``.

    Each is read with a "next message at or after this sequence on this subject" get request,
    which skips deleted sequences and other consumers' letters on the server side and creates
    no consumer: listing never changes the stream.
    """
    from nats.js.errors import NotFoundError

    from trainops_shared.events.streams import DEAD_LETTER

    found: list[DeadLetter] = []
    seq = 1
    subject = _filter_subject(consumer)
    while limit is None or len(found) < limit:
        try:
            raw = await js.get_msg(DEAD_LETTER.name, seq=seq, subject=subject, next=True)
        except NotFoundError:
            break
        letter = to_dead_letter(raw)
        found.append(letter)
        seq = letter.seq + 1
    return found


async def read_dead_letter(js: Any, seq: int) -> DeadLetter | None:
    from nats.js.errors import NotFoundError

    from trainops_shared.events.streams import DEAD_LETTER

    try:
        raw = await js.get_msg(DEAD_LETTER.name, seq=seq)
    except NotFoundError:
        return None
    return to_dead_letter(raw)


# --------------------------------------------------------------------------------------------
# Connecting
# --------------------------------------------------------------------------------------------


def nats_servers(url: str) -> list[str]:
    """The servers of a ``NATS_URL`` (comma-separated for a cluster), validated like the
    services validate theirs. nats-py wants them as a list."""
    from trainops_shared.settings import SettingsError, validate_nats_url

    try:
        validate_nats_url(url)
    except SettingsError as exc:
        raise CommandError(f"{exc} (give --nats-url nats://host:4222)") from None
    return [part.strip() for part in url.split(",") if part.strip()]


async def _quiet(_: Exception) -> None:
    """nats-py reports every failed attempt through this callback; the probe says it once."""


async def connect(url: str, connect_timeout: float) -> Any:
    """Fail fast (seconds, not nats-py's minutes of retries) when no server answers with
    JetStream; then connect to the first server that does."""
    from trainops_shared.broker import NatsUnavailable, probe_nats

    servers = nats_servers(url)
    failures: list[str] = []
    for server in servers:
        try:
            await probe_nats(server, connect_timeout)
        except NatsUnavailable as exc:
            failures.append(str(exc))
            continue
        import nats

        return await asyncio.wait_for(
            nats.connect(
                servers=[server, *(s for s in servers if s != server)],
                name="trainops-deadletters",
                connect_timeout=max(1, int(connect_timeout)),
                allow_reconnect=False,
                max_reconnect_attempts=0,
                dont_randomize=True,
                error_cb=_quiet,
            ),
            timeout=connect_timeout + 1,
        )
    raise CommandError("; ".join(failures))


async def _dead_letter_stream_exists(js: Any) -> bool:
    from nats.js.errors import NotFoundError

    from trainops_shared.events.streams import DEAD_LETTER

    try:
        await js.stream_info(DEAD_LETTER.name)
    except NotFoundError:
        return False
    return True


# --------------------------------------------------------------------------------------------
# list
# --------------------------------------------------------------------------------------------


def _format_time(moment: datetime | None) -> str:
    if moment is None:
        return "-"
    return moment.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%SZ")


def _one_line(text: str, width: int) -> str:
    flat = " ".join(text.split())
    return flat if len(flat) <= width else flat[: width - 1] + "…"


def render_table(letters: Sequence[DeadLetter]) -> str:
    header = ("SEQ", "TIME", "CONSUMER", "ORIGINAL", "ATTEMPTS", "REASON")
    rows = [
        (
            str(dl.seq),
            _format_time(dl.time),
            dl.consumer or "-",
            f"{dl.original_stream or '?'}#{dl.original_seq or '?'} {dl.original_subject or '?'}",
            "-" if dl.attempts is None else str(dl.attempts),
            _one_line(dl.reason or "-", REASON_WIDTH),
        )
        for dl in letters
    ]
    widths = [max(len(row[i]) for row in (header, *rows)) for i in range(len(header) - 1)]
    lines = [
        "  ".join([*(cell.ljust(w) for cell, w in zip(row[:-1], widths, strict=True)), row[-1]])
        for row in (header, *rows)
    ]
    return "\n".join(line.rstrip() for line in lines)


async def list_dead_letters(args: argparse.Namespace) -> int:
    nc = await connect(args.connect_url, args.timeout)
    try:
        js = nc.jetstream(timeout=max(args.timeout, 1.0))
        letters: list[DeadLetter] = []
        more = False
        if await _dead_letter_stream_exists(js):
            letters = await read_dead_letters(js, args.consumer, args.limit + 1)
            more = len(letters) > args.limit
            letters = letters[: args.limit]
    finally:
        await nc.close()
    who = f" of consumer {args.consumer!r}" if args.consumer else ""
    if args.json:
        print(
            json.dumps(
                {"dead_letters": [dl.as_json() for dl in letters], "truncated": more}, indent=2
            )
        )
    elif not letters:
        print(f"no dead letters{who}")
    else:
        print(render_table(letters))
        if more:
            print(f"(first {args.limit} dead letters{who} shown; more exist: raise --limit)")
    return 0


# --------------------------------------------------------------------------------------------
# replay
# --------------------------------------------------------------------------------------------


def replay_msg_id(letter: DeadLetter) -> str:
    """Unique per dead letter (so the duplicate window, which still holds the original id,
    does not drop it), and the same if this letter's replay is retried after a crash."""
    return f"replay:{letter.seq}:{letter.event_id or letter.original_seq or 'unknown'}"


async def _select(js: Any, args: argparse.Namespace) -> list[DeadLetter]:
    """The dead letters to replay; every named sequence must exist (and belong to
    ``--consumer``) or nothing is replayed."""
    if args.all:
        return await read_dead_letters(js, args.consumer, None)
    letters: list[DeadLetter] = []
    unknown: list[int] = []
    foreign: list[str] = []
    for seq in dict.fromkeys(args.seqs):  # in the given order, each once
        letter = await read_dead_letter(js, seq)
        if letter is None:
            unknown.append(seq)
        elif args.consumer and letter.consumer != args.consumer:
            foreign.append(f"{seq} (consumer {letter.consumer or '?'})")
        else:
            letters.append(letter)
    problems = []
    if unknown:
        problems.append(
            f"no dead letter with sequence {', '.join(map(str, unknown))} "
            f"(see '{PROG} list'; a replayed dead letter is deleted)"
        )
    if foreign:
        problems.append(
            f"dead letter {', '.join(foreign)} does not belong to consumer {args.consumer!r}"
        )
    if problems:
        raise CommandError("; ".join(problems) + ": nothing was replayed")
    return letters


def _check_replayable(letters: Sequence[DeadLetter]) -> None:
    broken = [str(dl.seq) for dl in letters if not (dl.original_subject and dl.original_stream)]
    if broken:
        raise CommandError(
            f"dead letter {', '.join(broken)} does not say its original subject or stream "
            "(no Trainops-Original-* headers, subject not deadletter.<consumer>.<subject>): "
            "nothing was replayed"
        )


async def replay_dead_letters(args: argparse.Namespace) -> int:
    from trainops_shared.events.streams import DEAD_LETTER

    nc = await connect(args.connect_url, args.timeout)
    results: list[dict[str, Any]] = []
    try:
        js = nc.jetstream(timeout=max(args.timeout, 1.0))
        if not await _dead_letter_stream_exists(js):
            if args.all:
                letters: list[DeadLetter] = []
            else:
                raise CommandError(
                    f"there is no {DEAD_LETTER.name} stream at {_shown(args)} (no consumer has "
                    "started there yet), so no dead letter "
                    f"{', '.join(map(str, args.seqs))}: nothing was replayed"
                )
        else:
            letters = await _select(js, args)
        _check_replayable(letters)
        for letter in letters:
            result: dict[str, Any] = {
                "seq": letter.seq,
                "consumer": letter.consumer,
                "original_subject": letter.original_subject,
                "original_stream": letter.original_stream,
                "event_id": letter.event_id,
                "msg_id": replay_msg_id(letter),
            }
            if args.dry_run:
                result["status"] = "would replay"
            else:
                try:
                    ack = await js.publish(
                        letter.original_subject,
                        letter.data,
                        stream=letter.original_stream,
                        headers={"Nats-Msg-Id": replay_msg_id(letter)},
                    )
                    result["new_seq"] = ack.seq
                    result["status"] = "already replayed" if ack.duplicate else "replayed"
                    await js.delete_msg(DEAD_LETTER.name, letter.seq)
                except Exception as exc:
                    done = sum(1 for r in results if r["status"] != "would replay")
                    _report(results, args)
                    raise CommandError(
                        f"replaying dead letter {letter.seq} to {letter.original_subject} "
                        f"failed ({type(exc).__name__}: {exc or 'no detail'}) after {done} "
                        "replayed; it stays in the dead-letter stream, run the command again"
                    ) from None
            results.append(result)
    finally:
        await nc.close()
    _report(results, args)
    return 0


def _report(results: Sequence[dict[str, Any]], args: argparse.Namespace) -> None:
    if args.json:
        print(json.dumps({"dry_run": args.dry_run, "replayed": list(results)}, indent=2))
        return
    if not results:
        who = f" of consumer {args.consumer!r}" if args.consumer else ""
        print(f"no dead letters{who} to replay")
        return
    for r in results:
        target = f"{r['original_subject']} ({r['original_stream']})"
        what = f"event {r['event_id']}" if r["event_id"] else "undecodable payload"
        if r["status"] == "would replay":
            print(f"dead letter {r['seq']}: would replay {what} to {target}")
        else:
            print(
                f"dead letter {r['seq']}: {r['status']} {what} to {target} as "
                f"{r['original_stream']} seq {r['new_seq']}; dead letter deleted"
            )
        if not r["event_id"]:
            print(
                f"  note: the payload of dead letter {r['seq']} does not decode as a known "
                "event; consumers will dead-letter it again unless they were upgraded"
            )
    verb = "would be replayed" if args.dry_run else "replayed"
    print(f"{len(results)} dead letter(s) {verb}")


# --------------------------------------------------------------------------------------------
# Entry points
# --------------------------------------------------------------------------------------------


def _shown(args: argparse.Namespace) -> str:
    from trainops_shared.credentials import redact_urls

    return redact_urls(str(args.nats_url))


def operator_url(args: argparse.Namespace) -> str:
    """``--nats-url`` with the credentials of ``--credentials`` (or the install's operator
    file when the URL names no user): what this command connects with, never printed."""
    from pathlib import Path

    from trainops_shared.credentials import (
        CredentialsError,
        load_nats_credentials,
        nats_credentials_path,
    )
    from trainops_shared.nats_auth import OPERATOR_USER
    from trainops_shared.settings import default_data_dir, nats_url_user, with_nats_credentials

    url = str(args.nats_url)
    path = Path(args.credentials).expanduser() if args.credentials else None
    if path is None and nats_url_user(url) is None:
        root = Path(args.data_dir or os.environ.get("TRAINOPS_DATA_DIR") or default_data_dir())
        candidate = nats_credentials_path(root.expanduser() / "secrets", OPERATOR_USER)
        path = candidate if candidate.exists() else None
    if path is None:
        return url
    try:
        return with_nats_credentials(url, load_nats_credentials(path))
    except CredentialsError as exc:
        raise CommandError(str(exc)) from None


def _run(args: argparse.Namespace, action: Any) -> int:
    if args.timeout <= 0:
        print(f"{PROG}: --timeout must be a positive number of seconds", file=sys.stderr)
        return 2
    try:
        args.connect_url = operator_url(args)
    except CommandError as exc:
        print(f"{PROG} {args.action}: {exc}", file=sys.stderr)
        return 1
    import nats.errors
    import nats.js.errors

    try:
        return int(asyncio.run(action(args)))
    except CommandError as exc:
        print(f"{PROG} {args.action}: {exc}", file=sys.stderr)
        return 1
    except (nats.errors.Error, nats.js.errors.Error, TimeoutError, OSError) as exc:
        print(
            f"{PROG} {args.action}: NATS at {_shown(args)} failed mid-way "
            f"({type(exc).__name__}: {exc or 'no detail'}); run the command again",
            file=sys.stderr,
        )
        return 1
    except KeyboardInterrupt:
        return 130


def run_list(args: argparse.Namespace) -> int:
    return _run(args, list_dead_letters)


def run_replay(args: argparse.Namespace) -> int:
    return _run(args, replay_dead_letters)
