"""A small HTTP/1.1 keep-alive load generator on raw asyncio sockets, run as its own process.

Why not httpx: its per-request overhead caps a Python client at a few thousand requests per
second, below what a bare Litestar endpoint serves, so the client would be what is measured.
This client writes pre-built request bytes on persistent connections and parses only the status
line and ``Content-Length``; on uvloop one process drives well over 15k req/s at a bare endpoint.

Run ``python -m bench.loadgen`` with a JSON spec on stdin; it prints one JSON result on stdout.
Modes:

* ``closed``: ``connections`` workers each send the next request as soon as the previous answer
  arrives, for ``duration`` seconds after ``warmup`` (sustained throughput and latency).
* ``open``: requests are *scheduled* at ``rate`` per second regardless of answers (latency is
  measured from the scheduled time, so a stall is not hidden); optionally a poller repeatedly
  GETs ``poll.path`` and records a JSON field (event → report latency).
* ``sequential``: one connection sends ``paths`` one after another (query latency).

Bodies come from ``body`` with ``{n}`` replaced by a per-request counter (unique participants)
and each key of ``choices`` (e.g. ``{s}``) by its list's item ``n % len``.
"""

from __future__ import annotations

import asyncio
import json
import sys
import time
from collections.abc import Callable
from typing import Any

import msgspec


def percentiles(values_ms: list[float]) -> dict[str, float | None]:
    """p50/p90/p95/p99/max/mean of a latency sample in milliseconds (nearest-rank)."""
    if not values_ms:
        return {"p50": None, "p90": None, "p95": None, "p99": None, "max": None, "mean": None}
    ordered = sorted(values_ms)
    n = len(ordered)

    def rank(p: float) -> float:
        return round(ordered[min(n - 1, max(0, int(p * n + 0.5) - 1))], 3)

    return {
        "p50": rank(0.50),
        "p90": rank(0.90),
        "p95": rank(0.95),
        "p99": rank(0.99),
        "max": round(ordered[-1], 3),
        "mean": round(sum(ordered) / n, 3),
    }


class HttpConnection(asyncio.Protocol):
    """One keep-alive connection; one request in flight at a time."""

    def __init__(self) -> None:
        self.transport: asyncio.Transport | None = None
        self._buf = bytearray()
        self._waiter: asyncio.Future[tuple[int, bytes]] | None = None
        self._lost: BaseException | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        # uvloop's TCPTransport is not an asyncio.Transport subclass, but has its methods.
        self.transport = transport  # type: ignore[assignment]  # see above

    def connection_lost(self, exc: BaseException | None) -> None:
        self._lost = exc or ConnectionError("connection closed by server")
        if self._waiter is not None and not self._waiter.done():
            self._waiter.set_exception(self._lost)

    def request(self, data: bytes) -> asyncio.Future[tuple[int, bytes]]:
        loop = asyncio.get_running_loop()
        waiter: asyncio.Future[tuple[int, bytes]] = loop.create_future()
        if self._lost is not None or self.transport is None:
            waiter.set_exception(self._lost or ConnectionError("not connected"))
            return waiter
        self._waiter = waiter
        self.transport.write(data)
        return waiter

    def data_received(self, data: bytes) -> None:
        self._buf += data
        while True:
            end = self._buf.find(b"\r\n\r\n")
            if end < 0:
                return
            head = bytes(self._buf[:end]).lower()
            status = int(head[9:12])
            start = end + 4
            marker = head.find(b"content-length:")
            if marker >= 0:
                line_end = head.find(b"\r\n", marker)
                length = int(head[marker + 15 : line_end if line_end >= 0 else len(head)])
                if len(self._buf) < start + length:
                    return
                body = bytes(self._buf[start : start + length])
                del self._buf[: start + length]
            elif b"transfer-encoding: chunked" in head:
                tail = self._buf.find(b"\r\n0\r\n\r\n", start)
                if tail < 0 and not self._buf.startswith(b"0\r\n\r\n", start):
                    return
                stop = (tail + 7) if tail >= 0 else start + 5
                body = _dechunk(bytes(self._buf[start:stop]))
                del self._buf[:stop]
            else:
                body = b""
                del self._buf[:start]
            waiter, self._waiter = self._waiter, None
            if waiter is not None and not waiter.done():
                waiter.set_result((status, body))


def _dechunk(raw: bytes) -> bytes:
    out = bytearray()
    pos = 0
    while True:
        eol = raw.find(b"\r\n", pos)
        size = int(raw[pos:eol].split(b";")[0], 16)
        if size == 0:
            return bytes(out)
        out += raw[eol + 2 : eol + 2 + size]
        pos = eol + 2 + size + 2


async def connect(host: str, port: int) -> HttpConnection:
    loop = asyncio.get_running_loop()
    _, proto = await loop.create_connection(HttpConnection, host, port)
    return proto


def request_builder(spec: dict[str, Any]) -> Callable[[int], bytes]:
    """``n -> request bytes`` for the spec's method, path, headers and body template."""
    method = spec.get("method", "GET")
    path = spec["path"]
    headers = {"Host": f"{spec['host']}:{spec['port']}", **spec.get("headers", {})}
    head_common = "".join(f"{k}: {v}\r\n" for k, v in headers.items())
    template: str | None = spec.get("body")
    if template is None:
        fixed = f"{method} {path} HTTP/1.1\r\n{head_common}\r\n".encode()
        return lambda _n: fixed
    prefix = f"{method} {path} HTTP/1.1\r\n{head_common}Content-Type: application/json\r\n"
    choices: list[tuple[str, list[str]]] = list(spec.get("choices", {}).items())

    def build(n: int) -> bytes:
        text = template.replace("{n}", str(n))
        for placeholder, values in choices:
            text = text.replace(placeholder, values[n % len(values)])
        body = text.encode()
        return f"{prefix}Content-Length: {len(body)}\r\n\r\n".encode() + body

    return build


async def run_closed(spec: dict[str, Any]) -> dict[str, Any]:
    build = request_builder(spec)
    conns = [await connect(spec["host"], spec["port"]) for _ in range(spec["connections"])]
    warmup = float(spec.get("warmup", 1.0))
    duration = float(spec["duration"])
    counter = iter(range(10**12))
    latencies: list[float] = []
    statuses: dict[int, int] = {}
    failures = 0
    t_start = time.perf_counter()
    measure_from = t_start + warmup
    stop_at = measure_from + duration

    async def worker(conn: HttpConnection) -> None:
        nonlocal failures
        perf = time.perf_counter
        while True:
            t0 = perf()
            if t0 >= stop_at:
                return
            try:
                status, _ = await conn.request(build(next(counter)))
            except (ConnectionError, OSError):
                failures += 1
                if failures > 1000:
                    raise RuntimeError("more than 1000 connection failures: server down?") from None
                conn = await connect(spec["host"], spec["port"])
                continue
            t1 = perf()
            if t0 >= measure_from:
                latencies.append((t1 - t0) * 1000.0)
                statuses[status] = statuses.get(status, 0) + 1

    await asyncio.gather(*(worker(c) for c in conns))
    elapsed = time.perf_counter() - measure_from
    for c in conns:
        if c.transport is not None:
            c.transport.close()
    ok = sum(v for k, v in statuses.items() if 200 <= k < 300)
    return {
        "mode": "closed",
        "connections": spec["connections"],
        "duration_s": round(elapsed, 3),
        "requests": len(latencies),
        "ok": ok,
        "errors": len(latencies) - ok + failures,
        "status_counts": {str(k): v for k, v in sorted(statuses.items())},
        "req_per_s": round(ok / elapsed, 1) if elapsed > 0 else 0.0,
        "latency_ms": percentiles(latencies),
        "sent_total": next(counter),
    }


async def run_open(spec: dict[str, Any]) -> dict[str, Any]:
    """Paced requests; with ``poll``, also the time until a report counts each one."""
    build = request_builder(spec)
    rate = float(spec["rate"])
    duration = float(spec["duration"])
    total = int(rate * duration)
    idle: list[HttpConnection] = [
        await connect(spec["host"], spec["port"]) for _ in range(spec.get("connections", 16))
    ]
    latencies: list[float] = []
    done_at: list[float] = []
    statuses: dict[int, int] = {}
    failures = 0
    poll = spec.get("poll")
    polls: list[tuple[float, float, int]] = []
    stop_polling = asyncio.Event()

    async def poller() -> None:
        assert poll is not None
        pspec = {**spec, **poll, "method": "GET", "body": None}
        req = request_builder(pspec)(0)
        conn = await connect(spec["host"], poll["port"])
        field = poll["field"]
        interval = float(poll.get("interval_s", 0.0))
        while not stop_polling.is_set():
            t0 = time.perf_counter()
            status, body = await conn.request(req)
            t1 = time.perf_counter()
            if status == 200:
                polls.append((t0, t1, int(msgspec.json.decode(body)[field])))
            if interval:
                await asyncio.sleep(interval)

    async def one(n: int, scheduled: float) -> None:
        nonlocal failures
        conn = idle.pop() if idle else await connect(spec["host"], spec["port"])
        try:
            status, _ = await conn.request(build(n))
        except (ConnectionError, OSError):
            failures += 1
            return
        t1 = time.perf_counter()
        idle.append(conn)
        statuses[status] = statuses.get(status, 0) + 1
        latencies.append((t1 - scheduled) * 1000.0)
        if 200 <= status < 300:
            done_at.append(t1)

    poll_task = asyncio.create_task(poller()) if poll else None
    if poll_task is not None:
        while not polls:  # noqa: ASYNC110 - waits for the first poll answer
            await asyncio.sleep(0.005)
    baseline = polls[-1][2] if polls else 0
    t0 = time.perf_counter()
    tasks = []
    for i in range(total):
        scheduled = t0 + i / rate
        delay = scheduled - time.perf_counter()
        if delay > 0:
            await asyncio.sleep(delay)
        tasks.append(asyncio.create_task(one(i, scheduled)))
    await asyncio.gather(*tasks)
    send_elapsed = time.perf_counter() - t0
    result: dict[str, Any] = {
        "mode": "open",
        "target_rate_per_s": rate,
        "achieved_rate_per_s": round(len(done_at) / send_elapsed, 1) if send_elapsed else 0.0,
        "requests": total,
        "ok": len(done_at),
        "errors": total - len(done_at),
        "status_counts": {str(k): v for k, v in sorted(statuses.items())},
        "write_latency_ms": percentiles(latencies),
    }
    if poll_task is not None and poll is not None:
        deadline = time.perf_counter() + float(poll.get("drain_timeout_s", 30.0))
        while time.perf_counter() < deadline and (polls[-1][2] - baseline) < len(done_at):  # noqa: ASYNC110 - polls a counter
            await asyncio.sleep(0.01)
        stop_polling.set()
        await poll_task
        result.update(_visibility(sorted(done_at), polls, baseline))
    return result


def _visibility(
    done_at: list[float], polls: list[tuple[float, float, int]], baseline: int
) -> dict[str, Any]:
    """For the k-th 201 (in completion order), the first poll answered after it that counts at
    least k new items: its answer time minus the 201's time. Assumes the projection applies
    registrations in about the order they were acknowledged (one stream, one consumer)."""
    lags: list[float] = []
    unseen = 0
    j = 0
    for k, t_done in enumerate(done_at, start=1):
        while j < len(polls) and (polls[j][1] < t_done or polls[j][2] - baseline < k):
            j += 1
        if j == len(polls):
            unseen = len(done_at) - k + 1
            break
        lags.append((polls[j][1] - t_done) * 1000.0)
    poll_times = [(b - a) * 1000.0 for a, b, _ in polls]
    return {
        "visible_latency_ms": percentiles(lags),
        "never_visible": unseen,
        "polls": len(polls),
        "poll_round_trip_ms": percentiles(poll_times),
    }


async def run_sequential(spec: dict[str, Any]) -> dict[str, Any]:
    conn = await connect(spec["host"], spec["port"])
    results = []
    for path in spec["paths"]:
        req = request_builder({**spec, "path": path, "method": "GET", "body": None})(0)
        t0 = time.perf_counter()
        status, body = await conn.request(req)
        results.append(
            {
                "path": path,
                "status": status,
                "ms": (time.perf_counter() - t0) * 1000.0,
                "bytes": len(body),
            }
        )
    return {"mode": "sequential", "results": results}


async def main_async(spec: dict[str, Any]) -> dict[str, Any]:
    mode = spec["mode"]
    if mode == "closed":
        return await run_closed(spec)
    if mode == "open":
        return await run_open(spec)
    if mode == "sequential":
        return await run_sequential(spec)
    raise ValueError(f"unknown mode {mode!r}")


def main() -> None:
    spec = json.loads(sys.stdin.read())
    try:
        import uvloop

        runner: Callable[..., Any] = uvloop.run
    except ImportError:
        runner = asyncio.run
    result = runner(main_async(spec))
    sys.stdout.write(json.dumps(result) + "\n")


if __name__ == "__main__":
    main()
