"""``trainops token`` signs with the install's own private key, which the services verify with
the public half of; there is no default secret to sign with."""

from __future__ import annotations

import stat
from pathlib import Path

import jwt
import pytest

from trainops_cli.main import main
from trainops_shared.auth import JwtConfig, decode_token
from trainops_shared.settings import load_settings

pytestmark = pytest.mark.integration


@pytest.fixture(autouse=True)
def _clean_env(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("JWT_SECRET", "JWT_PRIVATE_KEY_FILE", "JWT_ISSUER", "JWT_AUDIENCE"):
        monkeypatch.delenv(name, raising=False)


def test_token_is_signed_with_the_installs_key(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["token", "--role", "admin", "--data-dir", str(tmp_path)]) == 0
    token = capsys.readouterr().out.strip()
    assert jwt.get_unverified_header(token)["alg"] == "EdDSA"
    key_file = tmp_path / "secrets" / "jwt-signing.key"
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600
    # A service of this install accepts it; one of another install does not.
    mine = load_settings("reporting", {"TRAINOPS_DATA_DIR": str(tmp_path)})
    assert decode_token(token, JwtConfig(mine.jwt_public_key)).role == "admin"
    other = load_settings("reporting", {"TRAINOPS_DATA_DIR": str(tmp_path / "other")})
    with pytest.raises(Exception, match="invalid token"):
        decode_token(token, JwtConfig(other.jwt_public_key))


def test_token_refuses_a_shared_secret(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("JWT_SECRET", "trainops-development-secret-do-not-use-in-production")
    assert main(["token", "--role", "admin", "--data-dir", str(tmp_path)]) == 2
    assert "JWT_SECRET is not used" in capsys.readouterr().err
    assert not (tmp_path / "secrets").exists()
