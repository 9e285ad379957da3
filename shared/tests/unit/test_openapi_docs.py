"""The OpenAPI helpers say in the document what the signature cannot: public routes, error
answers, raw bodies and a second representation of a 200."""

from __future__ import annotations

from typing import Any

import pytest
from litestar import Litestar, Response, get, post
from litestar.openapi import OpenAPIConfig
from litestar.openapi.spec import OpenAPIType, Schema
from litestar.params import FromPath, RawBody

from trainops_shared.openapi_docs import (
    PublicOperation,
    error_responses,
    operation_class,
    protected,
    public,
)

pytestmark = pytest.mark.unit


@get("/health", operation_class=PublicOperation, responses=public(), sync_to_thread=False)
def health() -> dict[str, str]:
    return {"status": "ok"}


@get("/things/{thing_id:int}", responses=protected(404), sync_to_thread=False)
def thing(thing_id: FromPath[int]) -> dict[str, int]:
    return {"id": thing_id}


@post(
    "/import",
    operation_class=operation_class(
        body=("text/csv", "one row per thing", Schema(type=OpenAPIType.STRING))
    ),
    responses=protected(409),
    sync_to_thread=False,
)
def import_things(body: RawBody) -> dict[str, int]:
    return {"rows": len(bytes(body).splitlines())}


@get(
    "/table",
    operation_class=operation_class(also_200=("text/csv", "the table as CSV")),
    responses=protected(),
    sync_to_thread=False,
)
def table() -> Response[Any]:
    return Response({})


@get(
    "/page",
    media_type="text/html",
    operation_class=operation_class(public=True, json_too=(422,)),
    responses=error_responses(404, 422, media_type="text/html"),
    sync_to_thread=False,
)
def page() -> str:
    return "<p>hi</p>"


def document() -> dict[str, Any]:
    app = Litestar(
        [health, thing, import_things, table, page],
        openapi_config=OpenAPIConfig(title="t", version="1", security=[{"BearerToken": []}]),
    )
    schema: dict[str, Any] = app.openapi_schema.to_schema()
    return schema


def test_public_routes_override_the_document_wide_token_requirement() -> None:
    paths = document()["paths"]
    assert paths["/health"]["get"]["security"] == []
    assert paths["/page"]["get"]["security"] == []
    assert "security" not in paths["/things/{thing_id}"]["get"]


def test_error_answers_are_documented_with_the_shared_error_body() -> None:
    doc = document()
    answers = doc["paths"]["/things/{thing_id}"]["get"]["responses"]
    assert set(answers) == {"200", "400", "401", "403", "404", "422", "429", "503"}
    ref = answers["404"]["content"]["application/json"]["schema"]["$ref"]
    assert ref == "#/components/schemas/ErrorBody"
    body = doc["components"]["schemas"]["ErrorBody"]
    assert set(body["required"]) == {"status", "error", "detail"}
    public_answers = doc["paths"]["/health"]["get"]["responses"]
    assert set(public_answers) == {"200", "400", "422", "429", "503"}


def test_an_html_page_documents_its_errors_as_pages_and_its_limits_as_json() -> None:
    answers = document()["paths"]["/page"]["get"]["responses"]
    assert set(answers["200"]["content"]) == {"text/html"}
    assert set(answers["404"]["content"]) == {"text/html"}
    assert set(answers["429"]["content"]) == {"application/json"}
    assert set(answers["422"]["content"]) == {"text/html", "application/json"}
    ref = answers["422"]["content"]["application/json"]["schema"]["$ref"]
    assert ref == "#/components/schemas/ErrorBody"


def test_a_raw_body_and_a_second_representation_are_documented() -> None:
    paths = document()["paths"]
    body = paths["/import"]["post"]["requestBody"]
    assert body["required"] is True
    assert body["content"] == {"text/csv": {"schema": {"type": "string"}}}
    assert body["description"] == "one row per thing"
    ok = paths["/table"]["get"]["responses"]["200"]["content"]
    assert set(ok) == {"application/json", "text/csv"}
