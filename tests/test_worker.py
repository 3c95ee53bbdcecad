"""Workers: leases, shared rate budgets, failures sorted by kind, heartbeats and health."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
import requests
import time_machine
from sqlalchemy import select

from connector import leases
from connector.budgets import DbRateBudget
from connector.models import Company, Event, Grant, SyncState
from connector.sync import sync_company
from providers.base import RateLimited
from tests.helpers import connect_direct

START = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


def test_a_company_is_leased_to_one_worker_and_taken_over_after_expiry(services,
                                                                       moneybird_emulator):
    first, second = moneybird_emulator.administration_ids()[:2]
    a = connect_direct(services, moneybird_emulator, first)
    b = connect_direct(services, moneybird_emulator, second)
    with time_machine.travel(START, tick=False) as clock:
        mine = leases.claim(services, "worker-1", ttl=timedelta(seconds=30))
        assert sorted(mine) == sorted([a, b])
        assert leases.claim(services, "worker-2", ttl=timedelta(seconds=30)) == []
        leases.release(services, "worker-1", a)
        assert leases.claim(services, "worker-2", ttl=timedelta(seconds=30)) == [a]
        clock.shift(timedelta(seconds=20))
        leases.renew(services, "worker-1", [b], timedelta(seconds=30))
        clock.shift(timedelta(seconds=20))
        # worker-2 never renewed a, so a is free again; b was renewed and stays with worker-1
        assert leases.claim(services, "worker-3", ttl=timedelta(seconds=300)) == [a]
        clock.shift(timedelta(seconds=31))  # worker-1 died: its lease on b runs out
        assert leases.claim(services, "worker-4", ttl=timedelta(seconds=30)) == [b]
    with services.db.session() as db:
        takeover = db.scalars(select(Event).where(Event.kind == "lease.takeover")
                              .order_by(Event.id)).all()
        assert [e.company_id for e in takeover] == [a, b]
        assert db.get(Company, b).lease_owner == "worker-4"


def test_shared_budget_counts_every_worker_in_a_sliding_window(services):
    one = DbRateBudget(services.db, "test", 3, 60, max_wait=0)
    other = DbRateBudget(services.db, "test", 3, 60, max_wait=0)  # another worker, same db
    with time_machine.travel(START, tick=False) as clock:
        one.acquire("adm")
        other.acquire("adm")
        clock.shift(30)
        one.acquire("adm")
        with pytest.raises(RateLimited) as caught:
            other.acquire("adm")
        assert caught.value.retry_at == START + timedelta(seconds=60)
        other.acquire("other-adm")
        clock.shift(31)  # the first two calls left the window
        one.acquire("adm")
        other.acquire("adm")
        other.block_until("adm", START + timedelta(seconds=200))
        clock.shift(60)
        with pytest.raises(RateLimited):
            one.acquire("adm")


def test_fixed_window_budget_resets_at_the_period(services):
    daily = DbRateBudget(services.db, "day", 2, 86_400, sliding=False, max_wait=0)
    with time_machine.travel(datetime(2026, 3, 2, 23, 0, tzinfo=UTC), tick=False) as clock:
        daily.acquire("div")
        daily.acquire("div")
        with pytest.raises(RateLimited) as caught:
            daily.acquire("div")
        assert caught.value.retry_at == datetime(2026, 3, 3, tzinfo=UTC)  # 00:00 UTC
        clock.shift(timedelta(hours=1, seconds=1))
        daily.acquire("div")


def test_failures_are_sorted_by_kind(services, moneybird_emulator):
    company_id = connect_direct(services, moneybird_emulator)
    # Each sync tries a read three times (two safe retries), so six failures fail two syncs.
    moneybird_emulator.inject_error("GET", "synchronization", status=503, times=6)
    with time_machine.travel(START, tick=False):
        first = sync_company(services, company_id)
        second = sync_company(services, company_id)
        with services.db.session() as db:
            state = db.get(SyncState, company_id)
            company = db.get(Company, company_id)
            assert (first.outcome, second.outcome) == ("error", "error")
            assert state.failures == 2
            assert company.next_sync_at == START + timedelta(minutes=4)  # backing off
    moneybird_emulator.inject_error("GET", "synchronization", status=400, times=1, body={
        "error": "Status is not included in the list", "symbolic": {"filter": "invalid"}})
    with time_machine.travel(START + timedelta(hours=1), tick=False):
        rejected = sync_company(services, company_id)
        with services.db.session() as db:
            company = db.get(Company, company_id)
            assert rejected.outcome == "rejected"
            assert company.next_sync_at == START + timedelta(hours=1, minutes=15)


def test_reconnect_needed_emails_the_creditor_once(make_services, moneybird_emulator):
    from connector.channels.smtp_capture import CaptureSmtpServer
    from connector.collection.cases import settings_for

    mail = CaptureSmtpServer()
    mail.start()
    try:
        services = make_services(moneybird_emulator, smtp_url=f"smtp://127.0.0.1:{mail.port}")
        company_id = connect_direct(services, moneybird_emulator)
        with services.db.session() as db:
            settings_for(db, company_id).sender = {"name": "Zoet",
                                                   "email": "boekhouding@zoet.example"}
        moneybird_emulator.revoke_tokens()
        assert sync_company(services, company_id).outcome == "reconnect_needed"
        with services.db.session() as db:
            db.get(Company, company_id).next_sync_at = None
        assert sync_company(services, company_id).outcome == "skipped"
        assert len(mail.messages) == 1
        assert "opnieuw" in mail.messages[0]["Subject"]
        with services.db.session() as db:
            assert db.scalars(select(Grant)).one().reconnect_notified_at is not None
    finally:
        mail.stop()


def test_healthz_reports_database_and_fresh_heartbeats(services):
    url = f"{services.settings.public_url}/healthz"
    no_worker = requests.get(url, timeout=5)
    assert no_worker.status_code == 503 and no_worker.json()["database"] == "ok"
    leases.beat(services, "worker-1")
    healthy = requests.get(url, timeout=5)
    assert healthy.status_code == 200 and healthy.json()["workers"] == 1


def test_metrics_in_prometheus_format(services, moneybird_emulator):
    company_id = connect_direct(services, moneybird_emulator)
    sync_company(services, company_id)
    body = requests.get(f"{services.settings.public_url}/metrics", timeout=5).text
    assert 'connector_syncs{outcome="ok",platform="moneybird"} 1.0' in body
    assert "connector_api_calls" in body and "connector_queue_length" in body
    assert "connector_lease_takeovers 0.0" in body


def test_monthly_statements_and_json_logs(services, tmp_path, capsys):
    import json
    import logging
    from decimal import Decimal

    from connector.logs import JsonFormatter
    from connector.models import Delivery, UsageLine
    from connector.periodic import monthly_statements, previous_month

    with services.db.session() as db:
        company = Company(name="Zoet", provider="moneybird")
        db.add(company)
        db.flush()
        from connector.models import Debtor

        debtor = Debtor(company_id=company.id, external_id="1", kind="consumer", name="X")
        db.add(debtor)
        db.flush()
        delivery = Delivery(company_id=company.id, debtor_id=debtor.id, step=1,
                            step_name="Profitletter", channel="letter", template="t",
                            due_on=START.date(), state="sent")
        db.add(delivery)
        db.flush()
        db.add(UsageLine(company_id=company.id, delivery_id=delivery.id, month="2026-02",
                         description="Profitletter", amount=Decimal("14.95")))
    assert previous_month(START.date()) == "2026-02"
    [name] = monthly_statements(services, "2026-02")
    from connector.filestore import STATEMENT, DbFileStore

    csv_text = DbFileStore(services.db).get(STATEMENT, name).decode()
    assert csv_text.splitlines()[-1] == ";totaal;14,95"
    assert [f.company_id for f in DbFileStore(services.db).list(STATEMENT)] == [company.id]
    record = logging.LogRecord("connector.sync", logging.INFO, __file__, 1, "sync ok %s",
                               ("c1",), None)
    line = json.loads(JsonFormatter().format(record))
    assert (line["level"], line["message"]) == ("info", "sync ok c1")


def test_connector_sync_takes_the_lease_and_refuses_a_company_held_by_a_worker(
    services, moneybird_emulator, monkeypatch
):
    from click.testing import CliRunner

    from connector.cli import main
    from connector.models import SyncRun
    from tests.helpers import connect_direct

    company_id = connect_direct(services, moneybird_emulator)
    settings = services.settings
    monkeypatch.setenv("DATABASE_URL", settings.database_url)
    monkeypatch.setenv("TOKEN_ENCRYPTION_KEYS", ",".join(settings.token_encryption_keys))
    monkeypatch.setenv("MONEYBIRD_BASE_URL", settings.ledger("moneybird")["MONEYBIRD_BASE_URL"])
    monkeypatch.setenv("PUBLIC_URL", settings.public_url)
    leases.claim_company(services, "worker-1", company_id, timedelta(seconds=60))
    refused = CliRunner().invoke(main, ["sync", company_id])
    assert refused.exit_code == 1 and "being worked on by worker worker-1" in refused.output
    leases.release(services, "worker-1", company_id)
    done = CliRunner().invoke(main, ["sync", company_id])
    assert done.exit_code == 0 and "\nok: " in done.output, done.output
    with services.db.session() as db:
        assert db.get(Company, company_id).lease_owner is None  # released after the sync
        [run] = db.scalars(select(SyncRun)).all()
        assert run.worker.startswith("cli:") and run.outcome == "ok"
    unknown = CliRunner().invoke(main, ["sync", "nope"])
    assert unknown.exit_code == 1 and "no company 'nope'" in unknown.output


def test_two_claims_that_interleave_take_a_company_once(services, moneybird_emulator,
                                                       monkeypatch):
    """The sync and the engine job of one worker claimed at the same moment: both found the
    company free (SQLite reads outside a transaction), both "took" it, and two syncs of one
    company collided on its debtors (UNIQUE debtors.company_id, external_id)."""
    company_id = connect_direct(services, moneybird_emulator)
    found = leases._candidates
    rival: list[list[str]] = []

    def candidates_then_a_rival_claims(session, *args, **kwargs):
        rows = found(session, *args, **kwargs)
        if not rival:  # once: the rival claims between our read and our write
            rival.append([])
            rival[0] = leases.claim(services, "worker-1", ttl=timedelta(seconds=60))
        return rows

    monkeypatch.setattr(leases, "_candidates", candidates_then_a_rival_claims)
    mine = leases.claim(services, "worker-1", ttl=timedelta(seconds=60))
    # PostgreSQL locks the row for us (the rival skips it); SQLite lets the rival in first.
    assert sorted(mine + rival[0]) == [company_id]


def test_stopping_hands_back_claims_and_removes_the_heartbeat(services, moneybird_emulator):
    from connector.models import WorkerHeartbeat
    from connector.worker import Worker
    from tests.helpers import connect_direct

    first, second = moneybird_emulator.administration_ids()[:2]
    a = connect_direct(services, moneybird_emulator, first)
    b = connect_direct(services, moneybird_emulator, second)
    worker = Worker(services, "w1")
    worker.heartbeat()
    claimed = leases.claim(services, "w1")
    assert sorted(claimed) == sorted([a, b])
    worker.held.update(claimed)  # claimed, not started
    assert worker.stop(timeout=1) is True
    with services.db.session() as db:
        assert db.get(Company, a).lease_owner is None and db.get(Company, b).lease_owner is None
        assert db.get(WorkerHeartbeat, "w1") is None
    assert worker.tick() == 0  # a stopped worker takes no new work


def test_a_sync_whose_lease_was_taken_over_records_nothing(services, moneybird_emulator):
    import threading
    import time

    from connector.models import Invoice, SyncRun
    from tests.helpers import connect_direct, wait_until

    company_id = connect_direct(services, moneybird_emulator)
    services.providers.get("moneybird").timeout = (5.0, 20.0)
    leases.claim_company(services, "w1", company_id, timedelta(seconds=1))
    moneybird_emulator.inject_delay("POST", "sales_invoices/synchronization", 3)
    outcome: list[object] = []

    def run() -> None:
        try:
            outcome.append(sync_company(services, company_id, worker="w1"))
        except leases.LeaseLost as exc:
            outcome.append(exc)

    thread = threading.Thread(target=run)
    thread.start()
    wait_until(lambda: moneybird_emulator.count_calls(method="POST") >= 1, timeout=10)
    time.sleep(1.2)  # w1 is stuck past its lease (nobody renews it in this test)
    assert leases.claim(services, "w2", ttl=timedelta(seconds=60)) == [company_id]
    thread.join(timeout=30)
    assert getattr(outcome[0], "outcome", None) == "lease_lost"  # stopped, wrote nothing
    with services.db.session() as db:
        [run] = db.scalars(select(SyncRun)).all()
        assert run.outcome == "interrupted"  # as the taking-over worker recorded it
        assert db.get(SyncState, company_id).last_success_at is None
        assert not db.scalars(select(Invoice)).first()


def test_a_sync_that_crashes_in_our_code_is_recorded_as_an_error(services, moneybird_emulator,
                                                                 monkeypatch):
    """Not "running" for ever: the history says it failed, and the next try is planned."""
    from connector import sync
    from connector.models import SyncRun
    from connector.worker import sync_one

    company_id = connect_direct(services, moneybird_emulator)
    leases.claim_company(services, "w1", company_id, timedelta(seconds=60))

    def broken(*args, **kwargs):
        raise RuntimeError("a bug")

    monkeypatch.setattr(sync, "_apply", broken)
    sync_one(services, company_id, "w1")
    with services.db.session() as db:
        [run] = db.scalars(select(SyncRun)).all()
        assert run.outcome == "error" and run.finished_at is not None
        assert db.get(Company, company_id).next_sync_at is not None
