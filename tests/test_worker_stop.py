"""Stopping, starting and health of real `connector worker` processes on PostgreSQL.

A sync is made long with the emulator's fault injection (an answer held back), never with a
short timeout. Overlap is checked twice: from the sync runs' start and end, and from the
emulator's own call log (every sync call of an administration falls inside one recorded run).
"""

from __future__ import annotations

import signal
import subprocess
import sys
import time
import uuid
from datetime import timedelta

import pytest
from sqlalchemy import create_engine, func, select, text
from sqlalchemy.engine import make_url

from connector import create_app, leases
from connector.models import Connection, Event, SyncRun
from tests.conftest import PG_URL
from tests.helpers import wait_until
from tests.test_worker_processes import (  # noqa: F401 (fixtures)
    ROOT,
    Fleet,
    _no_overlapping_runs,
    fleet_factory,
    pg,
)

pytestmark = pytest.mark.skipif(not PG_URL, reason="needs PostgreSQL (TEST_DATABASE_URL)")

SYNC_CALLS = "synchronization"


def _runs(fleet: Fleet) -> list[SyncRun]:
    with fleet.services.db.session() as db:
        return list(db.scalars(select(SyncRun).order_by(SyncRun.started_at)))


def _calls_inside_runs(fleet: Fleet, emulator) -> None:
    """Every sync call the emulator saw lies inside a run of that administration's company."""
    with fleet.services.db.session() as db:
        company_of = dict(db.execute(select(Connection.tenant_id, Connection.company_id)).all())
    runs = _runs(fleet)
    slack = timedelta(milliseconds=5)
    for call in emulator.calls:
        if SYNC_CALLS not in call["path"]:
            continue
        company = company_of[str(call["administration_id"])]
        inside = [r for r in runs if r.company_id == company
                  and r.started_at - slack <= call["at"] <= (r.finished_at or call["at"]) + slack]
        assert len(inside) == 1, f"a sync call outside one run ({call['method']} {call['at']})"


def _takeovers(fleet: Fleet) -> int:
    with fleet.services.db.session() as db:
        return db.scalar(select(func.count()).select_from(Event).where(
            Event.kind == "lease.takeover")) or 0


def _post_sync_calls(emulator) -> int:
    return emulator.count_calls(method="POST", path_contains="sales_invoices/synchronization")


def test_sigterm_during_a_long_sync_finishes_it_under_a_held_lease(
    fleet_factory, make_moneybird_emulator  # noqa: F811
):
    emulator = make_moneybird_emulator(administrations=4, contacts=3, invoices=8,
                                       rate_limit=None)
    # A 3 s lease and a 12 s answer: a worker that stopped renewing would lose the company.
    fleet = fleet_factory(emulator, LEASE_SECONDS="3", WORKER_STOP_TIMEOUT="60")
    companies = fleet.connect_all()
    emulator.inject_delay("POST", "sales_invoices/synchronization", 12, times=1)
    fleet.start(1)
    wait_until(lambda: _post_sync_calls(emulator) >= 1, timeout=60)
    first = fleet.processes[0]
    fleet.start(1)  # ready to take whatever the first one lets go
    time.sleep(4)  # longer than the lease: only renewal keeps the company with the first
    first.send_signal(signal.SIGTERM)
    assert first.wait(timeout=60) == 0
    wait_until(lambda: fleet.synced(companies), timeout=120)

    runs = _runs(fleet)
    first_id = next(r.worker for r in runs)  # the first run belongs to the first worker
    mine = [r for r in runs if r.worker == first_id]
    assert [r.outcome for r in mine] == ["ok"]  # the long sync finished and says so
    [long_run] = mine
    assert long_run.finished_at - long_run.started_at >= timedelta(seconds=10)
    # The companies it had claimed but not started went to the other worker at once.
    others = [r for r in runs if r.worker != first_id]
    assert {r.company_id for r in others} == set(companies) - {long_run.company_id}
    assert all(r.outcome == "ok" for r in others)
    assert min(r.started_at for r in others) < long_run.finished_at
    assert _takeovers(fleet) == 0  # nobody had to take a lease over
    _no_overlapping_runs(fleet.services)
    _calls_inside_runs(fleet, emulator)
    with fleet.services.db.session() as db:
        assert db.scalar(select(func.count()).select_from(SyncRun).where(
            SyncRun.outcome == "running")) == 0


def test_a_sync_longer_than_the_stop_timeout_is_recorded_interrupted_and_handed_over(
    fleet_factory, make_moneybird_emulator  # noqa: F811
):
    emulator = make_moneybird_emulator(administrations=1, contacts=3, invoices=8,
                                       rate_limit=None)
    fleet = fleet_factory(emulator, LEASE_SECONDS="3", WORKER_STOP_TIMEOUT="2")
    [company] = fleet.connect_all()
    emulator.inject_delay("POST", "sales_invoices/synchronization", 25, times=1)
    fleet.start(1)
    wait_until(lambda: _post_sync_calls(emulator) >= 1, timeout=60)
    first = fleet.processes[0]
    started = time.monotonic()
    first.send_signal(signal.SIGTERM)
    assert first.wait(timeout=30) == 0
    assert time.monotonic() - started < 20  # the stop timeout, not the 25 s answer
    [interrupted] = _runs(fleet)
    assert interrupted.outcome == "interrupted" and interrupted.finished_at is not None
    fleet.start(1)
    wait_until(lambda: fleet.synced([company]), timeout=60)
    time.sleep(1)
    runs = _runs(fleet)
    assert [r.outcome for r in runs] == ["interrupted", "ok"]  # never overwritten
    assert runs[1].started_at >= interrupted.finished_at
    assert _takeovers(fleet) == 0  # handed back, not left to run out
    _no_overlapping_runs(fleet.services)
    _calls_inside_runs(fleet, emulator)


def _web(fleet: Fleet):
    """A web process on the fleet's database (its own secret, as production requires)."""
    fleet.services.settings = fleet.services.settings.replace(secret_key="s" * 48)
    return create_app(services=fleet.services).test_client()


def _health(client) -> tuple[int, int | None]:
    response = client.get("/healthz")
    return response.status_code, response.get_json()["workers"]


def test_healthz_counts_live_workers_and_turns_503_when_the_last_one_stops(
    fleet_factory, make_moneybird_emulator  # noqa: F811
):
    emulator = make_moneybird_emulator(administrations=1, contacts=2, invoices=3,
                                       rate_limit=None)
    fleet = fleet_factory(emulator)
    client = _web(fleet)
    assert _health(client) == (503, 0)
    fleet.start(2)
    wait_until(lambda: _health(client) == (200, 2), timeout=60)
    for process in fleet.processes:
        process.send_signal(signal.SIGTERM)
    for process in fleet.processes:
        assert process.wait(timeout=60) == 0
    stopped = time.monotonic()
    wait_until(lambda: _health(client)[0] == 503, timeout=leases.HEARTBEAT_SECONDS)
    assert time.monotonic() - stopped < leases.HEARTBEAT_SECONDS
    # Two new workers count as two, not four.
    fleet.processes.clear()
    fleet.start(2)
    wait_until(lambda: _health(client) == (200, 2), timeout=60)
    time.sleep(leases.HEARTBEAT_SECONDS + 1)
    assert _health(client) == (200, 2)


@pytest.fixture
def empty_database():
    url = make_url(PG_URL)
    if url.drivername == "postgresql":
        url = url.set(drivername="postgresql+psycopg")
    name = f"connector_empty_{uuid.uuid4().hex[:8]}"
    admin = create_engine(url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    yield url.set(database=name).render_as_string(hide_password=False)
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


def test_migrations_and_workers_started_together_on_an_empty_database(empty_database, tmp_path,
                                                                     make_moneybird_emulator):
    emulator = make_moneybird_emulator(administrations=1, contacts=2, invoices=3)
    fleet = Fleet(empty_database, emulator, tmp_path, LOG_FORMAT="text")
    # The deploy step run from three machines at once, and three workers that wait for it.
    commands = [["migrate"]] * 3 + [["worker"]] * 3
    logs = [tmp_path / f"proc-{i}.log" for i in range(len(commands))]
    processes = [subprocess.Popen([sys.executable, "-m", "connector.cli", *args], cwd=ROOT,
                                  env=fleet.env, stdout=log.open("w"),
                                  stderr=subprocess.STDOUT)
                 for args, log in zip(commands, logs, strict=True)]
    try:
        for process in processes[:3]:
            assert process.wait(timeout=120) == 0
        client = _web(fleet)
        wait_until(lambda: _health(client) == (200, 3), timeout=90)
        assert all(p.poll() is None for p in processes[3:]), "a worker crashed"
    finally:
        for process in processes[3:]:
            if process.poll() is None:
                process.send_signal(signal.SIGTERM)
        codes = [p.wait(timeout=60) for p in processes[3:]]
        fleet.services.db.dispose()
    assert codes == [0, 0, 0]
    output = [log.read_text() for log in logs]
    # One process ran the migrations; the others waited for its lock and found nothing to do.
    assert sum("Running upgrade  -> 0001" in text_ for text_ in output) == 1, output
    assert not [t for t in output if "Traceback" in t]
    engine = create_engine(empty_database)
    with engine.connect() as conn:
        assert conn.scalar(text("SELECT count(*) FROM alembic_version")) == 1
    engine.dispose()
