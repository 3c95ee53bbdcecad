"""Bounce events in plain words, in the UI's language, with the raw SMTP code for operators.

Stored texts that carry an SMTP code as "(SMTP …)" (a step refused by the mail server) show
it to operators only (:func:`for_viewer`).

The event log stores a bounce in Dutch with the reason in words and, in its data, the raw code
("5.1.1"), the reason's key, the step and what happened next (see
``connector.collection.bounces``). A page rebuilds the sentence in the UI's language from that
data; a creditor never sees the code, an operator gets it as a small detail. Events recorded
before the reason was kept ("… (status 5.1.1) …") get the reason read from their code.
"""

from __future__ import annotations

import re
from typing import Any

from flask_babel import lazy_gettext as _l
from markupsafe import Markup, escape

from connector.channels.smtp_status import read_status, without_detail
from connector.web.access import operator_id

BOUNCE_KINDS = frozenset({"step.bounced", "step.bounce_delayed"})
REASONS = {
    "no_such_address": _l("adres bestaat niet"),
    "no_such_domain": _l("het domein van het adres bestaat niet"),
    "address_malformed": _l("adres is verkeerd geschreven"),
    "address_ambiguous": _l("adres is niet eenduidig"),
    "address_moved": _l("adres is niet meer in gebruik (verhuisd)"),
    "domain_takes_no_mail": _l("het domein van het adres ontvangt geen e-mail"),
    "mailbox_disabled": _l("mailbox is opgeheven of uitgeschakeld"),
    "mailbox_full": _l("mailbox vol"),
    "message_too_big": _l("bericht te groot voor de ontvanger"),
    "mail_system_full": _l("mailserver van de ontvanger is vol"),
    "server_unreachable": _l("mailserver van de ontvanger niet bereikbaar"),
    "delivery_expired": _l("afleveren lukte te lang niet"),
    "refused_by_recipient": _l("geweigerd door de ontvanger (beleid of spamfilter)"),
    "refused_authentication": _l("geweigerd: afzender niet herkend"),
    "address_problem": _l("probleem met het adres"),
    "mailbox_problem": _l("probleem met de mailbox van de ontvanger"),
    "mailbox_unavailable": _l("adres bestaat niet of neemt geen e-mail aan"),
    "mail_system_problem": _l("storing bij de mailserver van de ontvanger"),
    "network_problem": _l("netwerkprobleem onderweg"),
    "protocol_problem": _l("de mailservers begrepen elkaar niet"),
    "content_refused": _l("inhoud van het bericht geweigerd"),
    "refused_policy": _l("geweigerd door de ontvanger (beleid of beveiliging)"),
    "unknown": _l("reden onbekend"),
}
OUTCOMES = {
    "delayed": _l("Stap '%(step)s': e-mail nog niet afgeleverd (%(reason)s); de server van de "
                  "ontvanger probeert het opnieuw"),
    "letter_copy": _l("Stap '%(step)s': de e-mailkopie van de brief kwam niet aan "
                      "(%(reason)s); de brief gaat per post"),
    "check": _l("Stap '%(step)s': e-mail kwam niet aan (%(reason)s); controleer de stap"),
    "no_case": _l("Stap '%(step)s': e-mail kwam niet aan (%(reason)s); geen lopend dossier op "
                  "deze stap meer, dus geen brief"),
    "fallback": _l("Stap '%(step)s': e-mail kwam niet aan (%(reason)s); de herinnering gaat "
                   "per post"),
}
_OLD_STATUS = re.compile(r"\(status ([^)]*)\)")


def for_viewer(text: str | None) -> str:
    """A stored text (a step's failure reason, an event) as the viewer may see it: an operator
    gets the "(SMTP 550 5.1.1)" details, a creditor only the words."""
    if not text:
        return ""
    return text if operator_id() else without_detail(text)


def reason_words(key: str | None) -> str:
    return str(REASONS.get(key or "", REASONS["unknown"]))


def bounce_text(message: str, data: dict[str, Any] | None) -> Markup:
    """The bounce event's sentence for the page (escaped), the code for an operator only."""
    data = data or {}
    code = str(data.get("status") or "")
    outcome, step = data.get("outcome"), data.get("step")
    if outcome in OUTCOMES and step is not None:
        text = str(OUTCOMES[outcome]) % {"step": step,
                                         "reason": reason_words(data.get("reason"))}
    else:  # recorded before the reason was kept: read it from the code in the message
        found = _OLD_STATUS.search(message)
        code = code or (found.group(1) if found else "")
        text = _OLD_STATUS.sub(
            lambda m: f"({reason_words(read_status(m.group(1)).reason)})", message)
    shown = escape(text)
    if code and code != "onbekend" and operator_id():
        shown += Markup(' <span class="muted smtp-code">(SMTP {})</span>').format(code)
    return shown


__all__ = ["BOUNCE_KINDS", "OUTCOMES", "REASONS", "bounce_text", "for_viewer", "reason_words"]
