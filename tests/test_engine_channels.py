"""The engine with real transports on loopback: SMTP capture, the letter queue, Twilio."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from sqlalchemy import select

from connector.channels.print_queue import letters_waiting
from connector.channels.smtp_capture import CaptureSmtpServer
from connector.channels.twilio_emulator import TwilioEmulator
from connector.collection.posting import letter_store
from connector.models import Delivery, Event
from tests.test_engine import World


@pytest.fixture
def wired(make_services, make_moneybird_emulator, tmp_path):
    mail = CaptureSmtpServer()
    mail.start()
    twilio = TwilioEmulator()
    twilio_server = twilio.serve()
    emulator = make_moneybird_emulator(administrations=1, contacts=6, invoices=0)
    services = make_services(
        emulator, smtp_url=f"smtp://127.0.0.1:{mail.port}", letter_dir=str(tmp_path / "letters"),
        twilio_account_sid=twilio.account_sid, twilio_auth_token=twilio.auth_token,
        twilio_from="+3197010000000", twilio_whatsapp_from="+3197010000001",
        twilio_whatsapp_content_sid="HX" + "a" * 32, twilio_base_url=twilio_server.url)
    world = World(services, emulator)
    yield world, mail, twilio, tmp_path / "letters"
    twilio_server.shutdown()
    mail.stop()


def test_consumer_gets_stamp_letter_and_sms_for_real_once_each(wired):
    world, mail, twilio, _letter_dir = wired
    world.emulator.update_contact(world.adm, world.consumer, phone="06 12345678",
                                  email="klant@voorbeeld.example")
    inv = world.invoice(world.consumer, "242.00", date(2026, 2, 15))
    world.live()
    for offset in range(0, 13):
        world.day(date(2026, 3, 2) + timedelta(days=offset))

    subjects = [m["Subject"] for m in mail.messages]
    assert subjects.count("Laatste herinnering") == 1  # the stamp
    letter_mails = [m for m in mail.messages if m["Subject"] != "Laatste herinnering"]
    assert len(letter_mails) == 1
    assert [p.get_filename() for p in letter_mails[0].iter_attachments()] == ["brief.pdf"]
    assert "Bakkerij Zoet B.V." in mail.messages[0]["From"]
    assert "<debiteuren@zoet.example>" in mail.messages[0]["Reply-To"]
    assert [q.delivery_id for q in letters_waiting(letter_store(world.services),
                                                   date(2026, 3, 9))]
    from connector.filestore import PRINT_FILE, DbFileStore
    from connector.periodic import daily_print_file

    print_file = daily_print_file(world.services, date(2026, 3, 9))
    assert print_file is not None
    assert DbFileStore(world.services.db).get(PRINT_FILE, print_file).startswith(b"%PDF")
    assert len(twilio.messages) == 1 and twilio.messages[0]["to"] == "+31612345678"
    with world.services.db.session() as db:
        refs = [d.channel_ref for d in db.scalars(select(Delivery).where(
            Delivery.state == "sent").order_by(Delivery.sent_at))]
    assert refs[0] == mail.messages[0]["Message-ID"] and refs[1].startswith("letter:")
    assert refs[2].startswith("SM")
    notes = world.notes(inv)
    assert sum("verstuurd per" in n for n in notes) == 3


def test_no_mobile_number_skips_the_sms_step_with_a_reason(wired):
    world, _mail, twilio, _ = wired
    world.emulator.update_contact(world.adm, world.consumer, phone="030 1234567",
                                  email="klant@voorbeeld.example")
    world.invoice(world.consumer, "120.00", date(2026, 2, 15))
    world.live()
    for offset in range(0, 17):
        world.day(date(2026, 3, 2) + timedelta(days=offset))
    assert twilio.messages == []
    with world.services.db.session() as db:
        skipped = db.scalars(select(Event).where(Event.kind == "step.skipped")).all()
        channels = [d.channel for d in db.scalars(select(Delivery).where(
            Delivery.state == "sent").order_by(Delivery.sent_at))]
    assert any("overgeslagen" in e.message for e in skipped)
    assert channels == ["stamp", "letter"]
    with world.services.db.session() as db:
        call = db.scalars(select(Delivery).where(Delivery.channel == "call")).one()
    assert call.state == "calling"  # the case moved on past the SMS to the call list


def test_no_email_address_sends_the_stamp_by_post(wired):
    world, mail, _, _letter_dir = wired
    world.emulator.update_contact(world.adm, world.consumer, email="",
                                  send_invoices_to_email="", phone="06 12345678")
    inv = world.invoice(world.consumer, "150.00", date(2026, 2, 15))
    world.live()
    world.day(date(2026, 3, 2))
    assert mail.messages == []
    assert len(letters_waiting(letter_store(world.services), date(2026, 3, 2))) == 1
    with world.services.db.session() as db:
        assert db.scalars(select(Event).where(Event.kind == "step.fallback")).one()
    assert any("verstuurd per post;" in n for n in world.notes(inv))


def test_twilio_status_callbacks_are_verified(wired):
    import requests

    from tests.helpers import wait_until

    world, _, twilio, _ = wired
    world.emulator.update_contact(world.adm, world.consumer, phone="06 12345678",
                                  email="klant@voorbeeld.example")
    world.invoice(world.consumer, "99.00", date(2026, 2, 15))
    world.live()
    for offset in range(0, 13):
        world.day(date(2026, 3, 2) + timedelta(days=offset))

    def reported() -> str | None:
        with world.services.db.session() as db:
            sms = db.scalars(select(Delivery).where(Delivery.channel == "sms")).one()
            return (sms.content or {}).get("delivery_status")

    assert wait_until(lambda: reported() == "delivered", timeout=10)
    assert twilio.callbacks and all(c["answer"] == 200 for c in twilio.callbacks)
    forged = requests.post(f"{world.services.settings.public_url}/webhooks/twilio/status",
                           data={"MessageSid": "SMx", "MessageStatus": "failed"},
                           headers={"X-Twilio-Signature": "bm90IHJlYWw="}, timeout=5)
    assert forged.status_code == 401


def test_smtp_failing_mid_way_is_retried_without_a_duplicate(wired):
    world, mail, _twilio, _ = wired
    world.emulator.update_contact(world.adm, world.consumer, email="klant@voorbeeld.example")
    inv = world.invoice(world.consumer, "120.00", date(2026, 2, 15))
    world.live()
    mail.defer_recipients(1)  # the server fails before it takes the message
    world.day(date(2026, 3, 2), hour=10)
    assert mail.messages == []
    with world.services.db.session() as db:
        stamp = db.scalars(select(Delivery).where(Delivery.channel == "stamp")).one()
        assert stamp.state == "planned" and stamp.content["temporary_failures"] == 1
        assert db.scalars(select(Event).where(Event.kind == "step.retry")).one()
    world.day(date(2026, 3, 2), hour=11, sync=False)  # the next run: the server is back
    mail.drop_after_data(1)  # and nothing else may make it send twice
    for hour in (12, 13):
        world.day(date(2026, 3, 2), hour=hour, sync=False)
    assert [m["Subject"] for m in mail.messages] == ["Laatste herinnering"]
    with world.services.db.session() as db:
        assert db.get(Delivery, stamp.id).state == "sent"
    assert sum("incassostempel" in n.lower() for n in world.notes(inv)) == 1


def test_smtp_down_for_good_fails_the_step_after_five_tries(wired):
    world, mail, _twilio, _ = wired
    world.emulator.update_contact(world.adm, world.consumer, email="klant@voorbeeld.example")
    world.invoice(world.consumer, "120.00", date(2026, 2, 15))
    world.live()
    mail.defer_recipients(10)
    for hour in range(9, 16):  # five tries, then it waits for an operator
        world.day(date(2026, 3, 2), hour=hour, sync=hour == 9)
    assert mail.messages == []
    with world.services.db.session() as db:
        stamp = db.scalars(select(Delivery).where(Delivery.channel == "stamp")).one()
        assert stamp.state == "failed" and "451" in stamp.skip_reason
        assert len(db.scalars(select(Event).where(Event.kind == "step.retry")).all()) == 4
