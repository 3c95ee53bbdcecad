"""What we attach to a sales booking: SnelStart keeps documents, not notes.

The connector hands every step, answer and payment to the ledger as a short note text with a
key; SnelStart has no note field on an invoice (``memo`` lives on the relation and PUT replaces
the whole relation), so the note becomes a small PDF record attached to the invoice's sales
booking (``POST /documenten/Verkoopboekingen``). A step that sent a PDF (the Profitletter, the
stamped reminder) is attached as that PDF itself (capability ``invoice_documents``). Either way
the file name carries the key: after a lost answer the booking's document list tells whether the
first attempt landed.
"""

from __future__ import annotations

import html
import re
from datetime import datetime

MAX_NAME = 120
# The largest document we attach. SnelStart documents no limit for sales booking documents; it
# names 5 MB for a purchase booking's attachment (UNCERTAIN: taken as the limit here too).
MAX_BYTES = 5 * 1024 * 1024


def file_name(key: str, label: str = "Pre-incasso") -> str:
    """``Pre-incasso PI-1A2B3C4D5E6F.pdf``: readable in SnelStart's list, found again by key."""
    safe_key = re.sub(r"[^A-Za-z0-9._-]", "", key)[:60]
    safe_label = re.sub(r"[^\w .-]", "", label, flags=re.UNICODE).strip()[:40] or "Pre-incasso"
    return f"{safe_label} {safe_key}.pdf"[:MAX_NAME]


def carries_key(name: object, key: str) -> bool:
    safe_key = re.sub(r"[^A-Za-z0-9._-]", "", key)[:60]
    return isinstance(name, str) and bool(safe_key) and safe_key in name


def record_pdf(title: str, text: str, key: str, invoice_number: str | None,
               written_at: datetime) -> bytes:
    """A one-page A4 PDF: what happened, for which invoice, when, and our key."""
    from weasyprint import HTML  # imported late: heavy, and only writes need it

    rows = [("Factuur", invoice_number or "–"),
            ("Vastgelegd", written_at.strftime("%d-%m-%Y %H:%M UTC")),
            ("Kenmerk", key)]
    table = "".join(f"<tr><th>{html.escape(k)}</th><td>{html.escape(v)}</td></tr>"
                    for k, v in rows)
    page = (
        "<!doctype html><html lang='nl'><head><meta charset='utf-8'><style>"
        "@page{size:A4;margin:25mm}body{font-family:sans-serif;font-size:11pt}"
        "h1{font-size:16pt}th{text-align:left;padding-right:2em;font-weight:normal;color:#555}"
        "p{white-space:pre-wrap}</style></head><body>"
        f"<h1>{html.escape(title)}</h1><table>{table}</table>"
        f"<p>{html.escape(text)}</p></body></html>"
    )
    return HTML(string=page).write_pdf()
