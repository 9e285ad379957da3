"""Finest cells of programmes for the disclosure tests: the demo's plan and generated ones.

Imported by the tests as ``disclosure_programmes`` (``conftest.py`` puts this directory on
``sys.path``). The demo's cells follow ``trainops demo``'s plan without running it: every
planned registration that is neither cancelled nor on a cancelled session is registered (people
of a cancelled session move to its ``moved_to`` session, as the demo does), attendance and
feedback follow the demo's own deterministic decisions. Generated programmes are skewed on
purpose: a few big cities and many small ones, every sex and age band, many small cells.
"""

from __future__ import annotations

import random
from collections import defaultdict
from collections.abc import Iterable

from trainops_devtools.demo_data import attendance_decision, build_programme, feedback_answers
from trainops_reporting.domain.categories import AGE_BANDS, DIMENSIONS, SEXES
from trainops_reporting.domain.disclosure import FinestCell

_COUNTS = ("registered", "attended", "feedback_responses", "overall_sum", "overall_count")


def _cells(
    rows: Iterable[tuple[str, tuple[str, ...], tuple[int, int, int, int, int]]],
) -> list[FinestCell]:
    sums: dict[tuple[str, tuple[str, ...]], list[int]] = defaultdict(lambda: [0] * 5)
    for month, key, counts in rows:
        total = sums[month, key]
        for i, value in enumerate(counts):
            total[i] += value
    return [
        FinestCell(month, key, *values)  # type: ignore[arg-type]  # five ints, as _COUNTS
        for (month, key), values in sorted(sums.items())
    ]


def demo_cells(seed: int = 2020, participants: int = 300) -> list[FinestCell]:
    """The demo programme's finest cells (``trainops demo`` defaults)."""
    programme = build_programme(seed, participants)
    sessions = programme.sessions_by_key
    rows = []
    for spec in programme.registrations:
        session = sessions[spec.session_key]
        if spec.cancel:
            continue
        if session.cancel_reason is not None:
            if session.moved_to is None:
                continue
            key = f"{session.moved_to}/{spec.person_key}"
            session = sessions[session.moved_to]
        else:
            key = spec.key
        person = programme.people_by_key[spec.person_key]
        attended = attendance_decision(seed, key) is True
        answer = feedback_answers(seed, key, person.language) if attended else None
        overall = answer[0]["overall"] if answer else 0
        values = {
            "city": person.city,
            "sector": person.sector,
            "sex": person.sex,
            "age_band": person.age_band,
            "language": person.language,
            "mode": session.mode,
            "training": session.training_key,
        }
        rows.append(
            (
                session.starts_at_utc.strftime("%Y-%m"),
                tuple(values[d] for d in DIMENSIONS),
                (1, int(attended), int(answer is not None), overall, int(answer is not None)),
            )
        )
    return _cells(rows)


CITY_WEIGHTS = (40, 25, 12, 8, 6, 4, 3, 2, 2, 1, 1, 1)


def generated_cells(seed: int, participants: int = 300, cities: int = 8) -> list[FinestCell]:
    """A random programme: ``cities`` skewed cities (a few big, many small; at most 12), all
    sexes and age bands, 2 years of sessions."""
    rng = random.Random(seed)
    city_weights = list(CITY_WEIGHTS[:cities])
    cities_ = [f"city{i}" for i in range(len(city_weights))]
    sectors = ["health", "education", "social", "ngo", "other"]
    languages = ["kk", "ru", "en"]
    trainings = [f"T{i}" for i in range(5)]
    modes = ["in_person", "online", "hybrid"]
    months = [f"{2020 + m // 12}-{m % 12 + 1:02d}" for m in range(24)]
    session_plan = [
        (rng.choice(trainings), rng.choice(modes), rng.choice(months)) for _ in range(30)
    ]
    rows = []
    for _ in range(participants):
        profile = {
            "city": rng.choices(cities_, city_weights)[0],
            "sector": rng.choices(sectors, [30, 30, 20, 15, 5])[0],
            "sex": rng.choices(SEXES, [50, 42, 2, 6])[0],
            "age_band": rng.choices(AGE_BANDS, [10, 30, 30, 18, 8, 4])[0],
            "language": rng.choices(languages, [45, 50, 5])[0],
        }
        for training, mode, month in rng.sample(session_plan, rng.choice([1, 1, 2, 3])):
            attended = rng.random() < 0.85
            answered = attended and rng.random() < 0.8
            values = {**profile, "mode": mode, "training": training}
            overall = rng.choice([3, 4, 5, 5]) if answered else 0
            rows.append(
                (
                    month,
                    tuple(values[d] for d in DIMENSIONS),
                    (1, int(attended), int(answered), overall, int(answered)),
                )
            )
    return _cells(rows)
