"""The published surveys (one row per survey code, ever)."""

from __future__ import annotations

import uuid
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from trainops_feedback.adapters.tables import surveys


def survey_exists(conn: Connection, survey_id: uuid.UUID) -> bool:
    found = conn.execute(
        sa.select(surveys.c.survey_id).where(surveys.c.survey_id == survey_id)
    ).first()
    return found is not None


def insert_survey(
    conn: Connection, survey_id: uuid.UUID, code: str, items: list[str], now: datetime
) -> None:
    conn.execute(
        surveys.insert().values(survey_id=survey_id, code=code, items=list(items), published_at=now)
    )
