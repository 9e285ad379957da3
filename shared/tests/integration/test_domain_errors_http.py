"""Domain errors through ``create_app``: one handler maps every family, whatever the service."""

from __future__ import annotations

from pathlib import Path

import pytest
from litestar import get
from litestar.params import FromPath
from litestar.testing import AsyncTestClient

from trainops_devtools.testing.tokens import bearer, in_process_settings
from trainops_shared.errors import DomainError, NotFound
from trainops_shared.service import ServiceSpec, create_app
from trainops_shared.storage import MigrationSet

pytestmark = pytest.mark.integration


class ShopError(DomainError):
    code = "shop_error"


class SoldOut(ShopError):
    status = 409
    code = "conflict"


class NoSuchItem(NotFound, ShopError):
    """Also a shared NotFound, so code catching that catches this too."""


class BadAnswers(ShopError):
    status = 422
    code = "invalid"
    field_in_detail = False


@get("/items/{kind:str}", sync_to_thread=False)
def item(kind: FromPath[str]) -> dict[str, str]:
    if kind == "sold":
        raise SoldOut("item.stock", "no seats left")
    if kind == "missing":
        raise NoSuchItem("item_id", "no such item")
    if kind == "answers":
        raise BadAnswers(
            "answers.overall",
            "pick a score from 1 to 5",
            errors=[{"field": "answers.overall", "code": "out_of_range"}],
        )
    if kind == "plain":
        raise ShopError("kind", "not today")
    return {"kind": kind}


SPEC = ServiceSpec(
    name="shop",
    title="domain errors",
    description="errors of a service's own family",
    migrations=MigrationSet("shop"),
    route_handlers=[item],
)


@pytest.mark.parametrize(
    ("kind", "status", "body"),
    [
        (
            "sold",
            409,
            {
                "status": 409,
                "error": "conflict",
                "detail": "item.stock: no seats left",
                "field": "item.stock",
            },
        ),
        (
            "missing",
            404,
            {
                "status": 404,
                "error": "not_found",
                "detail": "item_id: no such item",
                "field": "item_id",
            },
        ),
        (
            "answers",
            422,
            {
                "status": 422,
                "error": "invalid",
                "detail": "pick a score from 1 to 5",
                "field": "answers.overall",
                "errors": [{"field": "answers.overall", "code": "out_of_range"}],
            },
        ),
        (
            "plain",
            400,
            {"status": 400, "error": "shop_error", "detail": "kind: not today", "field": "kind"},
        ),
    ],
)
async def test_a_family_of_domain_errors_maps_by_its_class_attributes(
    nats_url: str, tmp_path: Path, kind: str, status: int, body: dict[str, object]
) -> None:
    settings = in_process_settings(
        "feedback",
        nats_url=nats_url,
        database_url=f"sqlite+aiosqlite:///{tmp_path / 'shop.db'}",
        data_dir=tmp_path,
    )
    async with AsyncTestClient(create_app(SPEC, settings)) as client:
        answer = await client.get(f"/items/{kind}", headers=bearer("admin"))
    assert answer.status_code == status, answer.text
    assert answer.json() == body
