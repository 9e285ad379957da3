"""Claim mapping rules and organisation sign-in settings: pure, no provider needed."""

from __future__ import annotations

from pathlib import Path

import pytest

from trainops_identity.domain.oidc_mapping import (
    Access,
    ClaimMapping,
    OidcConfigError,
    OidcMappingError,
    decide,
    display_label,
    username_candidates,
)
from trainops_identity.oidc_settings import load_oidc_settings

pytestmark = pytest.mark.unit

GROUPS = ClaimMapping(
    role_claim="groups",
    region_claim="office",
    role_values={"kz-coordinators": "coordinator", "kz-reports": "reporting", "kz-it": "admin"},
    region_values={"KZ-AKT": "aktobe", "KZ-ALA": "almaty"},
)


def test_claims_name_the_role_and_region() -> None:
    decision = decide(ClaimMapping(), {"role": "coordinator", "region": " Aktobe "})
    assert decision.access == Access("coordinator", "aktobe") and not decision.pending


def test_a_region_on_a_role_without_regions_is_dropped() -> None:
    decision = decide(ClaimMapping(), {"role": "reporting", "region": "almaty"})
    assert decision.access == Access("reporting", None)


def test_group_values_are_translated() -> None:
    claims = {"groups": ["everyone", "kz-coordinators"], "office": "KZ-ALA"}
    assert decide(GROUPS, claims).access == Access("coordinator", "almaty")
    # Two groups of the same role are one role.
    mapping = ClaimMapping(role_claim="groups", role_values={"a": "reporting", "b": "reporting"})
    assert decide(mapping, {"groups": ["a", "b"]}).access == Access("reporting")


@pytest.mark.parametrize(
    ("claims", "message"),
    [
        ({}, "no 'groups' claim"),
        ({"groups": ["everyone"]}, "maps to a trainops role"),
        ({"groups": ["kz-reports", "kz-it"]}, "several roles"),
        ({"groups": ["kz-coordinators"]}, "coordinator needs a region"),
        ({"groups": ["kz-coordinators"], "office": "KZ-XYZ"}, "coordinator needs a region"),
        ({"groups": ["kz-coordinators"], "office": ["KZ-AKT", "KZ-ALA"]}, "several regions"),
        ({"groups": [1, 2]}, "string or a list of strings"),
    ],
)
def test_ambiguous_or_missing_claims_are_refused(claims: dict[str, object], message: str) -> None:
    with pytest.raises(OidcMappingError, match=message):
        decide(GROUPS, claims)


def test_a_role_claim_that_is_no_trainops_role_is_refused() -> None:
    with pytest.raises(OidcMappingError, match="maps to a trainops role"):
        decide(ClaimMapping(), {"role": "superuser"})
    with pytest.raises(OidcMappingError, match="city code"):
        decide(ClaimMapping(), {"role": "coordinator", "region": "Aktobe City!"})


def test_admin_assigns_ignores_the_claims() -> None:
    mapping = ClaimMapping(mode="admin-assigns")
    assert decide(mapping, {"role": "admin"}).pending
    assigned = Access("coordinator", "almaty")
    assert decide(mapping, {"role": "admin"}, assigned).access == assigned


def test_a_mapping_naming_an_unknown_role_is_a_configuration_error() -> None:
    with pytest.raises(OidcConfigError, match="unknown roles root"):
        ClaimMapping(role_values={"x": "root"})
    with pytest.raises(OidcConfigError, match="region map"):
        ClaimMapping(region_values={"x": "Not A Code"})
    with pytest.raises(OidcConfigError, match="mode"):
        ClaimMapping(mode="guess")


def test_usernames_come_from_the_provider_and_never_collide_by_design() -> None:
    claims = {"preferred_username": "Dana.K", "email": "dana@org.example"}
    names = username_candidates(claims, "https://idp.example", "sub-1")
    assert names[0] == "dana.k" and all(n.startswith("dana.k-") for n in names[1:3])
    assert names != username_candidates(claims, "https://idp.example", "sub-2")
    from_email = username_candidates({"email": "Бек@org.example"}, "https://idp", "s")
    assert all(name.startswith("sso-") for name in from_email)
    assert username_candidates({"email": "bob@org.example"}, "i", "s")[0] == "bob"


def test_the_label_admins_see() -> None:
    assert display_label({"preferred_username": "dana", "email": "d@x"}, "s") == "dana"
    assert display_label({"email": "d@x"}, "s") == "d@x"
    assert display_label({}, "subject-1") == "subject-1"


# ------------------------------------------------------------------ settings

BASE = {
    "OIDC_ISSUER": "https://login.org.example",
    "OIDC_CLIENT_ID": "trainops",
    "OIDC_CLIENT_SECRET": "s3cret",
}


def load(**env: str) -> object:
    return load_oidc_settings(
        {**BASE, **env}, public_url="https://identity.example", development=False
    )


def test_off_without_an_issuer() -> None:
    assert load_oidc_settings({}, public_url="http://x", development=True) is None


def test_defaults() -> None:
    settings = load_oidc_settings(BASE, public_url="https://identity.example/", development=False)
    assert settings is not None
    assert settings.redirect_url == "https://identity.example/sign-in/oidc/callback"
    assert settings.organisation == "login.org.example"
    assert settings.scopes == ("openid", "email", "profile")
    assert settings.mapping == ClaimMapping()
    assert "s3cret" not in repr(settings)


@pytest.mark.parametrize(
    ("env", "message"),
    [
        ({"OIDC_CLIENT_ID": ""}, "OIDC_CLIENT_ID is required"),
        ({"OIDC_CLIENT_SECRET": ""}, "OIDC_CLIENT_SECRET"),
        ({"OIDC_ISSUER": "http://login.org.example"}, "https outside development"),
        ({"OIDC_ISSUER": "ftp://login"}, "http\\(s\\) URL"),
        ({"OIDC_SCOPES": "email profile"}, "must include openid"),
        ({"OIDC_ROLE_MODE": "magic"}, "claims or admin-assigns"),
        ({"OIDC_ROLE_MAP": "[1]"}, "JSON object of strings"),
        ({"OIDC_ROLE_MAP": "{"}, "not JSON"),
        ({"OIDC_ROLE_MAP": '{"g": "root"}'}, "unknown roles"),
        ({"OIDC_REDIRECT_URL": "https://x.example/cb?a=1"}, "query or fragment"),
    ],
)
def test_bad_settings_name_the_setting(env: dict[str, str], message: str) -> None:
    with pytest.raises(OidcConfigError, match=message):
        load(**env)


def test_http_issuer_on_loopback_is_allowed_for_local_providers() -> None:
    assert load(OIDC_ISSUER="http://127.0.0.1:9000") is not None


def test_secret_from_a_private_file(tmp_path: Path) -> None:
    secret = tmp_path / "secret"
    secret.write_text("from-a-file\n")
    secret.chmod(0o600)
    env = {**BASE, "OIDC_CLIENT_SECRET": "", "OIDC_CLIENT_SECRET_FILE": str(secret)}
    settings = load_oidc_settings(env, public_url="https://i.example", development=False)
    assert settings is not None and settings.client_secret == "from-a-file"
    secret.chmod(0o644)
    with pytest.raises(OidcConfigError, match="readable by other users"):
        load_oidc_settings(env, public_url="https://i.example", development=False)
    with pytest.raises(OidcConfigError, match="not both"):
        load_oidc_settings(
            {**env, "OIDC_CLIENT_SECRET": "inline"}, public_url="https://i", development=False
        )
