"""README.md promises two commands; CI must run exactly the one it gives for the tests."""

import re
from pathlib import Path

import pytest

pytestmark = pytest.mark.unit
ROOT = Path(__file__).resolve().parents[1]


def readme_command(after: str) -> str:
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    section = text.split(after, 1)[1]
    match = re.search(r"```sh\n(.+?)\n```", section, re.S)
    assert match, f"no sh block after {after!r} in README.md"
    return match.group(1).strip()


def test_ci_runs_the_readme_test_command():
    command = readme_command("**Run the tests**")
    ci = (ROOT / ".ci" / "run").read_text(encoding="utf-8")
    last = [line for line in ci.splitlines() if line.strip() and not line.startswith("#")][-1]
    assert last == command, f".ci/run ends with {last!r}, README.md gives {command!r}"


def test_readme_run_command_is_the_launcher():
    assert readme_command("**Run the whole system**") == "uv run trainops up"
