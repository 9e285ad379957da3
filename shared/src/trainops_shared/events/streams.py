"""Subjects and JetStream streams: one stream per producing context, declared by its producer."""

from __future__ import annotations

from dataclasses import dataclass

DUPLICATE_WINDOW_SECONDS = 2 * 60 * 60
"""How long JetStream remembers a ``Nats-Msg-Id``; the outbox relay re-publishes well within it."""


@dataclass(frozen=True, slots=True)
class StreamSpec:
    name: str
    context: str

    @property
    def subjects(self) -> list[str]:
        return [f"{self.context}.>"]


SCHEDULING = StreamSpec("SCHEDULING", "scheduling")
REGISTRATION = StreamSpec("REGISTRATION", "registration")
FEEDBACK = StreamSpec("FEEDBACK", "feedback")
IDENTITY = StreamSpec("IDENTITY", "identity")
"""Revocations of sessions and personal API tokens; every service replays it on start."""
STREAMS: dict[str, StreamSpec] = {
    s.context: s for s in (SCHEDULING, REGISTRATION, FEEDBACK, IDENTITY)
}

DEAD_LETTER = StreamSpec("DEAD_LETTERS", "deadletter")
"""Messages a consumer gave up on, with the original subject, payload and the reason, kept for
an operator to inspect and replay (``deadletter.<consumer>.<original subject>``)."""


def stream_for_subject(subject: str) -> StreamSpec:
    context = subject.split(".", 1)[0]
    try:
        return STREAMS[context]
    except KeyError:
        raise ValueError(f"no stream carries subject {subject!r}") from None
