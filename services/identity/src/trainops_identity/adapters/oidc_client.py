"""The OpenID Connect relying party: discovery, the authorization request, the code exchange and
ID token verification against the provider's published keys.

Library code does the cryptography and the protocol details: Authlib builds the PKCE challenge
(S256) and the authorization URL, joserfc verifies the ID token's signature (asymmetric
algorithms only, the key chosen by ``kid`` from the provider's JWKS) and its claims. What is
ours is the policy around them:

* the issuer in discovery must be exactly the configured one (a provider that answers for
  another issuer is not ours), and the JWKS comes from the ``jwks_uri`` discovery names;
* the JWKS is cached; a token naming a ``kid`` the cache does not know triggers exactly one
  refetch (the provider rotated its keys), and a ``kid`` still unknown afterwards is refused (ID
  tokens only arrive from the token endpoint, in exchange for a code and our secret, so this
  cannot be driven by anyone but the provider);
* ``iss``, ``aud`` (and ``azp`` when there are several audiences), ``exp``, ``iat`` (not in the
  future, not older than the allowed age), ``sub`` and ``nonce`` are all required and checked.

Neither the client secret, nor a code, nor a token is ever logged or put into an error message.
"""

from __future__ import annotations

import asyncio
import contextlib
import hmac
import time
from collections.abc import AsyncIterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote_plus

import httpx
from authlib.common.security import generate_token
from authlib.oauth2.rfc6749.parameters import prepare_grant_uri
from authlib.oauth2.rfc7636 import create_s256_code_challenge
from joserfc import jws, jwt
from joserfc.errors import (
    BadSignatureError,
    DecodeError,
    ExpiredTokenError,
    InvalidClaimError,
    JoseError,
    MissingClaimError,
    UnsupportedAlgorithmError,
)
from joserfc.jwk import GuestProtocol, KeySet
from joserfc.jwk import Key as JoseKey

from trainops_identity.domain.oidc_errors import OidcProviderUnavailable, OidcSignInRefused
from trainops_identity.oidc_settings import OidcSettings
from trainops_shared.logging import get_logger

log = get_logger(__name__)

DISCOVERY_TTL_SECONDS = 3600.0
JWKS_TTL_SECONDS = 3600.0
MAX_ID_TOKEN_BYTES = 16 * 1024
MAX_SUBJECT_LENGTH = 255
"""OpenID Connect Core §2: a ``sub`` is at most 255 ASCII characters."""
HTTP_TIMEOUT_SECONDS = 10.0


@dataclass(frozen=True, slots=True)
class ProviderMetadata:
    issuer: str
    authorization_endpoint: str
    token_endpoint: str
    jwks_uri: str
    signing_algorithms: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class AuthorizationRequest:
    """A started sign-in: where to send the browser, and what to keep server-side for the
    callback (the state, the nonce the ID token must carry, the PKCE verifier)."""

    url: str
    state: str
    nonce: str
    code_verifier: str


@dataclass(frozen=True, slots=True)
class VerifiedIdToken:
    """The claims of an ID token whose signature and registered claims were checked."""

    issuer: str
    subject: str
    claims: Mapping[str, Any]


class UnknownSigningKey(Exception):
    """The token's ``kid`` is not in the JWKS (after one refetch)."""


def _refused(message: str) -> OidcSignInRefused:
    return OidcSignInRefused("id_token", f"the ID token was refused: {message}")


class OidcClient:
    """One configured provider. Safe to share between requests (one instance per service)."""

    def __init__(
        self,
        settings: OidcSettings,
        *,
        http: httpx.AsyncClient | None = None,
        clock: Any = time.time,
    ) -> None:
        self.settings = settings
        self._shared_http = http
        self._clock = clock
        self._metadata: ProviderMetadata | None = None
        self._metadata_at = 0.0
        self._keys: KeySet | None = None
        self._keys_at = 0.0
        self._lock = asyncio.Lock()
        self.jwks_fetches = 0
        """How many times the JWKS was fetched (operators' and tests' view of the cache)."""

    async def close(self) -> None:
        """Nothing to release: connections live only as long as one exchange (below)."""

    @contextlib.asynccontextmanager
    async def _http(self) -> AsyncIterator[httpx.AsyncClient]:
        """A client for one exchange with the provider. Sign-ins are rare next to the cost of
        a connection, and a connection kept open across requests would outlive the service's
        shutdown, which has no hook to close it."""
        if self._shared_http is not None:
            yield self._shared_http
            return
        async with httpx.AsyncClient(timeout=HTTP_TIMEOUT_SECONDS) as http:
            yield http

    # ---------------------------------------------------------------- provider documents

    async def _get_json(self, url: str, what: str) -> dict[str, Any]:
        try:
            async with self._http() as http:
                response = await http.get(url, headers={"Accept": "application/json"})
        except httpx.HTTPError as exc:
            log.warning("oidc_provider_unreachable", what=what, error=type(exc).__name__)
            raise OidcProviderUnavailable(
                f"the identity provider's {what} is unreachable"
            ) from None
        if response.status_code >= 500:
            log.warning("oidc_provider_error", what=what, status=response.status_code)
            raise OidcProviderUnavailable(f"the identity provider's {what} answered an error")
        if response.status_code != 200:
            log.error("oidc_provider_refused_document", what=what, status=response.status_code)
            raise OidcProviderUnavailable(
                f"the identity provider's {what} answered {response.status_code}"
            )
        try:
            body = response.json()
        except ValueError:
            raise OidcProviderUnavailable(f"the identity provider's {what} is not JSON") from None
        if not isinstance(body, dict):
            raise OidcProviderUnavailable(f"the identity provider's {what} is not a JSON object")
        return body

    async def metadata(self) -> ProviderMetadata:
        """Discovery, cached for an hour."""
        now = time.monotonic()
        if self._metadata is not None and now - self._metadata_at < DISCOVERY_TTL_SECONDS:
            return self._metadata
        issuer = self.settings.issuer
        url = issuer.rstrip("/") + "/.well-known/openid-configuration"
        doc = await self._get_json(url, "discovery document")
        if doc.get("issuer") != issuer:
            log.error("oidc_discovery_issuer_mismatch")
            raise OidcProviderUnavailable(
                "the identity provider's discovery document names another issuer"
            )
        fields = {}
        for name in ("authorization_endpoint", "token_endpoint", "jwks_uri"):
            value = doc.get(name)
            if not isinstance(value, str) or not value.startswith(("https://", "http://")):
                raise OidcProviderUnavailable(f"the discovery document has no usable {name}")
            fields[name] = value
        methods = doc.get("code_challenge_methods_supported")
        if isinstance(methods, list) and "S256" not in methods:
            raise OidcProviderUnavailable("the identity provider does not support PKCE S256")
        advertised = doc.get("id_token_signing_alg_values_supported")
        algorithms = tuple(
            alg
            for alg in self.settings.algorithms
            if not isinstance(advertised, list) or alg in advertised
        )
        if not algorithms:
            raise OidcProviderUnavailable(
                "the identity provider signs ID tokens with no algorithm we accept"
            )
        self._metadata = ProviderMetadata(
            issuer=issuer,
            authorization_endpoint=fields["authorization_endpoint"],
            token_endpoint=fields["token_endpoint"],
            jwks_uri=fields["jwks_uri"],
            signing_algorithms=algorithms,
        )
        self._metadata_at = now
        return self._metadata

    async def _fetch_keys(self) -> KeySet:
        metadata = await self.metadata()
        doc = await self._get_json(metadata.jwks_uri, "key set (JWKS)")
        keys = doc.get("keys")
        if not isinstance(keys, list):
            raise OidcProviderUnavailable("the identity provider's JWKS has no keys list")
        usable = [
            key
            for key in keys
            if isinstance(key, dict)
            and key.get("use", "sig") == "sig"
            and "d" not in key  # never accept a private key someone published by mistake
        ]
        try:
            keyset = KeySet.import_key_set({"keys": usable})
        except (JoseError, ValueError, TypeError):
            raise OidcProviderUnavailable("the identity provider's JWKS is malformed") from None
        self.jwks_fetches += 1
        self._keys = keyset
        self._keys_at = time.monotonic()
        log.info("oidc_jwks_fetched", keys=len(usable), kids=[k.get("kid") for k in usable])
        return keyset

    async def _key_for(self, kid: str | None) -> JoseKey:
        """The key of ``kid``; one JWKS refetch when the cached set does not have it."""
        async with self._lock:
            if self._keys is None or time.monotonic() - self._keys_at >= JWKS_TTL_SECONDS:
                await self._fetch_keys()
            keyset, generation = self._keys, self.jwks_fetches
        assert keyset is not None
        key = _find(keyset, kid)
        if key is None:
            # The provider rotated its keys after our fetch. Concurrent sign-ins share one
            # refetch: only the first to get the lock fetches.
            async with self._lock:
                if self.jwks_fetches == generation:
                    await self._fetch_keys()
                keyset = self._keys
            assert keyset is not None
            key = _find(keyset, kid)
        if key is None:
            raise UnknownSigningKey
        return key

    # ---------------------------------------------------------------- the flow

    async def start(self) -> AuthorizationRequest:
        """A new authorization request: fresh state, nonce and PKCE verifier (S256)."""
        metadata = await self.metadata()
        state = generate_token(43)
        nonce = generate_token(43)
        verifier = generate_token(64)
        url = prepare_grant_uri(
            metadata.authorization_endpoint,
            client_id=self.settings.client_id,
            response_type="code",
            redirect_uri=self.settings.redirect_url,
            scope=" ".join(self.settings.scopes),
            state=state,
            nonce=nonce,
            code_challenge=create_s256_code_challenge(verifier),
            code_challenge_method="S256",
        )
        return AuthorizationRequest(url=url, state=state, nonce=nonce, code_verifier=verifier)

    async def exchange_code(self, code: str, code_verifier: str) -> str:
        """The ID token the token endpoint gives for ``code`` (client_secret_basic + PKCE)."""
        metadata = await self.metadata()
        try:
            async with self._http() as http:
                response = await http.post(
                    metadata.token_endpoint,
                    data={
                        "grant_type": "authorization_code",
                        "code": code,
                        "redirect_uri": self.settings.redirect_url,
                        "code_verifier": code_verifier,
                    },
                    auth=httpx.BasicAuth(
                        _form_encode(self.settings.client_id),
                        _form_encode(self.settings.client_secret),
                    ),
                    headers={"Accept": "application/json"},
                )
        except httpx.HTTPError as exc:
            log.warning("oidc_token_endpoint_unreachable", error=type(exc).__name__)
            raise OidcProviderUnavailable(
                "the identity provider's token endpoint is unreachable"
            ) from None
        if response.status_code >= 500:
            log.warning("oidc_token_endpoint_error", status=response.status_code)
            raise OidcProviderUnavailable("the identity provider's token endpoint failed")
        body: Any
        try:
            body = response.json()
        except ValueError:
            body = None
        if response.status_code != 200 or not isinstance(body, dict):
            error = body.get("error") if isinstance(body, dict) else None
            code_name = error if isinstance(error, str) and error.isidentifier() else "unknown"
            log.warning("oidc_code_refused", status=response.status_code, error=code_name)
            if code_name == "invalid_client":
                # Our registration is wrong, not the person's sign-in: an operator must act.
                raise OidcProviderUnavailable("the identity provider does not accept our client")
            raise OidcSignInRefused(
                "code", f"the identity provider refused the sign-in code ({code_name})"
            )
        id_token = body.get("id_token")
        if not isinstance(id_token, str) or not id_token:
            raise OidcSignInRefused("id_token", "the identity provider sent no ID token")
        return id_token

    async def verify_id_token(self, id_token: str, *, nonce: str) -> VerifiedIdToken:
        """Signature (by ``kid`` from the JWKS, one refetch for an unknown ``kid``) and claims."""
        if len(id_token) > MAX_ID_TOKEN_BYTES:
            raise _refused("it is too large")
        metadata = await self.metadata()
        try:
            # Unverified: only to pick the key; the signature is checked below.
            header = jws.extract_compact(id_token.encode("ascii")).protected
        except (JoseError, ValueError, UnicodeError):
            raise _refused("it is not a signed JWT") from None
        alg = header.get("alg")
        if alg not in metadata.signing_algorithms:
            raise _refused(f"its algorithm {str(alg)[:16]!r} is not accepted")
        kid = header.get("kid")
        if kid is not None and not isinstance(kid, str):
            raise _refused("its key id is malformed")
        try:
            key = await self._key_for(kid)
        except UnknownSigningKey:
            log.warning("oidc_unknown_signing_key", kid=str(kid)[:64])
            raise _refused("it is signed by a key the provider does not publish") from None

        def resolve(_: GuestProtocol) -> JoseKey:
            return key

        try:
            token = jwt.decode(id_token, resolve, algorithms=list(metadata.signing_algorithms))
        except BadSignatureError:
            log.warning("oidc_bad_signature", kid=str(kid)[:64])
            raise _refused("its signature does not match") from None
        except (UnsupportedAlgorithmError, DecodeError, JoseError, ValueError):
            raise _refused("it cannot be decoded") from None
        claims = dict(token.claims)
        self._check_claims(claims, nonce)
        return VerifiedIdToken(issuer=metadata.issuer, subject=claims["sub"], claims=claims)

    def _check_claims(self, claims: dict[str, Any], nonce: str) -> None:
        settings = self.settings
        now = int(self._clock())
        registry = jwt.JWTClaimsRegistry(
            now=now,
            leeway=settings.clock_leeway_seconds,
            iss={"essential": True, "value": settings.issuer},
            aud={"essential": True, "value": settings.client_id},
            sub={"essential": True},
            exp={"essential": True},
            iat={"essential": True},
        )
        try:
            registry.validate(claims)
        except ExpiredTokenError:
            raise _refused("it has expired") from None
        except MissingClaimError as exc:
            raise _refused(f"it lacks the {exc.claim} claim") from None
        except InvalidClaimError as exc:
            raise _refused(f"its {exc.claim} claim is wrong") from None
        except (JoseError, ValueError):
            raise _refused("its claims are malformed") from None
        if len(claims["sub"]) > MAX_SUBJECT_LENGTH:
            raise _refused(f"its sub claim is longer than {MAX_SUBJECT_LENGTH} characters")
        audiences = claims["aud"] if isinstance(claims["aud"], list) else [claims["aud"]]
        if len(audiences) > 1 and claims.get("azp") != settings.client_id:
            raise _refused("it names several audiences and we are not its authorized party")
        if "azp" in claims and claims["azp"] != settings.client_id:
            raise _refused("its azp claim names another client")
        if (
            now - int(claims["iat"])
            > settings.max_id_token_age_seconds + settings.clock_leeway_seconds
        ):
            raise _refused("it was issued too long ago")
        token_nonce = claims.get("nonce")
        if not isinstance(token_nonce, str) or not hmac.compare_digest(
            token_nonce.encode(), nonce.encode()
        ):
            raise _refused("its nonce does not belong to this sign-in")


def _find(keyset: KeySet, kid: str | None) -> JoseKey | None:
    keys: Sequence[JoseKey] = keyset.keys
    if kid is None:
        # Without a kid only an unambiguous set (one key) may be used.
        return keys[0] if len(keys) == 1 else None
    for key in keys:
        if key.kid == kid:
            return key
    return None


def _form_encode(value: str) -> str:
    """RFC 6749 §2.3.1: client id and secret are form-encoded before HTTP Basic."""
    return quote_plus(value)
