import json
import logging

import pytest
import structlog

from trainops_shared.logging import configure_logging, get_logger

pytestmark = pytest.mark.unit


def test_json_lines_carry_service_and_bound_ids(capsys):
    configure_logging("registration", "INFO", "json")
    try:
        with structlog.contextvars.bound_contextvars(request_id="r-1", event_id="e-1"):
            get_logger("test").info("registration_created", registration_id="abc")
        logging.getLogger("plain.stdlib").warning("from the standard library")
        lines = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    finally:
        structlog.contextvars.clear_contextvars()
        structlog.reset_defaults()
        logging.getLogger().handlers.clear()
    first, second = lines
    assert first["event"] == "registration_created"
    assert first["service"] == "registration"
    assert first["request_id"] == "r-1"
    assert first["event_id"] == "e-1"
    assert first["level"] == "info"
    assert second["service"] == "registration"
    assert second["event"] == "from the standard library"
    assert "request_id" not in second
