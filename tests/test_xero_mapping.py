"""Xero's JSON read right: MS-JSON dates with any offset, statuses, consumer or business, and
webhook signatures (intent to receive on Xero's exact bytes)."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime
from decimal import Decimal

import flask
import pytest

from providers.base import DebtorKind, InvoiceStatus, Rejected, WebhookRejected
from providers.xero import emulator_data, mapping, webhooks
from providers.xero.emulator_hooks import ITR_BODY
from providers.xero.provider import XeroProvider, auth_event_id
from tests.contract.xero_openapi import validate_webhook

pytest_plugins = ["tests.fixtures_xero"]


@pytest.mark.parametrize(("raw", "day"), [
    ("/Date(1546128000000+0000)/", date(2018, 12, 30)),  # the spec's example: midnight UTC
    ("/Date(1546128000000)/", date(2018, 12, 30)),
    ("/Date(1546081200000+1300)/", date(2018, 12, 30)),  # midnight in Auckland (UTC+13)
    ("/Date(1546124400000+0100)/", date(2018, 12, 30)),  # midnight in Amsterdam
    ("/Date(1546146000000-0500)/", date(2018, 12, 30)),  # midnight in New York
    ("2018-12-30T00:00:00", date(2018, 12, 30)),  # DateString, ISO without a zone
])
def test_calendar_dates_in_any_offset(raw, day):
    assert mapping.day(raw) == day


def test_timestamps_are_utc_whatever_the_offset():
    assert mapping.moment("/Date(1541176290160+0000)/") == datetime(
        2018, 11, 2, 16, 31, 30, 160000, tzinfo=UTC)
    assert mapping.moment("/Date(1541176290160+1300)/") == mapping.moment(
        "/Date(1541176290160)/")
    assert mapping.moment(None) is None
    with pytest.raises(Rejected):
        mapping.moment("yesterday")


def test_the_emulator_writes_what_we_read():
    for offset in ("+0000", "+0100", "+1300", "-0500"):
        assert mapping.day(emulator_data.ms_date(date(2026, 3, 29), offset)) == date(2026, 3, 29)


def invoice_row(**fields):
    row = {"InvoiceID": "a", "Type": "ACCREC", "Contact": {"ContactID": "c"},
           "Status": "AUTHORISED", "Total": Decimal("100.00"), "AmountDue": Decimal("100.00"),
           "AmountPaid": Decimal("0"), "AmountCredited": Decimal("0"), "CurrencyCode": "EUR",
           "UpdatedDateUTC": "/Date(1541176290160+0000)/", "DueDate": "/Date(1546128000000)/"}
    return {**row, **fields}


@pytest.mark.parametrize(("fields", "status"), [
    ({}, InvoiceStatus.OPEN),
    ({"Status": "PAID", "AmountDue": 0, "AmountPaid": 100}, InvoiceStatus.PAID),
    ({"Status": "PAID", "AmountDue": 0, "AmountCredited": 100}, InvoiceStatus.CREDITED),
    ({"Status": "PAID", "AmountDue": 0, "AmountPaid": 40, "AmountCredited": 60},
     InvoiceStatus.PAID),
    ({"Status": "VOIDED"}, InvoiceStatus.DELETED),
    ({"Status": "DELETED"}, InvoiceStatus.DELETED),
    ({"Status": "DRAFT"}, InvoiceStatus.DRAFT),
    ({"Status": "SUBMITTED"}, InvoiceStatus.DRAFT),
])
def test_statuses(fields, status):
    assert mapping.invoice(invoice_row(**fields)).status == status


def test_an_invoice_in_another_currency_says_it_is_not_chased():
    record = mapping.invoice(invoice_row(CurrencyCode="USD"), "https://in.xero.com/x")
    assert record.currency == "USD" and record.status == InvoiceStatus.OPEN
    assert record.ledger_state == "USD: niet geïncasseerd"
    assert record.payment_url == "https://in.xero.com/x"
    assert "niet" not in mapping.invoice(invoice_row()).ledger_state


def test_consumer_or_business_from_company_and_tax_number():
    base = {"ContactID": "c", "Name": "Jan Jansen", "UpdatedDateUTC": "/Date(1541176290160)/",
            "Phones": [{"PhoneType": "MOBILE", "PhoneNumber": "612345678",
                        "PhoneCountryCode": "31"}],
            "Addresses": [{"AddressType": "STREET"},
                          {"AddressType": "POBOX", "AddressLine1": "Dorpsstraat 1",
                           "City": "Utrecht", "PostalCode": "3511 AB", "Country": "NL"}]}
    consumer = mapping.debtor(base)
    assert consumer.kind == DebtorKind.CONSUMER and consumer.city == "Utrecht"
    assert consumer.phone == "+31 612345678" and consumer.contact_person is None
    assert mapping.debtor({**base, "CompanyNumber": "12345678"}).kind == DebtorKind.BUSINESS
    assert mapping.debtor({**base, "TaxNumber": "NL1B01"}).kind == DebtorKind.BUSINESS
    assert mapping.debtor({**base, "TaxNumber": "  "}).kind == DebtorKind.CONSUMER
    assert consumer.country == "NL"


@pytest.mark.parametrize(("raw", "code"), [("NL", "NL"), ("nl", "NL"), ("Netherlands", "NL"),
                                            ("Nederland", "NL"), ("Belgium", "BE"),
                                            ("Atlantis", None), ("", None)])
def test_free_text_countries_become_iso_codes(raw, code):
    assert mapping.country_code(raw) == code


def test_long_fields_are_cut_to_what_the_mirror_keeps():
    contact = {"ContactID": "c", "Name": "N" * 300, "CompanyNumber": "1" * 30,
               "Phones": [{"PhoneType": "DEFAULT", "PhoneNumber": "9" * 60}],
               "Addresses": [{"AddressLine1": "A" * 300, "PostalCode": "P" * 30, "City": "C"}]}
    debtor = mapping.debtor(contact)
    assert (len(debtor.name), len(debtor.chamber_of_commerce), len(debtor.phone),
            len(debtor.address_line), len(debtor.postal_code)) == (200, 20, 40, 200, 20)
    assert len(mapping.invoice(invoice_row(CurrencyCode="NZD")).ledger_state) <= 30


def test_signatures_on_the_raw_bytes():
    key = "webhook-key"
    body = json.dumps({"events": [{"tenantId": "t1", "eventCategory": "INVOICE",
                                   "eventType": "UPDATE", "resourceId": "i1"}],
                       "firstEventSequence": 1, "lastEventSequence": 1,
                       "entropy": "ABC"}).encode()
    events = webhooks.parse(body, {"x-xero-signature": webhooks.sign(body, key)}, key)
    assert [(e.tenant_id, e.action, e.entity_id) for e in events] == [
        ("t1", "INVOICE/UPDATE", "i1")]
    with pytest.raises(WebhookRejected):
        webhooks.parse(body, {"x-xero-signature": webhooks.sign(body, "other")}, key)
    with pytest.raises(WebhookRejected):
        webhooks.parse(body + b" ", {"x-xero-signature": webhooks.sign(body, key)}, key)
    with pytest.raises(WebhookRejected):
        webhooks.parse(body, {}, key)
    # Intent to receive: Xero's exact bytes (spaces and all) verify and carry no event.
    assert webhooks.parse(ITR_BODY, {"X-Xero-Signature": webhooks.sign(ITR_BODY, key)},
                          key) == []
    reserialised = json.dumps(json.loads(ITR_BODY)).encode()
    with pytest.raises(WebhookRejected):
        webhooks.parse(reserialised, {"x-xero-signature": webhooks.sign(ITR_BODY, key)}, key)


def test_intent_to_receive_passes_on_an_endpoint_that_answers_as_xero_asks(xero_emulator):
    """What an endpoint must do (200 or 401, empty body), shown with the provider's check on a
    bare Flask app (the connector's own /webhooks/xero: tests/test_xero_app_webhooks.py)."""
    provider = XeroProvider("c", "s", xero_emulator.webhook_key)
    app = flask.Flask("itr")

    @app.post("/hook")
    def hook():
        try:
            provider.verify_app_webhook(flask.request.get_data(), flask.request.headers)
        except WebhookRejected:
            return "", 401
        return "", 200

    from providers.emulator_server import EmulatorServer

    class Bare:
        def __init__(self):
            self.app = app

        def close(self):
            pass

    server = EmulatorServer(Bare(), "127.0.0.1", 0)
    try:
        assert xero_emulator.intent_to_receive(f"{server.url}/hook") == []
    finally:
        server.shutdown()


def test_delivered_payloads_match_xeros_webhook_document(xero_emulator):
    received = []
    app = flask.Flask("sink")

    @app.post("/hook")
    def hook():
        raw = flask.request.get_data()
        if flask.request.headers.get("x-xero-signature") != webhooks.sign(
                raw, xero_emulator.webhook_key):
            return "", 401  # as Xero's intent to receive asks
        received.append(raw)
        return "", 200

    from providers.emulator_server import EmulatorServer

    class Sink:
        def __init__(self):
            self.app = app

        def close(self):
            pass

    server = EmulatorServer(Sink(), "127.0.0.1", 0)
    try:
        tenant = xero_emulator.tenant_ids()[0]
        assert xero_emulator.subscribe(f"{server.url}/hook") == "OK"
        received.clear()  # the intent-to-receive deliveries
        xero_emulator.pay_invoice(tenant, xero_emulator.open_invoices(tenant)[0]["InvoiceID"])
        assert xero_emulator.wait_for_deliveries(10)
    finally:
        server.shutdown()
    assert received and all(validate_webhook(body) == [] for body in received)
    # Xero's own intent-to-receive payload starts its sequence at 0, below the document's
    # minimum of 1 (reference next-ledgers §1.7): the document is stricter than Xero.
    assert validate_webhook(ITR_BODY)


def test_the_auth_event_is_read_from_the_access_token():
    payload = '{"authentication_event_id": "e-1"}'
    import base64

    token = "h." + base64.urlsafe_b64encode(payload.encode()).decode().rstrip("=") + ".s"
    assert auth_event_id(token) == "e-1"
    assert auth_event_id("opaque-token") is None
