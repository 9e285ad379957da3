"""The development mail catcher: what an SMTP client sends becomes one ``.eml`` file, as sent."""

import asyncio
import socket
import time
from email import message_from_bytes
from email.message import EmailMessage
from email.policy import default as default_policy

import aiosmtplib
import pytest

from trainops_devtools.mail_catcher import MailCatcher

pytestmark = pytest.mark.integration


def _message(message_id: str, body: str = "Сәлем, әлем") -> EmailMessage:
    message = EmailMessage()
    message["From"] = "no-reply@localhost"
    message["To"] = "someone@example.org"
    message["Subject"] = "Тіркеу"
    message["Message-ID"] = message_id
    message.set_content(body)
    return message


async def test_each_message_becomes_one_eml_file_and_a_resend_is_kept_once(tmp_path):
    with MailCatcher(tmp_path / "mail") as catcher:
        assert catcher.port > 0 and catcher.url == f"smtp://127.0.0.1:{catcher.port}"
        first = _message("<one@localhost>")
        await aiosmtplib.send(first, hostname="127.0.0.1", port=catcher.port)
        await aiosmtplib.send(_message("<two@localhost>"), hostname="127.0.0.1", port=catcher.port)
        # The same message again (a sender's retry after a crash): accepted, not kept twice.
        await aiosmtplib.send(first, hostname="127.0.0.1", port=catcher.port)
        files = catcher.files()
        assert len(files) == 2 and catcher.received == 3 and catcher.duplicates == 1
        parsed = message_from_bytes(files[0].read_bytes(), policy=default_policy)
        ids = {
            str(message_from_bytes(f.read_bytes(), policy=default_policy)["Message-ID"])
            for f in files
        }
        assert ids == {"<one@localhost>", "<two@localhost>"}
        assert parsed.get_content_type() == "text/plain"
        assert not list((tmp_path / "mail").glob("*.part"))
    # Stopped: the port is closed, a client is refused (what an outage looks like to a sender).
    with pytest.raises(aiosmtplib.SMTPConnectError):
        await aiosmtplib.send(
            _message("<three@localhost>"), hostname="127.0.0.1", port=catcher.port, timeout=5
        )


async def test_a_restarted_catcher_on_the_same_port_still_dedupes_by_message_id(tmp_path):
    with MailCatcher(tmp_path / "mail") as catcher:
        port = catcher.port
        await aiosmtplib.send(_message("<same@localhost>"), hostname="127.0.0.1", port=port)
    with MailCatcher(tmp_path / "mail", port=port) as again:
        await aiosmtplib.send(_message("<same@localhost>"), hostname="127.0.0.1", port=port)
        assert len(again.files()) == 1 and again.duplicates == 1


def test_a_taken_port_is_a_clear_error(tmp_path):
    with MailCatcher(tmp_path / "a") as catcher:
        other = MailCatcher(tmp_path / "b", port=catcher.port)
        with pytest.raises(RuntimeError, match="cannot listen"):
            other.start()


def test_run_system_points_registration_at_its_own_catcher(tmp_path, monkeypatch):
    """What ``trainops up`` does: a catcher in ``<data dir>/mail``, the services' SMTP_URL at it,
    the registration relay sending there, and the catcher stopped with the system."""
    from trainops_devtools.supervisor import run_system
    from trainops_devtools.testing.ports import free_port

    monkeypatch.delenv("SMTP_URL", raising=False)
    monkeypatch.delenv("NATS_URL", raising=False)
    with run_system(
        data_dir=tmp_path / "data",
        base_port=free_port(),
        nats_port=free_port(),
        services=("registration",),
    ) as system:
        catcher = system.mail_catcher
        assert catcher is not None
        assert catcher.directory == tmp_path.resolve() / "data" / "mail"
        assert system.services["registration"].env["SMTP_URL"] == catcher.url
        log = system.services["registration"].log_path

        def relay_started() -> bool:
            return f'"smtp": "{catcher.url}"' in log.read_text(encoding="utf-8")

        deadline = time.monotonic() + 20
        while not relay_started():
            assert time.monotonic() < deadline, log.read_text(encoding="utf-8")[-2000:]
            time.sleep(0.1)
    with pytest.raises(OSError):
        socket.create_connection(("127.0.0.1", catcher.port), timeout=2).close()


def test_run_system_leaves_a_configured_smtp_server_alone(tmp_path, monkeypatch):
    from trainops_devtools.supervisor import run_system
    from trainops_devtools.testing.ports import free_port

    monkeypatch.delenv("NATS_URL", raising=False)
    with (
        MailCatcher(tmp_path / "elsewhere") as external,
        run_system(
            data_dir=tmp_path / "data",
            base_port=free_port(),
            nats_port=free_port(),
            services=("registration",),
            extra_env={"SMTP_URL": external.url},
        ) as system,
    ):
        assert system.mail_catcher is None
        assert system.services["registration"].env["SMTP_URL"] == external.url
    assert not (tmp_path / "data" / "mail").exists()


async def test_stopping_with_a_client_still_connected_closes_its_session(tmp_path):
    catcher = MailCatcher(tmp_path / "mail")
    catcher.start()
    client = aiosmtplib.SMTP(hostname="127.0.0.1", port=catcher.port, timeout=5)
    await client.connect()
    await client.ehlo()
    started = time.monotonic()
    await asyncio.to_thread(catcher.stop)
    assert time.monotonic() - started < 5
    with pytest.raises(aiosmtplib.SMTPException):
        await client.noop()
