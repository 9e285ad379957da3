"""What the staff pages read: completed sessions with their uptake, one session's links.

Both go through the region-scoped adapters: a coordinator counts and sees only the invitations
of their own region's participants, and a session without any of those does not exist for them.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from sqlalchemy.engine import Connection

from trainops_feedback.adapters import invitations
from trainops_feedback.adapters.invitations import SessionCounts
from trainops_feedback.domain.tokens import InvitationTokens
from trainops_feedback.domain.uptake import Uptake
from trainops_feedback.handlers.commands import InvitationLink, list_invitations
from trainops_shared.auth import Principal
from trainops_shared.errors import NotFound


@dataclass(frozen=True, slots=True)
class SessionUptake:
    session: SessionCounts
    uptake: Uptake


@dataclass(frozen=True, slots=True)
class SessionLinks:
    session: SessionCounts
    uptake: Uptake
    links: list[InvitationLink]


def read_completed_sessions(conn: Connection, principal: Principal) -> list[SessionUptake]:
    return [
        SessionUptake(session=s, uptake=Uptake(invited=s.invited, answered=s.answered))
        for s in invitations.completed_session_counts(conn, principal)
    ]


def read_session_links(
    conn: Connection,
    session_id: uuid.UUID,
    principal: Principal,
    tokens: InvitationTokens,
    public_url: str,
) -> SessionLinks:
    """The session's live links for ``principal``; unknown or out of their region → NotFound.

    The uptake is counted from the very rows listed, so the page's figures and table agree.
    """
    session = invitations.session_counts(conn, session_id, principal)
    if session is None:
        raise NotFound(f"session {session_id} not found", field="session_id")
    links = list_invitations(conn, session_id, principal, tokens, public_url)
    answered = sum(1 for link in links if link.submitted)
    return SessionLinks(
        session=session, uptake=Uptake(invited=len(links), answered=answered), links=links
    )
