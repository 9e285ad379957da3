"""The identity service's Ed25519 private key: the only place tokens are signed.

Production reads it from ``JWT_SIGNING_KEY_FILE`` (0600 or 0640). A development install uses its
data directory's generated pair, as ``trainops token`` does. At start the key must match the
public key every service verifies with (``JWT_PUBLIC_KEY``), else tokens would be refused
everywhere: the service refuses to start instead.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from trainops_shared.auth import issue_token
from trainops_shared.credentials import (
    CredentialsError,
    ensure_signing_key,
    load_signing_key,
    parse_public_key,
    public_key_pem,
)
from trainops_shared.settings import Settings, SettingsError


@dataclass(frozen=True)
class TokenSigner:
    key: Ed25519PrivateKey
    issuer: str
    audience: str

    def sign(
        self,
        *,
        subject: str,
        role: str,
        region: str | None,
        now: datetime,
        expires_at: datetime,
        session_id: str | None = None,
        token_id: str | None = None,
        csrf: str | None = None,
    ) -> str:
        return issue_token(
            key=self.key,
            role=role,
            region=region,
            subject=subject,
            issuer=self.issuer,
            audience=self.audience,
            ttl_seconds=max(1, int((expires_at - now).total_seconds())),
            session_id=session_id,
            token_id=token_id,
            csrf=csrf,
        )


def load_signer(settings: Settings, key_file: str | None) -> TokenSigner:
    try:
        if key_file:
            key = load_signing_key(Path(key_file).expanduser())
        elif settings.env == "production":
            raise SettingsError(
                "JWT_SIGNING_KEY_FILE is required for the identity service when "
                "TRAINOPS_ENV=production: the Ed25519 private key (PEM) of JWT_PUBLIC_KEY"
            )
        else:
            key = load_signing_key(ensure_signing_key(settings.data_dir))
    except CredentialsError as exc:
        raise SettingsError(f"JWT_SIGNING_KEY_FILE: {exc}") from None
    expected = parse_public_key(settings.jwt_public_key)
    if public_key_pem(expected) != public_key_pem(key):
        raise SettingsError(
            "the identity signing key does not match JWT_PUBLIC_KEY: services would refuse "
            "every token it signs"
        )
    return TokenSigner(key, settings.jwt_issuer, settings.jwt_audience)
