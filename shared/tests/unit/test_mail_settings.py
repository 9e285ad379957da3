"""SMTP_URL, MAIL_FROM and MAIL_REPLY_TO: parsed, validated, the password never shown."""

from email import message_from_bytes
from email.policy import default as default_policy

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from trainops_shared.credentials import public_key_pem
from trainops_shared.mail import Attachment, compose, message_id_for
from trainops_shared.settings import SettingsError, load_settings
from trainops_shared.timeutil import utc_now

pytestmark = pytest.mark.unit
PRODUCTION = {
    "TRAINOPS_ENV": "production",
    "JWT_PUBLIC_KEY": public_key_pem(Ed25519PrivateKey.generate()),
    "REGISTRATION_LINK_KEY": "0123456789abcdef" * 4,
}


def _mail(tmp_path, **env):
    settings = load_settings("registration", {"TRAINOPS_DATA_DIR": str(tmp_path), **env})
    assert settings.mail is not None
    return settings.mail


def test_without_smtp_url_nothing_is_sent_and_a_development_sender_is_used(tmp_path):
    mail = _mail(tmp_path)
    assert mail.server is None
    assert "@" in mail.sender


@pytest.mark.parametrize(
    ("url", "security", "port"),
    [
        ("smtp://127.0.0.1:2525", "plain", 2525),
        ("smtp+starttls://u:p%40ss@mail.example.org", "starttls", 587),
        ("smtps://u:pw@mail.example.org", "tls", 465),
    ],
)
def test_smtp_url_schemes(tmp_path, url, security, port):
    server = _mail(tmp_path, SMTP_URL=url).server
    assert server is not None
    assert (server.security, server.port) == (security, port)
    if server.username:
        assert server.password in ("p@ss", "pw")
        assert server.password not in repr(server) and "***" in server.url_redacted


def test_password_from_a_file(tmp_path):
    secret = tmp_path / "smtp-password"
    secret.write_text("from-the-file\n")
    secret.chmod(0o600)
    server = _mail(
        tmp_path, SMTP_URL="smtps://user@mail.example.org", SMTP_PASSWORD_FILE=str(secret)
    ).server
    assert server is not None and server.password == "from-the-file"


@pytest.mark.parametrize(
    ("env", "says"),
    [
        ({"SMTP_URL": "http://mail.example.org"}, "smtp+starttls://"),
        ({"SMTP_URL": "smtp://"}, "names no host"),
        ({"SMTP_URL": "smtp://u:secretpw@mail.example.org"}, "unencrypted"),
        ({"SMTP_URL": "smtps://user@mail.example.org"}, "without a password"),
        ({"SMTP_URL": "smtps://mail.example.org:99999"}, "invalid port"),
        ({"SMTP_PASSWORD": "x"}, "SMTP_URL is not"),
        ({"MAIL_FROM": "not an address"}, "MAIL_FROM"),
        ({"MAIL_REPLY_TO": "a@b.c\r\nBcc: x@y.z"}, "MAIL_REPLY_TO"),
        (
            {"SMTP_URL": "smtps://u:secretpw@mail.example.org", **PRODUCTION},
            "MAIL_FROM is required",
        ),
    ],
)
def test_bad_mail_settings_say_what_to_fix_without_the_password(tmp_path, env, says):
    with pytest.raises(SettingsError) as caught:
        load_settings("registration", {"TRAINOPS_DATA_DIR": str(tmp_path), **env})
    assert says in str(caught.value)
    assert "secretpw" not in str(caught.value)


def test_only_registration_loads_mail_settings(tmp_path):
    env = {"TRAINOPS_DATA_DIR": str(tmp_path), "SMTP_URL": "smtp://127.0.0.1:25"}
    assert load_settings("scheduling", env).mail is None


def test_composed_message_has_text_html_and_the_calendar():
    ics = Attachment("invite.ics", "text/calendar; method=REQUEST", b"BEGIN:VCALENDAR\r\n")
    message = compose(
        sender="Programme <no-reply@example.org>",
        to="aigerim@example.org",
        to_name="Әйгерім Сейітова",
        reply_to="team@example.org",
        subject="Тіркеу расталды",
        text="Сәлем",
        html="<p>Сәлем</p>",
        message_id=message_id_for("abc", "Programme <no-reply@example.org>"),
        date=utc_now(),
        calendar=ics,
    )
    parsed = message_from_bytes(message.as_bytes(), policy=default_policy)
    assert parsed["Message-ID"] == "<abc@example.org>"
    assert str(parsed["Subject"]) == "Тіркеу расталды"
    types = [part.get_content_type() for part in parsed.walk()]
    assert {"text/plain", "text/html", "text/calendar"} <= set(types)
    (attachment,) = list(parsed.iter_attachments())
    assert attachment.get_filename() == "invite.ics"
    assert attachment.get_param("method") == "REQUEST"


def test_the_password_is_in_no_repr_of_the_settings_and_the_timeout_is_read(tmp_path):
    settings = load_settings(
        "registration",
        {
            "TRAINOPS_DATA_DIR": str(tmp_path),
            "SMTP_URL": "smtps://mailer:s3cr3t-pw@mail.example.org",
            "SMTP_TIMEOUT_MS": "5000",
        },
    )
    assert settings.mail is not None and settings.mail.timeout == 5.0
    assert "s3cr3t-pw" not in repr(settings)
    with pytest.raises(SettingsError, match="SMTP_TIMEOUT_MS"):
        load_settings("registration", {"TRAINOPS_DATA_DIR": str(tmp_path), "SMTP_TIMEOUT_MS": "5"})
