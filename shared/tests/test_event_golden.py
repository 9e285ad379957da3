"""Golden fixtures: every published event version keeps decoding, forever.

``fixtures/events/v<N>/<tag>.json`` holds one frozen, realistic payload per event type and
version, written once when the type was first published and never regenerated. If one of these
tests fails, the change broke the wire contract (docs/events.md, "Evolution rules"): add fields
with defaults instead, or publish a new ``.v<N+1>`` type on a new subject.
"""

from __future__ import annotations

import inspect
import json
import re
import time
import uuid
from pathlib import Path
from typing import Any

import msgspec
import msgspec.inspect as mi
import pytest

from trainops_shared.events import (
    EVENT_TYPES,
    EVENTS_BY_TYPE,
    Event,
    TrainerRegistered,
    decode_event,
    encode_event,
    uuid7,
)
from trainops_shared.events.streams import stream_for_subject

pytestmark = pytest.mark.unit

FIXTURES = Path(__file__).parent / "fixtures" / "events"
FIXTURE_FILES = sorted(FIXTURES.glob("v*/*.json"))
TAG = re.compile(r"^(?P<context>[a-z][a-z_]*)\.(?P<event>[a-z][a-z_]*)\.v(?P<version>[1-9][0-9]*)$")

ENVELOPE_FIELDS = {f.name for f in msgspec.structs.fields(Event)}


def tag_of(path: Path) -> str:
    """The event tag a fixture file holds: ``<tag>.json``, or ``<tag>@<variant>.json`` for a
    further frozen payload of the same type (one written when an optional field was added)."""
    return path.stem.split("@", 1)[0]


def fixture_path(tag: str) -> Path:
    match = TAG.match(tag)
    assert match, f"{tag!r} is not <context>.<event>.v<N>"
    return FIXTURES / f"v{match['version']}" / f"{tag}.json"


def load(path: Path) -> dict[str, Any]:
    data = json.loads(path.read_bytes())
    assert isinstance(data, dict)
    return data


def fields_of(event_type: type[Event]) -> dict[str, msgspec.structs.FieldInfo]:
    return {f.encode_name: f for f in msgspec.structs.fields(event_type)}


def has_default(field: msgspec.structs.FieldInfo) -> bool:
    return not field.required


@pytest.fixture(params=FIXTURE_FILES, ids=lambda p: p.stem)
def fixture_file(request: pytest.FixtureRequest) -> Path:
    path: Path = request.param
    return path


def test_fixtures_exist() -> None:
    assert FIXTURE_FILES, f"no golden fixtures under {FIXTURES}"


def test_every_event_type_has_a_golden_fixture() -> None:
    missing = [t.type_name() for t in EVENT_TYPES if not fixture_path(t.type_name()).is_file()]
    assert not missing, (
        f"event type(s) without a golden fixture: {', '.join(missing)}. Write one realistic "
        f"payload per new type to {FIXTURES}/v<N>/<tag>.json (once; it is then frozen)."
    )


def test_fixture_decodes_to_its_type(fixture_file: Path) -> None:
    tag = tag_of(fixture_file)
    assert tag in EVENTS_BY_TYPE, (
        f"{fixture_file.name}: no event type {tag!r} in the catalogue any more; a published "
        f"version must keep decoding until it is deliberately retired"
    )
    assert fixture_file.parent.name == f"v{TAG.match(tag)['version']}"  # type: ignore[index]
    event = decode_event(fixture_file.read_bytes())
    assert type(event) is EVENTS_BY_TYPE[tag]
    assert event.type_name() == tag == event.subject
    assert load(fixture_file)["type"] == tag


def test_fixture_round_trips(fixture_file: Path) -> None:
    event = decode_event(fixture_file.read_bytes())
    encoded = encode_event(event)
    assert decode_event(encoded) == event
    # What we send today still says what the fixture says (a field added later may appear too).
    original, again = load(fixture_file), json.loads(encoded)
    changed = {k: (v, again.get(k, "<missing>")) for k, v in original.items() if again.get(k) != v}
    assert not changed, f"re-encoding changed fields (renamed or retyped?): {changed}"


def test_no_fixture_field_was_removed_or_renamed(fixture_file: Path) -> None:
    """Consumers ignore unknown fields, so decoding alone would not notice a removed field."""
    event_type = EVENTS_BY_TYPE[tag_of(fixture_file)]
    known = {"type", *fields_of(event_type)}
    gone = sorted(set(load(fixture_file)) - known)
    assert not gone, f"{event_type.__name__} lost published field(s) {gone}: never remove/rename"


def test_fields_added_after_the_fixture_have_defaults(fixture_file: Path) -> None:
    event_type = EVENTS_BY_TYPE[tag_of(fixture_file)]
    published = set(load(fixture_file))
    added_without_default = [
        name
        for name, field in fields_of(event_type).items()
        if name not in published and not has_default(field)
    ]
    assert not added_without_default, (
        f"{event_type.__name__}: field(s) {added_without_default} were added after the type "
        f"was published but have no default; old messages would fail to decode"
    )


def test_consumers_ignore_unknown_fields(fixture_file: Path) -> None:
    data = load(fixture_file)
    expected = decode_event(json.dumps(data).encode())
    data["added_in_some_future_version"] = {"nested": [1, 2, 3], "text": "Ақтөбе"}
    data["another_new_flag"] = True
    info = mi.type_info(EVENTS_BY_TYPE[tag_of(fixture_file)])
    assert isinstance(info, mi.StructType)
    for field in info.fields:  # nested Structs (the participant profile) ignore them too
        if isinstance(field.type, mi.StructType):
            data[field.encode_name]["unknown_nested_field"] = "ignored"
    assert decode_event(json.dumps(data, ensure_ascii=False).encode()) == expected


def test_missing_optional_fields_take_their_defaults(fixture_file: Path) -> None:
    """A message from a producer that predates an optional field still decodes."""
    event_type = EVENTS_BY_TYPE[tag_of(fixture_file)]
    fields = fields_of(event_type)
    data = load(fixture_file)
    optional = [name for name, f in fields.items() if has_default(f) and name in data]
    for name in optional:
        del data[name]
    event = decode_event(json.dumps(data).encode())
    assert type(event) is event_type
    for name in optional:
        field = fields[name]
        value = getattr(event, field.name)
        if field.default is not msgspec.NODEFAULT:
            assert value == field.default, f"{event_type.__name__}.{name}"
        else:  # a default_factory (event_id, occurred_at, lists): a fresh, valid value
            assert value is not None


def test_unknown_tag_fails_with_a_clear_error() -> None:
    data = load(fixture_path("registration.participant_registered.v1"))
    data["type"] = "registration.participant_registered.v99"
    with pytest.raises(msgspec.ValidationError) as excinfo:
        decode_event(json.dumps(data).encode())
    message = str(excinfo.value)
    assert "registration.participant_registered.v99" in message
    assert "$.type" in message


def test_missing_tag_fails_with_a_clear_error() -> None:
    data = load(fixture_path("scheduling.session_completed.v1"))
    del data["type"]
    with pytest.raises(msgspec.ValidationError, match="missing required field `type`"):
        decode_event(json.dumps(data).encode())


def test_a_wrongly_typed_field_names_its_path() -> None:
    data = load(fixture_path("registration.participant_registered.v1"))
    data["profile"]["city"] = 42
    with pytest.raises(msgspec.ValidationError, match=r"\$\.profile\.city"):
        decode_event(json.dumps(data).encode())


@pytest.mark.parametrize("event_type", EVENT_TYPES, ids=lambda t: t.__name__)
def test_event_class_conventions(event_type: type[Event]) -> None:
    config = event_type.__struct_config__
    name = event_type.__name__
    assert issubclass(event_type, Event)
    assert config.frozen, f"{name} must be frozen"
    parameters = inspect.signature(event_type).parameters.values()
    assert all(p.kind is p.KEYWORD_ONLY for p in parameters), f"{name} must be kw_only"
    assert config.tag_field == "type"
    assert not config.forbid_unknown_fields, f"{name} must ignore unknown fields"
    tag = config.tag
    assert isinstance(tag, str) and tag != name, f"{name} needs an explicit string tag"
    match = TAG.match(tag)
    assert match, f"{name}: tag {tag!r} is not <context>.<event>.v<N>"
    context = event_type.__module__.rsplit(".", 1)[-1]
    assert match["context"] == context, (
        f"{name} is defined in the {context!r} module but its tag {tag!r} names "
        f"{match['context']!r}: the tag must start with its producing context"
    )
    assert stream_for_subject(tag).context == context


def test_tags_are_unique() -> None:
    tags = [t.type_name() for t in EVENT_TYPES]
    assert len(tags) == len(set(tags)) == len(EVENTS_BY_TYPE)


def _all_structs() -> list[mi.StructType]:
    seen: dict[type, mi.StructType] = {}

    def walk(t: mi.Type) -> None:
        if isinstance(t, mi.StructType):
            if t.cls in seen:
                return
            seen[t.cls] = t
            for f in t.fields:
                walk(f.type)
        elif isinstance(t, mi.UnionType):
            for member in t.types:
                walk(member)
        elif isinstance(t, mi.ListType | mi.SetType | mi.FrozenSetType | mi.VarTupleType):
            walk(t.item_type)
        elif isinstance(t, mi.DictType):
            walk(t.key_type)
            walk(t.value_type)

    for info in mi.multi_type_info(EVENT_TYPES):
        walk(info)
    return list(seen.values())


def test_every_default_is_encodable_and_valid() -> None:
    """Every field with a default (how fields are added) decodes back to its own type."""
    checked = 0
    for struct in _all_structs():
        assert not struct.forbid_unknown_fields, f"{struct.cls.__name__} must ignore unknown"
        for field in msgspec.structs.fields(struct.cls):
            if field.required:
                continue
            value = (
                field.default if field.default is not msgspec.NODEFAULT else field.default_factory()
            )
            decoded = msgspec.json.decode(msgspec.json.encode(value), type=field.type)
            assert decoded == value, f"{struct.cls.__name__}.{field.name}"
            checked += 1
    assert checked >= len(EVENT_TYPES) * 4  # the envelope alone has four per type


PERSONAL = re.compile(
    r"^(name|full_name|first_name|last_name|surname|patronymic|iin)$|e_?mail|phone"
)
STAFF_EXEMPTIONS = {(TrainerRegistered, "name")}
"""Trainers are programme staff or invited experts, not participants: their name travels."""


def test_no_event_carries_personal_data_of_participants() -> None:
    """Names, phones and e-mails never leave registration (not even in registration's events,
    which feedback and reporting consume); only the pseudonymous participant_id travels."""
    offenders = [
        f"{struct.cls.__name__}.{field.encode_name}"
        for struct in _all_structs()
        for field in struct.fields
        if PERSONAL.search(field.encode_name)
        and (struct.cls, field.encode_name) not in STAFF_EXEMPTIONS
    ]
    assert not offenders, f"personal-data-looking fields on the wire: {offenders}"


def test_the_trainer_name_exemption_is_real_and_deliberate() -> None:
    assert TrainerRegistered.type_name().startswith("scheduling.")
    assert "name" in fields_of(TrainerRegistered)
    assert "not a participant" in (TrainerRegistered.__doc__ or "")
    # The exemption is that one field only: no other personal field on the trainer event.
    others = [n for n in fields_of(TrainerRegistered) if PERSONAL.search(n) and n != "name"]
    assert not others


def test_uuid7_is_version_7_and_sorts_by_time() -> None:
    ids = []
    for _ in range(5):
        ids.append(uuid7())
        time.sleep(0.002)  # ordering is by millisecond; within one the random bits decide
    for value in ids:
        assert value.version == 7
        assert value.variant == uuid.RFC_4122
    assert ids == sorted(ids)
    assert [str(v) for v in ids] == sorted(str(v) for v in ids)  # sortable as text, too
    embedded_ms = ids[-1].int >> 80
    assert abs(embedded_ms - time.time_ns() // 1_000_000) < 5_000


def test_uuid7_values_are_unique() -> None:
    values = {uuid7() for _ in range(10_000)}
    assert len(values) == 10_000


def test_fixture_ids_are_version_7(fixture_file: Path) -> None:
    event = decode_event(fixture_file.read_bytes())
    assert event.event_id.version == 7
    assert event.occurred_at.utcoffset() is not None, "timestamps are UTC, never naive"
    assert event.occurred_at.utcoffset().total_seconds() == 0  # type: ignore[union-attr]
    # A v7 event_id carries the millisecond it was minted; the fixtures keep them consistent.
    assert event.event_id.int >> 80 == int(event.occurred_at.timestamp() * 1000)


ACTOR_FIXTURE = FIXTURES / "v1" / "registration.attendance_recorded.v1@actor.json"


def test_the_actor_travels_and_older_payloads_have_none() -> None:
    with_actor = decode_event(ACTOR_FIXTURE.read_bytes())
    assert with_actor.actor == load(ACTOR_FIXTURE)["actor"]
    assert json.loads(encode_event(with_actor))["actor"] == with_actor.actor
    before = decode_event(fixture_path("registration.attendance_recorded.v1").read_bytes())
    assert "actor" not in load(fixture_path("registration.attendance_recorded.v1"))
    assert before.actor is None


@pytest.mark.parametrize("actor", ["", "two words", "x" * 201, 42])
def test_a_malformed_actor_is_refused_with_its_path(actor: object) -> None:
    data = load(ACTOR_FIXTURE)
    data["actor"] = actor
    with pytest.raises(msgspec.ValidationError, match=r"\$\.actor"):
        decode_event(json.dumps(data).encode())
