"""Seat quotas through the public APIs, with scheduling and registration as processes on a
real NATS server: programme staff give a session quotas by sector and city in scheduling;
registration, which decides seats, keeps a registration over a quota waiting even with seats
free, and a promotion (a capacity change, quotas loosened, a cancellation) takes the first
waiting person who fits, passing over those a quota still keeps waiting."""

from __future__ import annotations

import asyncio
from typing import Any

import httpx
import pytest

from trainops_devtools.testing.polling import eventually
from trainops_devtools.testing.pytest_plugin import ServiceHarness

pytestmark = [pytest.mark.e2e, pytest.mark.integration]


def person(name: str, city: str, sector: str) -> dict[str, Any]:
    return {
        "full_name": name,
        "sector": sector,
        "sex": "female",
        "age_band": "25-34",
        "city": city,
        "language": "ru",
    }


async def test_quotas_hold_registrations_and_promotions_take_who_fits(
    service_processes: ServiceHarness, fresh_nats_server: Any
) -> None:
    processes = await asyncio.to_thread(
        service_processes.start, ["scheduling", "registration"], nats_url=fresh_nats_server.url
    )
    staff = {"Authorization": f"Bearer {service_processes.token('programme_staff')}"}
    admin = {"Authorization": f"Bearer {service_processes.token('admin')}"}
    async with (
        httpx.AsyncClient(base_url=processes["scheduling"].url, headers=staff, timeout=30) as sch,
        httpx.AsyncClient(base_url=processes["registration"].url, headers=admin, timeout=30) as reg,
    ):
        training = await sch.post("/trainings", json={"code": "quotas", "title": {"en": "Q"}})
        assert training.status_code == 201, training.text
        body: dict[str, Any] = {
            "training_id": training.json()["id"],
            "mode": "online",
            "cities": ["almaty", "aktobe"],
            "starts_at": "2027-04-01T10:00",
            "ends_at": "2027-04-01T12:00",
            "capacity": 4,
            "language": "ru",
            "quotas": [{"sector": "media", "max_seats": 1}, {"city": "aktobe", "max_seats": 2}],
        }
        wrong = await sch.post(
            "/sessions", json={**body, "quotas": [{"city": "astana", "max_seats": 1}]}
        )
        assert wrong.status_code == 422, wrong.text
        assert wrong.json()["field"] == "quotas[0].city"
        neither = await sch.post("/sessions", json={**body, "quotas": [{"max_seats": 1}]})
        assert neither.status_code == 422, neither.text
        created = await sch.post("/sessions", json=body)
        assert created.status_code == 201, created.text
        session = created.json()
        assert session["quotas"] == [
            {"max_seats": 1, "sector": "media", "city": None},
            {"max_seats": 2, "sector": None, "city": "aktobe"},
        ]
        sid = session["id"]

        async def register(name: str, city: str, sector: str) -> dict[str, Any]:
            answer = await reg.post(
                "/registrations",
                json={"session_id": sid, "participant": person(name, city, sector)},
            )
            assert answer.status_code == 201, answer.text
            return answer.json()  # type: ignore[no-any-return]  # JSON object by contract

        async def known() -> bool:
            probe = await reg.post(
                "/registrations",
                json={"session_id": sid, "participant": person("Probe", "astana", "ngo")},
            )
            return probe.status_code == 422  # not a city of the session: the session is known

        await eventually(known, timeout=60)
        a = await register("Айгерім Сейтова", "almaty", "media")
        b = await register("Dana Abenova", "almaty", "media")  # over the media quota
        c = await register("Ержан Нұрланов", "aktobe", "ngo")
        d = await register("Marat Ospanov", "aktobe", "ngo")
        e = await register("Гүлнар Әлиева", "aktobe", "akimat")  # over the Aktobe quota
        f = await register("Aliya Kim", "almaty", "ngo")  # the last seat
        g = await register("Saule Tokar", "almaty", "ngo")  # the session is full
        statuses = [(r["status"], r.get("waitlist_position")) for r in (a, b, c, d, e, f, g)]
        assert statuses == [
            ("confirmed", None),
            ("waitlisted", 1),
            ("confirmed", None),
            ("confirmed", None),
            ("waitlisted", 2),
            ("confirmed", None),
            ("waitlisted", 3),
        ]

        async def status_of(registration: dict[str, Any]) -> tuple[str, int | None]:
            answer = await reg.get(f"/registrations/{registration['id']}")
            assert answer.status_code == 200, answer.text
            return answer.json()["status"], answer.json().get("waitlist_position")

        # One more seat and room for a second journalist: B, first in line, fits now.
        grown = await sch.post(
            f"/sessions/{sid}/capacity",
            json={
                "capacity": 5,
                "quotas": [{"sector": "media", "max_seats": 2}, {"city": "aktobe", "max_seats": 2}],
            },
        )
        assert grown.status_code == 200, grown.text
        assert grown.json()["version"] == 2

        async def b_promoted() -> bool:
            return await status_of(b) == ("confirmed", None)

        await eventually(b_promoted, timeout=60)
        assert [await status_of(r) for r in (e, g)] == [("waitlisted", 1), ("waitlisted", 2)]

        # An Aktobe seat freed: E (Aktobe) is first and fits the Aktobe quota again.
        cancelled = await reg.post(f"/registrations/{c['id']}/cancel")
        assert cancelled.status_code == 200, cancelled.text
        assert [await status_of(r) for r in (e, g)] == [("confirmed", None), ("waitlisted", 1)]

        # An Almaty journalist leaves: the seat goes to G, the next who fits (media is not
        # over its quota, but nobody of media waits); the capacity without quotas changes
        # nothing of them.
        assert (await reg.post(f"/registrations/{a['id']}/cancel")).status_code == 200
        assert await status_of(g) == ("confirmed", None)
        kept = await sch.post(f"/sessions/{sid}/capacity", json={"capacity": 5})
        assert kept.status_code == 200, kept.text
        assert kept.json()["quotas"] == grown.json()["quotas"]
        assert kept.json()["version"] == 2  # nothing changed: no new version, no event
