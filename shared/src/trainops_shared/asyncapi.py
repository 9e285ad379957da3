"""The AsyncAPI document of every trainops subject and payload, generated from the code.

FastStream's generator builds the document from an (unconnected) :class:`NatsBroker` that
carries one publisher per event type (channel = the event's subject, in its producer's stream)
and the durable consumers of each service (one per stream it reads). FastStream derives payload
schemas through pydantic, which does not understand msgspec Structs, so every payload is handed
to FastStream as a named placeholder and the real JSON Schemas, produced by
:func:`msgspec.json.schema_components` from the very Structs that go on the wire, are then
injected into ``components.schemas`` under the same names.

Regenerate the committed copy with ``trainops asyncapi`` (writes ``docs/asyncapi.json``).
"""

from __future__ import annotations

import importlib.metadata
import inspect
import json
from collections.abc import Mapping
from pathlib import Path
from typing import Annotated, Any, Final

import msgspec
from faststream.nats import JStream, NatsBroker, PullSub
from faststream.specification import AsyncAPI
from pydantic import Field, WithJsonSchema

from trainops_shared.events.base import Event
from trainops_shared.events.catalogue import EVENT_TYPES
from trainops_shared.events.streams import (
    FEEDBACK,
    REGISTRATION,
    SCHEDULING,
    STREAMS,
    StreamSpec,
    stream_for_subject,
)

TITLE: Final = "trainops events"
SCHEMA_VERSION: Final = "3.0.0"
SERVER_URL: Final = "nats://127.0.0.1:4222"
"""The development server (the default ``NATS_URL``); deployments substitute their own."""

DESCRIPTION: Final = (
    "Every event the trainops services exchange over NATS JetStream. One subject per event "
    "type: the subject is the event's explicit, versioned tag (`<context>.<event>.v<N>`), also "
    "carried in the payload's `type` field. One stream per producing context (`SCHEDULING` <- "
    "`scheduling.>`, `REGISTRATION` <- `registration.>`, `FEEDBACK` <- `feedback.>`), declared "
    "by its producer. Payloads are JSON encoded by msgspec; consumers ignore unknown fields. "
    "Evolution: fields are only ever added, each with a default; a breaking change is a new "
    "`.v2` type on a new subject. Personal data (names, phones, e-mails) never leaves "
    "registration. Generated from the code: see docs/events.md."
)

CONSUMERS: Final[Mapping[str, tuple[StreamSpec, ...]]] = {
    "registration": (SCHEDULING,),
    "feedback": (SCHEDULING, REGISTRATION),
    "reporting": (SCHEDULING, REGISTRATION, FEEDBACK),
}
"""Service -> the streams it reads, each through one durable pull consumer named after it."""

_REF_TEMPLATE: Final = "#/components/schemas/{name}"


def _description(event_type: type[Event]) -> str:
    doc = event_type.__doc__
    if doc:
        return inspect.cleandoc(doc)
    return f"{event_type.__name__}, published by the {_context(event_type)} service."


def _context(event_type: type[Event]) -> str:
    return event_type.type_name().split(".", 1)[0]


def _stream_union_name(spec: StreamSpec) -> str:
    return f"{spec.context.capitalize()}Event"


def _named(name: str, base: Any) -> Any:
    """A type pydantic can name in a JSON Schema without understanding it.

    FastStream uses the title as the component name and references it from the message; the
    placeholder body is replaced by msgspec's schema in :func:`_inject_schemas`.
    """
    return Annotated[base, WithJsonSchema({"type": "object"}), Field(title=name)]


def _consumer_handler(stream: StreamSpec) -> Any:
    payload = _named(_stream_union_name(stream), Any)

    async def consume(event: Any) -> None:
        """Documentation only: the services' real handlers live in their own packages."""

    # Resolved annotations (this module postpones them) are what FastStream inspects.
    consume.__annotations__ = {"event": payload, "return": None}
    consume.__name__ = consume.__qualname__ = f"consume_{stream.context}"
    return consume


def build_broker() -> NatsBroker:
    """An unconnected broker that carries every documented publisher and consumer."""
    broker = NatsBroker(SERVER_URL, description="NATS with JetStream")
    for event_type in EVENT_TYPES:
        subject = event_type.type_name()
        spec = stream_for_subject(subject)
        broker.publisher(
            subject,
            stream=JStream(spec.name, subjects=spec.subjects, declare=False),
            schema=_named(event_type.__name__, event_type),
            title=subject,
            description=_description(event_type),
        )
    for service, specs in CONSUMERS.items():
        for spec in specs:
            subscriber = broker.subscriber(
                f"{spec.context}.>",
                stream=JStream(spec.name, subjects=spec.subjects, declare=False),
                durable=service,
                pull_sub=PullSub(batch=True),
                title=f"{service}:{spec.name}",
                description=(
                    f"The {service} service's durable pull consumer `{service}` of stream "
                    f"{spec.name} (`{spec.context}.>`): explicit ack after its database commit, "
                    f"inbox keyed by event_id, poison messages to "
                    f"`deadletter.{service}.<subject>`."
                ),
            )
            subscriber(_consumer_handler(spec))
    return broker


def _payload_schemas() -> dict[str, Any]:
    """msgspec's JSON Schema of every event (and nested Struct), plus one union per stream."""
    _, components = msgspec.json.schema_components(EVENT_TYPES, ref_template=_REF_TEMPLATE)
    schemas: dict[str, Any] = dict(components)
    for spec in STREAMS.values():
        members = [t for t in EVENT_TYPES if _context(t) == spec.context]
        schemas[_stream_union_name(spec)] = {
            "title": _stream_union_name(spec),
            "description": (
                f"Any event of stream {spec.name} (`{spec.context}.>`); `type` tells which."
            ),
            "oneOf": [{"$ref": _REF_TEMPLATE.format(name=t.__name__)} for t in members],
            "discriminator": "type",
        }
    return schemas


def _inject_schemas(document: dict[str, Any]) -> None:
    components = document.setdefault("components", {})
    generated: dict[str, Any] = components.get("schemas", {})
    real = _payload_schemas()
    missing = sorted(set(generated) - set(real))
    if missing:
        raise RuntimeError(f"no msgspec schema for the payload(s) FastStream named: {missing}")
    components["schemas"] = real


def _channel_order() -> list[str]:
    """Event subjects in catalogue order, then each service's consumers."""
    subjects = [t.type_name() for t in EVENT_TYPES]
    consumers = [f"{service}:{spec.name}" for service, specs in CONSUMERS.items() for spec in specs]
    return subjects + consumers


def _ordered(mapping: dict[str, Any], order: list[str]) -> dict[str, Any]:
    """``mapping`` with a stable key order (FastStream's follows registration internals)."""
    rank = {key: i for i, key in enumerate(order)}

    def sort_key(key: str) -> tuple[int, str]:
        prefix = key.rsplit(":", 1)[0] if key not in rank else key
        return (rank.get(prefix, len(rank)), key)

    return {key: mapping[key] for key in sorted(mapping, key=sort_key)}


def _stabilise(document: dict[str, Any]) -> None:
    order = _channel_order()
    for key in ("channels", "operations"):
        document[key] = _ordered(document.get(key, {}), order)
    components = document["components"]
    components["messages"] = _ordered(components.get("messages", {}), order)


def build_asyncapi() -> dict[str, Any]:
    """The AsyncAPI 3.0 document of every trainops subject and payload, as JSON-able data."""
    spec = AsyncAPI(
        build_broker(),
        title=TITLE,
        version=importlib.metadata.version("trainops-shared"),
        description=DESCRIPTION,
        schema_version=SCHEMA_VERSION,
    ).to_specification()
    document: dict[str, Any] = json.loads(spec.to_json())
    _inject_schemas(document)
    _stabilise(document)
    return document


def render_asyncapi() -> str:
    """The document as it is committed: indented JSON, UTF-8, one trailing newline."""
    return json.dumps(build_asyncapi(), indent=2, ensure_ascii=False) + "\n"


def write_asyncapi(path: str | Path) -> None:
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(render_asyncapi(), encoding="utf-8")
