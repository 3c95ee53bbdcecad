"""Which channel serves which step, from the settings.

Without ``SMTP_URL`` (or Twilio credentials) a channel records its messages instead of sending
them, so a fresh install and the test suite never reach a debtor by accident.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from connector.channels.base import Channel
from connector.channels.capture import CaptureChannel
from connector.channels.documents import PartnerIdentity
from connector.config import Settings

if TYPE_CHECKING:
    from connector.db import Database

MESSAGE_CHANNELS = ("stamp", "letter", "email", "sms", "whatsapp", "call")


def partner_identity(settings: Settings) -> PartnerIdentity:
    return PartnerIdentity(
        name=settings.partner_name,
        address_lines=tuple(x.strip() for x in settings.partner_address.split(",") if x.strip()),
        wki_number=settings.partner_wki_number,
        kvk=settings.partner_kvk,
        phone=settings.partner_phone,
        email=settings.mail_from,
    )


def build_channels(settings: Settings, partner: PartnerIdentity | None = None,
                   db: Database | None = None) -> dict[str, Channel]:
    """``partner`` is the identity on letters and e-mails (the environment's when None; the
    app passes a :class:`connector.partner.LivePartner` so operators' edits apply at once).
    With ``db`` (the app) letters are queued in the database, so every machine sees them;
    without it (a channel on its own) in ``LETTER_DIR``."""
    channels: dict[str, Channel] = {key: CaptureChannel(key) for key in MESSAGE_CHANNELS}
    if settings.smtp_url:
        # Imported here: WeasyPrint loads system libraries, which a recording setup never needs.
        from connector.channels.email import EmailChannel, StampChannel
        from connector.channels.letter import LetterChannel
        from connector.channels.letter_db import DbLetterStore
        from connector.channels.print_queue import FileLetterStore
        from connector.channels.sent_pdfs import SentPdfStore

        partner = partner or partner_identity(settings)
        bounces = settings.bounce_address
        email = EmailChannel(settings.smtp_url, settings.mail_from, partner=partner,
                             bounce_address=bounces)
        channels["email"] = email
        channels["stamp"] = StampChannel(settings.smtp_url, settings.mail_from, partner=partner,
                                         bounce_address=bounces,
                                         sent_pdfs=SentPdfStore(db) if db is not None else None)
        store = (DbLetterStore(db) if db is not None
                 else FileLetterStore(settings.letter_dir))
        channels["letter"] = LetterChannel(store, partner, email)
    if settings.twilio_account_sid and settings.twilio_auth_token:
        from connector.channels.sms import SmsChannel, TwilioClient, WhatsAppChannel

        client = TwilioClient(settings.twilio_account_sid, settings.twilio_auth_token,
                              settings.twilio_base_url)
        callback = f"{settings.public_url}/webhooks/twilio/status"
        if settings.twilio_from:
            channels["sms"] = SmsChannel(client, settings.twilio_from, status_callback=callback)
        if settings.twilio_whatsapp_from and settings.twilio_whatsapp_content_sid:
            channels["whatsapp"] = WhatsAppChannel(
                client, settings.twilio_whatsapp_from, settings.twilio_whatsapp_content_sid,
                status_callback=callback)
    return channels
