import stat
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from trainops_shared.credentials import (
    NatsCredentials,
    load_signing_key,
    public_key_pem,
    redact_urls,
)
from trainops_shared.settings import SettingsError, load_settings

pytestmark = pytest.mark.unit
PUBLIC_PEM = public_key_pem(Ed25519PrivateKey.generate())
PRODUCTION = {"TRAINOPS_ENV": "production", "JWT_PUBLIC_KEY": PUBLIC_PEM}


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_defaults_run_with_no_configuration(tmp_path):
    s = load_settings("registration", {"TRAINOPS_DATA_DIR": str(tmp_path)})
    assert s.port == 8001
    assert s.database_url == f"sqlite+aiosqlite:///{tmp_path / 'registration.db'}"
    assert s.nats_url == "nats://127.0.0.1:4222"
    assert s.nats_user is None
    assert "BEGIN PUBLIC KEY" in s.jwt_public_key


def test_service_urls_default_to_this_host_and_take_public_addresses(tmp_path):
    env = {"TRAINOPS_DATA_DIR": str(tmp_path), "TRAINOPS_HOST": "127.0.0.1"}
    default = load_settings("registration", env).service_urls
    assert default["scheduling"] == "http://127.0.0.1:8002"
    assert default["identity"] == "http://127.0.0.1:8005"
    public = load_settings(
        "registration",
        {**env, "TRAINOPS_SERVICE_URLS": " reporting=https://reports.example.org/ ,"},
    ).service_urls
    assert public["reporting"] == "https://reports.example.org"
    assert public["feedback"] == "http://127.0.0.1:8003"


def test_a_development_install_generates_its_own_keys_0600(tmp_path):
    env = {"TRAINOPS_DATA_DIR": str(tmp_path)}
    first = load_settings("feedback", env)
    secrets = tmp_path / "secrets"
    assert _mode(secrets) == 0o700
    for name in ("jwt-signing.key", "jwt-signing.pub", "feedback-link.key"):
        assert _mode(secrets / name) == 0o600, name
    # The service holds the public half only; the private half signs what it verifies.
    private = load_signing_key(secrets / "jwt-signing.key")
    assert public_key_pem(private) == first.jwt_public_key
    assert "PRIVATE" not in repr(first) and first.feedback_link_key not in repr(first)
    # Stable across restarts, separate from the token key, different on another install.
    again = load_settings("feedback", env)
    assert (again.jwt_public_key, again.feedback_link_key) == (
        first.jwt_public_key,
        first.feedback_link_key,
    )
    assert len(first.feedback_link_key) == 64
    other = load_settings("feedback", {"TRAINOPS_DATA_DIR": str(tmp_path / "other")})
    assert other.jwt_public_key != first.jwt_public_key
    assert other.feedback_link_key != first.feedback_link_key
    # Only feedback needs the link key.
    assert load_settings("reporting", env).feedback_link_key == ""


def test_secret_files_readable_by_others_are_refused(tmp_path):
    load_settings("registration", {"TRAINOPS_DATA_DIR": str(tmp_path)})
    (tmp_path / "secrets" / "jwt-signing.pub").chmod(0o644)
    with pytest.raises(SettingsError, match="chmod 600"):
        load_settings("registration", {"TRAINOPS_DATA_DIR": str(tmp_path)})


@pytest.mark.parametrize(
    ("env", "message"),
    [
        ({"DATABASE_URL": "mysql://root@localhost/x"}, "DATABASE_URL='mysql://root@localhost/x'"),
        ({"DATABASE_URL": "postgresql://u@h/db"}, "postgresql+asyncpg://"),
        ({"NATS_URL": "http://localhost:4222"}, "NATS_URL="),
        ({"TRAINOPS_PORT": "eighty"}, "TRAINOPS_PORT='eighty' is not an integer"),
        ({"TRAINOPS_PORT": "70000"}, "out of range"),
        ({"TRAINOPS_ENV": "staging"}, "TRAINOPS_ENV='staging' is not one of"),
        ({"TRAINOPS_ENV": "production"}, "JWT_PUBLIC_KEY_FILE (or JWT_PUBLIC_KEY) is required"),
        ({**PRODUCTION, "JWT_PUBLIC_KEY": "short"}, "not a PEM public key"),
        ({"JWT_SECRET": "x" * 40}, "JWT_SECRET is not used"),
        ({**PRODUCTION, "JWT_SECRET": "x" * 40}, "JWT_SECRET is not used"),
        ({"JWT_PUBLIC_KEY_FILE": "/nonexistent/key.pub"}, "cannot read JWT public key"),
        ({"LOG_LEVEL": "LOUD"}, "LOG_LEVEL='LOUD'"),
        ({"TRAINOPS_SERVICE_URLS": "billing=http://x"}, "'billing=http://x' is not service=url"),
        ({"TRAINOPS_SERVICE_URLS": "feedback=ftp://x"}, "'ftp://x' is not an http(s) URL"),
    ],
)
def test_bad_settings_say_what_to_fix(env, message, tmp_path):
    with pytest.raises(SettingsError) as info:
        load_settings("scheduling", {"TRAINOPS_DATA_DIR": str(tmp_path), **env})
    assert message in str(info.value)
    assert "\n" not in str(info.value)


def test_production_refuses_an_rsa_key_or_a_weak_link_key(tmp_path):
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import rsa

    rsa_pem = (
        rsa.generate_private_key(public_exponent=65537, key_size=2048)
        .public_key()
        .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
        .decode()
    )
    with pytest.raises(SettingsError, match="not an Ed25519 key"):
        load_settings("reporting", {**PRODUCTION, "JWT_PUBLIC_KEY": rsa_pem})
    required = r"FEEDBACK_LINK_KEY_FILE \(or FEEDBACK_LINK_KEY\) is required"
    with pytest.raises(SettingsError, match=required):
        load_settings("feedback", PRODUCTION)
    for weak in ("short", "a" * 40):
        with pytest.raises(SettingsError, match="at least 32 characters"):
            load_settings("feedback", {**PRODUCTION, "FEEDBACK_LINK_KEY": weak})
    registration_required = r"REGISTRATION_LINK_KEY_FILE \(or REGISTRATION_LINK_KEY\) is required"
    sealed = {**PRODUCTION, "PERSONAL_DATA_KEY": "0123456789abcdef" * 4}
    with pytest.raises(SettingsError, match=registration_required):
        load_settings("registration", sealed)
    with pytest.raises(SettingsError, match="REGISTRATION_LINK_KEY must be a random key"):
        load_settings("registration", {**sealed, "REGISTRATION_LINK_KEY": "a" * 40})
    assert not (tmp_path / "secrets").exists()


def test_registration_has_its_own_link_key(tmp_path):
    """Development: generated once per install, unlike the feedback key; production: required
    and checked like the feedback key, and no other service loads it."""
    env = {"TRAINOPS_DATA_DIR": str(tmp_path)}
    first = load_settings("registration", env)
    again = load_settings("registration", env)
    assert len(first.registration_link_key) == 64
    assert first.registration_link_key == again.registration_link_key
    assert first.registration_link_key not in repr(first)
    assert (tmp_path / "secrets" / "registration-link.key").stat().st_mode & 0o077 == 0
    feedback = load_settings("feedback", env)
    assert feedback.registration_link_key == "" and feedback.feedback_link_key != (
        first.registration_link_key
    )
    required = r"REGISTRATION_LINK_KEY_FILE \(or REGISTRATION_LINK_KEY\) is required"
    # Registration's personal data key is checked first: given here, so the link key is next.
    production = {**PRODUCTION, "PERSONAL_DATA_KEY": "0123456789abcdef" * 4}
    with pytest.raises(SettingsError, match=required):
        load_settings("registration", {**production, "TRAINOPS_DATA_DIR": str(tmp_path / "p")})
    with pytest.raises(SettingsError, match="REGISTRATION_LINK_KEY must be a random key"):
        load_settings("registration", {**production, "REGISTRATION_LINK_KEY": "a" * 40})


def test_production_accepts_real_keys(tmp_path):
    key_file = tmp_path / "jwt.pub"
    key_file.write_text(PUBLIC_PEM)
    key_file.chmod(0o600)
    s = load_settings(
        "feedback",
        {
            "TRAINOPS_ENV": "production",
            "JWT_PUBLIC_KEY_FILE": str(key_file),
            "FEEDBACK_LINK_KEY": "0123456789abcdef" * 4,
            "TRAINOPS_DATA_DIR": str(tmp_path / "data"),
        },
    )
    assert s.env == "production" and s.jwt_public_key == PUBLIC_PEM
    assert not (tmp_path / "data" / "secrets").exists()  # production generates nothing


def test_nats_credentials_come_from_a_file_not_the_url(tmp_path):
    creds = tmp_path / "registration.json"
    creds.write_bytes(NatsCredentials("registration", "pw-from-file").to_json())
    creds.chmod(0o600)
    s = load_settings(
        "registration",
        {
            "TRAINOPS_DATA_DIR": str(tmp_path),
            "NATS_URL": "nats://a:4222,nats://b:4222",
            "NATS_CREDENTIALS_FILE": str(creds),
        },
    )
    assert s.nats_user == "registration"
    assert s.nats_url == (
        "nats://registration:pw-from-file@a:4222,nats://registration:pw-from-file@b:4222"
    )
    assert "pw-from-file" not in s.nats_url_redacted
    creds.chmod(0o644)
    with pytest.raises(SettingsError, match="readable by other users"):
        load_settings(
            "registration",
            {"TRAINOPS_DATA_DIR": str(tmp_path), "NATS_CREDENTIALS_FILE": str(creds)},
        )


def test_a_password_in_a_bad_url_is_not_echoed(tmp_path):
    for name, url in (
        ("NATS_URL", "http://svc:hunter2-secret@nats:4222"),
        ("DATABASE_URL", "mysql://root:hunter2-secret@db/x"),
    ):
        with pytest.raises(SettingsError) as info:
            load_settings("registration", {"TRAINOPS_DATA_DIR": str(tmp_path), name: url})
        assert "hunter2-secret" not in str(info.value)
        assert "***" in str(info.value)


def test_redact_urls():
    assert (
        redact_urls("at nats://svc:pw@h:4222, tls://tok@h2")
        == "at nats://svc:***@h:4222, tls://***@h2"
    )
    assert redact_urls("no url here") == "no url here"


def test_unknown_service():
    with pytest.raises(SettingsError, match="unknown service"):
        load_settings("billing", {})


def test_nats_user_and_password_variables_stay_out_of_the_url_setting(tmp_path):
    env = {"TRAINOPS_DATA_DIR": str(tmp_path), "NATS_URL": "nats://nats:4222"}
    s = load_settings("reporting", {**env, "NATS_USER": "reporting", "NATS_PASSWORD": "pw-123"})
    assert s.nats_user == "reporting"
    assert s.nats_url == "nats://reporting:pw-123@nats:4222"
    assert s.nats_url_redacted == "nats://reporting:***@nats:4222"
    with pytest.raises(SettingsError, match="NATS_USER and NATS_PASSWORD together"):
        load_settings("reporting", {**env, "NATS_USER": "reporting"})


def test_a_development_service_finds_its_own_credentials_in_the_data_dir(tmp_path):
    from trainops_shared.credentials import ensure_nats_credentials, secrets_dir

    creds = ensure_nats_credentials(secrets_dir(tmp_path), "feedback")
    s = load_settings("feedback", {"TRAINOPS_DATA_DIR": str(tmp_path)})
    assert s.nats_user == "feedback"
    assert creds.password in s.nats_url and creds.password not in s.nats_url_redacted
    assert "nats-feedback.json" not in repr(s)


def test_registration_gets_a_personal_data_key_of_its_own_and_production_needs_one(tmp_path):
    env = {"TRAINOPS_DATA_DIR": str(tmp_path)}
    first = load_settings("registration", env)
    path = tmp_path / "secrets" / "personal-data.key"
    assert _mode(path) == 0o600
    assert len(first.personal_data_key) == 64 and first.personal_data_key not in repr(first)
    assert load_settings("registration", env).personal_data_key == first.personal_data_key
    assert load_settings("reporting", env).personal_data_key == ""
    assert (first.retention_days, first.consent_purposes) == (0, "")
    required = r"PERSONAL_DATA_KEY_FILE \(or PERSONAL_DATA_KEY\) is required"
    with pytest.raises(SettingsError, match=required):
        load_settings("registration", {**PRODUCTION, "TRAINOPS_DATA_DIR": str(tmp_path / "p")})
    with pytest.raises(SettingsError, match="PERSONAL_DATA_KEY must be a random key"):
        load_settings("registration", {**PRODUCTION, "PERSONAL_DATA_KEY": "a" * 40})
    with pytest.raises(SettingsError, match="PERSONAL_DATA_RETENTION_DAYS=-1 is out of range"):
        load_settings("registration", {**env, "PERSONAL_DATA_RETENTION_DAYS": "-1"})
    kept = load_settings("registration", {**env, "PERSONAL_DATA_RETENTION_DAYS": "400"})
    assert kept.retention_days == 400
