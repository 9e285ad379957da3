"""The in-process registration service the API tests drive: its client, scheduling's events
published to JetStream, and its own events read back from the REGISTRATION stream."""

from __future__ import annotations

import re
import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Literal

import nats
from litestar.testing import AsyncTestClient
from nats.aio.client import Client as NatsClient

from trainops_devtools.testing.events import session_scheduled
from trainops_devtools.testing.polling import eventually
from trainops_devtools.testing.tokens import in_process_settings, token_for
from trainops_registration.app import build_spec
from trainops_shared.events import Event, decode_event, encode_event
from trainops_shared.events.streams import REGISTRATION
from trainops_shared.service import create_app

ADMIN = {"Authorization": f"Bearer {token_for(role='admin')}"}


def coordinator(region: str, subject: str | None = None) -> dict[str, str]:
    token = token_for(role="coordinator", region=region, subject=subject or region)
    return {"Authorization": f"Bearer {token}"}


class Harness:
    def __init__(self, client: AsyncTestClient[Any], nc: NatsClient) -> None:
        self.client = client
        self.nc = nc
        self.js = nc.jetstream()

    async def publish(self, *events: Event) -> None:
        for event in events:
            await self.js.publish(
                event.subject,
                encode_event(event),
                headers={"Nats-Msg-Id": str(event.event_id)},
            )

    async def schedule(
        self,
        capacity: int = 2,
        cities: tuple[str, ...] = ("almaty", "astana"),
        mode: Literal["online", "in_person"] = "online",
    ) -> uuid.UUID:
        """Publish SessionScheduled and wait until registration has its copy."""
        event = session_scheduled(
            capacity=capacity,
            cities=cities,
            mode=mode,
            starts_at=datetime(2020, 12, 22, 4, 0, tzinfo=UTC),
            hours=8,
        )
        session_id = event.session_id
        await self.publish(event)

        async def known() -> bool:
            r = await self.client.get(
                "/registrations", params={"session_id": str(session_id)}, headers=ADMIN
            )
            assert r.status_code == 200, r.text
            # The list is empty either way: probe with an impossible registration instead.
            probe = await self.client.post(
                "/registrations",
                json={"session_id": str(session_id), "participant": person("Probe", "zz")},
                headers=ADMIN,
            )
            return probe.status_code == 422  # city zz is not the session's: the session exists

        await eventually(known)
        return session_id

    async def register(
        self,
        session_id: uuid.UUID,
        participant: dict[str, Any],
        headers: dict[str, str],
        key: str | None = None,
    ) -> Any:
        extra = {"Idempotency-Key": key} if key else {}
        return await self.client.post(
            "/registrations",
            json={"session_id": str(session_id), "participant": participant},
            headers={**headers, **extra},
        )

    async def get(self, registration_id: str, headers: dict[str, str] = ADMIN) -> Any:
        return await self.client.get(f"/registrations/{registration_id}", headers=headers)

    async def registration_events(self) -> list[Event]:
        info = await self.js.stream_info(REGISTRATION.name)
        out: list[Event] = []
        for seq in range(info.state.first_seq, info.state.last_seq + 1):
            msg = await self.js.get_msg(REGISTRATION.name, seq)
            assert msg.data is not None
            out.append(decode_event(msg.data))
        return out


def person(name: str, city: str = "almaty", **extra: Any) -> dict[str, Any]:
    return {
        "full_name": name,
        "sector": "media",
        "sex": "female",
        "age_band": "25-34",
        "city": city,
        "language": "kk",
        **extra,
    }


async def running_harness(
    database_url: str,
    fresh_nats_server: Any,
    tmp_path: Path,
    extra: dict[str, str] | None = None,
) -> AsyncIterator[Harness]:
    settings = in_process_settings(
        "registration",
        nats_url=fresh_nats_server.url,
        database_url=database_url,
        data_dir=tmp_path,
        extra=extra,
    )
    app = create_app(build_spec(settings), settings)
    nc = await nats.connect(fresh_nats_server.url)
    try:
        async with AsyncTestClient(app) as client:
            yield Harness(client, nc)
    finally:
        await nc.close()


async def join_through_page(client: AsyncTestClient[Any], code: str) -> Any:
    """What a participant's browser does with a join link: opens the page (which records
    nothing), then sends its form with the page's CSRF value; the form's answer, unfollowed."""
    page = await client.get(f"/join/{code}")
    assert page.status_code == 200, page.text
    found = re.search(r'name="csrf_token" value="([^"]+)"', page.text)
    assert found, page.text
    return await client.post(
        f"/join/{code}", data={"csrf_token": found.group(1)}, follow_redirects=False
    )
