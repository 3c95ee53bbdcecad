"""A company's own message templates: look up, save (only when valid) and reset to default.

Saving goes through :func:`connector.collection.template_check.validate_template`; a refused
template changes nothing. Every save and reset is in the event log, without the text itself.
"""

from __future__ import annotations

from datetime import date

from sqlalchemy import select
from sqlalchemy.orm import Session

from connector import events
from connector.collection.messages import LANG_LABELS, TEMPLATE_LABELS
from connector.collection.template_check import TemplateRefused, validate_template
from connector.models import CompanyTemplate, utcnow


def override_for(session: Session, company_id: str, name: str, lang: str
                 ) -> CompanyTemplate | None:
    """The company's own text for this template and language, if it has one."""
    return session.get(CompanyTemplate, (company_id, name, lang))


def overrides(session: Session, company_id: str) -> dict[tuple[str, str], CompanyTemplate]:
    """All of a company's own templates, by (name, language)."""
    rows = session.scalars(select(CompanyTemplate).where(CompanyTemplate.company_id == company_id))
    return {(row.name, row.lang): row for row in rows}


def _label(name: str, lang: str) -> str:
    return f"'{TEMPLATE_LABELS.get(name, name)}' ({LANG_LABELS.get(lang, lang)})"


def save_template(session: Session, company_id: str, name: str, lang: str, body: str, actor: str,
                  *, today: date | None = None) -> CompanyTemplate:
    """Store the company's own text, or raise :class:`TemplateRefused` and change nothing."""
    body = body.replace("\r\n", "\n")
    problems = validate_template(name, lang, body, today=today)
    if problems:
        raise TemplateRefused(problems)
    row = override_for(session, company_id, name, lang)
    if row is None:
        row = CompanyTemplate(company_id=company_id, name=name, lang=lang, body=body,
                              updated_by=actor)
        session.add(row)
    else:
        row.body, row.updated_by, row.updated_at = body, actor, utcnow()
    events.record(session, "template.saved", f"Sjabloon {_label(name, lang)} aangepast",
                  company_id=company_id, actor=actor, template=name, lang=lang)
    return row


def reset_template(session: Session, company_id: str, name: str, lang: str, actor: str) -> bool:
    """Back to the default text; False when there was no own text to remove."""
    row = override_for(session, company_id, name, lang)
    if row is None:
        return False
    session.delete(row)
    session.flush()  # a second reset in the same transaction must see it gone
    events.record(session, "template.reset",
                  f"Sjabloon {_label(name, lang)} teruggezet naar de standaardtekst",
                  company_id=company_id, actor=actor, template=name, lang=lang)
    return True


__all__ = ["TemplateRefused", "override_for", "overrides", "reset_template", "save_template"]
