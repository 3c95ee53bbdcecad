"""Every message carries its page's link, also a company's own template that leaves it out."""

from __future__ import annotations

from connector.channels.sms import SMS_MAX_SEPTETS, gsm7_length

LINK_LINES = {
    "nl": "Betalen of reageren: {url}",
    "en": "Pay or respond: {url}",
}
TEXT_CHANNELS = frozenset({"stamp", "email", "whatsapp", "sms"})


def with_link(body: str, channel: str, url: str, lang: str) -> str:
    """``body`` with the link added at the end when the template did not place it.

    Letters print it beside their QR code; an SMS gets it only where it still fits one
    segment (the template check keeps the default and company SMS texts within it).
    """
    if not url or url in body or channel not in TEXT_CHANNELS:
        return body
    line = LINK_LINES.get(lang, LINK_LINES["nl"]).format(url=url)
    joined = f"{body} {line}" if channel == "sms" else f"{body}\n\n{line}"
    if channel == "sms":
        length = gsm7_length(joined)
        if length is None or length > SMS_MAX_SEPTETS:
            return body
    return joined
