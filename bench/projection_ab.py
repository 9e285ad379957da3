"""The projection with and without stream pacing, back to back on one store, interleaved.

``python -m bench.projection_ab --events 200000 --backlog 100000 --rounds 2 --out FILE``
fills one JetStream store with a programme (set-up settings, then restarted with the deploy
settings, as ``bench.programme`` does) and runs, per round, raw nats-py pull + ack, the
reporting consumer reading the three streams at their own pace, and the same consumer paced
(``domain.projection.STREAM_ORDER``), each on an empty SQLite database. On a shared machine
only figures taken in the same minutes compare; ``--profile DIR`` adds one paced run under
cProfile (event loop and writer thread).
"""

from __future__ import annotations

import argparse
import functools
import json
import os
import tempfile
from pathlib import Path
from typing import Any

from bench.common import Stack, fill_streams, restore_deploy_settings, run_async, stream_totals
from bench.programme import STREAMS, project, raw_pull
from bench.workload import programme_events
from trainops_shared.broker import declare_all_streams


def ab(events: int, backlog: int, rounds: int, budget_s: float, profile: Path | None) -> Any:
    with tempfile.TemporaryDirectory(prefix="projection-ab-") as tmp:
        workdir = Path(tmp)
        stack = Stack(workdir)
        try:
            nats = stack.nats("ab", fill_settings=True)
            run_async(lambda: declare_all_streams(nats.url, STREAMS))
            count = run_async(
                lambda: fill_streams(nats.url, programme_events(events, seed=2), STREAMS)
            )
            restore_deploy_settings(nats)
            doc: dict[str, Any] = {
                "store": {
                    "events": count,
                    "stream_messages": run_async(lambda: stream_totals(nats.url, STREAMS)),
                },
                "backlog": backlog,
                "load_average_start": os.getloadavg(),
                "rounds": [],
            }
            for number in range(rounds):
                result: dict[str, Any] = {"round": number}
                result["raw_pull_ack"] = run_async(lambda: raw_pull(nats.url, backlog, budget_s))
                for name, paced in (("unpaced", False), ("paced", True)):
                    db = workdir / f"{name}-{number}.db"
                    result[name] = run_async(
                        functools.partial(project, nats.url, db, backlog, budget_s, paced=paced)
                    )
                doc["rounds"].append(result)
                print(json.dumps(result), flush=True)
            if profile is not None:
                run_async(
                    lambda: project(
                        nats.url, workdir / "profiled.db", backlog, budget_s, profiles=profile
                    )
                )
            doc["load_average_end"] = os.getloadavg()
            return doc
        finally:
            stack.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=200_000)
    parser.add_argument("--backlog", type=int, default=100_000)
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--budget", type=float, default=300.0)
    parser.add_argument("--profile", type=Path)
    parser.add_argument("--out", type=Path)
    args = parser.parse_args()
    doc = ab(args.events, args.backlog, args.rounds, args.budget, args.profile)
    text = json.dumps(doc, indent=2)
    if args.out is not None:
        args.out.write_text(text + "\n")
    print(text)


if __name__ == "__main__":
    main()
