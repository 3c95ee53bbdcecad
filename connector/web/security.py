"""Response headers every page gets, and OAuth codes kept out of the access log.

Pages allow scripts from our own origin only (no inline script: confirmations come from
``static/confirm.js``), may not be framed by anyone (``frame-ancestors``, ``X-Frame-Options``),
are never type-sniffed, and send the referrer only to our own origin, so a token in a URL
never reaches another site. Inline ``style`` attributes stay allowed (a few layouts use them).
"""

from __future__ import annotations

import logging
import re

from flask import Flask
from werkzeug.wrappers import Response

CONTENT_SECURITY_POLICY = "; ".join((
    "default-src 'self'",
    "script-src 'self'",
    "style-src 'self' 'unsafe-inline'",
    "img-src 'self' data:",
    "object-src 'none'",
    "base-uri 'none'",
    "frame-ancestors 'none'",
))
# Query parameters whose values are secrets (OAuth codes and state, tokens of any kind).
_SECRET_PARAMS = re.compile(
    r"((?:^|[?&])(?:code|state|token|access_token|refresh_token|id_token|password)=)"
    r"[^&\s\"]*",
    re.IGNORECASE)


def secure_headers(response: Response) -> Response:
    response.headers.setdefault("X-Content-Type-Options", "nosniff")
    response.headers.setdefault("X-Frame-Options", "DENY")
    response.headers.setdefault("Referrer-Policy", "same-origin")
    if response.mimetype == "text/html":
        response.headers.setdefault("Content-Security-Policy", CONTENT_SECURITY_POLICY)
    return response


def redact_url(text: str) -> str:
    """``text`` with the values of secret query parameters replaced by ``[redacted]``."""
    return _SECRET_PARAMS.sub(r"\1[redacted]", text)


class RedactSecrets(logging.Filter):
    """For the access logs: a request line never shows an OAuth code or token."""

    def filter(self, record: logging.LogRecord) -> bool:
        if isinstance(record.msg, str):
            record.msg = redact_url(record.msg)
        if isinstance(record.args, tuple):
            record.args = tuple(redact_url(a) if isinstance(a, str) else a for a in record.args)
        elif isinstance(record.args, dict):  # gunicorn's access log passes its atoms by name
            record.args = {k: redact_url(v) if isinstance(v, str) else v
                           for k, v in record.args.items()}
        return True


def init_app(app: Flask) -> None:
    app.after_request(secure_headers)
    for name in ("werkzeug", "gunicorn.access"):  # the dev server's and gunicorn's access logs
        access_log = logging.getLogger(name)
        if not any(isinstance(f, RedactSecrets) for f in access_log.filters):
            access_log.addFilter(RedactSecrets())
