import pytest

from trainops_shared.settings import DEV_JWT_SECRET, SettingsError, load_settings

pytestmark = pytest.mark.unit


def test_defaults_run_with_no_configuration(tmp_path):
    s = load_settings("registration", {"TRAINOPS_DATA_DIR": str(tmp_path)})
    assert s.port == 8001
    assert s.database_url == f"sqlite+aiosqlite:///{tmp_path / 'registration.db'}"
    assert s.jwt_secret == DEV_JWT_SECRET
    assert s.nats_url == "nats://127.0.0.1:4222"


@pytest.mark.parametrize(
    ("env", "message"),
    [
        ({"DATABASE_URL": "mysql://root@localhost/x"}, "DATABASE_URL='mysql://root@localhost/x'"),
        ({"DATABASE_URL": "postgresql://u@h/db"}, "postgresql+asyncpg://"),
        ({"NATS_URL": "http://localhost:4222"}, "NATS_URL="),
        ({"TRAINOPS_PORT": "eighty"}, "TRAINOPS_PORT='eighty' is not an integer"),
        ({"TRAINOPS_PORT": "70000"}, "out of range"),
        ({"TRAINOPS_ENV": "staging"}, "TRAINOPS_ENV='staging' is not one of"),
        ({"TRAINOPS_ENV": "production"}, "JWT_SECRET is required"),
        ({"TRAINOPS_ENV": "production", "JWT_SECRET": "short"}, "at least 32 characters"),
        ({"LOG_LEVEL": "LOUD"}, "LOG_LEVEL='LOUD'"),
    ],
)
def test_bad_settings_say_what_to_fix(env, message):
    with pytest.raises(SettingsError) as info:
        load_settings("scheduling", env)
    assert message in str(info.value)
    assert "\n" not in str(info.value)


def test_production_accepts_a_real_secret():
    s = load_settings("reporting", {"TRAINOPS_ENV": "production", "JWT_SECRET": "x" * 40})
    assert s.env == "production"


def test_unknown_service():
    with pytest.raises(SettingsError, match="unknown service"):
        load_settings("billing", {})
