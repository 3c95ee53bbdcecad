"""Branded error pages: a 404 or a crash shows our page with a way back, never a traceback.

The page is rendered with the normal layout when possible; if even that fails (the database is
down, a template is broken) a small static page in both languages is returned instead, so an
error page can never itself become a bare "Internal Server Error".
"""

from __future__ import annotations

import logging

from flask import Flask, render_template, send_from_directory
from flask_wtf.csrf import CSRFError
from werkzeug.exceptions import HTTPException
from werkzeug.wrappers import Response

log = logging.getLogger(__name__)
BRANDED = (400, 403, 404, 405, 500)
FALLBACK = """<!doctype html><html lang="nl"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Er ging iets mis · Pre-incasso connector</title></head>
<body style="font-family:system-ui,sans-serif;max-width:40rem;margin:3rem auto;padding:0 1rem">
<h1>Er ging iets mis</h1><p>Probeer het over een minuut opnieuw.</p>
<p lang="en">Something went wrong. Please try again in a minute.</p>
<p><a href="/">Naar de startpagina · Back to the start page</a></p></body></html>"""


def _page(error: HTTPException) -> tuple[str, int]:
    code = error.code or 500
    try:
        expired = isinstance(error, CSRFError)
        return render_template("web/error.html", code=code, expired=expired), code
    except Exception:  # the layout itself failed: still no traceback for the user
        log.exception("the branded error page could not be rendered")
        return FALLBACK, code


def register(app: Flask) -> None:
    for code in BRANDED:
        app.register_error_handler(code, _page)
    app.register_error_handler(CSRFError, _page)

    @app.get("/favicon.ico")
    def favicon() -> Response:
        """Browsers ask for /favicon.ico whatever the page says: answer with the SVG icon."""
        return send_from_directory(app.static_folder or "", "favicon.svg",
                                   mimetype="image/svg+xml", max_age=86400)
