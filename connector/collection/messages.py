"""Rendering the text of a step: Jinja2 templates in a sandbox, money and dates the Dutch way.

The channels issue adds letterheads, PDFs and editable templates; the legal content (the
14-day wording, the exact BIK amount and the date from which it is due) is decided here.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from jinja2 import FileSystemLoader, StrictUndefined, TemplateError
from jinja2.sandbox import SandboxedEnvironment

from connector import TEMPLATES
from connector.formatting import money

SUBJECTS = {
    "stamp": "Laatste herinnering",
    "letter": "Laatste herinnering voordat incassokosten verschuldigd zijn",
    "email": "Herinnering openstaande betaling",
    "sms": "",
    "whatsapp": "",
    "call": "Belopdracht",
}


class TemplateFailed(Exception):
    """A template that does not render; the step is not sent."""


_env = SandboxedEnvironment(loader=FileSystemLoader(str(TEMPLATES)), undefined=StrictUndefined,
                            autoescape=False, keep_trailing_newline=False)
_env.filters["money"] = money


@dataclass(frozen=True)
class Rendered:
    subject: str
    body: str


def render(template: str, channel: str, context: dict[str, Any]) -> Rendered:
    try:
        body = _env.get_template(f"messages/{template}.txt").render(**context).strip()
    except TemplateError as exc:
        raise TemplateFailed(f"sjabloon {template}: {exc}") from None
    return Rendered(subject=SUBJECTS.get(channel, "Herinnering"), body=body)
