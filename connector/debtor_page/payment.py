"""How a debtor pays by bank transfer: the ISO 11649 reference and the EPC QR code.

The payment box follows the Dutch *Betaalinstructie* (amount, beneficiary name, IBAN,
reference: the order a banking app asks for them). The reference is an ISO 11649 "RF"
creditor reference derived from the invoice number, so a payment that carries it can be
matched back to its invoice (:func:`invoice_for_reference`). The QR code is the EPC069-12
SEPA credit transfer code (version 002) that Dutch and European banking apps read.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from decimal import Decimal

import segno
import segno.helpers
from schwifty import IBAN
from schwifty.exceptions import SchwiftyException
from sqlalchemy import select
from sqlalchemy.orm import Session
from stdnum import iso11649
from stdnum.exceptions import ValidationError

from connector.models import Invoice

MAX_REFERENCE_BODY = 21  # ISO 11649: "RF", two check digits and at most 21 characters
EPC_NAME_MAX = 70


class BadReference(ValueError):
    """Text that is not a valid ISO 11649 creditor reference."""


def _alnum(text: str | None) -> str:
    return re.sub(r"[^0-9A-Za-z]", "", text or "").upper()


def _body(invoice: Invoice) -> str:
    """The invoice number without separators; a too long or empty one falls back to the id."""
    body = _alnum(invoice.number)
    if not body or len(body) > MAX_REFERENCE_BODY:
        body = "X" + _alnum(invoice.id)[: MAX_REFERENCE_BODY - 1]
    return body


def creditor_reference(body: str) -> str:
    """``RF`` + check digits + ``body`` (ISO 11649, compact form)."""
    body = _alnum(body)
    if not body or len(body) > MAX_REFERENCE_BODY:
        raise BadReference("een betalingskenmerk heeft 1 tot 21 letters of cijfers")
    digits = "".join(str(int(ch, 36)) for ch in body + "RF00")
    return f"RF{98 - int(digits) % 97:02d}{body}"


def rf_reference(invoice: Invoice) -> str:
    """The structured reference a debtor pays this invoice with (compact, e.g. RF472026412)."""
    return creditor_reference(_body(invoice))


def grouped(reference: str) -> str:
    """The reference in groups of four, as it is printed (RF47 2026 0412)."""
    return iso11649.format(reference)


def parse_reference(text: str) -> str:
    """The compact body of a valid RF reference; :class:`BadReference` otherwise."""
    try:
        compact = iso11649.validate(text or "")
    except ValidationError:
        raise BadReference("geen geldig betalingskenmerk (RF)") from None
    return compact[4:]


def invoice_for_reference(session: Session, company_id: str, text: str) -> Invoice | None:
    """The invoice of ``company_id`` that an RF reference was made for, if any.

    Matching side of :func:`rf_reference`: ``text`` is a reference or a payment description
    that carries one; it finds its invoice even when the bank dropped the spaces or changed
    the case. (The ledgers match payments themselves today; a bank-statement import would call
    this.)
    """
    compact = find_reference(text)
    if compact is None:
        return None
    body = compact[4:]
    if body.startswith("X"):
        prefix = body[1:].lower()
        found = session.scalars(select(Invoice).where(Invoice.company_id == company_id,
                                                      Invoice.id.startswith(prefix))).all()
        return found[0] if len(found) == 1 else None
    for invoice in session.scalars(select(Invoice).where(Invoice.company_id == company_id)):
        if _body(invoice) == body:
            return invoice
    return None


def find_reference(text: str) -> str | None:
    """An RF reference inside free text (a bank statement line), compact, or None."""
    for match in re.finditer(r"RF\s?\d{2}(?:\s?[0-9A-Za-z]){1,21}", text or "", re.IGNORECASE):
        candidate = re.sub(r"\s", "", match.group(0)).upper()
        # the greedy match may have taken a following word: shorten until it validates
        while len(candidate) > 4:
            if iso11649.is_valid(candidate):
                return candidate
            candidate = candidate[:-1]
    return None


@dataclass(frozen=True)
class PaymentBox:
    """One transfer, in the order of the Betaalinstructie."""

    amount: Decimal
    name: str
    iban: str  # compact
    reference: str  # compact RF reference
    invoice_number: str

    @property
    def iban_grouped(self) -> str:
        return " ".join(self.iban[i:i + 4] for i in range(0, len(self.iban), 4))

    @property
    def reference_grouped(self) -> str:
        return grouped(self.reference)


def bic_for(iban: str) -> str | None:
    try:
        bic = IBAN(iban).bic
    except SchwiftyException:
        return None
    return str(bic) if bic else None


def epc_qr(box: PaymentBox) -> segno.QRCode:
    """The EPC069-12 SEPA credit transfer QR code (version 002) for one payment box."""
    return segno.helpers.make_epc_qr(
        name=box.name[:EPC_NAME_MAX], iban=box.iban, amount=box.amount,
        reference=box.reference, bic=bic_for(box.iban), encoding="utf-8")


def epc_svg(box: PaymentBox, title: str) -> str:
    """The EPC QR code as an inline SVG data URI for an ``<img>``."""
    return epc_qr(box).svg_data_uri(scale=4, border=4, title=title)


def url_qr_svg(url: str, *, scale: int = 3) -> str:
    """A plain QR code for a link (the letter's way to the debtor's page)."""
    return segno.make(url, error="m").svg_data_uri(scale=scale, border=4)


def compact_iban(iban: str) -> str:
    return re.sub(r"\s+", "", iban or "").upper()
