"""What an organisation's identity provider may decide about a person, and what it may not.

The provider vouches for *who* someone is (issuer + ``sub``). *What* they may do in trainops
comes either from claims the organisation maintains (a role claim and a region claim, with a
translation table for the organisation's own group names) or from an admin, who gives role and
region to a person the provider vouched for on their first sign-in; until then the person is
pending and gets no session. Anything ambiguous is refused rather than guessed: two claim values
naming different roles, a coordinator without a region, a role value nobody mapped.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

from trainops_identity.domain.accounts import REGION, USERNAME
from trainops_shared.auth import ROLES

MappingMode = Literal["claims", "admin-assigns"]
MAPPING_MODES: tuple[MappingMode, ...] = ("claims", "admin-assigns")

MAX_LABEL_LENGTH = 200


class OidcMappingError(ValueError):
    """The provider's claims cannot be turned into a trainops role and region; the message says
    which claim and why (never its personal content)."""


class OidcConfigError(ValueError):
    """A claim mapping setting is unusable; the message names the setting."""


@dataclass(frozen=True, slots=True)
class Access:
    """A role and, for a coordinator, the one region they work in."""

    role: str
    region: str | None = None

    def __post_init__(self) -> None:
        if self.role not in ROLES:
            raise OidcMappingError(f"unknown role {self.role!r}; roles: {', '.join(ROLES)}")
        if self.role == "coordinator" and not self.region:
            raise OidcMappingError("a coordinator needs a region")
        if self.role != "coordinator" and self.region is not None:
            # Only coordinators are region-scoped; a region on anyone else would be ignored by
            # every service, so it is not recorded as if it meant something.
            object.__setattr__(self, "region", None)


@dataclass(frozen=True, slots=True)
class ClaimMapping:
    """How claims become access (``mode="claims"``), or that an admin decides instead."""

    mode: MappingMode = "claims"
    role_claim: str = "role"
    region_claim: str = "region"
    role_values: Mapping[str, str] = field(default_factory=dict)
    """Provider value → trainops role (e.g. a group name); empty: the value must be a role."""
    region_values: Mapping[str, str] = field(default_factory=dict)
    """Provider value → region; empty: the value is the region."""

    def __post_init__(self) -> None:
        if self.mode not in MAPPING_MODES:
            raise OidcConfigError(f"mapping mode must be one of {', '.join(MAPPING_MODES)}")
        for name, claim in (("role claim", self.role_claim), ("region claim", self.region_claim)):
            if not claim or not claim.strip():
                raise OidcConfigError(f"the {name} name must not be empty")
        bad = sorted({role for role in self.role_values.values() if role not in ROLES})
        if bad:
            raise OidcConfigError(
                f"role map names unknown roles {', '.join(bad)}; roles: {', '.join(ROLES)}"
            )
        for region in self.region_values.values():
            try:
                _check_region(region)
            except OidcMappingError as exc:
                raise OidcConfigError(f"region map: {exc}") from None


@dataclass(frozen=True, slots=True)
class Decision:
    """The outcome of mapping: access for a session now, or a pending person (``access`` None)."""

    access: Access | None

    @property
    def pending(self) -> bool:
        return self.access is None


def _values(claims: Mapping[str, Any], name: str) -> list[str]:
    value = claims.get(name)
    if value is None:
        return []
    items: Sequence[Any] = value if isinstance(value, list) else [value]
    if not all(isinstance(item, str) for item in items):
        raise OidcMappingError(f"claim {name!r} must be a string or a list of strings")
    return [item.strip() for item in items if item.strip()]


def _check_region(region: str) -> str:
    """A region as accounts hold it: the lower-case city code (``almaty``, ``aktobe``)."""
    code = region.strip().lower()
    if not REGION.fullmatch(code):
        raise OidcMappingError("a region must be a lower-case city code such as almaty")
    return code


def role_from_claims(mapping: ClaimMapping, claims: Mapping[str, Any]) -> str:
    """The one role the role claim names; several values may map to the same role."""
    found = _values(claims, mapping.role_claim)
    if not found:
        raise OidcMappingError(f"the ID token has no {mapping.role_claim!r} claim")
    if mapping.role_values:
        roles = {mapping.role_values[value] for value in found if value in mapping.role_values}
    else:
        roles = {value for value in found if value in ROLES}
    if not roles:
        raise OidcMappingError(f"no value of claim {mapping.role_claim!r} maps to a trainops role")
    if len(roles) > 1:
        raise OidcMappingError(
            f"claim {mapping.role_claim!r} maps to several roles ({', '.join(sorted(roles))}); "
            "the provider must give one"
        )
    return roles.pop()


def region_from_claims(mapping: ClaimMapping, claims: Mapping[str, Any]) -> str | None:
    found = _values(claims, mapping.region_claim)
    if mapping.region_values:
        regions = {mapping.region_values[v] for v in found if v in mapping.region_values}
    else:
        regions = set(found)
    if len(regions) > 1:
        raise OidcMappingError(f"claim {mapping.region_claim!r} names several regions")
    return _check_region(regions.pop()) if regions else None


def decide(
    mapping: ClaimMapping, claims: Mapping[str, Any], assigned: Access | None = None
) -> Decision:
    """Access for this sign-in.

    ``assigned`` is what an admin gave this person earlier (admin-assigns mode): it stands until
    changed, and the provider's claims never override it. In claims mode the claims of *this*
    sign-in decide, so a person the organisation moved or demoted loses the old access at once.
    """
    if mapping.mode == "admin-assigns":
        return Decision(assigned)
    role = role_from_claims(mapping, claims)
    region = region_from_claims(mapping, claims) if role == "coordinator" else None
    if role == "coordinator" and region is None:
        raise OidcMappingError(
            f"a coordinator needs a region, and the ID token has no {mapping.region_claim!r} "
            "claim that names one"
        )
    return Decision(Access(role, region))


def display_label(claims: Mapping[str, Any], subject: str) -> str:
    """How an admin recognises the person in the pending list: what the provider calls them
    (``preferred_username``, ``email`` or ``name``), else the subject."""
    for name in ("preferred_username", "email", "name"):
        value = claims.get(name)
        if isinstance(value, str) and value.strip() and value.isprintable():
            return value.strip()[:MAX_LABEL_LENGTH]
    return subject[:MAX_LABEL_LENGTH]


def username_candidates(claims: Mapping[str, Any], issuer: str, subject: str) -> list[str]:
    """Usernames to try, in order, for the account of a person first seen through the provider.

    The provider's own name for them (``preferred_username``, else the part of ``email`` before
    the ``@``), folded to what usernames allow, then the same with a suffix derived from issuer
    and subject. A name already taken is never reused: linking to an existing local account by
    name would let whoever controls a provider account of that name take the local one over.
    """
    digest = hashlib.sha256(f"{issuer}\n{subject}".encode()).hexdigest()
    raw = ""
    for name in ("preferred_username", "email"):
        value = claims.get(name)
        if isinstance(value, str) and value.strip():
            raw = value.split("@", 1)[0]
            break
    base = re.sub(r"[^a-z0-9._-]+", "-", raw.strip().lower()).strip("._-")[:40]
    if not base or not USERNAME.fullmatch(base):
        base = "sso"
    candidates = [base] if base != "sso" else []
    candidates += [f"{base}-{digest[:6]}", f"{base}-{digest[:12]}", f"sso-{digest[:24]}"]
    return [c for c in candidates if USERNAME.fullmatch(c)]
