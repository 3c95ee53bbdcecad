"""Rendering the text of a step: Jinja2 templates in a sandbox, money and dates the Dutch way.

Every message template exists in Dutch (``templates/messages/<name>.txt``, the default) and in
English (``templates/messages/en/<name>.txt``); a company may replace either with its own text
(:class:`connector.models.CompanyTemplate`), which is rendered in the same sandbox. The legal
content (the 14-day wording, the exact BIK amount and the date from which it is due) is decided
here, in :func:`build_context`, not in the templates.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any

from jinja2 import TemplateError
from jinja2.exceptions import SecurityError

from connector import TEMPLATES
from connector.channels.base import InvoiceLine
from connector.collection import legal
from connector.collection.sandbox import MessageSandbox, make_sandbox
from connector.formatting import short_day

LANGS = ("nl", "en")
DEFAULT_LANG = "nl"
TEMPLATE_NAMES = ("profitletter_consumer", "profitletter_business", "stamp", "email", "sms",
                  "whatsapp", "call_script")
TEMPLATE_LABELS = {
    "profitletter_consumer": "Profitletter particulier (veertiendagenbrief)",
    "profitletter_business": "Profitletter zakelijk",
    "stamp": "Laatste herinnering met incassostempel",
    "email": "E-mail",
    "sms": "Sms",
    "whatsapp": "WhatsApp",
    "call_script": "Belscript",
}
LANG_LABELS = {"nl": "Nederlands", "en": "Engels"}
# Debtors in these countries read Dutch; everyone else gets English (CollectionSettings "auto").
DUTCH_COUNTRIES = frozenset({"", "NL", "BE", "SR"})

SUBJECTS = {
    "nl": {
        "stamp": "Laatste herinnering",
        "letter": "Laatste herinnering voordat incassokosten verschuldigd zijn",
        "email": "Herinnering openstaande betaling",
        "sms": "",
        "whatsapp": "",
        "call": "Belopdracht",
    },
    "en": {
        "stamp": "Final reminder",
        "letter": "Final reminder before collection costs become due",
        "email": "Reminder of an open payment",
        "sms": "",
        "whatsapp": "",
        "call": "Call task",
    },
}
DEFAULT_SUBJECT = {"nl": "Herinnering", "en": "Reminder"}
MAX_OUTPUT_CHARS = 100_000  # a rendered message longer than this is a runaway template


class TemplateFailed(Exception):
    """A template that does not render; the step is not sent."""


_env = make_sandbox()
TEMPLATE_GLOBALS = frozenset(_env.globals)


def sandbox() -> MessageSandbox:
    """The one environment message templates (default and company) are rendered in."""
    return _env


@dataclass(frozen=True)
class Rendered:
    subject: str
    body: str


def template_path(name: str, lang: str = DEFAULT_LANG) -> str:
    """The loader name of a default template: Dutch at the top, English under ``en/``."""
    if lang not in LANGS:
        raise TemplateFailed(f"onbekende taal {lang!r}")
    return f"messages/{name}.txt" if lang == "nl" else f"messages/{lang}/{name}.txt"


def default_source(name: str, lang: str = DEFAULT_LANG) -> str:
    """The text of a default template, as a company sees it before editing."""
    if name not in TEMPLATE_NAMES:
        raise TemplateFailed(f"onbekend sjabloon {name!r}")
    return (TEMPLATES / template_path(name, lang)).read_text(encoding="utf-8")


def message_language(setting: str | None, country: str | None) -> str:
    """The language of a message: "nl"/"en" in the settings force it; "auto" (or nothing)
    means Dutch for debtors in the Netherlands, Belgium, Suriname or with no country known,
    English for everyone else."""
    if setting in LANGS:
        return setting
    return "nl" if (country or "").strip().upper() in DUTCH_COUNTRIES else "en"


def subject_for(channel: str, lang: str = DEFAULT_LANG) -> str:
    return SUBJECTS.get(lang, SUBJECTS["nl"]).get(channel, DEFAULT_SUBJECT.get(lang, "Herinnering"))


def _generate(template: Any, context: dict[str, Any]) -> str:
    parts: list[str] = []
    size = 0
    for chunk in template.generate(**context):
        size += len(chunk)
        if size > MAX_OUTPUT_CHARS:
            raise SecurityError("de tekst wordt te lang")
        parts.append(chunk)
    return "".join(parts).strip()


def render(
    template: str,
    channel: str,
    context: dict[str, Any],
    *,
    lang: str = DEFAULT_LANG,
    source: str | None = None,
) -> Rendered:
    """Render a step's text: ``source`` (a company's own template) if given, else the default
    file for ``template`` in ``lang``. Any failure is a :class:`TemplateFailed`; its message
    names the template, never the debtor."""
    try:
        compiled = (_env.from_string(source) if source is not None
                    else _env.get_template(template_path(template, lang)))
        body = _generate(compiled, {**context, "lang": lang})
    except TemplateError as exc:
        raise TemplateFailed(f"sjabloon {template} ({lang}): {exc}") from None
    except (ArithmeticError, LookupError, TypeError, ValueError, RecursionError) as exc:
        # Python errors inside an expression (e.g. int() of a name): only the kind of error,
        # since their messages can quote the debtor's data.
        raise TemplateFailed(f"sjabloon {template} ({lang}): fout in een berekening "
                             f"({type(exc).__name__})") from None
    return Rendered(subject=subject_for(channel, lang), body=single_periods(body))


_DOUBLE_PERIOD = re.compile(r"(?<!\.)\.\.(?!\.)")


def single_periods(text: str) -> str:
    """"Zoet B.V.." → "Zoet B.V.": a name ending in a period before a sentence's period.
    An ellipsis ("...") stays as it is."""
    return _DOUBLE_PERIOD.sub(".", text)


@dataclass(frozen=True)
class LegalFacts:
    """What the letter announces; the engine stores it with the delivery and the case."""

    term: legal.PaymentTerm | None = None
    bik: Decimal | None = None


def build_context(
    *,
    template: str,
    lang: str,
    debtor_kind: str,
    recipient: str,
    creditor: str,
    creditor_contact: str,
    iban: str,
    partner: str,
    invoices: list[InvoiceLine],
    phone: str | None,
    today: date,
    vat_increase: bool = False,
    response_url: str = "",
) -> tuple[dict[str, Any], LegalFacts]:
    """The variables a message template sees, and the legal facts behind them.

    One place for the engine, the template check and the preview, so a template that passes
    the check sees exactly what it will see when it is sent. Profitletters get the payment
    term (for the post today); consumer ones also the exact BIK amount (legal-nl §7.1).
    """
    total = sum((i.open_amount for i in invoices), Decimal("0"))
    context: dict[str, Any] = {
        "recipient": recipient,
        "debtor_kind": debtor_kind,
        "creditor": creditor,
        "creditor_contact": creditor_contact,
        "iban": iban,
        "partner": partner,
        "reference": ", ".join(i.number for i in invoices),
        "invoices": list(invoices),
        "total": total,
        "phone": phone,
        "lang": lang,
        # The debtor's page behind this message (connector.debtor_page): pay or answer there.
        "response_url": response_url,
    }
    facts = LegalFacts()
    if template.startswith("profitletter"):
        term = legal.term_for_letter(today)
        context.update(term_wording=legal.safe_term_wording(term, lang),
                       last_day=short_day(term.last_day_to_pay),
                       costs_due_from=short_day(term.costs_due_from))
        bik = None
        if debtor_kind == "consumer":
            bik = legal.bik_costs(total, vat_increase=vat_increase)
            context.update(bik=bik, bik_includes_vat=vat_increase)
        facts = LegalFacts(term=term, bik=bik)
    return context, facts


def text_problems(
    body: str, *, debtor_kind: str, lang: str, facts: LegalFacts, vat_increase: bool = False
) -> list[str]:
    """What the law does not allow in this text (legal-nl §7.3) and, for a consumer letter,
    what a valid 14-day letter lacks (legal-nl §7.1), in Dutch."""
    problems = legal.check_message_text(body, debtor_kind=debtor_kind, lang=lang)
    if facts.bik is not None and facts.term is not None:
        problems += legal.consumer_letter_requirements(
            body, bik_amount=facts.bik, last_day=facts.term.last_day_to_pay,
            vat_increase=vat_increase, lang=lang, costs_due_from=facts.term.costs_due_from)
    return problems
