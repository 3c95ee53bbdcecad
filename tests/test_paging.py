"""The one paginator (providers/paging.py): three styles, and a guard against endless paging."""

from __future__ import annotations

import pytest

from providers.base import Rejected, Transient
from providers.exact_online.provider import ExactOnlineProvider
from providers.paging import (
    PagingLoop,
    RepeatGuard,
    follow_next,
    numbered_pages,
    odata_page,
    skip_top_pages,
)


def odata(rows: list[dict], following: str | None = None) -> dict:
    body: dict = {"results": rows}
    if following:
        body["__next"] = following
    return {"d": body}


def test_odata_page_reads_the_envelope() -> None:
    assert odata_page(odata([{"ID": 1}], "https://x/next")) == ([{"ID": 1}], "https://x/next")
    assert odata_page({"d": {"ID": 2}}) == ([{"ID": 2}], None)
    assert odata_page({"d": [{"ID": 3}]}) == ([{"ID": 3}], None)
    with pytest.raises(Transient):
        odata_page("<html>proxy error</html>")


def test_follow_next_sends_params_once_and_follows_links_verbatim() -> None:
    pages = {"/first": odata([{"ID": 1}], "/first?$skiptoken=1"),
             "/first?$skiptoken=1": odata([{"ID": 2}], "/first?$skiptoken=2"),
             "/first?$skiptoken=2": odata([{"ID": 3}])}
    asked = []

    def fetch(path, params):
        asked.append((path, params))
        return odata_page(pages[path])

    rows = [r["ID"] for page in follow_next(fetch, "/first", {"$select": "ID"}) for r in page]
    assert rows == [1, 2, 3]
    assert asked == [("/first", {"$select": "ID"}), ("/first?$skiptoken=1", None),
                     ("/first?$skiptoken=2", None)]


def test_a_repeated_next_link_stops_with_a_typed_error() -> None:
    def fetch(path, params):
        return [{"ID": path}], "/same"  # every page points at the same next link

    with pytest.raises(PagingLoop) as caught:
        list(follow_next(fetch, "/start"))
    assert isinstance(caught.value, Rejected) and "/same" not in str(caught.value)


def test_a_repeated_page_stops_even_with_fresh_links() -> None:
    count = iter(range(100))

    def fetch(path, params):
        return [{"ID": "same row"}], f"/next?{next(count)}"  # the server ignores the token

    with pytest.raises(PagingLoop):
        list(follow_next(fetch, "/start"))


def test_the_page_cap_stops_a_feed_that_never_ends() -> None:
    count = iter(range(10**6))

    def fetch(path, params):
        n = next(count)
        return [{"ID": n}], f"/next?{n}"

    with pytest.raises(PagingLoop):
        list(follow_next(fetch, "/start", max_pages=50))


def test_empty_pages_are_not_taken_for_repeats() -> None:
    guard = RepeatGuard()
    guard.check([], "/a")
    guard.check([], "/b")
    guard.check([{"ID": 1}], None)
    with pytest.raises(PagingLoop):
        guard.check([{"ID": 1}], None)


def test_numbered_pages_until_empty_or_short() -> None:
    data = list(range(250))

    def fetch(page):
        return data[(page - 1) * 100 : page * 100]

    assert [len(p) for p in numbered_pages(fetch)] == [100, 100, 50]
    asked = []

    def counting(page):
        asked.append(page)
        return fetch(page)

    assert [len(p) for p in numbered_pages(counting, page_size=100)] == [100, 100, 50]
    assert asked == [1, 2, 3]  # the short page ends it: no call for an empty fourth


def test_numbered_pages_that_ignore_the_page_number_stop() -> None:
    with pytest.raises(PagingLoop):
        list(numbered_pages(lambda page: [{"id": 1}] * 100, page_size=100))


def test_skip_top_until_a_short_page() -> None:
    data = [{"id": i} for i in range(1, 1201)]
    asked = []

    def fetch(skip, top):
        asked.append((skip, top))
        return data[skip : skip + top]

    rows = [r for page in skip_top_pages(fetch, 500) for r in page]
    assert rows == data and asked == [(0, 500), (500, 500), (1000, 500)]


def test_skip_top_of_exactly_full_pages_ends_on_an_empty_one() -> None:
    data = list(range(1000))
    pages = list(skip_top_pages(lambda skip, top: data[skip : skip + top], 500))
    assert [len(p) for p in pages] == [500, 500]


def test_skip_top_that_ignores_skip_stops() -> None:
    with pytest.raises(PagingLoop):
        list(skip_top_pages(lambda skip, top: [{"id": 1}, {"id": 2}], 2))
    with pytest.raises(Rejected):
        list(skip_top_pages(lambda skip, top: {"not": "a list"}, 2))


class _Answer:
    def __init__(self, payload: dict) -> None:
        self.payload = payload

    def json(self) -> dict:
        return self.payload


class _LoopingApi:
    """An Exact API whose sync feed hands back its own next link."""

    calls = 0

    def request(self, method, path, params=None, **kw):
        self.calls += 1
        return _Answer(odata([{"ID": f"row-{self.calls}", "Timestamp": self.calls}],
                             "https://start.exactonline.nl/api/v1/1/sync/x?$skiptoken=loop"))


def test_exact_ledger_stops_a_looping_feed() -> None:
    provider = ExactOnlineProvider("id", "secret", "hook", base_url="http://127.0.0.1:9")
    ledger = provider.ledger("1", tokens=None)  # type: ignore[arg-type]
    ledger.api = _LoopingApi()  # type: ignore[assignment]
    with pytest.raises(PagingLoop):
        ledger._all("/sync/CRM/Accounts", {"$select": "ID"})
    assert ledger.api.calls == 2  # the second page's link repeats the first's


class _MoneybirdAnswer:
    def __init__(self, rows: list[dict], following: str | None) -> None:
        self.rows = rows
        self.links = {"next": {"url": following}} if following else {}

    def json(self) -> list[dict]:
        return self.rows


class _LinkedApi:
    """Moneybird's list pages, linked with ``Link: <…?page=N>; rel="next"``."""

    base_url = "https://moneybird.example/api/v2/adm1"

    def __init__(self, pages: dict[str, tuple[list[dict], str | None]]) -> None:
        self.pages, self.asked = pages, []

    def request(self, method, path, params=None, **kw):
        self.asked.append(path)
        return _MoneybirdAnswer(*self.pages[path])


def _moneybird_ledger(api: _LinkedApi):
    from providers.moneybird.provider import MoneybirdProvider

    ledger = MoneybirdProvider("id", "secret", "https://moneybird.example").ledger(
        "adm1", tokens=None)  # type: ignore[arg-type]
    ledger.api = api  # type: ignore[assignment]
    return ledger


def test_moneybird_list_follows_its_link_header() -> None:
    second = f"{_LinkedApi.base_url}/ledger_accounts.json?page=2"
    api = _LinkedApi({
        "/ledger_accounts.json": ([{"id": "1", "account_id": "8000", "name": "Omzet"}], second),
        second: ([{"id": "2", "account_id": "1100", "name": "Bank"}], None)})
    choices = _moneybird_ledger(api).payment_setting_choices("ledger_account_id")
    assert choices == [("1", "8000 Omzet"), ("2", "1100 Bank")]
    assert api.asked == ["/ledger_accounts.json", second]


def test_moneybird_list_stops_a_loop_and_a_link_elsewhere() -> None:
    first = f"{_LinkedApi.base_url}/financial_accounts.json?page=1"
    looping = _LinkedApi({"/financial_accounts.json": ([{"id": "1"}], first),
                          first: ([{"id": "2"}], first)})
    with pytest.raises(PagingLoop):
        _moneybird_ledger(looping).payment_setting_choices("financial_account_id")
    elsewhere = _LinkedApi({"/financial_accounts.json": ([{"id": "1"}],
                                                         "https://evil.example/steal")})
    with pytest.raises(Rejected):
        _moneybird_ledger(elsewhere).payment_setting_choices("financial_account_id")
