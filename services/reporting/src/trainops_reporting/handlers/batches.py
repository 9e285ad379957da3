"""The consumer's batch entry point: a fetched batch applied with a few multi-row statements.

Consecutive registration and feedback-response events (most of the traffic) are folded
together (``domain.batch_fold``) over the rows they read, loaded in one go, and written in one
go (``adapters.fact_batches``), the counted responses' per-item answers included. Any other
event is applied by its per-event handler in its own SAVEPOINT: scheduling and survey events,
knowledge tests and comments; merges, and every event of a participant merged into another
(the per-event handlers follow the merge to the kept participant). It runs after what the
fold gathered so far has been written, so it sees the same database it would one event at a
time. The result is the read model the per-event handlers (``handlers.events.EVENT_HANDLERS``)
produce for the same delivery order, which the unit tests check on random streams; those
handlers stay the consumer's fallback when a batch raises.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence

from sqlalchemy.engine import Connection

from trainops_reporting.adapters import fact_batches
from trainops_reporting.domain.batch_fold import FOLDED_TYPES, BatchFold, keys_of
from trainops_reporting.handlers.events import EVENT_HANDLERS
from trainops_shared.events import Event, ParticipantsMerged
from trainops_shared.inbox import RetryLater
from trainops_shared.storage import is_transient


def _fold(conn: Connection, run: Sequence[tuple[int, Event]]) -> dict[int, Exception]:
    fold = BatchFold(fact_batches.load(conn, keys_of(event for _, event in run)))
    for _, event in run:
        fold.apply(event)
    changes = fold.changes()
    if changes.applied:
        fact_batches.bump_generation(conn, changes.applied)
    fact_batches.write(conn, changes)
    return {run[position][0]: RetryLater(reason) for position, reason in changes.waiting.items()}


def _merged(conn: Connection, events: Sequence[Event]) -> set[uuid.UUID]:
    """The batch's participants merged into another, before the batch or within it."""
    ids = {
        participant
        for event in events
        if type(event) in FOLDED_TYPES
        and isinstance(participant := getattr(event, "participant_id", None), uuid.UUID)
    }
    within = {e.merged_participant_id for e in events if isinstance(e, ParticipantsMerged)}
    return fact_batches.merged_among(conn, ids) | within if ids else within


def apply_batch(conn: Connection, events: Sequence[Event]) -> dict[int, Exception]:
    """Apply ``events`` (new to the inbox, in delivery order) in the consumer's transaction.

    Returns the events that changed nothing and must be retried, by position: those waiting for
    an aggregate not seen yet and per-event handlers that failed. A database error raises (the
    consumer then holds or re-applies the batch event by event).
    """
    failures: dict[int, Exception] = {}
    run: list[tuple[int, Event]] = []
    merged = _merged(conn, events)
    for position, event in enumerate(events):
        if type(event) in FOLDED_TYPES and getattr(event, "participant_id", None) not in merged:
            run.append((position, event))
            continue
        if run:
            failures.update(_fold(conn, run))
            run = []
        try:
            with conn.begin_nested():
                EVENT_HANDLERS[type(event)](conn, event)
        except Exception as exc:
            if is_transient(exc):
                raise
            failures[position] = exc
    if run:
        failures.update(_fold(conn, run))
    return failures
