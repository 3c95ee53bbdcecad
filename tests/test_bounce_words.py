"""A bounce tells the creditor why in words, not in SMTP codes; operators keep the code (#16)."""

from __future__ import annotations

from datetime import date

import pytest
import time_machine
from flask_babel import force_locale
from sqlalchemy import select

from connector import events
from connector.channels.smtp_status import DUTCH, read_status
from connector.models import Delivery, Event
from connector.web.bounce_words import REASONS
from tests.helpers import oauth_connect
from tests.test_bounces import DEBTOR, bounce_world, deliver, dsn  # noqa: F401  (fixture)
from tests.test_engine import at
from tests.test_web import _operator_session


@pytest.mark.parametrize(("raw", "reason", "code"), [
    ("5.1.1", "no_such_address", "5.1.1"),
    ("550 5.1.1 Recipient address rejected", "no_such_address", "550 5.1.1"),
    ("4.2.2", "mailbox_full", "4.2.2"),
    ("552", "mailbox_full", "552"),
    ("5.1.10", "domain_takes_no_mail", "5.1.10"),
    ("5.7.1", "refused_by_recipient", "5.7.1"),
    ("5.7.99", "refused_policy", "5.7.99"),  # an unknown detail: the subject decides
    ("4.4.7", "delivery_expired", "4.4.7"),
    ("550 5.0.0", "mailbox_unavailable", "550 5.0.0"),  # "other": the reply code says more
    ("", "unknown", ""),
    ("onbekend", "unknown", ""),
])
def test_status_codes_read_as_reasons(raw, reason, code):
    status = read_status(raw)
    assert (status.reason, status.code) == (reason, code)
    assert status.dutch == DUTCH[reason]


def test_every_reason_has_its_dutch_words_and_english(app):
    assert set(REASONS) == set(DUTCH)
    with app.test_request_context():
        with force_locale("nl"):
            assert {k: str(v) for k, v in REASONS.items()} == DUTCH
        with force_locale("en"):
            english = {k: str(v) for k, v in REASONS.items()}
    assert english["no_such_address"] == "address does not exist"
    assert english["mailbox_full"] == "mailbox full"
    assert all(english[k] != DUTCH[k] for k in DUTCH)


@pytest.fixture
def app(services, live_server):
    return live_server.app


def test_the_creditor_reads_why_the_operator_also_the_code(bounce_world):  # noqa: F811
    world, mail, listener, _letters = bounce_world
    inv = world.invoice(world.consumer, "150.00", date(2026, 2, 15))
    world.live()
    world.day(date(2026, 3, 2))
    envelope_from = mail.envelopes[0].mail_from
    with time_machine.travel(at(date(2026, 3, 2), 10), tick=True):
        deliver(listener, envelope_from, dsn(envelope_from, status="5.1.1"))
    with world.services.db.session() as db:
        [bounced] = db.query(Event).filter(Event.kind == "step.bounced").all()
    assert "5.1.1" not in bounced.message and "adres bestaat niet" in bounced.message
    assert (bounced.data["status"], bounced.data["reason"]) == ("5.1.1", "no_such_address")

    url = world.services.settings.public_url
    case = world.case(inv)
    page_url = f"{url}/companies/{world.company_id}/invoices/{case.invoice_id}"
    creditor, _page = oauth_connect(url, world.emulator.server.url, administrations=[world.adm])
    page = creditor.get(page_url).text
    assert "e-mail kwam niet aan (adres bestaat niet); de herinnering gaat per post" in page
    assert "5.1.1" not in page
    creditor.get(f"{url}/lang/en?next=/")
    english = creditor.get(page_url).text
    assert "address does not exist" in english and "5.1.1" not in english

    operator = _operator_session(world.services)
    seen = operator.get(page_url).text
    assert "(adres bestaat niet)" in seen and "(SMTP 5.1.1)" in seen


def test_an_event_recorded_before_reasons_were_kept_is_shown_in_words(services, app):
    from connector.web.filters import event_text

    with services.db.session() as db:
        events.record(db, "step.bounce_delayed", "Stap 'Herinnering': e-mail nog niet "
                      "afgeleverd (status 4.2.2); de server van de ontvanger probeert het "
                      "opnieuw", status="4.2.2")
    with services.db.session() as db:
        event = db.query(Event).filter(Event.kind == "step.bounce_delayed").one()
    with app.test_request_context():
        text = event_text(event, "moneybird").unescape()
    assert text == ("Stap 'Herinnering': e-mail nog niet afgeleverd (mailbox vol); de server "
                    "van de ontvanger probeert het opnieuw")


def test_an_address_refused_while_sending_reads_as_a_reason_too(bounce_world):  # noqa: F811
    world, mail, _listener, _letters = bounce_world
    inv = world.invoice(world.consumer, "150.00", date(2026, 2, 15))
    world.day(date(2026, 3, 2), hour=9)  # preview: synced and planned, nothing sent
    with world.services.db.session() as db:
        address = db.scalars(select(Delivery).where(Delivery.channel == "stamp")
                             ).one().debtor.email
    mail.refuse_recipient(address)  # the relay checks the address: "550 5.1.1" at RCPT
    world.live()
    world.day(date(2026, 3, 2))
    with world.services.db.session() as db:
        stamp = db.scalars(select(Delivery).where(Delivery.channel == "stamp")).one()
    assert stamp.state == "failed", stamp.state
    assert stamp.skip_reason == "e-mail geweigerd: adres bestaat niet (SMTP 550 5.1.1)"
    assert address not in stamp.skip_reason

    url = world.services.settings.public_url
    page_url = f"{url}/companies/{world.company_id}/invoices/{world.case(inv).invoice_id}"
    with time_machine.travel(at(date(2026, 3, 2), 11), tick=True):
        creditor, _page = oauth_connect(url, world.emulator.server.url,
                                        administrations=[world.adm])
        page = creditor.get(page_url).text
        company = creditor.get(f"{url}/companies/{world.company_id}").text
    assert "e-mail geweigerd: adres bestaat niet" in page
    assert "550" not in page and "SMTP" not in page
    assert "e-mail geweigerd: adres bestaat niet" in company and "5.1.1" not in company
    operator = _operator_session(world.services)
    assert "e-mail geweigerd: adres bestaat niet (SMTP 550 5.1.1)" in operator.get(page_url).text
