"""``trainops users`` on a fresh identity database (a SQLite file; no server involved)."""

from __future__ import annotations

import io
import sqlite3
from pathlib import Path

import pytest

from trainops_cli.main import main

pytestmark = pytest.mark.unit

PASSWORD = "correct horse battery staple"


def users(
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    data_dir: Path,
    *args: str,
    stdin: str = "",
) -> tuple[int, str]:
    monkeypatch.setattr("sys.stdin", io.StringIO(stdin))
    code = main(["users", *args, "--data-dir", str(data_dir)])
    captured = capsys.readouterr()
    return code, captured.out + captured.err


def test_users_add_list_disable_enable_set_role_set_password(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    def run(*args: str, stdin: str = "") -> tuple[int, str]:
        return users(capsys, monkeypatch, tmp_path, *args, stdin=stdin)

    code, out = run("list")
    assert code == 0 and "no accounts yet" in out
    code, out = run("add", "Admin", "--role", "admin", "--password-stdin", stdin=PASSWORD + "\n")
    assert (code, out.strip()) == (0, "account admin added: admin")
    code, out = run("add", "weak", "--role", "reporting", "--password-stdin", stdin="short\n")
    assert code == 1 and "at least 12 characters" in out and "short" not in out.split(":")[0]
    code, out = run("add", "c1", "--role", "coordinator", "--password-stdin", stdin=PASSWORD)
    assert code == 1 and "needs a region" in out
    code, out = run("add", "admin", "--role", "admin", "--password-stdin", stdin=PASSWORD)
    assert code == 1 and "exists already" in out
    code, _ = run(
        "add",
        "aigerim",
        "--role",
        "coordinator",
        "--region",
        "aktobe",
        "--password-stdin",
        stdin=PASSWORD,
    )
    assert code == 0
    assert run("disable", "aigerim")[1].strip() == "account aigerim disabled"
    assert run("set-role", "aigerim", "--role", "reporting")[1].strip() == (
        "account aigerim is now reporting"
    )
    code, out = run("set-password", "aigerim", "--password-stdin", stdin="another long phrase\n")
    assert code == 0 and "another long phrase" not in out
    code, out = run("enable", "nobody")
    assert code == 1 and "no account 'nobody'" in out
    code, out = run("list")
    lines = out.splitlines()
    assert lines[1].split()[:4] == ["admin", "admin", "-", "active"]
    assert lines[2].split()[:4] == ["aigerim", "reporting", "-", "disabled"]

    with sqlite3.connect(tmp_path / "identity.db") as db:
        hashes = [row[0] for row in db.execute("SELECT password_hash FROM id_accounts")]
        actions = [row[0] for row in db.execute("SELECT action FROM audit_log ORDER BY id")]
        actors = {row[0] for row in db.execute("SELECT actor FROM audit_log")}
    assert all(h.startswith("$argon2id$") for h in hashes)
    assert actions == [
        "identity.account_added",
        "identity.account_added",
        "identity.account_disabled",
        "identity.account_role_set",
        "identity.password_set",
    ]
    assert all(actor.startswith("cli.") for actor in actors)
