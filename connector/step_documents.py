"""The PDF a step sent, found again for the ledger (capability ``invoice_documents``).

A ledger that keeps documents with the invoice gets the step's own PDF with its note, not a
description of it: the Profitletter as it went to the print queue (the letter store), or the
stamped reminder as it was mailed (the sent PDFs, :mod:`connector.channels.sent_pdfs`). Other
steps (e-mail, SMS, call) sent no PDF, and a letter withdrawn from the print queue (made again
because it missed its posting day) was never posted: those get none, and the ledger gets the
note alone, as every ledger does.
"""

from __future__ import annotations

from connector.channels.email import invoice_attachment_name
from connector.channels.letter_db import DbLetterStore
from connector.channels.print_queue import LetterStore, PrintQueueError
from connector.channels.sent_pdfs import SentPdfStore, listed
from connector.filestore import FileStoreError
from connector.models import Delivery
from connector.services import Services
from providers.base import LedgerDocument


def letter_store(services: Services) -> LetterStore:
    """The print queue in the database, shared by every worker and web process."""
    store = getattr(services.channels.get("letter"), "store", None)
    return store if store is not None else DbLetterStore(services.db)


def step_document(services: Services, delivery_id: str,
                  invoice_label: str) -> LedgerDocument | None:
    """The PDF delivery ``delivery_id`` sent about the invoice called ``invoice_label`` (its
    number, else its id in the ledger), named after the step; None where it sent none.

    A stamp mail that carried one stamped invoice per invoice gives this invoice's own; one
    that carried our reminder page gives that page. A PDF that is not (or no longer) stored
    gives None; a database that does not answer raises, so the write is tried again later
    instead of going without its document.
    """
    with services.db.session() as session:
        delivery = session.get(Delivery, delivery_id)
        if delivery is None:
            return None
        channel, label = delivery.channel, delivery.step_name
        sent = listed(session, [delivery_id]).get(delivery_id, [])
    if channel == "letter":
        return _letter(services, delivery_id, label)
    if channel != "stamp" or not sent:
        return None
    if len(sent) > 1:  # one stamped invoice per invoice: this invoice's own
        sent = [f for f in sent if f.filename == invoice_attachment_name(invoice_label)]
        if len(sent) != 1:
            return None
    try:
        pdf = SentPdfStore(services.db).get(delivery_id, sent[0].number)
    except FileStoreError:
        return None
    return LedgerDocument(pdf.content, label)


def _letter(services: Services, delivery_id: str, label: str) -> LedgerDocument | None:
    store = letter_store(services)
    try:
        entry = store.get(delivery_id)
        if entry is None or entry.withdrawn_on is not None:
            return None
        return LedgerDocument(store.pdf(delivery_id), label)
    except (PrintQueueError, FileNotFoundError):
        return None

