"""Settings only the identity service reads (the shared ones come from ``load_settings``)."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import timedelta

from trainops_identity.domain.redirects import origin_of
from trainops_identity.domain.sessions import SessionPolicy
from trainops_shared.settings import DEFAULT_PORTS, Settings, SettingsError


@dataclass(frozen=True)
class IdentityConfig:
    signing_key_file: str | None
    service_origins: tuple[str, ...]
    """Where a sign-in may send the browser back to (``TRAINOPS_SERVICE_ORIGINS``)."""
    policy: SessionPolicy = field(default_factory=SessionPolicy)
    cookie_secure: bool = False


def _minutes(env: Mapping[str, str], name: str, default: int, high: int) -> timedelta:
    raw = env.get(name) or ""
    if not raw:
        return timedelta(minutes=default)
    try:
        value = int(raw)
    except ValueError:
        raise SettingsError(f"{name}={raw!r} is not a whole number of minutes") from None
    if not 1 <= value <= high:
        raise SettingsError(f"{name}={value} is out of range 1..{high}")
    return timedelta(minutes=value)


def load_identity_config(
    settings: Settings, env: Mapping[str, str] | None = None
) -> IdentityConfig:
    env = os.environ if env is None else env
    listed = [o.strip() for o in (env.get("TRAINOPS_SERVICE_ORIGINS") or "").split(",") if o]
    if not listed:
        # Development default: every service on this host at its default port.
        host = settings.host if settings.host not in ("0.0.0.0", "::") else "127.0.0.1"
        listed = [f"http://{host}:{port}" for port in DEFAULT_PORTS.values()]
    origins = []
    for item in [*listed, settings.public_url]:
        origin = origin_of(item)
        if origin is None:
            raise SettingsError(f"TRAINOPS_SERVICE_ORIGINS: {item!r} is not an http(s) origin")
        origins.append(origin)
    policy = SessionPolicy(
        idle=_minutes(env, "SESSION_IDLE_MINUTES", 30, 24 * 60),
        absolute=_minutes(env, "SESSION_ABSOLUTE_MINUTES", 12 * 60, 30 * 24 * 60),
        cookie_token=_minutes(env, "SESSION_TOKEN_MINUTES", 5, 60),
    )
    return IdentityConfig(
        signing_key_file=env.get("JWT_SIGNING_KEY_FILE") or None,
        service_origins=tuple(dict.fromkeys(origins)),
        policy=policy,
        cookie_secure=settings.cookie_secure,
    )
