"""What an SMTP status code means, in plain words for the creditor.

A bounce carries an enhanced status code (RFC 3463: ``class.subject.detail``, e.g. ``5.1.1``),
sometimes with the basic reply code in front (``550 5.1.1``). A creditor cannot read either, so
the code is turned into a reason ("adres bestaat niet", "mailbox vol"): first by the exact
subject and detail, then by the subject alone (RFC 3463 §3.1: a client that does not know
the detail uses the subject), then by the basic reply code. The raw code is kept next to the
reason for the operator, as "(SMTP 550 5.1.1)" (:func:`detail`), which pages leave out for
creditors (:func:`without_detail`). Reasons are keys here with their Dutch wording (the event
log is Dutch); the web layer has them in the UI's language (``connector.web.bounce_words``).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

# "(SMTP 550 5.1.1)": the operator's detail in a stored text; pages hide it from creditors.
DETAIL = re.compile(r"\s*\(SMTP [^()]*\)")
_ENHANCED = re.compile(r"(?<![\d.])([245])\.(\d{1,3})\.(\d{1,3})(?![\d.])")
_REPLY = re.compile(r"^\s*([245]\d\d)\b")

# (subject, detail) → reason; RFC 3463 §3.2–3.8, RFC 7505 (null MX), RFC 7372 (auth).
_BY_DETAIL = {
    (1, 1): "no_such_address",
    (1, 2): "no_such_domain",
    (1, 3): "address_malformed",
    (1, 4): "address_ambiguous",
    (1, 6): "address_moved",
    (1, 10): "domain_takes_no_mail",
    (2, 1): "mailbox_disabled",
    (2, 2): "mailbox_full",
    (2, 3): "message_too_big",
    (3, 1): "mail_system_full",
    (3, 4): "message_too_big",
    (4, 1): "server_unreachable",
    (4, 2): "server_unreachable",
    (4, 4): "server_unreachable",
    (4, 7): "delivery_expired",
    (7, 1): "refused_by_recipient",
    (7, 26): "refused_authentication",
}
# subject → reason, when the detail is not one of the above
_BY_SUBJECT = {
    1: "address_problem",
    2: "mailbox_problem",
    3: "mail_system_problem",
    4: "network_problem",
    5: "protocol_problem",
    6: "content_refused",
    7: "refused_policy",
}
# basic reply code (RFC 5321 §4.2.3) → reason, when there is no enhanced code
_BY_REPLY = {
    421: "mail_system_problem",
    450: "mailbox_problem",
    451: "mail_system_problem",
    452: "mail_system_full",
    550: "mailbox_unavailable",
    551: "address_moved",
    552: "mailbox_full",
    553: "address_malformed",
    554: "refused_policy",
}

DUTCH = {
    "no_such_address": "adres bestaat niet",
    "no_such_domain": "het domein van het adres bestaat niet",
    "address_malformed": "adres is verkeerd geschreven",
    "address_ambiguous": "adres is niet eenduidig",
    "address_moved": "adres is niet meer in gebruik (verhuisd)",
    "domain_takes_no_mail": "het domein van het adres ontvangt geen e-mail",
    "mailbox_disabled": "mailbox is opgeheven of uitgeschakeld",
    "mailbox_full": "mailbox vol",
    "message_too_big": "bericht te groot voor de ontvanger",
    "mail_system_full": "mailserver van de ontvanger is vol",
    "server_unreachable": "mailserver van de ontvanger niet bereikbaar",
    "delivery_expired": "afleveren lukte te lang niet",
    "refused_by_recipient": "geweigerd door de ontvanger (beleid of spamfilter)",
    "refused_authentication": "geweigerd: afzender niet herkend",
    "address_problem": "probleem met het adres",
    "mailbox_problem": "probleem met de mailbox van de ontvanger",
    "mailbox_unavailable": "adres bestaat niet of neemt geen e-mail aan",
    "mail_system_problem": "storing bij de mailserver van de ontvanger",
    "network_problem": "netwerkprobleem onderweg",
    "protocol_problem": "de mailservers begrepen elkaar niet",
    "content_refused": "inhoud van het bericht geweigerd",
    "refused_policy": "geweigerd door de ontvanger (beleid of beveiliging)",
    "unknown": "reden onbekend",
}


@dataclass(frozen=True)
class SmtpStatus:
    """A status as read: the enhanced code (``5.1.1``), the basic reply code, the reason."""

    enhanced: str | None
    reply: int | None
    reason: str  # a key of DUTCH

    @property
    def code(self) -> str:
        """The raw code for the operator: "550 5.1.1", "5.1.1", "550" or ""."""
        return " ".join(str(p) for p in (self.reply, self.enhanced) if p)

    @property
    def dutch(self) -> str:
        return DUTCH[self.reason]


def read_status(text: str | None) -> SmtpStatus:
    """``"5.1.1"``, ``"550 5.1.1 …"`` or ``"552"`` → the status with its plain reason; anything
    unreadable gives reason ``unknown``. Only the codes are kept, never the server's text (it
    tends to echo the debtor's address)."""
    text = text or ""
    reply_match = _REPLY.match(text)
    reply = int(reply_match.group(1)) if reply_match else None
    match = _ENHANCED.search(text)
    if match is None:
        return SmtpStatus(None, reply, _BY_REPLY.get(reply or 0, "unknown"))
    klass, subject, detail = (int(g) for g in match.groups())
    reason = _BY_DETAIL.get((subject, detail)) or _BY_SUBJECT.get(subject)
    if reason is None:  # X.0.x: "other or undefined"; the reply code may say more
        reason = _BY_REPLY.get(reply or 0, "unknown")
    return SmtpStatus(f"{klass}.{subject}.{detail}", reply, reason)


def detail(code: object) -> str:
    """The raw code (or exception name) as the operator's detail: "(SMTP 550 5.1.1)"."""
    text = " ".join(str(code or "").split())[:60].replace("(", "").replace(")", "")
    return f"(SMTP {text})" if text else ""


def without_detail(text: str) -> str:
    """``text`` without its operator details, for the creditor."""
    return DETAIL.sub("", text)


__all__ = ["DETAIL", "DUTCH", "SmtpStatus", "detail", "read_status", "without_detail"]
