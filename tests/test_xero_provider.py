"""The Xero provider against its emulator: consent, rotation, the paged sync, write-back.

Every exchange is validated against Xero's OpenAPI documents (tests.fixtures_xero).
"""

from __future__ import annotations

import json
from datetime import timedelta
from decimal import Decimal

import pytest

from providers.base import (
    InvoiceStatus,
    KnownMappings,
    RateLimited,
    ReconnectRequired,
    Rejected,
    SyncCursor,
)
from providers.xero.client import PAGE_SIZE, marker
from providers.xero.emulator import XeroEmulator
from tests.xero_helpers import MemoryTokens, consent, provider_for

pytest_plugins = ["tests.fixtures_xero"]


def connect(emulator: XeroEmulator, index: int = 0, **kwargs):
    provider = provider_for(emulator, **kwargs)
    tenant = emulator.tenant_ids()[index]
    tokens = MemoryTokens(provider, consent(provider, [tenant]))
    return provider, tenant, tokens


def full_sync(ledger, value=None):
    pages = list(ledger.changed_invoices(SyncCursor(value)))
    invoices = {r.id: r for p in pages for r in p.invoices}
    debtors = {d.id: d for p in pages for d in p.debtors}
    return pages, invoices, debtors


def test_consent_lists_only_the_organisations_of_that_consent(xero_emulator):
    provider = provider_for(xero_emulator)
    first, second = xero_emulator.tenant_ids()
    tokens_a = MemoryTokens(provider, consent(provider, [first]))
    tenants = provider.list_tenants(tokens_a)
    assert [t.id for t in tenants] == [first]
    assert tenants[0].currency == "EUR" and tenants[0].country == "NL"
    tokens_b = MemoryTokens(provider, consent(provider, [second]))
    assert [t.id for t in provider.list_tenants(tokens_b)] == [second]
    assert "openid" in provider.authorization_url("http://x/cb", "s") and \
        "accounting.invoices" in provider.authorization_url("http://x/cb", "s")


def test_refresh_rotates_and_the_old_refresh_token_dies(xero_emulator):
    provider, _, tokens = connect(xero_emulator)
    old = tokens.tokens.refresh_token
    fresh = provider.refresh(old)
    assert fresh.refresh_token and fresh.refresh_token != old
    assert fresh.expires_in == 1800
    with pytest.raises(ReconnectRequired):
        provider.refresh(old)
    assert [v["kind"] for v in xero_emulator.take_violations()] == ["old_refresh_token_used"]
    assert provider.refresh(fresh.refresh_token).access_token


def test_an_expired_access_token_is_refreshed_once_and_the_call_repeated(xero_emulator):
    provider, tenant, tokens = connect(xero_emulator)
    xero_emulator.expire_access_tokens()
    ledger = provider.ledger(tenant, tokens)
    invoice = xero_emulator.open_invoices(tenant)[0]
    assert ledger.invoice(invoice["InvoiceID"]).id == invoice["InvoiceID"]
    assert tokens.refreshes == 1
    assert [v["kind"] for v in xero_emulator.take_violations()] == ["expired_access_token"]


def test_first_sync_pages_contacts_then_open_sales_invoices_then_links(make_xero_emulator):
    emulator = make_xero_emulator(contacts=150, invoices=400)
    provider, tenant, tokens = connect(emulator)
    ledger = provider.ledger(tenant, tokens)
    pages = []
    with pytest.raises(RateLimited):  # 55 calls a minute: the links wait for the next one
        for page in ledger.changed_invoices(SyncCursor(None)):
            pages.append(page)
    state = json.loads(pages[-1].cursor)
    assert state["phase"] == "links" and state["links"]
    expected = {r["InvoiceID"] for r in emulator.open_invoices(tenant)}
    listed = [p for p in pages if p.invoices and not any(r.payment_url for r in p.invoices)]
    assert {r.id for p in listed for r in p.invoices} == expected  # no bills, drafts, paid
    assert sum(1 for p in pages if p.debtors) == 2  # 150 contacts: 2 pages of 100
    assert len({d.id for p in pages for d in p.debtors}) == 150
    assert len(listed) == -(-len(expected) // PAGE_SIZE)
    # progress on pages: every page of the pass knows how many open invoices it brings
    assert {p.expected_total for p in listed} == {len(expected)}
    linked = [r for p in pages for r in p.invoices if r.payment_url]
    assert linked and all("/_emulator/online/" in r.payment_url for r in linked)
    assert all(r.due_date <= provider.today() for r in linked)
    assert emulator.count_calls("GET", "/OnlineInvoice") == len(linked)
    assert emulator.count_calls() == 55


def test_a_small_first_sync_ends_with_every_due_invoice_linked(xero_emulator):
    provider, tenant, tokens = connect(xero_emulator)
    ledger = provider.ledger(tenant, tokens)
    pages, invoices, _ = full_sync(ledger)
    due = {r["InvoiceID"] for r in xero_emulator.open_invoices(tenant)
           if r["DueDate"] <= provider.today()}
    assert {i for i, r in invoices.items() if r.payment_url} == due
    assert json.loads(pages[-1].cursor)["phase"] is None


def test_an_unchanged_sync_costs_two_calls(xero_emulator):
    provider, tenant, tokens = connect(xero_emulator)
    ledger = provider.ledger(tenant, tokens)
    pages, _, _ = full_sync(ledger)
    xero_emulator.reset_calls()
    _, invoices, debtors = full_sync(ledger, pages[-1].cursor)
    assert xero_emulator.count_calls() == 2
    assert len(debtors) <= 2 and len(invoices) <= 2  # the second of overlap at the marks


def test_a_sync_cut_short_resumes_from_the_last_page(make_xero_emulator):
    emulator = make_xero_emulator(contacts=30, invoices=500)
    provider, tenant, tokens = connect(emulator)
    ledger = provider.ledger(tenant, tokens)
    seen: dict[str, object] = {}
    cursor = None
    for page in ledger.changed_invoices(SyncCursor(None)):
        seen.update({r.id: r for r in page.invoices})
        cursor = page.cursor
        if page.invoices:
            break  # crash after the first page of invoices
    # meanwhile an invoice on a page already read is edited: it moves to the end
    first_id = next(iter(seen))
    emulator.set_due_date(tenant, first_id, emulator.orgs[tenant]["invoices"][first_id]
                          ["DueDate"] - timedelta(days=1))
    for page in provider.ledger(tenant, tokens).changed_invoices(SyncCursor(cursor)):
        seen.update({r.id: r for r in page.invoices})
        if json.loads(page.cursor)["phase"] == "links":
            break  # every page that can open a case is in
    assert set(seen) == {r["InvoiceID"] for r in emulator.open_invoices(tenant)}


def test_paid_voided_credited_and_foreign_currency(xero_emulator):
    provider, tenant, tokens = connect(xero_emulator)
    ledger = provider.ledger(tenant, tokens)
    pages, invoices, _ = full_sync(ledger)
    euro = [r for r in xero_emulator.open_invoices(tenant) if r["CurrencyCode"] == "EUR"]
    paid, voided, credited, partly = (r["InvoiceID"] for r in euro[:4])
    xero_emulator.pay_invoice(tenant, paid)
    xero_emulator.void_invoice(tenant, voided)
    xero_emulator.credit_invoice(tenant, credited)
    xero_emulator.pay_invoice(tenant, partly, Decimal("10.00"))
    _, changed, _ = full_sync(ledger, pages[-1].cursor)
    assert changed[paid].status == InvoiceStatus.PAID and changed[paid].paid_on
    assert changed[paid].open_amount == 0 and changed[paid].payments
    assert changed[voided].status == InvoiceStatus.DELETED
    assert changed[credited].status == InvoiceStatus.CREDITED
    assert changed[partly].status == InvoiceStatus.OPEN
    assert changed[partly].open_amount == invoices[partly].open_amount - Decimal("10.00")
    dollars = [r for r in invoices.values() if r.currency == "USD"]
    assert dollars, "the seed has invoices in dollars"
    assert all(r.ledger_state == "USD: niet geïncasseerd" for r in dollars)


def test_invoices_due_later_get_their_link_once_due(xero_emulator):
    provider, tenant, tokens = connect(xero_emulator)
    ledger = provider.ledger(tenant, tokens)
    pages, invoices, _ = full_sync(ledger)
    later = [r for r in invoices.values() if r.due_date > provider.today()]
    assert later and all(r.payment_url is None for r in later)
    assert set(json.loads(pages[-1].cursor)["later"]) == {r.id for r in later}
    ledger.today = lambda: max(r.due_date for r in later)
    again = list(ledger.changed_invoices(SyncCursor(pages[-1].cursor)))
    linked = {r.id: r for p in again for r in p.invoices if r.payment_url}
    assert set(linked) == {r.id for r in later}
    assert json.loads(again[-1].cursor)["later"] == {}


def test_a_history_note_is_written_once_after_a_lost_answer(xero_emulator):
    provider, tenant, tokens = connect(xero_emulator)
    ledger = provider.ledger(tenant, tokens)
    invoice = xero_emulator.open_invoices(tenant)[0]["InvoiceID"]
    xero_emulator.inject_lost_answer("PUT", "/History")
    note_id = ledger.add_note(invoice, "Herinnering verstuurd per e-mail.", "k-1")
    assert note_id.startswith(invoice)
    ours = [d for d in xero_emulator.history(tenant, invoice) if marker("k-1") in d]
    assert ours == [f"Herinnering verstuurd per e-mail. {marker('k-1')}"]
    # a retry of the same write (maybe done) reads History first and writes nothing
    assert ledger.add_note(invoice, "Herinnering verstuurd per e-mail.", "k-1", maybe_done=True)
    assert len([d for d in xero_emulator.history(tenant, invoice) if marker("k-1") in d]) == 1


def test_a_long_note_is_cut_to_xeros_limit_with_its_key(xero_emulator):
    provider, tenant, tokens = connect(xero_emulator)
    ledger = provider.ledger(tenant, tokens)
    invoice = xero_emulator.open_invoices(tenant)[0]["InvoiceID"]
    ledger.add_note(invoice, "x" * 5000, "k-long")
    note = xero_emulator.history(tenant, invoice)[-1]
    assert len(note) <= 4000 and note.endswith(marker("k-long"))


def test_payment_on_a_chosen_account_once_after_a_lost_answer(xero_emulator):
    provider, tenant, tokens = connect(xero_emulator)
    ledger = provider.ledger(tenant, tokens)
    choices = ledger.payment_setting_choices("payment_account_id")
    labels = [label for _, label in choices]
    assert labels == ["090 Zakelijke rekening", "091 Spaarrekening", "880 Kruisposten incasso"]
    assert ledger.payment_setting_choices("journal_code") == []
    invoice = next(r for r in xero_emulator.open_invoices(tenant) if r["CurrencyCode"] == "EUR")
    due = invoice["Total"] - invoice["AmountPaid"]
    settings = {"payment_account_id": choices[0][0]}
    xero_emulator.inject_lost_answer("PUT", "/Payments")
    payment_id = ledger.register_payment(invoice["InvoiceID"], due, provider.today(), "pay-1",
                                         settings)
    payments = xero_emulator.payments(tenant)
    assert [p["PaymentID"] for p in payments] == [payment_id]
    assert invoice["Status"] == "PAID"
    again = ledger.register_payment(invoice["InvoiceID"], due, provider.today(), "pay-1",
                                    settings, maybe_done=True)
    assert again == payment_id and len(xero_emulator.payments(tenant)) == 1


def test_a_payment_without_an_account_is_only_a_note(xero_emulator):
    provider, tenant, tokens = connect(xero_emulator)
    ledger = provider.ledger(tenant, tokens)
    invoice = xero_emulator.open_invoices(tenant)[0]["InvoiceID"]
    ledger.register_payment(invoice, Decimal("12.50"), provider.today(), "pay-2",
                            {})
    assert not xero_emulator.payments(tenant)
    assert "niet geboekt" in xero_emulator.history(tenant, invoice)[-1]


def test_a_payment_above_the_amount_due_is_rejected(xero_emulator):
    provider, tenant, tokens = connect(xero_emulator)
    ledger = provider.ledger(tenant, tokens)
    invoice = xero_emulator.open_invoices(tenant)[0]
    account = ledger.payment_setting_choices("payment_account_id")[0][0]
    with pytest.raises(Rejected) as caught:
        ledger.register_payment(invoice["InvoiceID"], invoice["Total"] + 1, provider.today(),
                                "pay-3", {"payment_account_id": account})
    assert caught.value.status == 400


def test_invoice_pdf_and_online_link(xero_emulator):
    provider, tenant, tokens = connect(xero_emulator)
    ledger = provider.ledger(tenant, tokens)
    invoice = xero_emulator.open_invoices(tenant)[0]["InvoiceID"]
    assert ledger.invoice_pdf(invoice).startswith(b"%PDF")
    url = ledger.online_invoice_url(invoice)
    assert url and url.endswith(invoice)


def test_a_429_is_honoured_with_retry_after_and_its_problem(xero_emulator):
    provider, tenant, tokens = connect(xero_emulator)
    ledger = provider.ledger(tenant, tokens)
    invoice = xero_emulator.open_invoices(tenant)[0]["InvoiceID"]
    ledger.invoice(invoice)
    xero_emulator.use_calls(tenant, 59)  # the creditor's other apps spend the minute
    with pytest.raises(RateLimited) as caught:
        ledger.invoice(invoice)
    assert "Xero: minute" in str(caught.value)
    calls = xero_emulator.count_calls()
    with pytest.raises(RateLimited):  # blocked until Retry-After: Xero is not asked again
        ledger.invoice(invoice)
    assert xero_emulator.count_calls() == calls
    assert [v["kind"] for v in xero_emulator.take_violations()] == ["rate_limited"]


def test_a_spent_minute_in_the_headers_stops_us_before_a_429(make_xero_emulator):
    emulator = make_xero_emulator(minute_limit=3)
    provider, tenant, tokens = connect(emulator)
    ledger = provider.ledger(tenant, tokens)
    invoice = emulator.open_invoices(tenant)[0]["InvoiceID"]
    with pytest.raises(RateLimited) as caught:
        for _ in range(5):
            ledger.invoice(invoice)
    assert "own rate budget" in str(caught.value)
    assert emulator.count_calls() == 3 and not emulator.violations


def test_our_budget_keeps_us_under_the_minute_limit(make_xero_emulator):
    from providers.http import RateBudget
    from providers.xero.api import XeroBudgets

    emulator = make_xero_emulator(minute_limit=5)
    budgets = XeroBudgets(RateBudget(4, 60, max_wait=0), RateBudget(100, 86_400, max_wait=0))
    provider, tenant, tokens = connect(emulator, budgets=budgets)
    ledger = provider.ledger(tenant, tokens)
    invoice = emulator.open_invoices(tenant)[0]["InvoiceID"]
    with pytest.raises(RateLimited) as caught:
        for _ in range(6):
            ledger.invoice(invoice)
    assert "own rate budget" in str(caught.value)
    assert emulator.count_calls("GET", "/Invoices/") == 4  # stopped before Xero had to say so


def test_disconnect_deletes_the_connection(xero_emulator):
    provider, tenant, tokens = connect(xero_emulator)
    ledger = provider.ledger(tenant, tokens)
    registration = ledger.register_webhook("https://connector.example/webhooks/xero/1")
    assert registration.secret == ""  # the app's key checks deliveries, not a tenant's
    ledger.delete_webhook(registration.id)
    assert xero_emulator.disconnected(tenant)
    ledger.delete_webhook(registration.id)  # already gone: fine
    with pytest.raises(ReconnectRequired):  # 403: the organisation is no longer connected
        ledger.invoice(xero_emulator.open_invoices(tenant)[0]["InvoiceID"])


def test_every_page_cursor_is_json_and_known_versions_are_not_needed(xero_emulator):
    provider, tenant, tokens = connect(xero_emulator)
    ledger = provider.ledger(tenant, tokens)
    for page in ledger.changed_invoices(SyncCursor(None, KnownMappings())):
        assert isinstance(json.loads(page.cursor), dict)
