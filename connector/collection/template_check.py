"""Checking a company's own message template before it is saved.

A template is refused, with reasons in Dutch a creditor can act on, when it is too long, does
not parse, uses a variable the engine does not provide, fails to render in the sandbox for the
debtors it serves (consumer and/or business), or renders a text the engine would refuse to
send: no creditor IBAN where the debtor is asked to pay, a consumer letter that is not a valid
14-day letter, forbidden phrases, or an SMS that is too long or tells the debt to whoever reads
the phone's lock screen. Rendering uses demo data only: no debtor data reaches an error.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any

from jinja2 import TemplateSyntaxError, meta, nodes
from jinja2.exceptions import SecurityError, UndefinedError

from connector.channels.base import ChannelRejected, InvoiceLine
from connector.channels.sms import check_sms_body
from connector.clock import today_nl
from connector.collection.messages import (
    LANGS,
    TEMPLATE_GLOBALS,
    TEMPLATE_NAMES,
    TemplateFailed,
    build_context,
    render,
    sandbox,
    template_path,
    text_problems,
)
from connector.collection.sandbox import FORBIDDEN_NODES
from connector.formatting import money

MAX_TEMPLATE_BYTES = 20_000
MAX_LOOP_DEPTH = 2
# Kinds that ask the debtor to pay: the creditor's own IBAN must be in the text.
PAYMENT_TEMPLATES = frozenset({"profitletter_consumer", "profitletter_business", "stamp", "email",
                               "whatsapp"})
# Which debtors a template serves (and is checked for); the Profitletters are per kind.
KINDS = {"profitletter_consumer": ("consumer",), "profitletter_business": ("business",)}
BASE_VARIABLES = ("recipient", "debtor_kind", "creditor", "creditor_contact", "iban", "partner",
                  "reference", "invoices", "total", "phone", "lang", "response_url")
LETTER_VARIABLES = ("term_wording", "last_day", "costs_due_from")
CONSUMER_LETTER_VARIABLES = ("bik", "bik_includes_vat")
# An SMS is read on a lock screen: no amount, invoice number or word that gives the debt away.
SMS_DEBT_WORDS = re.compile(
    r"\b(schuld\w*|achterstand\w*|betalingsachterstand|incasso\w*|openstaand\w*|onbetaald\w*"
    r"|factu(ur|ren)|aanmaning\w*|herinnering\w*|deurwaarder\w*|debt\w*|overdue|unpaid"
    r"|outstanding|arrears|invoices?|collection|reminder|bailiff|owe\w*)\b",
    re.IGNORECASE,
)
SMS_AMOUNT = re.compile(r"€|\beur(o|os)?\b|\d+[.,]\d{2}\b", re.IGNORECASE)


class TemplateRefused(ValueError):
    """A company template that may not be saved; ``problems`` says why, in Dutch."""

    def __init__(self, problems: list[str]) -> None:
        super().__init__("; ".join(problems))
        self.problems = problems


def allowed_variables(name: str) -> tuple[str, ...]:
    """The variables the engine gives this template (for the refusal message and the page)."""
    names = BASE_VARIABLES
    if name.startswith("profitletter"):
        names += LETTER_VARIABLES
    if name == "profitletter_consumer":
        names += CONSUMER_LETTER_VARIABLES
    return names


@dataclass(frozen=True)
class Sample:
    """Demo data a template is checked against: realistic, never a real debtor."""

    kind: str
    lang: str
    iban: str = "NL91ABNA0417164300"
    creditor: str = "Bakkerij Zoet B.V."
    partner: str = "Incassopartner"


# As long as a real link (public URL + /b/ + a 22-character token): SMS length is checked with it.
SAMPLE_RESPONSE_URL = "https://mijn.partner.example/b/AbCdEfGhIjKlMnOpQrStUv"


def sample_invoices() -> list[InvoiceLine]:
    return [
        InvoiceLine("2026-0412", "02-02-2026", "04-03-2026", Decimal("186.50")),
        InvoiceLine("2026-0457", "16-02-2026", "18-03-2026", Decimal("74.95")),
    ]


def sample_context(name: str, kind: str, lang: str, today: date | None = None
                   ) -> tuple[dict[str, Any], Any]:
    """The context a template sees for a demo debtor of ``kind`` (as the engine builds it)."""
    sample = Sample(kind, lang)
    recipient = "J. de Vries" if kind == "consumer" else "Café De Hoek V.O.F."
    return build_context(
        template=name, lang=lang, debtor_kind=kind, recipient=recipient,
        creditor=sample.creditor, creditor_contact="030 123 45 67", iban=sample.iban,
        partner=sample.partner, invoices=sample_invoices(), phone="06 12345678",
        today=today or today_nl(), response_url=SAMPLE_RESPONSE_URL)


def _loop_depth(node: nodes.Node, depth: int = 0) -> int:
    here = depth + 1 if isinstance(node, nodes.For) else depth
    return max([here, *(_loop_depth(child, here) for child in node.iter_child_nodes())])


def _static_problems(name: str, body: str) -> list[str]:
    """Problems visible without rendering: size, syntax, variables, includes, loops."""
    if len(body.encode("utf-8")) > MAX_TEMPLATE_BYTES:
        return [f"Het sjabloon is te lang (meer dan {MAX_TEMPLATE_BYTES // 1000} kB)."]
    try:
        ast = sandbox().parse(body)
    except TemplateSyntaxError as exc:
        return [f"Fout in de opmaak op regel {exc.lineno}: {(exc.message or '').rstrip('.')}."]
    problems = []
    allowed = allowed_variables(name)
    try:
        declared = meta.find_undeclared_variables(ast)
    except TemplateSyntaxError as exc:  # e.g. a filter that does not exist (here)
        return [f"Fout op regel {exc.lineno}: {(exc.message or '').rstrip('.')}. Beschikbare "
                f"filters: {', '.join(sorted(sandbox().filters))}."]
    unknown = sorted(declared - set(allowed) - TEMPLATE_GLOBALS)
    if unknown:
        problems.append(
            f"Onbekende variabele(n): {', '.join(unknown)}. Toegestaan zijn: "
            f"{', '.join(allowed)}."
        )
    allowed_includes = {template_path(n, lang) for n in TEMPLATE_NAMES for lang in LANGS}
    for ref in meta.find_referenced_templates(ast):
        if ref not in allowed_includes:
            problems.append("Alleen standaardsjablonen uit messages/ mogen worden ingevoegd "
                            "(include); een berekende naam mag niet.")
            break
    if _loop_depth(ast) > MAX_LOOP_DEPTH:
        problems.append(f"Lussen (for) mogen hoogstens {MAX_LOOP_DEPTH} diep genest zijn.")
    if any(True for _ in ast.find_all(FORBIDDEN_NODES)) or any(
            loop.recursive for loop in ast.find_all(nodes.For)):
        problems.append("Macro's, import, extends en recursieve lussen zijn in een sjabloon "
                        "niet toegestaan.")
    return problems


def static_problems(name: str, body: str) -> list[str]:
    """The checks that need no rendering; preview and PDF refuse to render when any is found."""
    if not body.strip():
        return ["Het sjabloon is leeg."]
    return _static_problems(name, body)


def _render_problem(exc: TemplateFailed, name: str) -> str:
    cause = exc.__context__
    if isinstance(cause, SecurityError):
        return f"Niet toegestaan in een sjabloon (sandbox): {str(cause).rstrip('.')}."
    if isinstance(cause, UndefinedError):
        return (f"Het sjabloon gebruikt iets dat niet bestaat ({cause}). Toegestaan zijn: "
                f"{', '.join(allowed_variables(name))}.")
    detail = str(exc).split(": ", 1)[-1]
    return f"Het sjabloon kan niet worden gemaakt: {detail.rstrip('.')}."


def _iban_present(text: str, iban: str) -> bool:
    return re.sub(r"\s+", "", iban).upper() in re.sub(r"\s+", "", text).upper()


def sms_problems(body: str, context: dict[str, Any]) -> list[str]:
    """One GSM-7 segment, and nothing that tells a third party about the debt (legal-nl §7.3)."""
    problems = []
    try:
        check_sms_body(body)
    except ChannelRejected as exc:
        problems.append(f"Sms: {exc}.")
    lowered = body.casefold()
    revealing = [i.number for i in context["invoices"] if i.number.casefold() in lowered]
    if (SMS_AMOUNT.search(body) or money(context["total"]) in body or revealing
            or SMS_DEBT_WORDS.search(body)):
        problems.append("Een sms mag de schuld niet verraden (geen bedrag, factuurnummer of "
                        "woorden als schuld, factuur, incasso): iedereen kan hem op het "
                        "vergrendelscherm lezen (legal-nl.md §7.3).")
    return problems


def render_problems(name: str, lang: str, body: str, *, today: date | None = None) -> list[str]:
    """Render ``body`` for every kind of debtor it serves and check what comes out.

    A problem found for only one kind of debtor says which ("particulier"/"zakelijk").
    """
    kinds = KINDS.get(name, ("consumer", "business"))
    found: dict[str, list[str]] = {}
    for kind in kinds:
        context, facts = sample_context(name, kind, lang, today)
        try:
            text = render(name, "letter", context, lang=lang, source=body).body
        except TemplateFailed as exc:
            return [_render_problem(exc, name)]  # the other kind would fail the same way
        problems: list[str] = []
        if not text.strip():
            problems.append("De tekst is leeg.")
        elif name in PAYMENT_TEMPLATES and not _iban_present(text, context["iban"]):
            problems.append("Het IBAN van de schuldeiser ontbreekt: de debiteur moet weten "
                            "waar hij betaalt (gebruik {{ iban }}).")
        if text.strip():
            problems += text_problems(text, debtor_kind=kind, lang=lang, facts=facts)
            if name == "sms":
                problems += sms_problems(text, context)
        for problem in problems:
            found.setdefault(problem, []).append(kind)
    who = {"consumer": "particulier", "business": "zakelijk"}
    return [problem if len(found_for) == len(kinds) or len(kinds) == 1
            else f"{problem} (alleen {who[found_for[0]]})"
            for problem, found_for in found.items()]


def validate_template(name: str, lang: str, body: str, *, today: date | None = None
                      ) -> list[str]:
    """Why this company template may not be used; an empty list means it may be saved."""
    if name not in TEMPLATE_NAMES:
        return [f"Onbekend sjabloon: {name}."]
    if lang not in LANGS:
        return [f"Onbekende taal: {lang}."]
    if not body.strip():
        return ["Het sjabloon is leeg."]
    problems = _static_problems(name, body)
    if problems:
        return problems
    return render_problems(name, lang, body, today=today)
