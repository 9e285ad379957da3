"""Organisation sign-in as the composition root sees it: settings, routes, public paths, the
``oidc`` dependency and its start-up (its own migration set, component ``identity_oidc``).

Everything is present whether or not a provider is configured, so the tables exist and the
routes answer (404 without ``OIDC_ISSUER``), and configuring a provider later needs no upgrade.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from trainops_identity.adapters.oidc_client import OidcClient
from trainops_identity.adapters.oidc_tables import OIDC_MIGRATIONS
from trainops_identity.api.deps import Web
from trainops_identity.api.oidc import OIDC_ROUTES
from trainops_identity.domain.oidc_mapping import OidcConfigError
from trainops_identity.handlers.oidc import OidcContext
from trainops_identity.oidc_settings import OidcSettings, load_oidc_settings
from trainops_shared.logging import get_logger
from trainops_shared.service import ServiceRuntime
from trainops_shared.settings import Settings, SettingsError
from trainops_shared.storage import apply_migrations

log = get_logger(__name__)

OIDC_PUBLIC_PATHS = ["^/sign-in/oidc$", "^/sign-in/oidc/callback$"]
"""Reached before anyone is signed in: the redirect to the provider and its callback."""


@dataclass
class OidcWiring:
    settings: OidcSettings | None
    routes: list[Any] = field(default_factory=lambda: list(OIDC_ROUTES))
    public_paths: list[str] = field(default_factory=lambda: list(OIDC_PUBLIC_PATHS))
    _client: OidcClient | None = None
    _contexts: dict[int, OidcContext] = field(default_factory=dict)

    @classmethod
    def load(cls, settings: Settings, env: Mapping[str, str] | None = None) -> OidcWiring:
        """Read the ``OIDC_*`` settings; a bad one stops the start-up with its name."""
        try:
            oidc = load_oidc_settings(
                os.environ if env is None else env,
                public_url=settings.public_url,
                development=settings.env == "development",
            )
        except OidcConfigError as exc:
            raise SettingsError(str(exc)) from None
        return cls(settings=oidc)

    @property
    def organisation(self) -> str | None:
        """The name on the sign-in button, or ``None`` when organisation sign-in is off."""
        return self.settings.organisation if self.settings is not None else None

    async def start(self, runtime: ServiceRuntime) -> None:
        await runtime.db.write(lambda conn: apply_migrations(conn, [OIDC_MIGRATIONS]))
        if self.settings is not None:
            self._client = OidcClient(self.settings)
            log.info(
                "oidc_configured",
                issuer=self.settings.issuer,
                client_id=self.settings.client_id,
                mode=self.settings.mapping.mode,
                redirect_url=self.settings.redirect_url,
            )

    def context(self, web: Web) -> OidcContext | None:
        """The ``oidc`` dependency of the routes (``None``: not configured)."""
        if self.settings is None:
            return None
        if self._client is None:
            self._client = OidcClient(self.settings)
        found = self._contexts.get(id(web))
        if found is None:
            found = OidcContext(identity=web.identity, settings=self.settings, client=self._client)
            self._contexts[id(web)] = found
        return found
