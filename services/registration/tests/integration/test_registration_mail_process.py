"""The registration service as a process, mailing through the development catcher, killed with
SIGKILL while it sends: after the restart every registration has had its one message."""

from __future__ import annotations

from email import message_from_bytes
from email.policy import default as default_policy

import httpx
import nats
import pytest

from trainops_devtools.testing.events import session_scheduled
from trainops_devtools.testing.polling import eventually
from trainops_shared.events import encode_event

pytestmark = pytest.mark.e2e

PEOPLE = 40


async def test_sigkill_while_sending_loses_no_message_and_keeps_one_each(
    service_processes, fresh_nats_server
):
    catcher = service_processes.mail_catcher()
    registration = service_processes.start(
        ["registration"],
        nats_url=fresh_nats_server.url,
        extra_env={
            "MAIL_FROM": "Programme <no-reply@example.org>",
            # A row claimed by the killed process is taken again after 2 × 2 s + 5 s.
            "SMTP_TIMEOUT_MS": "2000",
        },
    )["registration"]
    event = session_scheduled(capacity=PEOPLE, cities=("almaty",), mode="in_person")
    nc = await nats.connect(fresh_nats_server.url)
    try:
        await nc.jetstream().publish(
            event.subject, encode_event(event), headers={"Nats-Msg-Id": str(event.event_id)}
        )
    finally:
        await nc.close()
    headers = {"Authorization": f"Bearer {service_processes.token('admin')}"}

    def body(n: int, email: str | None) -> dict[str, object]:
        return {
            "session_id": str(event.session_id),
            "participant": {
                "full_name": f"Participant {n}",
                "sector": "ngo",
                "city": "almaty",
                "language": "ru",
                **({"email": email} if email else {"phone": f"+7701{n:07d}"}),
            },
        }

    async with httpx.AsyncClient(base_url=registration.url, timeout=10) as client:

        async def session_known() -> bool:
            probe = await client.post("/registrations", json=body(0, None), headers=headers)
            return probe.status_code == 201

        await eventually(session_known, what="the session copy in registration")
        for n in range(1, PEOPLE + 1):
            answer = await client.post(
                "/registrations", json=body(n, f"p{n}@example.org"), headers=headers
            )
            assert answer.status_code == 201, answer.text

    async def first_sent() -> bool:
        return len(catcher.files()) >= 1

    await eventually(first_sent, what="the first message", interval=0.005)
    registration.kill()
    at_kill = len(catcher.files())
    assert at_kill < PEOPLE, "the process finished sending before it was killed"
    registration.start()
    registration.wait_ready(60)

    async def all_sent() -> bool:
        return len(catcher.files()) >= PEOPLE

    await eventually(all_sent, timeout=90, what=f"{PEOPLE} messages")
    files = catcher.files()
    recipients = sorted(
        str(message_from_bytes(f.read_bytes(), policy=default_policy)["To"]) for f in files
    )
    assert recipients == sorted(f"Participant {n} <p{n}@example.org>" for n in range(1, PEOPLE + 1))
    # A message sent twice (killed between the server's 250 and the mark) carried one Message-ID.
    assert catcher.received == PEOPLE + catcher.duplicates
    assert catcher.duplicates <= 1
