"""Identity rules with fake candidates: matching stays in one city, merges and groups."""

from __future__ import annotations

import uuid
from typing import Any

import pytest

from trainops_registration.domain import Participant, name_key
from trainops_registration.domain.errors import Conflict, Forbidden, Invalid, NotFound
from trainops_registration.domain.identity import (
    Candidate,
    MergeSide,
    choose_match,
    duplicate_detail,
    duplicate_groups,
    match_scope,
    plan_merge,
    validate_note,
)

pytestmark = pytest.mark.unit


def person(
    name: str = "Aigerim Seitova",
    city: str = "almaty",
    email: str | None = None,
    phone: str | None = None,
) -> Participant:
    return Participant(
        full_name=name,
        sector="media",
        sex="female",
        age_band="25-34",
        city=city,
        language="kk",
        email=email,
        phone=phone,
    )


def candidate(
    city: str,
    *,
    name: str = "Someone Else",
    email: str | None = None,
    phone: str | None = None,
    merged_into: uuid.UUID | None = None,
) -> Candidate:
    return Candidate(
        participant_id=uuid.uuid4(),
        city=city,
        name_key=name_key(name),
        email=email,
        phone=phone,
        merged_into=merged_into,
    )


def test_match_scope_is_the_persons_city_and_a_coordinator_must_share_it() -> None:
    assert match_scope("almaty", person(city="almaty")) == "almaty"
    assert match_scope(None, person(city="aktobe")) == "aktobe"  # admin: still one city
    with pytest.raises(Forbidden) as info:
        match_scope("almaty", person(city="aktobe"))
    assert info.value.field == "participant.city"


@pytest.mark.parametrize(
    "other",
    [
        {"email": "a.s@mail.kz"},
        {"phone": "+77011234567"},
        {"name": "Айгерім Сейтова"},
    ],
    ids=["email", "phone", "name"],
)
def test_another_citys_person_never_matches(other: dict[str, Any]) -> None:
    """Same e-mail, phone or name key in aktobe: an almaty input matches nobody."""
    theirs = candidate("aktobe", **other)
    mine = person(email="a.s@mail.kz", phone="+77011234567")
    assert choose_match(mine, [theirs], "almaty") is None
    # The same candidate in the input's own city is a match.
    own = Candidate(
        participant_id=theirs.participant_id,
        city="almaty",
        name_key=theirs.name_key,
        email=theirs.email,
        phone=theirs.phone,
    )
    assert choose_match(mine if "name" not in other else person(), [own], "almaty") == own


def test_scope_wins_over_what_the_store_hands_over() -> None:
    """Even if a query returned another city's rows, the rules drop them first."""
    aktobe = candidate("aktobe", email="x@mail.kz")
    almaty = candidate("almaty", name="Aigerim Seitova")
    chosen = choose_match(person(email="x@mail.kz"), [aktobe, almaty], "almaty")
    assert chosen == almaty  # the name match in almaty, not the e-mail match in aktobe


def test_order_email_then_phone_then_uncontradicted_name() -> None:
    by_phone = candidate("almaty", phone="+77010000001")
    by_email = candidate("almaty", email="a@x.kz")
    by_name = candidate("almaty", name="Seitova Aigerim")
    assert (
        choose_match(
            person(email="a@x.kz", phone="+77010000001"), [by_phone, by_name, by_email], "almaty"
        )
        == by_email
    )
    assert choose_match(person(phone="+77010000001"), [by_name, by_phone], "almaty") == by_phone
    assert choose_match(person(), [by_name], "almaty") == by_name
    # Same name but a different e-mail on both sides: two people.
    other_mail = candidate("almaty", name="Aigerim Seitova", email="other@x.kz")
    assert choose_match(person(email="mine@x.kz"), [other_mail], "almaty") is None


def test_merged_participants_never_match() -> None:
    gone = candidate("almaty", email="a@x.kz", merged_into=uuid.uuid4())
    assert choose_match(person(email="a@x.kz"), [gone], "almaty") is None


def test_a_409_names_the_registration_only_inside_the_scope() -> None:
    rid = uuid.uuid4()
    own = duplicate_detail("almaty", "almaty", rid)
    assert own["registration_id"] == str(rid)
    assert str(rid) in own["detail"]
    other = duplicate_detail("aktobe", "almaty", rid)
    assert "registration_id" not in other
    assert str(rid) not in other["detail"]


def side(
    city: str,
    *,
    email: str | None = None,
    phone: str | None = None,
    organisation: str | None = None,
    sessions: tuple[uuid.UUID, ...] = (),
    merged_into: uuid.UUID | None = None,
) -> MergeSide:
    return MergeSide(
        participant_id=uuid.uuid4(),
        city=city,
        merged_into=merged_into,
        email=email,
        phone=phone,
        organisation=organisation,
        live_sessions=frozenset(sessions),
    )


def test_merge_fills_gaps_of_the_kept_participant_only() -> None:
    keep = side("almaty", email="keep@x.kz")
    merge = side("aktobe", email="old@x.kz", phone="+77010000002", organisation="NGO")
    plan = plan_merge(keep, merge)
    assert (plan.keep, plan.merge) == (keep.participant_id, merge.participant_id)
    assert plan.fill == {"phone": "+77010000002", "organisation": "NGO"}


def test_merge_refusals() -> None:
    s = uuid.uuid4()
    keep = side("almaty", sessions=(s,))
    with pytest.raises(NotFound):
        plan_merge(None, side("aktobe"))
    with pytest.raises(NotFound):
        plan_merge(keep, None)
    with pytest.raises(Invalid):
        plan_merge(keep, keep)
    with pytest.raises(Conflict, match="already merged"):
        plan_merge(keep, side("aktobe", merged_into=uuid.uuid4()))
    with pytest.raises(Conflict, match=str(s)):
        plan_merge(keep, side("aktobe", sessions=(s, uuid.uuid4())))


def test_duplicate_groups_by_email_then_phone() -> None:
    a = candidate("almaty", email="p@x.kz", phone="+77010000003")
    b = candidate("aktobe", email="p@x.kz", phone="+77010000003")
    c = candidate("astana", phone="+77010000003")
    lone = candidate("astana", email="lone@x.kz")
    gone = candidate("atyrau", email="p@x.kz", merged_into=a.participant_id)
    groups = duplicate_groups([a, b, c, lone, gone])
    assert [(g.reason, set(g.participant_ids)) for g in groups] == [
        ("email", {a.participant_id, b.participant_id}),
        ("phone", {a.participant_id, b.participant_id, c.participant_id}),
    ]


def test_note_is_required_and_bounded() -> None:
    assert validate_note("  moved from Aktobe  ") == "moved from Aktobe"
    with pytest.raises(Invalid):
        validate_note("   ")
    with pytest.raises(Invalid):
        validate_note("x" * 1001)
