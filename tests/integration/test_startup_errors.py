"""A misconfigured service stops at start with one line saying what to fix — not a hang."""

from __future__ import annotations

import os
import subprocess
import sys
import time

import pytest

from trainops_shared.testing.ports import free_port

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
            "configuration error: JWT_SECRET is required when TRAINOPS_ENV=production",
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
