"""SnelStart end to end over loopback: connect with a koppelsleutel, the first sync by the worker,
a Profitletter attached to the sales booking once although its first answer is lost, and a
payment seen by polling closing the case with a document saying so."""

from __future__ import annotations

import io
import re
from datetime import date, datetime, time, timedelta
from decimal import Decimal

import holidays
import pytest
import requests
import time_machine
from pypdf import PdfReader
from sqlalchemy import select

from connector import writeback
from connector.clock import AMSTERDAM
from connector.collection.cases import settings_for
from connector.collection.engine import run_company
from connector.collection.policy import Policy, Step, policy_to_json
from connector.collection.posting import letter_store
from connector.models import Case, Company, Delivery, Invoice, LedgerWrite, SyncRun
from connector.sync import sync_company
from connector.worker import Worker
from providers.snelstart.emulator import DEMO_SUBSCRIPTION_KEY, SnelStartEmulator
from tests.contract.snelstart_schema import validate_exchange
from tests.helpers import csrf_token, wait_until

IBAN = "NL91ABNA0417164300"


def _working_day_after(day: date) -> date:
    """A Tuesday to Thursday that is no Dutch holiday: contact rules allow a letter then."""
    dutch = holidays.country_holidays("NL")
    day += timedelta(days=1)
    while day.weekday() not in (1, 2, 3) or day in dutch:
        day += timedelta(days=1)
    return day


def _at(day: date, hour: int = 10) -> datetime:
    return datetime.combine(day, time(hour), AMSTERDAM)


@pytest.fixture
def snelstart_world(make_services, tmp_path):
    from connector.channels.smtp_capture import CaptureSmtpServer

    emulator = SnelStartEmulator(seed=21, relations=8, invoices=0)
    problems: list[str] = []
    emulator.exchange_hook = lambda request, response: problems.extend(
        validate_exchange(request, response))
    server = emulator.serve()
    mail = CaptureSmtpServer()
    mail.start()
    services = make_services(
        None, ledger={"snelstart": {"SNELSTART_BASE_URL": server.url,
                                    "SNELSTART_SUBSCRIPTION_KEY": DEMO_SUBSCRIPTION_KEY}},
        smtp_url=f"smtp://127.0.0.1:{mail.port}", letter_dir=str(tmp_path / "letters"))
    yield services, emulator
    server.shutdown()
    mail.stop()
    assert not problems and not emulator.hook_errors, problems[:5]


def _paste(browser: requests.Session, url: str, key: str) -> requests.Response:
    page = browser.get(f"{url}/connect/snelstart", timeout=30)
    return browser.post(f"{url}/connect/snelstart", timeout=60,
                        data={"csrf_token": csrf_token(page.text), "key": key})


def _connect_with_key(services, key: str, browser: requests.Session | None = None) -> str:
    """On our connect page: the explanation, a wrong key refused in place, then the right one
    (pasted with the line break copying adds), the administration chosen, the settings page."""
    url = services.settings.public_url
    browser = browser if browser is not None else requests.Session()
    page = browser.get(f"{url}/connect/snelstart", timeout=30)
    assert "Waar vindt u de koppelsleutel?" in page.text and "SnelStart Web" in page.text
    refused = _paste(browser, url, "dit-is-geen-koppelsleutel")
    assert refused.status_code == 400
    assert "SnelStart accepteert deze sleutel niet." in refused.text
    chooser = _paste(browser, url, f"{key[:24]}\n{key[24:]}")
    assert chooser.url == f"{url}/connect/choose", chooser.text[:300]
    done = browser.post(f"{url}/connect/choose", timeout=60, data={
        "csrf_token": csrf_token(chooser.text),
        "tenants": re.findall(r'name="tenants" value="([\w-]+)"', chooser.text)})
    company_id = re.search(r"/companies/([0-9a-f]{32})$", done.url).group(1)
    assert key not in chooser.text + done.text
    with services.db.session() as db:
        grant = db.get(Company, company_id).connection.grant
        assert key not in (grant.refresh_token_enc or "")  # the key is kept encrypted only
    return company_id


def _pdf_text(content: bytes) -> str:
    return " ".join(page.extract_text() for page in PdfReader(io.BytesIO(content)).pages)


def _consumer_by_email(emulator) -> str:
    """The first customer, made a consumer who gets reminders by e-mail."""
    consumer = emulator.customer_ids()[0]
    emulator.update_relation(consumer, aanmaningsoort="Consument", btwNummer=None,
                             kvkNummer=None, aanmaningEmailVersturen={
                                 "shouldSend": True, "email": "klant@voorbeeld.example",
                                 "ccEmail": None})
    return consumer


def test_key_connect_sync_letter_written_once_and_payment_closes(snelstart_world):
    services, emulator = snelstart_world
    consumer = _consumer_by_email(emulator)
    target = emulator.create_invoice(consumer, "242.00", overdue_days=30)
    emulator.create_invoice(emulator.customer_ids()[1], "99.00", overdue_days=-20)  # not due

    # 1. Connect with the koppelsleutel; the worker makes the first sync.
    browser = requests.Session()
    company_id = _connect_with_key(services, emulator.key_for(), browser)
    with services.db.session() as db:
        company = db.get(Company, company_id)
        assert company.name == emulator.adm()["name"]
        settings = settings_for(db, company_id)
        settings.sender = {"name": "Bakkerij De Zon B.V.", "iban": IBAN,
                           "email": "debiteuren@zon.example", "phone": "030 123 4567"}
        step = Step("Profitletter", "letter", 0, "start", "profitletter_consumer")
        settings.policy = policy_to_json(Policy(consumer=(step,), business=(step,)))
    worker = Worker(services)
    worker.start()
    try:
        def first_sync_done() -> bool:
            with services.db.session() as db:
                return any(r.outcome == "ok" for r in db.scalars(
                    select(SyncRun).where(SyncRun.company_id == company_id)))

        wait_until(first_sync_done, timeout=60)
    finally:
        worker.stop()
    with services.db.session() as db:
        mirrored = set(db.scalars(select(Invoice.external_id)
                                  .where(Invoice.company_id == company_id)))
    assert mirrored == set(emulator.invoice_ids(open_only=True)) and len(mirrored) == 2

    # 2. A case, a Profitletter; the letter's own PDF reaches the sales booking once although
    #    the first answer is lost.
    with services.db.session() as db:
        settings_for(db, company_id).live = True
    day = _working_day_after(datetime.now(AMSTERDAM).date())
    emulator.inject_lost_answer("POST", "/documenten/Verkoopboekingen")
    booking = emulator.raw_invoice(target["id"])["verkoopBoeking"]
    for offset in range(3):  # the lost write is retried on a later run
        with time_machine.travel(_at(day + timedelta(days=offset)), tick=False):
            sync_company(services, company_id)
            run_company(services, company_id)
            writeback.process_outbox(services)
    with services.db.session() as db:
        case = db.scalars(select(Case).join(Invoice)
                          .where(Invoice.external_id == target["id"])).one()
        letter = db.scalars(select(Delivery).where(Delivery.channel == "letter")).first()
        assert letter is not None and letter.state == "sent", letter and letter.skip_reason
        writes = list(db.scalars(select(LedgerWrite).where(LedgerWrite.invoice_id
                                                           == case.invoice_id)))
        # SnelStart has no reminders of its own: the engine's pause has no place and is dropped.
        assert {(w.kind, w.state) for w in writes} == {("note", "done"), ("pause", "dropped")}, \
            [(w.kind, w.state, w.last_error) for w in writes]
        [key] = [w.key for w in writes if w.kind == "note"]
    # The lost answer was looked up, not written again.
    assert emulator.count_calls("GET", f"/documenten/Verkoopboekingen/{booking}") >= 1
    assert emulator.count_calls("POST", "/documenten/Verkoopboekingen") == 1
    [document] = emulator.documents(booking=booking)
    assert key in document["fileName"] and document["fileName"].startswith("Profitletter ")
    # Byte for byte the letter as it went to the print queue, not a record of it.
    assert document["content"] == letter_store(services).pdf(letter.id)

    # 3. Paid in SnelStart: the next poll closes the case, with a document saying so.
    emulator.settle(target["id"])
    with time_machine.travel(_at(day + timedelta(days=3)), tick=False):
        sync_company(services, company_id)
        run_company(services, company_id)
        writeback.process_outbox(services)
    with services.db.session() as db:
        case = db.get(Case, case.id)
        assert case.state == "closed" and case.invoice.status == "paid"
    closing = [d for d in emulator.documents(booking=booking) if d["id"] != document["id"]]
    assert len(closing) == 1 and re.search(r"betaald", _pdf_text(closing[0]["content"]))

    # 4. A bank journal chosen from SnelStart's list; a payment registered on our invoice page
    #    is booked once, although the answer to the first booking is lost.
    url = services.settings.public_url
    company_page = browser.get(f"{url}/companies/{company_id}", timeout=30).text
    journals = re.findall(r'<option value="([0-9a-f-]{36})"[^>]*>([^<]*)</option>', company_page)
    assert [label for _, label in journals] == ["1100 Bank ING"]  # active bank journals only
    saved = browser.post(f"{url}/companies/{company_id}/payment-settings", timeout=30, data={
        "csrf_token": csrf_token(company_page), "bank_journal_id": journals[0][0]})
    assert "Opgeslagen." in saved.text
    other = next(i for i in emulator.invoice_ids(open_only=True) if i != target["id"])
    with services.db.session() as db:
        local = db.scalars(select(Invoice.id).where(Invoice.external_id == other)).one()
    invoice_url = f"{url}/companies/{company_id}/invoices/{local}"
    form = browser.get(invoice_url, timeout=30).text
    token = re.search(r'name="payment-submission" type="hidden" value="([\w-]+)"', form).group(1)
    emulator.inject_lost_answer("POST", "/bankboekingen")
    queued = browser.post(invoice_url, timeout=30, data={
        "payment-csrf_token": csrf_token(form), "payment-submission": token,
        "payment-amount": "40.00", "payment-paid_on": datetime.now(AMSTERDAM).date().isoformat()})
    assert "Betaling staat klaar" in queued.text, queued.text[:2000]
    with time_machine.travel(_at(day + timedelta(days=3), 11), tick=False):
        writeback.process_outbox(services)
    assert emulator.count_calls("GET", "/v2/bankboekingen") >= 1  # looked up, not booked again
    [booked] = emulator.bank_bookings()
    assert booked["bedragOntvangen"] == 40.0 and booked["dagboek"]["id"] == journals[0][0]
    assert emulator.raw_invoice(other)["openstaandSaldo"] == Decimal("59.00")


def test_the_letter_pdf_lands_once_when_the_next_attempt_must_look_it_up(snelstart_world):
    """The answer to the letter's document is lost and the look-up right after fails as well:
    the write waits, and the next attempt finds the letter by its key instead of posting it
    again. On the booking: the letter itself, byte for byte, once."""
    services, emulator = snelstart_world
    consumer = _consumer_by_email(emulator)
    target = emulator.create_invoice(consumer, "121.00", overdue_days=30)
    booking = emulator.raw_invoice(target["id"])["verkoopBoeking"]
    company_id = _connect_with_key(services, emulator.key_for())
    with services.db.session() as db:
        settings = settings_for(db, company_id)
        settings.sender = {"name": "Bakkerij De Zon B.V.", "iban": IBAN,
                           "email": "debiteuren@zon.example", "phone": "030 123 4567"}
        step = Step("Profitletter", "letter", 0, "start", "profitletter_consumer")
        settings.policy = policy_to_json(Policy(consumer=(step,), business=(step,)))
        settings.live = True
    day = _working_day_after(datetime.now(AMSTERDAM).date())
    emulator.inject_lost_answer("POST", "/documenten/Verkoopboekingen")
    # Every try of the look-up after the lost answer fails too (reads are tried three times).
    emulator.inject_error("GET", f"/documenten/Verkoopboekingen/{booking}", status=503, times=3)
    with time_machine.travel(_at(day), tick=False):
        sync_company(services, company_id)
        run_company(services, company_id)
        writeback.process_outbox(services)
    with services.db.session() as db:
        letter = db.scalars(select(Delivery).where(Delivery.company_id == company_id,
                                                   Delivery.channel == "letter")).one()
        [write] = db.scalars(select(LedgerWrite).where(LedgerWrite.kind == "note"))
        assert write.state == "pending" and write.payload["delivery_id"] == letter.id
    assert len(emulator.documents(booking=booking)) == 1  # it did land

    with time_machine.travel(_at(day, 15), tick=False):
        assert writeback.process_outbox(services) == 1
    with services.db.session() as db:
        write = db.get(LedgerWrite, write.id)
        assert write.state == "done" and write.attempts == 2
    assert emulator.count_calls("POST", "/documenten/Verkoopboekingen") == 1
    [document] = emulator.documents(booking=booking)
    assert document["id"] == write.ledger_ref and write.key in document["fileName"]
    assert document["content"] == letter_store(services).pdf(letter.id)
    # The letter to the debtor (the 14-day letter), not a one-page record of it.
    assert "voordat incassokosten verschuldigd zijn" in _pdf_text(document["content"])


def test_a_withdrawn_key_asks_for_a_reconnect_on_the_settings_page(snelstart_world):
    services, emulator = snelstart_world
    key = emulator.key_for()
    company_id = _connect_with_key(services, key)
    assert sync_company(services, company_id).outcome == "ok"
    requests_before = emulator.token_requests
    assert sync_company(services, company_id).outcome == "ok"
    assert emulator.token_requests == requests_before  # the stored token is reused
    emulator.revoke_key(key)  # the creditor withdrew the koppelsleutel in SnelStart
    assert sync_company(services, company_id).outcome != "ok"
    with services.db.session() as db:
        grant = db.get(Company, company_id).connection.grant
        assert grant.status == "reconnect_needed"
    # Pasting a new key for the same administration connects it again.
    emulator.add_client_key("nieuwe-koppelsleutel-0123456789abcdef")
    assert _connect_with_key(services, "nieuwe-koppelsleutel-0123456789abcdef") == company_id
    assert sync_company(services, company_id).outcome == "ok"
