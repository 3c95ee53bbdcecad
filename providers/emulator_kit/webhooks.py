"""Webhook delivery: one background thread per emulator, due-time order, retries, signing.

An emulator keeps a public ``deliveries`` list of dicts (what it pushed, to where, with which
outcome); the sender updates each record's ``attempts`` and ``status`` under the emulator's lock.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import requests

Signer = Callable[[bytes], dict[str, str]]  # body -> extra headers, computed at each attempt
ResultHook = Callable[[int | None, str | None], None]  # (status or None, body text or error)


class DeliveryQueue:
    """Jobs delivered by one background thread in due-time order.

    A job is any object with a ``due`` attribute (``time.monotonic()`` seconds); ``attempt``
    delivers it and, to retry, calls :meth:`put` again with a later ``due``.
    """

    def __init__(self, attempt: Callable[[Any], None], name: str) -> None:
        self._attempt = attempt
        self._name = name
        self._cond = threading.Condition()
        self._jobs: list[Any] = []
        self._inflight = 0
        self._closed = False
        self._worker: threading.Thread | None = None

    def put(self, job: Any) -> None:
        with self._cond:
            if self._worker is None:
                self._worker = threading.Thread(target=self._loop, name=self._name, daemon=True)
                self._worker.start()
            self._jobs.append(job)
            self._cond.notify_all()

    def _loop(self) -> None:
        while True:
            with self._cond:
                while True:
                    if self._closed:
                        return
                    ready = [j for j in self._jobs if j.due <= time.monotonic()]
                    if ready:
                        job = min(ready, key=lambda j: j.due)
                        self._jobs.remove(job)
                        self._inflight += 1
                        break
                    wait = min((j.due for j in self._jobs), default=None)
                    self._cond.wait(None if wait is None else max(0.01, wait - time.monotonic()))
            try:
                self._attempt(job)
            finally:
                with self._cond:
                    self._inflight -= 1
                    self._cond.notify_all()

    def wait_idle(self, timeout: float) -> bool:
        """Block until nothing is queued or in flight (retries included); False on timeout."""
        with self._cond:
            return self._cond.wait_for(lambda: not self._jobs and self._inflight == 0, timeout)

    def close(self) -> None:
        """Stop the thread; pending jobs are dropped."""
        with self._cond:
            self._closed = True
            self._cond.notify_all()


def accept_2xx(status: int) -> bool:
    return 200 <= status < 300


@dataclass
class Push:
    url: str
    body: bytes
    record: dict[str, Any]
    headers: dict[str, str] = field(default_factory=dict)
    sign: Signer | None = None
    on_result: ResultHook | None = None
    due: float = 0.0


class WebhookSender:
    """POSTs pushes in the background and retries the ones the receiver did not accept:
    attempt n+1 waits ``retry_base_delay * n`` seconds, at most ``max_retries`` retries."""

    def __init__(
        self,
        name: str,
        lock: Any,
        *,
        max_retries: int = 5,
        retry_base_delay: float = 0.2,
        accept: Callable[[int], bool] = accept_2xx,
        timeout: float = 5,
    ) -> None:
        self.lock = lock
        self.max_retries = max_retries
        self.retry_base_delay = retry_base_delay
        self.accept = accept
        self.timeout = timeout
        self.http = requests.Session()
        self._queue = DeliveryQueue(self._attempt, name)

    def push(
        self,
        url: str,
        body: bytes,
        record: dict[str, Any],
        *,
        headers: dict[str, str] | None = None,
        sign: Signer | None = None,
        on_result: ResultHook | None = None,
    ) -> None:
        """Queue a push now; ``record`` gets ``attempts`` and ``status`` as it goes."""
        record.setdefault("attempts", 0)
        record.setdefault("status", None)
        self._queue.put(Push(url, body, record, dict(headers or {}), sign, on_result,
                             time.monotonic()))

    def probe(self, url: str, body: bytes = b"{}", headers: dict[str, str] | None = None
              ) -> int | None:
        """One synchronous POST (a platform checking a new webhook URL): status or None."""
        try:
            return self.http.post(url, data=body, headers=headers, timeout=self.timeout
                                  ).status_code
        except requests.RequestException:
            return None

    def _attempt(self, push: Push) -> None:
        headers = dict(push.headers)
        if push.sign is not None:
            headers.update(push.sign(push.body))
        try:
            resp = self.http.post(push.url, data=push.body, headers=headers, timeout=self.timeout)
            status: int | None = resp.status_code
            text: str | None = resp.text[:1000]
        except requests.RequestException as exc:
            status, text = None, type(exc).__name__
        with self.lock:
            push.record["attempts"] += 1
            push.record["status"] = status
            if push.on_result is not None:
                push.on_result(status, text)
            attempts = push.record["attempts"]
        if (status is None or not self.accept(status)) and attempts <= self.max_retries:
            push.due = time.monotonic() + self.retry_base_delay * attempts
            self._queue.put(push)

    def wait_idle(self, timeout: float) -> bool:
        return self._queue.wait_idle(timeout)

    def close(self) -> None:
        """Stop the thread (pending pushes are dropped) and the HTTP session."""
        self._queue.close()
        self.http.close()


class DeliversWebhooks:
    """Mixin: the emulators' public delivery knobs over ``self.webhooks``."""

    webhooks: WebhookSender

    @property
    def retry_base_delay(self) -> float:
        return self.webhooks.retry_base_delay

    @retry_base_delay.setter
    def retry_base_delay(self, value: float) -> None:
        self.webhooks.retry_base_delay = value

    @property
    def max_retries(self) -> int:
        return self.webhooks.max_retries

    @max_retries.setter
    def max_retries(self, value: int) -> None:
        self.webhooks.max_retries = value

    def close(self) -> None:
        """Stop the delivery thread (pending pushes are dropped)."""
        self.webhooks.close()

    def wait_for_deliveries(self, timeout: float = 5.0) -> bool:
        """Block until every queued webhook push (incl. retries) is done; False on timeout."""
        return self.webhooks.wait_idle(timeout)
