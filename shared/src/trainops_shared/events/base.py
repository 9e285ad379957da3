"""The base every trainops event derives from.

Events are frozen, keyword-only msgspec Structs tagged with an explicit, versioned name
(``registration.participant_registered.v1``) so that renaming a Python class can never change
what is on the wire. The tag doubles as the NATS subject: a breaking change is a new ``.v2``
type, which therefore lands on a new subject and old consumers never see it.
"""

from __future__ import annotations

import os
import time
import uuid
from datetime import datetime
from typing import Annotated, ClassVar

import msgspec

from trainops_shared.events.vocabulary import AgeBand, CityCode, Language, Sector, Sex
from trainops_shared.timeutil import utc_now as utc_now  # re-exported for event builders

ACTOR_MAX_LENGTH = 200
Actor = Annotated[str, msgspec.Meta(min_length=1, max_length=ACTOR_MAX_LENGTH, pattern=r"^\S+$")]
"""The acting account's subject (the token's ``sub``): one token without spaces."""


def uuid7() -> uuid.UUID:
    """A time-ordered UUID (RFC 9562 version 7); Python 3.11's ``uuid`` has no ``uuid7``.

    Sortable ids keep outbox and inbox indexes append-only and make logs readable in order.
    """
    millis = time.time_ns() // 1_000_000
    rand = int.from_bytes(os.urandom(10), "big")
    value = (millis & ((1 << 48) - 1)) << 80
    value |= 0x7 << 76
    value |= (rand >> 68) << 64  # 12 bits rand_a
    value |= 0b10 << 62
    value |= rand & ((1 << 62) - 1)
    return uuid.UUID(int=value)


class Event(
    msgspec.Struct, frozen=True, kw_only=True, tag_field="type", forbid_unknown_fields=False
):
    """Common envelope fields of every event.

    ``aggregate_version`` counts changes per aggregate so that a projection can refuse to move
    backwards when JetStream redelivers an older message late. ``correlation_id`` ties every event
    caused by one user request together; ``causation_id`` names the event (or request) that
    directly caused this one. ``actor`` is the subject of the signed-in account whose request
    caused the event (``None`` for events no person caused, and in messages published before the
    field existed): a staff account's id, never a participant's name, contact or organisation.
    """

    CONTEXT: ClassVar[str] = ""

    event_id: uuid.UUID = msgspec.field(default_factory=uuid7)
    occurred_at: datetime = msgspec.field(default_factory=utc_now)
    aggregate_id: uuid.UUID
    aggregate_version: int = 1
    correlation_id: uuid.UUID | None = None
    causation_id: uuid.UUID | None = None
    actor: Actor | None = None

    @classmethod
    def type_name(cls) -> str:
        """The stable wire name (the msgspec tag)."""
        tag = cls.__struct_config__.tag
        assert isinstance(tag, str), f"{cls.__name__} has no explicit string tag"
        return tag

    @property
    def subject(self) -> str:
        """One subject per event type: the tag itself (``<context>.<event>.v<N>``)."""
        return type(self).type_name()


class ParticipantProfile(msgspec.Struct, frozen=True, kw_only=True):
    """The report categories of a participant: everything other contexts may know of a person.

    Names, phones and e-mails never leave the registration service; this is all that does.
    """

    city: CityCode
    sector: Sector
    sex: Sex
    age_band: AgeBand
    language: Language
