"""A form submitted twice at the same moment never gives a 500 (#16).

Two threads post the same form to the app served on loopback; a barrier holds both requests
just after each found no write with the form's key, so both then insert it: the race that
raised ``IntegrityError`` on ``ledger_writes`` (company_id, key).
"""

from __future__ import annotations

import contextlib
import re
import threading

import requests
from sqlalchemy import select

from connector import writeback
from connector.models import Hold, LedgerWrite
from tests.helpers import csrf_token, go_live
from tests.test_hardening import _synced_invoice
from tests.test_web import _operator_session


def _race_at_insert(monkeypatch) -> threading.Barrier:
    """Let two requests meet right before each queues its write (after the existence check)."""
    barrier = threading.Barrier(2, timeout=5)
    real = writeback.utcnow

    calls = iter(range(1_000_000))

    def meet():
        if next(calls) < 2:  # the two requests' first queued writes (served in server threads)
            with contextlib.suppress(threading.BrokenBarrierError):
                barrier.wait()
        return real()

    monkeypatch.setattr(writeback, "utcnow", meet)
    return barrier


def _post_twice_at_once(browser: requests.Session, url: str, data: dict) -> list[int]:
    statuses: list[int] = []

    def post() -> None:
        statuses.append(browser.post(url, data=data, timeout=60).status_code)

    threads = [threading.Thread(target=post, name=f"poster-{n}") for n in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(90)
    return statuses


def test_a_note_form_posted_twice_at_once_queues_one_write_and_no_error(
        services, moneybird_emulator, monkeypatch):
    company_id, invoice_id = _synced_invoice(services, moneybird_emulator)
    go_live(services, company_id)  # a preview writes nothing to the ledger
    browser = _operator_session(services)
    url = f"{services.settings.public_url}/companies/{company_id}/invoices/{invoice_id}"
    page = browser.get(url).text
    token = re.search(r'name="note-submission" type="hidden" value="([\w-]+)"', page).group(1)
    _race_at_insert(monkeypatch)
    statuses = _post_twice_at_once(browser, url, {
        "note-csrf_token": csrf_token(page), "note-submission": token,
        "note-text": "tegelijk verstuurd"})
    assert statuses == [200, 200]  # both redirected to the invoice page
    with services.db.session() as db:
        notes = list(db.scalars(select(LedgerWrite).where(LedgerWrite.kind == "note")))
    assert [n.payload["text"] for n in notes] == ["tegelijk verstuurd"]


def test_a_payment_form_posted_twice_at_once_queues_one_payment(
        services, moneybird_emulator, monkeypatch):
    company_id, invoice_id = _synced_invoice(services, moneybird_emulator)
    go_live(services, company_id)  # a preview writes nothing to the ledger
    browser = _operator_session(services)
    url = f"{services.settings.public_url}/companies/{company_id}/invoices/{invoice_id}"
    page = browser.get(url).text
    token = re.search(r'name="payment-submission" type="hidden" value="([\w-]+)"',
                      page).group(1)
    _race_at_insert(monkeypatch)
    statuses = _post_twice_at_once(browser, url, {
        "payment-csrf_token": csrf_token(page), "payment-submission": token,
        "payment-amount": "5.00", "payment-paid_on": "2026-11-20"})
    assert statuses == [200, 200]
    with services.db.session() as db:
        payments = list(db.scalars(select(LedgerWrite).where(LedgerWrite.kind == "payment")))
    assert [p.payload["amount"] for p in payments] == ["5.00"]


def test_excluding_a_debtor_twice_at_once_excludes_once_without_error(
        services, moneybird_emulator, monkeypatch):
    from connector.collection.cases import open_new_cases, policy_for
    from connector.models import Invoice, utcnow

    company_id, invoice_id = _synced_invoice(services, moneybird_emulator)
    go_live(services, company_id)  # a preview writes nothing to the ledger
    with services.db.session() as db:
        assert open_new_cases(db, company_id, utcnow().date(), policy_for(db, company_id))
        debtor_id = db.get(Invoice, invoice_id).debtor_id
    browser = _operator_session(services)
    base = f"{services.settings.public_url}/companies/{company_id}"
    page = browser.get(f"{base}/debtors").text
    _race_at_insert(monkeypatch)
    statuses = _post_twice_at_once(browser, f"{base}/debtors/{debtor_id}/exclude", {
        "csrf_token": csrf_token(page), "reason": "failliet"})
    assert statuses == [200, 200]
    with services.db.session() as db:
        holds = list(db.scalars(select(Hold).where(Hold.debtor_id == debtor_id,
                                                   Hold.ended_at.is_(None))))
    assert [h.kind for h in holds] == ["excluded"]


def test_a_hold_form_posted_twice_at_once_places_one_hold(
        services, moneybird_emulator, monkeypatch):
    from connector.collection.cases import open_new_cases, policy_for
    from connector.models import Case, utcnow

    company_id, invoice_id = _synced_invoice(services, moneybird_emulator)
    go_live(services, company_id)  # a preview writes nothing to the ledger
    with services.db.session() as db:
        open_new_cases(db, company_id, utcnow().date(), policy_for(db, company_id))
        case_id = db.scalars(select(Case.id).where(Case.invoice_id == invoice_id)).one()
    browser = _operator_session(services)
    base = f"{services.settings.public_url}/companies/{company_id}"
    page = browser.get(f"{base}/invoices/{invoice_id}").text
    _race_at_insert(monkeypatch)
    statuses = _post_twice_at_once(browser, f"{base}/cases/{case_id}/holds", {
        "csrf_token": csrf_token(page), "kind": "pause", "reason": "even wachten"})
    assert statuses == [200, 200]
    with services.db.session() as db:
        holds = list(db.scalars(select(Hold).where(Hold.case_id == case_id)))
    assert [h.reason for h in holds] == ["even wachten"]
