"""What the identity routes receive by dependency injection."""

from __future__ import annotations

from litestar.di import NamedDependency

from trainops_identity.handlers.context import Identity
from trainops_shared.auth import JwtConfig, Principal


class Web:
    """The identity use cases plus what the HTTP layer needs to answer a browser.

    A plain class, not a dataclass: Litestar would otherwise try to build a validation model of
    every nested field (keys, a storage runtime) for each request.
    """

    __slots__ = ("cookie_secure", "identity", "jwt", "oidc_organisation", "origins", "own_origin")

    def __init__(
        self,
        *,
        identity: Identity,
        jwt: JwtConfig,
        own_origin: str,
        origins: tuple[str, ...],
        cookie_secure: bool,
        oidc_organisation: str | None = None,
    ) -> None:
        self.identity = identity
        self.jwt = jwt
        self.own_origin = own_origin
        self.origins = origins
        """Every service origin a browser may be sent back to (ours included)."""
        self.cookie_secure = cookie_secure
        self.oidc_organisation = oidc_organisation
        """The name on the "Sign in with ..." button (``None``: no organisation sign-in)."""


WebDep = NamedDependency[Web]
PrincipalDep = NamedDependency[Principal]
