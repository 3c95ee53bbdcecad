"""The channel contract and its outcomes.

A channel either confirms (returns a reference), refuses before anything left
(:class:`ChannelRejected`: nothing reached the debtor, safe to fix and retry), or cannot tell
(:class:`ChannelUncertain`: the message may have gone out; the engine marks the delivery
ambiguous and never sends it again on its own).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal
from typing import Protocol


class ChannelRejected(Exception):
    """The channel refused the message; it did not reach the debtor.

    ``temporary``: the refusal may pass (a server down, a 4xx reply before the message was
    handed over), so the engine tries again later; nothing went out, so no duplicate.
    """

    def __init__(self, message: str, *, temporary: bool = False) -> None:
        super().__init__(message)
        self.temporary = temporary


class ChannelUncertain(Exception):
    """The message may or may not have reached the debtor."""


@dataclass(frozen=True)
class InvoiceLine:
    number: str
    invoice_date: str
    due_date: str
    open_amount: Decimal


@dataclass(frozen=True)
class InvoicePdf:
    """The ledger's own PDF of one invoice, fetched just before the stamp step goes out."""

    number: str
    content: bytes

    def __repr__(self) -> str:
        return f"InvoicePdf(bytes={len(self.content)})"


@dataclass(frozen=True)
class OutgoingMessage:
    delivery_id: str
    channel: str
    template: str
    debtor_kind: str
    recipient_name: str
    creditor_name: str
    subject: str
    body: str
    invoices: tuple[InvoiceLine, ...] = ()
    total: Decimal = Decimal("0")
    email: str | None = None
    phone: str | None = None
    postal_address: tuple[str, ...] = ()
    extra: dict[str, str] = field(default_factory=dict)
    # Stamp step only: the ledger's invoice PDFs to stamp and attach (else our own page).
    invoice_pdfs: tuple[InvoicePdf, ...] = ()

    def __repr__(self) -> str:  # debtor data stays out of logs
        return f"OutgoingMessage(delivery_id={self.delivery_id!r}, channel={self.channel!r})"


class Channel(Protocol):
    key: str

    def send(self, message: OutgoingMessage) -> str:
        """Deliver the message; return the channel's reference for it."""
        ...
