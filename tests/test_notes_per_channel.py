"""Every channel, for real on loopback: each delivery is written back as exactly one ledger note."""

from __future__ import annotations

from datetime import date

import pytest
import time_machine
from sqlalchemy import select

from connector.collection.calls import record_outcome
from connector.collection.cases import settings_for
from connector.collection.policy import Policy, Step, policy_to_json
from connector.models import Delivery
from tests.test_engine import at
from tests.test_engine_channels import wired  # noqa: F401  (fixture)

MONDAY = date(2026, 3, 2)
TEMPLATES = {"stamp": "stamp", "letter": "profitletter_consumer", "email": "email",
             "sms": "sms", "whatsapp": "whatsapp", "call": "call_script"}


@pytest.fixture
def everything(wired):  # noqa: F811
    """Every channel real on loopback (SMTP capture, letter store, Twilio emulator), and a
    consumer reachable on each."""
    world, mail, twilio, _letters = wired
    world.emulator.update_contact(world.adm, world.consumer, phone="06 12345678",
                                  email="klant@voorbeeld.example")
    return world, mail, twilio


@pytest.mark.parametrize("channel", list(TEMPLATES))
def test_each_delivery_is_one_ledger_note(everything, channel):
    world, mail, twilio = everything
    step = Step(f"Stap per {channel}", channel, 0, "start", TEMPLATES[channel])
    with world.services.db.session() as db:
        settings_for(db, world.company_id).policy = policy_to_json(
            Policy(consumer=(step,), business=(step,)))
    first = world.invoice(world.consumer, "120.00", date(2026, 2, 15))
    second = world.invoice(world.consumer, "80.00", date(2026, 2, 14))
    world.live()
    world.day(MONDAY)
    if channel == "call":
        with time_machine.travel(at(MONDAY, 11), tick=False):
            assert len(world.make_calls(MONDAY, "dispute")) == 1
    world.day(MONDAY, hour=12, sync=False)  # a second run adds nothing
    world.day(date(2026, 3, 3))
    with world.services.db.session() as db:
        [delivery] = db.scalars(select(Delivery)).all()
        assert delivery.state == "sent", delivery.skip_reason
        assert len(delivery.cases) == 2  # one message for both invoices of the debtor
    for invoice in (first, second):
        notes = [n for n in world.notes(invoice) if n.startswith("Pre-incasso")]
        assert len(notes) == 1, notes
    reached = {"stamp": len(mail.messages), "email": len(mail.messages),
               "letter": len(mail.messages), "sms": len(twilio.messages),
               "whatsapp": len(twilio.messages), "call": 1}
    assert reached[channel] == 1


def test_a_call_outcome_cannot_be_recorded_twice(everything):
    world, _mail, _twilio = everything
    step = Step("Bellen", "call", 0, "start", "call_script")
    with world.services.db.session() as db:
        settings_for(db, world.company_id).policy = policy_to_json(
            Policy(consumer=(step,), business=(step,)))
    world.invoice(world.consumer, "120.00", date(2026, 2, 15))
    world.live()
    world.day(MONDAY)
    with world.services.db.session() as db:
        [delivery] = db.scalars(select(Delivery)).all()
    record_outcome(world.services, delivery.id, "dispute", "operator:a")
    with pytest.raises(ValueError, match="al afgehandeld"):
        record_outcome(world.services, delivery.id, "no_answer", "operator:b")
