"""The Profitletter as a creditor's debtor reads it (#16): one page for up to five invoices
with the payment details on page 1, no sentence twice, no "B.V.." after a name."""

from __future__ import annotations

import io
import re
from datetime import date
from decimal import Decimal

import pytest
from pypdf import PdfReader

from connector.channels.base import InvoiceLine, OutgoingMessage
from connector.channels.documents import PartnerIdentity, group_iban, render_letter_pdf
from connector.collection.messages import build_context, render, single_periods

IBAN = "NL91ABNA0417164300"
CREDITOR = "Bakkerij Zoet B.V."


def _letter(kind: str, lang: str, count: int) -> bytes:
    invoices = [InvoiceLine(f"2026-{400 + i:04d}", "02-02-2026", "04-03-2026",
                            Decimal("186.50") + i) for i in range(count)]
    recipient = "J. de Vries" if kind == "consumer" else "Café De Hoek V.O.F."
    context, _ = build_context(
        template=f"profitletter_{kind}", lang=lang, debtor_kind=kind, recipient=recipient,
        creditor=CREDITOR, creditor_contact="030 123 45 67", iban=group_iban(IBAN),
        partner=PartnerIdentity().name, invoices=invoices, phone=None, today=date(2026, 4, 20))
    rendered = render(f"profitletter_{kind}", "letter", context, lang=lang)
    message = OutgoingMessage(
        delivery_id="layout" + kind, channel="letter", template=f"profitletter_{kind}",
        debtor_kind=kind, recipient_name=recipient, creditor_name=CREDITOR,
        subject=rendered.subject, body=rendered.body, invoices=tuple(invoices),
        total=context["total"], email=None, phone=None,
        postal_address=(recipient, "Kerkstraat 12", "3512 AB Utrecht"),
        extra={"iban": IBAN, "reference": context["reference"], "lang": lang,
               "creditor_contact": "030 123 45 67", "creditor_kvk": "12345678",
               "creditor_address": "Molenweg 5\n3521 CD Utrecht"})
    return render_letter_pdf(message, PartnerIdentity(), lang=lang, letter_date=date(2026, 4, 20))


def _sentences(text: str) -> list[str]:
    flat = re.sub(r"\s+", " ", text)
    return [s.strip() for s in re.split(r"(?<=[.!?])\s", flat) if len(s.strip()) > 25]


@pytest.mark.parametrize("kind", ["consumer", "business"])
@pytest.mark.parametrize("lang", ["nl", "en"])
def test_five_invoices_fit_one_page_with_the_payment_details(kind: str, lang: str) -> None:
    reader = PdfReader(io.BytesIO(_letter(kind, lang, 5)))
    assert len(reader.pages) == 1
    first = reader.pages[0].extract_text()
    assert IBAN in re.sub(r"\s", "", first)
    assert "2026-0404" in first  # the fifth invoice


@pytest.mark.parametrize("kind", ["consumer", "business"])
@pytest.mark.parametrize("lang", ["nl", "en"])
def test_no_sentence_twice_and_no_double_period_after_a_name(kind: str, lang: str) -> None:
    reader = PdfReader(io.BytesIO(_letter(kind, lang, 2)))
    text = "\n".join(line for page in reader.pages for line in page.extract_text().splitlines()
                     if "Klachten?" not in line and "Complaints?" not in line)  # the footer
    assert "B.V.." not in re.sub(r"\s", "", text)
    flat = re.sub(r"\s+", " ", text)
    twice = {s for s in _sentences(text) if flat.count(s) > 1}
    assert not twice, twice


@pytest.mark.parametrize(("name", "lang"), [("whatsapp", "en"), ("stamp", "nl")])
def test_a_name_ending_in_a_period_gets_no_second_period(name: str, lang: str) -> None:
    invoices = [InvoiceLine("2026-0400", "02-02-2026", "04-03-2026", Decimal("186.50"))]
    context, _ = build_context(
        template=name, lang=lang, debtor_kind="business", recipient="Café De Hoek V.O.F.",
        creditor=CREDITOR, creditor_contact="030 123 45 67", iban=group_iban(IBAN),
        partner="Incasso Partners B.V.", invoices=invoices, phone=None, today=date(2026, 4, 20))
    body = render(name, name, context, lang=lang).body
    assert "B.V.." not in body and "B.V." in body
    assert single_periods("Wacht even... of niet.") == "Wacht even... of niet."
