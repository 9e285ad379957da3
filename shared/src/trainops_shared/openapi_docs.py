"""What the OpenAPI documents say about answers Litestar cannot infer from a handler's signature:
the one JSON error shape, the status codes each kind of route answers with, public routes.

A client generated from a service's document (and schemathesis, which checks every answer
against it) must find every status the service really sends, in the media type it really
sends. The codes come in groups, by what causes them, so a route lists its causes rather than
numbers:

* every route: 429 (a rate limit, with ``Retry-After``) and 503 (storage unavailable, retry with
  the same ``Idempotency-Key``);
* a route that needs a token: 401 (no valid token) and 403 (a role that may not use it);
* a route with a body or parameters: 400 (malformed JSON or UTF-8, nesting too deep) and 422
  (a field or parameter refused, named in ``field``); a body: 413 (too large);
* per route: 404 (not found, or not in the caller's region) and 409 (a conflicting state).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import msgspec
from litestar.openapi.datastructures import ResponseSpec
from litestar.openapi.spec import (
    OpenAPIMediaType,
    OpenAPIResponse,
    OpenAPIType,
    Operation,
    Reference,
    RequestBody,
    Schema,
)


class ErrorBody(msgspec.Struct, kw_only=True, omit_defaults=True):
    """The JSON error every service answers with (``trainops_shared.service`` builds it)."""

    status: int
    """The HTTP status again, for clients that only see the body."""
    error: str
    """A stable code: ``unauthorized``, ``forbidden``, ``not_found``, ``conflict``, ``invalid``,
    ``malformed_json``, ``body_too_large``, ``rate_limited``, ``unavailable``, ..."""
    detail: str
    """A sentence for a person: what was wrong and what to do."""
    field: str | None = None
    """The request field or parameter at fault (``participant.city``, ``from``)."""
    errors: list[dict[str, Any]] | None = None
    """Every problem when there are several (a CSV import lists each line and field)."""
    retry_after: int | None = None
    """Seconds to wait (429); the ``Retry-After`` header says the same."""


DESCRIPTIONS: dict[int, str] = {
    400: "Malformed request: invalid JSON or UTF-8, nesting too deep, or a bad header.",
    401: "No valid bearer token: missing, malformed, expired, or not signed by the issuer.",
    403: "The token's role may not use this route (or, for a coordinator, another region's "
    "data named in the body).",
    404: "Not found, or not visible to the caller (another region's data is never revealed).",
    409: "The request conflicts with the current state.",
    413: "The request body is larger than the service accepts.",
    415: "The body's Content-Type is not one this route accepts.",
    422: "A field or parameter was refused; `field` names it, `errors` lists every problem.",
    429: "Too many requests from this principal or address; retry after `Retry-After` seconds.",
    503: "The service's storage is unavailable; retry later (with the same Idempotency-Key).",
}

ERROR_BODY_REF = Reference(ref="#/components/schemas/ErrorBody")
"""Where Litestar puts :class:`ErrorBody` (every route's 429 and 503 register it)."""

EVERY_ROUTE = (429, 503)
PROTECTED = (401, 403)
INPUT = (400, 422)
BODY = (400, 413, 422)


def error_responses(
    *codes: int, media_type: str = "application/json", limited: bool = True
) -> dict[int, ResponseSpec]:
    """``responses=`` for a route that can answer with ``codes``, each in ``media_type`` (an HTML
    page answers its errors as pages). With ``limited``, 429 and 503 (always JSON) are added."""

    def spec(code: int, media: str) -> ResponseSpec:
        return ResponseSpec(
            data_container=ErrorBody if media == "application/json" else str,
            description=DESCRIPTIONS[code],
            media_type=media,
            generate_examples=False,
        )

    answers = {code: spec(code, media_type) for code in codes}
    if limited:
        answers.update({code: spec(code, "application/json") for code in EVERY_ROUTE})
    return dict(sorted(answers.items()))


def protected(*codes: int) -> dict[int, ResponseSpec]:
    """``responses=`` for a route that needs a token: 401, 403, 400 and 422 (every route checks
    its query parameters), 429, 503, and ``codes``."""
    return error_responses(*PROTECTED, *INPUT, *codes)


def public(*codes: int) -> dict[int, ResponseSpec]:
    """``responses=`` for a JSON route that needs no token: 400, 422, 429, 503 and ``codes``."""
    return error_responses(*INPUT, *codes)


def operation_class(
    *,
    public: bool = False,
    body: tuple[str, str, Schema] | None = None,
    also_200: tuple[str, str] | None = None,
    json_too: tuple[int, ...] = (),
) -> type[Operation]:
    """An OpenAPI operation class for what a route's signature cannot say.

    ``public``: the route needs no token (``security: []``; Litestar drops an empty
    ``security=[]`` given to a handler, so the document-wide bearer requirement would apply).
    ``body``: ``(media type, description, schema)`` of a body the handler reads raw (a CSV
    file, a browser's form). ``also_200``: ``(media type, description)`` of a second
    representation of the 200 answer (CSV beside JSON). ``json_too``: codes an HTML route also
    answers with the JSON error body (the shared checks of query parameters and bodies run
    before the page is rendered).
    """

    @dataclass
    class DocumentedOperation(Operation):
        def __post_init__(self) -> None:
            if public:
                self.security = []
            if body is not None:
                media, description, schema = body
                self.request_body = RequestBody(
                    content={media: OpenAPIMediaType(schema=schema)},
                    description=description,
                    required=True,
                )
            if also_200 is not None and self.responses and "200" in self.responses:
                answer = self.responses["200"]
                if isinstance(answer, OpenAPIResponse):
                    media, description = also_200
                    answer.content = {
                        **(answer.content or {}),
                        media: OpenAPIMediaType(
                            schema=Schema(type=OpenAPIType.STRING, description=description)
                        ),
                    }

            for code in json_too:
                error = (self.responses or {}).get(str(code))
                if isinstance(error, OpenAPIResponse):
                    error.content = {
                        **(error.content or {}),
                        "application/json": OpenAPIMediaType(schema=ERROR_BODY_REF),
                    }

    return DocumentedOperation


PublicOperation = operation_class(public=True)
"""The operation of a route that needs no token (health, readiness)."""
