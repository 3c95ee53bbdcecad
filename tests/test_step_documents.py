"""Which PDF a step's note takes to a ledger that keeps documents (capability
``invoice_documents``): the letter as queued for printing, the stamped reminder as mailed, the
invoice's own stamped copy when the mail carried one per invoice; nothing for other steps."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, date, datetime

from connector.channels.print_queue import QueuedLetter
from connector.channels.sent_pdfs import SentPdfStore
from connector.models import Company, Debtor, Delivery
from connector.step_documents import letter_store, step_document

MONDAY = date(2026, 3, 2)


def _deliveries(services, *channels: str) -> list[str]:
    with services.db.session() as db:
        company = Company(name="Bakkerij De Zon B.V.", provider="moneybird")
        db.add(company)
        db.flush()
        debtor = Debtor(company_id=company.id, external_id="1", kind="consumer", name="Klant")
        db.add(debtor)
        db.flush()
        rows = [Delivery(company_id=company.id, debtor_id=debtor.id, step=n,
                         step_name=f"Stap {n} {channel}", channel=channel, template="x",
                         due_on=MONDAY, state="sent")
                for n, channel in enumerate(channels)]
        db.add_all(rows)
        db.flush()
        return [d.id for d in rows]


def test_a_letter_goes_as_queued_for_printing_and_not_once_withdrawn(services):
    letter, withdrawn, email = _deliveries(services, "letter", "letter", "email")
    store = letter_store(services)
    queued_at = datetime(2026, 3, 2, 9, tzinfo=UTC)
    for delivery_id in (letter, withdrawn):
        store.add(QueuedLetter(delivery_id, queued_at, MONDAY, MONDAY, 1),
                  f"%PDF-1.7 letter {delivery_id}".encode())
    store.update([replace(store.get(withdrawn), withdrawn_on=MONDAY)])

    document = step_document(services, letter, "2026-001")
    assert document is not None and document.label == "Stap 0 letter"
    assert document.content == store.pdf(letter) == f"%PDF-1.7 letter {letter}".encode()
    assert "%PDF" not in repr(document)  # a letter to a debtor stays out of logs
    # Made again because it missed its posting day: never posted, so not the step's document.
    assert step_document(services, withdrawn, "2026-001") is None
    # An e-mail step sent no PDF; an unknown delivery has none.
    assert step_document(services, email, "2026-001") is None
    assert step_document(services, "f" * 32, "2026-001") is None


def test_a_stamp_goes_as_mailed_and_per_invoice_its_own_copy(services):
    own_page, per_invoice, not_kept = _deliveries(services, "stamp", "stamp", "stamp")
    kept = SentPdfStore(services.db)
    kept.keep(own_page, [("laatste-herinnering.pdf", b"%PDF our page")])
    kept.keep(per_invoice, [("factuur-2026-001.pdf", b"%PDF one"),
                            ("factuur-2026-002.pdf", b"%PDF two")])

    # Our own reminder page lists every invoice: each invoice's note takes it.
    for label in ("2026-001", "2026-002"):
        assert step_document(services, own_page, label).content == b"%PDF our page"
    # One stamped invoice per invoice: each note takes its own.
    assert step_document(services, per_invoice, "2026-002").content == b"%PDF two"
    assert step_document(services, per_invoice, "2026-001").label == "Stap 1 stamp"
    assert step_document(services, per_invoice, "2026-003") is None
    # A PDF that was not kept (keeping it failed): the note goes alone.
    assert step_document(services, not_kept, "2026-001") is None
