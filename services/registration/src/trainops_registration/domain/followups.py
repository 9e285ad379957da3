"""What follows a session for each participant: the feedback invitation, reminders, the
certificate. Pure rules; the tables and the sending live in adapters.

**How the feedback link reaches the mail.** A link ``/f/{token}`` opens the participant's
form without signing in, so the token is a credential. Registration draws it (256 random
bits) in the transaction that decides the invitation, keeps it in its own ``feedback_links``
row — the database that already holds the participant's address, the one place the mail is
composed — and publishes only ``sha256(token)`` (``FeedbackLinkIssued``). The feedback
service stores that hash beside its invitation and looks a link up by hashing what arrives
in the URL. So the token crosses no stream and no log, a dump of the feedback database or of
the ``REGISTRATION`` stream yields no working link, and the invitation stays single-use on
the feedback side (answering through any of its links uses it). The alternative — feedback
encrypting its own token to a key only registration holds — would put a credential on the
stream (sealed, but one key compromise opens every link ever sent) and a key pair to
distribute; hashing needs neither.

Everything here is decided once per cause: one invitation per registration, reminder ``n``
at most once (``reminder.<n>``), one certificate per registration — unique keys in the
message outbox and the certificates table make a redelivered event or a second scheduler
pass change nothing.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Final, Literal

FollowupKind = Literal["feedback_invite", "reminder", "certificate"]
FEEDBACK_INVITE: Final = "feedback_invite"
CERTIFICATE: Final = "certificate"
REMINDER_PREFIX: Final = "reminder."
ALL_TRAININGS: Final = "*"


def reminder_kind(number: int) -> str:
    """The outbox kind of the ``number``-th reminder (1-based): each has its own unique key."""
    if number < 1:
        raise ValueError(f"a reminder number starts at 1, got {number}")
    return f"{REMINDER_PREFIX}{number}"


def followup_kind(kind: str) -> FollowupKind | None:
    """Which follow-up an outbox kind is; ``None`` for any other message."""
    if kind == FEEDBACK_INVITE:
        return "feedback_invite"
    if kind == CERTIFICATE:
        return "certificate"
    if kind.startswith(REMINDER_PREFIX) and kind[len(REMINDER_PREFIX) :].isdigit():
        return "reminder"
    return None


def feedback_due(session_status: str, registration_status: str, attended: bool | None) -> bool:
    """An invitation is owed to a confirmed registration that attended a completed session
    (the rule the feedback service applies to its own invitations, from the same events)."""
    return session_status == "completed" and registration_status == "confirmed" and attended is True


def needs_feedback(training_code: str | None, codes: frozenset[str]) -> bool:
    """Whether a training's certificate waits for the participant's answer (settings)."""
    return ALL_TRAININGS in codes or (training_code is not None and training_code in codes)


def certificate_due(
    session_status: str,
    registration_status: str,
    attended: bool | None,
    *,
    answered: bool,
    feedback_required: bool,
) -> bool:
    """A certificate for an attendance of a completed session, and for the answer too where
    the training asks for it."""
    if not feedback_due(session_status, registration_status, attended):
        return False
    return answered or not feedback_required


def reminder_due(
    *,
    invited_at: datetime | None,
    reminders_sent: int,
    last_sent_at: datetime | None,
    answered: bool,
    limit: int,
    delay: timedelta,
    now: datetime,
) -> bool:
    """Whether the next reminder is due: the invitation went out, nobody answered, fewer than
    ``limit`` reminders so far, and ``delay`` has passed since the last mail actually sent
    (a reminder still waiting on the mail server delays the next one)."""
    if answered or invited_at is None or reminders_sent >= limit or last_sent_at is None:
        return False
    return now >= last_sent_at + delay
