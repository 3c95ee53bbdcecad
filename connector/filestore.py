"""Files every machine must see: letters, the print queue, daily print files, statements.

They live in the database (``stored_files``), not in a local folder: a letter queued by a
worker on one machine is printed and marked posted from the console on another, and the
daily print file and the monthly statements are there whichever worker wrote them. The
interface is small (put, get, list, delete) so an object store could stand in later.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import delete, select
from sqlalchemy.exc import IntegrityError

from connector.db import Database
from connector.models import StoredFile, utcnow

LETTER = "letter"
PRINT_FILE = "print_file"
STATEMENT = "statement"
SENT_PDF = "sent_pdf"  # a PDF an e-mail step carried (connector.channels.sent_pdfs)
_SAFE_NAME = re.compile(r"^[A-Za-z0-9_.-]+(/[A-Za-z0-9_.-]+)?$")


class FileStoreError(Exception):
    """A file that is not there, or a name that is not allowed."""


@dataclass(frozen=True)
class FileInfo:
    kind: str
    name: str
    company_id: str | None
    size: int
    created_at: datetime
    meta: dict[str, Any]


def _check(name: str) -> str:
    if not _SAFE_NAME.match(name) or ".." in name or len(name) > 200:
        raise FileStoreError("invalid file name")
    return name


class DbFileStore:
    """Files as rows of ``stored_files`` (kind + name unique)."""

    def __init__(self, db: Database) -> None:
        self.db = db

    def put(self, kind: str, name: str, content: bytes, *, company_id: str | None = None,
            meta: dict[str, Any] | None = None, overwrite: bool = True) -> bool:
        """Store ``content``; with ``overwrite=False`` an existing file is kept (returns False)."""
        _check(name)
        with self.db.session() as session:
            row = session.scalars(select(StoredFile).where(
                StoredFile.kind == kind, StoredFile.name == name).with_for_update()
            ).one_or_none()
            if row is not None:
                if not overwrite:
                    return False
                row.content, row.meta, row.updated_at = content, dict(meta or {}), utcnow()
                row.company_id = company_id
                return True
            session.add(StoredFile(kind=kind, name=name, company_id=company_id,
                                   content=content, meta=dict(meta or {})))
            try:
                session.flush()
            except IntegrityError:  # stored by another process at the same moment
                session.rollback()
                if not overwrite:
                    return False
                raise
            return True

    def get(self, kind: str, name: str) -> bytes:
        _check(name)
        with self.db.session() as session:
            content = session.scalar(select(StoredFile.content).where(
                StoredFile.kind == kind, StoredFile.name == name))
        if content is None:
            raise FileStoreError(f"no {kind} file {name}")
        return content

    def list(self, kind: str, company_id: str | None = None) -> list[FileInfo]:
        """The files of one kind (without their bytes), oldest first."""
        from sqlalchemy import func

        query = (select(StoredFile.kind, StoredFile.name, StoredFile.company_id,
                        func.length(StoredFile.content), StoredFile.created_at, StoredFile.meta)
                 .where(StoredFile.kind == kind).order_by(StoredFile.created_at, StoredFile.name))
        if company_id is not None:
            query = query.where(StoredFile.company_id == company_id)
        with self.db.session() as session:
            return [FileInfo(*row) for row in session.execute(query)]

    def delete(self, kind: str, name: str) -> bool:
        _check(name)
        with self.db.session() as session:
            result = session.execute(delete(StoredFile).where(
                StoredFile.kind == kind, StoredFile.name == name))
        return bool(result.rowcount)


KINDS = {"print-file": PRINT_FILE, "statement": STATEMENT, "letter": LETTER,
         "sent-pdf": SENT_PDF}

__all__ = ["KINDS", "LETTER", "PRINT_FILE", "SENT_PDF", "STATEMENT", "DbFileStore",
           "FileInfo", "FileStoreError"]
