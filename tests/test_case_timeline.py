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


def test_the_next_letter_can_be_viewed_before_it_goes_out(wired):  # noqa: F811
    world, _mail, _twilio, _letters = wired
    world.emulator.update_contact(world.adm, world.consumer, phone="06 12345678",
                                  email="klant@voorbeeld.example")
    inv = world.invoice(world.consumer, "242.00", date(2026, 2, 15))
    world.live()
    for offset in range(0, 6):  # the stamp went out on 2 March; the Profitletter is planned
        world.day(MONDAY + timedelta(days=offset))
    case = world.case(inv)
    with world.services.db.session() as db:
        planned = db.scalars(select(Delivery).where(
            Delivery.company_id == world.company_id, Delivery.state == "planned")).one()
    assert planned.template.startswith("profitletter")
    url = world.services.settings.public_url
    base = f"{url}/companies/{world.company_id}"
    browser = _operator_session(world.services)
    page = browser.get(f"{base}/invoices/{case.invoice_id}").text
    link = f"/companies/{world.company_id}/cases/{case.id}/next-letter.pdf"
    assert f'href="{link}">bekijk brief' in page
    # the timeline: the planned letter with its date and the partner's fee
    row = re.search(r'<tr>\s*<td>Profitletter <span class="muted">\(Profitletter \(post en '
                    r'e-mail\)\)</span></td>(.*?)</tr>', page, re.S)
    assert row and "<td>9 mrt 2026</td>" in row.group(1)
    assert '<td class="num">€\xa014,95</td>' in row.group(1)
    pdf = browser.get(f"{url}{link}")
    assert pdf.headers["Content-Type"] == "application/pdf"
    text = "".join(p.extract_text() for p in PdfReader(io.BytesIO(pdf.content)).pages)
    number = inv_number(world, inv)
    assert number and number in text  # the letter for this case's invoice
    with world.services.db.session() as db:  # still planned: nothing went out
        assert db.get(Delivery, planned.id).state == "planned"


def inv_number(world, invoice_id: str) -> str | None:
    from connector.models import Invoice

    with world.services.db.session() as db:
        return db.get(Invoice, world.case(invoice_id).invoice_id).number
