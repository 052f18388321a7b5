"""Structured logging (structlog) that never writes a secret or a birthday: sensitive keys are
redacted from every event, and token query parameters are masked in access-log lines."""

from __future__ import annotations

import logging
import re
from collections.abc import MutableMapping
from typing import Any

import structlog
import structlog.tracebacks

SENSITIVE_KEYS = frozenset(
    {
        "password",
        "new_password",
        "current_password",
        "password_hash",
        "token",
        "access_token",
        "refresh_token",
        "authorization",
        "date_of_birth",
        "jwt_secret",
        "smtp_password",
    }
)
REDACTED = "[redacted]"
_TOKEN_PARAM = re.compile(r"(token=)[^&\s\"']+")
_BEARER = re.compile(r"(Bearer\s+)[A-Za-z0-9._-]+")


def scrub_text(text: str) -> str:
    return _BEARER.sub(r"\1" + REDACTED, _TOKEN_PARAM.sub(r"\1" + REDACTED, text))


def redact(_: Any, __: str, event: MutableMapping[str, Any]) -> MutableMapping[str, Any]:
    for key in list(event):
        if key.lower() in SENSITIVE_KEYS:
            event[key] = REDACTED
        elif isinstance(event[key], str):
            event[key] = scrub_text(event[key])
    return event


class ScrubFilter(logging.Filter):
    """For stdlib loggers (uvicorn's access log prints the query string)."""

    def filter(self, record: logging.LogRecord) -> bool:
        if isinstance(record.msg, str):
            record.msg = scrub_text(record.msg)
        if record.args:
            record.args = tuple(scrub_text(a) if isinstance(a, str) else a for a in record.args)
        return True


def configure_logging(json_output: bool) -> None:
    # Tracebacks become plain text (or dicts) without local variables, which would hold payloads,
    # and are formatted before redaction so a traceback line is scrubbed like any other text.
    exceptions = (
        structlog.processors.ExceptionRenderer(structlog.tracebacks.ExceptionDictTransformer(show_locals=False))
        if json_output
        else structlog.processors.format_exc_info
    )
    structlog.configure(
        processors=[
            structlog.contextvars.merge_contextvars,
            structlog.processors.add_log_level,
            structlog.processors.TimeStamper(fmt="iso", utc=True),
            exceptions,
            redact,
            structlog.processors.JSONRenderer() if json_output else structlog.dev.ConsoleRenderer(colors=False),
        ],
        cache_logger_on_first_use=False,
    )
    for name in ("uvicorn.access", "uvicorn.error", "peerlend"):
        logger = logging.getLogger(name)
        if not any(isinstance(f, ScrubFilter) for f in logger.filters):
            logger.addFilter(ScrubFilter())
