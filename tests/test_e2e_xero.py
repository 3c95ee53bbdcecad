"""Xero end to end over loopback: connect through Xero's consent and the organisation choice,
the first sync by the worker, a step's note in the invoice's History exactly once after a lost
answer, a payment in Xero that reaches us by signed webhook and closes the case within 5 s,
with a History note saying so."""

from __future__ import annotations

import html
import re
import time
from datetime import timedelta
from decimal import Decimal

import requests
from sqlalchemy import func, select

from connector.models import Case, Connection, Invoice, LedgerWrite, SyncRun
from connector.worker import Worker
from tests.contract.xero_openapi import validate_webhook
from tests.helpers import csrf_token, go_live, hidden_fields, wait_until

pytest_plugins = ["tests.fixtures_xero"]


def _options(page: str, name: str) -> dict[str, str]:
    """A select's options on a page: value -> label."""
    found = re.search(rf'<select[^>]*name="{name}"[^>]*>(.*?)</select>', page, re.S)
    assert found, f"{name} is not a choice"
    return {v: html.unescape(label.strip()) for v, label in
            re.findall(r'<option[^>]*value="([^"]*)"[^>]*>([^<]*)</option>', found.group(1))}


def _runs(services, company_id: str) -> list[SyncRun]:
    with services.db.session() as db:
        return list(db.scalars(select(SyncRun).where(SyncRun.company_id == company_id)))


def _invoice(services, external_id: str) -> Invoice:
    with services.db.session() as db:
        return db.scalars(select(Invoice).where(Invoice.external_id == external_id)).one()


def connect(services, emulator, tenant: str) -> tuple[requests.Session, str]:
    """/connect/xero → Xero's consent (one organisation) → callback → choose → company."""
    app = services.settings.public_url
    browser = requests.Session()
    consent = browser.get(f"{app}/connect/xero", timeout=30)
    assert consent.url.startswith(f"{emulator.public_url}/identity/connect/authorize")
    assert "accounting.invoices" in consent.text and "offline_access" in consent.text
    form = hidden_fields(consent.text)
    chooser = browser.post(f"{emulator.public_url}/identity/connect/authorize",
                           data={**form, "decision": "approve", "tenant": [tenant]}, timeout=60)
    assert chooser.url == f"{app}/connect/choose", chooser.url
    assert emulator.orgs[tenant]["Name"] in chooser.text
    others = [t for t in emulator.tenant_ids() if t != tenant]
    assert all(emulator.orgs[t]["Name"] not in chooser.text for t in others)
    page = browser.post(f"{app}/connect/choose", timeout=60,
                        data={"csrf_token": csrf_token(chooser.text), "tenants": [tenant]})
    assert page.status_code == 200, page.text[:500]
    company_id = re.search(r"/companies/([0-9a-f]{32})$", page.url).group(1)
    return browser, company_id


def test_connect_sync_note_payment_by_webhook(make_services, make_xero_emulator, artifacts):
    emulator = make_xero_emulator()
    services = make_services(ledger={"xero": {"XERO_BASE_URL": emulator.public_url}},
                             engine_interval_seconds=1, outbox_interval_seconds=0.5)
    tenant = emulator.tenant_ids()[0]
    browser, company_id = connect(services, emulator, tenant)
    with services.db.session() as db:
        connection = db.scalars(select(Connection)).one()
        assert connection.provider == "xero" and connection.tenant_id == tenant
        assert connection.webhook_id  # the Xero connection, deleted on disconnect
    # Xero's webhooks are the app's: one URL for every organisation, set in the developer
    # portal, which checks it first (intent to receive) and sends nothing before it passed.
    app_url = f"{services.settings.public_url}/webhooks/xero"
    assert emulator.subscribe(app_url) == "OK", emulator.webhook_failures
    go_live(services, company_id)
    worker = Worker(services)
    worker.start()
    try:
        # 1. The first sync by the worker mirrors every open sales invoice.
        expected = {r["InvoiceID"] for r in emulator.open_invoices(tenant)}
        wait_until(lambda: any(r.outcome == "ok" for r in _runs(services, company_id)),
                   timeout=90)
        with services.db.session() as db:
            mirrored = set(db.scalars(select(Invoice.external_id).where(
                Invoice.company_id == company_id, Invoice.status == "open")))
        assert mirrored == expected
        due = next(r for r in emulator.open_invoices(tenant)
                   if r["DueDate"] < emulator.now().date() and r["CurrencyCode"] == "EUR")
        assert _invoice(services, due["InvoiceID"]).payment_url.endswith(due["InvoiceID"])

        # 2. A note on a case's invoice lands in its History once, although Xero's first
        #    answer to it is lost (and the form is posted twice).
        def active_case() -> Case | None:
            with services.db.session() as db:
                return db.scalars(select(Case).join(Invoice, Case.invoice_id == Invoice.id)
                                  .where(Case.state == "active", Invoice.currency == "EUR")
                                  .order_by(Invoice.number)).first()

        case = wait_until(active_case, timeout=60)
        with services.db.session() as db:
            invoice = db.get(Invoice, case.invoice_id)
        target = invoice.external_id
        invoice_url = f"{services.settings.public_url}/companies/{company_id}/invoices/{invoice.id}"
        emulator.inject_lost_answer("PUT", "/History")
        form = browser.get(invoice_url, timeout=30).text
        token = re.search(r'name="note-submission" type="hidden" value="([\w-]+)"',
                          form).group(1)
        for _ in range(2):
            browser.post(invoice_url, timeout=30, data={
                "note-csrf_token": csrf_token(form), "note-submission": token,
                "note-text": "Pre-incasso: laatste herinnering verstuurd"})

        def note_key() -> str | None:
            with services.db.session() as db:
                return db.scalars(select(LedgerWrite.key).where(
                    LedgerWrite.invoice_id == invoice.id, LedgerWrite.kind == "note",
                    LedgerWrite.state == "done")).first()

        key = wait_until(note_key, timeout=60)
        assert emulator.faults_left() == 0
        ours = [n for n in emulator.history(tenant, target) if key in n]
        assert len(ours) == 1 and "laatste herinnering verstuurd" in ours[0]
        assert emulator.count_calls("PUT", "/History") >= 1

        # 3. The payment account is chosen from the organisation's accounts; a payment
        #    through the invoice page is booked on it once, although Xero's answer is lost.
        company_url = f"{services.settings.public_url}/companies/{company_id}"
        page = browser.get(company_url, timeout=30).text
        offered = _options(page, "payment_account_id")
        accounts = {a["AccountID"]: a for a in emulator.orgs[tenant]["accounts"]}
        assert set(offered) - {""} == {i for i, a in accounts.items() if a["Status"] == "ACTIVE"
                                        and (a["Type"] == "BANK" or a["EnablePaymentsToAccount"])}
        bank = next(i for i, label in offered.items() if label.startswith("090 "))
        saved = browser.post(f"{company_url}/payment-settings", timeout=30, data={
            "csrf_token": csrf_token(page), "payment_account_id": bank})
        assert "Opgeslagen." in saved.text
        other = next(r for r in emulator.open_invoices(tenant)
                     if r["InvoiceID"] != target and r["CurrencyCode"] == "EUR")
        other_url = (f"{company_url}/invoices/"
                     f"{_invoice(services, other['InvoiceID']).id}")
        emulator.inject_lost_answer("PUT", "/Payments")
        form = browser.get(other_url, timeout=30).text
        pay_token = re.search(r'name="payment-submission" type="hidden" value="([\w-]+)"',
                              form).group(1)
        browser.post(other_url, timeout=30, data={
            "payment-csrf_token": csrf_token(form), "payment-submission": pay_token,
            "payment-amount": "10.00", "payment-paid_on": time.strftime("%Y-%m-%d")})

        def paid_here() -> bool:
            with services.db.session() as db:
                return db.scalar(select(func.count()).select_from(LedgerWrite).where(
                    LedgerWrite.kind == "payment", LedgerWrite.state == "done")) == 1

        wait_until(paid_here, timeout=120)
        assert emulator.faults_left() == 0  # the lost answer was hit
        payments = emulator.payments(tenant)
        assert len(payments) == 1 and payments[0]["AccountID"] == bank
        assert payments[0]["Amount"] == Decimal("10.00")

        # 4. The debtor pays in Xero (the online invoice): a signed webhook → case closed.
        emulator.pay_invoice(tenant, target)
        started = time.monotonic()
        # Within seconds on a quiet machine (measured, below); a loaded one gets a generous
        # deadline instead of a timing assertion.
        wait_until(lambda: _invoice(services, target).status == "paid", timeout=60)
        (artifacts / "xero-webhook-to-paid.txt").write_text(
            f"payment in Xero -> invoice paid here: {time.monotonic() - started:.2f} s\n")

        def closed() -> bool:
            with services.db.session() as db:
                return db.get(Case, case.id).state == "closed"

        wait_until(closed, timeout=120)
        wait_until(lambda: any("betaald" in n for n in emulator.history(tenant, target)[-2:]),
                   timeout=120)
        delivered = [d for d in emulator.deliveries if d["status"] == 200]
        assert delivered and all(d["url"] == app_url for d in emulator.deliveries)
        assert all(validate_webhook(d["body"]) == [] for d in delivered)
    finally:
        worker.stop()
    with services.db.session() as db:
        notes = db.scalar(select(func.count()).select_from(LedgerWrite).where(
            LedgerWrite.invoice_id == case.invoice_id, LedgerWrite.state == "done"))
    assert notes >= 2

    # 5. Disconnect deletes the organisation's connection in Xero.
    page = browser.get(f"{services.settings.public_url}/companies/{company_id}").text
    browser.post(f"{services.settings.public_url}/companies/{company_id}/disconnect",
                 data={"csrf_token": csrf_token(page)}, timeout=30)
    assert emulator.disconnected(tenant)


def test_a_step_carries_the_online_invoice_link_and_its_note_lands_once(make_services,
                                                                        make_xero_emulator):
    """The stamp step goes out (Xero's own PDF, stamped), the debtor's page links to Xero's
    online invoice, and the step's note reaches History once although an answer is lost."""
    import time_machine

    from connector import writeback
    from connector.collection.cases import settings_for
    from connector.collection.engine import run_company
    from connector.debtor_page.links import url_for_delivery
    from connector.models import Delivery
    from connector.sync import sync_company

    emulator = make_xero_emulator()
    services = make_services(ledger={"xero": {"XERO_BASE_URL": emulator.public_url}})
    tenant = emulator.tenant_ids()[0]
    _, company_id = connect(services, emulator, tenant)
    with services.db.session() as db:
        settings_for(db, company_id).sender = {
            "name": "Bakkerij Zonneveld B.V.", "iban": "NL91ABNA0417164300",
            "email": "debiteuren@zonneveld.example", "phone": "030 123 4567"}
    go_live(services, company_id)
    monday = _next_weekday_morning()
    with time_machine.travel(monday, tick=True):
        assert sync_company(services, company_id).outcome == "ok"
    emulator.inject_lost_answer("PUT", "/History")
    with time_machine.travel(monday + timedelta(minutes=3), tick=True):
        result = run_company(services, company_id)
        assert result.sent >= 1, result
        writeback.process_outbox(services)
    # The lost answer's write, and any write the minute's budget postponed, go again later.
    with time_machine.travel(monday + timedelta(minutes=8), tick=True):
        writeback.process_outbox(services)
    with services.db.session() as db:
        sent = db.scalars(select(Delivery).where(Delivery.state == "sent")).all()
        assert sent
        delivery = sent[0]
        invoice = delivery.cases[0].case.invoice
        keys = list(db.scalars(select(LedgerWrite.key).where(
            LedgerWrite.invoice_id == invoice.id, LedgerWrite.kind == "note",
            LedgerWrite.state == "done")))
        page_url = url_for_delivery(db, delivery, services.settings.public_url,
                                    services.settings.secret_key)
    assert keys and emulator.faults_left() == 0  # the lost answer was hit
    history = emulator.history(tenant, invoice.external_id)
    assert all(len([n for n in history if key in n]) == 1 for key in keys)
    # Every note, the one whose answer was lost included, is in History exactly once.
    with services.db.session() as db:
        notes = db.execute(select(LedgerWrite.key, LedgerWrite.state, Invoice.external_id)
                           .join(Invoice, Invoice.id == LedgerWrite.invoice_id)
                           .where(LedgerWrite.kind == "note")).all()
    assert notes and {state for _, state, _ in notes} == {"done"}
    for key, _, external_id in notes:
        assert len([n for n in emulator.history(tenant, external_id) if key in n]) == 1, key
    page = requests.get(page_url, timeout=30).text
    assert invoice.payment_url and invoice.payment_url in page
    assert f"/_emulator/online/{tenant}/{invoice.external_id}" in invoice.payment_url


def _next_weekday_morning():
    from datetime import datetime as dt

    from connector.clock import AMSTERDAM
    from connector.collection.legal.contact import next_contact_moment

    tomorrow = dt.now(AMSTERDAM).date() + timedelta(days=1)
    return next_contact_moment(dt.combine(tomorrow, dt.min.time().replace(hour=10), AMSTERDAM))
