"""The composition root of the identity service: key, hasher, tables, routes, start-up."""

from __future__ import annotations

from collections.abc import Mapping

from litestar import Router
from litestar.di import NamedDependency, Provide

from trainops_identity.adapters.passwords import Passwords
from trainops_identity.adapters.signer import load_signer
from trainops_identity.adapters.tables import MIGRATIONS
from trainops_identity.api.admin_pages import ADMIN_PAGES
from trainops_identity.api.controllers import ROUTES
from trainops_identity.api.deps import Web, WebDep
from trainops_identity.api.pages import PAGES
from trainops_identity.config import load_identity_config
from trainops_identity.handlers.accounts import count_accounts
from trainops_identity.handlers.context import Identity
from trainops_identity.handlers.oidc import OidcContext
from trainops_identity.oidc_wiring import OidcWiring
from trainops_shared.auth import JwtConfig
from trainops_shared.events.streams import IDENTITY
from trainops_shared.logging import get_logger
from trainops_shared.service import ServiceRuntime, ServiceSpec
from trainops_shared.settings import Settings

log = get_logger(__name__)

PUBLIC_PATHS = ["^/sign-in$", "^/refresh$", "^/sign-out$"]
"""Reached without a valid session: the sign-in form, the refresh of an expired cookie token
and sign-out (both check the cookie's signature and, for sign-out, its CSRF value)."""

FIRST_ADMIN_HINT = (
    "no accounts yet: create the first admin with "
    "`trainops users add admin --role admin --password-stdin`"
)


def build_spec(
    settings: Settings,
    passwords: Passwords | None = None,
    env: Mapping[str, str] | None = None,
) -> ServiceSpec:
    """``env`` (default ``os.environ``) holds the identity-only settings (see ``config``)."""
    config = load_identity_config(settings, env)
    signer = load_signer(settings, config.signing_key_file)
    hasher = passwords if passwords is not None else Passwords()
    jwt_config = JwtConfig(settings.jwt_public_key, settings.jwt_issuer, settings.jwt_audience)
    webs: dict[int, Web] = {}
    oidc = OidcWiring.load(settings, env)

    def provide_web(runtime: NamedDependency[ServiceRuntime]) -> Web:
        web = webs.get(id(runtime))
        if web is None:
            identity = Identity(
                store=runtime, passwords=hasher, signer=signer, policy=config.policy
            )
            web = Web(
                identity=identity,
                jwt=jwt_config,
                own_origin=settings.public_url,
                origins=config.service_origins,
                cookie_secure=config.cookie_secure,
                oidc_organisation=oidc.organisation,
            )
            webs[id(runtime)] = web
        return web

    def provide_oidc(web: WebDep) -> OidcContext | None:
        return oidc.context(web)

    async def announce(runtime: ServiceRuntime) -> None:
        web = provide_web(runtime)
        await oidc.start(runtime)
        if await count_accounts(web.identity) == 0:
            log.warning("no_accounts", hint=FIRST_ADMIN_HINT)

    api = Router(
        path="/",
        route_handlers=[*ROUTES, *PAGES, *ADMIN_PAGES, *oidc.routes],
        dependencies={
            "web": Provide(provide_web, sync_to_thread=False),
            "oidc": Provide(provide_oidc, sync_to_thread=False),
        },
    )
    return ServiceSpec(
        name="identity",
        title="trainops identity",
        description=(
            "Accounts, browser sign-in and sign-out everywhere, personal API tokens. The only "
            "holder of the token signing key and of the password store."
        ),
        migrations=MIGRATIONS,
        route_handlers=[api],
        produces=[IDENTITY],
        public_paths=[*PUBLIC_PATHS, *oidc.public_paths],
        on_start=announce,
        home_page=False,
    )
