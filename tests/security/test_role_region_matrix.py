"""Every route of every service × every principal: who may call it, and what another region sees.

The routes come from each running service's own OpenAPI document; :data:`POLICY` says who may
use each one. A route the policy does not know, or whose parameters have no real value, fails
the test: a new route is classified before it ships, never skipped.

* public routes (health, readiness, the participant form and ``POST /responses``) answer
  without a token;
* every other route answers 401 without a token and 403 to a role that may not use it;
* a coordinator of region B asking for region A's things gets 404 for one thing (it does not
  exist for them), an empty or refused answer for a collection, and never a byte of region A's
  data: no canary value (name, e-mail, phone, organisation, registration, participant or
  invitation id) ever appears in a body they receive, and nothing of region A changes.

Allowed principals call mutating routes with random ids and empty bodies (refused after the
guards, so nothing changes); forbidden ones and region B use region A's real ids and real
request bodies, the requests an attacker would send.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Literal
from urllib.parse import unquote_plus, urlencode

import httpx
import pytest
from security_support import PUBLIC_ROUTES, REGION_A, REGION_B, ROLES, SecuritySystem, Seed

from trainops_devtools.testing.attack import (
    Operation,
    UnknownParameter,
    fill_path,
    leaks,
    operations,
)
from trainops_devtools.testing.processes import SERVICES

pytestmark = pytest.mark.e2e

Scope = Literal["public", "global", "item", "collection", "body"]
"""How region scoping applies: ``public`` (no token needed), ``global`` (the same for every
region: no personal data), ``item`` (one region-A thing: region B gets 404), ``collection``
(region B sees none of region A's items), ``body`` (the request names region A's data: region
B is refused)."""

ANY_ROLE = frozenset({"admin", "programme_staff", "coordinator", "reporting"})
ADMINS = frozenset({"admin"})
REGISTRARS = frozenset({"admin", "coordinator"})
PLANNERS = frozenset({"admin", "programme_staff"})
REPORTERS = frozenset({"admin", "programme_staff", "reporting"})
INVITERS = frozenset({"admin", "programme_staff", "coordinator"})
SNAPSHOTTERS = frozenset({"admin", "reporting"})


@dataclass(frozen=True)
class Rule:
    roles: frozenset[str]
    scope: Scope
    attack: str | None = None
    """Name of the real request body region B and forbidden roles send (see :func:`attack_body`)."""


PUBLIC = Rule(frozenset(), "public")
PERSONAL_DATA_READERS = frozenset({"admin", "coordinator_a"})
"""Who may read the canary's name, e-mail and phone: the admin and region A's coordinator."""

POLICY: dict[str, dict[str, Rule]] = {
    "registration": {
        "GET /health": PUBLIC,
        "GET /ready": PUBLIC,
        "GET /metrics": PUBLIC,
        "GET /certificates/{code}": PUBLIC,
        "POST /registrations": Rule(REGISTRARS, "body", "replay_open_registration"),
        "POST /registrations/import": Rule(REGISTRARS, "body", "import_csv"),
        "POST /registrations/{registration_id}/cancel": Rule(REGISTRARS, "item"),
        "POST /registrations/{registration_id}/attendance": Rule(
            REGISTRARS, "item", "not_attended"
        ),
        "GET /registrations": Rule(REGISTRARS, "collection"),
        "GET /registrations/{registration_id}": Rule(REGISTRARS, "item"),
        "POST /participants/{participant_id}/duplicate-flags": Rule(REGISTRARS, "item", "flag"),
        "GET /participants/duplicate-flags": Rule(REGISTRARS, "collection"),
        "GET /participants/duplicate-candidates": Rule(ADMINS, "global"),
        "POST /participants/merges": Rule(ADMINS, "global", "merge"),
        "GET /participants/merges": Rule(ADMINS, "global"),
        "DELETE /participants/{participant_id}": Rule(REGISTRARS, "item"),
        "GET /participants/{participant_id}/export": Rule(REGISTRARS, "item"),
        "GET /participants/{participant_id}/consents": Rule(REGISTRARS, "item"),
        "DELETE /participants/{participant_id}/consents/{purpose}": Rule(REGISTRARS, "item"),
        "GET /register": Rule(REGISTRARS, "collection"),
        "POST /register": Rule(REGISTRARS, "body", "register_form"),
        "GET /people": Rule(REGISTRARS, "collection"),
        "GET /people/{participant_id}": Rule(REGISTRARS, "item"),
        "POST /people/{participant_id}": Rule(REGISTRARS, "item", "correct_form"),
        "POST /people/{participant_id}/cancel": Rule(REGISTRARS, "item", "cancel_form"),
        "POST /people/{participant_id}/consents": Rule(REGISTRARS, "item", "withdraw_form"),
        "POST /people/{participant_id}/erase": Rule(REGISTRARS, "item", "erase_form"),
        # A session of several regions is every one of them's: region B opens it, sees its own.
        "GET /sessions/{session_id}": Rule(REGISTRARS, "collection"),
        "POST /sessions/{session_id}/attendance": Rule(REGISTRARS, "body", "attendance_form"),
        "GET /sessions/{session_id}/attendance-sheet": Rule(REGISTRARS, "collection"),
        # A check-in code opens one region-A registration: region B gets 404.
        "GET /checkin/{code}": Rule(REGISTRARS, "item"),
        "POST /checkin/{code}": Rule(REGISTRARS, "item"),
        "POST /sessions/{session_id}/meeting": Rule(REGISTRARS, "item"),
        # The participant's own join link: the code in it is the credential.
        "GET /join/{code}": PUBLIC,
        "POST /join/{code}": PUBLIC,
        "GET /people/{participant_id}/calendar-feed": Rule(REGISTRARS, "item"),
        "POST /people/{participant_id}/calendar-feed": Rule(REGISTRARS, "item"),
        # The participant's feed: the token in its address is the credential.
        "GET /participant-feeds/{token}": PUBLIC,
        "GET /import": Rule(REGISTRARS, "collection"),
        "GET /import/template.csv": Rule(REGISTRARS, "global"),
        "GET /import/template.xlsx": Rule(REGISTRARS, "global"),
        "POST /import": Rule(REGISTRARS, "body", "import_form"),
        # The participant's own link: the token in the path is the credential.
        "POST /sessions/{session_id}/move": Rule(REGISTRARS, "body", "move"),
        "POST /sessions/{session_id}/move-people": Rule(REGISTRARS, "body", "move_form"),
        "GET /messages": Rule(REGISTRARS, "collection"),
        "POST /messages/retry": Rule(REGISTRARS, "body", "retry_form"),
        "GET /r/{token}": PUBLIC,
        "POST /r/{token}": PUBLIC,
        "GET /r/consents/{token}": PUBLIC,
        "POST /r/consents/{token}": PUBLIC,
    },
    "scheduling": {
        "GET /health": PUBLIC,
        "GET /ready": PUBLIC,
        "GET /metrics": PUBLIC,
        "GET /cities": Rule(ANY_ROLE, "global"),
        "POST /trainings": Rule(PLANNERS, "global", "training"),
        "GET /trainings": Rule(ANY_ROLE, "global"),
        "GET /trainings/{training_id}": Rule(ANY_ROLE, "global"),
        "POST /trainers": Rule(PLANNERS, "global", "trainer"),
        "GET /trainers": Rule(ANY_ROLE, "global"),
        "GET /trainers/{trainer_id}": Rule(ANY_ROLE, "global"),
        "POST /sessions": Rule(PLANNERS, "global", "session"),
        "POST /sessions/{session_id}/reschedule": Rule(PLANNERS, "global", "reschedule"),
        "POST /sessions/{session_id}/capacity": Rule(PLANNERS, "global", "capacity"),
        "POST /sessions/{session_id}/cancel": Rule(PLANNERS, "global", "cancel"),
        "POST /sessions/{session_id}/complete": Rule(PLANNERS, "global"),
        "GET /sessions": Rule(ANY_ROLE, "global"),
        "GET /sessions/{session_id}": Rule(ANY_ROLE, "global"),
        "GET /sessions/{session_id}/calendar.ics": Rule(ANY_ROLE, "global"),
        # Calendar feeds hold sessions only (no personal data); each person sees their own.
        "POST /calendar-feeds": Rule(ANY_ROLE, "global"),
        "GET /calendar-feeds": Rule(ANY_ROLE, "global"),
        "POST /calendar-feeds/{feed_id}/revoke": Rule(ANY_ROLE, "global"),
        "GET /feeds/{token}": PUBLIC,
        "GET /calendar": Rule(ANY_ROLE, "global"),
        "GET /programme/trainings": Rule(ANY_ROLE, "global"),
        "POST /programme/trainings": Rule(PLANNERS, "global"),
        "GET /programme/trainers": Rule(ANY_ROLE, "global"),
        "POST /programme/trainers": Rule(PLANNERS, "global"),
        "GET /programme/sessions/new": Rule(PLANNERS, "global"),
        "POST /programme/sessions/new": Rule(PLANNERS, "global"),
        "GET /programme/sessions/{session_id}": Rule(ANY_ROLE, "global"),
        "POST /programme/sessions/{session_id}": Rule(PLANNERS, "global"),
    },
    "feedback": {
        "GET /health": PUBLIC,
        "GET /ready": PUBLIC,
        "GET /metrics": PUBLIC,
        "GET /f/{token}": PUBLIC,
        "POST /f/{token}": PUBLIC,
        "PUT /f/{token}/draft": PUBLIC,
        "POST /responses": PUBLIC,
        "GET /sessions/{session_id}/invitations": Rule(INVITERS, "collection"),
        "GET /sessions/{session_id}/page": Rule(INVITERS, "item"),
        "GET /t/{token}": PUBLIC,
        "POST /t/{token}": PUBLIC,
        "PUT /t/{token}/draft": PUBLIC,
        "POST /tests": PUBLIC,
        "GET /assets/answers.js": PUBLIC,
        "POST /surveys": Rule(PLANNERS, "global"),
        "GET /surveys": Rule(PLANNERS, "global"),
        "GET /surveys/{survey_id}/versions": Rule(PLANNERS, "global"),
        "POST /surveys/{survey_id}/versions": Rule(PLANNERS, "global"),
        "PUT /surveys/{survey_id}/versions/{version}": Rule(PLANNERS, "global"),
        "POST /surveys/{survey_id}/versions/{version}/publish": Rule(PLANNERS, "global"),
        "GET /surveys/page": Rule(PLANNERS, "global"),
        "GET /surveys/{survey_id}/versions/{version}/page": Rule(PLANNERS, "global"),
        "POST /surveys/{survey_id}/versions/{version}/page": Rule(PLANNERS, "global"),
        "GET /surveys/{survey_id}/versions/{version}/publish/page": Rule(PLANNERS, "global"),
        "POST /surveys/{survey_id}/versions/{version}/publish/page": Rule(PLANNERS, "global"),
        "GET /surveys/new/page": Rule(PLANNERS, "global"),
        "POST /surveys/new/page": Rule(PLANNERS, "global"),
        "POST /surveys/{survey_id}/versions/{version}/revise/page": Rule(PLANNERS, "global"),
    },
    "reporting": {
        "GET /health": PUBLIC,
        "GET /ready": PUBLIC,
        "GET /metrics": PUBLIC,
        "GET /reports/summary": Rule(REPORTERS, "global"),
        "GET /reports/donor": Rule(REPORTERS, "global"),
        "GET /donor": Rule(REPORTERS, "global"),
        "POST /reports/snapshots": Rule(SNAPSHOTTERS, "global"),
        "GET /reports/snapshots": Rule(SNAPSHOTTERS, "global"),
        "GET /reports/snapshots/{snapshot_id}": Rule(SNAPSHOTTERS, "global"),
        "GET /reports/snapshots/{snapshot_id}/diff/{other_id}": Rule(SNAPSHOTTERS, "global"),
        "GET /snapshots": Rule(SNAPSHOTTERS, "global"),
        "POST /snapshots": Rule(SNAPSHOTTERS, "global"),
        "GET /reports/items": Rule(REPORTERS, "global"),
        "GET /reports/knowledge-gain": Rule(REPORTERS, "global"),
        "GET /reports/comments": Rule(REPORTERS, "global"),
        "GET /evidence": Rule(REPORTERS, "global"),
    },
    # Identity holds no programme or participant data: every route is the same in every
    # region. Each person manages only their own password and tokens; accounts are the admin's.
    "identity": {
        "GET /health": PUBLIC,
        "GET /ready": PUBLIC,
        "GET /metrics": PUBLIC,
        "GET /sign-in": PUBLIC,
        "POST /sign-in": PUBLIC,
        "GET /refresh": PUBLIC,
        "POST /sign-out": PUBLIC,
        "GET /sign-in/oidc": PUBLIC,
        "GET /sign-in/oidc/callback": PUBLIC,
        "GET /me": Rule(ANY_ROLE, "global"),
        "POST /me/password": Rule(ANY_ROLE, "global"),
        "GET /tokens": Rule(ANY_ROLE, "global"),
        "POST /tokens": Rule(ANY_ROLE, "global"),
        "POST /tokens/{token_id}/revoke": Rule(ANY_ROLE, "global"),
        "POST /account/password": Rule(ANY_ROLE, "global"),
        "POST /account/tokens": Rule(ANY_ROLE, "global"),
        "POST /account/tokens/{token_id}/revoke": Rule(ANY_ROLE, "global"),
        "GET /accounts": Rule(ADMINS, "global"),
        "POST /accounts": Rule(ADMINS, "global"),
        "POST /accounts/{username}/disable": Rule(ADMINS, "global"),
        "POST /accounts/{username}/enable": Rule(ADMINS, "global"),
        "POST /accounts/{username}/password": Rule(ADMINS, "global"),
        "POST /accounts/{username}/role": Rule(ADMINS, "global"),
        "GET /admin/accounts": Rule(ADMINS, "global"),
        "POST /admin/accounts": Rule(ADMINS, "global"),
        "POST /admin/accounts/{username}": Rule(ADMINS, "global"),
        "GET /admin/oidc/pending": Rule(ADMINS, "global"),
        "POST /admin/oidc/pending/{identity_id}": Rule(ADMINS, "global"),
        "GET /admin/oidc": Rule(ADMINS, "global"),
        "POST /admin/oidc/pending/{identity_id}/assign": Rule(ADMINS, "global"),
    },
}
for _routes in POLICY.values():
    # create_app gives every service the audit log: admins only, and no personal data in it,
    # so it reads the same whatever the region.
    _routes["GET /audit"] = Rule(ADMINS, "global")
    # Every service's page for a signed-in browser (the identity service's own is the account
    # page): who is signed in, and the sign-out form.
    _routes["GET /"] = Rule(ANY_ROLE, "global")


def attack_body(name: str | None, seed: Seed) -> tuple[str, Any]:
    """``(content type, body)`` of a real request against region A's data."""
    if name is None:
        return "application/json", None
    if name == "replay_open_registration":
        return "application/json", seed.open_registration_body
    if name == "import_csv":
        header = "full_name,email,phone,organisation,sector,sex,age_band,city,language\n"
        row = f"{seed.canary.full_name},{seed.canary.email},,,media,female,25-34,{REGION_B},ru\n"
        return "text/csv", header + row
    forms: dict[str, dict[str, str]] = {
        "register_form": {
            "session_id": seed.open_session_id,
            **seed.canary.participant(REGION_A),
            "confirm_duplicate": "yes",
        },
        "correct_form": {"full_name": "Attacker Renamed", "email": "", "phone": ""},
        "cancel_form": {"registration_id": seed.registration_id},
        "attendance_form": {"registration_id": seed.registration_id, "attended": "false"},
        "withdraw_form": {"purpose": "future_trainings"},
        "erase_form": {"confirm_erase": "yes"},
        # No message of region A is stuck in the seeded system: an id that names none.
        "retry_form": {"message_id": str(uuid.UUID(int=11))},
        "move_form": {
            "registration_id": seed.registration_id,
            "to_session_id": seed.open_session_id,
        },
    }
    if name in forms:
        return "application/x-www-form-urlencoded", urlencode(forms[name])
    if name == "import_form":
        # The import page's form naming region A's session, with the same file.
        _, rows = attack_body("import_csv", seed)
        boundary = "trainops-attack-form"
        parts = (
            f'Content-Disposition: form-data; name="session_id"\r\n\r\n{seed.session_id}',
            'Content-Disposition: form-data; name="file"; filename="list.csv"\r\n'
            f"Content-Type: text/csv\r\n\r\n{rows}",
        )
        body = "".join(f"--{boundary}\r\n{part}\r\n" for part in parts) + f"--{boundary}--\r\n"
        return f"multipart/form-data; boundary={boundary}", body
    bodies: dict[str, Any] = {
        "not_attended": {"attended": False},
        "flag": {"note": "seen in Aktobe", "possible_duplicate_of": seed.participant_id},
        "merge": {"keep": seed.participant_id, "merge": seed.participant_id, "reason": "attack"},
        "training": {"code": f"attack-{uuid.uuid4().hex[:8]}", "title": {"en": "x"}},
        "trainer": {"name": "Attacker Trainer", "home_city": REGION_B},
        "session": {
            "training_id": seed.training_id,
            "mode": "online",
            "cities": [REGION_B],
            "starts_at": "2021-05-01T10:00",
            "ends_at": "2021-05-01T12:00",
            "capacity": 5,
            "language": "ru",
        },
        "reschedule": {"starts_at": "2021-06-01T10:00", "ends_at": "2021-06-01T16:00"},
        "capacity": {"capacity": 1},
        "cancel": {"reason": "attack"},
        "move": {"to_session_id": seed.open_session_id, "registration_ids": [seed.registration_id]},
    }
    return "application/json", bodies[name]


def principal_roles(principal: str) -> tuple[str | None, str | None]:
    return ROLES[principal]


def may_use(rule: Rule, principal: str) -> bool:
    role, _ = principal_roles(principal)
    return rule.scope == "public" or (role is not None and role in rule.roles)


@dataclass
class Call:
    op: Operation
    principal: str
    response: httpx.Response

    def __str__(self) -> str:
        return (
            f"{self.op} as {self.principal} -> {self.response.status_code}: "
            f"{self.response.text[:300]}"
        )


def send(
    system: SecuritySystem,
    op: Operation,
    principal: str,
    values: Mapping[str, str],
    body_name: str | None,
    empty_body: bool,
) -> httpx.Response:
    seed = system.seed
    assert seed is not None
    url = system.url(op.service) + fill_path(op.path, values)
    params: dict[str, str] = {}
    for name in op.required_query:
        if name not in values:
            raise UnknownParameter(f"no value for required query parameter {name!r} of {op}")
        params[name] = values[name]
    headers = system.headers(principal)
    content: bytes | None = None
    if op.method not in ("GET", "HEAD", "DELETE"):
        media, body = attack_body(body_name, seed)
        if empty_body or body is None:
            body = "" if media == "text/csv" else {}
        headers["Content-Type"] = media
        content = body.encode() if isinstance(body, str) else json.dumps(body).encode()
    return httpx.request(
        op.method, url, params=params, headers=headers, content=content, timeout=30
    )


def unsent_leaks(response: httpx.Response, canaries: Mapping[str, str]) -> list[str]:
    """Canary values in the answer that the caller did not send itself (an echo of the token in
    the URL, or of a name in the request body, discloses nothing)."""
    request = response.request
    body = request.content.decode("utf-8", errors="replace")
    # A form body is percent-encoded: what it echoes back is the decoded text.
    sent = str(request.url) + body + unquote_plus(body)
    return [
        label for label in leaks(response.content, canaries) if label not in leaks(sent, canaries)
    ]


def service_operations(system: SecuritySystem, service: str) -> list[Operation]:
    return operations(service, system.openapi(service))


@pytest.mark.parametrize("service", SERVICES)
def test_every_route_is_classified(security_system: SecuritySystem, service: str) -> None:
    """A route in the OpenAPI document without a policy (or a policy for a route that is gone)
    is a failure: the matrix below would otherwise not know what to expect of it."""
    served = {op.key for op in service_operations(security_system, service)}
    known = set(POLICY[service])
    assert served - known == set(), f"unclassified routes of {service}: {sorted(served - known)}"
    assert known - served == set(), f"policy for routes {service} no longer has: {known - served}"
    public = {key for key, rule in POLICY[service].items() if rule == PUBLIC}
    assert public == PUBLIC_ROUTES[service]


@pytest.mark.parametrize("service", SERVICES)
def test_public_routes_are_documented_public(security_system: SecuritySystem, service: str) -> None:
    """A route that needs no token says so (``security: []``), so a client generated from the
    document does not send credentials to it, and the docs do not tell participants to log in."""
    demanding = [
        str(op)
        for op in service_operations(security_system, service)
        if POLICY[service].get(op.key) == PUBLIC and not op.declared_public
    ]
    assert demanding == [], f"public routes whose OpenAPI entry demands a token: {demanding}"


@pytest.mark.parametrize("service", SERVICES)
def test_schema_is_public(security_system: SecuritySystem, service: str) -> None:
    response = httpx.get(f"{security_system.url(service)}/schema/openapi.json", timeout=30)
    assert response.status_code == 200, response.text[:300]
    assert response.json()["paths"], "an OpenAPI document without paths"


@pytest.mark.parametrize("principal", list(ROLES))
@pytest.mark.parametrize("service", SERVICES)
def test_route_matrix(
    security_system: SecuritySystem, seed: Seed, service: str, principal: str
) -> None:
    """Every route of ``service`` as ``principal``: the answer its policy demands, and region A's
    data only for principals who may see it."""
    role, region = principal_roles(principal)
    canaries = seed.canaries()
    personal = {**seed.canary.personal_data(), "organisation": seed.canary.organisation}
    problems: list[str] = []
    ops = service_operations(security_system, service)
    for op in ops:
        rule = POLICY[service].get(op.key)
        if rule is None:
            problems.append(f"{op}: not classified in POLICY")
            continue
        allowed = may_use(rule, principal)
        mutating = op.method != "GET"
        region_b = role == "coordinator" and region == REGION_B and allowed
        real = seed.path_values() | {"session_id": seed.session_id}
        if allowed and mutating and not region_b:
            # Random ids and an empty body: authorised, refused by validation, nothing changes.
            values = {name: str(uuid.uuid4()) for name in real}
            values["token"] = uuid.uuid4().hex
            empty = True
        else:
            values, empty = real, False
        try:
            response = send(security_system, op, principal, values, rule.attack, empty)
        except UnknownParameter as exc:
            problems.append(f"{op}: cannot be exercised: {exc}")
            continue
        call = Call(op, principal, response)
        status = response.status_code
        if status >= 500:
            problems.append(f"server error: {call}")
            continue
        if role is not None and region == REGION_B:
            hidden = unsent_leaks(response, canaries)
            if hidden:
                problems.append(f"region A data {hidden} reached region B: {call}")
        elif principal not in PERSONAL_DATA_READERS:
            hidden = unsent_leaks(response, personal)
            if hidden:
                problems.append(f"personal data {hidden} reached {principal}: {call}")
        if rule.scope == "public":
            if status in (401, 403):
                problems.append(f"public route refused: {call}")
            continue
        if role is None:
            if status != 401:
                problems.append(f"expected 401 without a token: {call}")
            continue
        if not allowed:
            if status != 403:
                problems.append(f"expected 403 for role {role}: {call}")
            continue
        if status in (401, 403) and not (region_b and rule.scope in ("collection", "body")):
            problems.append(f"an allowed principal was refused: {call}")
            continue
        if region_b and rule.scope == "item" and status != 404:
            problems.append(f"expected 404 for another region's item: {call}")
        elif region_b and rule.scope == "collection" and status not in (200, 403, 404):
            problems.append(f"expected 200 (nothing of region A), 403 or 404: {call}")
        elif region_b and rule.scope == "body" and not 400 <= status < 500:
            problems.append(f"expected a refusal of region A's data: {call}")
        elif not region_b and not mutating and status != 200:
            problems.append(f"expected 200 for an allowed read: {call}")
    if principal in ("admin", "coordinator_a") and service == "registration":
        # The canary check above is only worth something if the canary is visible where it
        # should be: region A's own coordinator and the admin read the person.
        url = f"{security_system.url(service)}/registrations/{seed.registration_id}"
        shown = httpx.get(url, headers=security_system.headers(principal), timeout=30)
        assert "full_name" in leaks(shown.content, canaries), shown.text[:300]
    assert not problems, "\n".join(problems)


def test_region_b_changed_nothing_of_region_a(security_system: SecuritySystem, seed: Seed) -> None:
    """After region B's attempts (the matrix, then the cross-region tests below), region A's
    registration is as region A left it."""
    client = security_system.client
    for service in ("registration",):
        for op in service_operations(security_system, service):
            rule = POLICY[service][op.key]
            if rule.scope in ("item", "body"):
                send(
                    security_system,
                    op,
                    "coordinator_b",
                    seed.path_values(),
                    rule.attack,
                    empty_body=False,
                )
    registration = client.get_registration(seed.registration_id)
    assert registration["status"] == "confirmed"
    assert registration["attended"] is True
    person = registration["participant"]
    assert person["full_name"] == seed.canary.full_name
    assert person["email"] == seed.canary.email
    assert person["organisation"] == seed.canary.organisation


def test_cross_region_registration_matches_no_person_of_region_a(
    security_system: SecuritySystem, seed: Seed
) -> None:
    """A coordinator of region B registers someone with region A's canary e-mail and phone:
    the answer names no one of region A and region A's person is not rewritten."""
    headers = security_system.headers("coordinator_b")
    body = {
        "session_id": seed.open_session_id,
        "participant": seed.canary.participant(
            REGION_B, full_name="Tamerlan Bekov", organisation="Aktobe Weekly"
        ),
    }
    url = f"{security_system.url('registration')}/registrations"
    answer = httpx.post(url, json=body, headers=headers, timeout=30)
    assert answer.status_code < 500, answer.text[:300]
    region_a = {
        "full_name": seed.canary.full_name,
        "organisation": seed.canary.organisation,
        "participant id": seed.participant_id,
        "registration id": seed.registration_id,
        "open registration id": seed.open_registration_id,
    }
    assert leaks(answer.content, region_a) == [], answer.text[:500]
    if answer.status_code == 201:
        created = answer.json()["id"]
        shown = httpx.get(f"{url}/{created}", headers=headers, timeout=30)
        assert leaks(shown.content, region_a) == [], shown.text[:500]
    person = security_system.client.get_registration(seed.registration_id)["participant"]
    assert person["organisation"] == seed.canary.organisation
    assert person["full_name"] == seed.canary.full_name
    conflict = httpx.post(url, json=body, headers=headers, timeout=30)
    assert leaks(conflict.content, region_a) == [], conflict.text[:500]


@pytest.mark.parametrize(
    "subject",
    [
        pytest.param(None, id="own subject"),
        # The same account name in another region is still another principal.
        pytest.param("security-coordinator-almaty", id="region A's subject"),
    ],
)
def test_idempotency_key_of_region_a_answers_nothing_to_region_b(
    security_system: SecuritySystem, seed: Seed, subject: str | None
) -> None:
    """Region A's Idempotency-Key and body replayed by region B's coordinator: refused, and the
    first coordinator's registration is not handed over."""
    url = f"{security_system.url('registration')}/registrations"
    if subject is None:
        auth = security_system.headers("coordinator_b")
    else:
        token = security_system.harness.token("coordinator", REGION_B, subject=subject)
        auth = {"Authorization": f"Bearer {token}"}
    headers = {**auth, "Idempotency-Key": seed.open_registration_key}
    answer = httpx.post(url, json=seed.open_registration_body, headers=headers, timeout=30)
    assert answer.status_code in (403, 409, 422), answer.text[:500]
    assert leaks(answer.content, seed.canaries()) == [], answer.text[:500]


UNDECLARED_METHODS = ("PUT", "PATCH", "DELETE", "OPTIONS")


@pytest.mark.parametrize("principal", ["anonymous", "coordinator_b", "admin"])
@pytest.mark.parametrize("service", SERVICES)
def test_undeclared_methods_are_refused_cleanly(
    security_system: SecuritySystem, seed: Seed, service: str, principal: str
) -> None:
    """A method a path does not declare is a 4xx (``OPTIONS``: 4xx, or Litestar's empty 204
    naming the allowed methods): never a server error and never data, whoever sends it."""
    paths = {op.path for op in service_operations(security_system, service)}
    declared = {(op.method, op.path) for op in service_operations(security_system, service)}
    problems = []
    for path in sorted(paths):
        url = security_system.url(service) + fill_path(path, seed.path_values())
        for method in UNDECLARED_METHODS:
            if (method, path) in declared:
                continue
            response = httpx.request(
                method, url, headers=security_system.headers(principal), timeout=30
            )
            answer = (
                f"{method} {url} as {principal} -> {response.status_code}: {response.text[:200]}"
            )
            preflight = method == "OPTIONS" and response.status_code == 204
            if not (400 <= response.status_code < 500 or preflight):
                problems.append(f"expected a 4xx (or 204 to OPTIONS): {answer}")
            if preflight and response.content:
                problems.append(f"a body in an OPTIONS answer: {answer}")
            if principal != "admin" and (hidden := unsent_leaks(response, seed.canaries())):
                problems.append(f"data {hidden} in: {answer}")
    assert not problems, "\n".join(problems)
