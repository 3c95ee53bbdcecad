"""The documents on paper: the Profitletter and the stamped reminder page, as print-ready PDFs.

Both go out on the collection partner's letterhead ("namens <creditor>") with the creditor's
bank details, so the debtor pays the creditor. This module only renders: the print queue
(:mod:`connector.channels.print_queue`), the letter channel (:mod:`connector.channels.letter`)
and the e-mail channels (:mod:`connector.channels.email`) build on it, never the other way.
"""

from __future__ import annotations

import base64
import functools
import io
import re
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape
from markupsafe import Markup

from connector.channels.base import ChannelRejected, OutgoingMessage
from connector.clock import AMSTERDAM
from connector.formatting import money, written_date
from connector.resources import TEMPLATES

LETTER_TEMPLATES = TEMPLATES / "letters"


@dataclass(frozen=True)
class PartnerIdentity:
    """The collection partner whose letterhead is used (Wki: identity, number, complaints)."""

    name: str = "Incassopartner (demo)"
    address_lines: tuple[str, ...] = ("Voorbeeldstraat 1", "3511 AA Utrecht")
    wki_number: str = "WKI-000000 (demo)"
    kvk: str = "00000000"
    phone: str = "030 000 00 00"
    email: str = "herinneringen@partner.example"
    website: str = "partner.example"
    complaints: str = "Klachten? Zie partner.example/klachten"
    complaints_en: str = "Complaints? See partner.example/complaints"
    logo_uri: str = ""  # a checked data: URI (see logo_data_uri), or none

    def __repr__(self) -> str:  # the logo is long and says nothing in a log line
        return f"PartnerIdentity(name={self.name!r})"


LABELS: dict[str, dict[str, str]] = {
    "nl": {
        "on_behalf": "namens",
        "date": "Datum",
        "our_ref": "Ons kenmerk",
        "payment_ref": "Betalingskenmerk",
        "subject": "Betreft",
        "specification": "Specificatie openstaande facturen",
        "invoice": "Factuur",
        "invoice_date": "Factuurdatum",
        "due_date": "Vervaldatum",
        "open": "Openstaand",
        "total": "Totaal open",
        "pay_to": "Betalen aan",
        "iban": "IBAN",
        "in_name_of": "t.n.v.",
        "amount": "Bedrag",
        "creditor_contact": "Contact schuldeiser",
        "page": "pagina",
        "of": "van",
        "wki": "Wki-registratie",
        "kvk": "KvK",
        "no_costs": "Aan deze brief zijn geen kosten verbonden.",
        "stamp_title": "LAATSTE HERINNERING",
        "stamp_line": "hierna overdracht aan",
        "respond_title": "Betalen of reageren",
        "respond_text": "Scan de QR-code of ga naar",
        "respond_what": "Daar kunt u betalen, of laten weten dat u al betaald heeft, het niet "
                        "eens bent met de factuur, een betalingsregeling wilt of teruggebeld "
                        "wilt worden.",
        "genuine": "Twijfelt u of deze brief echt is? Bel {creditor} op het nummer dat u zelf "
                   "kent (van uw factuur of hun website), niet op een nummer uit deze brief. "
                   "Betaal alleen aan {creditor} zelf.",
    },
    "en": {
        "on_behalf": "on behalf of",
        "date": "Date",
        "our_ref": "Our reference",
        "payment_ref": "Payment reference",
        "subject": "Subject",
        "specification": "Open invoices",
        "invoice": "Invoice",
        "invoice_date": "Invoice date",
        "due_date": "Due date",
        "open": "Open",
        "total": "Total open",
        "pay_to": "Pay to",
        "iban": "IBAN",
        "in_name_of": "account holder",
        "amount": "Amount",
        "creditor_contact": "Creditor contact",
        "page": "page",
        "of": "of",
        "wki": "Wki registration",
        "kvk": "Chamber of Commerce",
        "no_costs": "This letter is free of charge.",
        "stamp_title": "FINAL REMINDER",
        "stamp_line": "next, transfer to",
        "respond_title": "Pay or respond",
        "respond_text": "Scan the QR code or go to",
        "respond_what": "There you can pay, or tell us that you have already paid, disagree "
                        "with the invoice, would like a payment plan or a call back.",
        "genuine": "Not sure this letter is genuine? Call {creditor} on a number you know "
                   "yourself (from your invoice or their website), not one from this letter. "
                   "Only ever pay {creditor} itself.",
    },
}



#: The Jinja environment of the paper templates (``templates/letters``), shared with the
#: stamp overlay (:mod:`connector.channels.stamp`).
letter_env = Environment(
    loader=FileSystemLoader(str(LETTER_TEMPLATES)),
    autoescape=select_autoescape(["html"]),
    undefined=StrictUndefined,
    trim_blocks=True,
    lstrip_blocks=True,
)


def css_string(value: str) -> Markup:
    """A quoted CSS string that cannot end the string or the surrounding <style> element.

    Marked safe: HTML escaping would be wrong inside <style>, and every character that could
    break out is written as a CSS escape instead.
    """
    out = []
    for ch in " ".join(str(value).split()):
        out.append(f"\\{ord(ch):x} " if ch in '"\\<>&\'' else ch)
    return Markup('"' + "".join(out) + '"')  # noqa: S704 - escaped above


letter_env.filters["css_string"] = css_string



def _lang(message: OutgoingMessage, lang: str | None) -> str:
    value = lang or message.extra.get("lang") or "nl"
    if value not in LABELS:
        raise ValueError("language must be 'nl' or 'en'")
    return value




def group_iban(iban: str) -> str:
    """IBAN in groups of four, as printed on Dutch paper (NL91 ABNA 0417 1643 00)."""
    compact = re.sub(r"\s+", "", iban).upper()
    return " ".join(compact[i:i + 4] for i in range(0, len(compact), 4))


def _paragraphs(text: str) -> list[str]:
    return [p.strip("\n") for p in re.split(r"\n\s*\n", text.strip()) if p.strip()]


def _is_invoice_list(paragraph: str) -> bool:
    lines = [line.strip() for line in paragraph.splitlines() if line.strip()]
    return bool(lines) and all(line.startswith("- ") for line in lines)


def _letter_body(paragraphs: list[str], total: str) -> tuple[list[str], int | None]:
    """The body without what the specification table already says, and where the table goes.

    The text's own invoice list (and its "Totaal open" line right after) would repeat the
    table on the same page, pushing the payment box to page 2: the table takes the list's
    place instead. Returns the paragraphs and the index the table goes before (None: after
    the body, as for a text without a list)."""
    at = next((i for i, p in enumerate(paragraphs) if _is_invoice_list(p)), None)
    if at is None:
        return paragraphs, None
    rest = paragraphs[:at] + paragraphs[at + 1:]
    if at < len(rest) and total in rest[at] and len(rest[at]) <= len(total) + 40 \
            and "\n" not in rest[at].strip():
        rest = rest[:at] + rest[at + 1:]  # the total line: in the table's footer
    return rest, at


_LOGO_URI = re.compile(r"^data:image/(png|jpeg);base64,[A-Za-z0-9+/]+={0,2}$")


def logo_data_uri(content: bytes | None, mime: str | None) -> str:
    """A logo (the creditor's or the partner's) as a ``data:`` URI for the letter ('' without
    a usable one)."""
    if not content or mime not in ("image/png", "image/jpeg"):
        return ""
    return f"data:{mime};base64,{base64.b64encode(content).decode('ascii')}"


def _context(message: OutgoingMessage, partner: PartnerIdentity, lang: str,
             letter_date: date | None) -> dict[str, Any]:
    extra = message.extra
    paragraphs, spec_at = _letter_body(_paragraphs(message.body), money(message.total))
    day = letter_date or (
        date.fromisoformat(extra["letter_date"]) if extra.get("letter_date")
        else datetime.now(AMSTERDAM).date()
    )
    return {
        "lang": lang,
        "t": LABELS[lang],
        "partner": partner,
        "complaints": partner.complaints if lang == "nl" else partner.complaints_en,
        "creditor": message.creditor_name,
        "creditor_address": [x for x in extra.get("creditor_address", "").splitlines() if x],
        "creditor_contact": extra.get("creditor_contact", ""),
        "creditor_kvk": extra.get("creditor_kvk", ""),
        # Only a well-formed PNG/JPEG data: URI: never a URL WeasyPrint would fetch.
        "partner_logo": partner.logo_uri if _LOGO_URI.match(partner.logo_uri or "") else "",
        "creditor_logo": extra.get("creditor_logo", "")
        if _LOGO_URI.match(extra.get("creditor_logo", "")) else "",
        "address": list(message.postal_address),
        "letter_date": written_date(day, lang),
        "our_ref": message.delivery_id[:12].upper(),
        "payment_ref": extra.get("reference", ""),
        "iban": group_iban(extra["iban"]) if extra.get("iban") else "",
        "subject": message.subject,
        "paragraphs": paragraphs,
        "spec_at": spec_at,
        # Said once: a text that already says the letter costs nothing gets no extra line.
        "show_no_costs": re.sub(r"\s+", " ", LABELS[lang]["no_costs"]) not in re.sub(
            r"\s+", " ", message.body),
        "invoices": [
            {"number": i.number, "invoice_date": i.invoice_date, "due_date": i.due_date,
             "open": money(i.open_amount)}
            for i in message.invoices
        ],
        "total": money(message.total),
        # The debtor's page: printed as a short URL and as a QR code of that same URL.
        "response_url": printable_url(extra.get("response_url", "")),
        "response_qr": url_qr_uri(printable_url(extra.get("response_url", ""))),
        "genuine": LABELS[lang]["genuine"].format(creditor=message.creditor_name),
        "structured_ref": extra.get("payment_reference", ""),
    }


_RESPONSE_URL = re.compile(r"^https?://[A-Za-z0-9.:\-]+(/[A-Za-z0-9._~\-/]*)?$")


def printable_url(url: str) -> str:
    """Only a plain http(s) link is printed (and encoded): never markup or a script URL."""
    return url if _RESPONSE_URL.match(url or "") else ""


def url_qr_uri(url: str, *, border: int = 4) -> str:
    """The QR code of a link as an SVG ``data:`` URI, dark on white ('' without a link).

    The letter, our own stamp page and the stamp on the ledger's invoice all print it the
    same way, so they all lead to the same page."""
    if not url:
        return ""
    import segno  # small, but only printed documents need it

    return segno.make(url, error="m").svg_data_uri(scale=3, border=border, light="#fff")


@functools.cache
def _stylesheet() -> Any:
    """Parsed once per process: the letter CSS does not change while we run."""
    from weasyprint import CSS

    return CSS(filename=str(LETTER_TEMPLATES / "letter.css"))


def _pdf(template: str, context: dict[str, Any]) -> bytes:
    # Imported here: WeasyPrint takes a moment to load and most processes never print.
    from weasyprint import HTML

    document = letter_env.get_template(template).render(**context)
    return HTML(string=document, base_url=str(LETTER_TEMPLATES)).write_pdf(
        stylesheets=[_stylesheet()]
    )


def render_letter_pdf(
    message: OutgoingMessage,
    partner: PartnerIdentity,
    *,
    lang: str | None = None,
    letter_date: date | None = None,
) -> bytes:
    """The Profitletter as a print-ready A4 PDF (address placed for a window envelope)."""
    if not message.postal_address:
        raise ChannelRejected("geen postadres van de debiteur bekend")
    return _pdf("letter.html", _context(message, partner, _lang(message, lang), letter_date))


def render_stamp_pdf(
    message: OutgoingMessage,
    partner: PartnerIdentity,
    *,
    lang: str | None = None,
    letter_date: date | None = None,
) -> bytes:
    """The creditor's own last reminder as one PDF page carrying the partner's red stamp."""
    return _pdf("stamp.html", _context(message, partner, _lang(message, lang), letter_date))


def page_count(pdf: bytes) -> int:
    from pypdf import PdfReader

    return len(PdfReader(io.BytesIO(pdf)).pages)


__all__ = [
    "LABELS",
    "LETTER_TEMPLATES",
    "PartnerIdentity",
    "css_string",
    "group_iban",
    "letter_env",
    "logo_data_uri",
    "page_count",
    "printable_url",
    "render_letter_pdf",
    "render_stamp_pdf",
    "url_qr_uri",
]
