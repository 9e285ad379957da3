"""Free TCP ports for servers started by tests and by ``trainops up``.

The port is found by binding to port 0 and closing the socket, so another process could take it
before our server binds: callers that pick a port this way retry once with a new one when the
server reports the address in use (see :class:`trainops_devtools.nats_server.NatsServer`).
"""

from __future__ import annotations

import socket

RESERVED_PORTS = frozenset({4222, 5432, 8001, 8002, 8003, 8004, 8005, 8222})
"""Ports of the machine's own NATS, PostgreSQL and the services' fixed ports: never handed out."""


def free_port(host: str = "127.0.0.1") -> int:
    """Return a TCP port on ``host`` that nothing listens on right now."""
    for _ in range(50):
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
            sock.bind((host, 0))
            port: int = sock.getsockname()[1]
        if port not in RESERVED_PORTS:
            return port
    raise RuntimeError(f"no free TCP port found on {host}")


def port_is_free(port: int, host: str = "127.0.0.1") -> bool:
    """True when a listening socket could be bound to ``host:port`` now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((host, port))
        except OSError:
            return False
    return True


def port_accepts(host: str, port: int, timeout: float = 0.5) -> bool:
    """True when something accepts a TCP connection on ``host:port``."""
    try:
        with socket.create_connection((host, port), timeout=timeout):
            return True
    except OSError:
        return False
