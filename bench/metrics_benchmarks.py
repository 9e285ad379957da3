"""What observability costs on the write path: ``POST /registrations`` with metrics off, on (the
default), and on with traces exported, against the bare Litestar POST of the same run.

Each variant is its own registration process on its own nats-server (one durable consumer name
per service: two registrations on one server would split scheduling's events between them). The
variants are measured in interleaved rounds (off, on, traced, off, on, traced, …) so that a drift
of the machine during the run (another process, thermal, page cache) hits all of them alike; the
figure of a variant is the median of its rounds. The traced variant exports by OTLP/HTTP to a
local sink that answers every export with 200, so the figure holds span creation, the outbox
``traceparent`` column, the relay's PRODUCER spans and the batch exporter's thread, but not a
collector's own cost.
"""

from __future__ import annotations

import asyncio
import os
import statistics
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

from opentelemetry.sdk.trace.export import BatchSpanProcessor, SpanExporter, SpanExportResult

from bench.common import DEPLOY_SETTINGS, Stack, loadgen, ratio, token, wait_port
from bench.http_benchmarks import CONNECTIONS, _feed_sessions, _post_spec
from bench.sizes import Sizes
from bench.workload import bench_sessions
from trainops_devtools.testing.ports import free_port
from trainops_shared.metrics import ServiceMetrics
from trainops_shared.tracing import Tracing

ROUNDS = {"smoke": 1, "quick": 2, "full": 6}
"""Rounds of (off, on, traced); a full round measures each variant for half the write path's
duration, so that six rounds take about as long as three whole-length ones but give six paired
ratios: on a shared machine, adjacent short windows compare better than distant long ones."""
VARIANTS = ("metrics_off", "metrics_on", "metrics_on_traced")


class _OtlpSink(BaseHTTPRequestHandler):
    """Accepts OTLP/HTTP exports and throws them away (an empty body is a valid empty
    ``ExportTraceServiceResponse``); counts the exports so the JSON can show traces flowed."""

    exports = 0
    lock = threading.Lock()

    def do_POST(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        self.rfile.read(length)
        with _OtlpSink.lock:
            _OtlpSink.exports += 1
        self.send_response(200)
        self.send_header("Content-Type", "application/x-protobuf")
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, format: str, *args: Any) -> None:
        return


def _summary(runs: list[dict[str, Any]], base_rps: float | None) -> dict[str, Any]:
    rates = [r["req_per_s"] for r in runs]
    p50 = [r["latency_ms"]["p50"] for r in runs if r["latency_ms"]["p50"] is not None]
    p99 = [r["latency_ms"]["p99"] for r in runs if r["latency_ms"]["p99"] is not None]
    median = statistics.median(rates)
    return {
        "req_per_s": round(median, 1),
        "req_per_s_rounds": rates,
        "latency_ms_p50": round(statistics.median(p50), 2) if p50 else None,
        "latency_ms_p99": round(statistics.median(p99), 2) if p99 else None,
        "errors": sum(r["errors"] for r in runs),
        "ratio_to_baseline": ratio(median, base_rps),
    }


class _Discard(SpanExporter):
    def export(self, spans: Any) -> SpanExportResult:
        return SpanExportResult.SUCCESS


async def _asgi_cost(calls: int) -> dict[str, float]:
    """Microseconds the metrics and tracing middlewares add to one request, in-process on a
    trivial ASGI app (best of five runs each): the load-independent part of the figure."""

    async def app(scope: Any, receive: Any, send: Any) -> None:
        await send({"type": "http.response.start", "status": 201, "headers": []})
        await send({"type": "http.response.body", "body": b"{}"})

    async def receive() -> dict[str, Any]:
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(message: Any) -> None:
        return None

    scope = {"type": "http", "method": "POST", "path_template": "/registrations", "headers": []}
    # Batched export, as with an OTLP endpoint: the request pays span creation and the queue.
    tracing = Tracing("bench", BatchSpanProcessor(_Discard()))
    stacks = {
        "bare": app,
        "metrics": ServiceMetrics("bench").middleware(app),
        "tracing": tracing.middleware(app),
    }

    async def best(handler: Any) -> float:
        times = []
        for _ in range(5):
            t0 = time.perf_counter()
            for _ in range(calls):
                await handler(scope, receive, send)
            times.append((time.perf_counter() - t0) / calls * 1e6)
        return min(times)

    cost = {name: await best(handler) for name, handler in stacks.items()}
    tracing.shutdown()
    return {
        "metrics_middleware_us": round(cost["metrics"] - cost["bare"], 2),
        "tracing_middleware_us": round(cost["tracing"] - cost["bare"], 2),
        "calls": calls,
    }


def metrics_cost(workdir: Path, sizes: Sizes) -> dict[str, Any]:
    rounds = ROUNDS.get(sizes.mode, 2)
    duration = sizes.write_duration_s / 2 if rounds > 3 else sizes.write_duration_s
    warmup = sizes.write_warmup_s
    stack = Stack(workdir)
    sink = ThreadingHTTPServer(("127.0.0.1", 0), _OtlpSink)
    sink_thread = threading.Thread(target=sink.serve_forever, name="otlp-sink", daemon=True)
    sink_thread.start()
    endpoint = f"http://127.0.0.1:{sink.server_address[1]}"
    extra: dict[str, dict[str, str]] = {
        "metrics_off": {"TRAINOPS_METRICS": "off"},
        "metrics_on": {"TRAINOPS_METRICS": "on"},
        "metrics_on_traced": {
            "TRAINOPS_METRICS": "on",
            "OTEL_EXPORTER_OTLP_ENDPOINT": endpoint,
            "OTEL_BSP_SCHEDULE_DELAY": "1000",
        },
    }
    result: dict[str, Any] = {
        "what": (
            "POST /registrations, closed loop, keep-alive, unique participant per request, SQLite "
            "synchronous=FULL: registration with TRAINOPS_METRICS=off, with metrics (default), "
            "and with metrics and OTLP trace export, each vs the bare Litestar POST"
        ),
        "load_generator": "bench.loadgen (asyncio raw-socket HTTP/1.1, separate process)",
        "connections": CONNECTIONS,
        "duration_s": duration,
        "warmup_s": warmup,
        "rounds": rounds,
        "server": "uvicorn, 1 worker (uvloop + httptools), access log off",
        "nats_settings": DEPLOY_SETTINGS,
        "method": (
            "every process started in parallel, then measured one at a time in interleaved "
            "rounds (off, on, traced, ...), the others idle; a variant's figure is the median "
            "of its rounds, a ratio the median of the per-round ratios; traces go to a local "
            "OTLP/HTTP sink answering 200"
        ),
        "units": {"req_per_s": "requests/s", "latency_ms": "ms"},
    }
    result["per_request_in_process"] = asyncio.run(_asgi_cost(20_000))
    result["load_average_before"] = [round(x, 2) for x in os.getloadavg()]
    try:
        t0 = time.perf_counter()
        bare_port = free_port()
        bare = stack.popen([sys.executable, "-m", "bench.bare_app", str(bare_port)], "bare_app.log")
        services = {}
        nats = {}
        for variant in VARIANTS:
            nats[variant] = stack.nats(f"metrics-{variant}")
            services[variant] = stack.service(
                "registration",
                nats_url=nats[variant].url,
                tag=f"-{variant}",
                extra=extra[variant],
                wait=False,
            )
        wait_port(bare_port, timeout=60)
        stack.ready(list(services.values()))
        sessions = {
            variant: _feed_sessions(
                nats[variant].url, services[variant].url, sizes.write_sessions, variant
            )
            for variant in VARIANTS
        }
        result["setup_s"] = round(time.perf_counter() - t0, 2)

        dummy = [str(e.session_id) for e in bench_sessions(sizes.write_sessions)]
        try:
            result["baseline_bare_litestar"] = loadgen(
                _post_spec(bare_port, None, dummy, duration, warmup)
            )
        finally:
            bare.terminate()
            bare.wait(10)
        base_rps = result["baseline_bare_litestar"]["req_per_s"]

        runs: dict[str, list[dict[str, Any]]] = {variant: [] for variant in VARIANTS}
        auth = token()
        for _ in range(rounds):
            for variant in VARIANTS:
                spec = _post_spec(services[variant].port, auth, sessions[variant], duration, warmup)
                runs[variant].append(loadgen(spec))
        for variant in VARIANTS:
            result[variant] = _summary(runs[variant], base_rps)
        # The median of per-round ratios: each pairs windows measured seconds apart.
        for variant, key in (
            ("metrics_on", "metrics_on_vs_off"),
            ("metrics_on_traced", "traced_vs_off"),
        ):
            paired = [
                ratio(run["req_per_s"], off["req_per_s"])
                for run, off in zip(runs[variant], runs["metrics_off"], strict=True)
            ]
            valid = [r for r in paired if r is not None]
            result[key] = round(statistics.median(valid), 3) if valid else None
            result[f"{key}_rounds"] = paired
        result["otlp_exports_received"] = _OtlpSink.exports
        result["load_average_after"] = [round(x, 2) for x in os.getloadavg()]
        metrics_text = _scrape(services["metrics_on"].url)
        result["metrics_on_series"] = sum(
            1 for line in metrics_text.splitlines() if line and not line.startswith("#")
        )
    finally:
        stack.close()
        sink.shutdown()
        sink.server_close()
    return result


def _scrape(url: str) -> str:
    import httpx

    response = httpx.get(f"{url}/metrics", timeout=10)
    response.raise_for_status()
    return response.text
