"""The stored answers: one row per invitation, the comment never leaving this table."""

from __future__ import annotations

from typing import Any

from sqlalchemy.engine import Connection

from trainops_feedback.adapters.tables import responses


def insert_response(conn: Connection, **values: Any) -> None:
    conn.execute(responses.insert().values(**values))
