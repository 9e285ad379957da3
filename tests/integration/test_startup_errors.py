"""A misconfigured service stops at start with one line saying what to fix — not a hang."""

from __future__ import annotations

import os
import subprocess
import sys
import time

import pytest

from trainops_devtools.testing.ports import free_port

pytestmark = pytest.mark.integration


def start(service: str, env: dict[str, str], tmp_path) -> tuple[int, str, float]:
    full = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("TRAINOPS_", "NATS_", "DATABASE_", "JWT_"))
    }
    full.update({"TRAINOPS_DATA_DIR": str(tmp_path), "TRAINOPS_PORT": str(free_port())})
    full.update(env)
    began = time.monotonic()
    proc = subprocess.run(
        [sys.executable, "-m", f"trainops_{service}"],
        env=full,
        capture_output=True,
        text=True,
        timeout=60,
    )
    return proc.returncode, proc.stderr.strip(), time.monotonic() - began


@pytest.mark.parametrize(
    ("service", "env", "expected"),
    [
        (
            "scheduling",
            {"DATABASE_URL": "mysql://root@localhost/trainops"},
            "configuration error: DATABASE_URL='mysql://root@localhost/trainops' is not supported",
        ),
        (
            "registration",
            {"TRAINOPS_ENV": "production"},
            "configuration error: JWT_PUBLIC_KEY_FILE (or JWT_PUBLIC_KEY) is required when "
            "TRAINOPS_ENV=production",
        ),
        (
            "scheduling",
            {"TRAINOPS_ENV": "production", "JWT_SECRET": "x" * 64},
            "configuration error: JWT_SECRET is not used",
        ),
        (
            "reporting",
            {"NATS_URL": "nats://127.0.0.1:{port}", "NATS_CONNECT_TIMEOUT_MS": "1000"},
            "cannot start: cannot reach NATS at nats://127.0.0.1:",
        ),
        (
            "feedback",
            {"TRAINOPS_PORT": "not-a-port"},
            "configuration error: TRAINOPS_PORT='not-a-port' is not an integer",
        ),
    ],
)
def test_bad_settings_stop_the_service_with_one_clear_line(service, env, expected, tmp_path):
    env = {k: v.format(port=free_port()) for k, v in env.items()}
    code, stderr, took = start(service, env, tmp_path)
    assert code != 0
    lines = [line for line in stderr.splitlines() if line.strip()]
    assert len(lines) == 1, f"expected one line on stderr, got:\n{stderr}"
    assert expected in lines[0]
    assert took < 30, f"start-up failure took {took:.1f}s: it must fail fast"


PASSWORD = "s3cret-Pa55word-never-shown"


@pytest.mark.parametrize(
    "nats_url",
    [
        "nats://registration:" + PASSWORD + "@127.0.0.1:{port}",  # nothing listens there
        "http://registration:" + PASSWORD + "@127.0.0.1:{port}",  # not a NATS URL
        "nats://127.0.0.1:{port},nats://registration:" + PASSWORD + "@127.0.0.1:{port}",
    ],
)
def test_a_password_in_nats_url_never_appears_in_a_failed_start(nats_url, tmp_path):
    env = {"NATS_URL": nats_url.format(port=free_port()), "NATS_CONNECT_TIMEOUT_MS": "1000"}
    code, stderr, _ = start("registration", env, tmp_path)
    assert code != 0 and stderr
    assert PASSWORD not in stderr
    assert "registration:***@" in stderr


def test_an_authenticated_nats_refuses_a_service_without_or_with_wrong_credentials(
    fresh_nats_server, tmp_path
):
    server = fresh_nats_server
    code, stderr, _ = start("reporting", {"NATS_URL": server.address}, tmp_path / "a")
    assert code == 3
    assert "refused a client without credentials" in stderr
    wrong = server.address.replace("nats://", f"nats://reporting:{PASSWORD}@")
    code, stderr, _ = start("reporting", {"NATS_URL": wrong}, tmp_path / "b")
    assert code == 3
    assert "refused the credentials of user 'reporting'" in stderr
    assert PASSWORD not in stderr
