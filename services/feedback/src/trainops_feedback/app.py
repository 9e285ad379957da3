"""The composition root of the feedback service: tables, routes, event handlers, start-up."""

from __future__ import annotations

from sqlalchemy.exc import IntegrityError

from trainops_feedback.adapters.tables import MIGRATIONS
from trainops_feedback.api.console import ROUTES as CONSOLE_ROUTES
from trainops_feedback.api.console import TEMPLATE_CONFIG
from trainops_feedback.api.controllers import ROUTES
from trainops_feedback.api.definitions import ROUTES as DEFINITION_ROUTES
from trainops_feedback.api.knowledge import ROUTES as KNOWLEDGE_ROUTES
from trainops_feedback.api.survey_new import ROUTES as NEW_SURVEY_ROUTES
from trainops_feedback.api.survey_pages import ROUTES as SURVEY_PAGE_ROUTES
from trainops_feedback.domain.tokens import tokens_for
from trainops_feedback.handlers.commands import publish_survey
from trainops_feedback.handlers.events import FeedbackProjection
from trainops_feedback.handlers.surveys import DEFAULT_SURVEY
from trainops_shared.events.streams import FEEDBACK
from trainops_shared.logging import get_logger
from trainops_shared.service import ServiceRuntime, ServiceSpec
from trainops_shared.settings import Settings
from trainops_shared.timeutil import utc_now

log = get_logger(__name__)

PUBLIC_PATHS = ["^/f/", "^/responses$", "^/t/", "^/tests$", "^/assets/answers\\.js$"]
"""The participant's pages and JSON submissions (the invitation token is the credential), and
the pages' own script."""


async def publish_default_survey(runtime: ServiceRuntime) -> None:
    """Publish ``SurveyPublished`` for the default survey once, ever.

    The survey id and the event id are derived from the survey code, so a restart finds its
    ``fb_surveys`` row and records nothing; two replicas starting together collide on the
    primary key and the loser's transaction rolls back (its event never reaches the outbox).
    """
    try:
        published = await runtime.write(
            lambda conn: publish_survey(conn, DEFAULT_SURVEY, utc_now())
        )
    except IntegrityError:
        published = False
    log.info("default_survey", code=DEFAULT_SURVEY.code, newly_published=published)


def build_spec(settings: Settings) -> ServiceSpec:
    tokens = tokens_for(settings.feedback_link_key)
    projection = FeedbackProjection(tokens=tokens)
    return ServiceSpec(
        name="feedback",
        title="trainops feedback",
        description=(
            "Post-training feedback: one invitation per attending participant of a completed "
            "session, a mobile web form in Kazakh, Russian or English, one response per link."
        ),
        migrations=MIGRATIONS,
        route_handlers=[
            *ROUTES,
            *CONSOLE_ROUTES,
            *DEFINITION_ROUTES,
            *KNOWLEDGE_ROUTES,
            *SURVEY_PAGE_ROUTES,
            *NEW_SURVEY_ROUTES,
        ],
        produces=[FEEDBACK],
        event_handlers=projection.handlers(),
        only_handled_subjects=True,
        public_paths=PUBLIC_PATHS,
        template_config=TEMPLATE_CONFIG,
        home_page=False,
        on_start=publish_default_survey,
    )
