"""The stamp step on the ledger's own invoice PDF, and through Moneybird's own reminder."""

from __future__ import annotations

import io
import re
from datetime import date, timedelta
from email.utils import parseaddr

import pypdfium2 as pdfium
import pytest
import zxingcpp
from pypdf import PdfReader
from sqlalchemy import select

from connector.channels.documents import PartnerIdentity
from connector.channels.smtp_capture import CaptureSmtpServer
from connector.channels.stamp import StampFailed, stamp_invoice_pdf
from connector.collection.cases import settings_for
from connector.collection.stamp_step import fetch_invoice_pdfs
from connector.debtor_page import links
from connector.models import Delivery, Event
from providers.exact_online.provider import ExactOnlineProvider
from providers.moneybird.emulator import simple_pdf
from tests.helpers import csrf_token
from tests.test_engine import World

DEBTOR = "klant@voorbeeld.example"
LINK = re.compile(r"https?://[A-Za-z0-9.:\-]+/b/[A-Za-z0-9_-]{22}")


def compact(text: str) -> str:
    return "".join(text.split())


def page_texts(pdf: bytes) -> list[str]:
    return [p.extract_text() for p in PdfReader(io.BytesIO(pdf)).pages]


def qr_codes(pdf: bytes) -> list[str]:
    """What the QR codes on the first page say, read from the page as rendered."""
    document = pdfium.PdfDocument(pdf)
    try:
        return [b.text for b in zxingcpp.read_barcodes(document[0].render(scale=3).to_pil())]
    finally:
        document.close()


def printed_link(pdf: bytes) -> str:
    """The short URL printed on the stamp (it may wrap inside the box)."""
    [url] = LINK.findall(compact(page_texts(pdf)[0]))
    return url


def delivery_url(world: World, delivery_id: str) -> str:
    """The link of a delivery as the letter and the message print it."""
    settings = world.services.settings
    with world.services.db.session() as db:
        return links.url_for_delivery(db, db.get(Delivery, delivery_id), settings.public_url,
                                      settings.secret_key)


@pytest.fixture
def stamp_world(make_services, make_moneybird_emulator, tmp_path):
    mail = CaptureSmtpServer().start()
    emulator = make_moneybird_emulator(administrations=1, contacts=6, invoices=0)
    services = make_services(emulator, smtp_url=mail.url, letter_dir=str(tmp_path / "letters"))
    world = World(services, emulator)
    world.emulator.update_contact(world.adm, world.consumer, email=DEBTOR, phone="06 12345678")
    yield world, mail
    mail.stop()


def _deliveries(world: World) -> list[Delivery]:
    with world.services.db.session() as db:
        return list(db.scalars(select(Delivery).order_by(Delivery.created_at)))


def _events(world: World, kind: str) -> list[Event]:
    with world.services.db.session() as db:
        return list(db.scalars(select(Event).where(Event.kind == kind)))


def test_moneybird_invoice_pdfs_are_stamped_and_mailed(stamp_world):
    world, mail = stamp_world
    first = world.invoice(world.consumer, "150.00", date(2026, 2, 15))
    second = world.invoice(world.consumer, "80.00", date(2026, 2, 15))
    world.live()
    world.day(date(2026, 3, 2))
    assert len(mail.messages) == 1
    attachments = list(mail.messages[0].iter_attachments())
    numbers = [world.emulator.invoice(world.adm, x)["invoice_id"] for x in (first, second)]
    assert sorted(a.get_filename() for a in attachments) == sorted(
        f"factuur-{n}.pdf" for n in numbers)
    for attachment in attachments:
        pdf = attachment.get_content()
        first_page = compact(page_texts(pdf)[0])
        assert "LAATSTEHERINNERING" in first_page
        assert "Laatstekans:hierna overdracht aan".replace(" ", "") in first_page
        assert "2maart2026" in first_page  # the stamp's date
        number = attachment.get_filename().removeprefix("factuur-").removesuffix(".pdf")
        assert f"FACTUUR{number}" in first_page and "Openstaand:EUR" in first_page
    # Every stamped invoice carries the debtor's page of this delivery: its short URL as text
    # and a QR code of that same URL, the link the mail's text gives and a letter would print.
    [delivery] = _deliveries(world)
    url = delivery_url(world, delivery.id)
    assert url in mail.messages[0].get_body(("plain",)).get_content()
    for attachment in attachments:
        pdf = attachment.get_content()
        assert printed_link(pdf) == url
        assert qr_codes(pdf) == [url]
    # The storage host never saw our bearer token.
    assert len(world.emulator.storage_requests) == 2
    assert all(r["authorization"] is None for r in world.emulator.storage_requests)
    assert _events(world, "step.stamp_own_page") == []
    assert [d.state for d in _deliveries(world)] == ["sent"]


@pytest.mark.parametrize("fault", ["server_error", "not_a_pdf"])
def test_pdf_failure_sends_our_own_page_and_records_it(stamp_world, fault):
    world, mail = stamp_world
    world.invoice(world.consumer, "150.00", date(2026, 2, 15))
    world.live()
    if fault == "server_error":
        world.emulator.inject_error("GET", "download_pdf", 500, times=5)
    else:
        world.emulator.pdf_override = b"<html>this is no PDF</html>"
    world.day(date(2026, 3, 2))
    assert len(mail.messages) == 1
    names = [a.get_filename() for a in mail.messages[0].iter_attachments()]
    assert names == ["laatste-herinnering.pdf"]
    events = _events(world, "step.stamp_own_page")
    assert len(events) == 1 and "niet opgehaald" in events[0].message
    assert DEBTOR not in events[0].message
    assert [d.state for d in _deliveries(world)] == ["sent"]  # never failed, never twice
    for offset in range(1, 4):
        world.day(date(2026, 3, 2) + timedelta(days=offset))
    assert sum(m["Subject"] == "Laatste herinnering" for m in mail.messages) == 1


def test_a_pdf_that_cannot_be_stamped_falls_back_in_the_channel(stamp_world):
    world, mail = stamp_world
    world.invoice(world.consumer, "150.00", date(2026, 2, 15))
    world.live()
    world.emulator.pdf_override = b"%PDF-1.4\nthis is broken beyond repair\n"
    world.day(date(2026, 3, 2))
    names = [a.get_filename() for a in mail.messages[0].iter_attachments()]
    assert names == ["laatste-herinnering.pdf"]
    events = _events(world, "step.stamp_own_page")
    assert len(events) == 1 and "eigen herinnering" in events[0].message


def test_each_mail_stamps_its_invoices_with_its_own_deliverys_link(stamp_world):
    """Two debtors, two stamp mails: the invoices in each carry that mail's link only."""
    world, mail = stamp_world
    world.invoice(world.consumer, "150.00", date(2026, 2, 15))
    world.invoice(world.consumer, "80.00", date(2026, 2, 15))
    world.invoice(world.business, "999.00", date(2026, 2, 15))
    world.live()
    world.day(date(2026, 3, 2))
    deliveries = _deliveries(world)
    assert len(deliveries) == len(mail.messages) == 2
    with world.services.db.session() as db:
        by_address = {}
        for d in deliveries:
            delivery = db.get(Delivery, d.id)
            by_address[delivery.debtor.email] = (d.id, len(delivery.cases))
    assert sorted(n for _, n in by_address.values()) == [1, 2]
    seen = set()
    for message in mail.messages:
        delivery_id, invoices = by_address[parseaddr(message["To"])[1]]
        url = delivery_url(world, delivery_id)
        assert url in message.get_body(("plain",)).get_content()
        pdfs = [a.get_content() for a in message.iter_attachments()]
        assert len(pdfs) == invoices
        for pdf in pdfs:
            assert printed_link(pdf) == url and qr_codes(pdf) == [url]
        seen.add(url)
    assert len(seen) == 2


def test_stamp_overlay_prints_only_a_plain_link() -> None:
    partner = PartnerIdentity(name="Incassopartner")
    original = simple_pdf(["FACTUUR 2026-0042", "Openstaand: EUR 99.00"])
    url = "https://incasso.partner.example/b/mKbA8TgA1IjBvj76czJq7g"
    stamped = stamp_invoice_pdf(original, partner, day=date(2026, 3, 2), response_url=url)
    text = compact(page_texts(stamped)[0])
    assert "Betalenofreageren:" in text and url in text and "FACTUUR2026-0042" in text
    assert qr_codes(stamped) == [url]
    # no link (or anything but a plain http(s) link): the stamp as it was, no code
    for given in ("", "javascript:alert(1)", 'https://x.example/b/"><script>'):
        plain = stamp_invoice_pdf(original, partner, day=date(2026, 3, 2), response_url=given)
        text = compact(page_texts(plain)[0])
        assert "LAATSTEHERINNERING" in text and "reageren" not in text and "script" not in text
        assert qr_codes(plain) == []


def test_stamp_overlay_keeps_the_invoice_and_refuses_garbage() -> None:
    partner = PartnerIdentity(name="Incassopartner")
    original = simple_pdf(["FACTUUR 2026-0042", "Openstaand: EUR 99.00"])
    stamped = stamp_invoice_pdf(original, partner, lang="en", day=date(2026, 3, 2))
    text = compact(page_texts(stamped)[0])
    assert "FINALREMINDER" in text and "Incassopartner" in text and "FACTUUR2026-0042" in text
    with pytest.raises(StampFailed):
        stamp_invoice_pdf(b"not a pdf", partner, day=date(2026, 3, 2))


def test_message_repr_stays_free_of_debtor_data() -> None:
    from dataclasses import replace

    from connector.channels.base import InvoicePdf
    from tests.test_channels import message

    msg = replace(message("stamp"), invoice_pdfs=(InvoicePdf("F2026-0001", b"%PDF-1.4 x"),))
    assert "F2026" not in repr(msg) and "Jan" not in repr(msg) and "%PDF" not in repr(msg)


def test_exact_online_has_no_invoice_pdf_so_our_page_goes() -> None:
    provider = ExactOnlineProvider("id", "secret", "hook", base_url="http://127.0.0.1:9")
    ledger = provider.ledger("123", tokens=None)  # type: ignore[arg-type]
    assert ledger.invoice_pdf("x") is None  # no HTTP call at all
    assert fetch_invoice_pdfs(ledger, {"case": "x"}) == ({}, None)


# -- Moneybird's own reminder ------------------------------------------------------------


def _via_moneybird(world: World) -> None:
    with world.services.db.session() as db:
        settings_for(db, world.company_id).stamp_via_ledger = True


def test_stamp_via_moneybird_send_reminders(stamp_world):
    world, mail = stamp_world
    inv = world.invoice(world.consumer, "150.00", date(2026, 2, 15))
    world.live()
    _via_moneybird(world)
    for offset in range(0, 3):
        world.day(date(2026, 3, 2) + timedelta(days=offset))
    assert mail.messages == []  # not our e-mail
    assert len(world.emulator.reminders) == 1
    sent = world.emulator.reminders[0]
    assert sent["sales_invoice_ids"] == [inv] and sent["delivery_method"] == "Email"
    assert "LAATSTE HERINNERING" in sent["reminder_text"]
    assert "Incassopartner" in sent["reminder_text"]
    stamp = _deliveries(world)[0]
    assert stamp.state == "sent" and stamp.channel_ref == f"moneybird-reminder:{inv}"
    assert world.emulator.invoice(world.adm, inv)["reminder_count"] >= 1
    assert world.emulator.count_calls(method="GET", path_contains="download_pdf") == 0


def test_a_lost_send_reminders_answer_is_ambiguous_and_never_resent(stamp_world):
    world, mail = stamp_world
    world.invoice(world.consumer, "150.00", date(2026, 2, 15))
    world.live()
    _via_moneybird(world)
    world.emulator.inject_lost_answer("POST", "send_reminders")  # sent, the answer lost
    world.day(date(2026, 3, 2))
    assert len(world.emulator.reminders) == 1  # it did go out
    assert [d.state for d in _deliveries(world)] == ["ambiguous"]
    for offset in range(1, 4):
        world.day(date(2026, 3, 2) + timedelta(days=offset))
    assert len(world.emulator.reminders) == 1 and mail.messages == []
    assert _events(world, "step.ambiguous")


def test_a_refused_send_reminders_is_rejected(stamp_world):
    world, _mail = stamp_world
    world.invoice(world.consumer, "150.00", date(2026, 2, 15))
    world.live()
    _via_moneybird(world)
    world.emulator.inject_error("POST", "send_reminders", 422, body={
        "error": {"sales_invoice_ids": ["can't be reminded"]},
        "details": {"sales_invoice_ids": [{"error": "invalid"}]}})
    world.day(date(2026, 3, 2))
    stamp = _deliveries(world)[0]
    assert stamp.state == "failed" and "geweigerd" in stamp.skip_reason
    assert world.emulator.reminders == []


def test_settings_checkbox_only_for_moneybird(services, moneybird_emulator):
    from tests.helpers import connect_direct
    from tests.test_web import _operator_session

    company_id = connect_direct(services, moneybird_emulator)
    browser = _operator_session(services)
    url = f"{services.settings.public_url}/companies/{company_id}"
    page = browser.get(url).text
    assert 'id="stamp-via-ledger"' in page
    refused = browser.post(f"{url}/collection/stamp-via-ledger", data={"stamp_via_ledger": "y"})
    assert refused.status_code == 400  # no CSRF token
    with services.db.session() as db:
        assert settings_for(db, company_id).stamp_via_ledger is False
    done = browser.post(f"{url}/collection/stamp-via-ledger",
                        data={"csrf_token": csrf_token(page), "stamp_via_ledger": "y"})
    assert "Opgeslagen" in done.text
    with services.db.session() as db:
        assert settings_for(db, company_id).stamp_via_ledger is True
    browser.post(f"{url}/collection/stamp-via-ledger", data={"csrf_token": csrf_token(page)})
    with services.db.session() as db:
        assert settings_for(db, company_id).stamp_via_ledger is False
    # Another platform: no checkbox, and the setting cannot be switched on.
    from connector.models import Company

    with services.db.session() as db:
        db.get(Company, company_id).provider = "exact_online"
    page = browser.get(url).text
    assert 'id="stamp-via-ledger"' not in page
    refused = browser.post(f"{url}/collection/stamp-via-ledger",
                           data={"csrf_token": csrf_token(page), "stamp_via_ledger": "y"})
    assert "niet worden opgeslagen" in refused.text
    with services.db.session() as db:
        assert settings_for(db, company_id).stamp_via_ledger is False
