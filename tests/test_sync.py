"""Sync against the emulator: the mirror, closing detection, API call economy, failures."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import time_machine
from sqlalchemy import select

from connector.clock import today_nl
from connector.models import Debtor, Grant, Invoice, SyncRun
from connector.sync import sync_company
from providers.base import InvoiceStatus
from tests.helpers import connect_direct, unpaid


def _mirror(services, company_id: str) -> dict[str, Invoice]:
    with services.db.session() as db:
        rows = db.scalars(select(Invoice).where(Invoice.company_id == company_id))
        return {i.external_id: i for i in rows}


def test_initial_sync_mirrors_every_unpaid_invoice_of_every_year(services, moneybird_emulator):
    emulator = moneybird_emulator
    adm = emulator.administration_ids()[0]
    company_id = connect_direct(services, emulator, adm)
    emulator.reset_calls()

    result = sync_company(services, company_id)

    expected = unpaid(emulator, adm)
    assert result.outcome == "ok"
    mirror = _mirror(services, company_id)
    assert set(mirror) == {i["id"] for i in expected}
    this_year = today_nl().year
    assert any(i.invoice_date.year < this_year for i in mirror.values()), \
        "older invoices must not be hidden by the this_year default"
    sample = expected[0]
    local = mirror[sample["id"]]
    assert local.open_amount == Decimal(sample["total_unpaid"])
    assert isinstance(local.open_amount, Decimal)
    # list + one POST per 100 + contacts list (first sync: contacts list only if debtors known)
    assert result.api_calls == emulator.count_calls(administration_id=adm)
    assert result.api_calls <= 1 + -(-len(expected) // 100) + 1
    with services.db.session() as db:
        kinds = set(db.scalars(select(Debtor.kind).where(Debtor.company_id == company_id)))
    assert kinds == {"consumer", "business"}


def test_unchanged_administration_costs_at_most_two_calls(services, moneybird_emulator):
    emulator = moneybird_emulator
    adm = emulator.administration_ids()[0]
    company_id = connect_direct(services, emulator, adm)
    sync_company(services, company_id)
    emulator.reset_calls()

    result = sync_company(services, company_id)

    assert result.outcome == "ok" and result.invoices_changed == 0
    assert emulator.count_calls(administration_id=adm) == 1  # contacts were checked just now
    assert result.api_calls == 1
    with time_machine.travel(datetime.now(UTC) + timedelta(minutes=61)):
        emulator.reset_calls()
        hourly = sync_company(services, company_id)
        assert hourly.invoices_changed == 0
        assert emulator.count_calls(administration_id=adm) == hourly.api_calls <= 2


def test_paid_credited_written_off_deleted_and_partial_payments(services, moneybird_emulator):
    emulator = moneybird_emulator
    adm = emulator.administration_ids()[0]
    company_id = connect_direct(services, emulator, adm)
    sync_company(services, company_id)
    paid, credited, written_off, deleted, partial = (i["id"] for i in unpaid(emulator, adm)[:5])
    emulator.mark_paid(adm, paid)
    emulator.credit(adm, credited)
    emulator.mark_uncollectible(adm, written_off)
    emulator.delete_invoice(adm, deleted)
    emulator.add_payment(adm, partial, Decimal("1.00"))
    before = Decimal(emulator.invoice(adm, partial)["total_unpaid"]) + Decimal("1.00")

    result = sync_company(services, company_id)

    mirror = _mirror(services, company_id)
    assert mirror[paid].status == InvoiceStatus.PAID
    assert mirror[paid].paid_on is not None
    assert mirror[credited].status == InvoiceStatus.CREDITED
    assert mirror[written_off].status == InvoiceStatus.UNCOLLECTIBLE
    assert mirror[deleted].status == InvoiceStatus.DELETED
    assert mirror[partial].status == InvoiceStatus.OPEN
    assert mirror[partial].open_amount == before - Decimal("1.00")
    assert result.invoices_closed == 4


def test_contact_changes_reach_the_debtor(services, moneybird_emulator):
    emulator = moneybird_emulator
    adm = emulator.administration_ids()[0]
    company_id = connect_direct(services, emulator, adm)
    sync_company(services, company_id)
    contact_id = unpaid(emulator, adm)[0]["contact_id"]
    emulator.update_contact(adm, contact_id, send_invoices_to_email="nieuw@debiteur.example")
    emulator.reset_calls()

    sync_company(services, company_id)  # contacts are checked hourly, not on every sync
    assert emulator.count_calls(path_contains="contacts") == 0
    with time_machine.travel(datetime.now(UTC) + timedelta(minutes=61)):
        sync_company(services, company_id)

    with services.db.session() as db:
        debtor = db.scalars(select(Debtor).where(Debtor.external_id == contact_id)).one()
    assert debtor.email == "nieuw@debiteur.example"


def test_missing_scope_means_reconnect_with_that_scope(services, moneybird_emulator):
    emulator = moneybird_emulator
    company_id = connect_direct(services, emulator, scopes=("settings",))

    result = sync_company(services, company_id)

    assert result.outcome == "reconnect_needed"
    with services.db.session() as db:
        grant = db.scalars(select(Grant)).one()
        assert grant.status == "reconnect_needed"
        assert "sales_invoices" in grant.status_reason and "Koppel opnieuw" in grant.status_reason
        assert grant.access_token_enc is not None  # not wiped: the token itself is fine


def test_rate_limit_postpones_to_the_platforms_reset(make_services, make_moneybird_emulator):
    emulator = make_moneybird_emulator(rate_limit=2)
    emulator.html_429 = True  # nginx-style HTML body must not break us
    services = make_services(emulator)
    company_id = connect_direct(services, emulator)

    result = sync_company(services, company_id)

    assert result.outcome == "rate_limited"
    with services.db.session() as db:
        run = db.scalars(select(SyncRun).where(SyncRun.company_id == company_id)).one()
        assert run.outcome == "rate_limited"
        from connector.models import SyncState

        state = db.get(SyncState, company_id)
        assert state.retry_at is not None
        delay = (state.retry_at - run.started_at).total_seconds()
        assert 0 < delay <= 301  # the window's reset, not "50 years" from a misread epoch
