"""structlog configuration shared by every service.

JSON lines when stdout is not a terminal (what log shippers want), a readable console renderer
when it is. Context (``service``, ``request_id``, ``event_id``, ``correlation_id``) is bound
with contextvars so that every line written while handling a request or a message carries it.
Personal data is never passed to a logger: events and requests are logged by id only.
"""

from __future__ import annotations

import logging
import sys
from typing import Any

import structlog

from trainops_shared.credentials import redact_urls

_NOISY = ("faststream", "faststream.access.nats", "nats", "uvicorn.access", "aiosqlite")


def configure_logging(service: str, level: str = "INFO", fmt: str = "auto") -> None:
    use_json = fmt == "json" or (fmt == "auto" and not sys.stdout.isatty())
    shared: list[Any] = [
        structlog.contextvars.merge_contextvars,
        structlog.stdlib.add_log_level,
        structlog.stdlib.add_logger_name,
        structlog.processors.TimeStamper(fmt="iso", utc=True),
        structlog.processors.StackInfoRenderer(),
    ]
    renderer: Any = (
        structlog.processors.JSONRenderer()
        if use_json
        else structlog.dev.ConsoleRenderer(colors=sys.stdout.isatty())
    )
    structlog.configure(
        processors=[*shared, structlog.stdlib.ProcessorFormatter.wrap_for_formatter],
        logger_factory=structlog.stdlib.LoggerFactory(),
        wrapper_class=structlog.stdlib.BoundLogger,
        cache_logger_on_first_use=True,
    )
    formatter = structlog.stdlib.ProcessorFormatter(
        foreign_pre_chain=shared,
        processors=[
            structlog.stdlib.ProcessorFormatter.remove_processors_meta,
            structlog.processors.format_exc_info if use_json else _identity,
            renderer,
            _redact_line,
        ],
    )
    handler = logging.StreamHandler(sys.stdout)
    handler.setFormatter(formatter)
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
    for name in _NOISY:
        logging.getLogger(name).setLevel(max(logging.WARNING, logging.getLevelName(level)))
    structlog.contextvars.clear_contextvars()
    structlog.contextvars.bind_contextvars(service=service)


def _identity(_: Any, __: str, event_dict: Any) -> Any:
    return event_dict


def _redact_line(_: Any, __: str, line: Any) -> Any:
    """Last step, on the rendered line: a password in any URL (a library's message, an
    exception's text, a traceback) is replaced by ``***`` before the line is written."""
    return redact_urls(line) if isinstance(line, str) else line


def get_logger(name: str) -> structlog.stdlib.BoundLogger:
    logger: structlog.stdlib.BoundLogger = structlog.stdlib.get_logger(name)
    return logger
