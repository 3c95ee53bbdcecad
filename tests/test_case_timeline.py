"""Each case as a timeline (#16): every sent message can be opened from the case, and only by
the company it belongs to."""

from __future__ import annotations

import io
import re
from datetime import date, timedelta

from pypdf import PdfReader
from sqlalchemy import select

from connector.models import Company, Debtor, Delivery
from tests.helpers import oauth_connect
from tests.test_engine_channels import wired  # noqa: F401  (fixture)
from tests.test_web import _operator_session

MONDAY = date(2026, 3, 2)


def test_sent_letter_and_email_open_from_the_case_and_only_for_their_company(
        wired):  # noqa: F811
    world, _mail, _twilio, _letters = wired
    world.emulator.update_contact(world.adm, world.consumer, phone="06 12345678",
                                  email="klant@voorbeeld.example")
    inv = world.invoice(world.consumer, "242.00", date(2026, 2, 15))
    world.live()
    for offset in range(0, 8):  # the stamp on 2 March, the Profitletter on Monday 9 March
        world.day(MONDAY + timedelta(days=offset))
    case = world.case(inv)
    url = world.services.settings.public_url
    base = f"{url}/companies/{world.company_id}"
    with world.services.db.session() as db:
        sent = {d.channel: d.id for d in db.scalars(select(Delivery).where(
            Delivery.company_id == world.company_id, Delivery.state == "sent"))}
    assert {"letter", "stamp"} <= set(sent)

    browser = _operator_session(world.services)
    page = browser.get(f"{base}/invoices/{case.invoice_id}").text
    links = set(re.findall(r'href="(/companies/[^"]+/message)"', page))
    assert {f"/companies/{world.company_id}/deliveries/{sent[c]}/message"
            for c in ("letter", "stamp")} <= links
    letter = browser.get(f"{base}/deliveries/{sent['letter']}/message")
    assert letter.headers["Content-Type"] == "application/pdf"
    assert len(PdfReader(io.BytesIO(letter.content)).pages) >= 1
    stamp = browser.get(f"{base}/deliveries/{sent['stamp']}/message")
    assert stamp.status_code == 200 and "Laatste herinnering" in stamp.text

    # Another company's message: its own creditor and an operator see it, this creditor never.
    with world.services.db.session() as db:
        other = Company(name="Ander B.V.", provider="moneybird")
        db.add(other)
        db.flush()
        debtor = Debtor(company_id=other.id, external_id="1", kind="business", name="Klant")
        db.add(debtor)
        db.flush()
        foreign = Delivery(company_id=other.id, debtor_id=debtor.id, step=1,
                           step_name="Herinnering", channel="email", template="reminder",
                           due_on=MONDAY, state="sent", content={"subject": "Herinnering",
                                                                 "body": "alleen voor Ander"})
        db.add(foreign)
        db.flush()
        other_id, foreign_id = other.id, foreign.id
    assert "alleen voor Ander" in browser.get(
        f"{url}/companies/{other_id}/deliveries/{foreign_id}/message").text
    creditor, _page = oauth_connect(url, world.emulator.server.url, administrations=[world.adm])
    assert creditor.get(f"{base}/deliveries/{sent['letter']}/message").status_code == 200
    for company in (world.company_id, other_id):
        refused = creditor.get(f"{url}/companies/{company}/deliveries/{foreign_id}/message")
        assert refused.status_code == 404 and "alleen voor Ander" not in refused.text
    planned = browser.get(f"{base}/deliveries/no-such-id/message")
    assert planned.status_code == 404
