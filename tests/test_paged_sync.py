"""A first sync that needs more than one budget window: pages, checkpoints, resumption.

The platforms' real rules, scaled in time only: Moneybird's 150 calls per window (we use 140)
with a window of seconds instead of five minutes; Exact's 60 calls a minute (we use 55) with an
emulator clock that runs ten times as fast. A limit is never raised.
"""

from __future__ import annotations

import contextlib
import math
import time
from collections import Counter
from datetime import UTC, datetime
from decimal import Decimal

import pytest
from babel.numbers import format_decimal
from sqlalchemy import func, select

from connector import leases, tokens
from connector.clock import today_nl
from connector.collection.cases import open_new_cases, policy_for
from connector.models import Case, Company, Event, Invoice, SyncRun, SyncState
from connector.sync import sync_company
from providers.base import RateLimited
from providers.http import Budgets, RateBudget
from tests.conftest import PG_URL
from tests.helpers import connect_direct, oauth_connect, unpaid, unpaid_ids, wait_until
from tests.test_exact import big_division, connect
from tests.test_worker_processes import (  # noqa: F401 - fixtures
    _no_overlapping_runs,
    fleet_factory,
    pg,
)

MONEYBIRD_LIMIT = 140  # our share of Moneybird's 150 per 5 minutes


def _open_ids(services, company_id: str) -> set[str]:
    with services.db.session() as db:
        return set(db.scalars(select(Invoice.external_id).where(
            Invoice.company_id == company_id, Invoice.status == "open")))


def _sync_until_done(services, company_id: str, max_runs: int = 10) -> list:
    """Run the sync the way the worker does: again when the budget allows the next call."""
    results = []
    for _ in range(max_runs):
        result = sync_company(services, company_id, trigger="test")
        results.append(result)
        if result.outcome != "rate_limited":
            return results
        with services.db.session() as db:
            retry_at = db.get(Company, company_id).next_sync_at
        time.sleep(max((retry_at - datetime.now(UTC)).total_seconds(), 0) + 0.05)
    return results


def _patient(services) -> None:
    """Generous timeouts: these tests are about pages, not about lost answers."""
    for key in ("moneybird", "exact_online"):
        services.providers.get(key).timeout = (5.0, 60.0)


def _posted_ids(emulator, adm: str) -> list[str]:
    return [i for c in emulator.calls if c["method"] == "POST"
            and c["path"].endswith("/sales_invoices/synchronization.json")
            and c["administration_id"] == adm for i in c.get("ids", ())]


class VirtualClock:
    """The platform's real window, on a clock that moves only while we wait for the budget.

    Processing takes no virtual time, so the budget binds exactly as it would for a connector
    that is never the bottleneck, however busy the test machine is.
    """

    def __init__(self) -> None:
        self.t = time.time()

    def __call__(self) -> float:
        return self.t

    def now(self) -> datetime:
        return datetime.fromtimestamp(self.t, UTC)

    def wait_until(self, at: datetime) -> None:
        self.t = max(self.t, at.timestamp())


@pytest.mark.slow  # started first in the parallel pass
def test_moneybird_first_sync_needing_three_windows_takes_three(
    make_services, make_moneybird_emulator
):
    clock = VirtualClock()
    emulator = make_moneybird_emulator(administrations=1, contacts=5000, invoices=52_000,
                                       rate_limit=150, rate_window=300, now=clock.now)
    services = make_services(emulator)
    adm = emulator.administration_ids()[0]
    company_id = connect_direct(services, emulator, adm)
    provider = services.providers.get("moneybird")
    provider.budget = RateBudget(MONEYBIRD_LIMIT, 300, max_wait=0, clock=clock)
    _patient(services)
    expected = unpaid_ids(emulator, adm)
    # One list per run and one POST per 100: more than two windows' worth, less than three.
    assert 2 * MONEYBIRD_LIMIT < math.ceil(len(expected) / 100) + 3 <= 3 * MONEYBIRD_LIMIT
    emulator.reset_calls()
    started = clock()

    first = sync_company(services, company_id, trigger="test")
    assert first.outcome == "rate_limited"
    kept = _open_ids(services, company_id)
    assert len(kept) == 100 * (MONEYBIRD_LIMIT - 1), "the first window's pages were kept"
    with services.db.session() as db:
        run = db.scalars(select(SyncRun).where(SyncRun.company_id == company_id)).one()
        assert run.error.startswith("wacht op de limiet van Moneybird, volgende ronde ")
        assert db.get(SyncState, company_id).expected_invoices == len(expected)
    # Meanwhile a kept invoice is paid and one not fetched yet is paid: the complete list of
    # the next run judges both.
    paid_kept = sorted(kept)[0]
    paid_later = sorted(expected - kept)[0]
    emulator.mark_paid(adm, paid_kept)
    emulator.mark_paid(adm, paid_later)

    runs = [first]
    while runs[-1].outcome == "rate_limited" and len(runs) < 10:
        with services.db.session() as db:
            clock.wait_until(db.get(Company, company_id).next_sync_at)
        runs.append(sync_company(services, company_id, trigger="test"))
    assert runs[-1].outcome == "ok"
    windows = math.floor((clock() - started) / 300) + 1
    assert 3 <= len(runs) == windows <= 3 + 1, f"{len(runs)} runs, {windows} windows"
    assert _open_ids(services, company_id) == expected - {paid_kept, paid_later}
    with services.db.session() as db:
        assert db.scalar(select(Invoice.status).where(Invoice.external_id == paid_kept)) == "paid"
        assert db.scalar(select(func.count()).select_from(Invoice).where(
            Invoice.external_id == paid_later)) == 0
    fetched = Counter(_posted_ids(emulator, adm))
    twice = {i for i, n in fetched.items() if n > 1}
    assert twice <= {paid_kept}, "a committed page was fetched again"
    assert not [c for c in emulator.calls if c["status"] == 429]


def test_sync_cut_short_resumes_from_the_last_committed_page(make_services,
                                                             make_moneybird_emulator):
    emulator = make_moneybird_emulator(administrations=1, contacts=100, invoices=1500,
                                       rate_limit=150, rate_window=300)
    services = make_services(emulator)
    _patient(services)
    adm = emulator.administration_ids()[0]
    company_id = connect_direct(services, emulator, adm)
    expected = {i["id"] for i in unpaid(emulator, adm)}
    assert len(expected) > 400
    emulator.reset_calls()
    # The worker dies before its fifth call: half-way through the first sync.
    calls_before_fault = 4
    budget_calls = {"n": 0}
    provider = services.providers.get("moneybird")
    acquire = provider.budget.acquire

    def failing_acquire(key: str) -> None:
        budget_calls["n"] += 1
        if budget_calls["n"] == calls_before_fault + 1:
            raise RuntimeError("worker crashed")
        acquire(key)

    provider.budget.acquire = failing_acquire
    with contextlib.suppress(RuntimeError):  # the crash ends the worker: nothing more recorded
        sync_company(services, company_id, trigger="test")
    provider.budget.acquire = acquire
    kept = _open_ids(services, company_id)
    assert len(kept) == 300  # list + three pages committed, the fourth never fetched

    assert sync_company(services, company_id, trigger="test").outcome == "ok"
    assert _open_ids(services, company_id) == expected
    fetched = Counter(_posted_ids(emulator, adm))
    assert all(n == 1 for n in fetched.values()), "a committed page was fetched again"
    assert set(fetched) == expected


def test_a_sync_whose_lease_was_taken_over_writes_nothing_more(make_services,
                                                               make_moneybird_emulator):
    emulator = make_moneybird_emulator(administrations=1, contacts=100, invoices=1500)
    services = make_services(emulator)
    _patient(services)
    adm = emulator.administration_ids()[0]
    company_id = connect_direct(services, emulator, adm)
    assert len(unpaid(emulator, adm)) > 300
    with services.db.session() as db:
        company = db.get(Company, company_id)
        company.lease_owner = "other-worker"
    result = sync_company(services, company_id, trigger="test", worker="me")
    assert result.outcome == "lease_lost"
    assert _open_ids(services, company_id) == set()
    with services.db.session() as db:
        assert not db.scalar(select(func.count()).select_from(SyncRun))
        leases.assert_held(db, company_id, None)  # the CLI runs without a lease
        leases.assert_held(db, company_id, "other-worker")

    # Taken over between two pages: the page in hand is not written.
    with services.db.session() as db:
        db.get(Company, company_id).lease_owner = "me"
    provider = services.providers.get("moneybird")
    acquire = provider.budget.acquire
    seen = {"n": 0}

    def takeover_after_two_pages(key: str) -> None:
        seen["n"] += 1
        if seen["n"] == 4:  # list, two POSTs committed; now another worker takes over
            with services.db.session() as db:
                db.get(Company, company_id).lease_owner = "new-owner"
        acquire(key)

    provider.budget.acquire = takeover_after_two_pages
    result = sync_company(services, company_id, trigger="test", worker="me")
    provider.budget.acquire = acquire
    assert result.outcome == "lease_lost"
    assert len(_open_ids(services, company_id)) == 200
    with services.db.session() as db:
        run = db.scalars(select(SyncRun)).one()
        assert run.outcome == "running"  # the new holder records it as interrupted


@pytest.mark.slow  # started first in the parallel pass
def test_exact_open_items_first_then_the_history(make_services, make_exact_emulator,
                                                 monkeypatch):
    speed = 10.0  # the emulator's minute lasts 6 real seconds
    emulator = make_exact_emulator(open_items=5000, accounts=1000, clock_speed=speed)
    # Token lifetimes run on the same scaled clock (600 s = 60 real seconds).
    start = emulator._real_start
    monkeypatch.setattr(tokens, "clock", lambda: start + (datetime.now(UTC) - start) * speed)
    services = make_services(exact=emulator)
    division = big_division(emulator)
    open_items = len(emulator.open_items(division))
    emulator.add_settled_history(division, 70_000 - len(emulator._div(division)["items"]))
    assert len(emulator._div(division)["items"]) == 70_000
    company_id = connect(services, emulator, division)
    provider = services.providers.get("exact_online")
    _patient(services)  # the emulator scans 70,000 rows a page on a loaded machine
    minute = 60 / speed
    daily = RateBudget(4_900, 86_400 / speed, max_wait=0)
    emulator.reset_calls()

    # A budget of exactly ⌈open / 1,000⌉ + 5 calls: enough for the first cases.
    first_cases = math.ceil(open_items / 1000) + 5
    provider.budgets = Budgets(RateBudget(first_cases, 86_400, max_wait=0), daily)
    cut = sync_company(services, company_id, trigger="test")
    assert cut.outcome == "rate_limited"
    assert emulator.count_calls(division=division) <= first_cases
    assert len(_open_ids(services, company_id)) == open_items
    with services.db.session() as db:
        opened = open_new_cases(db, company_id, today_nl(), policy_for(db, company_id))
        assert opened, "the first cases open before the history is read"
        assert db.scalar(select(func.count()).select_from(Case)) == len(opened)

    # The real minutely limit (scaled in time) for the rest: it completes over several runs.
    provider.budgets = Budgets(RateBudget(55, minute, max_wait=minute / 6), daily)
    pay = emulator.open_items(division)[0]
    emulator.pay_item(division, pay["ID"], Decimal(str(pay["AmountDC"])))
    runs = _sync_until_done(services, company_id, max_runs=20)
    assert runs[-1].outcome == "ok"
    open_pages = [c for c in emulator.calls if "bulk/Cashflow/Receivables" in c["path"]]
    assert len(open_pages) == math.ceil(open_items / 1000), "an open page was read twice"
    feed = [c["query"] for c in emulator.calls if "PaymentTerms" in c["path"]]
    assert len(set(feed)) == len(feed), "a feed page was read twice"
    # Every page once; a run that starts after the last page asks "anything newer?" once.
    rows = len(emulator._div(division)["items"])  # 70,000 and what the payment added
    assert len(feed) <= math.ceil(rows / 1000) + 1
    assert not [c for c in emulator.calls if c["status"] == 429]
    assert not emulator.take_violations()
    mirror = _open_ids(services, company_id)
    assert mirror == {str(i["ID"]) for i in emulator.open_items(division)}
    assert str(pay["ID"]) not in mirror
    emulator.reset_calls()
    assert sync_company(services, company_id, trigger="test").outcome == "ok"
    assert emulator.count_calls(division=division) == 3


@pytest.mark.slow  # started first in the parallel pass
@pytest.mark.skipif(not PG_URL, reason="needs PostgreSQL (TEST_DATABASE_URL)")
def test_a_worker_killed_mid_first_sync_is_taken_over_from_the_last_page(
    fleet_factory, make_moneybird_emulator  # noqa: F811 - the fixture imported above
):
    emulator = make_moneybird_emulator(administrations=1, contacts=600, invoices=6000)
    adm = emulator.administration_ids()[0]
    expected = unpaid_ids(emulator, adm)
    assert len(expected) > 1500
    fleet = fleet_factory(emulator, LEASE_SECONDS="4")
    [company_id] = fleet.connect_all(live=False)
    emulator.reset_calls()
    # Every page takes a while, so the worker is surely killed half-way.
    emulator.inject_delay("POST", "sales_invoices/synchronization", 0.4, times=10**6)
    fleet.start(1)
    wait_until(lambda: len(_open_ids(fleet.services, company_id)) >= 500, timeout=90)
    fleet.processes[0].kill()
    fleet.processes[0].wait(timeout=10)
    committed = _open_ids(fleet.services, company_id)
    assert len(committed) < len(expected), "the first worker finished before it was killed"
    killed_at = len(emulator.calls)

    fleet.start(1)
    wait_until(lambda: fleet.synced([company_id]), timeout=150)
    assert _open_ids(fleet.services, company_id) == expected
    fetched_after = [i for c in emulator.calls[killed_at:] if c["method"] == "POST"
                     and c["path"].endswith("/sales_invoices/synchronization.json")
                     for i in c.get("ids", ())]
    assert fetched_after, "the second worker fetched nothing"
    assert not set(fetched_after) & committed, "a committed page was fetched again"
    assert len(fetched_after) == len(set(fetched_after))
    _no_overlapping_runs(fleet.services)
    with fleet.services.db.session() as db:
        outcomes = Counter(db.scalars(select(SyncRun.outcome).where(
            SyncRun.company_id == company_id)))
        takeovers = db.scalar(select(func.count()).select_from(Event).where(
            Event.kind == "lease.takeover", Event.company_id == company_id))
    assert outcomes["interrupted"] == 1 and outcomes["ok"] >= 1
    assert takeovers == 1


def test_the_company_page_shows_a_first_sync_in_progress(make_services,
                                                         make_moneybird_emulator):
    emulator = make_moneybird_emulator(administrations=1, contacts=100, invoices=1500)
    services = make_services(emulator)
    _patient(services)
    app_url = services.settings.public_url
    adm = emulator.administration_ids()[0]
    browser, page = oauth_connect(app_url, emulator.server.url, administrations=[adm])
    company_id = page.url.rsplit("/", 1)[1]
    total = len(unpaid(emulator, adm))
    provider = services.providers.get("moneybird")
    acquire = provider.budget.acquire
    calls = {"n": 0}

    def spent_after_three_pages(key: str) -> None:
        calls["n"] += 1
        if calls["n"] > 4:
            raise RateLimited("budget", retry_at=datetime(2026, 11, 27, 12, 15, tzinfo=UTC))
        acquire(key)

    provider.budget.acquire = spent_after_three_pages
    assert sync_company(services, company_id, trigger="test").outcome == "rate_limited"
    provider.budget.acquire = acquire

    shown = browser.get(f"{app_url}/companies/{company_id}").text
    assert f"Eerste synchronisatie loopt… 300 van {format_decimal(total, locale='nl')}" in shown
    assert 'http-equiv="refresh"' in shown
    assert "wacht op de limiet van Moneybird, volgende ronde 13:15" in shown

    assert sync_company(services, company_id, trigger="test").outcome == "ok"
    shown = browser.get(f"{app_url}/companies/{company_id}").text
    assert "Eerste synchronisatie loopt" not in shown and 'http-equiv="refresh"' not in shown
