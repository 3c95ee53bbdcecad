"""Message templates: every one in Dutch and English for consumers and businesses, the PDFs
read back, the language choice, company overrides end to end, and refused templates."""

from __future__ import annotations

import io
import re
from datetime import date, timedelta
from decimal import Decimal

import pypdfium2
import pytest
from pypdf import PdfReader
from sqlalchemy import select

from connector.channels.base import OutgoingMessage
from connector.channels.documents import PartnerIdentity, render_letter_pdf, render_stamp_pdf
from connector.channels.email import text_to_html
from connector.collection import legal
from connector.collection.cases import settings_for
from connector.collection.company_templates import (
    TemplateRefused,
    reset_template,
    save_template,
)
from connector.collection.messages import (
    TEMPLATE_NAMES,
    default_source,
    message_language,
    render,
    subject_for,
    text_problems,
)
from connector.collection.template_check import (
    KINDS,
    PAYMENT_TEMPLATES,
    allowed_variables,
    sample_context,
    validate_template,
)
from connector.formatting import money
from connector.models import CompanyTemplate, Delivery, Event
from tests.conftest import ARTIFACTS
from tests.test_engine import World

TODAY = date(2026, 3, 2)  # a Monday: posted today, delivered Wednesday 4 March
IBAN = "NL91ABNA0417164300"
PARTNER = PartnerIdentity(name="Incassopartner Utrecht", wki_number="WKI-123456")
CREDITOR_ADDRESS = "Molenweg 5\n3521 CD Utrecht"
CREDITOR_KVK = "12345678"

COMBINATIONS = [(name, lang, kind) for name in TEMPLATE_NAMES for lang in ("nl", "en")
                for kind in KINDS.get(name, ("consumer", "business"))]


def _plain(text: str) -> str:
    return re.sub(r"[\s\u00a0\u202f]+", " ", text)


def _compact(text: str) -> str:
    return re.sub(r"\s+", "", text)


# -- defaults -------------------------------------------------------------------------------


@pytest.mark.parametrize(("name", "lang"), [(n, lang) for n in TEMPLATE_NAMES
                                            for lang in ("nl", "en")])
def test_every_default_template_passes_its_own_check(name: str, lang: str) -> None:
    assert validate_template(name, lang, default_source(name, lang), today=TODAY) == []


@pytest.mark.parametrize(("name", "lang", "kind"), COMBINATIONS)
def test_every_template_renders_in_both_languages(name: str, lang: str, kind: str) -> None:
    context, facts = sample_context(name, kind, lang, TODAY)
    body = render(name, "letter", context, lang=lang).body
    plain = _plain(body)
    assert context["creditor"] in plain
    assert text_problems(body, debtor_kind=kind, lang=lang, facts=facts) == []
    if name in PAYMENT_TEMPLATES:
        assert IBAN in _compact(body)
        assert _plain(money(context["total"])) in plain
    if name not in ("sms", "whatsapp"):
        for invoice in context["invoices"]:
            assert invoice.number in plain
    english = {"stamp": "Final reminder", "email": "Kind regards", "whatsapp": "reminder from",
               "call_script": "Call script", "sms": "has sent you a message",
               "profitletter_consumer": "On behalf of", "profitletter_business": "On behalf of"}
    dutch = {"stamp": "LAATSTE HERINNERING", "email": "Met vriendelijke groet",
             "whatsapp": "herinnering van", "call_script": "Belscript",
             "sms": "heeft u een bericht gestuurd", "profitletter_consumer": "Namens",
             "profitletter_business": "Namens"}
    assert (english if lang == "en" else dutch)[name].casefold() in plain.casefold()
    if name == "profitletter_consumer":
        term = legal.term_for_letter(TODAY)
        assert legal.safe_term_wording(term, lang, include_date=False) in plain
        assert _plain(money(facts.bik)) in plain
        assert term.costs_due_from.strftime("%d-%m-%Y") in plain
    if name == "profitletter_business":
        assert "bik" not in context


def test_subjects_per_language() -> None:
    assert subject_for("letter", "nl") == ("Laatste herinnering voordat incassokosten "
                                           "verschuldigd zijn")
    assert subject_for("letter", "en") == "Final reminder before collection costs become due"
    assert subject_for("stamp", "en") == "Final reminder"
    assert subject_for("unknown", "en") == "Reminder"


@pytest.mark.parametrize(
    ("setting", "country", "expected"),
    [("auto", None, "nl"), ("auto", "", "nl"), ("auto", "NL", "nl"), ("auto", "be", "nl"),
     ("auto", "SR", "nl"), ("auto", "DE", "en"), ("auto", "GB", "en"), (None, "FR", "en"),
     ("nl", "DE", "nl"), ("en", "NL", "en"), ("en", None, "en")],
)
def test_language_of_a_message(setting: str | None, country: str | None, expected: str) -> None:
    assert message_language(setting, country) == expected


# -- English legal checks -------------------------------------------------------------------


def test_english_consumer_letter_checks_keep_dutch_behaviour() -> None:
    context, facts = sample_context("profitletter_consumer", "consumer", "en", TODAY)
    body = render("profitletter_consumer", "letter", context, lang="en").body
    last = facts.term.last_day_to_pay
    assert legal.consumer_letter_requirements(body, bik_amount=facts.bik, last_day=last,
                                              lang="en",
                                              costs_due_from=facts.term.costs_due_from) == []
    no_term = body.replace(context["term_wording"], "within 14 days of the date of this letter")
    problems = legal.consumer_letter_requirements(no_term, bik_amount=facts.bik, last_day=last,
                                                  lang="en")
    assert any("goedgekeurde bewoording" in p for p in problems)
    assert legal.check_message_text(no_term, debtor_kind="consumer", lang="en")
    early = body + "\nPlease pay no later than 3 March 2026."
    assert any("te vroeg" in p for p in legal.consumer_letter_requirements(
        early, bik_amount=facts.bik, last_day=last, lang="en"))
    # The Dutch check of a Dutch letter is unchanged: an English letter fails it.
    assert legal.consumer_letter_requirements(body, bik_amount=facts.bik, last_day=last)
    for phrase in ("We will charge an administration fee.", "Your employer will be informed.",
                   "Without further notice we will seize your goods."):
        assert legal.check_message_text(phrase, debtor_kind="business", lang="en"), phrase
    assert legal.check_message_text("If you do not pay, collection costs will be added.",
                                    debtor_kind="consumer", lang="en") == []


# -- PDFs -----------------------------------------------------------------------------------


def _message(name: str, kind: str, lang: str) -> tuple[OutgoingMessage, dict]:
    context, facts = sample_context(name, kind, lang, TODAY)
    context["partner"] = PARTNER.name  # the letterhead and the signature name the same partner
    channel = "stamp" if name == "stamp" else "letter"
    rendered = render(name, channel, context, lang=lang)
    message = OutgoingMessage(
        delivery_id="d" * 32, channel=channel, template=name, debtor_kind=kind,
        recipient_name=context["recipient"], creditor_name=context["creditor"],
        subject=rendered.subject, body=rendered.body, invoices=tuple(context["invoices"]),
        total=context["total"], email=None, phone=None,
        postal_address=("J. de Vries", "Kerkstraat 12", "3512 AB Utrecht"),
        extra={"iban": IBAN, "reference": context["reference"], "lang": lang,
               "creditor_contact": context["creditor_contact"],
               "creditor_address": CREDITOR_ADDRESS, "creditor_kvk": CREDITOR_KVK})
    return message, {**context, "facts": facts}


def _pdf_text(pdf: bytes) -> str:
    return "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(pdf)).pages)


@pytest.mark.parametrize(("name", "lang", "kind"),
                         [c for c in COMBINATIONS if c[0].startswith("profitletter")
                          or c[0] == "stamp"])
def test_pdf_carries_every_required_element(name: str, lang: str, kind: str) -> None:
    message, context = _message(name, kind, lang)
    make = render_stamp_pdf if name == "stamp" else render_letter_pdf
    pdf = make(message, PARTNER, letter_date=TODAY)
    text = _plain(_pdf_text(pdf))
    on_behalf = "namens" if lang == "nl" else "on behalf of"
    assert PARTNER.name in text
    if name != "stamp":
        assert f"{on_behalf} {context['creditor']}".casefold() in text.casefold()
    assert context["creditor"] in text
    assert "Molenweg 5" in text and "3521 CD Utrecht" in text and CREDITOR_KVK in text
    assert IBAN in _compact(text)
    assert context["creditor_contact"] in text
    for invoice in context["invoices"]:
        assert invoice.number in text
    assert _plain(money(context["total"])) in text
    assert context["reference"] in text
    assert ("pagina 1 van" if lang == "nl" else "page 1 of") in text
    assert ("2 maart 2026" if lang == "nl" else "2 March 2026") in text
    if name == "profitletter_consumer":
        facts = context["facts"]
        wording = ("veertien dagen vanaf de dag nadat deze brief bij u is bezorgd" if lang == "nl"
                   else "fourteen days from the day after this letter has been delivered to you")
        assert wording in text
        assert _plain(money(facts.bik)) in text
        assert facts.term.costs_due_from.strftime("%d-%m-%Y") in text


def test_profitletter_page_one_as_png_for_review(artifacts) -> None:
    for lang in ("nl", "en"):
        message, _ = _message("profitletter_consumer", "consumer", lang)
        pdf = render_letter_pdf(message, PARTNER, letter_date=TODAY)
        document = pypdfium2.PdfDocument(pdf)
        try:
            image = document[0].render(scale=100 / 72).to_pil()
        finally:
            document.close()
        path = ARTIFACTS / f"profitletter-consumer-{lang}-page1.png"
        image.save(path, format="PNG")
        data = path.read_bytes()
        assert data[:8] == b"\x89PNG\r\n\x1a\n" and len(data) > 20_000
        width, height = image.size
        assert abs(height / width - 297 / 210) < 0.01, (width, height)
        assert width >= 800
        # Mostly white paper with ink on it, not a blank page.
        colours = image.convert("L").getcolors(maxcolors=256 * 256) or []
        assert len(colours) > 10


# -- refused templates ----------------------------------------------------------------------

REFUSALS = [
    ("syntax", "profitletter_consumer", "nl", lambda b: b.replace("{{ creditor }}", "{{ creditor",
                                                                  1), "regel"),
    ("missing IBAN", "stamp", "nl", lambda b: b.replace("{{ iban }}", "onze rekening"), "IBAN"),
    ("missing IBAN en", "whatsapp", "en", lambda b: b.replace("{{ iban }}", "our account"),
     "IBAN"),
    ("no BIK", "profitletter_consumer", "nl", lambda b: b.replace("{{ bik|money }}",
                                                                  "de wettelijke kosten"),
     "exacte bedrag"),
    ("no BIK en", "profitletter_consumer", "en", lambda b: b.replace("{{ bik|money }}",
                                                                     "the statutory costs"),
     "exacte bedrag"),
    ("no costs date", "profitletter_consumer", "nl",
     lambda b: b.replace("vanaf {{ costs_due_from }}", "later"), "verschuldigd zijn"),
    ("sms too long", "sms", "nl", lambda b: b.strip() + " Wij wensen u een hele fijne dag "
     "toe en danken u hartelijk voor uw aandacht voor dit bericht.", "te lang"),
    ("sms reveals the debt", "sms", "en",
     lambda b: "{{ creditor }}: your invoice {{ reference }} is overdue.", "verraden"),
    ("forbidden phrase", "stamp", "nl", lambda b: b + "\nWij rekenen administratiekosten.",
     "administratiekosten"),
    ("threat in English", "email", "en",
     lambda b: b + "\nOtherwise the bailiff will visit you at home.", "deurwaarder"),
    ("sandbox escape", "sms", "nl", lambda b: "{{ ''.__class__.__mro__[1].__subclasses__() }}",
     "sandbox"),
    ("sandbox escape via filter", "sms", "nl",
     lambda b: "{{ creditor.__init__.__globals__ }}", "sandbox"),
    ("unknown variable", "stamp", "en", lambda b: b + "{{ debtor.email }}", "Toegestaan zijn"),
    ("too big", "call_script", "nl", lambda b: b + "x" * 21_000, "te lang"),
    ("memory bomb", "call_script", "nl", lambda b: b + "{{ 'x' * 10000000 }}", "sandbox"),
    ("foreign include", "email", "nl", lambda b: "{% include 'web/base.html' %}", "include"),
]


@pytest.mark.parametrize(("label", "name", "lang", "change", "expected"), REFUSALS,
                         ids=[r[0] for r in REFUSALS])
def test_refused_templates_say_why(label, name, lang, change, expected) -> None:
    problems = validate_template(name, lang, change(default_source(name, lang)), today=TODAY)
    assert problems, label
    assert any(expected.casefold() in p.casefold() for p in problems), problems


SANDBOX_ESCAPES = [
    "{{ ''.__class__ }}",
    "{{ creditor.__class__.__mro__[1].__subclasses__() }}",
    "{{ self.__init__.__globals__ }}",
    "{{ cycler.__init__.__globals__ }}",
    "{{ invoices[0].__class__ }}",
    "{{ 'x'.format_map({}) }}",
]
RESOURCE_BOMBS = [
    "{{ 'x' * 100000000 }}",
    "{% set a = 'x' * 10000 %}{% set b = a ~ a %}{% set c = b ~ b %}{% set d = c ~ c %}{{ d }}",
    "{% set a = 'x' * 10000 %}{% set b = a + a %}{% set c = b + b %}{% set d = c + c %}{{ d }}",
    "{{ '{:>999999999}'.format('x') }}",
    "{{ '%*s' % (999999999, 'x') }}",
    "{{ 'x'.center(999999999) }}",
    "{{ 'x'|center(999999999) }}",
    "{{ ('x' * 10000)|replace('x', 'y' * 10000) }}",
    "{{ ('x' * 10000)|list|join('y' * 10000) }}",
    "{% for i in range(100000) %}{% endfor %}",
    "{% for a in range(9) %}{% for b in range(9) %}{% for c in range(9) %}{% endfor %}"
    "{% endfor %}{% endfor %}",
    "{% macro f(s) %}{{ f(s ~ s) }}{% endmacro %}{{ f('x') }}",
    "{% set ns = namespace(s='x') %}{{ ns.s }}",
    "{% set l = [1] %}{{ l.append(2) }}",
    "{{ lipsum(100000) }}",
    "{{ 10 ** 100000000 }}",
]


@pytest.mark.parametrize("body", SANDBOX_ESCAPES + RESOURCE_BOMBS)
def test_sandbox_escapes_and_resource_bombs_are_refused_quickly(body: str) -> None:
    import time

    started = time.monotonic()
    problems = validate_template("call_script", "nl", "Belscript {{ creditor }}\n" + body,
                                 today=TODAY)
    assert problems, body
    assert time.monotonic() - started < 2


def test_syntax_error_names_the_line_and_unknown_variables_the_allowed_ones() -> None:
    (problem,) = validate_template("stamp", "nl", "Regel een\nRegel twee {% if %}\n")
    assert "regel 2" in problem
    (problem,) = validate_template("sms", "nl", "{{ creditor }} {{ schuld }}")
    assert "schuld" in problem
    assert all(v in problem for v in allowed_variables("sms"))


def test_sandbox_refuses_internals_at_render_time_too() -> None:
    from connector.collection.messages import TemplateFailed

    context, _ = sample_context("sms", "consumer", "nl", TODAY)
    with pytest.raises(TemplateFailed, match="unsafe"):
        render("sms", "sms", context, source="{{ ''.__class__ }}")


# -- company templates in the engine ----------------------------------------------------------


@pytest.fixture
def world(make_services, make_moneybird_emulator) -> World:
    emulator = make_moneybird_emulator(administrations=1, contacts=6, invoices=0)
    return World(make_services(emulator), emulator)


def _captured(world: World, channel: str) -> list[OutgoingMessage]:
    return world.services.channels[channel].sent


def test_company_override_is_what_the_engine_sends_and_reset_restores(world) -> None:
    world.emulator.update_contact(world.adm, world.consumer, email="klant@voorbeeld.example")
    world.invoice(world.consumer, "242.00", date(2026, 2, 15))
    own = default_source("stamp", "nl").replace(
        "Met vriendelijke groet,", "Hartelijke groet van de bakker op de hoek,")
    with world.services.db.session() as db:
        save_template(db, world.company_id, "stamp", "nl", own, "creditor", today=TODAY)
    world.live()
    world.day(TODAY)
    (stamp,) = _captured(world, "stamp")
    assert "Hartelijke groet van de bakker op de hoek" in stamp.body
    assert stamp.extra["lang"] == "nl" and stamp.subject == "Laatste herinnering"
    with world.services.db.session() as db:
        assert reset_template(db, world.company_id, "stamp", "nl", "creditor")
        assert not reset_template(db, world.company_id, "stamp", "nl", "creditor")
        assert db.scalars(select(CompanyTemplate)).all() == []
        kinds = [e.kind for e in db.scalars(select(Event).where(Event.kind.like("template.%")))]
    assert sorted(kinds) == ["template.reset", "template.saved"]


def test_english_letter_end_to_end_with_override_and_bik(world) -> None:
    world.emulator.update_contact(world.adm, world.consumer, email="klant@voorbeeld.example",
                                  country="DE")
    world.invoice(world.consumer, "242.00", date(2026, 2, 15))
    own = default_source("profitletter_consumer", "en").replace(
        "Kind regards,", "With warm regards from the bakery,")
    with world.services.db.session() as db:
        save_template(db, world.company_id, "profitletter_consumer", "en", own, "creditor",
                      today=TODAY)
        settings = settings_for(db, world.company_id)
        settings.sender = {**settings.sender, "address": CREDITOR_ADDRESS, "kvk": CREDITOR_KVK}
    world.live()
    for offset in range(0, 8):
        world.day(TODAY + timedelta(days=offset))
    (stamp,) = _captured(world, "stamp")
    assert stamp.extra["lang"] == "en" and stamp.subject == "Final reminder"
    assert "FINAL REMINDER" in stamp.body
    (letter,) = _captured(world, "letter")
    assert letter.extra["lang"] == "en"
    assert letter.subject == "Final reminder before collection costs become due"
    assert "With warm regards from the bakery" in letter.body
    assert "fourteen days from the day after this letter has been delivered" in letter.body
    assert "€\xa040,00" in letter.body
    text = _plain(_pdf_text(render_letter_pdf(letter, PARTNER)))
    assert "on behalf of Bakkerij Zoet B.V." in text and "page 1 of" in text
    assert "Molenweg 5" in text and CREDITOR_KVK in text
    assert "Open invoices" in text and "Pay to" in text
    html = text_to_html(letter.body, letter.extra["lang"])
    assert '<html lang="en">' in html


def test_forced_language_wins_over_the_country(world) -> None:
    world.emulator.update_contact(world.adm, world.consumer, email="klant@voorbeeld.example",
                                  country="DE")
    world.invoice(world.consumer, "120.00", date(2026, 2, 15))
    with world.services.db.session() as db:
        settings_for(db, world.company_id).language = "nl"
    world.live()
    world.day(TODAY)
    (stamp,) = _captured(world, "stamp")
    assert stamp.extra["lang"] == "nl" and "LAATSTE HERINNERING" in stamp.body


def test_override_that_became_invalid_is_not_sent(world) -> None:
    """A stored text is checked again at send time (e.g. written into the table by hand)."""
    world.emulator.update_contact(world.adm, world.consumer, email="klant@voorbeeld.example")
    world.invoice(world.consumer, "120.00", date(2026, 2, 15))
    with world.services.db.session() as db:
        db.add(CompanyTemplate(company_id=world.company_id, name="stamp", lang="nl",
                               body="Betaal direct, anders komt de deurwaarder bij u langs.",
                               updated_by="creditor"))
    world.live()
    world.day(TODAY)
    assert _captured(world, "stamp") == []
    with world.services.db.session() as db:
        failed = db.scalars(select(Delivery).where(Delivery.state == "failed")).one()
    assert "deurwaarder" in failed.skip_reason


def test_refused_save_changes_nothing(world) -> None:
    with world.services.db.session() as db:
        save_template(db, world.company_id, "sms", "nl", "{{ creditor }} stuurde u post.",
                      "creditor", today=TODAY)
    with world.services.db.session() as db, pytest.raises(TemplateRefused) as refused:
        save_template(db, world.company_id, "sms", "nl", "{{ creditor }}: schuld {{ total }}",
                      "creditor", today=TODAY)
    assert refused.value.problems
    with world.services.db.session() as db:
        (row,) = db.scalars(select(CompanyTemplate)).all()
        assert row.body == "{{ creditor }} stuurde u post."
        assert [e.kind for e in db.scalars(select(Event).where(
            Event.kind.like("template.%")))] == ["template.saved"]


def test_money_is_decimal_in_the_context() -> None:
    context, facts = sample_context("profitletter_consumer", "consumer", "nl", TODAY)
    assert isinstance(context["total"], Decimal) and isinstance(facts.bik, Decimal)
    assert all(isinstance(i.open_amount, Decimal) for i in context["invoices"])
