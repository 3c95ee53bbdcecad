"""The Xero emulator's webhooks: signed deliveries and the intent-to-receive series.

Xero's webhooks belong to the app: one URL for every organisation, set in the developer
portal, signed with the app's webhook key (``x-xero-signature`` = base64 HMAC-SHA256 of the
raw body). As in the portal, :meth:`HooksMixin.subscribe` sets the URL and runs the
intent-to-receive check (Xero's literal bytes, rightly and wrongly signed; exactly 200/401 with
empty bodies); events go out only once it passed (status ``OK``, shown on ``/_emulator/``). A
delivery that is not answered 200 is retried with backoff.

With ``webhook_path`` set (the demo: ``/webhooks/xero``) and no URL yet, the first consent
subscribes ``<origin of the app's redirect URI><webhook_path>``: the app's developer portal
entry, guessed from where the app lives.
"""

from __future__ import annotations

import json
import threading
import time
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

import requests

from providers.xero.webhooks import sign

ITR_BODY = (b'{"events":[],"firstEventSequence": 0,"lastEventSequence": 0, '
            b'"entropy": "MIXBSNRWXBPLZQMKKQRS"}')
# The developer portal's words for a subscription's state.
NOT_SET, ITR_REQUIRED, ITR_OK = "Not set", "Intent To Receive Required", "OK"


@dataclass
class Job:
    url: str
    body: bytes
    signature: str
    attempt: int = 0
    due: float = 0.0


class HooksMixin:
    """Webhook delivery (mixed into :class:`XeroEmulator`)."""

    def _init_hooks(self: Any, webhook_path: str | None = None) -> None:
        self.webhook_url: str | None = None
        self.webhook_status = NOT_SET
        self.webhook_failures: list[str] = []  # of the last intent-to-receive check
        self.webhook_path = webhook_path
        self.deliveries: list[dict[str, Any]] = []
        self.retry_base_delay = 0.2
        self.max_retries = 5
        self._sequence = 0

    def emit(self: Any, tenant_id: str, category: str, event_type: str,
             resource_id: str) -> None:
        """Queue one signed event for the app's URL (none before intent to receive passed)."""
        url = self.webhook_url
        if not url or self.webhook_status != ITR_OK:
            return
        with self._lock:
            self._sequence += 1
            sequence = self._sequence
        path = {"INVOICE": "Invoices", "CONTACT": "Contacts"}.get(category, category.title())
        payload = {"events": [{
            "resourceUrl": f"{self.public_url or ''}/api.xro/2.0/{path}/{resource_id}",
            "resourceId": resource_id,
            "eventDateUtc": self.now().strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3],
            "eventType": event_type, "eventCategory": category,
            "tenantId": tenant_id, "tenantType": "ORGANISATION"}],
            "firstEventSequence": sequence, "lastEventSequence": sequence,
            "entropy": f"EMULATOR{sequence:012d}"}
        body = json.dumps(payload).encode()
        self._deliveries.put(Job(url, body, sign(body, self.webhook_key),
                                 due=time.monotonic()))

    def _attempt(self: Any, job: Job) -> None:
        job.attempt += 1
        try:
            response = self._http.post(job.url, data=job.body, timeout=10, headers={
                "Content-Type": "application/json", "x-xero-signature": job.signature})
            status: int | None = response.status_code
        except requests.RequestException:
            status = None
        with self._lock:
            self.deliveries.append({"url": job.url, "status": status, "attempt": job.attempt,
                                    "body": job.body})
        if status != 200 and job.attempt <= self.max_retries:
            job.due = time.monotonic() + self.retry_base_delay * 2 ** (job.attempt - 1)
            self._deliveries.put(job)

    def wait_for_deliveries(self: Any, timeout: float = 10.0) -> bool:
        return self._deliveries.wait_idle(timeout)

    def subscribe(self: Any, url: str, rounds: int = 3) -> str:
        """Set the app's webhook URL and check it (intent to receive); the status."""
        with self._lock:
            self.webhook_url, self.webhook_status = url, ITR_REQUIRED
            self.webhook_failures = []
        failures = self.intent_to_receive(url, rounds)
        with self._lock:
            if self.webhook_url == url:
                self.webhook_failures = failures
                self.webhook_status = ITR_OK if not failures else ITR_REQUIRED
            return self.webhook_status

    def subscribe_from_redirect(self: Any, redirect_uri: str) -> None:
        """The demo's portal entry: the app's URL beside its redirect URI, checked in the
        background (the consent must not wait for it)."""
        if not self.webhook_path or self.webhook_url:
            return
        parts = urlsplit(redirect_uri)
        url = f"{parts.scheme}://{parts.netloc}{self.webhook_path}"
        with self._lock:
            if self.webhook_url:
                return
            self.webhook_url, self.webhook_status = url, ITR_REQUIRED
        threading.Thread(target=self.subscribe, args=(url,), daemon=True,
                         name="xero-intent-to-receive").start()

    def intent_to_receive(self: Any, url: str, rounds: int = 3) -> list[str]:
        """Xero's check of a new webhook URL; returns the failures (empty: passed)."""
        failures = []
        for index in range(rounds * 2):
            genuine = index % 2 == 0
            signature = sign(ITR_BODY, self.webhook_key if genuine else "not-the-key")
            try:
                response = self._http.post(url, data=ITR_BODY, timeout=10, headers={
                    "Content-Type": "application/json", "x-xero-signature": signature})
            except requests.RequestException as exc:
                failures.append(f"no answer: {type(exc).__name__}")
                continue
            want = 200 if genuine else 401
            if response.status_code != want:
                failures.append(f"{'right' if genuine else 'wrong'} signature answered "
                                f"{response.status_code}, not {want}")
            if response.content:
                failures.append("Response contains a body")
        return failures
