"""Logging: plain text for people, or one JSON object a line (``LOG_FORMAT=json``).

One set-up for every process (``connector worker``, ``connector serve`` and its gunicorn
workers, or the app under another WSGI server): the app's info lines are kept, the scheduler's
own chatter ("Running job ...", "executed successfully", every few seconds per job) is not.

Log messages carry ids, counts and outcomes only; tokens, secrets and debtor data are kept out
of them where they are written (see providers.http.describe_error and the record reprs).
"""

from __future__ import annotations

import json
import logging
import os
import re
import time
from datetime import UTC, datetime
from typing import Any

TEXT_FORMAT = "%(asctime)s %(levelname)s %(name)s %(message)s"
# Libraries that log every routine step at INFO; their warnings and errors still show.
QUIET_LOGGERS = ("apscheduler", "mail.log")  # mail.log: aiosmtpd, a line per connection

# The debtor's page link is a key to its page: a request line in an access log must not keep it.
_DEBTOR_LINK = re.compile(r"/b/[A-Za-z0-9_-]{8,}")


def redact_links(text: str) -> str:
    return _DEBTOR_LINK.sub("/b/[token]", text)


class RedactDebtorLinks(logging.Filter):
    """Replaces ``/b/<token>`` in every record (e.g. werkzeug's request lines) before output."""

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        if "/b/" in message:
            record.msg, record.args = redact_links(message), None
        return True


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        entry = {
            "at": datetime.fromtimestamp(record.created, UTC).isoformat(),
            "level": record.levelname.lower(),
            "logger": record.name,
            "message": record.getMessage(),
        }
        if record.exc_info:
            entry["error"] = self.formatException(record.exc_info)
        return json.dumps(entry, ensure_ascii=False)


class RepeatSummary(logging.Filter):
    """The same warning again within ``window`` seconds is held back and counted; the next
    one after the window says how many were held back. A demo's log (or a failing mail
    server) then shows one line a minute, not one a second, and loses no information."""

    def __init__(self, window: float = 60.0, clock: Any = None) -> None:
        super().__init__()
        self.window = window
        self.clock = clock or time.monotonic
        self.seen: dict[tuple[str, int, str], tuple[float, int]] = {}

    def filter(self, record: logging.LogRecord) -> bool:
        if record.levelno < logging.WARNING:
            return True
        key = (record.name, record.levelno, str(record.msg))
        now = self.clock()
        first, held = self.seen.get(key, (None, 0))
        if first is not None and now - first < self.window:
            self.seen[key] = (first, held + 1)
            return False
        self.seen[key] = (now, 0)
        if held:
            record.msg = f"{record.msg} (en nog {held}× in de {int(self.window)} s ervoor)"
        return True


def log_format() -> str:
    """``LOG_FORMAT`` from the environment: ``json`` or ``text`` (anything else)."""
    return "json" if os.environ.get("LOG_FORMAT", "").strip().lower() == "json" else "text"


def make_formatter(style: str | None = None) -> logging.Formatter:
    return JsonFormatter() if (style or log_format()) == "json" else logging.Formatter(TEXT_FORMAT)


def configure_logging(style: str | None = None) -> None:
    """Send every logger's records to stderr in one format; ``style`` defaults to LOG_FORMAT."""
    handler = logging.StreamHandler()
    handler.setFormatter(make_formatter(style))
    handler.addFilter(RepeatSummary())
    handler.addFilter(RedactDebtorLinks())
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(logging.INFO)
    _quiet_libraries()


def ensure_logging() -> None:
    """Configure logging unless the process already has (CLI, gunicorn via us, pytest)."""
    if not logging.getLogger().handlers:
        configure_logging()
    logging.getLogger("connector").setLevel(logging.INFO)
    _quiet_libraries()


def _quiet_libraries() -> None:
    for name in QUIET_LOGGERS:
        logging.getLogger(name).setLevel(logging.WARNING)
