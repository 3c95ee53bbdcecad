"""The operator console over HTTP: call list and outcomes, print queue and posting, approvals,
search, partner identity, and that nobody but an operator can reach any of it."""

from __future__ import annotations

import io
from datetime import date, timedelta

import pytest
import requests
import time_machine
from pypdf import PdfReader
from sqlalchemy import select

from connector import writeback
from connector.clock import AMSTERDAM
from connector.collection.calls import MAX_ATTEMPTS, record_outcome
from connector.collection.cases import settings_for
from connector.collection.policy import Policy, Step, policy_to_json
from connector.collection.posting import letter_store
from connector.models import (
    CallAttempt,
    Case,
    Company,
    Delivery,
    Event,
    Hold,
    LedgerWrite,
    PartnerSettings,
)
from connector.partner import LivePartner, current_partner
from tests.helpers import csrf_token, oauth_connect
from tests.test_engine import World, at
from tests.test_engine_channels import wired  # noqa: F401  (fixture)
from tests.test_web import _operator_session

MONDAY = date(2026, 3, 2)


def _call_first_policy(needs_approval: bool = False) -> dict:
    steps = (Step("Telefoongesprek", "call", 0, "start", "call_script",
                  needs_approval=needs_approval),
             Step("Klaar voor overdracht", "handover", 0, "previous", "handover"))
    return policy_to_json(Policy(consumer=steps, business=steps))


@pytest.fixture
def calling(make_services, make_moneybird_emulator):
    """A live company whose one consumer invoice is on the call list on Monday 2 March."""
    emulator = make_moneybird_emulator(administrations=1, contacts=6, invoices=0)
    world = World(make_services(emulator), emulator)
    world.emulator.update_contact(world.adm, world.consumer, phone="06 12345678")
    with world.services.db.session() as db:
        settings_for(db, world.company_id).policy = _call_first_policy()
    world.inv = world.invoice(world.consumer, "150.00", date(2026, 2, 15))
    world.live()
    result = world.day(MONDAY)
    assert result.to_call == 1
    return world



def _call(world: World) -> Delivery:
    with world.services.db.session() as db:
        delivery = db.scalars(select(Delivery).where(Delivery.channel == "call")).one()
        _ = delivery.debtor
        return delivery


def _post_outcome(browser: requests.Session, world: World, delivery: Delivery, **fields):
    url = world.services.settings.public_url
    page = browser.get(f"{url}/operator/calls").text
    prefix = delivery.id[:8]
    data = {"csrf_token": csrf_token(page)} | {f"{prefix}-{k}": v for k, v in fields.items()}
    return browser.post(f"{url}/operator/calls/{delivery.id}", data=data)


def test_call_list_shows_the_call_and_a_promise_puts_the_case_on_hold(calling):
    world = calling
    delivery = _call(world)
    assert delivery.state == "calling"
    with time_machine.travel(at(MONDAY, 11), tick=False):
        browser = _operator_session(world.services)
        page = browser.get(f"{world.services.settings.public_url}/operator/calls").text
        assert delivery.debtor.name in page and "06 12345678" in page
        assert "Belscript" in page and "buiten de belvensters" not in page
        # A promise without a date is refused with a message, and nothing is recorded.
        refused = _post_outcome(browser, world, delivery, outcome="promised")
        assert refused.status_code == 422 and "heeft een datum nodig" in refused.text
        with world.services.db.session() as db:
            assert db.scalars(select(CallAttempt)).all() == []
        done = _post_outcome(browser, world, delivery, outcome="promised",
                             promised_on="2026-03-09", note="betaalt na salaris")
        assert "Betaalbelofte tot en met 09-03-2026 vastgelegd" in done.text
        # Twice (a double click, a second operator): refused, still one attempt.
        again = _post_outcome(browser, world, delivery, outcome="dispute")
        assert "al afgehandeld" in again.text or "staat niet op de bellijst" in again.text
        writeback.process_outbox(world.services)
    with world.services.db.session() as db:
        assert len(db.scalars(select(CallAttempt)).all()) == 1
        assert db.get(Delivery, delivery.id).state == "sent"
        case = db.scalars(select(Case)).one()
        hold = db.scalars(select(Hold)).one()
        assert (case.state, case.next_step) == ("on_hold", 1)
        assert (hold.kind, hold.until) == ("promise", date(2026, 3, 9))
    notes = world.notes(world.inv)
    assert sum("betaalbelofte" in n for n in notes) == 1, notes


def test_no_answer_comes_back_the_next_contact_day_and_ends_after_the_last_try(calling):
    world = calling
    delivery = _call(world)
    day = MONDAY
    for attempt in range(1, MAX_ATTEMPTS + 1):
        with time_machine.travel(at(day, 12), tick=False):
            result = record_outcome(world.services, delivery.id, "no_answer", "operator:x")
        assert result.done == (attempt == MAX_ATTEMPTS)
        with world.services.db.session() as db:
            current = db.get(Delivery, delivery.id)
        if not result.done:
            assert current.state == "calling" and current.due_on == day + timedelta(days=1)
            day = current.due_on
    assert current.state == "skipped" and "niet bereikt" in current.skip_reason
    with world.services.db.session() as db:
        case = db.scalars(select(Case)).one()
        assert case.next_step == 1  # moved on to the hand-over
        notes = db.scalars(select(LedgerWrite).where(LedgerWrite.kind == "note")).all()
    assert len(notes) == MAX_ATTEMPTS  # one note per call


def test_wrong_number_skips_the_step(calling):
    world = calling
    delivery = _call(world)
    with time_machine.travel(at(MONDAY, 12), tick=False):
        result = record_outcome(world.services, delivery.id, "wrong_number", "operator:x")
        writeback.process_outbox(world.services)
    assert result.done and "klopt niet" in result.message
    with world.services.db.session() as db:
        assert db.get(Delivery, delivery.id).state == "skipped"
        assert db.scalars(select(Case)).one().next_step == 1
    assert sum("telefoonnummer klopt niet" in n for n in world.notes(world.inv)) == 1


def test_says_paid_pauses_and_asks_for_a_sync(calling):
    world = calling
    delivery = _call(world)
    with time_machine.travel(at(MONDAY, 12), tick=False):
        result = record_outcome(world.services, delivery.id, "says_paid", "operator:x",
                                note="betaald op vrijdag")
    assert result.done
    with world.services.db.session() as db:
        hold = db.scalars(select(Hold)).one()
        company = db.get(Company, world.company_id)
        assert hold.kind == "pause" and hold.until == MONDAY + timedelta(days=5)
        assert company.sync_requested_at is not None
    # The payment arrives: the next sync closes the case and ends the hold.
    world.emulator.mark_paid(world.adm, world.inv)
    world.day(MONDAY + timedelta(days=1))
    with world.services.db.session() as db:
        assert db.scalars(select(Case)).one().state == "closed"
        assert db.scalars(select(Hold)).one().ended_at is not None


def test_paid_invoice_leaves_the_call_list(calling):
    world = calling
    world.emulator.mark_paid(world.adm, world.inv)
    world.day(MONDAY + timedelta(days=1))
    with world.services.db.session() as db:
        assert db.scalars(select(Delivery).where(Delivery.state == "calling")).all() == []
    with pytest.raises(ValueError, match=r"staat niet op de bellijst|al afgehandeld"):
        record_outcome(world.services, _call(world).id, "dispute", "operator:x")


def test_outside_the_contact_window_the_call_list_warns(calling):
    world = calling
    with time_machine.travel(at(MONDAY, 21), tick=False):
        browser = _operator_session(world.services)
        page = browser.get(f"{world.services.settings.public_url}/operator/calls").text
    assert "buiten de belvensters" in page


def test_print_queue_merges_letters_and_posting_starts_the_term(wired):  # noqa: F811
    world, _mail, _twilio, _letter_dir = wired
    world.emulator.update_contact(world.adm, world.consumer, phone="06 12345678",
                                  email="klant@voorbeeld.example")
    inv = world.invoice(world.consumer, "242.00", date(2026, 2, 15))
    world.live()
    for offset in range(0, 8):  # the stamp on 2 March, the Profitletter on Monday 9 March
        world.day(MONDAY + timedelta(days=offset))
    case = world.case(inv)
    assert case.letter_posted_on is None and case.last_day_to_pay == date(2026, 3, 25)
    [entry] = letter_store(world.services).entries()
    url = world.services.settings.public_url
    with time_machine.travel(at(date(2026, 3, 9), 15), tick=False):
        browser = _operator_session(world.services)
        page = browser.get(f"{url}/operator/print").text
        assert "Profitletter" in page and entry.delivery_id in page
        pdf = browser.get(f"{url}/operator/print/letters.pdf",
                          params={"letter": entry.delivery_id})
        assert pdf.headers["Content-Type"] == "application/pdf"
        assert len(PdfReader(io.BytesIO(pdf.content)).pages) == entry.pages
        tomorrow = browser.post(f"{url}/operator/print/posted", data={
            "csrf_token": csrf_token(page), "letter": entry.delivery_id,
            "posted_on": "2026-03-10"})
        assert "in de toekomst" in tomorrow.text
        before = browser.post(f"{url}/operator/print/posted", data={
            "csrf_token": csrf_token(page), "letter": entry.delivery_id,
            "posted_on": "2026-03-06"})  # the letter was made on 9 March
        assert "vóór de dag waarop de brief is gemaakt" in before.text
        posted = browser.post(f"{url}/operator/print/posted", data={
            "csrf_token": csrf_token(page), "letter": entry.delivery_id,
            "posted_on": "2026-03-09"})
        assert "1 brief als gepost vastgelegd" in posted.text
        assert "De printwachtrij is leeg" in posted.text
    case = world.case(inv)
    assert case.letter_posted_on == date(2026, 3, 9)
    assert (case.last_day_to_pay, case.costs_due_from) == (date(2026, 3, 25), date(2026, 3, 26))
    for offset in range(8, 25):
        world.day(MONDAY + timedelta(days=offset), call="no_answer")
    assert world.case(inv).state == "ready_for_handover"
    with world.services.db.session() as db:
        ready = db.scalars(select(Event).where(Event.kind == "case.ready_for_handover")).one()
        assert db.scalars(select(Event).where(Event.kind == "letter.posted")).one()
    assert ready.at.date() == date(2026, 3, 26)


def test_a_letter_never_marked_posted_holds_the_hand_over_and_is_flagged_late(wired):  # noqa: F811
    world, _mail, _twilio, _letter_dir = wired
    world.emulator.update_contact(world.adm, world.consumer, phone="06 12345678",
                                  email="klant@voorbeeld.example")
    inv = world.invoice(world.consumer, "242.00", date(2026, 2, 15))
    world.live()
    for offset in range(0, 30):
        world.day(MONDAY + timedelta(days=offset), call="no_answer")
    assert world.case(inv).state == "active"  # no posting date, no term, no hand-over
    [entry] = letter_store(world.services).entries()
    url = world.services.settings.public_url
    with time_machine.travel(at(date(2026, 3, 31), 10), tick=False):
        browser = _operator_session(world.services)
        page = browser.get(f"{url}/operator/print").text
        assert "te laat — niet posten" in page
        late = browser.post(f"{url}/operator/print/posted", data={
            "csrf_token": csrf_token(page), "letter": entry.delivery_id,
            "posted_on": "2026-03-31"})
        assert "na hun uiterste postdatum" in late.text
        # Made again: the old letter leaves the queue, a new one with a new term is planned.
        remade = browser.post(f"{url}/operator/print/{entry.delivery_id}/remake",
                              data={"csrf_token": csrf_token(page)})
        assert "nieuwe termijn" in remade.text and "De printwachtrij is leeg" in remade.text
        twice = browser.post(f"{url}/operator/print/{entry.delivery_id}/remake",
                             data={"csrf_token": csrf_token(page)})
        assert "niet (meer) in de printwachtrij" in twice.text
    assert world.case(inv).letter_posted_on is None
    world.day(date(2026, 3, 31), hour=11, sync=False)
    store = letter_store(world.services)
    [new] = [e for e in store.entries() if e.withdrawn_on is None]
    assert new.delivery_id != entry.delivery_id and new.post_by == date(2026, 3, 31)
    case = world.case(inv)
    # Posted Tuesday 31 March → delivered Thursday 2 April → 14 days → Thursday 16 April.
    assert case.last_day_to_pay == date(2026, 4, 16) and case.letter_posted_on is None
    assert case.next_step == 4  # the letter replaced its step; the case did not advance
    with time_machine.travel(at(date(2026, 3, 31), 16), tick=False):
        page = browser.get(f"{url}/operator/print").text
        browser.post(f"{url}/operator/print/posted", data={
            "csrf_token": csrf_token(page), "letter": new.delivery_id,
            "posted_on": "2026-03-31"})
    assert world.case(inv).letter_posted_on == date(2026, 3, 31)
    for offset in range(1, 19):
        world.day(date(2026, 3, 31) + timedelta(days=offset))
    assert world.case(inv).state == "ready_for_handover"
    with world.services.db.session() as db:
        ready = db.scalars(select(Event).where(Event.kind == "case.ready_for_handover")).one()
    assert ready.at.astimezone(AMSTERDAM).date() == date(2026, 4, 17)
    notes = world.notes(inv)
    assert sum("opnieuw gemaakt" in n for n in notes) == 1, notes


def test_approvals_queue_and_search(make_services, make_moneybird_emulator):
    emulator = make_moneybird_emulator(administrations=1, contacts=6, invoices=0)
    world = World(make_services(emulator), emulator)
    world.emulator.update_contact(world.adm, world.consumer, phone="06 12345678")
    with world.services.db.session() as db:
        settings_for(db, world.company_id).policy = _call_first_policy(needs_approval=True)
    inv = world.invoice(world.consumer, "150.00", date(2026, 2, 15))
    world.day(MONDAY)
    url = world.services.settings.public_url
    with time_machine.travel(at(MONDAY, 11), tick=False):
        browser = _operator_session(world.services)
        page = browser.get(f"{url}/operator/approvals").text
        delivery = _call(world)
        assert "Telefoongesprek" in page and delivery.debtor.name in page
        browser.post(f"{url}/operator/approvals/{delivery.id}",
                     data={"csrf_token": csrf_token(page)})
        with world.services.db.session() as db:
            assert db.get(Delivery, delivery.id).approved_by == "operator:op@partner.example"
        assert browser.post(f"{url}/operator/approvals/nonexistent",
                            data={"csrf_token": csrf_token(page)}).status_code == 404
        number = world.case(inv).invoice.number
        found = browser.get(f"{url}/operator/search", params={"q": number}).text
        assert delivery.debtor.name in found and "Niets gevonden" not in found
        by_name = browser.get(f"{url}/operator/search",
                              params={"q": delivery.debtor.name[:5].lower()}).text
        assert number in by_name
        nothing = browser.get(f"{url}/operator/search", params={"q": "zzzz-none"}).text
        assert "Niets gevonden" in nothing
        short = browser.get(f"{url}/operator/search", params={"q": "x"}).text
        assert "Minstens 2 tekens" in short


def test_partner_identity_is_edited_and_bad_input_changes_nothing(services):
    url = services.settings.public_url
    browser = _operator_session(services)
    page = browser.get(f"{url}/operator/partner").text
    good = {"csrf_token": csrf_token(page), "name": "Incasso Noord B.V.",
            "address": "Grote Markt 1\n9711 LV Groningen", "wki_number": "WKI-123456",
            "kvk": "12345678", "phone": "050 123 45 67", "email": "post@noord.example",
            "website": "noord.example", "complaints": "Klachten: noord.example/klachten",
            "complaints_en": "Complaints: noord.example/complaints"}
    for field, value, message in [("kvk", "1234", "8 cijfers"),
                                  ("email", "geen-adres", "geen geldig e-mailadres"),
                                  ("wki_number", "", "Wki-registratienummer in")]:
        bad = browser.post(f"{url}/operator/partner", data=good | {field: value})
        assert bad.status_code == 422 and message in bad.text
        with services.db.session() as db:
            assert db.get(PartnerSettings, 1) is None
    live = LivePartner(services.db, services.settings, ttl=3600)
    assert live.name == services.settings.partner_name  # read once, cached for an hour…
    saved = browser.post(f"{url}/operator/partner", data=good)
    assert "opgeslagen" in saved.text
    assert live.name == "Incasso Noord B.V."  # …but a save in this process shows at once
    with services.db.session() as db:
        partner = current_partner(db, services.settings)
    assert partner.name == "Incasso Noord B.V."
    assert partner.address_lines == ("Grote Markt 1", "9711 LV Groningen")
    assert partner.wki_number == "WKI-123456"


def test_only_operators_reach_the_console(services, moneybird_emulator):
    url = services.settings.public_url
    anonymous = requests.get(f"{url}/operator/calls", allow_redirects=False)
    assert anonymous.status_code == 302 and "/login" in anonymous.headers["Location"]
    adm = moneybird_emulator.administration_ids()[0]
    creditor, page = oauth_connect(url, moneybird_emulator.server.url, administrations=[adm])
    for path in ("/operator/", "/operator/calls", "/operator/print", "/operator/approvals",
                 "/operator/search?q=ab", "/operator/partner", "/operator/print/letters.pdf"):
        assert creditor.get(url + path).status_code == 404, path
    token = csrf_token(page.text)
    for path in ("/operator/calls/x", "/operator/print/posted", "/operator/approvals/x",
                 "/operator/partner"):
        assert creditor.post(url + path, data={"csrf_token": token}).status_code == 404, path


def test_problem_steps_wait_for_an_operator_who_confirms_resends_or_skips(wired):  # noqa: F811
    world, mail, _twilio, _ = wired
    world.emulator.update_contact(world.adm, world.consumer, email="klant@voorbeeld.example",
                                  phone="06 12345678")
    inv = world.invoice(world.consumer, "120.00", date(2026, 2, 15))
    world.live()
    mail.drop_after_data(1)  # the stamp may or may not have gone out
    world.day(MONDAY)
    for hour in (11, 12):  # never sent again on its own
        world.day(MONDAY, hour=hour, sync=False)
    assert len(mail.messages) == 1
    url = world.services.settings.public_url
    with time_machine.travel(at(MONDAY, 13), tick=False):
        browser = _operator_session(world.services)
        page = browser.get(f"{url}/operator/problems").text
        with world.services.db.session() as db:
            stamp = db.scalars(select(Delivery).where(Delivery.state == "ambiguous")).one()
        assert "mogelijk verstuurd" in page and "Is verstuurd" in page
        confirmed = browser.post(f"{url}/operator/problems/{stamp.id}/confirm",
                                 data={"csrf_token": csrf_token(page)})
        assert "bevestigd als verstuurd" in confirmed.text
        twice = browser.post(f"{url}/operator/problems/{stamp.id}/confirm",
                             data={"csrf_token": csrf_token(page)})
        assert "al afgehandeld" in twice.text
        writeback.process_outbox(world.services)
    assert [d.id for d in world.sent()] == [stamp.id]
    assert world.case(inv).next_step == 1
    assert sum("incassostempel" in n.lower() for n in world.notes(inv)) == 1

    # The Profitletter fails for good (no IBAN any more): it waits, it does not loop.
    with world.services.db.session() as db:
        settings_for(db, world.company_id).sender = {"name": "Bakkerij Zoet B.V."}
    for offset in range(7, 10):
        world.day(MONDAY + timedelta(days=offset))
    with world.services.db.session() as db:
        [letter] = db.scalars(select(Delivery).where(Delivery.channel == "letter")).all()
        assert letter.state == "failed" and "IBAN" in letter.skip_reason
        settings_for(db, world.company_id).sender = {"name": "Bakkerij Zoet B.V.",
                                                     "iban": "NL91ABNA0417164300"}
    with time_machine.travel(at(MONDAY + timedelta(days=9), 11), tick=False):
        page = browser.get(f"{url}/operator/problems").text  # a fresh CSRF token
        assert "IBAN" in page
        again = browser.post(f"{url}/operator/problems/{letter.id}/again",
                             data={"csrf_token": csrf_token(page)})
        assert "opnieuw mee" in again.text and "Geen problemen" in again.text
    world.day(MONDAY + timedelta(days=9), hour=12, sync=False)
    with world.services.db.session() as db:
        assert db.get(Delivery, letter.id).state == "sent"
        assert db.get(Delivery, letter.id).approved_by == "operator:op@partner.example"
    with time_machine.travel(at(MONDAY + timedelta(days=9), 13), tick=False):
        page = browser.get(f"{url}/operator/problems").text
        assert browser.post(f"{url}/operator/problems/{letter.id}/skip",
                            data={"csrf_token": csrf_token(page)}).status_code == 200
        assert browser.post(f"{url}/operator/problems/{letter.id}/explode",
                            data={"csrf_token": csrf_token(page)}).status_code == 404
    with world.services.db.session() as db:
        assert db.get(Delivery, letter.id).state == "sent"  # a decided step stays decided


def test_partner_logo_is_checked_and_reaches_the_letterhead(services):
    from PIL import Image

    from connector.channels.documents import render_letter_pdf
    from connector.channels.letter_sample import sample_message

    url = services.settings.public_url
    browser = _operator_session(services)
    page = browser.get(f"{url}/operator/partner").text
    assert "Nog geen logo" in page
    fake = browser.post(f"{url}/operator/partner/logo", data={"csrf_token": csrf_token(page)},
                        files={"logo": ("logo.png", b"\x89PNG\r\n\x1a\nnot really", "image/png")})
    assert "geen PNG- of JPEG-afbeelding" in fake.text
    with services.db.session() as db:
        assert current_partner(db, services.settings).logo_uri == ""
    png = io.BytesIO()
    Image.new("RGB", (120, 40), (200, 30, 30)).save(png, "PNG")
    saved = browser.post(f"{url}/operator/partner/logo", data={"csrf_token": csrf_token(page)},
                         files={"logo": ("logo.png", png.getvalue(), "image/png")})
    assert "Logo opgeslagen" in saved.text and "data:image/png;base64," in saved.text
    with services.db.session() as db:
        partner = current_partner(db, services.settings)
    assert partner.logo_uri.startswith("data:image/png;base64,")
    assert "base64" not in repr(partner)
    pdf = render_letter_pdf(sample_message("consumer", "nl", date(2026, 3, 2)), partner)
    images = [img for page in PdfReader(io.BytesIO(pdf)).pages for img in page.images]
    assert any(img.image.size == (120, 40) for img in images)
    removed = browser.post(f"{url}/operator/partner/logo/delete",
                           data={"csrf_token": csrf_token(saved.text)})
    assert "Logo verwijderd" in removed.text
    with services.db.session() as db:
        assert current_partner(db, services.settings).logo_uri == ""
