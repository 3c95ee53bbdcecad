"""The cases console: list, filters and search, skip a step, hand over, debtor exclusions,
the creditor's logo, and tenant isolation for every one of these routes."""

from __future__ import annotations

import io
import os

import pytest
from PIL import Image
from sqlalchemy import select

from connector.clock import today_nl
from connector.collection.cases import place_hold, settings_for
from connector.collection.engine import run_company
from connector.models import (
    Case,
    Debtor,
    Delivery,
    DeliveryCase,
    Event,
    Hold,
    HoldKind,
    LedgerWrite,
)
from connector.sync import sync_company
from connector.web import cases as cases_view
from tests.helpers import connect_direct, csrf_token, go_live, oauth_connect
from tests.test_web import _operator_session


@pytest.fixture
def console(services, moneybird_emulator):
    """An operator looking at a synced company with cases planned in preview."""
    company_id = connect_direct(services, moneybird_emulator)
    sync_company(services, company_id)
    run_company(services, company_id)
    browser = _operator_session(services)
    base = f"{services.settings.public_url}/companies/{company_id}"
    token = csrf_token(browser.get(base).text)
    return company_id, browser, base, token


def _single_case(services, company_id):
    """An active case alone in its planned delivery."""
    with services.db.session() as db:
        for case in db.scalars(select(Case).where(Case.company_id == company_id,
                                                  Case.state == "active")):
            delivery = db.scalars(select(Delivery).join(DeliveryCase).where(
                DeliveryCase.case_id == case.id, Delivery.state == "planned")).first()
            if delivery is not None and len(delivery.cases) == 1:
                return case.id, case.invoice_id, delivery.id
    raise AssertionError("no single-invoice delivery in the seed")


def _writes(services, invoice_id, kind=None):
    with services.db.session() as db:
        query = select(LedgerWrite).where(LedgerWrite.invoice_id == invoice_id)
        if kind:
            query = query.where(LedgerWrite.kind == kind)
        return list(db.scalars(query))


# -- the list ---------------------------------------------------------------------------


def test_cases_list_filters_and_search(services, console, monkeypatch):
    company_id, browser, base, _ = console
    with services.db.session() as db:
        cases = list(db.scalars(select(Case).where(Case.company_id == company_id)))
        assert len(cases) >= 3
        held = cases[0]
        place_hold(db, HoldKind.PAUSE, "belt morgen terug", "creditor", case=held)
        number = held.invoice.number
        other_name = next(c.debtor.name for c in cases if c.debtor_id != held.debtor_id)
        held_name = held.debtor.name
    page = browser.get(f"{base}/cases").text
    assert 'id="cases"' in page and number in page
    on_hold = browser.get(f"{base}/cases", params={"state": "on_hold"}).text
    assert number in on_hold and on_hold.count("<tr>") == 2  # header + one case
    active = browser.get(f"{base}/cases", params={"state": "active"}).text
    assert f">{number}<" not in active
    found = browser.get(f"{base}/cases", params={"q": number}).text
    assert f">{number}<" in found
    by_name = browser.get(f"{base}/cases", params={"q": held_name.upper()[:6]}).text
    assert held_name in by_name
    assert other_name not in by_name or held_name[:6].lower() in other_name.lower()
    none = browser.get(f"{base}/cases", params={"q": "zzz-niets-%", "state": "closed"}).text
    assert "Geen dossiers die hierbij passen" in none
    # unknown filter values fall back to all cases instead of failing
    assert browser.get(f"{base}/cases", params={"state": "<x>", "page": "-3"}).status_code == 200
    monkeypatch.setattr(cases_view, "PAGE_SIZE", 2)
    first = browser.get(f"{base}/cases").text
    assert "pagina 1 van" in first and "volgende" in first
    second = browser.get(f"{base}/cases", params={"page": 2}).text
    assert "pagina 2 van" in second and "vorige" in second


def test_cases_list_empty_state_says_what_to_do(services, moneybird_emulator):
    company_id = connect_direct(services, moneybird_emulator)
    browser = _operator_session(services)
    page = browser.get(f"{services.settings.public_url}/companies/{company_id}/cases").text
    assert "Nog geen dossiers" in page and "synchroniseer" in page


def test_case_page_shows_steps_planned_and_to_come_and_the_log(services, console):
    company_id, browser, base, _ = console
    _, invoice_id, _ = _single_case(services, company_id)
    page = browser.get(f"{base}/invoices/{invoice_id}").text
    assert 'id="case-steps"' in page and "gepland" in page
    assert "Daarna volgens het beleid" in page and "Profitletter" in page
    assert "Stap overslaan" in page and "Overdragen aan incasso" in page
    assert "gepland op" in page  # the step.planned event of the case is in the log


# -- skip -------------------------------------------------------------------------------


def test_skip_a_step_moves_the_case_on_and_notes_it_once(services, console):
    company_id, browser, base, token = console
    case_id, invoice_id, delivery_id = _single_case(services, company_id)
    go_live(services, company_id)  # only a live company writes to its ledger
    empty = browser.post(f"{base}/cases/{case_id}/skip",
                         data={"csrf_token": token, "delivery_id": delivery_id, "reason": " "})
    assert "Geef een reden" in empty.text
    with services.db.session() as db:
        assert db.get(Delivery, delivery_id).state == "planned"
        assert db.get(Case, case_id).next_step == 0
    done = browser.post(f"{base}/cases/{case_id}/skip",
                        data={"csrf_token": token, "delivery_id": delivery_id,
                              "reason": "Debiteur heeft al een stempelbrief gehad"})
    assert "overgeslagen" in done.text
    with services.db.session() as db:
        skipped = db.get(Delivery, delivery_id)
        assert skipped.state == "skipped"
        assert skipped.skip_reason == "Debiteur heeft al een stempelbrief gehad"
        case = db.get(Case, case_id)
        assert case.next_step == 1 and case.last_step_on == today_nl()
        following = db.scalars(select(Delivery).join(DeliveryCase).where(
            DeliveryCase.case_id == case_id, Delivery.state == "planned")).one()
        assert following.step == 1 and following.channel == "letter"
        event = db.scalars(select(Event).where(Event.kind == "step.skipped",
                                               Event.subject_id == case_id)).one()
        assert event.actor == "operator:op@partner.example"
    again = browser.post(f"{base}/cases/{case_id}/skip",
                         data={"csrf_token": token, "delivery_id": delivery_id,
                               "reason": "nog eens"})
    assert "niet meer gepland" in again.text
    notes = [w for w in _writes(services, invoice_id, "note") if "overgeslagen" in
             w.payload["text"]]
    assert len(notes) == 1 and "stempelbrief" in notes[0].payload["text"]
    with services.db.session() as db:
        assert db.get(Case, case_id).next_step == 1


def test_skipping_one_invoice_of_a_grouped_delivery_keeps_the_others(services, console):
    company_id, browser, base, token = console
    with services.db.session() as db:
        grouped = next((d for d in db.scalars(select(Delivery).where(
            Delivery.company_id == company_id, Delivery.state == "planned"))
            if len(d.cases) > 1), None)
        if grouped is None:
            pytest.skip("no debtor with several invoices in the seed")
        case_id, others = grouped.cases[0].case_id, {x.case_id for x in grouped.cases[1:]}
    browser.post(f"{base}/cases/{case_id}/skip",
                 data={"csrf_token": token, "delivery_id": grouped.id, "reason": "apart"})
    with services.db.session() as db:
        still = db.get(Delivery, grouped.id)
        assert still.state == "planned" and {x.case_id for x in still.cases} == others


# -- hand-over --------------------------------------------------------------------------


def test_hand_over_ends_the_case_notes_it_and_never_resumes_the_ledger(services, console):
    company_id, browser, base, token = console
    case_id, invoice_id, delivery_id = _single_case(services, company_id)
    go_live(services, company_id)  # only a live company writes to its ledger
    empty = browser.post(f"{base}/cases/{case_id}/handover",
                         data={"csrf_token": token, "reason": ""})
    assert "Geef een reden" in empty.text
    with services.db.session() as db:
        assert db.get(Case, case_id).state == "active"
    done = browser.post(f"{base}/cases/{case_id}/handover",
                        data={"csrf_token": token, "reason": "Dossier 2026-118 bij incasso"})
    assert "overgedragen aan incasso" in done.text
    with services.db.session() as db:
        case = db.get(Case, case_id)
        assert case.state == "handed_over"
        assert db.get(Delivery, delivery_id).state == "skipped"
        hold = db.scalars(select(Hold).where(Hold.case_id == case_id)).one()
        assert hold.kind == "handover" and hold.ended_at is None
    notes = [w.payload["text"] for w in _writes(services, invoice_id, "note")]
    assert any("overgedragen aan incasso" in n and "2026-118" in n for n in notes)
    assert len(_writes(services, invoice_id, "pause")) == 1  # the package stops reminding
    run_company(services, company_id)
    with services.db.session() as db:
        assert db.get(Case, case_id).state == "handed_over"
        assert not db.scalars(select(Delivery).join(DeliveryCase).where(
            DeliveryCase.case_id == case_id, Delivery.state == "planned")).all()
    assert _writes(services, invoice_id, "resume") == []
    twice = browser.post(f"{base}/cases/{case_id}/handover",
                         data={"csrf_token": token, "reason": "nog eens"})
    assert "loopt niet meer" in twice.text
    assert len(_writes(services, invoice_id, "pause")) == 1


def test_a_case_on_hold_can_be_handed_over_and_its_hold_ends(services, console):
    company_id, browser, base, token = console
    case_id, invoice_id, _ = _single_case(services, company_id)
    with services.db.session() as db:
        place_hold(db, HoldKind.DISPUTE, "betwist de levering", "creditor",
                   case=db.get(Case, case_id))
    browser.post(f"{base}/cases/{case_id}/handover", data={"csrf_token": token,
                                                           "reason": "toch naar incasso"})
    with services.db.session() as db:
        assert db.get(Case, case_id).state == "handed_over"
        dispute = db.scalars(select(Hold).where(Hold.case_id == case_id,
                                                Hold.kind == "dispute")).one()
        assert dispute.ended_at is not None
    assert _writes(services, invoice_id, "resume") == []


# -- exclusions -------------------------------------------------------------------------


def test_exclude_and_include_a_debtor(services, console):
    company_id, browser, base, token = console
    with services.db.session() as db:
        case = db.scalars(select(Case).where(Case.company_id == company_id,
                                             Case.state == "active")).first()
        debtor_id, name = case.debtor_id, case.debtor.name
    listing = browser.get(f"{base}/debtors", params={"q": name}).text
    assert name in listing and "Uitsluiten" in listing and 'id="debtors"' in listing
    empty = browser.post(f"{base}/debtors/{debtor_id}/exclude",
                         data={"csrf_token": token, "reason": ""})
    assert "Geef een reden" in empty.text
    with services.db.session() as db:
        assert db.scalars(select(Hold).where(Hold.debtor_id == debtor_id)).all() == []
    done = browser.post(f"{base}/debtors/{debtor_id}/exclude",
                        data={"csrf_token": token, "reason": "vaste klant, regelt zelf"})
    assert "Debiteur uitgesloten" in done.text
    assert "uitgesloten</span> vaste klant, regelt zelf" in done.text  # marked, with words
    with services.db.session() as db:
        states = {c.state for c in db.scalars(select(Case).where(Case.debtor_id == debtor_id,
                                                                 Case.closed_reason.is_not(None)))}
        assert states == {"closed"}
        hold = db.scalars(select(Hold).where(Hold.debtor_id == debtor_id)).one()
        assert hold.kind == "excluded" and hold.actor == "operator:op@partner.example"
    only = browser.get(f"{base}/debtors", params={"excluded": "1"}).text
    assert name in only and only.count('class="excluded"') == 1
    twice = browser.post(f"{base}/debtors/{debtor_id}/exclude",
                         data={"csrf_token": token, "reason": "nog eens"})
    assert "al uitgesloten" in twice.text
    no_reason = browser.post(f"{base}/debtors/{debtor_id}/include",
                             data={"csrf_token": token, "reason": " "})
    assert "Geef een reden" in no_reason.text
    back = browser.post(f"{base}/debtors/{debtor_id}/include",
                        data={"csrf_token": token, "reason": "afspraak voorbij"})
    assert "doet weer mee" in back.text and "heropend" in back.text
    with services.db.session() as db:
        assert db.scalars(select(Hold).where(Hold.debtor_id == debtor_id)).one().ended_at
        reopened = list(db.scalars(select(Case).where(Case.debtor_id == debtor_id,
                                                      Case.state == "active")))
        assert reopened and all(c.closed_reason is None for c in reopened)
    run_company(services, company_id)
    with services.db.session() as db:
        assert db.scalars(select(Delivery).join(DeliveryCase).where(
            DeliveryCase.case_id == reopened[0].id, Delivery.state == "planned")).first()
    # a crafted return address cannot send the browser elsewhere
    away = browser.post(f"{base}/debtors/{debtor_id}/exclude",
                        data={"csrf_token": token, "reason": "x", "back": "//evil.example/"},
                        allow_redirects=False)
    assert away.headers["Location"].endswith(f"/companies/{company_id}/debtors")


# -- logo -------------------------------------------------------------------------------


def _png(size=(120, 40), noise=False) -> bytes:
    image = Image.new("RGB", size, (11, 95, 255))
    if noise:
        image = Image.frombytes("RGB", size, os.urandom(size[0] * size[1] * 3))
    out = io.BytesIO()
    image.save(out, "PNG")
    return out.getvalue()


def _jpeg() -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (60, 20), (200, 10, 10)).save(out, "JPEG")
    return out.getvalue()


def _logo(services, company_id):
    with services.db.session() as db:
        settings = settings_for(db, company_id)
        return settings.logo, settings.logo_mime


def test_logo_upload_show_and_remove(services, console):
    company_id, browser, base, token = console
    png = _png()
    done = browser.post(f"{base}/logo", data={"csrf_token": token},
                        files={"logo": ("logo.png", png, "image/png")})
    assert "Logo opgeslagen" in done.text and f"/companies/{company_id}/logo" in done.text
    assert _logo(services, company_id) == (png, "image/png")
    served = browser.get(f"{base}/logo")
    assert served.content == png and served.headers["Content-Type"] == "image/png"
    assert served.headers["X-Content-Type-Options"] == "nosniff"
    jpeg = _jpeg()
    browser.post(f"{base}/logo", data={"csrf_token": token},
                 files={"logo": ("logo.png", jpeg, "image/png")})  # the name does not decide
    assert _logo(services, company_id) == (jpeg, "image/jpeg")
    removed = browser.post(f"{base}/logo/delete", data={"csrf_token": token})
    assert "Logo verwijderd" in removed.text
    assert _logo(services, company_id) == (None, None)
    assert browser.get(f"{base}/logo").status_code == 404


@pytest.mark.parametrize(("content", "message"), [
    (b"%PDF-1.4 not an image", "geen PNG- of JPEG-afbeelding"),
    (b"\x89PNG\r\n\x1a\n" + b"\x00" * 200, "geen PNG- of JPEG-afbeelding"),
    (b"GIF89a" + b"\x00" * 100, "geen PNG- of JPEG-afbeelding"),
    (b"", "Het bestand is leeg"),
    (None, "groter dan 500 kB"),
])
def test_bad_logos_are_refused_and_change_nothing(services, console, content, message):
    company_id, browser, base, token = console
    png = _png()
    browser.post(f"{base}/logo", data={"csrf_token": token},
                 files={"logo": ("logo.png", png, "image/png")})
    if content is None:
        content = _png((450, 450), noise=True)
        assert len(content) > 500 * 1024
    refused = browser.post(f"{base}/logo", data={"csrf_token": token},
                           files={"logo": ("logo.png", content, "image/png")})
    assert message in refused.text
    assert _logo(services, company_id) == (png, "image/png")


def test_a_file_above_the_request_limit_gets_a_dutch_message(services, console):
    company_id, browser, base, token = console
    huge = b"\x89PNG\r\n\x1a\n" + b"\x00" * (3 * 1024 * 1024)
    refused = browser.post(f"{base}/logo", data={"csrf_token": token},
                           files={"logo": ("logo.png", huge, "image/png")})
    assert "groter dan 500 kB" in refused.text
    assert _logo(services, company_id) == (None, None)


def test_gif_is_refused_even_though_pillow_reads_it(services, console):
    company_id, browser, base, token = console
    out = io.BytesIO()
    Image.new("P", (10, 10)).save(out, "GIF")
    refused = browser.post(f"{base}/logo", data={"csrf_token": token},
                           files={"logo": ("logo.gif", out.getvalue(), "image/gif")})
    assert "geen PNG- of JPEG-afbeelding" in refused.text
    assert _logo(services, company_id) == (None, None)


def test_logo_reaches_the_letter_as_a_data_uri():
    from connector.channels.documents import (
        LETTER_TEMPLATES,
        PartnerIdentity,
        _context,
        letter_env,
        logo_data_uri,
    )
    from connector.channels.letter_sample import sample_message

    assert logo_data_uri(None, None) == "" and logo_data_uri(b"x", "image/gif") == ""
    uri = logo_data_uri(_png(), "image/png")
    assert uri.startswith("data:image/png;base64,")
    message = sample_message("consumer", "nl", today_nl())
    message.extra["creditor_logo"] = uri
    html = letter_env.get_template("letter.html").render(
        **_context(message, PartnerIdentity(), "nl", today_nl()))
    assert f'src="{uri}"' in html
    message.extra["creditor_logo"] = "https://evil.example/track.png"
    html = letter_env.get_template("letter.html").render(
        **_context(message, PartnerIdentity(), "nl", today_nl()))
    assert "evil.example" not in html and "creditor-logo" not in html
    assert (LETTER_TEMPLATES / "letter.html").exists()


# -- tenant isolation -------------------------------------------------------------------


def test_other_creditors_get_404_on_every_console_route(services, moneybird_emulator):
    first, second = moneybird_emulator.administration_ids()[:2]
    other = connect_direct(services, moneybird_emulator, second)
    sync_company(services, other)
    run_company(services, other)
    with services.db.session() as db:
        case = db.scalars(select(Case).where(Case.company_id == other,
                                             Case.state == "active")).first()
        delivery = db.scalars(select(Delivery).join(DeliveryCase).where(
            DeliveryCase.case_id == case.id, Delivery.state == "planned")).first()
        debtor = db.get(Debtor, case.debtor_id)
        settings_for(db, other).logo, settings_for(db, other).logo_mime = _png(), "image/png"
    app = services.settings.public_url
    browser, page = oauth_connect(app, moneybird_emulator.server.url, administrations=[first])
    own = page.url.rsplit("/", 1)[1]
    token = csrf_token(page.text)
    sync_company(services, own)
    run_company(services, own)
    assert browser.get(f"{app}/companies/{own}/cases").status_code == 200
    with services.db.session() as db:
        before = (db.get(Case, case.id).state, db.get(Case, case.id).next_step,
                  db.get(Delivery, delivery.id).state, len(list(db.scalars(select(Hold)))),
                  len(list(db.scalars(select(LedgerWrite).where(
                      LedgerWrite.company_id == other)))))
    png = _png()
    for company in (other, own):  # B's URLs, and B's ids under A's own URLs
        gets = ("cases", "debtors", "logo", "policy", f"invoices/{case.invoice_id}")
        for path in gets if company == other else gets[-1:]:
            response = browser.get(f"{app}/companies/{company}/{path}")
            assert response.status_code == 404, (company == own, path)
        posts = [
            (f"cases/{case.id}/skip", {"delivery_id": delivery.id, "reason": "x"}),
            (f"cases/{case.id}/handover", {"reason": "x"}),
            (f"debtors/{debtor.id}/exclude", {"reason": "x"}),
            (f"debtors/{debtor.id}/include", {"reason": "x"}),
        ]
        if company == other:
            posts += [("logo/delete", {}), ("policy/reset", {})]
        for path, data in posts:
            response = browser.post(f"{app}/companies/{company}/{path}",
                                    data={"csrf_token": token, **data})
            assert response.status_code == 404, (company == own, path)
        if company == other:
            upload = browser.post(f"{app}/companies/{company}/logo", data={"csrf_token": token},
                                  files={"logo": ("logo.png", png, "image/png")})
            assert upload.status_code == 404
    # A's own case with B's delivery id: refused as well
    with services.db.session() as db:
        own_case = db.scalars(select(Case).where(Case.company_id == own,
                                                 Case.state == "active")).first()
    if own_case is not None:
        crossed = browser.post(f"{app}/companies/{own}/cases/{own_case.id}/skip",
                               data={"csrf_token": token, "delivery_id": delivery.id,
                                     "reason": "x"})
        assert crossed.status_code == 404
    with services.db.session() as db:
        after = (db.get(Case, case.id).state, db.get(Case, case.id).next_step,
                 db.get(Delivery, delivery.id).state, len(list(db.scalars(select(Hold)))),
                 len(list(db.scalars(select(LedgerWrite).where(
                     LedgerWrite.company_id == other)))))
        assert after == before
        assert settings_for(db, other).logo is not None
        if own_case is not None:
            assert db.get(Case, own_case.id).next_step == 0



def test_the_letter_pdf_carries_the_creditors_logo():
    from pypdf import PdfReader

    from connector.channels.documents import PartnerIdentity, logo_data_uri, render_letter_pdf
    from connector.channels.letter_sample import sample_message

    message = sample_message("business", "nl", today_nl())
    plain = render_letter_pdf(message, PartnerIdentity(), letter_date=today_nl())
    message.extra["creditor_logo"] = logo_data_uri(_png(), "image/png")
    with_logo = render_letter_pdf(message, PartnerIdentity(), letter_date=today_nl())
    assert not PdfReader(io.BytesIO(plain)).pages[0].images
    assert len(PdfReader(io.BytesIO(with_logo)).pages[0].images) == 1
