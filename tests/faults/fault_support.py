"""Running ``trainops up`` as a process in a test, and finding its children."""

from __future__ import annotations

import random
import subprocess
from dataclasses import dataclass, field
from pathlib import Path

import httpx

from trainops_shared.testing.ports import port_is_free


def free_port_block(count: int, host: str = "127.0.0.1") -> int:
    """The first of ``count`` consecutive free ports (``trainops up`` numbers services from
    ``--base-port``), away from the defaults and the ephemeral range's busy start."""
    rng = random.Random()
    for _ in range(200):
        base = rng.randrange(20_000, 30_000)
        if all(port_is_free(base + i, host) for i in range(count)):
            return base
    raise RuntimeError(f"no block of {count} free ports found")


def _children(pid: int) -> list[int]:
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        # Field 4, after the parenthesised command name (which may hold spaces).
        if int(stat.rsplit(")", 1)[1].split()[1]) == pid:
            found.append(int(entry.name))
    return found


def _cmdline(pid: int) -> list[str]:
    try:
        raw = Path(f"/proc/{pid}/cmdline").read_bytes()
    except OSError:
        return []
    return [part.decode() for part in raw.split(b"\0") if part]


@dataclass
class UpProcess:
    """A running ``trainops up`` and where its parts are."""

    process: subprocess.Popen[bytes]
    output: Path
    data_dir: Path
    base_port: int
    nats_port: int
    urls: dict[str, str] = field(default_factory=dict)

    def text(self) -> str:
        return self.output.read_text(errors="replace")

    def child_pid(self, name: str) -> int:
        """The pid of service ``name`` (``python -m trainops_<name>``) or of nats-server."""
        for pid in _children(self.process.pid):
            command = _cmdline(pid)
            if name == "nats" and command and command[0].endswith("nats-server"):
                return pid
            if f"trainops_{name}" in command:
                return pid
        raise AssertionError(f"no child process {name} of trainops up:\n{self.text()}")

    def ready(self, name: str, client: httpx.Client) -> bool:
        try:
            return client.get(f"{self.urls[name]}/ready", timeout=2.0).status_code == 200
        except httpx.HTTPError:
            return False

    def all_ready(self) -> bool:
        with httpx.Client() as client:
            return all(self.ready(name, client) for name in self.urls)
