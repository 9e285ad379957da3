"""Where a rebuilt read model waits for the service, and how the service takes it over.

A rebuild writes a fresh SQLite database beside the live one (``<db>.rebuilding``); only a
complete replay is renamed to ``<db>.rebuilt`` and then described by a manifest
(``<db>.rebuilt.json``: per stream, the sequence up to which every event is in the new model).
The manifest is written last, so its presence means "complete"; a run that stops earlier leaves
at most a ``.rebuilding`` file, which the next rebuild deletes and the service never reads.

At start-up the service adopts a complete rebuild before opening its database: the live file
(and its WAL, which belongs to the old file) is replaced by the rebuilt one in one rename, and
the service's durable consumers are recreated to deliver from just after the manifest's
sequences, so the events the old model took after the rebuild's end are applied to the new one
(the inbox dedupes any it already holds). Every step can be repeated: a crash part way through
is finished by the next start, and the manifest goes only after the consumers are in place.
"""

from __future__ import annotations

import contextlib
import dataclasses
import json
import os
from collections.abc import Mapping
from pathlib import Path

from nats.js import JetStreamContext
from nats.js.api import ConsumerConfig, DeliverPolicy
from nats.js.errors import NotFoundError

SIDE_FILES = ("-wal", "-shm", "-journal")


def rebuilding_path(db_path: Path) -> Path:
    return db_path.with_name(db_path.name + ".rebuilding")


def rebuilt_path(db_path: Path) -> Path:
    return db_path.with_name(db_path.name + ".rebuilt")


def manifest_path(db_path: Path) -> Path:
    return db_path.with_name(db_path.name + ".rebuilt.json")


def remove_database(path: Path) -> None:
    """A database file and its side files (a leftover partial rebuild)."""
    for suffix in ("", *SIDE_FILES):
        with contextlib.suppress(FileNotFoundError):
            Path(f"{path}{suffix}").unlink()


def publish(db_path: Path, covered: Mapping[str, int]) -> None:
    """A finished (closed, checkpointed) ``.rebuilding`` database becomes the rebuild ready to
    be adopted, covering each stream up to ``covered[stream]``."""
    for suffix in SIDE_FILES:
        if Path(f"{rebuilding_path(db_path)}{suffix}").exists():
            raise RuntimeError(f"{rebuilding_path(db_path)} is still open ({suffix} present)")
    os.replace(rebuilding_path(db_path), rebuilt_path(db_path))
    manifest = manifest_path(db_path)
    partial = manifest.with_name(manifest.name + ".tmp")
    partial.write_text(json.dumps({"covered": dict(covered)}, sort_keys=True))
    os.chmod(partial, 0o600)
    os.replace(partial, manifest)


def pending_manifest(db_path: Path) -> dict[str, int] | None:
    """The covered sequences of a complete rebuild not adopted yet, or None."""
    try:
        doc = json.loads(manifest_path(db_path).read_text())
    except FileNotFoundError:
        return None
    return {str(stream): int(seq) for stream, seq in doc["covered"].items()}


def swap_in(db_path: Path) -> None:
    """The rebuilt file replaces the live one (nothing to do if it already has)."""
    rebuilt = rebuilt_path(db_path)
    if not rebuilt.exists():
        return
    for suffix in SIDE_FILES:  # the old file's journal must never be replayed onto the new one
        with contextlib.suppress(FileNotFoundError):
            Path(f"{db_path}{suffix}").unlink()
    os.replace(rebuilt, db_path)


async def reposition_consumers(
    js: JetStreamContext, configs: Mapping[str, ConsumerConfig], covered: Mapping[str, int]
) -> None:
    """Each stream's durable consumer recreated to deliver from ``covered[stream] + 1``."""
    for stream, config in configs.items():
        if config.durable_name is None:
            raise ValueError("only durable consumers are repositioned")
        with contextlib.suppress(NotFoundError):
            await js.delete_consumer(stream, config.durable_name)
        await js.add_consumer(
            stream,
            dataclasses.replace(
                config,
                deliver_policy=DeliverPolicy.BY_START_SEQUENCE,
                opt_start_seq=covered.get(stream, 0) + 1,
            ),
        )


def forget_manifest(db_path: Path) -> None:
    with contextlib.suppress(FileNotFoundError):
        manifest_path(db_path).unlink()
