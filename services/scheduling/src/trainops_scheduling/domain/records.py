"""Trainings, trainers and the calendar query: plain values the use cases and the API share.

A training and a trainer have no rules beyond their fields (the code's uniqueness is the
database's), so they are records, not aggregates; the session is the aggregate
(:mod:`trainops_scheduling.domain.session`).
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Literal

from trainops_scheduling.domain.session import SessionStatus


@dataclass(frozen=True, slots=True)
class TrainingRecord:
    id: uuid.UUID
    code: str
    title: dict[str, str]
    target_sectors: list[str]
    version: int
    created_at: datetime


@dataclass(frozen=True, slots=True)
class TrainerRecord:
    id: uuid.UUID
    name: str
    home_city: str
    version: int
    created_at: datetime


@dataclass(frozen=True, slots=True)
class SessionFilter:
    """What ``GET /sessions`` may narrow by; ``starts_from``/``starts_before`` are UTC bounds.

    ``newest_first`` turns the order round (latest start first), so a limited query of the past
    returns the most recent sessions rather than the oldest."""

    city: str | None = None
    training_id: uuid.UUID | None = None
    status: SessionStatus | None = None
    starts_from: datetime | None = None
    starts_before: datetime | None = None
    limit: int = 1000
    offset: int = 0
    newest_first: bool = False


FeedKind = Literal["city", "trainer"]


@dataclass(frozen=True, slots=True)
class FeedRecord:
    """A subscribable calendar of one city's or one trainer's sessions (the token of its URL is
    shown once, when it is made, and never stored)."""

    id: uuid.UUID
    kind: FeedKind
    subject: str
    created_by: str
    created_at: datetime
    revoked_at: datetime | None = None
