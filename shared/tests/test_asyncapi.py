"""The AsyncAPI document: generated from the code, complete, and committed up to date."""

from __future__ import annotations

import difflib
import json
from pathlib import Path
from typing import Any
from urllib.parse import unquote

import msgspec
import pytest

from trainops_shared.asyncapi import CONSUMERS, build_asyncapi, render_asyncapi, write_asyncapi
from trainops_shared.events import EVENT_TYPES, Event

pytestmark = pytest.mark.unit

REPO_ROOT = Path(__file__).resolve().parents[2]
COMMITTED = REPO_ROOT / "docs" / "asyncapi.json"
REGENERATE = "regenerate it from the repository root with: trainops asyncapi"


@pytest.fixture(scope="module")
def document() -> dict[str, Any]:
    return build_asyncapi()


def resolve(document: dict[str, Any], ref: str) -> Any:
    assert ref.startswith("#/"), ref
    node: Any = document
    for part in ref[2:].split("/"):
        key = unquote(part).replace("~1", "/").replace("~0", "~")
        assert isinstance(node, dict) and key in node, f"dangling $ref {ref!r} (at {key!r})"
        node = node[key]
    return node


def payload_of(document: dict[str, Any], channel: dict[str, Any]) -> dict[str, Any]:
    (message_ref,) = channel["messages"].values()
    message = resolve(document, message_ref["$ref"])
    schema = resolve(document, message["payload"]["$ref"])
    assert isinstance(schema, dict)
    return schema


def test_document_header(document: dict[str, Any]) -> None:
    assert document["asyncapi"] == "3.0.0"
    assert document["info"]["title"] == "trainops events"
    assert document["info"]["version"]
    assert "v2" in document["info"]["description"]
    assert document["defaultContentType"] == "application/json"
    assert all(s["protocol"] == "nats" for s in document["servers"].values())


@pytest.mark.parametrize("event_type", EVENT_TYPES, ids=lambda t: t.__name__)
def test_every_event_subject_is_a_channel_with_its_payload(
    document: dict[str, Any], event_type: type[Event]
) -> None:
    subject = event_type.type_name()
    channel = document["channels"].get(subject)
    assert channel is not None, f"no channel for {subject}"
    assert channel["address"] == subject
    assert channel["bindings"]["nats"]["subject"] == subject
    assert channel["description"]
    assert document["operations"][subject]["action"] == "send"

    schema = payload_of(document, channel)
    assert schema["title"] == event_type.__name__
    assert schema["properties"]["type"] == {"enum": [subject]}
    required = {f.encode_name for f in msgspec.structs.fields(event_type) if f.required}
    assert {"type", "aggregate_id"} <= required | {"type"}
    missing = (required | {"type"}) - set(schema["required"])
    assert not missing, f"{subject}: schema does not require {sorted(missing)}"
    optional = {f.encode_name for f in msgspec.structs.fields(event_type) if not f.required}
    assert optional <= set(schema["properties"]) - set(schema["required"])


@pytest.mark.parametrize(
    ("service", "stream"),
    [(service, spec) for service, specs in CONSUMERS.items() for spec in specs],
    ids=lambda v: getattr(v, "name", v),
)
def test_every_consumer_is_documented(document: dict[str, Any], service: str, stream: Any) -> None:
    key = f"{service}:{stream.name}"
    channel = document["channels"][key]
    assert channel["address"] == f"{stream.context}.>"
    assert document["operations"][key]["action"] == "receive"
    schema = payload_of(document, channel)
    members = {resolve(document, m["$ref"])["title"] for m in schema["oneOf"]}
    expected = {t.__name__ for t in EVENT_TYPES if t.type_name().startswith(f"{stream.context}.")}
    assert members == expected
    assert schema["discriminator"] == "type"


def test_consumers_match_the_design(document: dict[str, Any]) -> None:
    assert {s: [spec.name for spec in specs] for s, specs in CONSUMERS.items()} == {
        "registration": ["SCHEDULING"],
        "feedback": ["SCHEDULING", "REGISTRATION"],
        "reporting": ["SCHEDULING", "REGISTRATION", "FEEDBACK"],
    }


def test_every_ref_resolves(document: dict[str, Any]) -> None:
    refs: list[str] = []

    def walk(node: Any) -> None:
        if isinstance(node, dict):
            if isinstance(node.get("$ref"), str):
                refs.append(node["$ref"])
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for value in node:
                walk(value)

    walk(document)
    assert len(refs) > len(EVENT_TYPES) * 3
    for ref in refs:
        resolve(document, ref)


def test_nested_structs_are_components(document: dict[str, Any]) -> None:
    schemas = document["components"]["schemas"]
    assert schemas["ParticipantRegistered"]["properties"]["profile"] == {
        "$ref": "#/components/schemas/ParticipantProfile"
    }
    assert set(schemas["ParticipantProfile"]["required"]) == {
        "city",
        "sector",
        "sex",
        "age_band",
        "language",
    }


def test_generation_is_deterministic() -> None:
    assert render_asyncapi() == render_asyncapi()


def test_write_asyncapi(tmp_path: Path) -> None:
    target = tmp_path / "nested" / "asyncapi.json"
    write_asyncapi(target)
    assert json.loads(target.read_text(encoding="utf-8")) == build_asyncapi()


def test_committed_document_is_up_to_date() -> None:
    assert COMMITTED.is_file(), f"{COMMITTED} is missing: {REGENERATE}"
    committed = COMMITTED.read_text(encoding="utf-8")
    current = render_asyncapi()
    if committed != current:
        diff = "".join(
            list(
                difflib.unified_diff(
                    committed.splitlines(keepends=True),
                    current.splitlines(keepends=True),
                    "docs/asyncapi.json (committed)",
                    "generated from the code",
                )
            )[:60]
        )
        pytest.fail(f"docs/asyncapi.json is stale; {REGENERATE}\n{diff}", pytrace=False)
