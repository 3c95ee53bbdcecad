"""Template filters for money, dates and stored codes on pages, in the UI's language.

Pages follow the UI locale (nl → nl_NL, en → en_GB); the formatters themselves are
``connector.formatting``'s. Messages and letters call those directly in their own Jinja
environments, because a debtor's language is decided per debtor, not per UI.
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

from flask import Flask
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from markupsafe import Markup
from sqlalchemy import select

from connector import formatting
from connector.models import Connection
from connector.web.access import services
from connector.web.bounce_words import BOUNCE_KINDS, bounce_text, for_viewer
from connector.web.i18n import format_locale
from connector.web.ledgers import connect_links, connect_slug, platform, plugin_for_key
from providers.base import Capabilities

LABELS = {
    # invoice status (ours)
    "open": _l("openstaand"), "paid": _l("betaald"), "credited": _l("gecrediteerd"),
    "uncollectible": _l("oninbaar"), "deleted": _l("verwijderd"), "draft": _l("concept"),
    # sync outcome and trigger
    "ok": _l("gelukt"), "running": _l("bezig"), "skipped": _l("overgeslagen"),
    "reconnect_needed": _l("opnieuw koppelen nodig"),
    "rate_limited": _l("uitgesteld (limiet)"),
    "error": _l("mislukt"), "rejected": _l("geweigerd"), "interrupted": _l("onderbroken"),
    "schedule": _l("gepland"), "requested": _l("aangevraagd"),
    "manual": _l("handmatig"), "connect": _l("koppeling"),
    # why a case closed without payment (connector.collection.backlog)
    "backlog": _l("niet meegenomen bij live gaan"),
    "time_barred": _l("mogelijk verjaard"),
    # a debtor's payment plan proposal
    "proposed": _l("wacht op besluit"), "accepted": _l("geaccepteerd"),
    "refused": _l("afgewezen"), "missed": _l("termijn gemist"),
}

# Codes of the pre-incasso engine, in words for the pages. The Dutch is the engine's own text
# (``policy.CHANNEL_LABELS``, ``report.STATE_LABELS``, ``cases.HOLD_LABELS``,
# ``messages.TEMPLATE_LABELS`` / ``LANG_LABELS``): those stay Dutch where they are stored or sent
# (step names, events, notes); only what the page shows is translated, here.
CHANNEL_LABELS = {
    "stamp": _l("incassostempel op de laatste herinnering"),
    "letter": _l("Profitletter (post en e-mail)"),
    "email": _l("e-mail"),
    "sms": _l("sms"),
    "whatsapp": _l("WhatsApp"),
    "call": _l("telefoongesprek"),
    "handover": _l("klaar voor overdracht"),
}
CASE_STATES = {
    "active": _l("loopt"),
    "on_hold": _l("on hold"),
    "ready_for_handover": _l("klaar voor overdracht"),
    "handed_over": _l("overgedragen"),
    "closed": _l("gesloten"),
}
HOLD_LABELS = {
    "dispute": _l("betwisting"),
    "promise": _l("betaalbelofte"),
    "payment_plan": _l("betalingsregeling"),
    "pause": _l("pauze"),
    "excluded": _l("debiteur uitgesloten"),
    "handover": _l("overgedragen aan incasso"),
    "paid_check": _l("betaling wordt gecontroleerd"),
    "plan_proposal": _l("voorstel betalingsregeling"),
    "call_back": _l("terugbelverzoek"),
}
TEMPLATE_LABELS = {
    "profitletter_consumer": _l("Profitletter particulier (veertiendagenbrief)"),
    "profitletter_business": _l("Profitletter zakelijk"),
    "stamp": _l("Laatste herinnering met incassostempel"),
    "email": _l("E-mail"),
    "sms": _l("Sms"),
    "whatsapp": _l("WhatsApp"),
    "call_script": _l("Belscript"),
}
LANG_LABELS = {"nl": _l("Nederlands"), "en": _l("Engels")}
DEBTOR_ANSWERS = {
    "paid": _l("Heeft al betaald"),
    "dispute": _l("Niet eens met de factuur"),
    "plan": _l("Wil een betalingsregeling"),
    "callback": _l("Wil teruggebeld worden"),
}

# What a platform calls one ledger (``ProviderInfo.tenant_label``, Dutch): singular, plural.
TENANT_WORDS = {"administratie": (_l("administratie"), _l("administraties"))}


def tenant_word(key: str, plural: bool = False) -> str:
    """A platform's word for a ledger in the UI's language; an unknown word gets a Dutch -s."""
    words = TENANT_WORDS.get(key)
    if words is None:
        return f"{key}s" if plural else key
    return str(words[1] if plural else words[0])


def _tenant_id_of(company: object) -> str | None:
    company_id = getattr(company, "id", None)
    if not company_id:
        return None
    with services().db.session() as db:
        return db.scalar(select(Connection.tenant_id).where(Connection.company_id == company_id))


def _tenant_word_of(provider: str | None) -> str:
    """The platform's own word for a ledger ("administratie", "divisie")."""
    registry = services().providers
    if provider not in registry:
        return str(_l("administratie"))
    return tenant_word(registry.get(provider).info.tenant_label)


def company_label(company: object) -> Markup:
    """A company's name with its platform and ledger code, so two of the same name differ.

    Reads the connection when it is already loaded, else asks the database: a page renders
    after its database session closed, where a lazy load would fail.
    """
    name = getattr(company, "name", "") or "–"
    provider = getattr(company, "provider", None)
    connection = getattr(company, "__dict__", {}).get("connection")
    tenant_id = connection.tenant_id if connection is not None else _tenant_id_of(company)
    parts = [platform(provider)]
    if tenant_id:
        parts.append(f"{_tenant_word_of(provider)} {tenant_id}")
    return Markup('{} <span class="muted company-code">({})</span>').format(
        name, " · ".join(parts))


def pauses_own_reminders(provider: str | None) -> bool:
    """Whether the platform lets us pause its own reminders (a capability, not a name test):
    where it cannot, pages tell the creditor to switch them off, never that we paused them."""
    return _capabilities(provider).pause_own_reminders


def sends_own_reminder(provider: str | None) -> bool:
    """Whether the platform can send its own reminder with our text (capability
    ``send_own_reminder``): only then may the stamp step go out that way."""
    return _capabilities(provider).send_own_reminder


def own_reminder_label(provider: str | None) -> str:
    """The plug-in's words for sending the stamp step as the ledger's own reminder."""
    plugin = plugin_for_key(provider)
    return _(plugin.own_reminder_label) if plugin is not None and plugin.own_reminder_label \
        else ""


def payment_settings_help(provider: str | None) -> str:
    """The plug-in's words above its payment settings: what happens when they are empty."""
    plugin = plugin_for_key(provider)
    return _(plugin.payment_settings_help) if plugin is not None and \
        plugin.payment_settings_help else ""


def _capabilities(provider: str | None) -> Capabilities:
    registry = services().providers
    return registry.get(provider).info.capabilities if provider in registry else Capabilities()


def event_text(event: object, provider: str | None) -> str:
    """An event's message as the page shows it. The log says "reminders paused" when a case
    starts; on a platform that cannot pause them (capability) that would be untrue, so the
    page says what the creditor must do instead. A bounce says why in words, not in SMTP
    codes (see connector.web.bounce_words)."""
    kind = getattr(event, "kind", "")
    if kind in BOUNCE_KINDS:
        return bounce_text(getattr(event, "message", ""), getattr(event, "data", None))
    if kind in ("writeback.pause.queued", "writeback.resume.queued") and not (
            pauses_own_reminders(provider)):
        name = platform(provider)
        if kind == "writeback.pause.queued":
            return str(_l("%(platform)s kan zijn eigen herinneringen niet via de koppeling "
                          "pauzeren: zet ze zelf uit voor deze debiteur", platform=name))
        return str(_l("Herinneringen van %(platform)s: zet ze zelf weer aan als u dat wilt",
                      platform=name))
    return for_viewer(getattr(event, "message", ""))


ACTORS = {"system": _l("automatisch"), "creditor": _l("u"), "debtor": _l("debiteur")}


def actor_label(actor: str | None) -> str:
    """Who did it, in words: the stored actor codes ("system", "operator:…") are internal."""
    actor = actor or "system"
    kind, _sep, who = actor.partition(":")
    if kind == "operator":
        return str(_l("partner (%(who)s)", who=who)) if who else str(_l("partner"))
    if kind == "worker":
        return str(ACTORS["system"])
    words = ACTORS.get(actor)
    return str(words) if words is not None else str(_l("automatisch"))


def label(value: str | None) -> str:
    """Words for the codes we store, in the UI's language; an unknown code is shown as it is."""
    text = LABELS.get(value or "")
    return str(text) if text is not None else (value or "–")


def _word(words: dict, value: object) -> str:
    """A code in words in the UI's language; an unknown code is shown as it is."""
    key = getattr(value, "value", value)  # an enum member or its stored string
    text = words.get(key or "")
    return str(text) if text is not None else str(key or "–")


def channel_label(value: str | None) -> str:
    return _word(CHANNEL_LABELS, value)


def case_state(value: str | None) -> str:
    return _word(CASE_STATES, value)


def hold_label(value: str | None) -> str:
    return _word(HOLD_LABELS, value)


def template_label(value: str | None) -> str:
    return _word(TEMPLATE_LABELS, value)


def lang_label(value: str | None) -> str:
    return _word(LANG_LABELS, value)


def debtor_answer(value: str | None) -> str:
    return _word(DEBTOR_ANSWERS, value)


def money(value: Decimal | None, currency: str = "EUR") -> str:
    return formatting.money(value, currency, format_locale())


def day(value: date | None) -> str:
    return formatting.day(value, format_locale())


def long_day(value: date | None) -> str:
    return formatting.long_day(value, format_locale())


def moment(value: datetime | None) -> str:
    return formatting.moment(value, format_locale())


def hour_minute(value: datetime | None) -> str:
    """A time of day on the Dutch clock, for "volgende ronde 13:15"."""
    return formatting.hour_minute(value, format_locale())


def register(app: Flask) -> None:
    app.add_template_filter(money, "money")
    app.add_template_filter(day, "day")
    app.add_template_filter(moment, "moment")
    app.add_template_filter(label, "label")
    app.add_template_filter(platform, "platform")
    app.add_template_filter(tenant_word, "tenant_word")
    app.add_template_filter(company_label, "company_label")
    app.add_template_filter(actor_label, "actor_label")
    app.add_template_filter(event_text, "event_text")
    app.add_template_filter(for_viewer, "for_viewer")
    app.add_template_global(pauses_own_reminders, "pauses_own_reminders")
    app.add_template_global(sends_own_reminder, "sends_own_reminder")
    app.add_template_global(own_reminder_label, "own_reminder_label")
    app.add_template_global(payment_settings_help, "payment_settings_help")
    app.add_template_filter(connect_slug, "connect_slug")
    app.add_template_global(connect_links, "connect_links")
    app.add_template_filter(long_day, "long_day")
    app.add_template_filter(hour_minute, "hour_minute")
    for function in (channel_label, case_state, hold_label, template_label, lang_label,
                     debtor_answer):
        app.add_template_filter(function)
