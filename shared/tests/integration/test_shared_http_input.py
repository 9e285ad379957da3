"""The HTTP edge every service shares (create_app): unknown query parameters, broken JSON, OPTIONS
and Litestar's own server errors, on a small app of test routes; and every service's integer
query parameters bounded, read from their OpenAPI documents so a new route is covered too.
"""

from __future__ import annotations

import importlib
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Annotated, Any

import msgspec
import pytest
from litestar import Router, get, post
from litestar.di import NamedDependency, Provide
from litestar.exceptions import ImproperlyConfiguredException
from litestar.params import FromQuery, JSONBody, QueryParameter
from litestar.testing import AsyncTestClient

from trainops_devtools.testing.tokens import TEST_JWT_ENV, bearer
from trainops_shared.auth import requires
from trainops_shared.service import ANY_QUERY_OPT, MAX_JSON_DEPTH, ServiceSpec, create_app
from trainops_shared.settings import load_settings
from trainops_shared.storage import MigrationSet

SERVICES = ("registration", "scheduling", "feedback", "reporting")


class Probe(msgspec.Struct, forbid_unknown_fields=True):
    name: str
    tags: dict[str, Any] = msgspec.field(default_factory=dict)


def page_language(lang: FromQuery[str | None] = None) -> str:
    return lang or "en"


@get("/probe", dependencies={"language": Provide(page_language, sync_to_thread=False)})
async def probe_list(
    language: NamedDependency[str],
    city: FromQuery[str | None] = None,
    from_: Annotated[str | None, QueryParameter(name="from")] = None,
    limit: Annotated[int, QueryParameter(ge=1, le=100)] = 10,
) -> dict[str, Any]:
    return {"language": language, "city": city, "from": from_, "limit": limit}


@post("/probe")
async def probe_create(data: JSONBody[Probe]) -> dict[str, Any]:
    return {"name": data.name}


@get("/probe/tolerant", opt={ANY_QUERY_OPT: True})
async def probe_tolerant() -> dict[str, str]:
    return {"ok": "yes"}


@get("/probe/broken")
async def probe_broken() -> None:
    raise ImproperlyConfiguredException("'user' is not defined in scope, install an AuthMiddleware")


@get("/")
async def guarded_get() -> dict[str, str]:
    return {"ok": "yes"}


guarded = Router(path="/guarded", route_handlers=[guarded_get], guards=[requires("admin")])
"""Guards on a router (or controller) also guard the OPTIONS handler Litestar adds."""


@pytest.fixture
async def client(
    nats_url: str, database_url: str, tmp_path: Path
) -> AsyncIterator[AsyncTestClient[Any]]:
    settings = load_settings(
        "scheduling",
        {
            "NATS_URL": nats_url,
            "DATABASE_URL": database_url,
            **TEST_JWT_ENV,
            "TRAINOPS_DATA_DIR": str(tmp_path),
        },
    )
    spec = ServiceSpec(
        name="scheduling",
        title="probe",
        description="test routes",
        migrations=MigrationSet("probe"),
        route_handlers=[probe_list, probe_create, probe_tolerant, probe_broken, guarded],
        public_paths=["^/probe"],
    )
    async with AsyncTestClient(create_app(spec, settings)) as test_client:
        yield test_client


pytestmark = pytest.mark.integration


async def test_declared_query_parameters_pass_including_a_dependencys(
    client: AsyncTestClient[Any],
) -> None:
    response = await client.get("/probe?city=almaty&from=2020-12-01&limit=5&lang=kk")
    assert response.status_code == 200, response.text
    assert response.json() == {"language": "kk", "city": "almaty", "from": "2020-12-01", "limit": 5}


@pytest.mark.parametrize(
    ("query", "unknown"),
    [
        ("cty=almaty", ["cty"]),
        ("q=", ["q"]),
        ("city=a&zz=1&aa=2", ["aa", "zz"]),
        ("From=x", ["From"]),
    ],
)
async def test_unknown_query_parameters_are_a_422_naming_them(
    client: AsyncTestClient[Any], query: str, unknown: list[str]
) -> None:
    response = await client.get(f"/probe?{query}")
    assert response.status_code == 422, response.text
    body = response.json()
    assert body["field"] == unknown[0]
    assert [e["field"] for e in body["errors"]] == unknown
    assert "this route accepts: city, from, lang, limit" in body["detail"]


async def test_a_route_may_tolerate_unknown_parameters(client: AsyncTestClient[Any]) -> None:
    assert (await client.get("/probe/tolerant?fbclid=x&utm_source=y")).status_code == 200


async def test_a_long_unknown_name_is_cut_short(client: AsyncTestClient[Any]) -> None:
    response = await client.get(f"/probe?{'x' * 5000}=1")
    assert response.status_code == 422
    assert len(response.text) < 400


async def test_json_nesting_is_bounded(client: AsyncTestClient[Any]) -> None:
    def nested(depth: int) -> bytes:
        inner = b"[" * (depth - 2) + b"]" * (depth - 2)
        return b'{"name": "a", "tags": {"x": ' + inner + b"}}"

    at_limit = await client.post(
        "/probe", content=nested(MAX_JSON_DEPTH), headers={"Content-Type": "application/json"}
    )
    assert at_limit.status_code == 201, at_limit.text
    for depth in (MAX_JSON_DEPTH + 1, 100_000):
        response = await client.post(
            "/probe", content=nested(depth), headers={"Content-Type": "application/json"}
        )
        assert response.status_code == 400, response.text
        assert response.json() == {
            "status": 400,
            "error": "malformed_json",
            "detail": f"the JSON body nests deeper than {MAX_JSON_DEPTH} levels",
        }


@pytest.mark.parametrize(
    "raw", [b'{"name": "\xff"}', b'{"name": "\xed\xa0\x80"}', b'{"name": "\xc3"}', b'{"\xfe": 1}']
)
async def test_invalid_utf8_is_a_400_quoting_no_bytes(
    client: AsyncTestClient[Any], raw: bytes
) -> None:
    response = await client.post(
        "/probe", content=raw, headers={"Content-Type": "application/json"}
    )
    assert response.status_code == 400, response.text
    assert response.json()["detail"] == "the JSON body is not valid UTF-8"


async def test_malformed_json_stays_a_400(client: AsyncTestClient[Any]) -> None:
    response = await client.post(
        "/probe", content=b'{"name": ', headers={"Content-Type": "application/json"}
    )
    assert response.status_code == 400
    assert response.json()["error"] == "malformed_json"


async def test_litestars_own_server_errors_name_no_internals(client: AsyncTestClient[Any]) -> None:
    response = await client.get("/probe/broken")
    assert response.status_code == 500
    assert response.json() == {"status": 500, "error": "internal", "detail": "internal error"}


async def test_options_is_authenticated_like_the_route(client: AsyncTestClient[Any]) -> None:
    assert (await client.options("/guarded")).status_code == 401
    assert (await client.options("/guarded", headers=bearer("reporting"))).status_code == 403
    allowed = await client.options("/guarded", headers=bearer("admin"))
    assert allowed.status_code == 204
    assert "GET" in allowed.headers["allow"]


@pytest.mark.parametrize("service", SERVICES)
def test_every_integer_query_parameter_is_bounded(service: str, tmp_path: Path) -> None:
    """An unbounded integer reaches SQL, where a value past 64 bits is an overflow (a 500)."""
    settings = load_settings(service, {**TEST_JWT_ENV, "TRAINOPS_DATA_DIR": str(tmp_path)})
    build_spec = importlib.import_module(f"trainops_{service}.app").build_spec
    document = create_app(build_spec(settings), settings).openapi_schema.to_schema()
    unbounded = []
    for path, item in document["paths"].items():
        for method, operation in item.items():
            for parameter in operation.get("parameters", []):
                schema = parameter.get("schema", {})
                variants = schema.get("oneOf", [schema])
                for variant in variants:
                    if variant.get("type") == "integer" and (
                        "maximum" not in variant or "minimum" not in variant
                    ):
                        unbounded.append(f"{method.upper()} {path} {parameter['name']}")
    assert unbounded == []
