"""Events carry only categories that every context defines: anything else fails to decode."""

from __future__ import annotations

import json
from pathlib import Path

import msgspec
import pytest

from trainops_shared.events import ParticipantRegistered, decode_event

pytestmark = pytest.mark.unit

FIXTURE = Path(__file__).parents[1] / "fixtures" / "events" / "v1"


def _registered() -> dict[str, object]:
    doc = json.loads((FIXTURE / "registration.participant_registered.v1.json").read_text())
    assert isinstance(doc, dict)
    return doc


@pytest.mark.parametrize(
    ("field", "value", "path"),
    [
        ("sex", "banana", "$.profile.sex"),
        ("age_band", "17", "$.profile.age_band"),
        ("sector", "military", "$.profile.sector"),
        ("language", "de", "$.profile.language"),
        ("city", "Atlantis City!", "$.profile.city"),
    ],
)
def test_an_unknown_category_is_refused_with_its_path(field: str, value: str, path: str) -> None:
    doc = _registered()
    profile = doc["profile"]
    assert isinstance(profile, dict)
    profile[field] = value
    with pytest.raises(msgspec.ValidationError, match=rf"at `\{path}`"):
        decode_event(json.dumps(doc).encode())


def test_the_fixture_itself_decodes() -> None:
    assert isinstance(decode_event(json.dumps(_registered()).encode()), ParticipantRegistered)
