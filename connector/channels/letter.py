"""The Profitletter: a print-ready A4 PDF on the partner's letterhead, and its print queue.

The letter is the creditor's last reminder on the collection partner's paper ("namens
<creditor>"), with the creditor's bank details so the debtor pays the creditor. For consumers it
is the 14-day letter (legal-nl §7.1), so post is the primary route and e-mail a copy (§1.4):
:class:`LetterChannel` queues the PDF for printing and, when it can, mails it along.

The print queue is a handful of functions over a :class:`LetterStore` (today files plus a small
JSON index, :class:`FileLetterStore`); a database-backed store only has to implement the same
five methods. The index holds ids and dates only, never debtor data.
"""

from __future__ import annotations

import base64
import contextlib
import fcntl
import functools
import io
import json
import logging
import os
import re
import tempfile
import threading
import uuid
from collections.abc import Callable, Iterable, Iterator
from dataclasses import asdict, dataclass, replace
from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

import click
from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape
from markupsafe import Markup

from connector.channels.base import (
    ChannelRejected,
    ChannelUncertain,
    InvoiceLine,
    OutgoingMessage,
)
from connector.config import INSTANCE_DIR
from connector.formatting import AMSTERDAM, money
from connector.resources import TEMPLATES

if TYPE_CHECKING:
    from connector.channels.email import EmailChannel

log = logging.getLogger(__name__)

LETTER_TEMPLATES = TEMPLATES / "letters"
DEFAULT_LETTER_DIR = INSTANCE_DIR / "letters"
_SAFE_ID = re.compile(r"^[A-Za-z0-9_-]{1,64}$")


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
MONTHS_NL = ("januari", "februari", "maart", "april", "mei", "juni", "juli", "augustus",
             "september", "oktober", "november", "december")
MONTHS_EN = ("January", "February", "March", "April", "May", "June", "July", "August",
             "September", "October", "November", "December")


_env = Environment(
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


_env.filters["css_string"] = css_string


def _lang(message: OutgoingMessage, lang: str | None) -> str:
    value = lang or message.extra.get("lang") or "nl"
    if value not in LABELS:
        raise ValueError("language must be 'nl' or 'en'")
    return value


def _written_date(day: date, lang: str) -> str:
    months = MONTHS_NL if lang == "nl" else MONTHS_EN
    return f"{day.day} {months[day.month - 1]} {day.year}"


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
        "letter_date": _written_date(day, lang),
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
        "response_url": _response_url(extra.get("response_url", "")),
        "response_qr": _url_qr(_response_url(extra.get("response_url", ""))),
        "genuine": LABELS[lang]["genuine"].format(creditor=message.creditor_name),
        "structured_ref": extra.get("payment_reference", ""),
    }


_RESPONSE_URL = re.compile(r"^https?://[A-Za-z0-9.:\-]+(/[A-Za-z0-9._~\-/]*)?$")


def _response_url(url: str) -> str:
    """Only a plain http(s) link is printed (and encoded): never markup or a script URL."""
    return url if _RESPONSE_URL.match(url or "") else ""


def _url_qr(url: str) -> str:
    if not url:
        return ""
    import segno  # small, but only letters need it

    return segno.make(url, error="m").svg_data_uri(scale=3, border=4)


@functools.cache
def _stylesheet() -> Any:
    """Parsed once per process: the letter CSS does not change while we run."""
    from weasyprint import CSS

    return CSS(filename=str(LETTER_TEMPLATES / "letter.css"))


def _pdf(template: str, context: dict[str, Any]) -> bytes:
    # Imported here: WeasyPrint takes a moment to load and most processes never print.
    from weasyprint import HTML

    document = _env.get_template(template).render(**context)
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


# -- the print queue ----------------------------------------------------------------------


class PrintQueueError(Exception):
    """A print-queue request that cannot be honoured (unknown letter, too late to post, ...)."""


@dataclass(frozen=True)
class QueuedLetter:
    """One letter in the print queue. Ids and dates only: no debtor data in the index."""

    delivery_id: str
    queued_at: datetime  # aware UTC
    queue_day: date  # the Dutch calendar day it was queued
    post_by: date  # the last posting day the letter's payment term was computed for
    pages: int
    posted_on: date | None = None
    batch_id: str | None = None
    email_ref: str | None = None  # Message-ID of the e-mail copy
    email_problem: str | None = None  # why the e-mail copy did not (surely) go out
    withdrawn_on: date | None = None  # not posted in time; a new letter replaces it

    def to_json(self) -> dict[str, Any]:
        data = asdict(self)
        for key in ("queued_at", "queue_day", "post_by", "posted_on", "withdrawn_on"):
            data[key] = data[key].isoformat() if data[key] is not None else None
        return data

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> QueuedLetter:
        return cls(
            delivery_id=data["delivery_id"],
            queued_at=datetime.fromisoformat(data["queued_at"]).astimezone(UTC),
            queue_day=date.fromisoformat(data["queue_day"]),
            post_by=date.fromisoformat(data["post_by"]),
            pages=int(data["pages"]),
            posted_on=date.fromisoformat(data["posted_on"]) if data.get("posted_on") else None,
            batch_id=data.get("batch_id"),
            email_ref=data.get("email_ref"),
            email_problem=data.get("email_problem"),
            withdrawn_on=(date.fromisoformat(data["withdrawn_on"]) if data.get("withdrawn_on")
                          else None),
        )


class LetterStore(Protocol):
    """Where letters and their queue state live; swap the file store for a table later."""

    def add(self, entry: QueuedLetter, pdf: bytes) -> bool:
        """Store a new letter; False (and nothing changed) if the delivery is already there."""
        ...

    def get(self, delivery_id: str) -> QueuedLetter | None: ...

    def entries(self) -> list[QueuedLetter]: ...

    def pdf(self, delivery_id: str) -> bytes: ...

    def update(self, entries: Iterable[QueuedLetter]) -> None:
        """Replace the given entries (same delivery ids) atomically."""
        ...


class FileLetterStore:
    """``<root>/<delivery_id>.pdf`` plus ``<root>/index.json``; safe across local processes."""

    def __init__(self, root: Path | str = DEFAULT_LETTER_DIR) -> None:
        self.root = Path(root)
        self._lock = threading.Lock()

    def __repr__(self) -> str:
        return f"FileLetterStore({str(self.root)!r})"

    @contextlib.contextmanager
    def _locked(self) -> Iterator[None]:
        self.root.mkdir(parents=True, exist_ok=True)
        with self._lock, open(self.root / ".lock", "a+") as handle:
            fcntl.flock(handle, fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(handle, fcntl.LOCK_UN)

    def _path(self, delivery_id: str) -> Path:
        if not _SAFE_ID.match(delivery_id):
            raise PrintQueueError("invalid delivery id")
        return self.root / f"{delivery_id}.pdf"

    def _read_index(self) -> dict[str, QueuedLetter]:
        path = self.root / "index.json"
        if not path.exists():
            return {}
        raw = json.loads(path.read_text(encoding="utf-8"))
        return {d["delivery_id"]: QueuedLetter.from_json(d) for d in raw["letters"]}

    def _write_atomic(self, path: Path, data: bytes) -> None:
        fd, tmp = tempfile.mkstemp(dir=self.root, prefix=".tmp-")
        try:
            with os.fdopen(fd, "wb") as handle:
                handle.write(data)
                handle.flush()
                os.fsync(handle.fileno())
            os.replace(tmp, path)
        except BaseException:
            with contextlib.suppress(OSError):
                os.unlink(tmp)
            raise

    def _write_index(self, index: dict[str, QueuedLetter]) -> None:
        letters = [e.to_json() for e in sorted(index.values(), key=lambda e: e.queued_at)]
        payload = json.dumps({"version": 1, "letters": letters}, indent=1).encode()
        self._write_atomic(self.root / "index.json", payload)

    def add(self, entry: QueuedLetter, pdf: bytes) -> bool:
        path = self._path(entry.delivery_id)
        with self._locked():
            index = self._read_index()
            if entry.delivery_id in index:
                return False
            self._write_atomic(path, pdf)
            index[entry.delivery_id] = entry
            self._write_index(index)
            return True

    def get(self, delivery_id: str) -> QueuedLetter | None:
        self._path(delivery_id)
        with self._locked():
            return self._read_index().get(delivery_id)

    def entries(self) -> list[QueuedLetter]:
        with self._locked():
            return sorted(self._read_index().values(), key=lambda e: e.queued_at)

    def pdf(self, delivery_id: str) -> bytes:
        return self._path(delivery_id).read_bytes()

    def update(self, entries: Iterable[QueuedLetter]) -> None:
        with self._locked():
            index = self._read_index()
            for entry in entries:
                if entry.delivery_id not in index:
                    raise PrintQueueError("unknown letter")
                index[entry.delivery_id] = entry
            self._write_index(index)


def letters_waiting(store: LetterStore, day: date) -> list[QueuedLetter]:
    """Letters queued on or before ``day`` (Dutch calendar) and not yet posted, oldest first."""
    return [e for e in store.entries()
            if e.posted_on is None and e.withdrawn_on is None and e.queue_day <= day]


def merge_letters(store: LetterStore, delivery_ids: Iterable[str], *, duplex: bool = False
                  ) -> bytes:
    """One PDF for the printer; with ``duplex`` every letter starts on a fresh sheet."""
    from pypdf import PdfReader, PdfWriter

    writer = PdfWriter()
    for delivery_id in delivery_ids:
        reader = PdfReader(io.BytesIO(store.pdf(delivery_id)))
        for page in reader.pages:
            writer.add_page(page)
        if duplex and len(reader.pages) % 2:
            last = reader.pages[-1].mediabox
            writer.add_blank_page(width=float(last.width), height=float(last.height))
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


def print_file_for_day(store: LetterStore, day: date, *, duplex: bool = False
                       ) -> tuple[list[str], bytes]:
    """The waiting letters of ``day`` and the merged PDF to print (empty PDF if none)."""
    ids = [e.delivery_id for e in letters_waiting(store, day)]
    return ids, merge_letters(store, ids, duplex=duplex)


def mark_posted(store: LetterStore, delivery_ids: Iterable[str], posted_on: date) -> str:
    """Record that these letters went into the post on ``posted_on``; returns the batch id.

    A letter whose payment term was computed for an earlier posting day is refused: its
    "in elk geval op tijd" date would now be too early, which voids a 14-day letter (legal-nl
    §1.2, §7.3) — render a new letter instead. Letters already posted keep their first date.
    """
    ids = list(dict.fromkeys(delivery_ids))
    entries = [store.get(i) for i in ids]
    if any(e is None for e in entries):
        raise PrintQueueError("unknown letter in the batch")
    if any(e and e.withdrawn_on for e in entries):
        raise PrintQueueError("a withdrawn letter is in the batch")
    early = [e.delivery_id for e in entries if e and e.posted_on is None
             and posted_on < e.queue_day]
    if early:  # a letter cannot have gone into the post before it existed
        raise PrintQueueError(f"{len(early)} letter(s) cannot be posted before they were made: "
                              f"{', '.join(early)}")
    late = [e.delivery_id for e in entries if e and e.posted_on is None and posted_on > e.post_by]
    if late:
        raise PrintQueueError(
            f"{len(late)} letter(s) may not be posted after their post-by date; "
            f"render them again: {', '.join(late)}"
        )
    batch = uuid.uuid4().hex[:12]
    store.update(replace(e, posted_on=posted_on, batch_id=batch)
                 for e in entries if e is not None and e.posted_on is None)
    return batch


def posted_on(store: LetterStore, delivery_id: str) -> date | None:
    """The posting date of a delivery's letter (the start of the 14-day term), if posted."""
    entry = store.get(delivery_id)
    return entry.posted_on if entry else None


# -- the channel --------------------------------------------------------------------------


class LetterChannel:
    """Renders the letter, queues it for printing and, with an e-mail address, mails a copy."""

    key = "letter"

    def __init__(
        self,
        store: LetterStore,
        partner: PartnerIdentity | None = None,
        email: EmailChannel | None = None,
        *,
        now: Callable[[], datetime] | None = None,
    ) -> None:
        self.store = store
        self.partner = partner or PartnerIdentity()
        self.email = email
        self._now = now or (lambda: datetime.now(UTC))

    def send(self, message: OutgoingMessage) -> str:
        """Queue the letter for the post (primary) and e-mail it (copy); ``letter:<id>``."""
        reference = f"letter:{message.delivery_id}"
        if not _SAFE_ID.match(message.delivery_id):
            raise ChannelRejected("ongeldig delivery-id")
        if self.store.get(message.delivery_id) is not None:
            return reference  # already queued: never print or mail the same letter twice
        now = self._now()
        today = now.astimezone(AMSTERDAM).date()
        try:
            pdf = render_letter_pdf(message, self.partner, letter_date=today)
        except ChannelRejected:
            raise
        except Exception as exc:
            raise ChannelRejected(f"brief kon niet worden gemaakt ({type(exc).__name__})") from None
        post_by = (date.fromisoformat(message.extra["post_by"]) if message.extra.get("post_by")
                   else today)
        entry = QueuedLetter(message.delivery_id, now, today, post_by, page_count(pdf))
        try:
            if not self.store.add(entry, pdf):
                return reference
        except OSError as exc:
            raise ChannelRejected(f"brief kon niet worden opgeslagen ({type(exc).__name__})"
                                  ) from None
        if message.email and self.email is not None:
            self._email_copy(message, entry, pdf)
        log.info("letter for delivery %s queued for printing", message.delivery_id)
        return reference

    def _email_copy(self, message: OutgoingMessage, entry: QueuedLetter, pdf: bytes) -> None:
        # The post is the legal route (legal-nl §1.4); the e-mail is a copy. Its failure must
        # not fail the delivery: the letter is already in the print queue and would be sent
        # twice if the engine tried again. The outcome is kept with the queue entry instead.
        from connector.channels.email import Attachment

        assert self.email is not None
        name = "brief.pdf" if message.extra.get("lang", "nl") == "nl" else "letter.pdf"
        try:
            ref = self.email.send_with(message, [Attachment(name, pdf)])
            self.store.update([replace(entry, email_ref=ref)])
        except (ChannelRejected, ChannelUncertain) as exc:
            problem = ("rejected: " if isinstance(exc, ChannelRejected) else "uncertain: ") + str(
                exc)
            log.warning("e-mail copy of letter %s: %s", message.delivery_id, problem)
            self.store.update([replace(entry, email_problem=problem[:200])])


# -- sample letters and the command ---------------------------------------------------------


def _sample_message(kind: str, lang: str, today: date) -> OutgoingMessage:
    from connector.collection.messages import build_context, render

    invoices = (
        InvoiceLine("2026-0412", "02-02-2026", "04-03-2026", Decimal("186.50")),
        InvoiceLine("2026-0457", "16-02-2026", "18-03-2026", Decimal("74.95")),
        InvoiceLine("2026-0503", "02-03-2026", "01-04-2026", Decimal("412.00")),
    )
    creditor, partner = "Bakkerij Zoet B.V.", PartnerIdentity().name
    iban = "NL91ABNA0417164300"
    contact = ("030 123 45 67 of administratie@bakkerijzoet.example" if lang == "nl"
               else "030 123 45 67 or administratie@bakkerijzoet.example")
    if kind == "consumer":
        recipient = "J. de Vries"
        address = ("J. de Vries", "Kerkstraat 12", "3512 AB Utrecht")
    else:
        recipient = "Café De Hoek V.O.F."
        address = ("Café De Hoek V.O.F.", "t.a.v. de administratie", "Oudegracht 200",
                   "3511 NR Utrecht")
    context, _ = build_context(
        template=f"profitletter_{kind}", lang=lang, debtor_kind=kind, recipient=recipient,
        creditor=creditor, creditor_contact=contact, iban=group_iban(iban), partner=partner,
        invoices=list(invoices), phone=None, today=today)
    rendered = render(f"profitletter_{kind}", "letter", context, lang=lang)
    return OutgoingMessage(
        delivery_id="sample" + kind, channel="letter", template=f"profitletter_{kind}",
        debtor_kind=kind, recipient_name=recipient, creditor_name=creditor,
        subject=rendered.subject, body=rendered.body, invoices=invoices,
        total=context["total"], email=None, phone=None, postal_address=address,
        extra={"iban": iban, "reference": context["reference"], "lang": lang,
               "creditor_contact": contact, "creditor_kvk": "12345678",
               "creditor_address": "Molenweg 5\n3521 CD Utrecht"},
    )


def render_sample_letter(kind: str, lang: str, out_path: Path | str) -> Path:
    """Render a demo Profitletter (consumer or business, Dutch or English) to ``out_path``."""
    if kind not in ("consumer", "business"):
        raise ValueError("kind must be 'consumer' or 'business'")
    if lang not in LABELS:
        raise ValueError("lang must be 'nl' or 'en'")
    today = datetime.now(AMSTERDAM).date()
    message = _sample_message(kind, lang, today)
    pdf = render_letter_pdf(message, PartnerIdentity(), lang=lang, letter_date=today)
    path = Path(out_path)
    path.write_bytes(pdf)
    return path


@click.group("letter")
def letter_cli() -> None:
    """Profitletters: sample PDFs."""


@letter_cli.command("sample")
@click.option("--kind", type=click.Choice(["consumer", "business"]), default="consumer",
              show_default=True)
@click.option("--lang", type=click.Choice(["nl", "en"]), default="nl", show_default=True)
@click.option("--out", "out", type=click.Path(dir_okay=False, writable=True), required=True,
              help="Where to write the PDF.")
def letter_sample(kind: str, lang: str, out: str) -> None:
    """Render a sample letter with demo data."""
    path = render_sample_letter(kind, lang, out)
    click.echo(f"sample letter written to {path} ({page_count(path.read_bytes())} page(s))")


__all__ = [
    "DEFAULT_LETTER_DIR",
    "FileLetterStore",
    "LetterChannel",
    "LetterStore",
    "PartnerIdentity",
    "PrintQueueError",
    "QueuedLetter",
    "letter_cli",
    "letters_waiting",
    "mark_posted",
    "merge_letters",
    "posted_on",
    "print_file_for_day",
    "render_letter_pdf",
    "render_sample_letter",
    "render_stamp_pdf",
]
