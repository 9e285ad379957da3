import logging

import pytest
import structlog

from trainops_shared.logging import configure_logging, get_logger

pytestmark = pytest.mark.unit
PASSWORD = "hunter2-Secret-Pw"
URL = f"nats://reporting:{PASSWORD}@nats.internal:4222"


@pytest.mark.parametrize("fmt", ["json", "console"])
def test_no_log_line_carries_a_password_from_a_url(capsys, fmt):
    """Whoever logs a URL (our code, a library, an exception's text or traceback), the line
    written has its password replaced."""
    configure_logging("reporting", "INFO", fmt)
    try:
        get_logger("test").warning("nats_reconnecting", url=URL, servers=[URL])
        logging.getLogger("nats.aio.client").error("could not connect to %s", URL)
        try:
            raise ConnectionError(f"refused by {URL}")
        except ConnectionError:
            get_logger("test").exception("connect_failed")
        out = capsys.readouterr().out
    finally:
        structlog.contextvars.clear_contextvars()
        structlog.reset_defaults()
        logging.getLogger().handlers.clear()
    assert out.count("reporting:***@nats.internal:4222") >= 4
    assert PASSWORD not in out
