"""Time-barred claims: 2 years for a consumer's purchase (art. 7:28 BW), 5 otherwise (art. 3:307
BW), from the day after the due date. They are not chased; they are listed for review."""

from __future__ import annotations

from datetime import date, timedelta

from sqlalchemy import select

from connector.clock import today_nl
from connector.collection import prescription
from connector.collection.engine import run_company
from connector.models import Case, Invoice
from connector.sync import sync_company
from tests.helpers import connect_direct
from tests.test_web import _operator_session


def test_the_term_runs_from_the_day_after_the_due_date():
    due = date(2024, 1, 10)
    assert prescription.barred_from(due, "consumer") == date(2026, 1, 11)
    assert not prescription.is_time_barred(due, "consumer", date(2026, 1, 10))
    assert prescription.is_time_barred(due, "consumer", date(2026, 1, 11))
    assert prescription.barred_from(due, "business") == date(2029, 1, 11)
    assert not prescription.is_time_barred(due, "business", date(2029, 1, 10))
    assert prescription.is_time_barred(due, "business", date(2029, 1, 11))
    assert not prescription.is_time_barred(None, "consumer", date(2040, 1, 1))
    # 29 February: the term ends on 28 February of a year without one
    assert prescription.barred_from(date(2024, 2, 29), "consumer") == date(2026, 3, 1)


def test_the_database_cut_off_agrees_with_the_rule_on_every_day():
    start = date(2027, 2, 20)
    for offset in range(0, 15):  # includes 28/29 February and 1 March
        today = start + timedelta(days=offset)
        for kind in ("consumer", "business"):
            cutoff = prescription.oldest_chaseable_due_date(kind, today)
            assert not prescription.is_time_barred(cutoff, kind, today)
            assert prescription.is_time_barred(cutoff - timedelta(days=1), kind, today)


def test_the_reason_names_the_article_and_the_day():
    barred = prescription.time_barred(date(2023, 5, 1), "consumer", date(2026, 1, 1))
    assert barred.article == "art. 7:28 BW" and barred.since == date(2025, 5, 2)
    assert "verjaart na 2 jaar (art. 7:28 BW)" in barred.reason
    assert "02-05-2025" in barred.reason and "niet automatisch aangemaand" in barred.reason
    business = prescription.time_barred(date(2019, 5, 1), "business", date(2026, 1, 1))
    assert business.article == "art. 3:307 BW" and business.years == 5
    assert prescription.time_barred(date(2025, 5, 1), "business", date(2026, 1, 1)) is None


def test_time_barred_invoices_are_not_chased_but_listed_for_review(services, moneybird_emulator):
    adm = moneybird_emulator.administration_ids()[0]
    contact = next(c for c in moneybird_emulator.contacts(adm) if not c.get("company_name"))
    today = today_nl()
    old = moneybird_emulator.create_invoice(adm, contact["id"],
                                            due_date=today - timedelta(days=3 * 366))
    recent = moneybird_emulator.create_invoice(adm, contact["id"],
                                               due_date=today - timedelta(days=60))
    company_id = connect_direct(services, moneybird_emulator, adm)
    sync_company(services, company_id)
    run_company(services, company_id)
    with services.db.session() as db:
        def case_for(external_id):
            invoice = db.scalars(select(Invoice).where(Invoice.external_id == external_id)).one()
            return db.scalars(select(Case).where(Case.invoice_id == invoice.id)).first()
        assert case_for(old["id"]) is None
        assert case_for(recent["id"]) is not None
    browser = _operator_session(services)
    base = f"{services.settings.public_url}/companies/{company_id}"
    board = browser.get(f"{base}/dashboard").text
    assert "mogelijk verjaard" in board and f"/companies/{company_id}/verjaard" in board
    review = browser.get(f"{base}/verjaard").text
    assert old["invoice_id"] in review or old["id"] in review
    assert "Consument: verjaart na 2 jaar (art. 7:28 BW, bij koop)" in review


def test_a_case_opened_before_its_claim_was_barred_stops_if_nothing_went_out(
        services, moneybird_emulator):
    from connector.models import Delivery, DeliveryCase, LedgerWrite

    adm = moneybird_emulator.administration_ids()[0]
    contact = next(c for c in moneybird_emulator.contacts(adm) if not c.get("company_name"))
    old = moneybird_emulator.create_invoice(adm, contact["id"],
                                            due_date=today_nl() - timedelta(days=3 * 366))
    company_id = connect_direct(services, moneybird_emulator, adm)
    sync_company(services, company_id)
    with services.db.session() as db:  # a case from before the rule (e.g. an older version)
        invoice = db.scalars(select(Invoice).where(Invoice.external_id == old["id"])).one()
        case = Case(company_id=company_id, invoice_id=invoice.id, debtor_id=invoice.debtor_id,
                    variant="consumer", opened_on=today_nl() - timedelta(days=30),
                    principal=invoice.open_amount)
        db.add(case)
        db.flush()
        case_id, invoice_id = case.id, invoice.id
    run_company(services, company_id)
    with services.db.session() as db:
        case = db.get(Case, case_id)
        assert (case.state, case.closed_reason) == ("closed", "time_barred")
        assert db.scalars(select(Delivery).join(DeliveryCase).where(
            DeliveryCase.case_id == case_id, Delivery.state == "planned")).first() is None
        assert db.scalars(select(LedgerWrite).where(
            LedgerWrite.invoice_id == invoice_id)).first() is None  # nothing in the ledger


def test_an_invoice_in_another_currency_is_mirrored_but_not_chased(services, moneybird_emulator):
    """Letters, the BIK scale and the payment box are in euros (a ledger like Xero also keeps
    invoices in dollars or pounds)."""
    adm = moneybird_emulator.administration_ids()[0]
    contact = next(c for c in moneybird_emulator.contacts(adm) if not c.get("company_name"))
    today = today_nl()
    dollars = moneybird_emulator.create_invoice(adm, contact["id"],
                                                due_date=today - timedelta(days=60))
    euros = moneybird_emulator.create_invoice(adm, contact["id"],
                                              due_date=today - timedelta(days=60))
    company_id = connect_direct(services, moneybird_emulator, adm)
    sync_company(services, company_id)
    with services.db.session() as db:
        db.scalars(select(Invoice).where(Invoice.external_id == dollars["id"])).one().currency = \
            "USD"
    run_company(services, company_id)
    with services.db.session() as db:
        def case_for(external_id):
            invoice = db.scalars(select(Invoice).where(Invoice.external_id == external_id)).one()
            return db.scalars(select(Case).where(Case.invoice_id == invoice.id)).first()
        assert case_for(dollars["id"]) is None
        assert case_for(euros["id"]) is not None
