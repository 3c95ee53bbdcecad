"""Polling SnelStart for what changed: ``modifiedOn`` feeds, paged with ``$top``/``$skip``.

SnelStart has no webhooks and no change log. Each run lists the relations and the sales
invoices modified since a watermark (an overlap earlier, because a record may be committed
with a ``modifiedOn`` a little before one we already saw), 500 per page, until a short page:
an unchanged administration costs one page of each. Every few hours a *sweep* lists all sales
invoices instead: the open amount is computed when read, and whether a bank booking that
settles an invoice also moves its ``modifiedOn`` is not documented (UNCERTAIN); the sweep
sees every open amount and finds known-open invoices that were deleted.

The cursor (JSON) holds both watermarks, the last sweep and, inside a pass, where it stands,
so a run cut short resumes at the next ``$skip``. ``$skip`` paging without an order is only as
stable as the server's default order; a record deleted mid-pass may shift one we had not read
before our position: the overlap and the next sweep read it again.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Generator, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from providers.base import DebtorRecord, InvoiceChangesPage, KnownVersions, SyncCursor
from providers.snelstart import mapping
from providers.snelstart.odata import Stamp, later, modified_since

PAGE = 500  # SnelStart's largest $top
OVERLAP = timedelta(minutes=10)
SWEEP_EVERY = timedelta(hours=6)

# list(path, filter, skip) -> one page of rows
Lister = Callable[[str, str | None, int], list[dict[str, Any]]]
# fetch_relation(id) -> the relation, or None when it is gone
Fetcher = Callable[[str], dict[str, Any] | None]


def _load(value: str | None) -> dict[str, Any]:
    try:
        state = json.loads(value) if value else {}
    except ValueError:
        return {}
    return state if isinstance(state, dict) else {}


def _progress(raw: Any) -> dict[str, Any] | None:
    """Where a pass cut short stood; anything unreadable starts the pass over."""
    if not isinstance(raw, dict) or not isinstance(raw.get("skip"), int) or raw["skip"] < 0:
        return None
    return raw


def _stamp(raw: Any) -> Stamp | None:
    return Stamp.parse(raw) if isinstance(raw, str) else None


@dataclass
class _Run:
    """What one run carries between pages."""

    known: KnownVersions
    relations: dict[str, DebtorRecord] = field(default_factory=dict)
    sent_debtors: set[str] = field(default_factory=set)
    seen_open: set[str] = field(default_factory=set)


class Feed:
    def __init__(self, list_page: Lister, fetch_relation: Fetcher,
                 now: Callable[[], datetime] = lambda: datetime.now(UTC),
                 sweep_every: timedelta = SWEEP_EVERY) -> None:
        self.list_page = list_page
        self.fetch_relation = fetch_relation
        self.now = now
        self.sweep_every = sweep_every

    def changes(self, cursor: SyncCursor) -> Generator[InvoiceChangesPage, None, None]:
        state = _load(cursor.value)
        run = _Run(cursor.known)
        started = self.now()
        relations_mark = self._relations(run, _stamp(state.get("rel")))
        yield from self._known_debtors(run, state)
        progress = _progress(state.get("pass"))
        mark = _stamp(state.get("inv"))
        if progress:  # a pass cut short: go on where it stood
            sweep, since = bool(progress.get("sweep")), _stamp(progress.get("from"))
            skip, newest = progress["skip"], later(_stamp(progress.get("max")), mark)
        else:
            sweep = mark is None or self._sweep_due(state.get("swept"), started)
            since = None if sweep or mark is None else mark.minus(OVERLAP)
            skip, newest = 0, mark
        whole = skip == 0  # a sweep read whole in this run may judge deletions
        while True:
            rows = self.list_page("/verkoopfacturen", modified_since(since), skip)
            skip += len(rows)
            for row in rows:
                newest = later(newest, mapping.stamp(row))
            page = self._page(run, rows)
            last = len(rows) < PAGE
            if not last:
                progress = {"sweep": sweep, "from": since.dump() if since else None,
                            "skip": skip, "max": newest.dump() if newest else None}
                yield self._with_cursor(page, {**state, "pass": progress})
                continue
            final = {k: v for k, v in state.items() if k != "pass"}
            # No invoice yet: no watermark, so the next run lists everything again (one call).
            final["inv"] = newest.dump() if newest else None
            if relations_mark is not None:
                final["rel"] = relations_mark.dump()
            if sweep:
                final["swept"] = started.isoformat()
                if whole:
                    page.deleted.extend(i for i in run.known.open_invoice_ids()
                                        if i not in run.seen_open)
            if page.invoices or page.debtors or page.deleted or final != state:
                yield self._with_cursor(page, final)
            return

    def _sweep_due(self, swept: Any, now: datetime) -> bool:
        try:
            last = datetime.fromisoformat(swept) if isinstance(swept, str) else None
        except ValueError:
            last = None
        return last is None or now - last >= self.sweep_every

    # -- relations ------------------------------------------------------------------------

    def _relations(self, run: _Run, since: Stamp | None) -> Stamp | None:
        """Relations changed since the watermark (all of them the first time), customers only,
        held for this run so invoice pages carry their debtors without a call each."""
        newest = since
        skip = 0
        filter_ = modified_since(since.minus(OVERLAP) if since else None)
        while True:
            rows = self.list_page("/relaties", filter_, skip)
            skip += len(rows)
            for row in rows:
                newest = later(newest, mapping.stamp(row))
                if mapping.is_customer(row):
                    record = mapping.debtor(row)
                    run.relations[record.id] = record
            if len(rows) < PAGE:
                return newest

    def _known_debtors(self, run: _Run, state: dict[str, Any]) -> Iterator[InvoiceChangesPage]:
        """Debtors of open invoices whose details changed, before any invoice page."""
        ids = list(run.relations)
        changed: list[DebtorRecord] = []
        for start in range(0, len(ids), 2000):
            versions = run.known.debtor_versions(ids[start:start + 2000])
            changed += [run.relations[i] for i, v in versions.items()
                        if v != run.relations[i].version]
        if changed:
            run.sent_debtors.update(d.id for d in changed)
            yield InvoiceChangesPage(invoices=[], debtors=changed, deleted=[],
                                     cursor=json.dumps(state))

    # -- invoices -------------------------------------------------------------------------

    def _page(self, run: _Run, rows: list[dict[str, Any]]) -> InvoiceChangesPage:
        """The page's open invoices that are new or changed, and the known-open ones that
        closed (paid, credited): payments first, then the rest."""
        by_id = {str(r.get("id")): r for r in rows}
        known = run.known.open_invoice_versions(list(by_id))
        run.seen_open.update(known)
        closing, changed = [], []
        for invoice_id, row in by_id.items():
            was_open = invoice_id in known
            if was_open and known[invoice_id] == mapping.invoice_version(row):
                continue
            if not was_open and not mapping.is_open(row):
                continue  # settled or a credit note we never chased: nothing to mirror
            record = mapping.invoice(row)
            (closing if was_open and record.status.closed else changed).append(record)
        invoices = closing + changed
        debtors = self._debtors_for(run, {i.debtor_id for i in changed})
        return InvoiceChangesPage(invoices=invoices, debtors=debtors, deleted=[], cursor=None)

    def _debtors_for(self, run: _Run, ids: set[str]) -> list[DebtorRecord]:
        wanted = sorted(ids - run.sent_debtors)
        known = run.known.debtor_versions(wanted) if wanted else {}
        debtors = []
        for relation_id in wanted:
            record = run.relations.get(relation_id)
            if record is None and relation_id not in known:
                raw = self.fetch_relation(relation_id)  # an old customer with a new invoice
                record = mapping.debtor(raw) if raw else None
            if record is not None:
                debtors.append(record)
                run.sent_debtors.add(relation_id)
        return debtors

    @staticmethod
    def _with_cursor(page: InvoiceChangesPage, state: dict[str, Any]) -> InvoiceChangesPage:
        return InvoiceChangesPage(invoices=page.invoices, debtors=page.debtors,
                                  deleted=page.deleted, cursor=json.dumps(state))
