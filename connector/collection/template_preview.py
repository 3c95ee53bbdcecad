"""What an edited template would send, for a real case of the company (or demo data).

The preview is built like the engine builds a message (same context, same sandbox), but it
changes nothing: no delivery, no BIK amount stored, no event. A consumer Profitletter is shown
as for a consumer and a business one as for a business, whatever the chosen debtor is.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

from sqlalchemy import select
from sqlalchemy.orm import Session

from connector.channels.base import InvoiceLine, OutgoingMessage
from connector.channels.email import text_to_html
from connector.clock import today_nl
from connector.collection.cases import settings_for
from connector.collection.messages import TemplateFailed, build_context, render, text_problems
from connector.collection.template_check import SAMPLE_RESPONSE_URL, sample_context
from connector.formatting import short_day
from connector.models import Case, CaseState, Company

OPEN_STATES = (CaseState.ACTIVE.value, CaseState.ON_HOLD.value,
               CaseState.READY_FOR_HANDOVER.value)
CHANNEL_OF = {"profitletter_consumer": "letter", "profitletter_business": "letter",
              "stamp": "stamp", "email": "email", "sms": "sms", "whatsapp": "whatsapp",
              "call_script": "call"}
PDF_TEMPLATES = frozenset({"profitletter_consumer", "profitletter_business", "stamp"})
DEMO_ADDRESS = {"consumer": ("J. de Vries", "Kerkstraat 12", "3512 AB Utrecht"),
                "business": ("Café De Hoek V.O.F.", "t.a.v. de administratie",
                             "Oudegracht 200", "3511 NR Utrecht")}


@dataclass
class Preview:
    """The rendered text, its e-mail HTML and the message a PDF is made from."""

    demo: bool
    case_id: str | None = None
    subject: str = ""
    body: str = ""
    html: str = ""
    problems: list[str] = field(default_factory=list)
    error: str | None = None
    message: OutgoingMessage | None = None

    @property
    def has_pdf(self) -> bool:
        return self.message is not None and self.message.template in PDF_TEMPLATES


def preview_cases(session: Session, company_id: str, limit: int = 20) -> list[Case]:
    """The newest open cases of the company, newest first, for the case chooser."""
    cases = list(session.scalars(
        select(Case).where(Case.company_id == company_id, Case.state.in_(OPEN_STATES))
        .order_by(Case.opened_on.desc(), Case.opened_at.desc()).limit(limit)))
    for case in cases:
        _ = case.invoice, case.debtor
    return cases


def case_label(case: Case) -> str:
    """How a case is named in the chooser: invoice number and debtor, as on the company page."""
    return f"{case.invoice.number or case.invoice.external_id} — {case.debtor.name}"


def _kind_for(name: str, debtor_kind: str) -> str:
    if name == "profitletter_consumer":
        return "consumer"
    if name == "profitletter_business":
        return "business"
    return "business" if debtor_kind == "business" else "consumer"


def build_preview(
    session: Session,
    company_id: str,
    name: str,
    lang: str,
    body: str,
    *,
    partner: str,
    case_id: str | None = None,
    today: date | None = None,
) -> Preview:
    """Render ``body`` for the chosen (or newest) open case; demo data when there is none."""
    today = today or today_nl()
    settings = settings_for(session, company_id)
    sender = settings.sender or {}
    company = session.get(Company, company_id)
    creditor = sender.get("name") or (company.name if company else "")
    cases = preview_cases(session, company_id, limit=1) if not case_id else []
    case = session.get(Case, case_id) if case_id else (cases[0] if cases else None)
    if case is not None and case.company_id != company_id:
        case = None  # never another company's case, whatever the form says
    if case is None:
        context, facts = sample_context(name, _kind_for(name, "consumer"), lang, today)
        context.update(creditor=creditor or context["creditor"], partner=partner,
                       iban=sender.get("iban") or context["iban"])
        preview = Preview(demo=True)
        kind, address = context["debtor_kind"], DEMO_ADDRESS[context["debtor_kind"]]
        email, phone = None, context["phone"]
    else:
        debtor, invoice = case.debtor, case.invoice
        kind = _kind_for(name, debtor.kind)
        line = InvoiceLine(
            invoice.number or invoice.external_id,
            short_day(invoice.invoice_date) if invoice.invoice_date else "–",
            short_day(invoice.due_date) if invoice.due_date else "–",
            case.principal)
        context, facts = build_context(
            template=name, lang=lang, debtor_kind=kind,
            recipient=(debtor.contact_person or debtor.name) if debtor.kind == "business"
            else debtor.name,
            creditor=creditor, creditor_contact=sender.get("phone") or sender.get("email") or "",
            iban=sender.get("iban", ""), partner=partner, invoices=[line], phone=debtor.phone,
            today=today, vat_increase=settings.vat_increase,
            # an example link: the real one is made when the message goes out
            response_url=SAMPLE_RESPONSE_URL)
        preview = Preview(demo=False, case_id=case.id)
        address = tuple(x for x in (debtor.name, debtor.address_line,
                                    f"{debtor.postal_code or ''} {debtor.city or ''}".strip())
                        if x)
        email, phone = debtor.email, debtor.phone
    channel = CHANNEL_OF.get(name, "email")
    try:
        rendered = render(name, channel, context, lang=lang, source=body)
    except TemplateFailed as exc:
        preview.error = str(exc)
        return preview
    preview.subject, preview.body = rendered.subject, rendered.body
    preview.html = text_to_html(rendered.body, lang)
    preview.problems = text_problems(rendered.body, debtor_kind=kind, lang=lang, facts=facts,
                                     vat_increase=settings.vat_increase)
    preview.message = OutgoingMessage(
        delivery_id="voorbeeld", channel=channel, template=name, debtor_kind=kind,
        recipient_name=str(context["recipient"]), creditor_name=creditor,
        subject=rendered.subject, body=rendered.body, invoices=tuple(context["invoices"]),
        total=context["total"], email=email, phone=phone, postal_address=address,
        extra={key: value for key, value in {
            "iban": context["iban"], "reference": context["reference"], "lang": lang,
            "creditor_contact": context["creditor_contact"],
            "creditor_address": sender.get("address", ""), "creditor_kvk": sender.get("kvk", ""),
        }.items() if value})
    return preview
