"""Xero's one webhook URL per app (``/webhooks/xero``): the intent-to-receive check, signed
deliveries for the right company, refusals with empty bodies, organisations nobody connected,
replays. Every payload is checked against Xero's webhook document."""

from __future__ import annotations

import json

import pytest
import requests
from sqlalchemy import func, select

from connector.models import Company, Connection, WebhookReceipt
from providers.xero.emulator_hooks import ITR_OK, ITR_REQUIRED
from providers.xero.webhooks import sign
from tests.contract.xero_openapi import validate_webhook
from tests.helpers import wait_until
from tests.xero_helpers import connect_company

pytest_plugins = ["tests.fixtures_xero"]


@pytest.fixture
def hooked(make_services, make_xero_emulator):
    emulator = make_xero_emulator()
    services = make_services(ledger={"xero": {"XERO_BASE_URL": emulator.public_url}})
    tenant = emulator.tenant_ids()[0]
    company_id = connect_company(services, emulator, tenant)
    _forget_request(services, company_id)
    return services, emulator, tenant, company_id, f"{services.settings.public_url}/webhooks/xero"


def _forget_request(services, company_id: str) -> None:
    with services.db.session() as db:
        db.get(Company, company_id).sync_requested_at = None


def _requested(services, company_id: str) -> bool:
    with services.db.session() as db:
        return db.get(Company, company_id).sync_requested_at is not None


def _receipts(services) -> int:
    with services.db.session() as db:
        return db.scalar(select(func.count()).select_from(WebhookReceipt))


def _body(tenant: str, resource: str, sequence: int = 1) -> bytes:
    """A delivery as Xero words it (checked against xero-webhooks.yaml)."""
    body = json.dumps({"events": [{
        "resourceUrl": f"https://api.xero.com/api.xro/2.0/Invoices/{resource}",
        "resourceId": resource, "eventDateUtc": "2026-11-27T10:00:00.000",
        "eventType": "UPDATE", "eventCategory": "INVOICE", "tenantId": tenant,
        "tenantType": "ORGANISATION"}], "firstEventSequence": sequence,
        "lastEventSequence": sequence, "entropy": f"TESTENTROPY{sequence:09d}"}).encode()
    assert validate_webhook(body) == []
    return body


def _post(url: str, body: bytes, key: str) -> requests.Response:
    return requests.post(url, data=body, timeout=30, headers={
        "Content-Type": "application/json", "x-xero-signature": sign(body, key)})


def test_intent_to_receive_passes_and_the_emulator_shows_it(hooked):
    services, emulator, _, company_id, url = hooked
    assert emulator.webhook_status != ITR_OK  # nothing is delivered before the check
    assert emulator.subscribe(url) == ITR_OK, emulator.webhook_failures
    page = requests.get(f"{emulator.public_url}/_emulator/", timeout=30).text
    assert "<strong id='webhook-status'>OK</strong>" in page and url in page
    assert not _requested(services, company_id) and _receipts(services) == 0


def test_a_payment_in_xero_requests_that_companys_sync_once(hooked):
    services, emulator, tenant, company_id, url = hooked
    assert emulator.subscribe(url) == ITR_OK, emulator.webhook_failures
    invoice = emulator.open_invoices(tenant)[0]["InvoiceID"]
    emulator.pay_invoice(tenant, invoice)
    assert emulator.wait_for_deliveries(60)
    delivered = [d for d in emulator.deliveries if d["url"] == url]
    assert [d["status"] for d in delivered] == [200]
    assert validate_webhook(delivered[0]["body"]) == []
    assert _requested(services, company_id)
    # Xero retries a delivery it thinks was lost with the same bytes: acknowledged, no sync.
    _forget_request(services, company_id)
    again = _post(url, delivered[0]["body"], emulator.webhook_key)
    assert (again.status_code, again.content) == (200, b"")
    assert not _requested(services, company_id) and _receipts(services) == 1


@pytest.mark.parametrize("problem", ["wrong-key", "unsigned", "changed-bytes", "not-json"])
def test_a_delivery_not_genuine_gets_401_with_an_empty_body(hooked, problem):
    services, emulator, tenant, company_id, url = hooked
    body = _body(tenant, emulator.open_invoices(tenant)[0]["InvoiceID"])
    key = emulator.webhook_key
    if problem == "wrong-key":
        response = _post(url, body, "not-the-key")
    elif problem == "unsigned":
        response = requests.post(url, data=body, timeout=30,
                                 headers={"Content-Type": "application/json"})
    elif problem == "changed-bytes":
        response = requests.post(url, data=body.replace(b"UPDATE", b"CREATE"), timeout=30,
                                 headers={"x-xero-signature": sign(body, key)})
    else:
        response = _post(url, b"events=[]", key)
    assert (response.status_code, response.content) == (401, b"")
    assert not _requested(services, company_id) and _receipts(services) == 0


def test_an_organisation_nobody_connected_is_accepted_and_changes_nothing(hooked):
    services, emulator, tenant, company_id, url = hooked
    stranger = next(t for t in emulator.tenant_ids() if t != tenant)
    response = _post(url, _body(stranger, "0f6c1c7e-1111-4a2b-9c3d-000000000001"),
                     emulator.webhook_key)
    assert (response.status_code, response.content) == (200, b"")
    assert not _requested(services, company_id) and _receipts(services) == 0


def test_a_replayed_delivery_requests_no_second_sync(hooked):
    services, emulator, tenant, company_id, url = hooked
    body = _body(tenant, emulator.open_invoices(tenant)[0]["InvoiceID"], sequence=7)
    first = _post(url, body, emulator.webhook_key)
    assert (first.status_code, first.content) == (200, b"")
    assert _requested(services, company_id)
    _forget_request(services, company_id)
    replay = _post(url, body, emulator.webhook_key)
    assert (replay.status_code, replay.content) == (200, b"")
    assert not _requested(services, company_id) and _receipts(services) == 1
    # The next delivery (other bytes) is a new one.
    assert _post(url, _body(tenant, "0f6c1c7e-1111-4a2b-9c3d-000000000002", sequence=8),
                 emulator.webhook_key).status_code == 200
    assert _requested(services, company_id) and _receipts(services) == 2


def test_the_per_connection_url_is_not_xeros(hooked):
    """Xero posts only to the app's URL: a signed delivery to a connection's URL is refused."""
    services, emulator, tenant, company_id, _ = hooked
    with services.db.session() as db:
        connection_id = db.scalars(select(Connection.id)).one()
    url = f"{services.settings.public_url}/webhooks/xero/{connection_id}"
    response = _post(url, _body(tenant, "0f6c1c7e-1111-4a2b-9c3d-000000000003"),
                     emulator.webhook_key)
    assert response.status_code == 401
    assert not _requested(services, company_id) and _receipts(services) == 0


def test_no_event_goes_out_to_a_url_that_failed_intent_to_receive(hooked):
    """An endpoint that does not answer as Xero asks (here: no POST at all) fails the check;
    Xero then sends nothing there."""
    services, emulator, tenant, _, _ = hooked
    lax = f"{services.settings.public_url}/healthz"
    assert emulator.subscribe(lax) == ITR_REQUIRED
    assert emulator.webhook_failures
    emulator.pay_invoice(tenant, emulator.open_invoices(tenant)[0]["InvoiceID"])
    assert emulator.wait_for_deliveries(30)
    assert emulator.deliveries == []


def test_the_demo_emulator_subscribes_the_app_url_beside_the_redirect_uri(
        make_services, make_xero_emulator):
    """The DemoHook carries no PUBLIC_URL: the demo's emulator takes the app's webhook URL
    from where the first consent returns to (<PUBLIC_URL>/webhooks/xero) and checks it."""
    from providers.xero.plugin import APP_WEBHOOK_PATH
    from tests.test_e2e_xero import connect

    emulator = make_xero_emulator(webhook_path=APP_WEBHOOK_PATH)
    services = make_services(ledger={"xero": {"XERO_BASE_URL": emulator.public_url}})
    connect(services, emulator, emulator.tenant_ids()[0])
    wait_until(lambda: emulator.webhook_status == ITR_OK, timeout=60)
    assert emulator.webhook_url == f"{services.settings.public_url}/webhooks/xero"


def test_the_demo_starts_its_xero_emulator_with_the_app_webhook_path():
    from providers.xero.plugin import PLUGIN

    values = {s.env: s.default for s in PLUGIN.settings}
    server = PLUGIN.demo.start(values, "127.0.0.1", 0, 1)
    try:
        assert server.emulator.webhook_path == "/webhooks/xero"
        assert server.emulator.webhook_key == values["XERO_WEBHOOK_KEY"]
    finally:
        server.shutdown()
