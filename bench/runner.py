"""Run the benchmarks and assemble the one JSON document ``trainops bench`` prints.

Every benchmark runs in its own ``try``: one that fails records ``{"error": ...}`` and the
others still run; an interrupt (Ctrl-C) stops the run but the document is still returned (and
``on_update`` has been given it after every benchmark, so ``--out`` is written as it goes).
"""

from __future__ import annotations

import importlib
import json
import shutil
import sys
import tempfile
import time
import traceback
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from bench.common import machine_info
from bench.sizes import MODES, Sizes

Benchmark = Callable[[Path, Sizes], dict[str, Any]]


_MODULES = {
    "write_path": "bench.http_benchmarks",
    "metrics_cost": "bench.metrics_benchmarks",
    "event_to_report": "bench.http_benchmarks",
    "soak": "bench.http_benchmarks",
    "projection": "bench.nats_benchmarks",
    "relay": "bench.nats_benchmarks",
    "report_query": "bench.system_benchmarks",
    "footprint": "bench.system_benchmarks",
    "system_write": "bench.system_write",
}

BENCHMARKS: tuple[str, ...] = (
    "write_path",
    "metrics_cost",
    "event_to_report",
    "soak",
    "projection",
    "relay",
    "report_query",
    "footprint",
    "system_write",
)


def _benchmark(name: str) -> Benchmark:
    fn: Benchmark = getattr(importlib.import_module(_MODULES[name]), name)
    return fn


def run(
    *,
    mode: str,
    only: Sequence[str] | None = None,
    workdir: Path | None = None,
    keep: bool = False,
    log: Callable[[str], None] = lambda msg: print(msg, file=sys.stderr, flush=True),
    on_update: Callable[[dict[str, Any]], None] = lambda _doc: None,
) -> dict[str, Any]:
    """Run the selected benchmarks in order; a failing one records its error, others go on."""
    sizes = MODES[mode]
    names = list(only) if only else list(BENCHMARKS)
    unknown = [n for n in names if n not in BENCHMARKS]
    if unknown:
        raise ValueError(
            f"unknown benchmark(s) {', '.join(unknown)}; known: {', '.join(BENCHMARKS)}"
        )
    names = [n for n in BENCHMARKS if n in names]  # fixed order: later ones reuse earlier work
    root = workdir or Path(tempfile.mkdtemp(prefix="trainops-bench-"))
    started = time.monotonic()
    doc: dict[str, Any] = {
        "meta": {
            "started_at": datetime.now(UTC).isoformat(timespec="seconds"),
            "mode": mode,
            "sizes": sizes.as_dict(),
            "machine": machine_info(),
            "workdir": str(root) if workdir is not None or keep else None,
            "benchmarks": names,
        }
    }
    try:
        for name in names:
            log(f"bench: {name} ...")
            t0 = time.monotonic()
            bench_dir = root / name
            try:
                bench_dir.mkdir(parents=True, exist_ok=True)
                doc[name] = _benchmark(name)(bench_dir, sizes)
            except KeyboardInterrupt:
                doc[name] = {"error": "interrupted"}
                doc["meta"]["interrupted"] = True
                break
            except Exception as exc:
                doc[name] = {
                    "error": f"{type(exc).__name__}: {exc}",
                    "trace": traceback.format_exc(limit=12),
                }
            finally:
                if name in doc:
                    doc[name]["wall_s"] = round(time.monotonic() - t0, 2)
                    doc["meta"]["total_s"] = round(time.monotonic() - started, 2)
                    log(f"bench: {name} done in {doc[name]['wall_s']} s")
                    on_update(doc)
    finally:
        doc["meta"]["total_s"] = round(time.monotonic() - started, 2)
        if not keep and workdir is None:
            shutil.rmtree(root, ignore_errors=True)
    return doc


def failed(doc: dict[str, Any]) -> list[str]:
    return [name for name, value in doc.items() if isinstance(value, dict) and "error" in value]


def dump(doc: dict[str, Any]) -> str:
    return json.dumps(doc, indent=2, ensure_ascii=False)
