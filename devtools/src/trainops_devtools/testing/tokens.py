"""Bearer tokens for tests that build a service in-process.

Tests sign with a key pair made for this test process (never a constant: a key in the source
would be a key to every install) and hand the service its public key through
:data:`TEST_JWT_ENV`, as production hands it ``JWT_PUBLIC_KEY``::

    settings = load_settings("scheduling", {**TEST_JWT_ENV, "TRAINOPS_DATA_DIR": ...})
    headers = bearer("programme_staff")

Service processes started by the harness use their data directory's own key instead
(``ServiceHarness.token``).
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from trainops_shared.auth import issue_token
from trainops_shared.credentials import public_key_pem
from trainops_shared.settings import Settings, load_settings

TEST_SIGNING_KEY = Ed25519PrivateKey.generate()
TEST_PUBLIC_KEY_PEM = public_key_pem(TEST_SIGNING_KEY)
TEST_JWT_ENV: dict[str, str] = {"JWT_PUBLIC_KEY": TEST_PUBLIC_KEY_PEM}
"""The settings entries that make a service accept :func:`token_for`'s tokens."""


def token_for(
    role: str, region: str | None = None, subject: str = "test", ttl_seconds: int = 3600
) -> str:
    """A token of ``role`` (and ``region``) signed with this process's test key."""
    return issue_token(
        key=TEST_SIGNING_KEY, role=role, region=region, subject=subject, ttl_seconds=ttl_seconds
    )


def bearer(role: str, region: str | None = None, subject: str = "test") -> dict[str, str]:
    """``{"Authorization": "Bearer <token_for(role, region)>"}``."""
    return {"Authorization": f"Bearer {token_for(role, region, subject)}"}


def in_process_settings(
    service: str,
    *,
    nats_url: str,
    database_url: str,
    data_dir: Path,
    extra: Mapping[str, str] | None = None,
) -> Settings:
    """Settings of ``service`` built in-process on a test's NATS, database and data directory,
    accepting :func:`token_for`'s tokens."""
    return load_settings(
        service,
        {
            "NATS_URL": nats_url,
            "DATABASE_URL": database_url,
            **TEST_JWT_ENV,
            "TRAINOPS_DATA_DIR": str(data_dir),
            **(extra or {}),
        },
    )
