"""A small typed HTTP client of the four trainops services, shared by ``trainops demo`` and the
end-to-end tests.

It talks to the services only through their public HTTP contract and adds the two
things every caller needs: bearer tokens per role/region (signed locally, like ``trainops
token``), and :class:`ApiError` carrying the exact request and response, so a misbehaving
service is reported with something its owner can reproduce. Calls that depend on events still
travelling between services (a session registration does not know yet, invitations of a session
just completed) have ``*_when_known`` / polling variants with deadlines: never fixed sleeps.
"""

from __future__ import annotations

import csv
import io
import os
import time
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

import httpx

if TYPE_CHECKING:
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

T = TypeVar("T")

REPORT_TIMEOUT = 120.0
"""Seconds a report request may take: the first donor table of a new read-model generation
proves its suppression pattern with up to a few thousand linear programs."""
SERVICE_NAMES: tuple[str, ...] = ("registration", "scheduling", "feedback", "reporting")


class ApiError(RuntimeError):
    """An unexpected HTTP answer; ``str()`` shows the request and the response."""

    def __init__(
        self,
        method: str,
        url: str,
        status: int,
        body: str,
        request_body: Any = None,
        expected: tuple[int, ...] = (),
    ) -> None:
        self.method = method
        self.url = url
        self.status = status
        self.body = body
        self.request_body = request_body
        self.expected = expected
        sent = "" if request_body is None else f" {request_body!r}"[:600]
        want = "/".join(map(str, expected)) or "2xx"
        super().__init__(f"{method} {url}{sent} -> {status} (expected {want}): {body[:800]}")

    def json(self) -> Any:
        try:
            import json

            return json.loads(self.body)
        except ValueError:
            return None


class DeadlineExceeded(TimeoutError):
    """A polled condition did not hold before its deadline; the message says what was last seen."""


def poll(
    probe: Callable[[], T | None],
    *,
    timeout: float,
    what: str,
    last: Callable[[], str] | None = None,
) -> T:
    """Call ``probe`` until it returns something other than ``None``; back off up to 0.5 s.

    Raises :class:`DeadlineExceeded` naming ``what`` (and ``last()``, the last observation).
    """
    deadline = time.monotonic() + timeout
    delay = 0.05
    while True:
        result = probe()
        if result is not None:
            return result
        if time.monotonic() >= deadline:
            seen = f"; last seen: {last()}" if last is not None else ""
            raise DeadlineExceeded(f"{what}: not reached within {timeout:.0f} s{seen}")
        time.sleep(delay)
        delay = min(delay * 1.5, 0.5)


@dataclass(frozen=True)
class ServiceUrls:
    registration: str
    scheduling: str
    feedback: str
    reporting: str
    identity: str | None = None
    """Where people sign in and manage accounts (``None``: a system without it)."""

    @classmethod
    def from_base(cls, base: str = "http://127.0.0.1", first_port: int = 8001) -> ServiceUrls:
        """``base`` (scheme and host) with the services on ``first_port``, ``+1``, ... in the
        order registration, scheduling, feedback, reporting, identity."""
        base = base.rstrip("/")
        urls = {name: f"{base}:{first_port + i}" for i, name in enumerate(SERVICE_NAMES)}
        return cls.from_mapping({**urls, "identity": f"{base}:{first_port + len(SERVICE_NAMES)}"})

    @classmethod
    def from_mapping(cls, urls: Mapping[str, str]) -> ServiceUrls:
        identity = urls.get("identity")
        return cls(
            **{name: urls[name].rstrip("/") for name in SERVICE_NAMES},
            identity=identity.rstrip("/") if identity else None,
        )

    def as_dict(self) -> dict[str, str]:
        return {name: getattr(self, name) for name in SERVICE_NAMES}


class TokenIssuer:
    """Signs development/demo tokens the services accept (cached per role and region), with
    ``key``, else ``$JWT_PRIVATE_KEY_FILE``, else the key of the install in ``data_dir``
    (default ``$TRAINOPS_DATA_DIR``), like ``trainops token``."""

    def __init__(
        self,
        key: Ed25519PrivateKey | None = None,
        issuer: str | None = None,
        audience: str | None = None,
        *,
        data_dir: str | Path | None = None,
    ) -> None:
        self._key = key
        self._data_dir = data_dir
        self.issuer = issuer or os.environ.get("JWT_ISSUER") or "trainops"
        self.audience = audience or os.environ.get("JWT_AUDIENCE") or "trainops"
        self._cache: dict[tuple[str, str | None], str] = {}

    @property
    def key(self) -> Ed25519PrivateKey:
        """Loaded on the first token: a client that only probes health needs no key."""
        if self._key is None:
            from trainops_cli.token import signing_key_path
            from trainops_shared.credentials import load_signing_key

            self._key = load_signing_key(signing_key_path(self._data_dir))
        return self._key

    def __call__(self, role: str, region: str | None = None) -> str:
        key = (role, region)
        token = self._cache.get(key)
        if token is None:
            from trainops_shared.auth import issue_token

            token = issue_token(
                key=self.key,
                role=role,
                region=region,
                subject=f"demo-{role}" + (f"-{region}" if region else ""),
                issuer=self.issuer,
                audience=self.audience,
            )
            self._cache[key] = token
        return token


def retry_after(response: httpx.Response, ceiling: float = 60.0) -> float:
    """Seconds a 429 asks the client to wait (``Retry-After``, 1 if absent or unreadable)."""
    try:
        return min(max(float(response.headers.get("retry-after", "1")), 0.0), ceiling)
    except ValueError:
        return 1.0


class TrainopsClient:
    """Synchronous client (thread-safe: one ``httpx.Client`` pool) of the public HTTP APIs."""

    RATE_LIMIT_RETRIES = 3
    """Times one request is sent again after a 429, each after the wait it names."""

    def __init__(
        self,
        urls: ServiceUrls,
        tokens: TokenIssuer | None = None,
        *,
        timeout: float = 30.0,
    ) -> None:
        self.urls = urls
        self.tokens = tokens or TokenIssuer()
        self.http = httpx.Client(
            timeout=timeout, limits=httpx.Limits(max_connections=32, max_keepalive_connections=32)
        )

    def close(self) -> None:
        self.http.close()

    def __enter__(self) -> TrainopsClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # ------------------------------------------------------------------------------------
    # plumbing

    def request(
        self,
        method: str,
        url: str,
        *,
        role: str | None = "admin",
        region: str | None = None,
        json: Any = None,
        params: Mapping[str, Any] | None = None,
        headers: Mapping[str, str] | None = None,
        expect: tuple[int, ...] = (200, 201),
        timeout: float | None = None,
    ) -> httpx.Response:
        """``timeout`` overrides the client's for this one request (see :data:`REPORT_TIMEOUT`)."""
        sent_headers = dict(headers or {})
        if role is not None:
            sent_headers["Authorization"] = f"Bearer {self.tokens(role, region)}"
        clean = {k: v for k, v in (params or {}).items() if v is not None}

        def send() -> httpx.Response:
            return self.http.request(
                method,
                url,
                json=json,
                params=clean,
                headers=sent_headers,
                timeout=self.http.timeout if timeout is None else timeout,
            )

        response = send()
        for _ in range(self.RATE_LIMIT_RETRIES):
            if response.status_code != 429 or 429 in expect:
                break
            # A bulk load (the demo) waits as long as the service asks instead of failing.
            time.sleep(retry_after(response))
            response = send()
        if response.status_code not in expect:
            shown = str(response.request.url)
            raise ApiError(method, shown, response.status_code, response.text, json, expect)
        return response

    def _json(self, method: str, url: str, **kwargs: Any) -> Any:
        return self.request(method, url, **kwargs).json()

    def _obj(self, method: str, url: str, **kwargs: Any) -> dict[str, Any]:
        response = self.request(method, url, **kwargs)
        data = response.json()
        if not isinstance(data, dict):
            raise ApiError(method, url, response.status_code, response.text, kwargs.get("json"), ())
        return data

    def health(self) -> dict[str, bool]:
        """Which services answer ``GET /ready`` with 200 right now."""
        answers: dict[str, bool] = {}
        for name, url in self.urls.as_dict().items():
            try:
                answers[name] = self.http.get(f"{url}/ready", timeout=2.0).status_code == 200
            except httpx.HTTPError:
                answers[name] = False
        return answers

    # ------------------------------------------------------------------------------------
    # scheduling (programme staff)

    def define_training(
        self, code: str, title: Mapping[str, str], target_sectors: list[str]
    ) -> dict[str, Any]:
        body = {"code": code, "title": dict(title), "target_sectors": target_sectors}
        return self._obj(
            "POST", f"{self.urls.scheduling}/trainings", role="programme_staff", json=body
        )

    def list_trainings(self) -> list[dict[str, Any]]:
        result: list[dict[str, Any]] = self._json(
            "GET", f"{self.urls.scheduling}/trainings", role="programme_staff"
        )
        return result

    def register_trainer(self, name: str, home_city: str) -> dict[str, Any]:
        return self._obj(
            "POST",
            f"{self.urls.scheduling}/trainers",
            role="programme_staff",
            json={"name": name, "home_city": home_city},
        )

    def schedule_session(self, body: Mapping[str, Any]) -> dict[str, Any]:
        return self._obj(
            "POST", f"{self.urls.scheduling}/sessions", role="programme_staff", json=dict(body)
        )

    def get_session(self, session_id: str) -> dict[str, Any]:
        return self._obj(
            "GET", f"{self.urls.scheduling}/sessions/{session_id}", role="programme_staff"
        )

    def change_capacity(self, session_id: str, capacity: int) -> dict[str, Any]:
        return self._obj(
            "POST",
            f"{self.urls.scheduling}/sessions/{session_id}/capacity",
            role="programme_staff",
            json={"capacity": capacity},
            expect=(200,),
        )

    def cancel_session(self, session_id: str, reason: str) -> dict[str, Any]:
        return self._obj(
            "POST",
            f"{self.urls.scheduling}/sessions/{session_id}/cancel",
            role="programme_staff",
            json={"reason": reason},
            expect=(200,),
        )

    def complete_session(self, session_id: str) -> dict[str, Any]:
        return self._obj(
            "POST",
            f"{self.urls.scheduling}/sessions/{session_id}/complete",
            role="programme_staff",
            expect=(200,),
        )

    # ------------------------------------------------------------------------------------
    # registration (coordinators)

    def register(
        self,
        session_id: str,
        participant: Mapping[str, Any],
        *,
        region: str | None = None,
        idempotency_key: str | None = None,
        wait_for_session: float = 30.0,
    ) -> dict[str, Any]:
        """``POST /registrations`` as the coordinator of ``region`` (default: the participant's
        city). A 404 for the *session* is retried until ``wait_for_session`` seconds have passed:
        registration learns of sessions from scheduling's events, a moment after scheduling
        answered. The idempotency key (generated when not given) makes the retries safe."""
        region = region or str(participant["city"])
        key = idempotency_key or str(uuid.uuid4())
        body = {"session_id": session_id, "participant": dict(participant)}
        url = f"{self.urls.registration}/registrations"
        deadline = time.monotonic() + wait_for_session
        delay = 0.05
        while True:
            try:
                return self._obj(
                    "POST",
                    url,
                    role="coordinator",
                    region=region,
                    json=body,
                    headers={"Idempotency-Key": key},
                    expect=(201, 200),
                )
            except ApiError as exc:
                detail = exc.json() or {}
                unknown_session = exc.status == 404 and detail.get("field") == "session_id"
                if not unknown_session or time.monotonic() >= deadline:
                    raise
            time.sleep(delay)
            delay = min(delay * 1.5, 0.5)

    def cancel_registration(self, registration_id: str, region: str | None = None) -> Any:
        role = "coordinator" if region else "admin"
        return self._json(
            "POST",
            f"{self.urls.registration}/registrations/{registration_id}/cancel",
            role=role,
            region=region,
            expect=(200,),
        )

    def record_attendance(
        self, registration_id: str, attended: bool, region: str | None = None
    ) -> Any:
        role = "coordinator" if region else "admin"
        return self._json(
            "POST",
            f"{self.urls.registration}/registrations/{registration_id}/attendance",
            role=role,
            region=region,
            json={"attended": attended},
            expect=(200,),
        )

    def get_registration(self, registration_id: str, region: str | None = None) -> dict[str, Any]:
        role = "coordinator" if region else "admin"
        return self._obj(
            "GET",
            f"{self.urls.registration}/registrations/{registration_id}",
            role=role,
            region=region,
            expect=(200,),
        )

    def list_registrations(
        self, session_id: str | None = None, status: str | None = None
    ) -> list[dict[str, Any]]:
        """Every registration (admin view) of ``session_id``/``status``, all pages."""
        items: list[dict[str, Any]] = []
        offset = 0
        while True:
            page = self._json(
                "GET",
                f"{self.urls.registration}/registrations",
                params={"session_id": session_id, "status": status, "limit": 500, "offset": offset},
                expect=(200,),
            )
            batch = page["items"] if isinstance(page, dict) else page
            items.extend(batch)
            total = page.get("total") if isinstance(page, dict) else None
            offset += len(batch)
            if not batch or (total is not None and offset >= int(total)) or len(batch) < 500:
                return items

    # ------------------------------------------------------------------------------------
    # feedback

    def invitations(self, session_id: str) -> list[dict[str, Any]]:
        result: list[dict[str, Any]] = self._json(
            "GET",
            f"{self.urls.feedback}/sessions/{session_id}/invitations",
            role="programme_staff",
            expect=(200,),
        )
        return result

    def wait_invitations(
        self, session_id: str, expected: int, timeout: float = 60.0
    ) -> list[dict[str, Any]]:
        """Poll until the session has ``expected`` invitations (feedback issues them when the
        completion and attendance events have arrived)."""
        seen: list[list[dict[str, Any]]] = [[]]

        def probe() -> list[dict[str, Any]] | None:
            seen[0] = self.invitations(session_id)
            return seen[0] if len(seen[0]) >= expected else None

        return poll(
            probe,
            timeout=timeout,
            what=f"{expected} invitations of session {session_id}",
            last=lambda: f"{len(seen[0])} invitations",
        )

    def submit_response(
        self, token: str, answers: Mapping[str, int], comment: str | None = None
    ) -> dict[str, Any]:
        body: dict[str, Any] = {"token": token, "answers": dict(answers)}
        if comment is not None:
            body["comment"] = comment
        return self._obj(
            "POST", f"{self.urls.feedback}/responses", role=None, json=body, expect=(201,)
        )

    # ------------------------------------------------------------------------------------
    # reporting

    def summary(self, training_id: str | None = None, **window: str | None) -> dict[str, Any]:
        params = {
            "training_id": training_id,
            "period": window.get("period"),
            "from": window.get("from_"),
            "to": window.get("to"),
        }
        return self._obj(
            "GET",
            f"{self.urls.reporting}/reports/summary",
            role="reporting",
            timeout=REPORT_TIMEOUT,
            params=params,
            expect=(200,),
        )

    def donor(
        self,
        by: str = "city,sex",
        k: int | None = None,
        training_id: str | None = None,
        **window: str | None,
    ) -> dict[str, Any]:
        return self._obj(
            "GET",
            f"{self.urls.reporting}/reports/donor",
            role="reporting",
            timeout=REPORT_TIMEOUT,
            params=self._donor_params(by, k, training_id, "json", window),
            expect=(200,),
        )

    def freeze_snapshot(
        self, parameters: Mapping[str, Any], *, role: str = "reporting", timeout: float = 60.0
    ) -> dict[str, Any]:
        """``POST /reports/snapshots``: freeze the donor report of ``parameters`` (``by``,
        ``period``, ``training_id``). While reporting is still applying events it answers 503
        with ``Retry-After``: waited out up to ``timeout`` seconds."""
        url = f"{self.urls.reporting}/reports/snapshots"
        deadline = time.monotonic() + timeout
        while True:
            response = self.request(
                "POST", url, role=role, json=dict(parameters), expect=(201, 503)
            )
            if response.status_code == 201 or time.monotonic() > deadline:
                break
            time.sleep(retry_after(response, ceiling=5.0))
        if response.status_code != 201:
            raise ApiError("POST", url, response.status_code, response.text, parameters, (201,))
        created: dict[str, Any] = response.json()
        return created

    def donor_csv(
        self,
        by: str = "city,sex",
        k: int | None = None,
        training_id: str | None = None,
        **window: str | None,
    ) -> list[list[str]]:
        response = self.request(
            "GET",
            f"{self.urls.reporting}/reports/donor",
            role="reporting",
            timeout=REPORT_TIMEOUT,
            params=self._donor_params(by, k, training_id, "csv", window),
            expect=(200,),
        )
        return list(csv.reader(io.StringIO(response.text)))

    @staticmethod
    def _donor_params(
        by: str, k: int | None, training_id: str | None, fmt: str, window: Mapping[str, Any]
    ) -> dict[str, Any]:
        return {
            "by": by,
            "k": k,
            "training_id": training_id,
            "format": fmt,
            "period": window.get("period"),
            "from": window.get("from_"),
            "to": window.get("to"),
        }


def token_of(invitation_url: str) -> str:
    """The token of a participant link ``.../f/{token}`` (query string, if any, removed)."""
    tail = invitation_url.rsplit("/f/", 1)[-1]
    return tail.split("?", 1)[0].split("#", 1)[0]
