"""Files every machine must see: letters, the print queue, daily print files, statements.

They live in the database (``stored_files``), not in a local folder: a letter queued by a
worker on one machine is printed and marked posted from the console on another, and the
daily print file and the monthly statements are there whichever worker wrote them. The
interface is small (put, get, list, delete) so an object store could stand in later.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import click
from sqlalchemy import delete, select
from sqlalchemy.exc import IntegrityError

from connector.db import Database
from connector.models import Delivery, StoredFile, utcnow

LETTER = "letter"
PRINT_FILE = "print_file"
STATEMENT = "statement"
_SAFE_NAME = re.compile(r"^[A-Za-z0-9_.-]+(/[A-Za-z0-9_.-]+)?$")
_SAFE_ID = re.compile(r"^[A-Za-z0-9_-]{1,64}$")


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


class DbLetterStore:
    """The print queue (:class:`connector.channels.letter.LetterStore`) in the database: the
    PDF is the file, the queue entry its ``meta``; updates lock the rows they change."""

    def __init__(self, db: Database) -> None:
        self.db = db
        self.files = DbFileStore(db)

    def __repr__(self) -> str:
        return "DbLetterStore()"

    def add(self, entry, pdf: bytes) -> bool:  # entry: QueuedLetter
        with self.db.session() as session:
            company_id = session.scalar(select(Delivery.company_id).where(
                Delivery.id == entry.delivery_id))
        return self.files.put(LETTER, _letter_name(entry.delivery_id), pdf,
                              company_id=company_id, meta=entry.to_json(), overwrite=False)

    def get(self, delivery_id: str):
        from connector.channels.letter import QueuedLetter

        with self.db.session() as session:
            meta = session.scalar(select(StoredFile.meta).where(
                StoredFile.kind == LETTER, StoredFile.name == _letter_name(delivery_id)))
        return QueuedLetter.from_json(meta) if meta is not None else None

    def entries(self) -> list:
        from connector.channels.letter import QueuedLetter

        letters = [QueuedLetter.from_json(info.meta) for info in self.files.list(LETTER)]
        return sorted(letters, key=lambda e: e.queued_at)

    def pdf(self, delivery_id: str) -> bytes:
        from connector.channels.letter import PrintQueueError

        try:
            return self.files.get(LETTER, _letter_name(delivery_id))
        except FileStoreError:
            raise PrintQueueError("unknown letter") from None

    def update(self, entries: Iterable) -> None:
        from connector.channels.letter import PrintQueueError

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
    from connector.channels.letter import PrintQueueError

    if not _SAFE_ID.match(delivery_id):
        raise PrintQueueError("invalid delivery id")
    return f"{delivery_id}.pdf"


KINDS = {"print-file": PRINT_FILE, "statement": STATEMENT, "letter": LETTER}


@click.group("files")
def files_cli() -> None:
    """Files kept in the database: daily print files, monthly statements, letters."""


@files_cli.command("list")
@click.argument("kind", type=click.Choice(sorted(KINDS)))
def files_list(kind: str) -> None:
    """List the stored files of KIND (name, size, created)."""
    files = DbFileStore(_services().db)
    for info in files.list(KINDS[kind]):
        click.echo(f"{info.name}\t{info.size}\t{info.created_at:%Y-%m-%d %H:%M}")


@files_cli.command("get")
@click.argument("kind", type=click.Choice(sorted(KINDS)))
@click.argument("name")
@click.option("--out", type=click.Path(dir_okay=False, writable=True), required=True,
              help="Where to write the file.")
def files_get(kind: str, name: str, out: str) -> None:
    """Write the stored file NAME of KIND to --out (e.g. print-file 2026-03-09.pdf)."""
    try:
        content = DbFileStore(_services().db).get(KINDS[kind], name)
    except FileStoreError as exc:
        raise click.ClickException(str(exc)) from None
    with open(out, "wb") as handle:
        handle.write(content)
    click.echo(f"{name}: {len(content)} bytes written to {out}")


def _services():
    from connector.config import load_settings
    from connector.services import Services

    return Services.from_settings(load_settings())


__all__ = ["LETTER", "PRINT_FILE", "STATEMENT", "DbFileStore", "DbLetterStore", "FileInfo",
           "FileStoreError", "files_cli"]
