"""Identity rules: is this input the same person as a stored participant, and who may ask.

A participant belongs to one region: the city stored with them. Matching an input to a person
looks only at participants of the input's city, whoever registers it, so a registration never
links to, reveals, changes or moves another region's person; a coordinator can only register
people of their own city (see :func:`match_scope`), so their matches stay inside what they may
see. People who moved, or who were registered in two cities, become two participants; joining
them is an explicit, audited admin merge (:func:`plan_merge`), never a side effect.

Everything here works on plain values (:class:`Candidate`), so the rules are tested with fakes.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Final, Literal

from trainops_registration.domain.errors import Conflict, Forbidden, Invalid, NotFound
from trainops_registration.domain.participant import Participant
from trainops_registration.domain.records import LiveRegistration

NOTE_MAX: Final = 1000
REASON_MAX: Final = 1000
CANDIDATE_RULE_LIMIT: Final = 20
"""Same-name candidates examined per input (more would mean a data problem, not a person)."""


@dataclass(frozen=True, slots=True)
class Candidate:
    """A stored participant as the matching rules see it."""

    participant_id: uuid.UUID
    city: str
    name_key: str
    email: str | None
    phone: str | None
    merged_into: uuid.UUID | None = None


def region_code(region: str | None) -> str | None:
    """A region claim as the city columns spell it (``Almaty`` in a token is ``almaty``)."""
    return region.strip().lower() if region is not None else None


def match_scope(region_scope: str | None, person: Participant) -> str:
    """The one city whose participants ``person`` may be matched with.

    Always the person's own city. A coordinator (``region_scope`` set) may register people of
    their region only: naming another city is refused with 403 before anything is looked up,
    which tells them nothing they did not type themselves. An admin registering someone in
    ``almaty`` is matched against almaty's people only, exactly like almaty's coordinator:
    cross-region identity is decided by a merge, not by a registration.
    """
    if region_scope is not None and person.city != region_scope:
        raise Forbidden(
            "participant.city",
            f"a coordinator of {region_scope} can register participants of {region_scope} "
            f"only, not of {person.city}",
        )
    return person.city


def choose_match(
    person: Participant, candidates: Iterable[Candidate], scope: str
) -> Candidate | None:
    """The stored participant ``person`` denotes among ``candidates``, or ``None``.

    Rules, in order: same e-mail; else same phone; else same name key whose own e-mail and
    phone do not contradict the input's (two Aigerim Seitovas with two different e-mails are
    two people). Only candidates of ``scope`` that are not merged away are ever considered,
    whatever the store handed over: a candidate from another city is treated as absent.
    """
    eligible = [c for c in candidates if c.city == scope and c.merged_into is None]
    if person.email is not None:
        for c in eligible:
            if c.email == person.email:
                return c
    if person.phone is not None:
        for c in eligible:
            if c.phone == person.phone:
                return c
    same_name = [c for c in eligible if c.name_key == person.name_key]
    for c in same_name[:CANDIDATE_RULE_LIMIT]:
        if person.email is not None and c.email is not None:
            continue  # both have e-mails and they differ (an equal one matched above)
        if person.phone is not None and c.phone is not None:
            continue
        return c
    return None


def duplicate_detail(live_city: str, scope: str, registration_id: uuid.UUID) -> dict[str, str]:
    """What a 409 "already registered for this session" may say: the registration's id only
    when that registration lies in the caller's match scope."""
    if live_city == scope:
        return {
            "detail": (
                f"this participant is already registered for the session as registration "
                f"{registration_id}"
            ),
            "registration_id": str(registration_id),
        }
    return {"detail": "this participant is already registered for the session"}


# --------------------------------------------------------------------------------------------
# Flags and merges


def validate_note(note: str, field: str = "note", limit: int = NOTE_MAX) -> str:
    """Trimmed free text, 1..``limit`` characters (control characters are checked at the edge)."""
    if not isinstance(note, str) or not note.strip():
        raise Invalid(field, f"{field} is required: say why these may be the same person")
    text = note.strip()
    if len(text) > limit:
        raise Invalid(field, f"{field} must be at most {limit} characters")
    return text


@dataclass(frozen=True, slots=True)
class MergeSide:
    """One participant of a merge, as the merge rules need it."""

    participant_id: uuid.UUID
    city: str
    merged_into: uuid.UUID | None
    email: str | None
    phone: str | None
    organisation: str | None
    live_sessions: frozenset[uuid.UUID]


@dataclass(frozen=True, slots=True)
class MergePlan:
    """What a merge does: which contact details the kept participant gains from the other."""

    keep: uuid.UUID
    merge: uuid.UUID
    fill: dict[str, str]


def plan_merge(
    keep: MergeSide | None,
    merge: MergeSide | None,
    *,
    keep_field: str = "keep",
    merge_field: str = "merge",
) -> MergePlan:
    """Check that ``merge`` can be folded into ``keep`` and say what moves.

    Both must exist and be live (not merged already), and they must not both hold a live
    registration of one session (one person, one seat: an admin cancels one first). The kept
    participant gains the e-mail, phone and organisation it lacks; nothing it has is replaced.
    """
    if keep is None:
        raise NotFound(keep_field, "participant to keep not found")
    if merge is None:
        raise NotFound(merge_field, "participant to merge not found")
    if keep.participant_id == merge.participant_id:
        raise Invalid(merge_field, "a participant cannot be merged into itself")
    for side, field in ((keep, keep_field), (merge, merge_field)):
        if side.merged_into is not None:
            raise Conflict(
                field,
                f"participant {side.participant_id} was already merged into {side.merged_into}",
            )
    both = sorted(str(s) for s in keep.live_sessions & merge.live_sessions)
    if both:
        raise Conflict(
            merge_field,
            "both participants hold a live registration of session(s) "
            f"{', '.join(both)}; cancel one of each pair first",
        )
    fill = {
        column: value
        for column, value, present in (
            ("email", merge.email, keep.email),
            ("phone", merge.phone, keep.phone),
            ("organisation", merge.organisation, keep.organisation),
        )
        if value is not None and present is None
    }
    return MergePlan(keep=keep.participant_id, merge=merge.participant_id, fill=fill)


CandidateReason = Literal["email", "phone"]


@dataclass(frozen=True, slots=True)
class CandidateGroup:
    """Participants of different cities sharing one normalised e-mail or phone."""

    reason: CandidateReason
    participant_ids: tuple[uuid.UUID, ...]


def duplicate_groups(candidates: Sequence[Candidate]) -> list[CandidateGroup]:
    """Group live participants by equal e-mail, then by equal phone, across cities.

    A group needs two participants or more; one already listed for its e-mail is not listed
    again for its phone with the very same members. Order: by reason, then by first id.
    """
    groups: list[CandidateGroup] = []
    seen: set[tuple[uuid.UUID, ...]] = set()
    reasons: tuple[CandidateReason, ...] = ("email", "phone")
    for reason in reasons:
        buckets: dict[str, list[uuid.UUID]] = {}
        for c in candidates:
            if c.merged_into is not None:
                continue
            value = c.email if reason == "email" else c.phone
            if value is not None:
                buckets.setdefault(value, []).append(c.participant_id)
        for members in buckets.values():
            ids = tuple(sorted(set(members), key=str))
            if len(ids) >= 2 and ids not in seen:
                seen.add(ids)
                groups.append(CandidateGroup(reason=reason, participant_ids=ids))
    groups.sort(key=lambda g: (g.reason, str(g.participant_ids[0])))
    return groups


def ensure_not_registered(live: LiveRegistration | None, scope: str, field: str) -> None:
    """One live registration per person and session: a second one is a 409 that names the
    first (and its status) only when it lies in the caller's match scope."""
    if live is None:
        return
    said = duplicate_detail(live.city, scope, live.registration_id)
    detail = said.pop("detail")
    if "registration_id" in said:
        detail += f" ({live.status})"
    raise Conflict(field, detail, **said)
