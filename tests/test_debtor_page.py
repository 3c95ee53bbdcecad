"""The debtor's page behind every message, for real on loopback: the link in the message, what
the page shows, paying (EPC QR, RF reference, the ledger's own payment page), the answers with
their holds, ledger notes and alerts, and the safety rules (neutral page, rate limits, CSRF,
escaping)."""

from __future__ import annotations

import io
import re
from datetime import date, timedelta
from decimal import Decimal

import pytest
import segno
import time_machine
import zxingcpp
from PIL import Image
from sqlalchemy import select

from connector.collection.cases import settings_for
from connector.collection.policy import Policy, Step, policy_to_json
from connector.debtor_page import limits, links
from connector.debtor_page.payment import (
    PaymentBox,
    epc_qr,
    find_reference,
    invoice_for_reference,
    rf_reference,
)
from connector.formatting import money
from connector.models import (
    Case,
    DebtorLink,
    DebtorResponse,
    Delivery,
    Event,
    Hold,
    Invoice,
    LedgerWrite,
)
from tests.helpers import csrf_token
from tests.test_engine import IBAN, at
from tests.test_engine_channels import wired  # noqa: F401  (fixture)

MONDAY = date(2026, 3, 2)
LINK = re.compile(r"http://127\.0\.0\.1:\d+/b/[A-Za-z0-9_-]{22}")
SCRIPT = '<script>alert("x")</script> & <b>vet</b>'


def _policy(*steps: Step) -> dict:
    return policy_to_json(Policy(consumer=steps, business=steps))


@pytest.fixture
def site(wired, live_server):  # noqa: F811
    """A consumer with two open invoices who got the stamp e-mail on Monday; an SMS is due on
    Tuesday."""
    world, mail, twilio, _letters = wired
    world.emulator.update_contact(world.adm, world.consumer, phone="06 12345678",
                                  email="klant@voorbeeld.example")
    with world.services.db.session() as db:
        settings_for(db, world.company_id).policy = _policy(
            Step("Laatste herinnering", "stamp", 0, "start", "stamp"),
            Step("Sms", "sms", 1, "previous", "sms"))
    world.first = world.invoice(world.consumer, "120.00", date(2026, 2, 15))
    world.second = world.invoice(world.consumer, "80.50", date(2026, 2, 14))
    world.live()
    world.day(MONDAY)
    world.mail, world.twilio = mail, twilio
    world.client = live_server.app.test_client()
    world.app = live_server.app
    return world


def _link(text: str) -> str:
    match = LINK.search(text)
    assert match, text
    return match.group(0)


def _path(url: str) -> str:
    """The path (and query) of a link, for the in-process test client."""
    return "/" + url.split("://", 1)[1].split("/", 1)[1] if "://" in url else url


def _get(world, url: str, **kw):
    with time_machine.travel(at(MONDAY, 14), tick=False):
        return world.client.get(_path(url), **kw)


def _post(world, url: str, kind: str, data: dict, page: str | None = None):
    with time_machine.travel(at(MONDAY, 14), tick=False):
        page = page or world.client.get(_path(url)).get_data(as_text=True)
        return world.client.post(_path(url) + f"/{kind}",
                                 data={"csrf_token": csrf_token(page), **data})


def _mail_link(world) -> str:
    [message] = [m for m in world.mail.messages if m["Subject"] == "Laatste herinnering"]
    return _link(message.get_body(("plain",)).get_content())


# -- the link and the page -------------------------------------------------------------------


def test_the_message_carries_a_link_to_a_page_that_shows_what_it_showed(site):
    url = _mail_link(site)
    page = _get(site, url)
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert '<html lang="nl">' in html
    for text in ("Bakkerij Zoet B.V.", "Incassopartner", money(Decimal("120")),
                 money(Decimal("80.50")),
                 "Is dit echt?", "Ik heb al betaald", "Bel mij terug"):
        assert text in html, text
    with site.services.db.session() as db:
        [link] = db.scalars(select(DebtorLink)).all()
        token = url.rsplit("/", 1)[1]
        assert token not in link.token_hash and len(link.token_hash) == 64  # only the hash
        assert link.last_seen_at is not None  # when the debtor opened it
        numbers = [i.number for i in db.scalars(select(Invoice))]
    for number in numbers:
        assert number in html
    english = _get(site, url + "?lang=en").get_data(as_text=True)
    assert '<html lang="en">' in english and "I have already paid" in english
    assert page.headers["Cache-Control"] == "no-store"


def test_the_epc_qr_code_decodes_to_iban_name_amount_and_reference(site):
    html = _get(site, _mail_link(site)).get_data(as_text=True)
    with site.services.db.session() as db:
        invoices = {i.number: i for i in db.scalars(select(Invoice))}
        for number, invoice in invoices.items():
            reference = rf_reference(invoice)
            assert invoice_for_reference(db, site.company_id, reference).id == invoice.id
            line = f"betaling {reference[:4].lower()} {reference[4:]} dank u"
            assert find_reference(line) == reference
            assert invoice_for_reference(db, site.company_id, line).id == invoice.id
            box = PaymentBox(invoice.open_amount, "Bakkerij Zoet B.V.", IBAN, reference, number)
            image = io.BytesIO()
            epc_qr(box).save(image, kind="png", scale=5)
            [decoded] = zxingcpp.read_barcodes(Image.open(io.BytesIO(image.getvalue())))
            lines = decoded.text.split("\n")
            assert lines[:4] == ["BCD", "002", "1", "SCT"]
            assert lines[5:8] == ["Bakkerij Zoet B.V.", IBAN, f"EUR{invoice.open_amount:.2f}"
                                  .rstrip("0").rstrip(".")]
            assert lines[9] == reference
            grouped = " ".join(reference[i:i + 4] for i in range(0, len(reference), 4))
            assert grouped in html  # the same reference in the payment box
    # the page's own QR images decode the same way (segno writes them as inline SVG)
    assert html.count('class="qr"') == 2
    assert segno.make("x")  # segno is the QR writer the page uses


def test_unknown_expired_and_unsent_tokens_get_the_same_neutral_page(site):
    url = _mail_link(site)
    unknown = _get(site, url[:-4] + "abcd")
    garbage = _get(site, url.rsplit("/", 1)[0] + "/<script>")
    assert unknown.status_code == garbage.status_code == 404
    neutral = unknown.get_data(as_text=True)
    assert "Bakkerij" not in neutral and "€" not in neutral
    # every invoice paid and the case closed more than six weeks ago: the link has expired
    with site.services.db.session() as db:
        for case in db.scalars(select(Case)):
            case.state, case.closed_at = "closed", at(MONDAY) - timedelta(weeks=7)
    assert _get(site, url).get_data(as_text=True) == neutral
    assert _get(site, url).status_code == 404


def test_a_token_opens_only_its_own_delivery(site):
    """Another debtor's message has its own link; neither page shows the other's invoices."""
    site.emulator.update_contact(site.adm, site.business, email="zaak@voorbeeld.example")
    other = site.invoice(site.business, "999.00", date(2026, 2, 15))
    site.day(MONDAY, hour=15)
    links = [_link(m.get_body(("plain",)).get_content()) for m in site.mail.messages]
    assert len(set(links)) == 2
    with site.services.db.session() as db:
        other_number = db.scalars(select(Invoice.number).where(Invoice.external_id == other)).one()
    mine = _get(site, links[0]).get_data(as_text=True)
    theirs = _get(site, links[1]).get_data(as_text=True)
    assert other_number not in mine and money(Decimal("999")) not in mine
    assert other_number in theirs and money(Decimal("120")) not in theirs
    # an answer posted with one link acts on that link's delivery only
    _post(site, links[1], "dispute", {"reason": "niet besteld"}, page=theirs)
    with site.services.db.session() as db:
        [hold] = db.scalars(select(Hold)).all()
        assert db.get(Case, hold.case_id).invoice.external_id == other


def _recorded(world) -> dict[str, object]:
    """Everything an answer leaves behind: responses, holds, ledger writes, timeline, states."""
    with world.services.db.session() as db:
        return {
            "responses": db.scalars(select(DebtorResponse.id)).all(),
            "holds": db.scalars(select(Hold.id)).all(),
            "writes": sorted(db.scalars(select(LedgerWrite.id)).all()),
            "events": db.scalars(select(Event.id).where(Event.kind.like("debtor.%"))).all(),
            "cases": sorted((c.id, c.state) for c in db.scalars(select(Case))),
        }


def test_a_token_bound_to_another_debtors_delivery_gets_the_neutral_page(site):
    """A token bound to debtor B presented for debtor A's message (its link row names another
    debtor than its delivery's): no page, no answer, nothing recorded, the same neutral page
    as a token that never existed, and counted as a miss."""
    site.emulator.update_contact(site.adm, site.business, email="zaak@voorbeeld.example")
    site.invoice(site.business, "999.00", date(2026, 2, 15))
    site.day(MONDAY, hour=15)
    url_a, url_b = (_link(m.get_body(("plain",)).get_content()) for m in site.mail.messages)
    with site.services.db.session() as db:
        link_a, link_b = (links.find(db, u.rsplit("/", 1)[1], now=at(MONDAY, 14))
                          for u in (url_a, url_b))
        assert link_a.debtor_id != link_b.debtor_id
        link_a.debtor_id = link_b.debtor_id  # A's token now says debtor B; its delivery is A's
    before = _recorded(site)
    neutral = _get(site, url_a[:-4] + "abcd").get_data(as_text=True)
    moved = _get(site, url_a)
    assert moved.status_code == 404 and moved.get_data(as_text=True) == neutral
    # an answer on it, with a valid form from B's own page: refused neutrally
    page_b = _get(site, url_b).get_data(as_text=True)
    for kind, data in (("dispute", {"reason": "niet besteld"}),
                       ("paid", {"paid_on": MONDAY.isoformat()})):
        answer = _post(site, url_a, kind, data, page=page_b)
        assert answer.status_code == 404 and answer.get_data(as_text=True) == neutral
    assert _recorded(site) == before
    site.app.config["DEBTOR_LIMITS"] = limits.Limits(misses_per_client=4)
    assert _get(site, url_b).status_code == 429  # those were misses for this client


def test_an_answer_acts_only_on_the_delivery_of_the_token_it_carries(site):
    """The token in the URL is the only key: ids, another debtor's token or another kind in
    the form are ignored, and a second token in the path leads nowhere."""
    site.emulator.update_contact(site.adm, site.business, email="zaak@voorbeeld.example")
    theirs = site.invoice(site.business, "999.00", date(2026, 2, 15))
    site.day(MONDAY, hour=15)
    url_a, url_b = (_link(m.get_body(("plain",)).get_content()) for m in site.mail.messages)
    token_b = url_b.rsplit("/", 1)[1]
    with site.services.db.session() as db:
        [delivery_b] = db.scalars(select(Delivery).where(
            Delivery.id == links.find(db, token_b, now=at(MONDAY, 14)).delivery_id)).all()
        b_ids = {"delivery_id": delivery_b.id, "debtor_id": delivery_b.debtor_id,
                 "case_id": delivery_b.cases[0].case_id,
                 "invoice_id": delivery_b.cases[0].case.invoice_id}
    page_a = _get(site, url_a).get_data(as_text=True)
    before = _recorded(site)
    # A's token in the path with B's token as the "kind": the neutral page, nothing recorded
    for path in (f"{url_a}/{token_b}", f"{url_a}/{token_b}/dispute"):
        with time_machine.travel(at(MONDAY, 14), tick=False):
            wrong = site.client.post(_path(path), data={"csrf_token": csrf_token(page_a),
                                                        "reason": "niet besteld"})
        assert wrong.status_code in (404, 405)
        assert "Bakkerij" not in wrong.get_data(as_text=True)
    assert _recorded(site) == before
    # A's answer carrying B's ids and token: recorded on A's cases only
    done = _post(site, url_a, "dispute", {"reason": "niet besteld", "token": token_b, **b_ids},
                 page=page_a)
    assert done.status_code == 303 and done.headers["Location"].startswith(_path(url_a))
    with site.services.db.session() as db:
        held = {db.get(Case, h.case_id).invoice.external_id for h in db.scalars(select(Hold))}
        assert held == {site.first, site.second} and theirs not in held
        [response] = db.scalars(select(DebtorResponse)).all()
        assert response.delivery_id != delivery_b.id


def test_a_bounded_brute_force_loop_is_stopped_and_stays_neutral(site):
    url = _mail_link(site)
    site.app.config["DEBTOR_LIMITS"] = limits.Limits(window=timedelta(minutes=10),
                                                     misses_per_client=5)
    base = url.rsplit("/", 1)[0]
    codes = [_get(site, f"{base}/{'A' * 18}{n:04d}").status_code for n in range(12)]
    assert codes[:5] == [404] * 5
    assert set(codes[5:]) == {429}
    # the real link is refused too for this client while the window lasts …
    known, unknown = _get(site, url), _get(site, f"{base}/{'B' * 22}")
    assert known.status_code == unknown.status_code == 429
    # … with the very same neutral answer as an unknown token: it says nothing about a debtor,
    # an invoice, the creditor, or whether the token exists; in Dutch
    assert known.get_data() == unknown.get_data()
    assert known.headers["Retry-After"] == unknown.headers["Retry-After"] == "600"
    busy = known.get_data(as_text=True)
    assert '<html lang="nl">' in busy
    assert "Even geduld" in busy and "Er zijn te veel verzoeken gedaan" in busy
    with site.services.db.session() as db:
        [delivery] = db.scalars(select(Delivery)).all()
        told = [delivery.debtor.name, delivery.debtor.email, "Bakkerij Zoet",
                *(i.number for i in db.scalars(select(Invoice)))]
    for word in (*told, url.rsplit("/", 1)[1], "€", "120", "80,50", "onbekend", "verlopen",
                 "factuur", "betaal"):
        assert word.lower() not in busy.lower(), word
    # … and answers again from another address
    assert _get(site, url, environ_base={"REMOTE_ADDR": "127.0.0.9"}).status_code == 200


def test_the_per_token_limit_holds_across_clients(site):
    url = _mail_link(site)
    site.app.config["DEBTOR_LIMITS"] = limits.Limits(per_token=4)
    codes = [_get(site, url, environ_base={"REMOTE_ADDR": f"127.0.0.{n + 2}"}).status_code
             for n in range(6)]
    assert codes == [200] * 4 + [429] * 2


def test_a_form_without_csrf_token_changes_nothing(site):
    url = _mail_link(site)
    with time_machine.travel(at(MONDAY, 14), tick=False):
        answer = site.client.post(_path(url) + "/dispute", data={"reason": "nee"})
    assert answer.status_code == 400
    assert "Het formulier is verlopen" in answer.get_data(as_text=True)
    with site.services.db.session() as db:
        assert db.scalars(select(Hold)).all() == []


# -- answers ---------------------------------------------------------------------------------


def test_already_paid_holds_the_case_writes_one_note_and_the_sms_does_not_go_out(site):
    url = _mail_link(site)
    done = _post(site, url, "paid", {"paid_on": MONDAY.isoformat(), "reference": "bank 123"})
    assert done.status_code == 303
    again = _post(site, url, "paid", {"paid_on": MONDAY.isoformat(), "reference": "bank 123"})
    assert again.status_code == 303  # the same answer again: nothing new
    page = _get(site, done.headers["Location"]).get_data(as_text=True)
    assert "We kijken of uw betaling binnen is" in page
    site.day(MONDAY, hour=16, sync=False)  # the outbox runs
    site.day(MONDAY + timedelta(days=1))  # the SMS was due today
    assert site.twilio.messages == []
    with site.services.db.session() as db:
        holds = db.scalars(select(Hold)).all()
        assert {h.kind for h in holds} == {"paid_check"} and len(holds) == 2
        assert all(h.until == MONDAY + timedelta(days=10) for h in holds)
        assert all(c.state == "on_hold" for c in db.scalars(select(Case)))
        [response] = db.scalars(select(DebtorResponse)).all()
        assert response.corrections == 0
        timeline = [e.message for e in db.scalars(select(Event).where(
            Event.kind == "debtor.paid"))]
        assert len(timeline) == 2
    for invoice in (site.first, site.second):
        notes = [n for n in site.notes(invoice) if "betaald te hebben" in n]
        assert len(notes) == 1, site.notes(invoice)
        assert "bank 123" in notes[0]
    alerts = [m for m in site.mail.messages if m["To"] == "debiteuren@zoet.example"]
    assert len(alerts) == 1 and "al betaald" in alerts[0]["Subject"]


def test_a_dispute_reason_is_stored_as_text_and_shown_escaped_everywhere(site, live_server):
    url = _mail_link(site)
    assert _post(site, url, "dispute", {"reason": SCRIPT}).status_code == 303
    site.day(MONDAY, hour=16, sync=False)
    page = _get(site, url).get_data(as_text=True)
    assert SCRIPT not in page
    assert "&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt; &amp; &lt;b&gt;vet&lt;/b&gt;" in page
    with site.services.db.session() as db:
        [response] = db.scalars(select(DebtorResponse)).all()
        assert response.text == SCRIPT  # stored as typed
        assert {h.kind for h in db.scalars(select(Hold))} == {"dispute"}
        invoice_id = db.scalars(select(Invoice.id).where(Invoice.external_id == site.first)
                                ).one()
    # the ledger note carries the text as text; the ledger's own page escapes it
    [note] = [n for n in site.notes(site.first) if "betwist" in n]
    assert SCRIPT[:60] in note
    view = site.emulator.server.url + f"/_emulator/{site.adm}/sales_invoices/{site.first}"
    import requests

    shown = requests.get(view, timeout=10).text
    assert "<script>alert" not in shown and "&lt;script&gt;" in shown
    # the creditor's case page and the operator console escape it
    from tests.browser.journeys import create_operator

    create_operator(site.app, "op@partner.example", "a-long-enough-password")
    client = site.app.test_client()
    login = client.get("/login").get_data(as_text=True)
    client.post("/login", data={"csrf_token": csrf_token(login), "email": "op@partner.example",
                                "password": "a-long-enough-password"})
    for path in (f"/companies/{site.company_id}/invoices/{invoice_id}", "/operator/"):
        html = client.get(path).get_data(as_text=True)
        assert "&lt;script&gt;" in html and "<script>alert" not in html, path
    # the alert e-mail is plain text
    [alert] = [m for m in site.mail.messages if m["To"] == "debiteuren@zoet.example"]
    assert alert.get_content_type() == "text/plain"


def test_a_correction_replaces_the_answer_and_is_bounded(site):
    url = _mail_link(site)
    codes = [_post(site, url, "dispute", {"reason": f"reden {n}"}).status_code for n in range(5)]
    assert codes == [303, 303, 303, 303, 409]
    with site.services.db.session() as db:
        [response] = db.scalars(select(DebtorResponse)).all()
        assert response.text == "reden 3" and response.corrections == 3
        active = db.scalars(select(Hold).where(Hold.ended_at.is_(None))).all()
        assert len(active) == 2 and all("reden 3" in h.reason for h in active)


def test_plan_accepted_by_the_operator_becomes_a_plan_hold_and_a_missed_term_resumes(site):
    url = _mail_link(site)
    first = MONDAY + timedelta(days=7)
    refused = _post(site, url, "plan", {"terms": "40", "first_on": first.isoformat()})
    assert refused.status_code == 400 and "Kies 2 tot en met 6 termijnen" in refused.get_data(
        as_text=True)
    assert _post(site, url, "plan", {"terms": "3", "first_on": first.isoformat()}
                 ).status_code == 303
    with site.services.db.session() as db:
        assert {h.kind for h in db.scalars(select(Hold))} == {"plan_proposal"}
        [response] = db.scalars(select(DebtorResponse)).all()
        case = db.scalars(select(Case)).first()
        invoice_id = case.invoice_id
    from tests.browser.journeys import create_operator

    create_operator(site.app, "op@partner.example", "a-long-enough-password")
    client = site.app.test_client()
    login = client.get("/login").get_data(as_text=True)
    client.post("/login", data={"csrf_token": csrf_token(login), "email": "op@partner.example",
                                "password": "a-long-enough-password"})
    case_page = client.get(f"/companies/{site.company_id}/invoices/{invoice_id}")
    html = case_page.get_data(as_text=True)
    assert "Regeling accepteren" in html
    decided = client.post(f"/companies/{site.company_id}/responses/{response.id}/decide",
                          data={"csrf_token": csrf_token(html), "decision": "accept"})
    assert decided.status_code == 302
    with site.services.db.session() as db:
        active = db.scalars(select(Hold).where(Hold.ended_at.is_(None))).all()
        assert {h.kind for h in active} == {"payment_plan"}
        assert all(c.state == "on_hold" for c in db.scalars(select(Case)))
        response = db.get(DebtorResponse, response.id)
        assert response.state == "accepted" and len(response.data["schedule"]) == 3
        total = sum(Decimal(a) for _, a in response.data["schedule"])
        assert total == Decimal("200.50")
    # the page shows the accepted plan; the first term is paid in time
    assert "Uw betalingsregeling is geaccepteerd" in _get(site, url).get_data(as_text=True)
    site.emulator.add_payment(site.adm, site.first, Decimal("66.83"), first)
    site.day(first + timedelta(days=6))
    with site.services.db.session() as db:
        assert {h.kind for h in db.scalars(select(Hold).where(Hold.ended_at.is_(None)))} == {
            "payment_plan"}
    # the second term (30 days later) is missed: after the grace days the case goes on
    site.day(first + timedelta(days=30 + 6))
    with site.services.db.session() as db:
        assert db.scalars(select(Hold).where(Hold.ended_at.is_(None))).all() == []
        assert db.get(DebtorResponse, response.id).state == "missed"
        cases = db.scalars(select(Case).where(Case.state != "closed")).all()
        assert cases and all(c.state == "active" for c in cases)
        ended = db.scalars(select(Hold).where(Hold.kind == "payment_plan")).first()
        assert "gemist" in ended.ended_reason


def test_call_back_only_inside_contact_days_and_windows(site):
    url = _mail_link(site)
    sunday = MONDAY + timedelta(days=6)
    bad = _post(site, url, "callback", {"day": sunday.isoformat(), "window": "09:00-12:00"})
    assert bad.status_code == 400
    late = _post(site, url, "callback", {"day": (MONDAY + timedelta(days=1)).isoformat(),
                                         "window": "20:00-23:00"})
    assert late.status_code == 400 and "Kies een tijdvak" in late.get_data(as_text=True)
    ok = _post(site, url, "callback", {"day": (MONDAY + timedelta(days=1)).isoformat(),
                                       "window": "18:00-20:00"})
    assert ok.status_code == 303
    with site.services.db.session() as db:
        holds = db.scalars(select(Hold)).all()
        assert {h.kind for h in holds} == {"call_back"}
        assert all(h.until == MONDAY + timedelta(days=1) for h in holds)
    # the operators see it on the call list, with the debtor's number
    from tests.browser.journeys import create_operator

    create_operator(site.app, "op@partner.example", "a-long-enough-password")
    client = site.app.test_client()
    with time_machine.travel(at(MONDAY, 14), tick=False):
        login = client.get("/login").get_data(as_text=True)
        client.post("/login", data={"csrf_token": csrf_token(login),
                                    "email": "op@partner.example",
                                    "password": "a-long-enough-password"})
        calls = client.get("/operator/calls").get_data(as_text=True)
    assert "Terugbelverzoeken van debiteuren" in calls and "18:00-20:00" in calls


def test_every_sent_message_kind_carries_the_link(site):
    """SMS within one GSM-7 segment with its link; the stamp e-mail already has one."""
    site.day(MONDAY + timedelta(days=1))
    [sms] = site.twilio.messages
    body = sms.get("body") or sms.get("Body")
    assert LINK.search(body) and len(body) <= 160
    with site.services.db.session() as db:
        assert db.scalars(select(Delivery).where(Delivery.channel == "sms")).one().state == "sent"
        assert len(db.scalars(select(DebtorLink)).all()) == 2


def test_the_letters_qr_code_and_short_url_lead_to_the_same_page(wired, live_server):  # noqa: F811
    import pypdfium2 as pdfium
    from pypdf import PdfReader

    from connector.collection.posting import letter_store

    world, _mail, _twilio, _letter_dir = wired
    with world.services.db.session() as db:
        settings_for(db, world.company_id).policy = _policy(
            Step("Profitletter", "letter", 0, "start", "profitletter_consumer"))
    world.invoice(world.consumer, "242.00", date(2026, 2, 15))
    world.live()
    world.day(MONDAY)
    with world.services.db.session() as db:
        [delivery] = db.scalars(select(Delivery).where(Delivery.channel == "letter")).all()
        assert delivery.state == "sent", delivery.skip_reason
        delivery_id = delivery.id
    pdf = letter_store(world.services).pdf(delivery_id)  # the print queue is in the database
    text = "".join(page.extract_text() for page in PdfReader(io.BytesIO(pdf)).pages)
    printed = _link(re.sub(r"\s+", "", text.split("ga naar", 1)[1]))
    document = pdfium.PdfDocument(pdf)
    try:
        codes = [b.text for i in range(len(document))
                 for b in zxingcpp.read_barcodes(document[i].render(scale=3).to_pil())]
    finally:
        document.close()
    assert codes == [printed]
    assert "RF" in re.sub(r"\s+", "", text)  # one invoice: its structured reference is printed
    client = live_server.app.test_client()
    with time_machine.travel(at(MONDAY, 14), tick=False):
        page = client.get(_path(printed))
    assert page.status_code == 200 and "Is dit echt?" in page.get_data(as_text=True)
    # the consumer letter's text also names the page (and still passes every legal check)
    with world.services.db.session() as db:
        assert printed in db.get(Delivery, delivery_id).content["body"]


def test_access_log_lines_never_keep_a_debtor_link() -> None:
    import logging

    from connector.logs import RedactDebtorLinks

    record = logging.LogRecord("werkzeug", logging.INFO, __file__, 1, '"%s" %s %s',
                               ("GET /b/mKbA8TgA1IjBvj76czJq7g?lang=en HTTP/1.1", 200, "-"), None)
    assert RedactDebtorLinks().filter(record)
    assert record.getMessage() == '"GET /b/[token]?lang=en HTTP/1.1" 200 -'


def test_a_link_expires_weeks_after_its_cases_were_handed_over(site):
    url = _mail_link(site)
    long_ago = at(MONDAY) - timedelta(weeks=7)
    with site.services.db.session() as db:
        for case in db.scalars(select(Case)):
            case.state = "handed_over"
            db.add(Hold(company_id=case.company_id, case_id=case.id, kind="handover",
                        reason="overgedragen", actor="test", created_at=long_ago))
    assert _get(site, url).status_code == 404
    with site.services.db.session() as db:
        for hold in db.scalars(select(Hold)):
            hold.created_at = at(MONDAY) - timedelta(weeks=2)  # handed over recently: still open
    assert _get(site, url).status_code == 200


# -- small parts -----------------------------------------------------------------------------


def test_rf_references_follow_iso_11649_and_find_their_invoice(site):
    from connector.debtor_page.payment import BadReference, creditor_reference, parse_reference

    assert creditor_reference("539007547034") == "RF18539007547034"  # the standard's example
    assert parse_reference("rf18 5390 0754 7034") == "539007547034"
    with pytest.raises(BadReference):
        parse_reference("RF19539007547034")  # a wrong check digit
    with site.services.db.session() as db:
        invoice = db.scalars(select(Invoice)).first()
        invoice.number = "2026/ABC-" + "9" * 30  # too long for a reference: the id stands in
        reference = rf_reference(invoice)
        assert reference[4] == "X" and len(reference) <= 25
        assert invoice_for_reference(db, site.company_id, reference).id == invoice.id
        assert invoice_for_reference(db, site.company_id, "RF18539007547034") is None
        assert invoice_for_reference(db, site.company_id, "geen kenmerk") is None


def test_a_company_template_without_the_link_still_carries_it():
    from connector.debtor_page.messages import with_link

    url = "https://mijn.partner.example/b/AbCdEfGhIjKlMnOpQrStUv"
    assert with_link("Beste klant, betaal a.u.b.", "email", url, "nl").endswith(
        f"\n\nBetalen of reageren: {url}")
    assert with_link(f"Zie {url}", "email", url, "nl") == f"Zie {url}"  # placed by the template
    assert with_link("Kort bericht.", "sms", url, "en") == f"Kort bericht. Pay or respond: {url}"
    long_sms = "x" * 120
    assert with_link(long_sms, "sms", url, "nl") == long_sms  # would not fit one segment
    assert with_link("Brief", "letter", url, "nl") == "Brief"  # letters print it by the QR code
