"""Composing: one delivery's message, rendered and checked, ready for its channel."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from sqlalchemy.orm import Session

from connector import events
from connector.channels.base import InvoiceLine, OutgoingMessage
from connector.channels.documents import logo_data_uri
from connector.channels.email import valid_address
from connector.collection.bounces import bounce_of
from connector.collection.cases import settings_for
from connector.collection.messages import (
    Rendered,
    build_context,
    message_language,
    render,
    text_problems,
)
from connector.config import Settings
from connector.debtor_page import links
from connector.debtor_page.messages import with_link
from connector.debtor_page.payment import grouped, rf_reference
from connector.formatting import short_day
from connector.models import (
    Company,
    CompanyTemplate,
    Debtor,
    Delivery,
)

EMAIL_CHANNELS = frozenset({"stamp", "email"})


def compose(session: Session, delivery: Delivery, today: date, partner: str,
             app_settings: Settings | None = None) -> OutgoingMessage:
    settings = settings_for(session, delivery.company_id)
    sender = settings.sender or {}
    debtor: Debtor = delivery.debtor
    company = session.get(Company, delivery.company_id)
    invoices = [link.case.invoice for link in delivery.cases]
    total = sum((link.case.principal for link in delivery.cases), Decimal("0"))
    creditor = sender.get("name") or company.name
    if delivery.channel in EMAIL_CHANNELS and not valid_address(debtor.email):
        # No e-mail address: the same reminder goes by post instead of not at all.
        delivery.channel = "letter"
        events.record(session, "step.fallback",
                      f"Stap '{delivery.step_name}': geen e-mailadres bekend, per post",
                      company_id=delivery.company_id, subject_type="delivery",
                      subject_id=delivery.id)
    if delivery.channel in ("letter", "stamp", "email", "whatsapp") and not sender.get("iban"):
        raise ValueError("het IBAN van de schuldeiser ontbreekt (instellingen van het bedrijf)")
    lang = message_language(settings.language, debtor.country)
    # The debtor's page behind this message (not for a call: nobody reads a link there).
    response_url = ""
    if app_settings is not None and delivery.channel != "call":
        response_url = links.url_for_delivery(session, delivery, app_settings.public_url,
                                              app_settings.secret_key)
    lines = [
        InvoiceLine(
            i.number or i.external_id,
            short_day(i.invoice_date) if i.invoice_date else "–",
            short_day(i.due_date) if i.due_date else "–",
            link.case.principal,
        )
        for i, link in zip(invoices, delivery.cases, strict=True)
    ]
    context, facts = build_context(
        template=delivery.template, lang=lang, debtor_kind=debtor.kind,
        recipient=(debtor.contact_person or debtor.name) if debtor.kind == "business"
        else debtor.name,
        creditor=creditor, creditor_contact=sender.get("phone") or sender.get("email") or "",
        iban=sender.get("iban", ""), partner=partner, invoices=lines, phone=debtor.phone,
        today=today, vat_increase=settings.vat_increase, response_url=response_url)
    if facts.bik is not None:
        delivery.bik_amount = facts.bik
    override = session.get(CompanyTemplate, (delivery.company_id, delivery.template, lang))
    rendered = render(delivery.template, delivery.channel, context, lang=lang,
                      source=override.body if override is not None else None)
    # A consumer letter that is not a valid 14-day letter would cost the creditor its right
    # to collection costs later: refuse it rather than send it.
    body = with_link(rendered.body, delivery.channel, response_url, lang)
    if body != rendered.body:
        rendered = Rendered(subject=rendered.subject, body=body)
    problems = text_problems(rendered.body, debtor_kind=debtor.kind, lang=lang, facts=facts,
                             vat_increase=settings.vat_increase)
    if problems:
        raise ValueError("tekst niet toegestaan: " + "; ".join(problems))
    delivery.total = total
    fallback_for = bounce_of(delivery)  # a letter for a bounced e-mail: no e-mail copy
    delivery.content = {**(delivery.content or {}), "subject": rendered.subject,
                        "body": rendered.body}
    if fallback_for:
        delivery.content["bounce_of"] = fallback_for
    return OutgoingMessage(
        delivery_id=delivery.id,
        channel=delivery.channel,
        template=delivery.template,
        debtor_kind=debtor.kind,
        recipient_name=debtor.name,
        creditor_name=creditor,
        subject=rendered.subject,
        body=rendered.body,
        invoices=tuple(context["invoices"]),
        total=total,
        email=None if fallback_for else debtor.email,
        phone=debtor.phone,
        postal_address=tuple(
            x
            for x in (
                debtor.name,
                debtor.address_line,
                f"{debtor.postal_code or ''} {debtor.city or ''}".strip(),
            )
            if x
        ),
        extra={
            key: value
            for key, value in {
                "iban": sender.get("iban", ""),
                "reference": context["reference"],
                "reply_to": sender.get("email", ""),
                "creditor_contact": context["creditor_contact"],
                "post_by": today.isoformat(),  # the term in the letter assumes posting today
                "lang": lang,
                "creditor_address": sender.get("address", ""),
                "creditor_kvk": sender.get("kvk", ""),
                "creditor_logo": logo_data_uri(settings.logo, settings.logo_mime),
                "response_url": response_url,
                # One invoice: its ISO 11649 reference (several: the invoice numbers above).
                "payment_reference": grouped(rf_reference(invoices[0]))
                if len(invoices) == 1 else "",
            }.items()
            if value
        },
    )
