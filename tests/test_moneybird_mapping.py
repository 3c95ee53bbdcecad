"""Moneybird JSON → records, and webhook signatures: pure functions."""

from __future__ import annotations

import json
import time
from datetime import date
from decimal import Decimal

import pytest

from providers.base import DebtorKind, InvoiceStatus, Rejected, WebhookRejected
from providers.moneybird import mapping, webhooks
from providers.moneybird.client import sync_period

INVOICE = {
    "id": "458026356994737217", "contact_id": "458026356800012345", "invoice_id": "2026-0117",
    "state": "late", "invoice_date": "2026-06-01", "due_date": "2026-06-15", "currency": "EUR",
    "total_price_incl_tax": "1210.0", "total_unpaid": "1010.0", "version": 1787320245,
    "paused": False, "paid_at": None,
    "payments": [{"id": "1", "price": "200.0", "payment_date": "2026-06-20",
                  "transaction_identifier": None, "credit_invoice_id": None}],
    "notes": [{"id": "9", "note": "hello [PI-ABC]", "created_at": "2026-06-21T10:00:00.000Z"}],
}


def test_invoice_money_is_decimal_and_ids_are_strings() -> None:
    record = mapping.invoice(INVOICE)
    assert record.total == Decimal("1210.0") and isinstance(record.open_amount, Decimal)
    assert record.open_amount == Decimal("1010.0")
    assert record.version == "1787320245" and record.id == "458026356994737217"
    assert record.status is InvoiceStatus.OPEN
    assert record.due_date == date(2026, 6, 15)
    assert record.notes[0].text.endswith("[PI-ABC]")


@pytest.mark.parametrize(
    ("state", "payments", "expected"),
    [
        ("paid", [{"id": "1", "price": "1.0", "payment_date": "2026-01-01"}], InvoiceStatus.PAID),
        ("paid", [{"id": "1", "price": "1.0", "payment_date": "2026-01-01",
                   "credit_invoice_id": "77"}], InvoiceStatus.CREDITED),
        ("uncollectible", [], InvoiceStatus.UNCOLLECTIBLE),
        ("reminded", [], InvoiceStatus.OPEN),
        ("pending_payment", [], InvoiceStatus.OPEN),
        ("draft", [], InvoiceStatus.DRAFT),
    ],
)
def test_invoice_status(state: str, payments: list, expected: InvoiceStatus) -> None:
    assert mapping.invoice({**INVOICE, "state": state, "payments": payments}).status is expected


def test_bad_amount_is_a_clear_rejection() -> None:
    with pytest.raises(Rejected, match="amount"):
        mapping.invoice({**INVOICE, "total_unpaid": "twelve"})


def test_contact_kind_rule() -> None:
    business = mapping.debtor({"id": "1", "company_name": "Bakkerij B.V.", "firstname": "Anna",
                               "lastname": "de Vries", "version": 3,
                               "send_invoices_to_email": "f@x.example", "email": "a@x.example"})
    consumer = mapping.debtor({"id": "2", "company_name": "", "firstname": "Piet",
                               "lastname": "Jansen", "version": 4})
    assert business.kind is DebtorKind.BUSINESS and business.contact_person == "Anna de Vries"
    assert business.email == "f@x.example"
    assert consumer.kind is DebtorKind.CONSUMER and consumer.name == "Piet Jansen"
    assert "Piet" not in repr(consumer)  # debtor data stays out of logs


def test_sync_period_is_explicit_and_wide() -> None:
    assert sync_period(date(2026, 1, 2)) == "20160101..20271231"


def _signed(body: dict, secret: str = "s3cret", at: int | None = None) -> tuple[bytes, dict]:
    raw = json.dumps(body).encode()
    header = webhooks.sign(raw, secret, at or int(time.time()))
    return raw, {"Moneybird-Signature": header, "Idempotency-Key": "k-1"}


EVENT = {"administration_id": "123", "action": "sales_invoice_state_changed_to_paid",
         "entity_type": "SalesInvoice", "entity_id": "456", "state": "paid"}


def test_webhook_signature_accepted_and_parsed() -> None:
    raw, headers = _signed(EVENT)
    [event] = webhooks.parse(raw, headers, "s3cret")
    assert (event.tenant_id, event.entity_id, event.delivery_id) == ("123", "456", "k-1")


def test_webhook_rotation_allows_several_v1() -> None:
    raw, headers = _signed(EVENT, "new-secret")
    headers["Moneybird-Signature"] += ",v1=" + "0" * 64
    assert webhooks.parse(raw, headers, "new-secret")


@pytest.mark.parametrize("tamper", ["secret", "body", "stale", "missing", "garbage"])
def test_webhook_bad_signatures_rejected(tamper: str) -> None:
    raw, headers = _signed(EVENT, at=int(time.time()) - (400 if tamper == "stale" else 0))
    secret = "other" if tamper == "secret" else "s3cret"
    if tamper == "body":
        raw = raw.replace(b"paid", b"open")
    if tamper == "missing":
        del headers["Moneybird-Signature"]
    if tamper == "garbage":
        headers["Moneybird-Signature"] = "nonsense"
    with pytest.raises(WebhookRejected):
        webhooks.parse(raw, headers, secret)


def test_unsigned_registration_check_yields_nothing() -> None:
    assert webhooks.parse(b"{}", {}, "s3cret") == []
