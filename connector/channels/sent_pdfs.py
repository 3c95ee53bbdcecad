"""The PDFs an e-mail step carried, kept so the creditor can open them from the case.

The stamp step's attachment (the creditor's own invoice with our incasso stamp, or our own
reminder page with the stamp) is made at the moment of sending and differs from any preview:
the stamp carries that day's date and the ledger's PDF of that moment. So the bytes that go
to the SMTP server are stored as they are, one stored file per attachment
(``sent_pdf/<delivery id>/<n>.pdf``, the file name the debtor saw in ``meta``), in the same
database file store as the letters, so every machine shows them.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from sqlalchemy import delete, or_, select
from sqlalchemy.orm import Session

from connector.db import Database
from connector.filestore import SENT_PDF, FileStoreError
from connector.models import Delivery, StoredFile

_SAFE_ID = re.compile(r"^[A-Za-z0-9_-]{1,64}$")


@dataclass(frozen=True)
class SentPdf:
    delivery_id: str
    number: int  # 1, 2, … in the order they were attached
    filename: str  # as the debtor saw it
    content: bytes = b""


def _name(delivery_id: str, number: int) -> str:
    if not _SAFE_ID.match(delivery_id) or number < 1:
        raise FileStoreError("invalid sent PDF name")
    return f"{delivery_id}/{number}.pdf"


class SentPdfStore:
    """``keep`` at send time, ``get`` to open one (:func:`listed` for the case timeline)."""

    def __init__(self, db: Database) -> None:
        self.db = db

    def __repr__(self) -> str:
        return "SentPdfStore()"

    def keep(self, delivery_id: str, files: Sequence[tuple[str, bytes]]) -> None:
        """Store what goes out now, replacing an earlier attempt's files (a send that was
        refused for a while and is tried again may carry other PDFs)."""
        names = [_name(delivery_id, n) for n in range(1, len(files) + 1)]
        with self.db.session() as session:
            company_id = session.scalar(select(Delivery.company_id).where(
                Delivery.id == delivery_id))
            session.execute(delete(StoredFile).where(
                StoredFile.kind == SENT_PDF,
                StoredFile.name.startswith(f"{delivery_id}/", autoescape=True)))
            for name, (filename, content) in zip(names, files, strict=True):
                session.add(StoredFile(kind=SENT_PDF, name=name, company_id=company_id,
                                       content=content, meta={"filename": filename}))

    def get(self, delivery_id: str, number: int) -> SentPdf:
        """One sent PDF with its bytes; :class:`FileStoreError` when there is none."""
        name = _name(delivery_id, number)
        with self.db.session() as session:
            row = session.execute(select(StoredFile.content, StoredFile.meta).where(
                StoredFile.kind == SENT_PDF, StoredFile.name == name)).one_or_none()
        if row is None:
            raise FileStoreError("no such sent PDF")
        content, meta = row
        return SentPdf(delivery_id, number, str((meta or {}).get("filename") or name), content)


def listed(session: Session, delivery_ids: Iterable[str]) -> dict[str, list[SentPdf]]:
    """Per delivery the PDFs it carried (without their bytes), in attachment order; takes the
    page's session, so the case timeline asks in the same transaction it reads the steps."""
    ids = [d for d in dict.fromkeys(delivery_ids) if _SAFE_ID.match(d)]
    if not ids:
        return {}
    found: dict[str, list[SentPdf]] = {}
    rows = session.execute(select(StoredFile.name, StoredFile.meta).where(
        StoredFile.kind == SENT_PDF,
        or_(*(StoredFile.name.startswith(f"{d}/", autoescape=True) for d in ids))))
    for name, meta in rows:
        delivery_id, _sep, rest = name.partition("/")
        number = int(rest.removesuffix(".pdf"))
        found.setdefault(delivery_id, []).append(
            SentPdf(delivery_id, number, str((meta or {}).get("filename") or rest)))
    for files in found.values():
        files.sort(key=lambda f: f.number)
    return found


__all__ = ["SentPdf", "SentPdfStore", "listed"]
