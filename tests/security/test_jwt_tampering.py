"""Forged, tampered and malformed bearer tokens against every protected route of every service.

Each case is a token an attacker can make without the services' signing key (or a genuine
token whose claims break a rule): ``alg: none``, a key of their own (HMAC, Ed25519, RSA), the
algorithm-confusion trick (HMAC keyed with the services' public key, when they have one),
expired or not yet valid, another issuer or audience, missing or unknown claims, a payload
edited under a genuine signature, and headers that are not a bearer token at all. Every one must
be a 401 in the services' JSON error shape: never a 2xx, never a 5xx, never data.

Tokens with valid signatures but bad claims are signed the way the harness signs its own
tokens (the install's Ed25519 key the services verify with), so the claim checks are what is
tested, not the signature.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import httpx
import jwt
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ed25519, rsa
from security_support import PUBLIC_ROUTES, REGION_A, SecuritySystem, Seed

from trainops_devtools.testing.attack import fill_path, leaks, operations
from trainops_devtools.testing.processes import SERVICES

pytestmark = pytest.mark.e2e


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _segment(obj: Any) -> str:
    return _b64(json.dumps(obj, separators=(",", ":")).encode())


@dataclass
class Forge:
    """What an attacker has: a genuine token of a low role, its claims and header."""

    system: SecuritySystem

    @property
    def genuine(self) -> str:
        return self.system.tokens("reporting")

    def claims(self, **changes: Any) -> dict[str, Any]:
        claims: dict[str, Any] = jwt.decode(self.genuine, options={"verify_signature": False})
        claims.update(changes)
        return {k: v for k, v in claims.items() if v is not _DROP}

    def header(self) -> dict[str, Any]:
        return dict(jwt.get_unverified_header(self.genuine))

    def sign_as_services(self, claims: dict[str, Any]) -> str:
        """``claims`` signed with the key and algorithm the services trust."""
        header = self.header()
        extra = {k: v for k, v in header.items() if k not in ("alg", "typ")}
        return jwt.encode(
            claims, self.system.harness.signing_key, algorithm=header["alg"], headers=extra or None
        )

    def unsigned(self, claims: Any, alg: str = "none") -> str:
        return f"{_segment({'alg': alg, 'typ': 'JWT'})}.{_segment(claims)}."


_DROP = object()
"""A claim value meaning "remove this claim"."""


def public_key_pem(system: SecuritySystem) -> bytes:
    """The services' public verification key, as an attacker may read it from a config."""
    return bytes(
        system.harness.signing_key.public_key().public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
        )
    )


Case = Callable[[Forge], str]
"""Makes the ``Authorization`` header value."""


def bearer(token: str) -> str:
    return f"Bearer {token}"


def _hmac(header: dict[str, Any], claims: dict[str, Any], key: bytes) -> str:
    """An HS256 token built by hand: PyJWT refuses empty or asymmetric keys as HMAC secrets,
    an attacker does not."""
    signing_input = f"{_segment(header)}.{_segment(claims)}"
    signature = hmac.new(key, signing_input.encode(), hashlib.sha256).digest()
    return bearer(f"{signing_input}.{_b64(signature)}")


def _hs_with_public_key(encoding: str) -> Case:
    def make(f: Forge) -> str:
        pem = public_key_pem(f.system)
        key = {
            "pem": pem,
            "pem without newline": pem.rstrip(b"\n"),
            "raw": f.system.harness.signing_key.public_key().public_bytes(
                serialization.Encoding.Raw, serialization.PublicFormat.Raw
            ),
        }[encoding]
        return _hmac({"alg": "HS256", "typ": "JWT"}, f.claims(role="admin"), key)

    return make


def _edit_payload(f: Forge) -> str:
    header, _, signature = f.genuine.split(".")
    return bearer(f"{header}.{_segment(f.claims(role='admin'))}.{signature}")


def _strip_signature(f: Forge) -> str:
    header, payload, _ = f.genuine.split(".")
    return bearer(f"{header}.{payload}.")


def _own_key(algorithm: str) -> Case:
    def make(f: Forge) -> str:
        key: Any
        if algorithm == "HS256":
            key = "an-attacker-chosen-secret-of-enough-length-0123456789"
        elif algorithm == "EdDSA":
            key = ed25519.Ed25519PrivateKey.generate()
        else:
            key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        return bearer(jwt.encode(f.claims(role="admin"), key, algorithm=algorithm))

    return make


def _claims(**changes: Any) -> Case:
    return lambda f: bearer(f.sign_as_services(f.claims(**changes)))


NOW = int(time.time())

CASES: dict[str, Case] = {
    "alg none": lambda f: bearer(f.unsigned(f.claims(role="admin"))),
    "alg None": lambda f: bearer(f.unsigned(f.claims(role="admin"), alg="None")),
    "alg NONE": lambda f: bearer(f.unsigned(f.claims(role="admin"), alg="NONE")),
    "signature stripped": _strip_signature,
    "payload edited under a genuine signature": _edit_payload,
    "own HMAC key": _own_key("HS256"),
    "own Ed25519 key": _own_key("EdDSA"),
    "own RSA key": _own_key("RS256"),
    "HMAC keyed with the public key (PEM)": _hs_with_public_key("pem"),
    "HMAC keyed with the public key (PEM, no newline)": _hs_with_public_key("pem without newline"),
    "HMAC keyed with the public key (raw bytes)": _hs_with_public_key("raw"),
    "HMAC with an empty key and a kid to /dev/null": lambda f: _hmac(
        {"alg": "HS256", "typ": "JWT", "kid": "../../../../../../dev/null"},
        f.claims(role="admin"),
        b"",
    ),
    "expired": _claims(exp=NOW - 3600, iat=NOW - 7200),
    "not yet valid (nbf)": _claims(nbf=NOW + 3600),
    "issued in the future (iat)": _claims(iat=NOW + 3600),
    "wrong issuer": _claims(iss="https://attacker.example"),
    "wrong audience": _claims(aud="another-system"),
    "no issuer": _claims(iss=_DROP),
    "no audience": _claims(aud=_DROP),
    "no expiry": _claims(exp=_DROP),
    "no subject": _claims(sub=_DROP),
    "no role": _claims(role=_DROP),
    "unknown role": _claims(role="superadmin"),
    "role as a list": _claims(role=["admin"]),
    "coordinator without a region": _claims(role="coordinator", region=_DROP),
    "coordinator with a non-string region": _claims(role="coordinator", region=[REGION_A]),
    "exp not a number": _claims(exp="tomorrow"),
    "scheme only": lambda f: "Bearer",
    "dots only": lambda f: "Bearer ..",
    "basic scheme": lambda f: "Basic " + _b64(b"admin:admin"),
    "token without bearer scheme": lambda f: f.genuine,
    "two segments": lambda f: bearer(".".join(f.genuine.split(".")[:2])),
    "four segments": lambda f: bearer(f.genuine + ".AAAA"),
    "garbage": lambda f: bearer("not.a.jwt"),
    "header not JSON": lambda f: bearer(_b64(b"{not json") + "." + f.genuine.split(".", 1)[1]),
    "payload not JSON": lambda f: bearer(
        f"{f.genuine.split('.')[0]}.{_b64(b'[1,2')}.{f.genuine.split('.')[2]}"
    ),
    "payload a JSON list": lambda f: bearer(f.unsigned([1, 2], alg="HS256")),
    "non-base64 characters": lambda f: bearer("***.***.***"),
    "two tokens": lambda f: bearer(f"{f.genuine} {f.genuine}"),
    "16 KB token": lambda f: bearer(
        f.sign_as_services(f.claims(role="admin", padding="x" * 16_000, exp=NOW - 3600))
    ),
}


@pytest.fixture(scope="module")
def http() -> Iterator[httpx.Client]:
    with httpx.Client(timeout=30) as client:
        yield client


def protected_urls(system: SecuritySystem, seed: Seed, service: str) -> list[tuple[str, str]]:
    """``(method, url)`` of every route of ``service`` that needs a token, with real ids."""
    found = []
    for op in operations(service, system.openapi(service)):
        if op.key in PUBLIC_ROUTES[service]:
            continue
        found.append((op.method, system.url(service) + fill_path(op.path, seed.path_values())))
    assert found, f"{service} has no protected routes in its OpenAPI document"
    return found


@pytest.mark.parametrize("case", list(CASES))
@pytest.mark.parametrize("service", SERVICES)
def test_tampered_token_is_refused(
    security_system: SecuritySystem, seed: Seed, http: httpx.Client, service: str, case: str
) -> None:
    forge = Forge(security_system)
    authorization = CASES[case](forge)
    problems = []
    for method, url in protected_urls(security_system, seed, service):
        response = http.request(method, url, headers={"Authorization": authorization}, json={})
        answer = f"{method} {url} -> {response.status_code}: {response.text[:200]}"
        if response.status_code != 401:
            problems.append(f"expected 401: {answer}")
            continue
        if leaks(response.content, seed.canaries()):
            problems.append(f"data in a refusal: {answer}")
        try:
            body = response.json()
        except ValueError:
            problems.append(f"not the JSON error shape: {answer}")
            continue
        if body.get("status") != 401 or "detail" not in body:
            problems.append(f"not the JSON error shape: {answer}")
    assert not problems, f"{case}:\n" + "\n".join(problems)


@pytest.mark.parametrize("service", SERVICES)
def test_genuine_token_is_accepted(
    security_system: SecuritySystem, seed: Seed, service: str
) -> None:
    """The control: a token signed the way the claim cases are signed, with nothing changed but
    the role, reads every protected GET route, so the refusals above are about the tampering."""
    forge = Forge(security_system)
    token = forge.sign_as_services(forge.claims(role="admin"))
    for method, url in protected_urls(security_system, seed, service):
        if method != "GET":
            continue
        response = httpx.get(url, headers={"Authorization": bearer(token)}, timeout=30)
        assert response.status_code == 200, f"{url}: {response.text[:300]}"
