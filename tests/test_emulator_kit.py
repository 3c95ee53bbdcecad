"""The emulator kit on its own: faults (times, lost answers, delays), rate windows, webhook
delivery with retries and signing, OAuth codes and tokens; and that both platform emulators
use the one fault semantics."""

from __future__ import annotations

import threading
import time
from datetime import UTC, datetime, timedelta

import flask
import pytest
import requests

from providers.emulator_kit.calls import CallLog
from providers.emulator_kit.faults import Faults
from providers.emulator_kit.oauth import CodeStore, TokenStore
from providers.emulator_kit.ratelimit import RateLimiter, Window
from providers.emulator_kit.server import EmulatorServer
from providers.emulator_kit.webhooks import WebhookSender
from providers.exact_online.emulator import ExactEmulator
from providers.moneybird.emulator import MoneybirdEmulator
from tests.helpers import wait_until

# ---------------------------------------------------------------------- faults


def test_a_fault_fires_exactly_times_then_is_gone() -> None:
    faults = Faults()
    faults.error("get", "/invoices", status=503, times=2)
    taken = [faults.take("error", "GET", "/api/invoices/1") for _ in range(3)]
    assert [f.status if f else None for f in taken] == [503, 503, None]
    assert faults.pending() == []


def test_a_fault_matches_method_path_and_kind_oldest_first() -> None:
    faults = Faults()
    first = faults.error("POST", "/notes", status=500)
    second = faults.error("POST", "/notes", status=502)
    faults.delay("POST", "/notes", seconds=0.01)
    assert faults.take("error", "GET", "/x/notes") is None  # other method
    assert faults.take("error", "POST", "/x/payments") is None  # other path
    assert faults.take("lost", "POST", "/x/notes") is None  # other kind
    assert faults.take("error", "POST", "/x/notes") is first
    assert faults.take("error", "POST", "/x/notes") is second
    assert faults.take("delay", "POST", "/x/notes") is not None


def test_a_fault_that_would_never_fire_is_refused() -> None:
    with pytest.raises(ValueError, match="at least once"):
        Faults().error("GET", "/", times=0)


@pytest.fixture
def counting_server():
    """A loopback server whose one route counts what it processed, with the kit's faults."""

    class Counting:
        def __init__(self) -> None:
            self.faults = Faults()
            self.processed = 0
            self.app = flask.Flask("counting")
            self.app.add_url_rule("/do", "do", self.do, methods=["POST"])

        def do(self) -> flask.Response:
            self.processed += 1
            self.faults.after_processing("POST", "/do", flask.request.environ)
            return flask.Response("done", status=200)

        def close(self) -> None:
            pass

    emulator = Counting()
    server = EmulatorServer(emulator, "127.0.0.1", 0, "counting")
    yield emulator, server
    server.shutdown()


def test_a_lost_answer_is_processed_but_never_heard(counting_server) -> None:
    emulator, server = counting_server
    emulator.faults.lost("POST", "/do")
    with pytest.raises(requests.ConnectionError):
        requests.post(f"{server.url}/do", timeout=60)
    assert emulator.processed == 1  # the ledger changed; the client does not know
    assert requests.post(f"{server.url}/do", timeout=60).text == "done"  # spent: once only
    assert emulator.processed == 2


def test_a_delay_holds_the_answer_back_after_processing(counting_server) -> None:
    emulator, server = counting_server
    emulator.faults.delay("POST", "/do", seconds=0.3)
    started = time.monotonic()
    assert requests.post(f"{server.url}/do", timeout=60).text == "done"
    assert time.monotonic() - started >= 0.3  # a lower bound only: safe on a loaded machine
    assert emulator.processed == 1
    assert emulator.faults.pending() == []


@pytest.mark.parametrize("make", [
    lambda: MoneybirdEmulator(invoices=20, contacts=10),
    lambda: ExactEmulator(accounts=10, open_items=20),
])
def test_both_platform_emulators_spend_an_error_fault_times_times(make) -> None:
    """The drift this kit ended: one emulator checked ``times > 0`` and the other did not."""
    emulator = make()
    token = "kit-token"
    emulator.register_token(token)
    path = "/api/v2/administrations.json" if isinstance(emulator, MoneybirdEmulator) else \
        "/api/v1/current/Me"
    with pytest.raises(ValueError):  # was: never fired in one emulator, fired once in the other
        emulator.inject_error("GET", path.split("/")[-1], status=503, times=0)
    emulator.inject_error("GET", path.split("/")[-1], status=503, times=2)
    client = emulator.app.test_client()
    statuses = [client.get(path, headers={"Authorization": f"Bearer {token}"}).status_code
                for _ in range(3)]
    emulator.close()
    assert statuses == [503, 503, 200]
    assert emulator.count_calls(method="GET") == 3


def test_the_call_log_counts_by_method_path_and_fields() -> None:
    log = CallLog()
    log.record({"method": "GET", "path": "/a/invoices", "division": 1})
    log.record({"method": "POST", "path": "/a/notes", "division": 1})
    log.record({"method": "GET", "path": "/b/invoices", "division": 2})
    assert log.count(method="get") == 2
    assert log.count(path_contains="invoices", division=2) == 1
    assert log.count(division=None) == 3
    log.clear()
    assert log.count() == 0


# ---------------------------------------------------------------------- rate windows


def test_a_window_opened_by_the_first_call_moneybird() -> None:
    limiter, window = RateLimiter(), Window(150, 300)
    start = 1_700_000_123.5
    verdicts = [limiter.take("adm", start + i, (window,)) for i in range(151)]
    assert all(v.allowed for v in verdicts[:150])
    assert verdicts[149].states[0].remaining == 0
    assert verdicts[150].exceeded is not None
    assert verdicts[150].exceeded.reset == int(start + 300)
    assert limiter.take("other", start + 151, (window,)).allowed  # keys are separate
    assert not limiter.take("adm", start + 299, (window,)).allowed
    again = limiter.take("adm", start + 300, (window,))
    assert again.allowed and again.states[0].used == 1


def test_aligned_minute_and_day_windows_exact() -> None:
    limiter = RateLimiter()
    day, minute = Window(100, 86_400, aligned=True), Window(60, 60, aligned=True)
    now = datetime(2026, 3, 2, 10, 0, 30, tzinfo=UTC).timestamp()
    for _ in range(60):
        assert limiter.take(7, now, (day, minute)).allowed
    refused = limiter.take(7, now + 10, (day, minute))
    assert refused.exceeded is refused.states[1]  # the minute, not the day
    assert refused.exceeded.reset == int(now - 30 + 60)  # the next clock minute
    assert refused.states[0].used == 60  # a refused call is not counted
    for i in range(40):
        assert limiter.take(7, now + 60 + i, (day, minute)).allowed
    by_day = limiter.take(7, now + 120, (day, minute))
    assert by_day.exceeded is by_day.states[0]
    assert by_day.exceeded.reset == int(datetime(2026, 3, 3, tzinfo=UTC).timestamp())
    assert limiter.take(7, datetime(2026, 3, 3, 0, 0, 1, tzinfo=UTC).timestamp(),
                        (day, minute)).allowed


# ---------------------------------------------------------------------- webhook delivery


@pytest.fixture
def receiver():
    """A loopback receiver that refuses the first ``refuse`` pushes with 500."""

    class Receiver:
        def __init__(self) -> None:
            self.refuse = 0
            self.received: list[dict[str, str]] = []
            self.lock = threading.Lock()
            self.app = flask.Flask("receiver")
            self.app.add_url_rule("/hook", "hook", self.hook, methods=["POST"])

        def hook(self) -> flask.Response:
            with self.lock:
                self.received.append(dict(flask.request.headers))
                refused = len(self.received) <= self.refuse
            return flask.Response("no" if refused else "ok", status=500 if refused else 200)

        def close(self) -> None:
            pass

    rec = Receiver()
    server = EmulatorServer(rec, "127.0.0.1", 0, "receiver")
    yield rec, server
    server.shutdown()


def test_a_refused_push_is_retried_and_signed_at_each_attempt(receiver) -> None:
    rec, server = receiver
    rec.refuse = 2
    lock = threading.RLock()
    sender = WebhookSender("kit-test", lock, max_retries=5, retry_base_delay=0.01)
    signed: list[bytes] = []
    results: list[int | None] = []

    def sign(body: bytes) -> dict[str, str]:
        signed.append(body)
        return {"X-Signature": f"n={len(signed)}"}

    record: dict[str, object] = {}
    sender.push(f"{server.url}/hook", b'{"a":1}', record, headers={"X-Static": "1"},
                sign=sign, on_result=lambda status, text: results.append(status))
    try:
        assert sender.wait_idle(60)
    finally:
        sender.close()
    assert record == {"attempts": 3, "status": 200}
    assert results == [500, 500, 200]
    assert [h["X-Signature"] for h in rec.received] == ["n=1", "n=2", "n=3"]
    assert all(h["X-Static"] == "1" for h in rec.received)


def test_a_push_gives_up_after_max_retries(receiver) -> None:
    rec, server = receiver
    rec.refuse = 100
    sender = WebhookSender("kit-test", threading.RLock(), max_retries=2, retry_base_delay=0.01)
    record: dict[str, object] = {}
    sender.push(f"{server.url}/hook", b"{}", record)
    try:
        assert sender.wait_idle(60)
    finally:
        sender.close()
    assert record == {"attempts": 3, "status": 500}  # the first attempt and two retries
    assert len(rec.received) == 3


def test_an_unreachable_receiver_is_retried_too() -> None:
    sender = WebhookSender("kit-test", threading.RLock(), max_retries=1, retry_base_delay=0.01)
    record: dict[str, object] = {}
    sender.push("http://127.0.0.1:9/hook", b"{}", record)  # discard port: refused
    try:
        wait_until(lambda: record.get("attempts") == 2, timeout=60)
        assert sender.wait_idle(60)
    finally:
        sender.close()
    assert record["status"] is None


# ---------------------------------------------------------------------- OAuth


def test_a_code_is_single_use_whatever_happens() -> None:
    codes, now = CodeStore(), datetime(2026, 1, 1, tzinfo=UTC)
    codes.issue("c1", client_id="app", redirect_uri="http://x/cb", expires_at=now + timedelta(
        minutes=3), divisions=[1])
    outcome, code = codes.redeem("c1", client_id="app", redirect_uri="http://x/cb", now=now)
    assert outcome == "ok" and code is not None and code.grant == {"divisions": [1]}
    assert codes.redeem("c1", client_id="app", redirect_uri="http://x/cb", now=now)[0] == "reused"
    codes.issue("c2", client_id="app", redirect_uri="http://x/cb", expires_at=now)
    assert codes.redeem("c2", client_id="app", redirect_uri="http://x/cb", now=now)[0] == "expired"
    assert codes.redeem("nope", client_id="app", redirect_uri=None, now=now)[0] == "unknown"


def test_rotation_spends_the_refresh_token_and_can_revoke_the_previous_access() -> None:
    now = datetime(2026, 1, 1, tzinfo=UTC)
    store = TokenStore(lambda: now, rotate_refresh=True, revoke_previous_access=True)
    grant = store.grant("app", divisions=frozenset({1}))
    first = store.issue(grant, 600)
    old_refresh = grant.refresh
    assert old_refresh is not None
    second = store.refresh(old_refresh, 600)
    assert old_refresh.used and grant.refresh is not old_refresh
    assert not first.usable(now) and second.usable(now)
    assert store.access_token(second.value) is second


def test_without_rotation_the_refresh_token_stays() -> None:
    now = datetime(2026, 1, 1, tzinfo=UTC)
    store = TokenStore(lambda: now)
    grant = store.grant(None, scopes=("sales_invoices",))
    first = store.issue(grant, None)
    refresh = grant.refresh
    assert refresh is not None
    store.refresh(refresh, 600)
    assert grant.refresh is refresh and not refresh.used
    assert first.usable(now)  # no revoke_previous_access
    store.revoke_all()
    assert not first.usable(now)
    assert store.refresh_token(refresh.value) is refresh and refresh.grant.revoked
