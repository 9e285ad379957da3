"""Fixtures of the identity tests: the service in-process on a real NATS and database."""

from __future__ import annotations

import os
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import pytest
from litestar import Litestar
from litestar.testing import AsyncTestClient

from trainops_devtools.testing.tokens import TEST_SIGNING_KEY, in_process_settings
from trainops_identity.adapters.passwords import Passwords
from trainops_identity.app import build_spec
from trainops_shared.credentials import private_key_pem
from trainops_shared.service import create_app
from trainops_shared.settings import Settings

FAST_PASSWORDS = Passwords(time_cost=1, memory_cost=8 * 1024)
"""Argon2id with small parameters: the tests hash and verify hundreds of times."""
BASE_URL = "http://testserver.local"
OTHER_SERVICE = "http://127.0.0.1:18001"


def signing_key_file(folder: Path) -> Path:
    path = folder / "identity-signing.key"
    if not path.exists():
        path.write_text(private_key_pem(TEST_SIGNING_KEY))
        os.chmod(path, 0o600)
    return path


def identity_env(folder: Path, extra: dict[str, str] | None = None) -> dict[str, str]:
    return {
        "JWT_SIGNING_KEY_FILE": str(signing_key_file(folder)),
        "TRAINOPS_PUBLIC_URL": BASE_URL,
        "TRAINOPS_IDENTITY_URL": BASE_URL,
        "TRAINOPS_SERVICE_ORIGINS": f"{BASE_URL},{OTHER_SERVICE}",
        **(extra or {}),
    }


def identity_settings(
    nats_url: str, database_url: str, folder: Path, env: dict[str, str]
) -> Settings:
    return in_process_settings(
        "identity", nats_url=nats_url, database_url=database_url, data_dir=folder, extra=env
    )


@pytest.fixture
def open_identity(nats_url: str, database_url: str, tmp_path: Path) -> Callable[..., Any]:
    """``async with open_identity(**env) as client``: the app on this test's database."""

    @asynccontextmanager
    async def factory(**extra: str) -> AsyncIterator[AsyncTestClient[Litestar]]:
        env = identity_env(tmp_path, extra)
        settings = identity_settings(nats_url, database_url, tmp_path, env)
        app = create_app(build_spec(settings, FAST_PASSWORDS, env), settings)
        async with AsyncTestClient(app, base_url=BASE_URL) as client:
            yield client

    return factory
