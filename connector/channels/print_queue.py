"""The print queue: letters waiting for the post, the day's print file, and the posting record.

The queue is a handful of functions over a :class:`LetterStore`: files plus a small JSON index
(:class:`FileLetterStore`) for a channel on its own, the database
(:class:`connector.channels.letter_db.DbLetterStore`) in the app. The index holds ids and
dates only, never debtor data. The letter channel (:mod:`connector.channels.letter`) fills the
queue; the operator console and the daily print job (:mod:`connector.collection.posting`,
:mod:`connector.periodic`) empty it.
"""

from __future__ import annotations

import contextlib
import fcntl
import io
import json
import os
import re
import tempfile
import threading
import uuid
from collections.abc import Iterable, Iterator
from dataclasses import asdict, dataclass, replace
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any, Protocol

from connector.config import INSTANCE_DIR

DEFAULT_LETTER_DIR = INSTANCE_DIR / "letters"
#: A delivery id that is safe as a file name (and so as a letter's key in any store).
SAFE_ID = re.compile(r"^[A-Za-z0-9_-]{1,64}$")

class PrintQueueError(Exception):
    """A print-queue request that cannot be honoured (unknown letter, too late to post, ...)."""


@dataclass(frozen=True)
class QueuedLetter:
    """One letter in the print queue. Ids and dates only: no debtor data in the index."""

    delivery_id: str
    queued_at: datetime  # aware UTC
    queue_day: date  # the Dutch calendar day it was queued
    post_by: date  # the last posting day the letter's payment term was computed for
    pages: int
    posted_on: date | None = None
    batch_id: str | None = None
    email_ref: str | None = None  # Message-ID of the e-mail copy
    email_problem: str | None = None  # why the e-mail copy did not (surely) go out
    withdrawn_on: date | None = None  # not posted in time; a new letter replaces it

    def to_json(self) -> dict[str, Any]:
        data = asdict(self)
        for key in ("queued_at", "queue_day", "post_by", "posted_on", "withdrawn_on"):
            data[key] = data[key].isoformat() if data[key] is not None else None
        return data

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> QueuedLetter:
        return cls(
            delivery_id=data["delivery_id"],
            queued_at=datetime.fromisoformat(data["queued_at"]).astimezone(UTC),
            queue_day=date.fromisoformat(data["queue_day"]),
            post_by=date.fromisoformat(data["post_by"]),
            pages=int(data["pages"]),
            posted_on=date.fromisoformat(data["posted_on"]) if data.get("posted_on") else None,
            batch_id=data.get("batch_id"),
            email_ref=data.get("email_ref"),
            email_problem=data.get("email_problem"),
            withdrawn_on=(date.fromisoformat(data["withdrawn_on"]) if data.get("withdrawn_on")
                          else None),
        )


class LetterStore(Protocol):
    """Where letters and their queue state live; swap the file store for a table later."""

    def add(self, entry: QueuedLetter, pdf: bytes) -> bool:
        """Store a new letter; False (and nothing changed) if the delivery is already there."""
        ...

    def get(self, delivery_id: str) -> QueuedLetter | None: ...

    def entries(self) -> list[QueuedLetter]: ...

    def pdf(self, delivery_id: str) -> bytes: ...

    def update(self, entries: Iterable[QueuedLetter]) -> None:
        """Replace the given entries (same delivery ids) atomically."""
        ...


class FileLetterStore:
    """``<root>/<delivery_id>.pdf`` plus ``<root>/index.json``; safe across local processes."""

    def __init__(self, root: Path | str = DEFAULT_LETTER_DIR) -> None:
        self.root = Path(root)
        self._lock = threading.Lock()

    def __repr__(self) -> str:
        return f"FileLetterStore({str(self.root)!r})"

    @contextlib.contextmanager
    def _locked(self) -> Iterator[None]:
        self.root.mkdir(parents=True, exist_ok=True)
        with self._lock, open(self.root / ".lock", "a+") as handle:
            fcntl.flock(handle, fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(handle, fcntl.LOCK_UN)

    def _path(self, delivery_id: str) -> Path:
        if not SAFE_ID.match(delivery_id):
            raise PrintQueueError("invalid delivery id")
        return self.root / f"{delivery_id}.pdf"

    def _read_index(self) -> dict[str, QueuedLetter]:
        path = self.root / "index.json"
        if not path.exists():
            return {}
        raw = json.loads(path.read_text(encoding="utf-8"))
        return {d["delivery_id"]: QueuedLetter.from_json(d) for d in raw["letters"]}

    def _write_atomic(self, path: Path, data: bytes) -> None:
        fd, tmp = tempfile.mkstemp(dir=self.root, prefix=".tmp-")
        try:
            with os.fdopen(fd, "wb") as handle:
                handle.write(data)
                handle.flush()
                os.fsync(handle.fileno())
            os.replace(tmp, path)
        except BaseException:
            with contextlib.suppress(OSError):
                os.unlink(tmp)
            raise

    def _write_index(self, index: dict[str, QueuedLetter]) -> None:
        letters = [e.to_json() for e in sorted(index.values(), key=lambda e: e.queued_at)]
        payload = json.dumps({"version": 1, "letters": letters}, indent=1).encode()
        self._write_atomic(self.root / "index.json", payload)

    def add(self, entry: QueuedLetter, pdf: bytes) -> bool:
        path = self._path(entry.delivery_id)
        with self._locked():
            index = self._read_index()
            if entry.delivery_id in index:
                return False
            self._write_atomic(path, pdf)
            index[entry.delivery_id] = entry
            self._write_index(index)
            return True

    def get(self, delivery_id: str) -> QueuedLetter | None:
        self._path(delivery_id)
        with self._locked():
            return self._read_index().get(delivery_id)

    def entries(self) -> list[QueuedLetter]:
        with self._locked():
            return sorted(self._read_index().values(), key=lambda e: e.queued_at)

    def pdf(self, delivery_id: str) -> bytes:
        return self._path(delivery_id).read_bytes()

    def update(self, entries: Iterable[QueuedLetter]) -> None:
        with self._locked():
            index = self._read_index()
            for entry in entries:
                if entry.delivery_id not in index:
                    raise PrintQueueError("unknown letter")
                index[entry.delivery_id] = entry
            self._write_index(index)


def letters_waiting(store: LetterStore, day: date) -> list[QueuedLetter]:
    """Letters queued on or before ``day`` (Dutch calendar) and not yet posted, oldest first."""
    return [e for e in store.entries()
            if e.posted_on is None and e.withdrawn_on is None and e.queue_day <= day]


def merge_letters(store: LetterStore, delivery_ids: Iterable[str], *, duplex: bool = False
                  ) -> bytes:
    """One PDF for the printer; with ``duplex`` every letter starts on a fresh sheet."""
    from pypdf import PdfReader, PdfWriter

    writer = PdfWriter()
    for delivery_id in delivery_ids:
        reader = PdfReader(io.BytesIO(store.pdf(delivery_id)))
        for page in reader.pages:
            writer.add_page(page)
        if duplex and len(reader.pages) % 2:
            last = reader.pages[-1].mediabox
            writer.add_blank_page(width=float(last.width), height=float(last.height))
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


def print_file_for_day(store: LetterStore, day: date, *, duplex: bool = False
                       ) -> tuple[list[str], bytes]:
    """The waiting letters of ``day`` and the merged PDF to print (empty PDF if none)."""
    ids = [e.delivery_id for e in letters_waiting(store, day)]
    return ids, merge_letters(store, ids, duplex=duplex)


def mark_posted(store: LetterStore, delivery_ids: Iterable[str], posted_on: date) -> str:
    """Record that these letters went into the post on ``posted_on``; returns the batch id.

    A letter whose payment term was computed for an earlier posting day is refused: its
    "in elk geval op tijd" date would now be too early, which voids a 14-day letter (legal-nl
    §1.2, §7.3) — render a new letter instead. Letters already posted keep their first date.
    """
    ids = list(dict.fromkeys(delivery_ids))
    entries = [store.get(i) for i in ids]
    if any(e is None for e in entries):
        raise PrintQueueError("unknown letter in the batch")
    if any(e and e.withdrawn_on for e in entries):
        raise PrintQueueError("a withdrawn letter is in the batch")
    early = [e.delivery_id for e in entries if e and e.posted_on is None
             and posted_on < e.queue_day]
    if early:  # a letter cannot have gone into the post before it existed
        raise PrintQueueError(f"{len(early)} letter(s) cannot be posted before they were made: "
                              f"{', '.join(early)}")
    late = [e.delivery_id for e in entries if e and e.posted_on is None and posted_on > e.post_by]
    if late:
        raise PrintQueueError(
            f"{len(late)} letter(s) may not be posted after their post-by date; "
            f"render them again: {', '.join(late)}"
        )
    batch = uuid.uuid4().hex[:12]
    store.update(replace(e, posted_on=posted_on, batch_id=batch)
                 for e in entries if e is not None and e.posted_on is None)
    return batch


def posted_on(store: LetterStore, delivery_id: str) -> date | None:
    """The posting date of a delivery's letter (the start of the 14-day term), if posted."""
    entry = store.get(delivery_id)
    return entry.posted_on if entry else None


__all__ = [
    "DEFAULT_LETTER_DIR",
    "SAFE_ID",
    "FileLetterStore",
    "LetterStore",
    "PrintQueueError",
    "QueuedLetter",
    "letters_waiting",
    "mark_posted",
    "merge_letters",
    "posted_on",
    "print_file_for_day",
]
