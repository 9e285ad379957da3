"""Projection of the feedback stream: surveys and the one counted response per registration."""

from __future__ import annotations

from sqlalchemy.engine import Connection

from trainops_reporting.adapters import catalogue, evidence, facts, state
from trainops_reporting.domain.projection import counted_response_change, overall_of
from trainops_shared.events import FeedbackSubmitted, SurveyPublished
from trainops_shared.inbox import RetryLater
from trainops_shared.timeutil import as_utc


def on_survey_published(conn: Connection, event: SurveyPublished) -> None:
    state.bump_generation(conn)
    catalogue.save_survey(
        conn,
        event.survey_id,
        code=event.code,
        items=event.items,
        session_id=event.session_id,
        version=event.aggregate_version,
    )
    kinds = event.item_kinds or dict.fromkeys(event.items, "likert")
    evidence.save_survey_items(conn, event.survey_id, event.version, kinds, event.options)


def on_feedback_submitted(conn: Connection, event: FeedbackSubmitted) -> None:
    """At most one response counts per invitation, i.e. per registration (feedback issues one
    invitation per registration and accepts one response on it): the earliest submitted, by
    ``(occurred_at, response_id)``, so that any delivery order leaves the same one counted.

    Keyed on the registration rather than on ``response_id`` (or ``invitation_id``, which a
    forged event can also make up), so responses invented for a real registration cannot pile
    onto its satisfaction figures; a redelivery of the counted response changes nothing either.
    """
    state.bump_generation(conn)
    fact = facts.fact(conn, event.registration_id)
    if fact is None:
        raise RetryLater(f"registration {event.registration_id} not seen yet (feedback)")
    submitted_at = as_utc(event.occurred_at)
    overall = overall_of(event.answers)
    counted = facts.counted_response(conn, event.registration_id)
    if counted is not None:
        if (counted.submitted_at, str(counted.response_id)) <= (
            submitted_at,
            str(event.response_id),
        ):
            return  # the counted response is this one, or an earlier one
        facts.drop_response(conn, counted.response_id)
        evidence.drop_item_answers(conn, counted.response_id)
        change = counted_response_change(overall, replaces=True, replaced_overall=counted.overall)
    else:
        change = counted_response_change(overall, replaces=False)
    facts.add_response(
        conn,
        {
            "response_id": event.response_id,
            "registration_id": event.registration_id,
            "session_id": event.session_id,
            "survey_id": event.survey_id,
            "overall": overall,
            "language": event.language,
            "has_comment": event.has_comment,
            "submitted_at": submitted_at,
            "invitation_id": event.invitation_id,
        },
    )
    facts.add_fact_feedback(conn, event.registration_id, change)
    evidence.add_item_answers(conn, event.response_id, event.answers, event.choices)
