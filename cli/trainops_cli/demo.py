"""``trainops demo``: load the programme of the source document through the public HTTP APIs and
print what the donor sees.

With the system up (``trainops up``; default URLs http://127.0.0.1:8001..8004) it uses it; when
nothing answers there it brings the system up itself (``trainops_devtools.supervisor.run_system``),
stops it at the end, or keeps it running until Ctrl-C with ``--keep-running``.

What it does, only through the services' HTTP APIs: the three trainings (titles in en/ru/kk),
eight trainers (local and international), twelve sessions in the eight cities, a few hundred
participants with Kazakh and Russian names registered by the coordinator of each city (some of
them again for a later training under another spelling: registration recognises them), waiting
lists on the in-person sessions, a few cancellations (the waiting list moves up), a bigger hall
for one session (capacity increase: the waiting list moves up again), one in-person session
cancelled for quarantine (its participants move online), attendance, completion, feedback from
most attendees (through their invitation links), then it waits until reporting has caught up and
prints the summary and the donor table by city and sex.

Running it twice: training codes are unique, so a second run finds the programme already
loaded (the codes of this seed's trainings exist) and only prints the report; ``--new-run``
loads another copy with the codes suffixed by a run id (``-r20250101T120000``).
Everything generated is deterministic for a given ``--seed`` and ``--participants``.
"""

from __future__ import annotations

import argparse
import signal
import sys
import time
from collections import defaultdict
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime
from types import FrameType
from typing import Any, TypeVar
from urllib.parse import urlsplit

from trainops_cli.api_client import (
    ApiError,
    DeadlineExceeded,
    ServiceUrls,
    TokenIssuer,
    TrainopsClient,
    poll,
    token_of,
)
from trainops_devtools.demo_data import (
    CITIES,
    CITY_NAMES,
    Fact,
    Programme,
    RegistrationSpec,
    SessionFact,
    attendance_decision,
    build_programme,
    describe,
    expected_summary,
    feedback_answers,
)
from trainops_shared.events.vocabulary import SEXES

T = TypeVar("T")
Say = Callable[[str], None]
CORE_FIGURES = (
    "sessions_scheduled",
    "sessions_delivered",
    "registered",
    "attended",
    "feedback_responses",
)
"""Summary figures the demo waits for (registrations, as every report counts them)."""


HELP = "load the 2020-2021 UNICEF Kazakhstan programme and print the donor report"
DESCRIPTION = (
    "Load the programme of the source document (three trainings, eight cities, "
    "participants, attendance, feedback) through the public HTTP APIs, wait for "
    "reporting to catch up and print the summary and the donor table by city and sex. "
    "Uses the running system, or starts one when nothing answers."
)


def arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--url-base",
        default="http://127.0.0.1",
        help="scheme and host of the services (default http://127.0.0.1)",
    )
    parser.add_argument(
        "--base-port",
        type=int,
        default=8001,
        help="registration's port; scheduling, feedback, reporting, identity follow (default 8001)",
    )
    for name in ("registration", "scheduling", "feedback", "reporting"):
        parser.add_argument(f"--{name}-url", metavar="URL", help=f"{name} service URL")
    parser.add_argument("--seed", type=int, default=2020, help="random seed (default 2020)")
    parser.add_argument(
        "--participants", type=int, default=300, help="number of people (default 300)"
    )
    parser.add_argument(
        "--new-run",
        action="store_true",
        help="load another copy even if this programme is loaded (codes get a run suffix)",
    )
    parser.add_argument(
        "--k",
        type=int,
        default=None,
        help="suppression threshold of the donor table: only the server's own (REPORT_MIN_CELL) "
        "is served, any other is refused",
    )
    parser.add_argument(
        "--timeout",
        type=float,
        default=120.0,
        metavar="SECONDS",
        help="how long to wait for events to propagate at each step (default 120)",
    )
    parser.add_argument(
        "--keep-running",
        action="store_true",
        help="when the demo started the system itself, keep it running until Ctrl-C",
    )
    parser.add_argument(
        "--data-dir",
        help="data directory of the system the demo starts (default: $TRAINOPS_DATA_DIR or "
        "~/.local/share/trainops)",
    )
    parser.add_argument(
        "--quiet", action="store_true", help="print only the report, not the progress"
    )


# ----------------------------------------------------------------------------------------------
# Entry point


def _service_urls(args: argparse.Namespace) -> ServiceUrls:
    base = ServiceUrls.from_base(args.url_base, args.base_port).as_dict()
    for name in base:
        explicit = getattr(args, f"{name}_url", None)
        if explicit:
            base[name] = explicit
    return ServiceUrls.from_mapping(base)


def run(args: argparse.Namespace) -> int:
    if args.participants < 1:
        print("trainops demo: --participants must be at least 1", file=sys.stderr)
        return 2
    out: Say = (lambda _m: None) if args.quiet else _print
    urls = _service_urls(args)
    probe = TrainopsClient(urls)
    try:
        answering = probe.health()
    finally:
        probe.close()
    try:
        if all(answering.values()):
            out(f"trainops demo: using the running system ({urls.registration} ...)")
            with TrainopsClient(urls, TokenIssuer(data_dir=args.data_dir)) as client:
                return _demo(client, args, out)
        if any(answering.values()):
            missing = ", ".join(
                f"{name} ({url})" for name, url in urls.as_dict().items() if not answering[name]
            )
            print(
                f"trainops demo: some services answer but not {missing}: start them "
                f"(trainops up) or pass their URLs (--<service>-url)",
                file=sys.stderr,
            )
            return 1
        return _demo_on_own_system(args, urls, out)
    except (ApiError, DeadlineExceeded) as exc:
        print(f"trainops demo: {exc}", file=sys.stderr, flush=True)
        return 1


def _print(message: str) -> None:
    print(message, flush=True)


def _demo_on_own_system(args: argparse.Namespace, urls: ServiceUrls, out: Say) -> int:
    from trainops_devtools.supervisor import LaunchError, run_system

    host = urlsplit(args.url_base).hostname or "127.0.0.1"
    out(f"trainops demo: nothing answers at {urls.registration}; starting the system...")

    def on_term(signum: int, _frame: FrameType | None) -> None:
        # SIGTERM like Ctrl-C: leave through the context manager, which stops what we started.
        raise KeyboardInterrupt(signal.Signals(signum).name)

    previous = signal.signal(signal.SIGTERM, on_term)
    try:
        with run_system(
            data_dir=args.data_dir, host=host, base_port=args.base_port, say=out
        ) as system:
            out(f"trainops demo: system up, data in {system.data_dir}")
            tokens = TokenIssuer(system.signing_key)
            with TrainopsClient(ServiceUrls.from_mapping(system.urls), tokens) as client:
                code = _demo(client, args, out)
            if args.keep_running:
                _print(
                    "\nThe system keeps running (URLs above; `trainops token --role admin` for "
                    "a token). Press Ctrl-C to stop."
                )
                try:
                    while system.dead() is None:
                        time.sleep(0.5)
                    dead = system.dead()
                    if dead is not None:
                        print(
                            f"trainops demo: service {dead.name} exited; stopping",
                            file=sys.stderr,
                        )
                        return 1
                except KeyboardInterrupt:
                    _print("\ntrainops demo: stopping services, then NATS...")
            else:
                out("trainops demo: stopping the system it started (use --keep-running to keep)")
            return code
    except LaunchError as exc:
        print(f"trainops demo: could not start the system: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("\ntrainops demo: interrupted; the system it started is stopped", file=sys.stderr)
        return 130
    finally:
        signal.signal(signal.SIGTERM, previous)


# ----------------------------------------------------------------------------------------------
# The demo


def _demo(client: TrainopsClient, args: argparse.Namespace, out: Say) -> int:
    started = time.monotonic()
    suffix = f"-r{datetime.now().strftime('%Y%m%dT%H%M%S')}" if args.new_run else ""
    programme = build_programme(args.seed, args.participants, suffix)
    existing = {t["code"]: t for t in client.list_trainings()}
    present = [t for t in programme.trainings if t.code in existing]
    if present and not args.new_run:
        out(
            f"trainops demo: the programme is loaded already (training {present[0].code} "
            f"exists); printing the report. Use --new-run to load another copy."
        )
        training_ids = {t.key: existing[t.code]["id"] for t in present}
    else:
        out(f"trainops demo: loading {describe(programme)}")
        loader = Loader(client, programme, out, timeout=args.timeout)
        loader.load()
        training_ids = loader.training_ids
        loader.wait_for_reporting()
        out(f"trainops demo: loaded and reported in {time.monotonic() - started:.1f} s")
    _print(render_report(client, programme, training_ids, k=args.k))
    return 0


@dataclass
class Registered:
    spec: RegistrationSpec
    id: str
    participant_id: str
    status: str
    attended: bool = False
    overall: list[int] = field(default_factory=list)


class Loader:
    """Loads one :class:`Programme` in the order real users would enter it."""

    def __init__(
        self, client: TrainopsClient, programme: Programme, say: Say, timeout: float = 120.0
    ) -> None:
        self.client = client
        self.p = programme
        self.say = say
        self.timeout = timeout
        self.training_ids: dict[str, str] = {}
        self.trainer_ids: dict[str, str] = {}
        self.session_ids: dict[str, str] = {}
        self.session_status: dict[str, str] = {}
        self.registered: dict[str, Registered] = {}  # by plan key
        self.by_id: dict[str, Registered] = {}

    # -- steps -----------------------------------------------------------------------------

    def load(self) -> None:
        self.define()
        self.register_all()
        self.cancel_some()
        self.enlarge_hall()
        self.cancel_for_quarantine()
        self.refresh_statuses()
        self.record_attendance()
        self.complete_sessions()
        self.collect_feedback()

    def define(self) -> None:
        for training in self.p.trainings:
            body = self.client.define_training(
                training.code, training.title, training.target_sectors
            )
            self.training_ids[training.key] = body["id"]
        for trainer in self.p.trainers:
            self.trainer_ids[trainer.key] = self.client.register_trainer(
                trainer.name, trainer.home_city
            )["id"]
        for session in self.p.sessions:
            body = self.client.schedule_session(
                session.body(self.training_ids[session.training_key], self.trainer_ids)
            )
            self.session_ids[session.key] = body["id"]
            self.session_status[session.key] = body.get("status", "scheduled")
            if session.key == "s1-day1":
                local = body.get("local_times", {})
                self.say(
                    f"  training 1 starts {local.get('almaty')} in Almaty = "
                    f"{local.get('aktobe')} in Aktobe = {local.get('aktau')} in Aktau "
                    f"({body.get('starts_at_utc')} UTC)"
                )
        intl = sum(t.international for t in self.p.trainers)
        self.say(
            f"  3 trainings, {len(self.p.trainers)} trainers ({intl} international), "
            f"{len(self.p.sessions)} sessions scheduled"
        )

    def _register(self, spec: RegistrationSpec, session_key: str | None = None) -> Registered:
        person = self.p.people_by_key[spec.person_key]
        body = self.client.register(
            self.session_ids[session_key or spec.session_key],
            person.participant(spec.variant),
            region=person.city,
            idempotency_key=f"demo-{self.p.seed}{self.p.suffix}-{spec.key}",
            wait_for_session=self.timeout,
        )
        record = Registered(spec, body["id"], body["participant_id"], body["status"])
        self.registered[spec.key] = record
        self.by_id[record.id] = record
        return record

    def register_all(self) -> None:
        by_phase: dict[int, dict[str, list[RegistrationSpec]]] = defaultdict(
            lambda: defaultdict(list)
        )
        for spec in self.p.registrations:
            by_phase[spec.phase][spec.session_key].append(spec)
        for phase in sorted(by_phase):
            # Sessions of one training register in parallel (one coordinator desk per
            # session); within a session, in order, so the waiting list is deterministic.
            _parallel(
                lambda specs: [self._register(s) for s in specs], list(by_phase[phase].values())
            )
        waitlisted = sum(r.status == "waitlisted" for r in self.registered.values())
        first: dict[str, str] = {}
        matched = retyped = 0
        for spec in self.p.registrations:
            record = self.registered[spec.key]
            if spec.variant == "canonical":
                first.setdefault(spec.person_key, record.participant_id)
        for spec in self.p.duplicate_registrations:
            retyped += 1
            expected = first.get(spec.person_key)
            matched += expected == self.registered[spec.key].participant_id
        people = len({r.participant_id for r in self.registered.values()})
        self.say(
            f"  {len(self.registered)} registrations by the coordinators of "
            f"{len({p.city for p in self.p.people})} cities ({waitlisted} waitlisted); "
            f"{people} distinct participants; {matched}/{retyped} registrations re-typed under "
            f"another spelling or contact were matched to the same participant"
        )

    def cancel_some(self) -> None:
        cancelled = 0
        for spec in self.p.registrations:
            if spec.cancel and spec.key in self.registered:
                person = self.p.people_by_key[spec.person_key]
                self.client.cancel_registration(self.registered[spec.key].id, region=person.city)
                cancelled += 1
        self.say(f"  {cancelled} registrations cancelled by coordinators (waiting lists move up)")

    def _live(self, session_key: str) -> int:
        return sum(
            1
            for r in self.registered.values()
            if r.spec.session_key == session_key and not r.spec.cancel
        )

    def _confirmed_count(self, session_key: str) -> int:
        items = self.client.list_registrations(self.session_ids[session_key], "confirmed")
        return len(items)

    def enlarge_hall(self) -> None:
        for session in self.p.sessions:
            if session.capacity_increase_to is None:
                continue
            self.client.change_capacity(self.session_ids[session.key], session.capacity_increase_to)
            want = min(session.capacity_increase_to, self._live(session.key))
            self._wait_confirmed(session.key, want)
            self.say(
                f"  {session.key}: a bigger hall, capacity {session.capacity} -> "
                f"{session.capacity_increase_to}; {want} confirmed now"
            )

    def _wait_confirmed(self, session_key: str, want: int) -> None:
        seen = [0]

        def enough() -> bool | None:
            seen[0] = self._confirmed_count(session_key)
            return True if seen[0] >= want else None

        poll(
            enough,
            timeout=self.timeout,
            what=f"{want} confirmed in {session_key} after the capacity increase",
            last=lambda: f"{seen[0]} confirmed",
        )

    def cancel_for_quarantine(self) -> None:
        for session in self.p.sessions:
            if session.cancel_reason is None:
                continue
            session_id = self.session_ids[session.key]
            self.client.cancel_session(session_id, session.cancel_reason)
            self.session_status[session.key] = "cancelled"

            def all_cancelled(sid: str = session_id) -> bool | None:
                items = self.client.list_registrations(sid)
                return True if all(i["status"] == "cancelled" for i in items) else None

            poll(
                all_cancelled,
                timeout=self.timeout,
                what=f"registrations of {session.key} cancelled",
            )
            moved = 0
            if session.moved_to:
                for record in list(self.registered.values()):
                    if record.spec.session_key != session.key or record.spec.cancel:
                        continue
                    spec = RegistrationSpec(
                        key=f"{session.moved_to}/{record.spec.person_key}",
                        person_key=record.spec.person_key,
                        session_key=session.moved_to,
                        phase=record.spec.phase,
                    )
                    self._register(spec)
                    moved += 1
            self.say(
                f"  {session.key} cancelled ({session.cancel_reason.split(';')[0]}); "
                f"{moved} participants moved to {session.moved_to}"
            )

    def refresh_statuses(self) -> None:
        """The registrations' states as registration now has them (promotions included)."""
        for key, session_id in self.session_ids.items():
            for item in self.client.list_registrations(session_id):
                record = self.by_id.get(item["id"])
                if record is not None and record.spec.session_key == key:
                    record.status = item["status"]

    def record_attendance(self) -> None:
        def per_session(records: list[Registered]) -> int:
            count = 0
            for record in records:
                decision = attendance_decision(self.p.seed, record.spec.key)
                if decision is None:
                    continue
                person = self.p.people_by_key[record.spec.person_key]
                self.client.record_attendance(record.id, decision, region=person.city)
                record.attended = decision
                count += decision
            return count

        groups = self._confirmed_by_session()
        attended = sum(_parallel(per_session, list(groups.values())))
        confirmed = sum(len(g) for g in groups.values())
        self.say(f"  attendance recorded: {attended} of {confirmed} confirmed attended")

    def _confirmed_by_session(self) -> dict[str, list[Registered]]:
        groups: dict[str, list[Registered]] = defaultdict(list)
        for record in self.registered.values():
            key = record.spec.session_key
            if record.status == "confirmed" and self.session_status[key] != "cancelled":
                groups[key].append(record)
        return groups

    def complete_sessions(self) -> None:
        done = 0
        for session in self.p.sessions:
            if self.session_status[session.key] == "cancelled":
                continue
            self.client.complete_session(self.session_ids[session.key])
            self.session_status[session.key] = "completed"
            done += 1
        self.say(f"  {done} sessions completed")

    def collect_feedback(self) -> None:
        groups = self._confirmed_by_session()

        def per_session(item: tuple[str, list[Registered]]) -> tuple[int, int]:
            key, records = item
            attendees = [r for r in records if r.attended]
            invitations = self.client.wait_invitations(
                self.session_ids[key], len(attendees), timeout=self.timeout
            )
            sent = 0
            for invitation in sorted(invitations, key=lambda i: str(i["registration_id"])):
                record = self.by_id.get(str(invitation["registration_id"]))
                if record is None:
                    continue
                person = self.p.people_by_key[record.spec.person_key]
                answer = feedback_answers(self.p.seed, record.spec.key, person.language)
                if answer is None:
                    continue
                answers, comment = answer
                self.client.submit_response(token_of(invitation["url"]), answers, comment)
                record.overall.append(answers["overall"])
                sent += 1
            return len(invitations), sent

        results = _parallel(per_session, list(groups.items()))
        invited = sum(r[0] for r in results)
        answered = sum(r[1] for r in results)
        self.say(f"  feedback: {answered} responses to {invited} invitations")

    # -- reporting -------------------------------------------------------------------------

    def facts(self) -> tuple[list[Fact], list[SessionFact]]:
        sessions = {s.key: s for s in self.p.sessions}
        facts = []
        for record in self.registered.values():
            spec = sessions[record.spec.session_key]
            person = self.p.people_by_key[record.spec.person_key]
            facts.append(
                Fact(
                    participant_id=record.participant_id,
                    training=self.training_ids[spec.training_key],
                    session=spec.key,
                    session_status=self.session_status[spec.key],
                    starts_at=spec.starts_at_utc,
                    mode=spec.mode,
                    status=record.status,
                    attended=record.attended,
                    overall=tuple(record.overall),
                    city=person.city,
                    sector=person.sector,
                    sex=person.sex,
                    age_band=person.age_band,
                    language=person.language,
                )
            )
        session_facts = [
            SessionFact(
                s.key,
                self.training_ids[s.training_key],
                s.starts_at_utc,
                self.session_status[s.key],
            )
            for s in self.p.sessions
        ]
        return facts, session_facts

    def wait_for_reporting(self) -> None:
        """Poll each training's summary until reporting shows what was sent (deadline)."""
        facts, sessions = self.facts()
        for key, training_id in self.training_ids.items():
            want = expected_summary(facts, sessions, training=training_id)
            self._wait_summary(key, training_id, want)
        self.say("  reporting has caught up with every registration, attendance and response")

    def _wait_summary(self, key: str, training_id: str, want: Mapping[str, Any]) -> None:
        seen: dict[str, Any] = {}

        def caught_up() -> bool | None:
            seen.clear()
            seen.update(self.client.summary(training_id=training_id))
            return True if all(_agrees(seen, f, want[f]) for f in CORE_FIGURES) else None

        def last() -> str:
            return ", ".join(f"{f} {seen.get(f)} (want {want[f]})" for f in CORE_FIGURES)

        poll(caught_up, timeout=self.timeout, what=f"reporting of training {key}", last=last)


def _agrees(summary: Mapping[str, Any], figure: str, want: int) -> bool:
    """A published figure equals what was sent; a suppressed one is consistent with it (a
    primary one hides 1..k-1, a complementary one k or more)."""
    reason = (summary.get("suppressed") or {}).get(figure)
    if reason is None:
        return bool(summary.get(figure) == want)
    k = int(summary.get("k", 5))
    if reason == "primary":
        return 1 <= want < k
    return want >= k


def _count(entry: Mapping[str, Any], measure: str) -> str:
    """A count as published: the number, ``<k`` (primary) or ``x`` (complementary)."""
    reason = (entry.get("suppressed") or {}).get(measure)
    if reason == "primary":
        return f"<{entry['k']}" if "k" in entry else "<k"
    if reason is not None:
        return "x"
    return str(entry.get(measure))


def _parallel(fn: Callable[[Any], T], items: Sequence[Any], workers: int = 8) -> list[T]:
    if not items:
        return []
    with ThreadPoolExecutor(max_workers=min(workers, len(items))) as pool:
        return list(pool.map(fn, items))


# ----------------------------------------------------------------------------------------------
# The report


def render_report(
    client: TrainopsClient,
    programme: Programme,
    training_ids: Mapping[str, str],
    k: int | None = None,
) -> str:
    summary = client.summary()
    donor = client.donor(by="city,sex", k=k)
    lines = ["", "=" * 78, "Programme summary (GET /reports/summary)", "=" * 78]
    lines += _summary_lines(summary)
    titles = {t.key: t.title["en"] for t in programme.trainings}
    if training_ids:
        lines += ["", "By training:"]
        header = f"  {'training':<46}{'sessions':>9}{'reg.':>6}{'att.':>6}{'fb.':>6}{'sat.':>6}"
        lines.append(header)
        for key, training_id in training_ids.items():
            s = client.summary(training_id=training_id)
            title = titles.get(key, key)
            title = title if len(title) <= 44 else title[:43] + "…"
            lines.append(
                f"  {title:<46}{s['sessions_delivered']:>4}/{s['sessions_scheduled']:<4}"
                f"{_count(s, 'registered'):>6}{_count(s, 'attended'):>6}"
                f"{_count(s, 'feedback_responses'):>6}{_fmt_mean(s['satisfaction_mean']):>6}"
            )
    lines += ["", *format_donor_table(donor)]
    return "\n".join(lines)


def _fmt_mean(value: Any) -> str:
    return "-" if value is None else f"{float(value):.2f}"


def _summary_lines(summary: Mapping[str, Any]) -> list[str]:
    labels = [
        ("sessions_scheduled", "sessions scheduled (not cancelled)"),
        ("sessions_delivered", "sessions delivered"),
        ("registered", "registrations (a person per session)"),
        ("attended", "attendances"),
        ("feedback_responses", "feedback responses"),
        ("satisfaction_mean", "mean overall satisfaction (1-5)"),
        ("cities_reached", "cities reached"),
    ]
    out = []
    for key, label in labels:
        value = summary.get(key)
        shown = _fmt_mean(value) if key == "satisfaction_mean" else _count(summary, key)
        out.append(f"  {label:<46}{shown:>8}")
    return out


def format_donor_table(report: Mapping[str, Any]) -> list[str]:
    """The ``by=city,sex`` donor report as three cross-tables (registered, attended, feedback
    responses): cities down, sexes across, with the totals; hidden counts read ``<k`` (1..k-1)
    or ``x`` (hidden so that no small count can be worked out)."""
    k = int(report["k"])
    hidden = f"<{k}"
    rows = report["rows"]
    sexes = [s for s in SEXES if any(r["sex"] == s for r in rows)]
    sexes += sorted({r["sex"] for r in rows} - set(sexes))
    cities = [c for c in CITIES if any(r["city"] == c for r in rows)]
    cities += sorted({r["city"] for r in rows} - set(cities))
    cell = {(r["city"], r["sex"]): r for r in rows}
    row_totals = {r["city"]: r for r in report.get("row_totals", [])}
    col_totals = {r["sex"]: r for r in report.get("column_totals", [])}
    totals = report["totals"]

    def show(entry: Mapping[str, Any] | None, measure: str) -> str:
        if entry is None:
            return "0"
        reason = entry.get("suppressed", {}).get(measure)
        if reason == "primary":
            return hidden
        if reason is not None or entry.get(measure) is None:
            return "x"
        return str(entry[measure])

    out = [
        "=" * 78,
        f"Donor report by city and sex (GET /reports/donor?by=city,sex&k={k})",
        "every count is of registrations (a person per session), feedback of responses;",
        f'"{hidden}": from 1 to {k - 1};  "x": hidden so that no small count can be worked out',
        "(one suppression pattern for every table and the summary, proven by linear programs)",
        "=" * 78,
    ]
    width = max([len(CITY_NAMES.get(c, c)) for c in cities] + [len("TOTAL"), 14]) + 2
    col = max(max((len(s) for s in sexes), default=5) + 2, 8)
    titles = {
        "registered": "Registered",
        "attended": "Attended",
        "feedback_responses": "Feedback responses",
    }
    for measure, title in titles.items():
        out.append("")
        out.append(title)
        out.append(
            f"  {'city':<{width}}" + "".join(f"{s:>{col}}" for s in sexes) + f"{'total':>{col}}"
        )
        for city in cities:
            name = CITY_NAMES.get(city, city)
            out.append(
                f"  {name:<{width}}"
                + "".join(f"{show(cell.get((city, s)), measure):>{col}}" for s in sexes)
                + f"{show(row_totals.get(city), measure):>{col}}"
            )
        out.append(
            f"  {'TOTAL':<{width}}"
            + "".join(f"{show(col_totals.get(s), measure):>{col}}" for s in sexes)
            + f"{show(totals, measure):>{col}}"
        )
    out.append("")
    out.append(
        f"mean overall satisfaction: {_fmt_mean(totals.get('satisfaction_mean'))}; "
        f"{report.get('suppressed_cells', 0)} values hidden "
        f"(primary and complementary suppression)"
    )
    return out
