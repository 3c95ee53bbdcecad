"""E-mail over SMTP, sent in the creditor's name through the collection partner's mail address.

The debtor sees the creditor ("Bakkerij Zoet B.V. via Incassopartner") and replies to the
creditor (Reply-To), while the mail leaves from the partner's domain so SPF/DKIM hold. The
Message-ID is the reference kept on the delivery. What the SMTP server said decides the
outcome: refused before DATA means nothing left (:class:`ChannelRejected`); trouble during or
after DATA means it may have gone out (:class:`ChannelUncertain`). Server replies are never
copied into errors: they tend to echo the debtor's address.
"""

from __future__ import annotations

import html
import logging
import re
import smtplib
import ssl
import threading
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from email import policy
from email.message import EmailMessage
from email.utils import format_datetime, formataddr, make_msgid
from typing import Protocol
from urllib.parse import unquote, urlsplit

from connector.channels.base import ChannelRejected, ChannelUncertain, OutgoingMessage
from connector.channels.documents import PartnerIdentity, render_letter_pdf, render_stamp_pdf
from connector.channels.dsn import verp_address
from connector.channels.smtp_status import detail, read_status
from connector.channels.stamp import StampFailed, render_overlay, stamp_invoice_pdf
from connector.clock import AMSTERDAM

log = logging.getLogger(__name__)

SCHEMES = {"smtp": 25, "smtps": 465, "smtp+starttls": 587}
_ADDRESS = re.compile(r"^[^@\s<>(),;:\"\[\]\\]+@[^@\s<>(),;:\"\[\]\\]+\.[^@\s<>(),;:\"\[\]\\]+$")


@dataclass(frozen=True)
class SmtpConfig:
    """Where and how to hand mail over; the password stays out of repr()."""

    scheme: str
    host: str
    port: int
    username: str | None = None
    password: str | None = field(default=None, repr=False)

    @property
    def implicit_tls(self) -> bool:
        return self.scheme == "smtps"

    @property
    def starttls(self) -> bool:
        return self.scheme == "smtp+starttls"


def parse_smtp_url(url: str) -> SmtpConfig:
    """``smtp://user:pass@host:port``, ``smtps://…`` (implicit TLS) or ``smtp+starttls://…``.

    Errors never repeat the URL: it carries the password.
    """
    parts = urlsplit(url.strip())
    scheme = parts.scheme.lower()
    if scheme not in SCHEMES:
        raise ValueError("SMTP_URL must start with smtp://, smtps:// or smtp+starttls://")
    if not parts.hostname:
        raise ValueError("SMTP_URL has no host")
    try:
        port = parts.port or SCHEMES[scheme]
    except ValueError:
        raise ValueError("SMTP_URL has an invalid port") from None
    return SmtpConfig(
        scheme=scheme,
        host=parts.hostname,
        port=port,
        username=unquote(parts.username) if parts.username else None,
        password=unquote(parts.password) if parts.password is not None else None,
    )


class SentPdfKeeper(Protocol):
    """Where the stamp step's PDFs are kept (connector.channels.sent_pdfs.SentPdfStore)."""

    def keep(self, delivery_id: str, files: Sequence[tuple[str, bytes]]) -> None: ...


@dataclass(frozen=True)
class Attachment:
    filename: str
    content: bytes
    maintype: str = "application"
    subtype: str = "pdf"


def valid_address(value: str | None) -> bool:
    """A plain ``local@domain.tld`` with nothing that could smuggle a header or a second rcpt."""
    if not value or len(value) > 254 or not value.isascii():
        return False  # non-ASCII addresses need SMTPUTF8, which relays do not all offer
    return bool(_ADDRESS.match(value))


def text_to_html(text: str, lang: str = "nl") -> str:
    """A plain HTML rendering of the text body: escaped, paragraphs and line breaks kept."""
    paragraphs = [p for p in re.split(r"\n\s*\n", text.strip()) if p.strip()]
    body = "\n".join(
        "<p>" + "<br>\n".join(html.escape(line) for line in p.splitlines()) + "</p>"
        for p in paragraphs
    )
    return (
        f'<!DOCTYPE html>\n<html lang="{html.escape(lang)}"><head><meta charset="utf-8">'
        "</head>\n<body style=\"font-family: Arial, Helvetica, sans-serif; font-size: 15px; "
        f'line-height: 1.45; color: #222; max-width: 640px;">\n{body}\n</body></html>\n'
    )


def _one_line(value: str) -> str:
    return " ".join(value.split())


class EmailChannel:
    """SMTP channel; ``letter`` messages carry the letter PDF, ``stamp`` ones the stamp page."""

    key = "email"

    def __init__(
        self,
        smtp_url: str,
        sender_address: str,
        timeout: float = 30.0,
        *,
        partner: PartnerIdentity | None = None,
        key: str | None = None,
        bounce_address: str | None = None,
    ) -> None:
        if not valid_address(sender_address):
            raise ValueError("the partner's sending address is not a valid e-mail address")
        if bounce_address is not None and not valid_address(bounce_address):
            raise ValueError("BOUNCE_ADDRESS is not a valid e-mail address")
        # With a bounce address every debtor mail gets its own envelope sender (VERP), so a
        # bounce names the delivery it belongs to; see connector.channels.dsn.
        self.bounce_address = bounce_address
        self.config = parse_smtp_url(smtp_url)
        self.sender_address = sender_address
        self.timeout = timeout
        self.partner = partner or PartnerIdentity()
        if key is not None:
            self.key = key
        self.domain = sender_address.rsplit("@", 1)[1]

    def __repr__(self) -> str:
        return f"{type(self).__name__}(host={self.config.host!r}, port={self.config.port})"

    # -- composing ----------------------------------------------------------------------------

    def attachments_for(self, message: OutgoingMessage) -> list[Attachment]:
        """The PDF that goes along with this kind of message (none for plain e-mail)."""
        try:
            if message.channel == "letter":
                pdf = render_letter_pdf(message, self.partner)
                return [Attachment("brief.pdf" if _lang(message) == "nl" else "letter.pdf", pdf)]
            if message.channel == "stamp":
                pdf = render_stamp_pdf(message, self.partner)
                return [Attachment(stamp_filename(message), pdf)]
        except ChannelRejected:
            raise
        except Exception as exc:
            raise ChannelRejected(f"PDF kon niet worden gemaakt ({type(exc).__name__})") from None
        return []

    def build(
        self, message: OutgoingMessage, attachments: Sequence[Attachment] = ()
    ) -> EmailMessage:
        """The MIME message exactly as it will be handed to the SMTP server."""
        if not valid_address(message.email):
            raise ChannelRejected("geen geldig e-mailadres van de debiteur bekend")
        reply_to = message.extra.get("reply_to")
        if reply_to and not valid_address(reply_to):
            raise ChannelRejected("het reply-to-adres van de schuldeiser is ongeldig")
        mail = EmailMessage()
        display = _one_line(f"{message.creditor_name} via {self.partner.name}")
        mail["From"] = formataddr((display, self.sender_address))
        mail["To"] = formataddr((_one_line(message.recipient_name), message.email or ""))
        if reply_to:
            mail["Reply-To"] = formataddr((_one_line(message.creditor_name), reply_to))
        mail["Subject"] = _one_line(message.subject) or "Herinnering"
        mail["Date"] = format_datetime(datetime.now(UTC))
        mail["Message-ID"] = make_msgid(domain=self.domain)
        mail.set_content(message.body, cte="quoted-printable")
        mail.add_alternative(text_to_html(message.body, _lang(message)), subtype="html",
                             cte="quoted-printable")
        for item in attachments:
            mail.add_attachment(item.content, maintype=item.maintype, subtype=item.subtype,
                                filename=item.filename)
        return mail

    # -- sending ------------------------------------------------------------------------------

    def send(self, message: OutgoingMessage) -> str:
        """Send the message (with its PDF, if any); return the Message-ID."""
        return self.send_with(message, self.attachments_for(message))

    def send_with(self, message: OutgoingMessage, attachments: Sequence[Attachment]) -> str:
        """Send with the given attachments; used by the letter channel for its e-mail copy."""
        mail = self.build(message, attachments)
        data = mail.as_bytes(policy=policy.SMTP)  # CRLF line ends, as SMTP requires
        self._transmit(message.email or "", data, self.envelope_sender(message.delivery_id))
        log.info("e-mail for delivery %s accepted by the SMTP server", message.delivery_id)
        return str(mail["Message-ID"])

    def send_notice(self, recipient: str, subject: str, text: str) -> str:
        """A plain message from the partner to a creditor (not a debtor message)."""
        if not valid_address(recipient):
            raise ChannelRejected("geen geldig e-mailadres van de schuldeiser bekend")
        mail = EmailMessage()
        mail["From"] = formataddr((_one_line(self.partner.name), self.sender_address))
        mail["To"] = recipient
        mail["Subject"] = _one_line(subject)
        mail["Date"] = format_datetime(datetime.now(UTC))
        mail["Message-ID"] = make_msgid(domain=self.domain)
        mail.set_content(text)
        self._transmit(recipient, mail.as_bytes(policy=policy.SMTP))
        return str(mail["Message-ID"])

    def _connect(self) -> smtplib.SMTP:
        cfg = self.config
        if cfg.implicit_tls:
            return smtplib.SMTP_SSL(cfg.host, cfg.port, timeout=self.timeout,
                                    context=ssl.create_default_context())
        return smtplib.SMTP(cfg.host, cfg.port, timeout=self.timeout)

    def envelope_sender(self, delivery_id: str) -> str:
        """MAIL FROM for a debtor message: the VERP bounce address, else the sending address."""
        if self.bounce_address and re.fullmatch(r"[0-9a-f]{32}", delivery_id):
            return verp_address(self.bounce_address, delivery_id)
        return self.sender_address

    def _transmit(self, recipient: str, data: bytes, envelope_from: str | None = None) -> None:
        cfg = self.config
        try:
            smtp = self._connect()
        except (OSError, smtplib.SMTPException) as exc:
            raise ChannelRejected(f"mailserver niet bereikbaar {detail(type(exc).__name__)}",
                                  temporary=True) from None
        try:
            try:  # Everything up to DATA: a failure here means nothing was handed over.
                smtp.ehlo()
                if cfg.starttls:
                    smtp.starttls(context=ssl.create_default_context())
                    smtp.ehlo()
                if cfg.username:
                    smtp.login(cfg.username, cfg.password or "")
                code, _ = smtp.mail(envelope_from or self.sender_address)
                if code != 250:
                    raise ChannelRejected(f"afzender geweigerd door de mailserver {detail(code)}",
                                          temporary=400 <= code < 500)
                code, reply = smtp.rcpt(recipient)
                if code not in (250, 251):
                    # Only the codes of the reply are kept (its text may echo the address).
                    status = read_status(f"{code} {reply.decode('ascii', 'replace')}")
                    raise ChannelRejected(
                        f"e-mail geweigerd: {status.dutch} {detail(status.code)}",
                        temporary=400 <= code < 500)
            except smtplib.SMTPAuthenticationError as exc:
                raise ChannelRejected(
                    f"aanmelding bij de mailserver mislukt {detail(exc.smtp_code)}") from None
            except (OSError, smtplib.SMTPException) as exc:
                # A dropped connection or a 4xx before DATA: nothing was handed over, and it
                # may pass; a 5xx will not.
                code = getattr(exc, "smtp_code", 0)
                raise ChannelRejected(
                    f"fout van de mailserver vóór verzending {detail(type(exc).__name__)}",
                    temporary=not 500 <= code < 600) from None
            try:  # From DATA on, the server may have kept the message whatever we hear.
                code, _ = smtp.data(data)
            except smtplib.SMTPResponseException as exc:
                raise ChannelUncertain(
                    f"fout van de mailserver tijdens verzending {detail(exc.smtp_code)}; "
                    "mogelijk verstuurd") from None
            except (OSError, smtplib.SMTPException) as exc:
                raise ChannelUncertain(
                    f"verbinding verbroken tijdens verzending {detail(type(exc).__name__)}; "
                    "mogelijk verstuurd") from None
            if code != 250:
                # An explicit refusal of the content; RFC 5321 says it was not accepted, but
                # the issue asks for caution from DATA on: an operator confirms.
                raise ChannelUncertain(
                    f"mailserver weigerde het bericht {detail(code)}; controleer")
        finally:
            try:
                smtp.quit()
            except (OSError, smtplib.SMTPException):
                smtp.close()


class StampChannel(EmailChannel):
    """The stamped last reminder by e-mail.

    With the ledger's own invoice PDFs in the message (capability ``invoice_pdf``) each one is
    attached with the stamp on its first page; otherwise, or when any of them cannot be
    stamped, our own reminder page in the creditor's style carries the stamp. A stamping
    failure never fails the step: it is kept for the engine (:meth:`take_problem`) to record.
    """

    key = "stamp"

    def __init__(self, *args: object, sent_pdfs: SentPdfKeeper | None = None,
                 **kwargs: object) -> None:
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]
        self._problems: dict[str, str] = {}
        self._problems_lock = threading.Lock()
        self.sent_pdfs = sent_pdfs

    def send(self, message: OutgoingMessage) -> str:
        """Send, keeping the PDFs exactly as they go out so the case can show them. They are
        kept just before the hand-over: a send that may have gone out still has them; a
        failure to keep them is logged and never stops the reminder."""
        attachments = self.attachments_for(message)
        if self.sent_pdfs is not None:
            try:
                self.sent_pdfs.keep(message.delivery_id,
                                    [(a.filename, a.content) for a in attachments])
            except Exception as exc:
                log.warning("delivery %s: sent PDF not kept (%s)", message.delivery_id,
                            type(exc).__name__)
        return self.send_with(message, attachments)

    def attachments_for(self, message: OutgoingMessage) -> list[Attachment]:
        if message.invoice_pdfs:
            try:
                return self.stamped_invoices(message)
            except Exception as exc:  # whatever it was, the step goes with our own page
                problem = str(exc) if isinstance(exc, StampFailed) else type(exc).__name__
                log.warning("delivery %s: invoice PDF not stamped (%s); own reminder page",
                            message.delivery_id, problem)
                with self._problems_lock:
                    self._problems[message.delivery_id] = problem[:200]
        try:
            pdf = render_stamp_pdf(message, self.partner)
        except Exception as exc:
            raise ChannelRejected(f"PDF kon niet worden gemaakt ({type(exc).__name__})") from None
        return [Attachment(stamp_filename(message), pdf)]


    def stamped_invoices(self, message: OutgoingMessage) -> list[Attachment]:
        """Each invoice PDF with the stamp on page 1 (raises :class:`StampFailed`)."""
        day = (date.fromisoformat(message.extra["letter_date"]) if message.extra.get("letter_date")
               else datetime.now(AMSTERDAM).date())
        # One delivery, one link: every invoice in this mail carries this delivery's page.
        overlay = render_overlay(self.partner, lang=_lang(message), day=day,
                                 response_url=message.extra.get("response_url", ""))
        out = []
        for item in message.invoice_pdfs:
            pdf = stamp_invoice_pdf(item.content, self.partner, lang=_lang(message), day=day,
                                    overlay=overlay)
            out.append(Attachment(invoice_attachment_name(item.number), pdf))
        return out

    def take_problem(self, delivery_id: str) -> str | None:
        """Why this delivery went with our own page instead of the stamped invoice, once."""
        with self._problems_lock:
            return self._problems.pop(delivery_id, None)


def invoice_attachment_name(number: str) -> str:
    """``factuur-<number>.pdf``: the stamped invoice's name in the mail (and so in the sent
    PDFs, where the ledger's document is found by it)."""
    name = re.sub(r"[^A-Za-z0-9_.-]+", "-", number).strip("-.") or "factuur"
    return f"factuur-{name}.pdf"


def stamp_filename(message: OutgoingMessage) -> str:
    return "laatste-herinnering.pdf" if _lang(message) == "nl" else "final-reminder.pdf"


def _lang(message: OutgoingMessage) -> str:
    return "en" if message.extra.get("lang") == "en" else "nl"
