"""Plain pages for the emulators' consent screens and their views for people."""

from __future__ import annotations

import html
from collections.abc import Iterable

import flask

escape = html.escape


def html_page(title: str, body: str) -> str:
    """A whole page around ``body`` (already HTML); the title is escaped."""
    return (
        "<!doctype html><html lang='nl'><head><meta charset='utf-8'>"
        f"<title>{html.escape(title)}</title><style>"
        "body{font-family:sans-serif;max-width:60em;margin:2em auto}"
        "table{border-collapse:collapse}"
        "td,th{padding:.2em .6em;border-bottom:1px solid #ddd}</style>"
        f"</head><body>{body}</body></html>"
    )


def page_response(title: str, body: str, status: int = 200) -> flask.Response:
    return flask.Response(
        html_page(title, body), status=status, content_type="text/html; charset=utf-8"
    )


def table(headers: Iterable[str], rows: Iterable[str]) -> str:
    """A table: ``headers`` are text (escaped), ``rows`` already-built ``<tr>`` HTML."""
    head = "".join(f"<th>{html.escape(h)}</th>" for h in headers)
    return f"<table><tr>{head}</tr>{''.join(rows)}</table>"


def bullet_list(items: Iterable[str], empty: str = "geen") -> str:
    """``<li>`` items (already HTML) in a list; ``empty`` when there are none."""
    inner = "".join(f"<li>{item}</li>" for item in items) or f"<li>{html.escape(empty)}</li>"
    return f"<ul>{inner}</ul>"
