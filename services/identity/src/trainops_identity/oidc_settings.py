"""Organisation sign-in settings, read once at start-up from the environment.

Organisation sign-in is off unless ``OIDC_ISSUER`` is set; then the client id and secret are
required and every other setting has a default. A bad value stops the service at start-up with
the setting's name, rather than failing the first person who tries to sign in.

=============================  =====================================================================
``OIDC_ISSUER``                the provider's issuer URL (discovery: ``<issuer>/.well-known/...``)
``OIDC_CLIENT_ID``             the client registered at the provider for trainops
``OIDC_CLIENT_SECRET[_FILE]``  its secret, inline or in a file readable only by the service
``OIDC_ORGANISATION``          the name on the sign-in button ("Sign in with <organisation>")
``OIDC_SCOPES``                default ``openid email profile``
``OIDC_REDIRECT_URL``          default ``<TRAINOPS_PUBLIC_URL>/sign-in/oidc/callback``
``OIDC_ROLE_MODE``             ``claims`` (default) or ``admin-assigns``
``OIDC_ROLE_CLAIM``            default ``role``; ``OIDC_REGION_CLAIM`` default ``region``
``OIDC_ROLE_MAP``              JSON ``{"provider value": "trainops role"}`` (default: identity)
``OIDC_REGION_MAP``            JSON ``{"provider value": "region"}`` (default: identity)
=============================  =====================================================================
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

from trainops_identity.domain.oidc_mapping import ClaimMapping, OidcConfigError
from trainops_shared.credentials import CredentialsError, read_secret_file

ALLOWED_ID_TOKEN_ALGORITHMS: tuple[str, ...] = (
    "RS256",
    "RS384",
    "RS512",
    "PS256",
    "PS384",
    "PS512",
    "ES256",
    "ES384",
    "ES512",
    "EdDSA",
)
"""Asymmetric signatures only: an HMAC ID token would be keyed with our own client secret, and
``none`` is no signature at all."""

LOOPBACK_HOSTS = frozenset({"127.0.0.1", "localhost", "::1"})


@dataclass(frozen=True, slots=True)
class OidcSettings:
    issuer: str
    client_id: str
    client_secret: str = field(repr=False)
    redirect_url: str
    organisation: str
    scopes: tuple[str, ...] = ("openid", "email", "profile")
    mapping: ClaimMapping = field(default_factory=ClaimMapping)
    algorithms: tuple[str, ...] = ALLOWED_ID_TOKEN_ALGORITHMS
    attempt_ttl_seconds: int = 600
    """How long a started sign-in (state, nonce, PKCE verifier) may wait for its callback."""
    clock_leeway_seconds: int = 60
    max_id_token_age_seconds: int = 600
    """An ID token issued longer ago than this is refused even if it has not expired."""


def _json_map(env: Mapping[str, str], name: str) -> dict[str, str]:
    text = env.get(name, "").strip()
    if not text:
        return {}
    try:
        value = json.loads(text)
    except json.JSONDecodeError as exc:
        raise OidcConfigError(f"{name} is not JSON: {exc.msg}") from None
    if not isinstance(value, dict) or not all(
        isinstance(k, str) and isinstance(v, str) for k, v in value.items()
    ):
        raise OidcConfigError(f'{name} must be a JSON object of strings, e.g. {{"staff": "..."}}')
    return value


def _url(name: str, value: str, *, allow_http: bool) -> str:
    parts = urlsplit(value)
    if parts.scheme not in ("https", "http") or not parts.hostname:
        raise OidcConfigError(f"{name} must be an http(s) URL, got {value!r}")
    if parts.query or parts.fragment:
        raise OidcConfigError(f"{name} must not have a query or fragment")
    if parts.scheme == "http" and not (allow_http or parts.hostname in LOOPBACK_HOSTS):
        raise OidcConfigError(f"{name} must use https outside development")
    return value


def _client_secret(env: Mapping[str, str]) -> str:
    inline = env.get("OIDC_CLIENT_SECRET", "")
    path = env.get("OIDC_CLIENT_SECRET_FILE", "")
    if inline and path:
        raise OidcConfigError("set OIDC_CLIENT_SECRET or OIDC_CLIENT_SECRET_FILE, not both")
    if path:
        try:
            data = read_secret_file(Path(path).expanduser(), "OIDC client secret", forbidden=0o007)
        except CredentialsError as exc:
            raise OidcConfigError(f"OIDC_CLIENT_SECRET_FILE: {exc}") from None
        inline = data.decode("utf-8", errors="replace").strip()
    if not inline:
        raise OidcConfigError("OIDC_ISSUER is set: OIDC_CLIENT_SECRET (or _FILE) is required")
    return inline


def load_oidc_settings(
    env: Mapping[str, str], *, public_url: str, development: bool
) -> OidcSettings | None:
    """The settings, or ``None`` when organisation sign-in is not configured."""
    issuer = env.get("OIDC_ISSUER", "").strip()
    if not issuer:
        return None
    issuer = _url("OIDC_ISSUER", issuer, allow_http=development)
    client_id = env.get("OIDC_CLIENT_ID", "").strip()
    if not client_id:
        raise OidcConfigError("OIDC_ISSUER is set: OIDC_CLIENT_ID is required")
    scopes = tuple(env.get("OIDC_SCOPES", "openid email profile").split())
    if "openid" not in scopes:
        raise OidcConfigError("OIDC_SCOPES must include openid")
    redirect_url = env.get("OIDC_REDIRECT_URL", "").strip() or (
        public_url.rstrip("/") + "/sign-in/oidc/callback"
    )
    redirect_url = _url("OIDC_REDIRECT_URL", redirect_url, allow_http=development)
    organisation = env.get("OIDC_ORGANISATION", "").strip() or (urlsplit(issuer).hostname or "")
    if len(organisation) > 80 or not organisation.isprintable():
        raise OidcConfigError("OIDC_ORGANISATION must be at most 80 printable characters")
    mode = env.get("OIDC_ROLE_MODE", "claims").strip()
    if mode not in ("claims", "admin-assigns"):
        raise OidcConfigError("OIDC_ROLE_MODE must be claims or admin-assigns")
    mapping = ClaimMapping(
        mode="claims" if mode == "claims" else "admin-assigns",
        role_claim=env.get("OIDC_ROLE_CLAIM", "role").strip(),
        region_claim=env.get("OIDC_REGION_CLAIM", "region").strip(),
        role_values=_json_map(env, "OIDC_ROLE_MAP"),
        region_values=_json_map(env, "OIDC_REGION_MAP"),
    )
    return OidcSettings(
        issuer=issuer,
        client_id=client_id,
        client_secret=_client_secret(env),
        redirect_url=redirect_url,
        organisation=organisation,
        scopes=scopes,
        mapping=mapping,
    )
