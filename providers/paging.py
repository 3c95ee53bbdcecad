"""One paginator for every ledger API, with a guard against pages that never end.

A platform that hands back the same next link (or the same page) again would keep a sync
asking for ever, spending the tenant's whole rate budget. Every style of paging here goes
through a :class:`RepeatGuard`, which stops with :class:`PagingLoop` (a :class:`Rejected`: a
platform bug, never retried as such; the sync goes back to its schedule) when a next link
repeats, a non-empty page repeats, or more than ``max_pages`` pages come.

API (``fetch`` functions make one call each and classify errors through ``ApiClient``):

``follow_next(fetch, path, params, max_pages=MAX_PAGES) -> Iterator[list[dict]]``
    OData (Exact Online): ``fetch(path, params)`` returns ``(rows, next_link)``; the first
    call carries ``params``, every next link is followed verbatim (it carries the
    ``$skiptoken`` and the ``$select``/``$filter``) with no params. :func:`odata_page` parses an
    OData v2 envelope (``{"d": {"results": [...], "__next": ...}}`` or ``{"d": [...]}``).

``numbered_pages(fetch, first=1, page_size=None, max_pages=MAX_PAGES) -> Iterator[list]``
    ``page=N`` (Xero): ``fetch(n)`` returns the rows of page ``n``; stops after an empty page,
    or after a short one when ``page_size`` is given (Xero: 100 a page).

``skip_top_pages(fetch, page_size, max_pages=MAX_PAGES) -> Iterator[list]``
    ``$skip``/``$top`` over bare arrays (SnelStart): ``fetch(skip, top)`` returns a list;
    stops after a short page ("page until short page").

A caller that keeps its place between runs (a sync cursor holding the next link) checks each
page itself: ``guard = RepeatGuard(); guard.check(rows, next_link)``.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Iterator, Mapping, Sequence
from typing import Any

from providers.base import Rejected, Transient

#: More pages than any tenant has (Exact: 1,000 rows a page, so ten million rows).
MAX_PAGES = 10_000

Rows = list[Any]


class PagingLoop(Rejected):
    """The platform's paging goes round in circles (a next link or a page came back again,
    or the page cap was reached). Never retried as such: it is the platform's bug."""


class RepeatGuard:
    """Remembers the next links and page contents seen in one pass, and stops a loop."""

    def __init__(self, max_pages: int = MAX_PAGES) -> None:
        self.max_pages = max_pages
        self.pages = 0
        self._links: set[str] = set()
        self._digests: set[str] = set()

    def check(self, rows: Sequence[Any], next_link: str | None = None) -> None:
        """Count one page; raise :class:`PagingLoop` if it or its next link was seen before.

        Empty pages are not compared (a platform may send several on the way to the end).
        Messages name no link and no row: both may hold tokens or debtor data.
        """
        self.pages += 1
        if self.pages > self.max_pages:
            raise PagingLoop(f"more than {self.max_pages} pages", status=None)
        if next_link is not None:
            if next_link in self._links:
                raise PagingLoop(f"next link repeated after page {self.pages}")
            self._links.add(next_link)
        if rows:
            digest = _digest(rows)
            if digest in self._digests:
                raise PagingLoop(f"page {self.pages} repeats an earlier page")
            self._digests.add(digest)


def _digest(rows: Sequence[Any]) -> str:
    text = json.dumps(list(rows), sort_keys=True, default=str, separators=(",", ":"))
    return hashlib.sha256(text.encode()).hexdigest()


def odata_page(payload: Any) -> tuple[Rows, str | None]:
    """The rows and the ``__next`` link of an OData v2 answer (a single entity is one row).

    Raises :class:`Transient` when the answer is no OData envelope (a proxy's page in front of
    the platform, say): asking again later may well work.
    """
    try:
        body = payload["d"]
    except (KeyError, TypeError):
        raise Transient("answer is not an OData envelope") from None
    if isinstance(body, dict) and "results" in body:
        following = body.get("__next")
        return list(body["results"]), str(following) if following else None
    if isinstance(body, dict):
        return [body], None
    if isinstance(body, list):
        return list(body), None
    raise Transient("answer is not an OData envelope")


def follow_next(
    fetch: Callable[[str, Mapping[str, str] | None], tuple[Rows, str | None]],
    path: str,
    params: Mapping[str, str] | None = None,
    *,
    max_pages: int = MAX_PAGES,
) -> Iterator[Rows]:
    """OData paging: the first call with ``params``, then every ``__next`` link verbatim."""
    guard = RepeatGuard(max_pages)
    following: str | None = path
    while following:
        rows, following = fetch(following, params)
        params = None
        guard.check(rows, following)
        yield rows


def numbered_pages(
    fetch: Callable[[int], Rows],
    *,
    first: int = 1,
    page_size: int | None = None,
    max_pages: int = MAX_PAGES,
) -> Iterator[Rows]:
    """``page=N`` paging: until an empty page (or a short one, with ``page_size``)."""
    guard = RepeatGuard(max_pages)
    number = first
    while True:
        rows = fetch(number)
        if not rows:
            return
        guard.check(rows)
        yield rows
        if page_size is not None and len(rows) < page_size:
            return
        number += 1


def skip_top_pages(
    fetch: Callable[[int, int], Rows],
    page_size: int,
    *,
    max_pages: int = MAX_PAGES,
) -> Iterator[Rows]:
    """``$skip``/``$top`` paging over bare arrays: until a page shorter than ``page_size``."""
    if page_size <= 0:
        raise ValueError("page_size must be positive")
    guard = RepeatGuard(max_pages)
    skip = 0
    while True:
        rows = fetch(skip, page_size)
        if not isinstance(rows, list):
            raise Rejected("answer is not a list")
        if not rows:
            return
        guard.check(rows)
        yield rows
        if len(rows) < page_size:
            return
        skip += len(rows)
