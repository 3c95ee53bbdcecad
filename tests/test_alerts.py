"""Creditor e-mail alerts and the weekly summary (#16): switchable, deduplicated, grouped."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime

import pytest
from sqlalchemy import select

from connector import alerts, events
from connector.channels.smtp_capture import CaptureSmtpServer
from connector.collection.cases import place_hold, settings_for
from connector.collection.engine import run_company
from connector.models import AlertSent, Case, HoldKind
from connector.sync import sync_company
from tests.helpers import connect_direct, csrf_token
from tests.test_web import _operator_session

MONDAY_9 = datetime(2026, 11, 30, 8, 0, tzinfo=UTC)  # 09:00 in Amsterdam
TUESDAY = datetime(2026, 12, 1, 8, 0, tzinfo=UTC)


@pytest.fixture
def mail() -> Iterator[CaptureSmtpServer]:
    server = CaptureSmtpServer().start()
    yield server
    server.stop()


@pytest.fixture
def company(make_services, moneybird_emulator, mail):
    services = make_services(moneybird_emulator, smtp_url=f"smtp://127.0.0.1:{mail.port}")
    company_id = connect_direct(services, moneybird_emulator)
    sync_company(services, company_id)
    run_company(services, company_id)
    with services.db.session() as db:
        settings_for(db, company_id).sender = {"name": "Zoet B.V.",
                                               "email": "boekhouding@zoet.example"}
    return services, company_id


def _without_weekly(services, company_id: str) -> None:
    """Event alerts are tested at the real now, which may be a Monday morning."""
    with services.db.session() as db:
        alerts.set_switches(db, company_id, {k: k != alerts.WEEKLY for k in alerts.KINDS})


def _dispute(services, company_id: str, count: int = 1) -> None:
    with services.db.session() as db:
        for case in db.scalars(select(Case).where(Case.company_id == company_id)).all()[:count]:
            place_hold(db, HoldKind.DISPUTE, "Klant zegt: niet geleverd", "operator:x", case=case)


def test_a_dispute_is_alerted_once_and_several_are_one_mail(company, mail):
    services, company_id = company
    _without_weekly(services, company_id)
    _dispute(services, company_id, 3)
    assert alerts.run(services) == 1
    [message] = mail.messages
    assert message["To"] == "boekhouding@zoet.example"
    assert "betwist" in message["Subject"]
    assert message.get_content().count("Betwisting") == 3
    assert alerts.run(services) == 0  # deduplicated
    assert len(mail.messages) == 1


def test_a_failed_step_is_alerted_in_words_without_the_smtp_code(company, mail):
    services, company_id = company
    _without_weekly(services, company_id)
    with services.db.session() as db:
        case = db.scalars(select(Case).where(Case.company_id == company_id)).first()
        events.record(db, "step.failed",
                      "Herinnering niet verstuurd: adres bestaat niet (SMTP 550 5.1.1)",
                      company_id=company_id, subject_type="case", subject_id=case.id)
    assert alerts.run(services) == 1
    body = mail.messages[0].get_content()
    assert "adres bestaat niet" in body and "SMTP" not in body and "550" not in body


def test_switched_off_alerts_are_not_sent(company, mail):
    services, company_id = company
    browser = _operator_session(services)
    page = browser.get(f"{services.settings.public_url}/companies/{company_id}").text
    assert "Meldingen per e-mail" in page and "Meldingen gaan naar boekhouding@zoet.example" in page
    saved = browser.post(f"{services.settings.public_url}/companies/{company_id}/alerts",
                         data={"csrf_token": csrf_token(page), "alert": ["step_failed"]})
    assert "Meldingen opgeslagen" in saved.text
    assert 'value="dispute">' in saved.text and 'value="step_failed" checked>' in saved.text
    _dispute(services, company_id)
    assert alerts.run(services) == 0  # not the dispute
    assert alerts.run(services, MONDAY_9) == 0  # nor the weekly summary
    assert mail.messages == []


def test_direct_alert_api_is_deduplicated_by_key(company, mail):
    services, company_id = company
    _without_weekly(services, company_id)
    with services.db.session() as db:
        alerts.send(db, company_id, "debtor_answer", dedup="answer-1",
                    text="Debiteur antwoordde: betaald op 3 december")
        alerts.send(db, company_id, "debtor_answer", dedup="answer-1",
                    text="Debiteur antwoordde: betaald op 3 december")
    assert alerts.run(services) == 1
    assert "betaald op 3 december" in mail.messages[0].get_content()
    assert mail.messages[0].get_content().count("betaald op 3 december") == 1


def test_weekly_summary_goes_out_on_monday_once_with_figures(company, mail):
    services, company_id = company
    assert alerts.run(services, TUESDAY) == 0  # not a Monday
    assert alerts.run(services, MONDAY_9) == 1
    [message] = mail.messages
    assert "Weekoverzicht" in message["Subject"]
    body = message.get_content()
    assert "Openstaand: €" in body and "Lopende dossiers:" in body
    assert "Kosten deze maand:" in body and f"/companies/{company_id}/dashboard" in body
    assert alerts.run(services, MONDAY_9) == 0
    with services.db.session() as db:
        assert db.get(AlertSent, alerts.weekly_key(company_id, MONDAY_9)) is not None


def test_the_worker_schedules_the_alert_job(make_services, moneybird_emulator):
    from connector.worker import Worker

    worker = Worker(make_services(moneybird_emulator))
    worker.start()
    try:
        assert worker.scheduler.get_job("alerts") is not None
    finally:
        worker.stop()
