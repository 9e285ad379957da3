"""A participant's calendar feed through the real app, on SQLite and PostgreSQL: a coordinator
of their region makes it (another region's coordinator gets 404), a calendar app reads it
without a token as ``text/calendar`` with the person's live registrations only, a new address
retires the old one, and a revoked one answers 404."""

from __future__ import annotations

import re

import pytest
from registration_support import Harness, coordinator, person

pytestmark = pytest.mark.integration

ALMATY = coordinator("almaty")
AKTOBE = coordinator("aktobe")


def feed_path(page: str) -> str:
    found = re.search(
        r'id="feed-url" type="text" readonly value="[^"]*(/participant-feeds/[^"]+)"', page
    )
    assert found, page
    return found.group(1)


async def test_a_participants_feed_is_theirs_secret_and_revocable(harness: Harness) -> None:
    h = harness
    kept = await h.schedule(capacity=1)
    full = await h.schedule(capacity=1)
    dropped = await h.schedule(capacity=2)
    first = (await h.register(kept, person("Aigerim Seitova", email="a@example.kz"), ALMATY)).json()
    pid = first["participant_id"]
    await h.register(full, person("Dana Nurlanova"), ALMATY)
    waiting = (
        await h.register(full, person("Aigerim Seitova", email="a@example.kz"), ALMATY)
    ).json()
    gone = (
        await h.register(dropped, person("Aigerim Seitova", email="a@example.kz"), ALMATY)
    ).json()
    assert {first["participant_id"], waiting["participant_id"], gone["participant_id"]} == {pid}
    assert waiting["status"] == "waitlisted"
    assert (
        await h.client.post(f"/registrations/{gone['id']}/cancel", headers=ALMATY)
    ).status_code == 200

    empty = await h.client.get(
        f"/people/{pid}/calendar-feed", params={"lang": "en"}, headers=ALMATY
    )
    assert empty.status_code == 200 and "No calendar address." in empty.text
    assert (await h.client.get(f"/people/{pid}/calendar-feed", headers=AKTOBE)).status_code == 404
    refused = await h.client.post(
        f"/people/{pid}/calendar-feed", data={"action": "new"}, headers=AKTOBE
    )
    assert refused.status_code == 404

    made = await h.client.post(
        f"/people/{pid}/calendar-feed",
        data={"action": "new"},
        params={"lang": "en"},
        headers=ALMATY,
    )
    assert made.status_code == 200, made.text
    path = feed_path(made.text)
    assert (
        feed_path((await h.client.get(f"/people/{pid}/calendar-feed", headers=ALMATY)).text) == path
    )
    feed = await h.client.get(path)
    assert feed.status_code == 200, feed.text
    assert feed.headers["content-type"].startswith("text/calendar")
    assert f"UID:{kept}@trainops" in feed.text and f"UID:{full}@trainops" in feed.text
    assert str(dropped) not in feed.text
    assert "STATUS:CONFIRMED" in feed.text and "STATUS:TENTATIVE" in feed.text
    assert "Aigerim" not in feed.text and "a@example.kz" not in feed.text

    renewed = await h.client.post(
        f"/people/{pid}/calendar-feed", data={"action": "new"}, headers=ALMATY
    )
    new_path = feed_path(renewed.text)
    assert new_path != path
    assert (await h.client.get(path)).status_code == 404
    assert (await h.client.get(new_path)).status_code == 200
    revoked = await h.client.post(
        f"/people/{pid}/calendar-feed",
        data={"action": "revoke"},
        params={"lang": "en"},
        headers=ALMATY,
    )
    assert (
        "The calendar address was revoked." in revoked.text and 'id="feed-url"' not in revoked.text
    )
    assert (await h.client.get(new_path)).status_code == 404
    assert (await h.client.get("/participant-feeds/not-a-token.ics")).status_code == 404
