"""Shared HTTP for providers: timeouts, safe retries, rate budgets, 401 refresh, redaction.

Classification follows the error tree in :mod:`providers.base`: the caller learns what to do
(reconnect, wait, retry, give up) and never sees a token or a response body with debtor data.
"""

from __future__ import annotations

import json
import logging
import random
import re
import secrets
import threading
import time
from collections import deque
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from contextvars import ContextVar
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import requests
import urllib3

from providers.base import RateLimited, ReconnectRequired, Rejected, TokenSource, Transient

log = logging.getLogger(__name__)

DEFAULT_TIMEOUT = (5.0, 30.0)  # connect, read
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
_last_look: ContextVar[Callable[[], None] | None] = ContextVar("last_look", default=None)


@contextmanager
def last_look(check: Callable[[], None]) -> Iterator[None]:
    """Call ``check`` right before each write call inside this block leaves, after any wait for
    the rate budget: a write that waited seconds for room may no longer be wanted (its invoice
    was paid meanwhile). ``check`` raises to stop the call; reads are never held up."""
    token = _last_look.set(check)
    try:
        yield
    finally:
        _last_look.reset(token)


# Retry-After above this is an epoch timestamp, below it a number of seconds (Moneybird sends
# epoch seconds; RFC 9110 says delta seconds; accept both).
_EPOCH_THRESHOLD = 1_000_000_000


def utcnow() -> datetime:
    return datetime.now(UTC)


def parse_retry_at(headers: Mapping[str, str], now: datetime | None = None) -> datetime | None:
    """When a 429 says we may try again, from ``Retry-After`` or ``RateLimit-Reset``."""
    now = now or utcnow()
    for name in ("Retry-After", "RateLimit-Reset"):
        raw = headers.get(name)
        if raw is None:
            continue
        try:
            value = float(str(raw).strip())
        except ValueError:
            continue
        if value > _EPOCH_THRESHOLD:
            at = datetime.fromtimestamp(value, UTC)
        else:
            at = now + timedelta(seconds=max(value, 0.0))
        return max(at, now)
    return None


class RateBudget:
    """A sliding-window budget per key (e.g. per administration), kept proactively.

    We stay under the platform's limit instead of running into 429s; a 429 that happens anyway
    blocks the key until the time the platform gave. Waits up to ``max_wait`` seconds are slept
    through; longer ones raise :class:`RateLimited` so the caller can postpone the work.
    """

    def __init__(self, limit: int, window_seconds: float, *, max_wait: float = 10.0,
                 clock: Callable[[], float] = time.time) -> None:
        self.limit = limit
        self.window = window_seconds
        self.max_wait = max_wait
        self.clock = clock  # a test may run the platform's real window on a virtual clock
        self._calls: dict[str, deque[float]] = {}
        self._blocked_until: dict[str, float] = {}
        self._lock = threading.Lock()

    def acquire(self, key: str) -> None:
        while True:
            with self._lock:
                now = self.clock()
                calls = self._calls.setdefault(key, deque())
                while calls and calls[0] + self.window <= now:  # as `wait` counts
                    calls.popleft()
                wait = self._blocked_until.get(key, 0.0) - now
                if wait <= 0 and len(calls) < self.limit:
                    calls.append(now)
                    return
                if wait <= 0:
                    wait = calls[0] + self.window - now
            if wait > self.max_wait:
                raise RateLimited("own rate budget used up",
                                  retry_at=_not_before(self.clock() + wait))
            time.sleep(max(wait, 0.01))

    def block_until(self, key: str, at: datetime) -> None:
        with self._lock:
            self._blocked_until[key] = max(self._blocked_until.get(key, 0.0), at.timestamp())


def _not_before(moment: float) -> datetime:
    """``moment`` as a datetime, rounded up to the microsecond: a retry_at rounded down would be
    refused again at that very instant (and a caller waiting on a virtual clock would never
    get past it)."""
    at = datetime.fromtimestamp(moment, UTC)
    return at if at.timestamp() >= moment else at + timedelta(microseconds=1)



def dump_json(value: Any) -> str:
    """JSON with Decimals written as exact numbers (json.dumps would refuse or go via float)."""
    decimals: list[Decimal] = []
    nonce = secrets.token_hex(4)  # data can never forge a placeholder

    def default(obj: Any) -> str:
        if isinstance(obj, Decimal):
            decimals.append(obj)
            return f"\x00{nonce}:{len(decimals) - 1}\x00"
        raise TypeError(f"{type(obj).__name__} is not JSON serializable")

    text = json.dumps(value, default=default)
    return re.sub(r'"\\u0000' + nonce + r':(\d+)\\u0000"',
                  lambda m: format(decimals[int(m.group(1))], "f"), text)


def describe_error(response: requests.Response) -> str:
    """A short, safe description of an error response: status and the platform's error code.

    Only a top-level string ``error`` is kept (it is a message from the platform, such as
    "record not found"); field values are never echoed since they may hold debtor data.
    """
    detail = ""
    try:
        body = response.json()
    except ValueError:
        body = None
    if isinstance(body, dict):
        error = body.get("error")
        if isinstance(error, str):
            detail = error[:120]
        elif isinstance(error, dict) and ("message" in error or "code" in error):
            # OData (Exact Online): the message may quote submitted values, so only its code.
            detail = "platform error" + (f" {error['code']}" if error.get("code") else "")
        elif isinstance(error, dict):
            detail = "invalid fields: " + ", ".join(sorted(str(k) for k in error)[:10])
    return f"HTTP {response.status_code}" + (f": {detail}" if detail else "")


Unauthorized = Callable[[requests.Response], ReconnectRequired | None]
# Reads a platform's rate-limit headers; returns when calls may resume if the budget is spent.
Observer = Callable[[requests.Response], datetime | None]


class Budgets:
    """Several budgets that must all allow a call (e.g. per minute and per day)."""

    def __init__(self, *budgets: RateBudget) -> None:
        self.budgets = budgets

    def acquire(self, key: str) -> None:
        for budget in self.budgets:
            budget.acquire(key)

    def block_until(self, key: str, at: datetime) -> None:
        for budget in self.budgets:
            budget.block_until(key, at)


class ApiClient:
    """One platform API as one tenant sees it.

    ``interpret_401`` lets a provider say that a 401 means something other than a dead token
    (Moneybird: a missing scope); otherwise the token is refreshed once and the call repeated.
    """

    def __init__(
        self,
        base_url: str,
        tokens: TokenSource,
        *,
        budget: RateBudget | Budgets | None = None,
        budget_key: str = "",
        observe: Observer | None = None,
        timeout: tuple[float, float] = DEFAULT_TIMEOUT,
        session: requests.Session | None = None,
        transient_retries: int = 2,
        interpret_401: Unauthorized | None = None,
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self.tokens = tokens
        self.budget = budget
        self.budget_key = budget_key
        self.timeout = timeout
        self.session = session or requests.Session()
        self.transient_retries = transient_retries
        self.interpret_401 = interpret_401
        self.observe = observe
        self.calls = 0

    def request(
        self,
        method: str,
        path: str,
        *,
        params: Mapping[str, Any] | None = None,
        json: Any = None,
        idempotent: bool | None = None,
        allow_redirects: bool = True,
    ) -> requests.Response:
        """Send one API call and classify the outcome.

        Reads (and writes the caller marks ``idempotent``) are retried on transient failures;
        other writes raise :class:`Transient` with ``ambiguous=True`` when the answer was lost.
        ``allow_redirects=False`` hands a 3xx back to the caller (downloads that redirect to
        another host must be fetched there without our bearer token).
        """
        if idempotent is None:
            idempotent = method.upper() in SAFE_METHODS
        url = path if path.startswith("http") else f"{self.base_url}{path}"
        attempt = 0
        refreshed = False
        token = self.tokens.access_token()
        while True:
            attempt += 1
            try:
                response = self._send(method, url, params, json, token, allow_redirects)
            except Transient as exc:
                if idempotent and attempt <= self.transient_retries:
                    _backoff(attempt)
                    continue
                raise Transient(str(exc), ambiguous=exc.ambiguous and not idempotent) from exc
            status = response.status_code
            resume_at = self.observe(response) if self.observe else None
            if resume_at is not None and self.budget is not None:
                self.budget.block_until(self.budget_key, resume_at)
            if status == 401:
                verdict = self.interpret_401(response) if self.interpret_401 else None
                if verdict is not None:
                    raise verdict
                if refreshed:
                    raise ReconnectRequired("access token refused after refresh")
                token = self.tokens.refresh_after_rejection(token)
                refreshed = True
                continue
            if status == 429:
                retry_at = (resume_at or parse_retry_at(response.headers)
                            or utcnow() + timedelta(seconds=60))
                if self.budget is not None:
                    self.budget.block_until(self.budget_key, retry_at)
                raise RateLimited(f"{method} rate limited", retry_at=retry_at)
            if status >= 500:
                if idempotent and attempt <= self.transient_retries:
                    _backoff(attempt)
                    continue
                raise Transient(f"{method} {describe_error(response)}", ambiguous=not idempotent)
            if status >= 400:
                raise Rejected(f"{method} {describe_error(response)}", status=status)
            return response

    def _send(
        self, method: str, url: str, params: Any, json: Any, token: str,
        allow_redirects: bool = True,
    ) -> requests.Response:
        if self.budget is not None:
            self.budget.acquire(self.budget_key)
        check = _last_look.get()
        if check is not None and method.upper() not in SAFE_METHODS:
            check()
        self.calls += 1
        headers = {"Authorization": f"Bearer {token}", "Accept": "application/json"}
        body = None
        if json is not None:
            body = dump_json(json).encode()
            headers["Content-Type"] = "application/json"
        try:
            return self.session.request(
                method, url, params=params, data=body, headers=headers, timeout=self.timeout,
                allow_redirects=allow_redirects,
            )
        except requests.ConnectTimeout:
            raise Transient(f"{method} could not connect", ambiguous=False) from None
        except requests.Timeout:
            raise Transient(f"{method} timed out", ambiguous=True) from None
        except requests.ConnectionError as exc:
            raise Transient(f"{method} connection failed", ambiguous=_maybe_sent(exc)) from None


def _maybe_sent(exc: requests.ConnectionError) -> bool:
    """False only when the connection was never made, so the request cannot have arrived."""
    reason = getattr(exc.args[0], "reason", None) if exc.args else None
    return not isinstance(reason, urllib3.exceptions.NewConnectionError)


def _backoff(attempt: int) -> None:
    time.sleep(min(0.25 * 2 ** (attempt - 1), 4.0) + random.uniform(0, 0.1))


def write_once(
    find: Callable[[], str | None], write: Callable[[], str], *, maybe_done: bool
) -> str:
    """Write unless the write is already there; after a lost answer, look before retrying.

    Neither platform has idempotency keys for writes: ``find`` looks for our own key in what
    the ledger holds, ``write`` makes the write once more only when it is not found.
    """
    if maybe_done and (existing := find()):
        return existing
    try:
        return write()
    except Transient as exc:
        if not exc.ambiguous:
            raise
    if existing := find():
        return existing
    return write()
