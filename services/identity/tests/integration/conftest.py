"""The identity service wired to a real OpenID provider, for the organisation sign-in tests.

A test module that needs a provider configured otherwise (other accounts, other redirect
addresses) defines its own ``provider`` fixture, which pytest prefers to this one.
"""

from __future__ import annotations

import pytest
from oidc_support import Identity, identity_for, start_provider

from trainops_devtools.testing.oidc_provider import OidcProvider, OidcProviderFactory


@pytest.fixture
def provider(oidc_provider_factory: OidcProviderFactory) -> OidcProvider:
    return start_provider(oidc_provider_factory)


@pytest.fixture
def identity(open_identity: Identity, provider: OidcProvider) -> Identity:
    return identity_for(open_identity, provider)
