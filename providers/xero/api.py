"""Xero's HTTP particulars on top of :class:`providers.http.ApiClient`.

Every accounting call carries ``xero-tenant-id``; some carry an ``Idempotency-Key`` or ask for a
PDF (``Accept: application/pdf``). Xero allows 5 calls at once per organisation: a process-wide
semaphore per tenant keeps us under it (across workers a 429 "concurrent" with Retry-After is
honoured like any other). Rate-limit headers are read after every answer.
"""

from __future__ import annotations

import json
import threading
from collections import defaultdict
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

import requests

from providers.base import RateLimited, ReconnectRequired, Rejected, Transient
from providers.http import ApiClient, _maybe_sent, dump_json, parse_retry_at, utcnow

CONCURRENT_LIMIT = 5
_slots: defaultdict[str, threading.BoundedSemaphore] = defaultdict(
    lambda: threading.BoundedSemaphore(CONCURRENT_LIMIT))
_slots_lock = threading.Lock()


def _slot(key: str) -> threading.BoundedSemaphore:
    with _slots_lock:
        return _slots[key]


def observe_rate_limits(response: requests.Response) -> datetime | None:
    """When calls may resume if Xero says a budget is spent, else None.

    A 429's ``Retry-After`` is authoritative. Otherwise ``X-MinLimit-Remaining: 0`` waits out a
    minute and ``X-DayLimit-Remaining: 0`` an hour before looking again (Xero gives no reset
    time for either; the day window is rolling, reference next-ledgers §1.8).
    """
    headers = response.headers
    if response.status_code == 429:
        return parse_retry_at(headers) or utcnow() + timedelta(seconds=60)
    now = utcnow()
    if (headers.get("X-DayLimit-Remaining") or "").strip() == "0":
        return now + timedelta(hours=1)
    if (headers.get("X-MinLimit-Remaining") or "").strip() == "0" or \
            (headers.get("X-AppMinLimit-Remaining") or "").strip() == "0":
        return now + timedelta(seconds=60)
    return None


def rate_problem(response: requests.Response) -> str:
    return (response.headers.get("X-Rate-Limit-Problem") or "").strip().lower()[:20]


class XeroApi(ApiClient):
    """An :class:`ApiClient` for one organisation (``tenant_id``; "" for /connections)."""

    def __init__(self, base_url: str, tokens: Any, *, tenant_id: str = "", **kwargs: Any) -> None:
        super().__init__(base_url, tokens, budget_key=tenant_id, **kwargs)
        self.tenant_id = tenant_id
        self._extra = threading.local()

    def call(self, method: str, path: str, *, headers: dict[str, str] | None = None,
             **kwargs: Any) -> requests.Response:
        """:meth:`ApiClient.request` with extra headers for this one call."""
        self._extra.headers = headers or {}
        self._extra.problem = ""
        try:
            return self.request(method, path, **kwargs)
        except RateLimited as exc:
            problem = getattr(self._extra, "problem", "")
            raise RateLimited(f"{exc} (Xero: {problem})" if problem else str(exc),
                              retry_at=exc.retry_at) from None
        except Rejected as exc:
            if exc.status == 403 and self.tenant_id:
                # The organisation was disconnected from our app (in Xero, or by a new consent
                # without it): only connecting again helps.
                raise ReconnectRequired("organisation no longer connected to the app") from None
            raise
        finally:
            self._extra.headers = {}

    def body(self, method: str, path: str, **kwargs: Any) -> dict[str, Any]:
        """A JSON answer with amounts as Decimal (never via float)."""
        response = self.call(method, path, **kwargs)
        try:
            payload = json.loads(response.text, parse_float=Decimal)
        except ValueError:
            raise Transient("Xero answer is not JSON") from None
        if not isinstance(payload, dict | list):
            raise Transient("Xero answer is not a JSON object")
        return payload  # type: ignore[return-value]

    def _send(self, method: str, url: str, params: Any, json: Any, token: str,
              allow_redirects: bool = True) -> requests.Response:
        if self.budget is not None:
            self.budget.acquire(self.budget_key)
        self.calls += 1
        headers = {"Authorization": f"Bearer {token}", "Accept": "application/json"}
        if self.tenant_id:
            headers["xero-tenant-id"] = self.tenant_id
        headers.update(getattr(self._extra, "headers", None) or {})
        body = None
        if json is not None:
            body = dump_json(json).encode()
            headers["Content-Type"] = "application/json"
        slot = _slot(self.tenant_id)
        with slot:
            try:
                response = self.session.request(
                    method, url, params=params, data=body, headers=headers,
                    timeout=self.timeout, allow_redirects=allow_redirects)
            except requests.ConnectTimeout:
                raise Transient(f"{method} could not connect", ambiguous=False) from None
            except requests.Timeout:
                raise Transient(f"{method} timed out", ambiguous=True) from None
            except requests.ConnectionError as exc:
                raise Transient(f"{method} connection failed",
                                ambiguous=_maybe_sent(exc)) from None
        if response.status_code == 429:
            self._extra.problem = rate_problem(response)
        return response


class XeroBudgets:
    """Per organisation a minute and a day budget; one app-wide minute budget.

    ``budgets`` lists the per-organisation ones (what the connector's pacing reads, keyed by
    tenant); the app budget is keyed ``app`` for every organisation.
    """

    def __init__(self, minute: Any, day: Any, app: Any | None = None) -> None:
        self.budgets = (minute, day)
        self.app = app

    def acquire(self, key: str) -> None:
        for budget in self.budgets:
            budget.acquire(key)
        if self.app is not None:
            self.app.acquire("app")

    def block_until(self, key: str, at: datetime) -> None:
        for budget in self.budgets:
            budget.block_until(key, at)
