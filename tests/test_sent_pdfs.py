"""The stamped PDF as it went out is kept, and the creditor opens it from the case (#16)."""

from __future__ import annotations

import io
import re
from datetime import date

from pypdf import PdfReader
from sqlalchemy import select

from connector.channels.sent_pdfs import SentPdfStore, listed
from connector.filestore import SENT_PDF, DbFileStore
from connector.models import Company, Debtor, Delivery
from tests.helpers import oauth_connect
from tests.test_engine_channels import wired  # noqa: F401  (fixture)
from tests.test_web import _operator_session

MONDAY = date(2026, 3, 2)
DEBTOR = "klant@voorbeeld.example"


def compact(text: str) -> str:
    return "".join(text.split())


def _stamp_sent(world) -> Delivery:
    with world.services.db.session() as db:
        return db.scalars(select(Delivery).where(
            Delivery.company_id == world.company_id, Delivery.channel == "stamp",
            Delivery.state == "sent")).one()


def test_the_stamped_invoice_is_kept_as_sent_and_opens_from_the_case(wired):  # noqa: F811
    world, mail, _twilio, _letters = wired
    world.emulator.update_contact(world.adm, world.consumer, email=DEBTOR)
    inv = world.invoice(world.consumer, "242.00", date(2026, 2, 15))
    world.live()
    world.day(MONDAY)  # the stamp goes out
    stamp = _stamp_sent(world)
    [attachment] = list(mail.messages[0].iter_attachments())

    # Kept byte for byte as it went to the SMTP server, under the name the debtor saw.
    with world.services.db.session() as db:
        [kept] = listed(db, [stamp.id])[stamp.id]
    assert kept.filename == attachment.get_filename()
    assert SentPdfStore(world.services.db).get(stamp.id, 1).content == attachment.get_content()

    # The case timeline links it; it opens as a PDF with the stamp on the creditor's invoice.
    case = world.case(inv)
    url = world.services.settings.public_url
    base = f"{url}/companies/{world.company_id}"
    creditor, _page = oauth_connect(url, world.emulator.server.url, administrations=[world.adm])
    page = creditor.get(f"{base}/invoices/{case.invoice_id}").text
    link = f"/companies/{world.company_id}/deliveries/{stamp.id}/pdf/1"
    assert re.search(rf'href="{re.escape(link)}"[^>]*>{re.escape(kept.filename)}</a>', page)
    answer = creditor.get(f"{url}{link}")
    assert answer.status_code == 200
    assert answer.headers["Content-Type"] == "application/pdf"
    assert f'filename="{kept.filename}"' in answer.headers["Content-Disposition"]
    first_page = compact(PdfReader(io.BytesIO(answer.content)).pages[0].extract_text())
    assert "LAATSTEHERINNERING" in first_page and "2maart2026" in first_page
    # The sent e-mail's page lists it too.
    message = creditor.get(f"{base}/deliveries/{stamp.id}/message").text
    assert f'href="{link}"' in message

    # Nothing else: another number, another company's delivery, a planned step.
    assert creditor.get(f"{base}/deliveries/{stamp.id}/pdf/2").status_code == 404
    with world.services.db.session() as db:
        other = Company(name="Ander B.V.", provider="moneybird")
        db.add(other)
        db.flush()
        debtor = Debtor(company_id=other.id, external_id="1", kind="business", name="Klant")
        db.add(debtor)
        db.flush()
        foreign = Delivery(company_id=other.id, debtor_id=debtor.id, step=0,
                           step_name="Laatste herinnering", channel="stamp", template="stamp",
                           due_on=MONDAY, state="sent")
        planned = Delivery(company_id=world.company_id, debtor_id=stamp.debtor_id, step=1,
                           step_name="Profitletter", channel="letter", template="x",
                           due_on=MONDAY, state="planned")
        db.add_all([foreign, planned])
        db.flush()
        other_id, foreign_id, planned_id = other.id, foreign.id, planned.id
    store = SentPdfStore(world.services.db)
    store.keep(foreign_id, [("factuur-X.pdf", b"%PDF-1.4 of another company")])
    store.keep(planned_id, [("factuur-Y.pdf", b"%PDF-1.4 not sent")])
    for company in (world.company_id, other_id):
        refused = creditor.get(f"{url}/companies/{company}/deliveries/{foreign_id}/pdf/1")
        assert refused.status_code == 404 and b"another company" not in refused.content
    assert creditor.get(f"{base}/deliveries/{planned_id}/pdf/1").status_code == 404
    operator = _operator_session(world.services)
    assert operator.get(f"{url}/companies/{other_id}/deliveries/{foreign_id}/pdf/1"
                        ).content == b"%PDF-1.4 of another company"


def test_a_send_tried_again_keeps_only_what_went_out_last(services):
    store = SentPdfStore(services.db)
    delivery_id = "d" * 32
    store.keep(delivery_id, [("factuur-1.pdf", b"one"), ("factuur-2.pdf", b"two")])
    store.keep(delivery_id, [("laatste-herinnering.pdf", b"own page")])
    with services.db.session() as db:
        kept = listed(db, [delivery_id])[delivery_id]
    assert [(f.number, f.filename) for f in kept] == [(1, "laatste-herinnering.pdf")]
    assert store.get(delivery_id, 1).content == b"own page"
    assert [i.name for i in DbFileStore(services.db).list(SENT_PDF)] == [f"{delivery_id}/1.pdf"]


def test_a_failure_to_keep_the_pdf_never_stops_the_reminder(wired, monkeypatch):  # noqa: F811
    world, mail, _twilio, _letters = wired
    world.emulator.update_contact(world.adm, world.consumer, email=DEBTOR)
    world.invoice(world.consumer, "242.00", date(2026, 2, 15))
    world.live()

    def broken(*args, **kwargs):
        raise OSError("database away")

    monkeypatch.setattr(SentPdfStore, "keep", broken)
    world.day(MONDAY)
    assert _stamp_sent(world).state == "sent"
    assert len(mail.messages) == 1
