"""Pure feedback rules: the survey and its validation, invitation tokens, texts and pages.

No HTTP, SQL or broker code lives here; the pages are plain strings so they can be tested
without a server and served by any framework.
"""

from trainops_feedback.domain.errors import (
    AlreadySubmitted,
    Conflict,
    FeedbackError,
    FieldError,
    Invalid,
    InvalidAnswers,
    InvitationExpired,
    InvitationNotFound,
    NotFound,
)
from trainops_feedback.domain.form_page import (
    HtmlPage,
    render_already_submitted,
    render_form,
    render_form_with_errors,
    render_not_found,
    render_thanks,
)
from trainops_feedback.domain.i18n import Language, resolve_language, texts_for
from trainops_feedback.domain.survey import (
    DEFAULT_SURVEY_CODE,
    POST_TRAINING_V1,
    Submission,
    SurveyDefinition,
    get_survey,
    parse_form,
    validate_answers,
)
from trainops_feedback.domain.tokens import (
    DEFAULT_TOKEN_TTL,
    expiry_for,
    hash_token,
    is_expired,
    looks_like_token,
    new_token,
)

__all__ = [
    "DEFAULT_SURVEY_CODE",
    "DEFAULT_TOKEN_TTL",
    "POST_TRAINING_V1",
    "AlreadySubmitted",
    "Conflict",
    "FeedbackError",
    "FieldError",
    "HtmlPage",
    "Invalid",
    "InvalidAnswers",
    "InvitationExpired",
    "InvitationNotFound",
    "Language",
    "NotFound",
    "Submission",
    "SurveyDefinition",
    "expiry_for",
    "get_survey",
    "hash_token",
    "is_expired",
    "looks_like_token",
    "new_token",
    "parse_form",
    "render_already_submitted",
    "render_form",
    "render_form_with_errors",
    "render_not_found",
    "render_thanks",
    "resolve_language",
    "texts_for",
    "validate_answers",
]
