"""Request and response bodies of the feedback JSON API (msgspec Structs)."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated, Any

import msgspec

from trainops_feedback.domain.definitions import DRAFT_MAX_BYTES, MAX_ITEMS
from trainops_feedback.domain.survey import COMMENT_MAX_LENGTH
from trainops_shared import errors as app_errors

# Generous raw bounds only (the domain checks the real rules with per-field messages); they keep
# a hostile body from costing memory or time before validation runs.
Token = Annotated[str, msgspec.Meta(min_length=1, max_length=256)]
RawComment = Annotated[str, msgspec.Meta(max_length=4 * COMMENT_MAX_LENGTH)]
LanguageCode = Annotated[str, msgspec.Meta(min_length=2, max_length=16)]


class ResponseIn(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    """A participant's answers sent as JSON (the API twin of the ``/f/{token}`` form).

    ``answers`` is typed loosely on purpose: the domain validates it and names every wrong item
    (``answers.trainer``), the same way it does for the HTML form.
    """

    # Defaults on purpose: a missing token or answers object is reported by the handler with
    # the precise field ("token", "answers.overall"), not as a generic body error.
    token: Token | None = None
    answers: Annotated[dict[str, Any], msgspec.Meta(max_length=50)] = msgspec.field(
        default_factory=dict
    )
    comment: RawComment | None = None
    language: LanguageCode | None = None


class ResponseCreated(msgspec.Struct, kw_only=True):
    id: uuid.UUID


class InvitationOut(msgspec.Struct, kw_only=True):
    """One invitation link; ``submitted`` tells whether its response came in already."""

    registration_id: uuid.UUID
    url: str
    language: str
    expires_at: datetime
    submitted: bool
    kind: str = "feedback"
    """``feedback`` (``/f/…``, after the session), ``pre_test`` (``/t/…``, before it: for the
    confirmation) or ``post_test`` (``/t/…``, after it)."""


Answers = Annotated[dict[str, Any], msgspec.Meta(max_length=MAX_ITEMS)]


class DraftIn(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    """The answers a page has so far (the same body for the feedback form and a test)."""

    answers: Answers = msgspec.field(default_factory=dict)

    def bounded(self) -> dict[str, Any]:
        """The answers, refused (422) when larger than a draft may be."""
        if len(msgspec.json.encode(self.answers)) > DRAFT_MAX_BYTES:
            raise app_errors.Invalid(f"a draft is at most {DRAFT_MAX_BYTES} bytes", field="answers")
        return self.answers


class DraftOut(msgspec.Struct, kw_only=True):
    answers: dict[str, Any]
