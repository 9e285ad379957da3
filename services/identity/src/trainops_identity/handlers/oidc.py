"""Organisation sign-in use cases: begin (send the browser to the provider), finish (the
callback: verify, map, start the session), and the admin's decision about a pending person.

Each refusal of :func:`finish_oidc_sign_in` happens before anything about the person is
written: the state is consumed first (so it cannot be replayed), then the code is exchanged
and the ID token verified, then the claims are mapped, and only then, in one transaction, an
account is created or updated and linked, and the session started through the one seam every
sign-in uses (:func:`trainops_identity.handlers.sessions.start_session`).
"""

from __future__ import annotations

import hmac
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import urlsplit

from sqlalchemy.engine import Connection

from trainops_identity.adapters import oidc_repository as oidc_repo
from trainops_identity.adapters import repository as repo
from trainops_identity.adapters.oidc_client import OidcClient, VerifiedIdToken
from trainops_identity.adapters.oidc_repository import ExternalIdentity
from trainops_identity.domain.accounts import Account, check_role, check_username
from trainops_identity.domain.errors import AccountExists, Invalid, NotFound, SignInFailed
from trainops_identity.domain.oidc_errors import OidcSignInRefused
from trainops_identity.domain.oidc_mapping import (
    Access,
    OidcMappingError,
    decide,
    display_label,
    username_candidates,
)
from trainops_identity.handlers.context import Identity
from trainops_identity.handlers.revocation import revoke_everything
from trainops_identity.handlers.sessions import StartedSession, start_session
from trainops_identity.oidc_settings import OidcSettings
from trainops_shared.events import uuid7
from trainops_shared.logging import get_logger

log = get_logger(__name__)

MAX_STATE_LENGTH = 200
MAX_CODE_LENGTH = 2000


@dataclass(frozen=True)
class OidcContext:
    """Organisation sign-in as configured: the identity use cases' context plus the provider."""

    identity: Identity
    settings: OidcSettings
    client: OidcClient

    @property
    def provider_code(self) -> str:
        """The provider as the audit log names it: the issuer's host name."""
        return (urlsplit(self.settings.issuer).hostname or "provider").lower()[:50]

    @property
    def actor(self) -> str:
        """How the audit log names changes the provider's claims made (not a person)."""
        return f"oidc:{self.provider_code}"


@dataclass(frozen=True, slots=True)
class OidcOutcome:
    """A finished callback: a session, or a person now waiting for an admin (``pending``)."""

    session: StartedSession | None
    next_url: str | None
    pending: bool = False


@dataclass(frozen=True, slots=True)
class StartedAttempt:
    """Where to send the browser, and the ``state`` it must also carry back in a cookie: a
    callback URL made in someone else's browser (login CSRF) lacks it and is refused."""

    url: str
    state: str


async def begin_oidc_sign_in(
    ctx: OidcContext, *, next_url: str | None, now: datetime
) -> StartedAttempt:
    """Store a new attempt (state, nonce, PKCE verifier) and return the provider URL."""
    request = await ctx.client.start()
    ttl = timedelta(seconds=ctx.settings.attempt_ttl_seconds)

    def store(conn: Connection) -> None:
        oidc_repo.forget_attempts_before(conn, now)
        oidc_repo.insert_attempt(
            conn,
            state=request.state,
            nonce=request.nonce,
            code_verifier=request.code_verifier,
            next_url=next_url,
            now=now,
            expires_at=now + ttl,
        )

    await ctx.identity.store.write(store)
    return StartedAttempt(url=request.url, state=request.state)


def _check_callback(state: str | None, code: str | None, error: str | None) -> str:
    if not state:
        raise OidcSignInRefused("request", "the provider's answer has no state parameter")
    if len(state) > MAX_STATE_LENGTH or not state.isascii() or not state.isprintable():
        raise OidcSignInRefused("state", "this sign-in is unknown, expired or already used")
    if error is None and not code:
        raise OidcSignInRefused("request", "the provider's answer has neither code nor error")
    if code is not None and (len(code) > MAX_CODE_LENGTH or not code.isprintable()):
        raise OidcSignInRefused("request", "the provider's code is malformed")
    return state


async def finish_oidc_sign_in(
    ctx: OidcContext,
    *,
    state: str | None,
    code: str | None,
    error: str | None,
    issuer: str | None,
    browser_state: str | None,
    client: str | None,
    now: datetime,
) -> OidcOutcome:
    """The callback. ``browser_state`` is the state cookie :func:`begin_oidc_sign_in`'s answer
    set. Refusals raise :class:`OidcSignInRefused`; provider outages
    :class:`~trainops_identity.domain.oidc_errors.OidcProviderUnavailable`."""
    state = _check_callback(state, code, error)
    if browser_state is None or not hmac.compare_digest(
        browser_state.encode("utf-8", errors="replace"), state.encode("utf-8", errors="replace")
    ):
        log.warning("oidc_state_not_from_this_browser", cookie=browser_state is not None)
        raise OidcSignInRefused(
            "state",
            "this sign-in was not started in this browser; start again from the sign-in page",
        )
    attempt = await ctx.identity.store.write(lambda conn: oidc_repo.take_attempt(conn, state))
    if attempt is None or attempt.expires_at <= now:
        log.warning("oidc_state_refused", known=attempt is not None)
        raise OidcSignInRefused("state", "this sign-in is unknown, expired or already used")
    if issuer is not None and issuer != ctx.settings.issuer:
        # RFC 9207: an answer naming another issuer is a mix-up attack or a misconfiguration.
        raise OidcSignInRefused("provider", "the answer comes from another identity provider")
    if error is not None:
        reason = error if error.isidentifier() and len(error) <= 40 else "error"
        log.info("oidc_provider_declined", error=reason)
        raise OidcSignInRefused("provider", f"the identity provider did not sign you in ({reason})")
    assert code is not None
    id_token = await ctx.client.exchange_code(code, attempt.code_verifier)
    verified = await ctx.client.verify_id_token(id_token, nonce=attempt.nonce)
    claims = dict(verified.claims)
    try:
        decision = decide(ctx.settings.mapping, claims)
    except OidcMappingError as exc:
        log.warning("oidc_mapping_refused", reason=str(exc))
        raise OidcSignInRefused("mapping", f"trainops cannot give you access: {exc}") from None
    label = display_label(claims, verified.subject)

    def link(conn: Connection) -> Account | None:
        known = oidc_repo.identity_by_subject(conn, verified.issuer, verified.subject)
        if ctx.settings.mapping.mode == "admin-assigns":
            return _admin_assigned(conn, known, verified.issuer, verified.subject, label, now)
        assert decision.access is not None
        return _claims_mapped(ctx, conn, known, decision.access, claims, label, verified, now)

    account = await ctx.identity.store.write(link)
    if account is None:
        log.info("oidc_person_pending", issuer=verified.issuer)
        return OidcOutcome(session=None, next_url=attempt.next_url, pending=True)
    try:
        session = await start_session(
            ctx.identity,
            account,
            method="oidc",
            now=now,
            client=client,
            detail={"provider": ctx.provider_code},
        )
    except SignInFailed:
        raise OidcSignInRefused("account", "your trainops account is disabled") from None
    return OidcOutcome(session=session, next_url=attempt.next_url)


def _admin_assigned(
    conn: Connection,
    known: ExternalIdentity | None,
    issuer: str,
    subject: str,
    label: str,
    now: datetime,
) -> Account | None:
    if known is None:
        oidc_repo.insert_identity(
            conn, issuer=issuer, subject=subject, account_id=None, label=label, now=now
        )
        return None
    oidc_repo.seen_identity(conn, known.identity_id, label=label, now=now)
    if known.account_id is None:
        return None
    account = repo.account_by_id(conn, known.account_id)
    if account is None or account.disabled:
        raise OidcSignInRefused("account", "your trainops account is disabled")
    return account


def _claims_mapped(
    ctx: OidcContext,
    conn: Connection,
    known: ExternalIdentity | None,
    access: Access,
    claims: dict[str, Any],
    label: str,
    verified: VerifiedIdToken,
    now: datetime,
) -> Account:
    role, region = check_role(access.role, access.region)
    if known is not None:
        oidc_repo.seen_identity(conn, known.identity_id, label=label, now=now)
    account = None
    if known is not None and known.account_id is not None:
        account = repo.account_by_id(conn, known.account_id)
    if account is not None:
        if account.disabled:
            raise OidcSignInRefused("account", "your trainops account is disabled")
        if (account.role, account.region) != (role, region):
            # The organisation changed what this person does: sessions and tokens carrying the
            # old role end now, as when an admin changes it.
            revoked = revoke_everything(conn, account.account_id, "role_changed", now)
            repo.update_account(conn, account.account_id, now, role=role, region=region)
            repo.record_audit(
                conn,
                actor=ctx.actor,
                action="account_role_set",
                record_type="account",
                record_id=account.username,
                now=now,
                detail={"role": role, "region": region, "revoked": revoked, "source": "claims"},
            )
            account = replace(account, role=role, region=region, changed_at=now)
        return account
    username = next(
        (
            name
            for name in username_candidates(claims, verified.issuer, verified.subject)
            if repo.account_by_username(conn, name) is None
        ),
        None,
    )
    if username is None:
        raise OidcSignInRefused("account", "no free username for your account; ask an admin")
    account = Account.new(uuid7(), username=username, role=role, region=region, now=now)
    repo.insert_account(conn, account)
    if known is None:
        oidc_repo.insert_identity(
            conn,
            issuer=verified.issuer,
            subject=verified.subject,
            account_id=str(account.account_id),
            label=label,
            now=now,
        )
    elif not oidc_repo.link_identity(conn, known.identity_id, str(account.account_id)):
        raise OidcSignInRefused("account", "another sign-in of yours is being set up; try again")
    repo.record_audit(
        conn,
        actor=ctx.actor,
        action="account_added",
        record_type="account",
        record_id=username,
        now=now,
        detail={"role": role, "region": region, "source": "oidc"},
    )
    return account


# ------------------------------------------------------------------ admin: pending people


async def list_pending(ctx: Identity) -> list[ExternalIdentity]:
    return await ctx.store.read(oidc_repo.pending_identities)


async def assign_pending(
    ctx: Identity,
    *,
    actor: str,
    identity_id: str,
    username: str,
    role: str,
    region: str | None,
    now: datetime,
) -> Account:
    """Give a person the provider vouched for an account with ``role`` and ``region``; their
    next organisation sign-in starts a session."""
    name = check_username(username)
    role, region = check_role(role, region)

    def assign(conn: Connection) -> Account:
        known = oidc_repo.identity_by_id(conn, identity_id)
        if known is None:
            raise NotFound("no such person waiting for access", field="identity_id")
        if known.account_id is not None:
            raise Invalid("identity_id: this person has an account already", field="identity_id")
        if repo.account_by_username(conn, name) is not None:
            raise AccountExists(f"an account {name!r} exists already", field="username")
        account = Account.new(uuid7(), username=name, role=role, region=region, now=now)
        repo.insert_account(conn, account)
        if not oidc_repo.link_identity(conn, identity_id, str(account.account_id)):
            raise Invalid("identity_id: this person has an account already", field="identity_id")
        repo.record_audit(
            conn,
            actor=actor,
            action="account_added",
            record_type="account",
            record_id=name,
            now=now,
            detail={"role": role, "region": region, "source": "oidc_pending"},
        )
        return account

    return await ctx.store.write(assign)
