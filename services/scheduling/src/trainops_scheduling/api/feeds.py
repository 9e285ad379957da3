"""Calendar feed routes: make, list and revoke a feed (signed in), and the feed itself at its
secret URL (no sign-in: calendar apps cannot send a token; the token in the URL is the
credential)."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from functools import partial
from typing import Annotated, Literal

import msgspec
from litestar import Response, get, post
from litestar.params import FromPath, JSONBody
from litestar.status_codes import HTTP_200_OK

from trainops_scheduling.api.controllers import CALENDAR_MEDIA_TYPE, Actor, Catalogue, Runtime
from trainops_scheduling.domain import render_calendar_ical
from trainops_scheduling.domain.records import FeedRecord
from trainops_scheduling.handlers import feeds
from trainops_shared.openapi_docs import operation_class, protected, public

FEED_PATH = "/feeds/"


class FeedIn(msgspec.Struct, forbid_unknown_fields=True):
    """A feed of one city's sessions (``subject``: its code) or one trainer's (their id)."""

    kind: Literal["city", "trainer"]
    subject: Annotated[str, msgspec.Meta(min_length=1, max_length=64)]


class FeedOut(msgspec.Struct):
    id: uuid.UUID
    kind: str
    subject: str
    created_at: datetime
    revoked: bool
    url: str | None = None
    """Only in the answer that made the feed: the address to subscribe to (kept nowhere)."""

    @classmethod
    def of(cls, feed: FeedRecord, url: str | None = None) -> FeedOut:
        return cls(
            feed.id, feed.kind, feed.subject, feed.created_at, feed.revoked_at is not None, url
        )


@post("/calendar-feeds", tags=["calendar feeds"], responses=protected(413))
async def create_feed(
    runtime: Runtime, principal: Actor, catalogue: Catalogue, data: JSONBody[FeedIn]
) -> FeedOut:
    """Make a feed; the answer's ``url`` (``.../feeds/<token>.ics``) is shown this once only."""
    feed, token = await runtime.write(
        partial(
            feeds.create_feed,
            actor=principal,
            catalogue=catalogue,
            kind=data.kind,
            subject=data.subject,
            now=datetime.now(UTC),
        )
    )
    return FeedOut.of(feed, f"{runtime.settings.public_url}{FEED_PATH}{token}.ics")


@get("/calendar-feeds", tags=["calendar feeds"], responses=protected())
async def list_feeds(runtime: Runtime, principal: Actor) -> list[FeedOut]:
    """The caller's feeds (an admin: all), without their URLs."""
    found = await runtime.read(partial(feeds.list_feeds, actor=principal))
    return [FeedOut.of(f) for f in found]


@post(
    "/calendar-feeds/{feed_id:uuid}/revoke",
    tags=["calendar feeds"],
    status_code=HTTP_200_OK,
    responses=protected(404),
)
async def revoke_feed(runtime: Runtime, principal: Actor, feed_id: FromPath[uuid.UUID]) -> FeedOut:
    """Revoke one of the caller's feeds: its URL answers 404 from now on."""
    revoked = await runtime.write(
        partial(feeds.revoke_feed, actor=principal, feed_id=feed_id, now=datetime.now(UTC))
    )
    return FeedOut.of(revoked)


@get(
    "/feeds/{token:str}",
    tags=["calendar feeds"],
    summary="A calendar feed (iCalendar, text/calendar) at its secret address",
    media_type=CALENDAR_MEDIA_TYPE,
    operation_class=operation_class(public=True),
    responses=public(404),
    opt={"any_query": True},
)
async def read_feed(
    runtime: Runtime, catalogue: Catalogue, token: FromPath[str]
) -> Response[bytes]:
    """The feed's sessions as ``text/calendar``; 404 for an unknown or revoked address."""
    content = await runtime.read(
        partial(
            feeds.read_feed,
            token=token.removesuffix(".ics"),
            catalogue=catalogue,
            now=datetime.now(UTC),
        )
    )
    body = render_calendar_ical(content.events, catalogue, name=content.name)
    return Response(content=body.encode("utf-8"), media_type=CALENDAR_MEDIA_TYPE)


FEED_ROUTES = [create_feed, list_feeds, revoke_feed, read_feed]
