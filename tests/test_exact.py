"""Exact Online end to end against the emulator: connect, sync, token rules, notes, webhooks."""

from __future__ import annotations

import math
import re
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
import requests
import time_machine
from sqlalchemy import select

from connector import connections, writeback
from connector.models import Grant, Invoice, LedgerWrite
from connector.services import Services
from connector.sync import sync_company
from connector.worker import Worker
from providers.base import TokenSet
from tests.helpers import csrf_token, go_live, hidden_fields, wait_until


def connect(services, emulator, division: int | None = None) -> str:
    access, refresh = emulator.issue_token()
    grant = connections.create_grant(services, "exact_online", TokenSet(access, refresh, 600),
                                     region="nl")
    tenants = connections.list_tenants(services, grant)
    chosen = [t for t in tenants if division is None or t.id == str(division)][:1]
    [company_id] = connections.connect_tenants(services, grant, chosen)
    return company_id


def live_and_synced(make_services, emulator) -> tuple[Services, int, str]:
    """The biggest division connected, live (so it writes to Exact) and synced once."""
    services = make_services(exact=emulator)
    division = big_division(emulator)
    company_id = connect(services, emulator, division)
    go_live(services, company_id)
    sync_company(services, company_id)
    return services, division, company_id


def big_division(emulator) -> int:
    return max(emulator.division_codes(), key=lambda d: len(emulator.open_items(d)))


def test_connect_through_region_choice_and_consent(make_services, exact_emulator):
    services = make_services(exact=exact_emulator)
    app = services.settings.public_url
    s = requests.Session()
    region_page = s.get(f"{app}/connect/exact-online")
    assert "Nederland" in region_page.text and "België" in region_page.text
    consent = s.get(f"{app}/connect/exact-online", params={"region": "nl"})
    assert consent.url.startswith(f"{exact_emulator.server.url}/api/oauth2/auth")
    form = hidden_fields(consent.text)
    action = re.search(r'<form method="post" action="([^"]+)"', consent.text).group(1)
    divisions = re.findall(r'name="division" value="(\d+)"', consent.text)
    chooser = s.post(exact_emulator.server.url + action,
                     data={**form, "decision": "approve", "division": divisions})
    assert chooser.url == f"{app}/connect/choose", chooser.url
    big = str(big_division(exact_emulator))
    page = s.post(f"{app}/connect/choose",
                  data={"csrf_token": csrf_token(chooser.text), "tenants": [big]})
    assert page.status_code == 200 and "Exact Online" in page.text
    with services.db.session() as db:
        grant = db.scalars(select(Grant)).one()
        assert grant.region == "nl" and grant.provider == "exact_online"

    # The background sync mirrors the division; a payment in Exact comes back by webhook.
    worker = Worker(services)
    worker.start()
    try:
        # Polled: a generous deadline costs nothing on a quiet machine (a loaded one needed >20 s).
        wait_until(lambda: _open_count(services) == len(exact_emulator.open_items(int(big))),
                   timeout=90)
        item = exact_emulator.open_items(int(big))[0]
        exact_emulator.pay_item(int(big), item["ID"])
        wait_until(lambda: _status(services, item["ID"]) == "paid", timeout=10)
    finally:
        worker.stop()
    assert any(d["status"] == 200 for d in exact_emulator.deliveries)


def _open_count(services) -> int:
    with services.db.session() as db:
        return len(db.scalars(select(Invoice.id).where(Invoice.status == "open")).all())


def _status(services, external_id: str) -> str:
    with services.db.session() as db:
        return db.scalars(select(Invoice.status).where(Invoice.external_id == external_id)).one()


def test_initial_sync_pages_and_unchanged_resync(make_services, make_exact_emulator):
    emulator = make_exact_emulator(open_items=5000, accounts=1000, minutely_limit=1000)
    services = make_services(exact=emulator)
    division = big_division(emulator)
    company_id = connect(services, emulator, division)
    emulator.reset_calls()

    result = sync_company(services, company_id)

    assert result.outcome == "ok" and result.open_invoices == len(emulator.open_items(division))
    assert result.open_invoices >= 5000
    calls = emulator.count_calls(division=division)
    # Accounts, open items (1,000-row bulk pages), addresses, contacts and the accounts again
    # to join them, then the payment-terms feed from the start, accounts since and deletions:
    # every call is a full page except the last of each endpoint.
    pages = sum(math.ceil(len(rows) / 1000) for rows in (
        emulator._div(division)["items"], emulator.accounts(division),
        emulator.accounts(division), emulator.addresses(division),
        emulator.contacts(division)))
    assert calls <= math.ceil(result.open_invoices / 1000) + pages + 2
    emulator.reset_calls()
    again = sync_company(services, company_id)
    assert again.invoices_changed == 0 and emulator.count_calls(division=division) <= 3
    assert not any("CurrentDivision" in c["path"] for c in emulator.calls)
    with services.db.session() as db:
        kinds = set(db.scalars(select(Invoice.debtor_id)))
    assert kinds


def test_paid_deleted_and_partially_paid_items(make_services, exact_emulator):
    services = make_services(exact=exact_emulator)
    division = big_division(exact_emulator)
    company_id = connect(services, exact_emulator, division)
    sync_company(services, company_id)
    paid, deleted, partial = (i["ID"] for i in exact_emulator.open_items(division)[:3])
    before = exact_emulator.item(division, partial)["AmountDC"]
    exact_emulator.pay_item(division, paid)
    exact_emulator.delete_item(division, deleted)
    exact_emulator.pay_item(division, partial, Decimal("1.00"))
    result = sync_company(services, company_id)
    assert result.invoices_closed == 2
    assert (_status(services, paid), _status(services, deleted)) == ("paid", "deleted")
    with services.db.session() as db:
        row = db.scalars(select(Invoice).where(Invoice.external_id == partial)).one()
    assert row.status == "open" and row.open_amount == Decimal(str(before)) - Decimal("1.00")


def test_payment_booked_once_when_journal_and_account_are_set(make_services, exact_emulator):
    from connector.models import Company

    services, division, company_id = live_and_synced(make_services, exact_emulator)
    token = exact_emulator.issue_token()[0]
    accounts = requests.get(
        f"{exact_emulator.server.url}/api/v1/{division}/financial/GLAccounts",
        params={"$select": "ID,Code", "$filter": "Code eq '1350'"},
        headers={"Authorization": f"Bearer {token}", "Accept": "application/json"}, timeout=10,
    ).json()["d"]["results"]
    with services.db.session() as db:
        db.get(Company, company_id).payment_settings = {"journal_code": "20",
                                                        "gl_account_id": accounts[0]["ID"]}
        invoice = db.scalars(select(Invoice).where(Invoice.company_id == company_id,
                                                   Invoice.open_amount > 20)).first()
        key = writeback.queue_payment(db, invoice, Decimal("10.00"),
                                      datetime.now(UTC).date()).key
    exact_emulator.inject_lost_answer("POST", "BankEntries")
    writeback.process_outbox(services)
    booked = [p for p in exact_emulator.payments(division) if key in (p.get("Description") or "")]
    assert len(booked) == 1 and Decimal(str(booked[0]["AmountFC"])) == Decimal("10.00")
    assert Decimal(str(exact_emulator.item(division, invoice.external_id)["AmountDC"])) == \
        invoice.open_amount - Decimal("10.00")


def test_note_once_even_after_a_timeout(make_services, exact_emulator):
    services, division, company_id = live_and_synced(make_services, exact_emulator)
    with services.db.session() as db:
        invoice = db.scalars(select(Invoice).where(Invoice.company_id == company_id)).first()
        key = writeback.queue_note(db, invoice, "Pre-incasso: brief verstuurd").key
    exact_emulator.inject_lost_answer("POST", "CommunicationNotes")
    writeback.process_outbox(services)
    notes = [n for n in exact_emulator.notes(division) if key in n["Subject"]]
    assert len(notes) == 1
    assert notes[0]["Subject"].startswith(f"[Incasso] factuur {invoice.number}")


def test_a_pause_exact_has_no_place_for_is_dropped_not_marked_done(make_services, exact_emulator):
    """Exact has no reminders of its own: the engine's pause costs no call and the invoice is
    never shown or treated as paused (no resume follows when its case closes)."""
    services, _, company_id = live_and_synced(make_services, exact_emulator)
    with services.db.session() as db:
        invoice = db.scalars(select(Invoice).where(Invoice.company_id == company_id)).first()
        pause = writeback.queue(db, invoice, "pause", key=writeback.derived_key("pause", "c1"))
        pause_id, invoice_id = pause.id, invoice.id
    calls_before = len(exact_emulator.calls)
    assert writeback.process_outbox(services) == 0
    writes = [c for c in exact_emulator.calls[calls_before:] if c["method"] != "GET"]
    assert writes == []
    with services.db.session() as db:
        assert db.get(LedgerWrite, pause_id).state == "dropped"
        assert db.get(Invoice, invoice_id).ledger_paused is False


def test_payment_is_a_note_unless_booking_is_configured(make_services, exact_emulator):
    services, division, company_id = live_and_synced(make_services, exact_emulator)
    with services.db.session() as db:
        invoice = db.scalars(select(Invoice).where(Invoice.company_id == company_id,
                                                   Invoice.open_amount > 20)).first()
        key = writeback.queue_payment(db, invoice, Decimal("10.00"),
                                      datetime.now(UTC).date()).key
    writeback.process_outbox(services)
    assert [n for n in exact_emulator.notes(division) if key in n["Subject"]]
    assert not [p for p in exact_emulator.payments(division)
                if key in (p.get("Description") or "")]


def test_exact_token_rules_with_a_frozen_clock(make_services, exact_emulator):
    start = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
    with time_machine.travel(start, tick=False) as clock:
        services = make_services(exact=exact_emulator)
        company_id = connect(services, exact_emulator, big_division(exact_emulator))
        sync_company(services, company_id)
        with services.db.session() as db:
            first = db.scalars(select(Grant)).one()
        clock.shift(timedelta(seconds=540))  # 9 minutes: too early to refresh, token still valid
        assert sync_company(services, company_id).outcome == "ok"
        with services.db.session() as db:
            assert db.scalars(select(Grant)).one().refresh_token_enc == first.refresh_token_enc
        clock.shift(timedelta(seconds=35))  # 575 s: inside the refresh window
        assert sync_company(services, company_id).outcome == "ok"
        with services.db.session() as db:
            second = db.scalars(select(Grant)).one()
        assert services.box.decrypt(second.refresh_token_enc) != \
            services.box.decrypt(first.refresh_token_enc)
        assert exact_emulator.count_token_events("early_refresh_rejected") == 0
        assert exact_emulator.count_token_events("old_refresh_token_used") == 0

        clock.shift(timedelta(days=31))  # the refresh token expires unused
        assert sync_company(services, company_id).outcome == "reconnect_needed"
        with services.db.session() as db:
            assert db.scalars(select(Grant)).one().status == "reconnect_needed"
    exact_emulator.take_violations()  # the expired-token refusal is what we tested


@pytest.mark.parametrize("payload", [b"", b"not json"])
def test_exact_webhook_validation_and_bad_hash(make_services, exact_emulator, payload):
    services = make_services(exact=exact_emulator)
    connect(services, exact_emulator, big_division(exact_emulator))
    from connector.models import Connection

    with services.db.session() as db:
        connection = db.scalars(select(Connection)).one()
    url = f"{services.settings.public_url}/webhooks/exact_online/{connection.id}"
    response = requests.post(url, data=payload, timeout=10)
    assert response.status_code == (200 if payload == b"" else 401)
    forged = (b'{"Content":{"Topic":"Accounts","Division":1,"Action":"Update","Key":"x"},'
              b'"HashCode":"' + b"A" * 64 + b'"}')
    assert requests.post(url, data=forged, timeout=10).status_code == 401


def test_keep_alive_refreshes_idle_grants_before_the_30_days(make_services, exact_emulator):
    from connector.worker import keep_alive

    start = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
    with time_machine.travel(start, tick=False) as clock:
        services = make_services(exact=exact_emulator)
        company_id = connect(services, exact_emulator, big_division(exact_emulator))
        clock.shift(timedelta(days=1))
        assert keep_alive(services) == 0  # refreshed recently enough
        for _ in range(5):  # 40 idle days, kept alive weekly
            clock.shift(timedelta(days=8))
            assert keep_alive(services) == 1
        assert sync_company(services, company_id).outcome == "ok"
        assert exact_emulator.count_token_events("expired_refresh_token") == 0


def test_exact_payment_booking_settings_are_validated(make_services, exact_emulator):
    from tests.test_web import _operator_session

    services = make_services(exact=exact_emulator)
    company_id = connect(services, exact_emulator, big_division(exact_emulator))
    browser = _operator_session(services)
    url = f"{services.settings.public_url}/companies/{company_id}"
    page = browser.get(url).text
    assert "Dagboek" in page
    half = browser.post(f"{url}/payment-settings", data={"csrf_token": csrf_token(page),
                                                          "journal_code": "20"})
    assert "dagboek én tegenrekening" in half.text
    done = browser.post(f"{url}/payment-settings", data={
        "csrf_token": csrf_token(page), "journal_code": "20",
        "gl_account_id": "3f6c2a10-1b2c-4d5e-8f90-123456789abc"})
    assert "Opgeslagen" in done.text
