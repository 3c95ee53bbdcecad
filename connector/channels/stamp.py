"""The incasso stamp on the creditor's own invoice PDF.

Where the ledger hands out the invoice as it sent it (capability ``invoice_pdf``), the stamp
step mails *that* document with the partner's stamp on page 1, so the debtor recognises the
creditor's invoice at a glance. The stamp is rendered by WeasyPrint on a transparent A4 page
and laid over the first page with pypdf (scaled to the page, top edge aligned). Like every
letter, the stamp carries the short URL of the debtor's page and a QR code of that same URL,
inside its own box (beside its text, so the box grows sideways a little rather than down over
the invoice). Anything odd about the ledger's PDF raises :class:`StampFailed`; the caller
then sends our own stamped reminder page instead.
"""

from __future__ import annotations

import io
from datetime import date

from connector.channels.documents import PartnerIdentity, printable_url, url_qr_uri
from connector.channels.documents import letter_env as _env
from connector.formatting import written_date as _written_date

OVERLAY_TEXT = {
    "nl": {"title": "LAATSTE HERINNERING", "line": "Laatste kans: hierna overdracht aan",
           "date": "Gestempeld op", "respond": "Betalen of reageren:"},
    "en": {"title": "FINAL REMINDER", "line": "Last chance: next, transfer to",
           "date": "Stamped on", "respond": "Pay or respond:"},
}


class StampFailed(Exception):
    """The invoice PDF could not be stamped (unreadable, encrypted, empty, ...)."""


def render_overlay(partner: PartnerIdentity, *, lang: str = "nl", day: date,
                   response_url: str = "") -> bytes:
    """The stamp alone, on a transparent A4 page; with the debtor's page (short URL and QR
    code) when the message has one."""
    from weasyprint import HTML

    text = OVERLAY_TEXT["en" if lang == "en" else "nl"]
    url = printable_url(response_url)
    document = _env.get_template("stamp_overlay.html").render(
        lang=lang, t=text, partner=partner, day=_written_date(day, "en" if lang == "en" else "nl"),
        response_url=url, response_qr=url_qr_uri(url, border=2))
    return HTML(string=document).write_pdf()


def stamp_invoice_pdf(pdf: bytes, partner: PartnerIdentity, *, lang: str = "nl",
                      day: date, response_url: str = "", overlay: bytes | None = None) -> bytes:
    """``pdf`` with the stamp laid over its first page; other pages unchanged.

    ``overlay``: a stamp already rendered by :func:`render_overlay` (one mail stamps all its
    invoices with the same stamp, so it is rendered once)."""
    from pypdf import PdfReader, PdfWriter, Transformation
    from pypdf.errors import PyPdfError

    try:
        reader = PdfReader(io.BytesIO(pdf))
        if reader.is_encrypted and not reader.decrypt(""):
            raise StampFailed("the invoice PDF is encrypted")
        if not reader.pages:
            raise StampFailed("the invoice PDF has no pages")
        if overlay is None:
            overlay = render_overlay(partner, lang=lang, day=day, response_url=response_url)
        stamp = PdfReader(io.BytesIO(overlay)).pages[0]
        writer = PdfWriter(clone_from=reader)
        page = writer.pages[0]
        box, size = page.mediabox, stamp.mediabox
        scale = min(float(box.width) / float(size.width), float(box.height) / float(size.height))
        offset_y = float(box.top) - float(size.height) * scale
        offset_x = float(box.right) - float(size.width) * scale
        page.merge_transformed_page(
            stamp, Transformation().scale(scale, scale).translate(offset_x, offset_y))
        out = io.BytesIO()
        writer.write(out)
        return out.getvalue()
    except StampFailed:
        raise
    except (PyPdfError, ValueError, KeyError, TypeError, AttributeError, OSError) as exc:
        raise StampFailed(f"the invoice PDF could not be read ({type(exc).__name__})") from None


__all__ = ["OVERLAY_TEXT", "StampFailed", "render_overlay", "stamp_invoice_pdf"]
