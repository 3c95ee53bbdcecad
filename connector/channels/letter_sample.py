"""Sample Profitletters with demo data, and the ``connector letter sample`` command.

Kept apart from the channel: a sample is written through the message templates
(:mod:`connector.collection.messages`), which sit above the channels.
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from pathlib import Path

import click

from connector.channels.base import InvoiceLine, OutgoingMessage
from connector.channels.documents import (
    LABELS,
    PartnerIdentity,
    group_iban,
    page_count,
    render_letter_pdf,
)
from connector.clock import AMSTERDAM
from connector.collection.messages import build_context, render


def sample_message(kind: str, lang: str, today: date) -> OutgoingMessage:
    """A consumer or business letter of a demo creditor, written from the default template."""
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
    message = sample_message(kind, lang, today)
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


__all__ = ["letter_cli", "render_sample_letter", "sample_message"]
