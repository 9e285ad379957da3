"""The system the attack-matrix tests attack (see conftest.py): its principals, seed and helpers."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest

from trainops_cli.api_client import ServiceUrls, TokenIssuer, TrainopsClient, token_of
from trainops_devtools.nats_server import NatsAuth, start_nats
from trainops_devtools.testing.attack import Canary
from trainops_devtools.testing.processes import SERVICES, ServiceProcess
from trainops_devtools.testing.pytest_plugin import ServiceHarness

REGION_A = "almaty"
REGION_B = "aktobe"

ROLES: dict[str, tuple[str | None, str | None]] = {
    "anonymous": (None, None),
    "admin": ("admin", None),
    "programme_staff": ("programme_staff", None),
    "coordinator_a": ("coordinator", REGION_A),
    "coordinator_b": ("coordinator", REGION_B),
    "reporting": ("reporting", None),
}
"""The principals of the matrix: ``name -> (role, region)``; ``anonymous`` sends no token."""

UNLIMITED = {
    "RATE_LIMIT_PRINCIPAL": "off",
    "RATE_LIMIT_ANONYMOUS": "off",
    "RATE_LIMIT_FAILED_AUTH": "off",
}
"""The matrix sends hundreds of refused requests from one address on purpose: rate limiting
(tested on its own) would turn the 401s and 403s it checks into 429s."""

_OPERATIONS = frozenset({"GET /health", "GET /ready", "GET /metrics"})
PUBLIC_ROUTES: dict[str, frozenset[str]] = {
    "registration": _OPERATIONS
    | {"GET /r/{token}", "POST /r/{token}", "GET /r/consents/{token}", "POST /r/consents/{token}"}
    | {"GET /certificates/{code}"}
    | {"GET /join/{code}", "POST /join/{code}", "GET /participant-feeds/{token}"},
    "scheduling": _OPERATIONS | {"GET /feeds/{token}"},
    "feedback": _OPERATIONS
    | {"GET /f/{token}", "POST /f/{token}", "PUT /f/{token}/draft", "POST /responses"}
    | {"GET /t/{token}", "POST /t/{token}", "PUT /t/{token}/draft", "POST /tests"}
    | {"GET /assets/answers.js"},
    "reporting": _OPERATIONS,
    "identity": _OPERATIONS
    | {
        "GET /sign-in",
        "POST /sign-in",
        "GET /refresh",
        "POST /sign-out",
        "GET /sign-in/oidc",
        "GET /sign-in/oidc/callback",
    },
}
"""The routes that answer without a token: operations probes and metrics, and the participant's
form and JSON submission and join link, and calendar feeds (the invitation token, code or
feed token in them is the credential)."""


class HarnessTokens(TokenIssuer):
    """The harness's own token helper in the shape :class:`TrainopsClient` calls it, with one
    subject per role and region (idempotency keys and audits belong to a subject)."""

    def __init__(self, harness: ServiceHarness) -> None:
        self.harness = harness
        self._cache: dict[tuple[str, str | None], str] = {}

    def __call__(self, role: str, region: str | None = None) -> str:
        key = (role, region)
        if key not in self._cache:
            subject = f"security-{role}" + (f"-{region}" if region else "")
            self._cache[key] = self.harness.token(role, region, subject=subject)
        return self._cache[key]


@dataclass
class Seed:
    """Real ids and the canary of region A."""

    canary: Canary
    training_id: str
    trainer_id: str
    session_id: str
    """In person in Almaty, completed: the canary attended and was invited to give feedback."""
    open_session_id: str
    """Online in Almaty and Aktobe, still scheduled: both coordinators may register into it."""
    registration_id: str
    participant_id: str
    open_registration_id: str
    open_registration_key: str
    """The Idempotency-Key coordinator A registered ``open_registration_id`` with."""
    open_registration_body: dict[str, Any]
    invitation_token: str
    snapshot_id: str = ""
    """A frozen donor report (reporting holds no region's data: every reporter may read it)."""
    checkin_code: str = ""
    """The canary's check-in code (its attendance-sheet QR), when the seed could derive it."""
    survey_id: str = str(uuid.UUID(int=11))
    """A survey (a draft knowledge test of the training): surveys belong to no region."""

    def canaries(self) -> dict[str, str]:
        """Everything of region A a coordinator of region B must never receive."""
        return {
            **self.canary.personal_data(),
            "organisation": self.canary.organisation,
            "registration id": self.registration_id,
            "open registration id": self.open_registration_id,
            "participant id": self.participant_id,
            "invitation token": self.invitation_token,
            **({"check-in code": self.checkin_code} if self.checkin_code else {}),
        }

    def path_values(self) -> dict[str, str]:
        """Path parameter name -> a real id of region A."""
        return {
            "registration_id": self.registration_id,
            "participant_id": self.participant_id,
            "session_id": self.session_id,
            "training_id": self.training_id,
            "trainer_id": self.trainer_id,
            "token": self.invitation_token,
            "code": self.checkin_code or uuid.uuid4().hex,
            "username": "security-nobody",
            "token_id": str(uuid.UUID(int=7)),
            "identity_id": str(uuid.UUID(int=9)),
            "purpose": "future_trainings",
            "snapshot_id": self.snapshot_id,
            "other_id": self.snapshot_id,
            "feed_id": str(uuid.UUID(int=11)),
            "survey_id": self.survey_id,
            "version": "1",
        }


@dataclass
class SecuritySystem:
    harness: ServiceHarness
    processes: dict[str, ServiceProcess]
    client: TrainopsClient
    tokens: HarnessTokens
    nats_url: str
    root: Path
    """Everything of this system is below: ``nats/`` (the JetStream store and server log) and
    ``services/`` (``data/`` with the service databases and keys, ``logs/``)."""
    seed: Seed | None = None
    documents: dict[str, dict[str, Any]] = field(default_factory=dict)

    @property
    def urls(self) -> ServiceUrls:
        return self.client.urls

    def url(self, service: str) -> str:
        return self.processes[service].url

    def headers(self, principal: str) -> dict[str, str]:
        role, region = ROLES[principal]
        return {} if role is None else {"Authorization": f"Bearer {self.tokens(role, region)}"}

    def openapi(self, service: str) -> dict[str, Any]:
        """The service's OpenAPI document as it serves it (fetched once)."""
        if service not in self.documents:
            response = httpx.get(f"{self.url(service)}/schema/openapi.json", timeout=30)
            response.raise_for_status()
            self.documents[service] = response.json()
        return self.documents[service]

    def logs(self) -> str:
        return "\n\n".join(
            f"--- {name} ({p.log_path}):\n{p.log_tail(30)}" for name, p in self.processes.items()
        )


def checkin_code_of(
    client: TrainopsClient, data_dir: Path, session_id: str, registration_id: str
) -> str:
    """The check-in code of a registration, as the attendance sheet (read once here, which
    stores its hash) shows it in the QR: derived from the installation's registration link key."""
    from trainops_registration.handlers.checkin import checkin_tokens
    from trainops_shared.credentials import REGISTRATION_LINK_KEY_FILE, SECRETS_DIRNAME

    client.request("GET", f"{client.urls.registration}/sessions/{session_id}/attendance-sheet")
    key = (data_dir / SECRETS_DIRNAME / REGISTRATION_LINK_KEY_FILE).read_text().strip()
    return checkin_tokens(key).token(registration_id)


def seed_region_a(client: TrainopsClient, canary: Canary, data_dir: Path | None = None) -> Seed:
    suffix = uuid.uuid4().hex[:8]
    training = client.define_training(
        f"security-{suffix}", {"en": "Child rights reporting", "ru": "Права ребёнка"}, ["media"]
    )["id"]
    trainer = client.register_trainer("Aigerim Trainer", REGION_A)["id"]
    session = client.schedule_session(
        {
            "training_id": training,
            "mode": "in_person",
            "cities": [REGION_A],
            "starts_at": "2021-02-01T10:00",
            "ends_at": "2021-02-01T16:00",
            "capacity": 10,
            "language": "ru",
            "trainer_ids": [trainer],
            "venue": "Almaty press centre",
        }
    )["id"]
    open_session = client.schedule_session(
        {
            "training_id": training,
            "mode": "online",
            "cities": [REGION_A, REGION_B],
            "starts_at": "2021-02-10T10:00",
            "ends_at": "2021-02-10T13:00",
            "capacity": 50,
            "language": "ru",
        }
    )["id"]
    registration = client.register(session, canary.participant(REGION_A), region=REGION_A)
    key = f"security-{suffix}"
    open_body = {"session_id": open_session, "participant": canary.participant(REGION_A)}
    open_registration = client.register(
        open_session, canary.participant(REGION_A), region=REGION_A, idempotency_key=key
    )
    client.record_attendance(registration["id"], True, region=REGION_A)
    client.complete_session(session)
    invitations = client.wait_invitations(session, 1, timeout=90)
    words = {"kk": "Сұрақ", "ru": "Вопрос", "en": "Question"}
    survey = client.request(
        "POST",
        f"{client.urls.feedback}/surveys",
        role="programme_staff",
        json={
            "code": f"security-{suffix}",
            "purpose": "knowledge_test",
            "training_id": training,
            "title": words,
            "items": [
                {
                    "key": "q",
                    "kind": "single",
                    "text": words,
                    "scored": True,
                    "options": [
                        {"key": "a", "text": words, "correct": True},
                        {"key": "b", "text": words},
                    ],
                }
            ],
        },
    ).json()
    return Seed(
        canary=canary,
        training_id=training,
        trainer_id=trainer,
        session_id=session,
        open_session_id=open_session,
        registration_id=registration["id"],
        participant_id=registration["participant_id"],
        open_registration_id=open_registration["id"],
        open_registration_key=key,
        open_registration_body=open_body,
        invitation_token=token_of(invitations[0]["url"]),
        snapshot_id=client.freeze_snapshot({"by": ["city"]})["id"],
        checkin_code=(
            checkin_code_of(client, data_dir, session, registration["id"]) if data_dir else ""
        ),
        survey_id=survey["survey_id"],
    )


def start_security_system(
    request: pytest.FixtureRequest,
    root: Path,
    services: tuple[str, ...] = SERVICES,
    extra_env: dict[str, str] | None = None,
) -> tuple[SecuritySystem, Callable[[], None]]:
    """The four services on a private NATS server with the generated users (``nats.url`` is the
    operator's: it reads every stream); returns the system and its teardown."""
    store = root / "nats"
    nats = start_nats(store, auth=NatsAuth.ensure(store / "secrets"))
    harness = ServiceHarness(request, root / "services")
    try:
        processes = harness.start(
            services, nats_url=nats.url, extra_env={**UNLIMITED, **(extra_env or {})}
        )
    except BaseException:
        harness.stop_all()
        nats.stop()
        raise
    tokens = HarnessTokens(harness)
    urls = ServiceUrls.from_mapping({name: p.url for name, p in processes.items()})
    client = TrainopsClient(urls, tokens)

    def teardown() -> None:
        client.close()
        harness.stop_all()
        nats.stop()

    return SecuritySystem(harness, processes, client, tokens, nats.url, root), teardown
