"""The print queue in the database: each queued letter's PDF is a stored file, its queue entry
the file's ``meta``, so any machine can print and mark posted what a worker queued elsewhere."""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import select

from connector.channels.print_queue import SAFE_ID, PrintQueueError, QueuedLetter
from connector.db import Database
from connector.filestore import LETTER, DbFileStore, FileStoreError
from connector.models import Delivery, StoredFile, utcnow


class DbLetterStore:
    """The print queue (:class:`connector.channels.print_queue.LetterStore`) in the database: the
    PDF is the file, the queue entry its ``meta``; updates lock the rows they change."""

    def __init__(self, db: Database) -> None:
        self.db = db
        self.files = DbFileStore(db)

    def __repr__(self) -> str:
        return "DbLetterStore()"

    def add(self, entry: QueuedLetter, pdf: bytes) -> bool:
        with self.db.session() as session:
            company_id = session.scalar(select(Delivery.company_id).where(
                Delivery.id == entry.delivery_id))
        return self.files.put(LETTER, _letter_name(entry.delivery_id), pdf,
                              company_id=company_id, meta=entry.to_json(), overwrite=False)

    def get(self, delivery_id: str) -> QueuedLetter | None:
        with self.db.session() as session:
            meta = session.scalar(select(StoredFile.meta).where(
                StoredFile.kind == LETTER, StoredFile.name == _letter_name(delivery_id)))
        return QueuedLetter.from_json(meta) if meta is not None else None

    def entries(self) -> list[QueuedLetter]:
        letters = [QueuedLetter.from_json(info.meta) for info in self.files.list(LETTER)]
        return sorted(letters, key=lambda e: e.queued_at)

    def pdf(self, delivery_id: str) -> bytes:
        try:
            return self.files.get(LETTER, _letter_name(delivery_id))
        except FileStoreError:
            raise PrintQueueError("unknown letter") from None

    def update(self, entries: Iterable[QueuedLetter]) -> None:
        with self.db.session() as session:
            for entry in entries:
                row = session.scalars(select(StoredFile).where(
                    StoredFile.kind == LETTER,
                    StoredFile.name == _letter_name(entry.delivery_id)).with_for_update()
                ).one_or_none()
                if row is None:
                    raise PrintQueueError("unknown letter")
                row.meta, row.updated_at = entry.to_json(), utcnow()


def _letter_name(delivery_id: str) -> str:
    if not SAFE_ID.match(delivery_id):
        raise PrintQueueError("invalid delivery id")
    return f"{delivery_id}.pdf"
