"""Logging: plain text for people, or one JSON object a line (``LOG_FORMAT=json``).

Log messages carry ids, counts and outcomes only; tokens, secrets and debtor data are kept out
of them where they are written (see providers.http.describe_error and the record reprs).
"""

from __future__ import annotations

import json
import logging
import re
from datetime import UTC, datetime

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


def configure_logging(style: str = "text") -> None:
    handler = logging.StreamHandler()
    if style == "json":
        handler.setFormatter(JsonFormatter())
    else:
        handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s %(message)s"))
    handler.addFilter(RedactDebtorLinks())
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(logging.INFO)
