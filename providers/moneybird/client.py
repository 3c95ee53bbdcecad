"""One Moneybird administration through the Ledger contract.

Sync uses the synchronization endpoints: one GET lists ids and versions of every unpaid invoice,
then only new or changed ones are fetched, 100 per POST. An unchanged administration costs two
calls (invoices and contacts). Writes carry our key so a retry after a lost answer finds the
earlier write instead of making a second one (Moneybird has no idempotency keys of its own).
"""

from __future__ import annotations

import json
from collections.abc import Generator, Iterable, Iterator, Sequence
from dataclasses import replace
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any
from urllib.parse import urljoin, urlsplit

import requests

from providers.base import (
    DebtorRecord,
    InvoiceChangesPage,
    InvoiceRecord,
    KnownVersions,
    PaymentSettings,
    Rejected,
    SyncCursor,
    Transient,
    WebhookRegistration,
)
from providers.context import LedgerContext
from providers.http import write_once
from providers.moneybird import mapping
from providers.paging import follow_next

BATCH = 100  # the synchronization POST returns at most 100 records
COMPARE_CHUNK = 2000  # listed ids compared with the mirror per query round
REMINDER_GROUP = ("contact_id", "workflow_id", "document_style_id", "identity_id")
MAX_PDF_BYTES = 10 * 1024 * 1024  # an invoice PDF is a few hundred kB; refuse anything huge
LOOKBACK_YEARS = 10
# Contact details matter when a message goes out, and the just-in-time re-read of the invoice
# brings its contact along then; checking all contacts hourly is enough and saves a call a sync.
CONTACTS_EVERY = timedelta(hours=1)
WEBHOOK_EVENTS = (
    "sales_invoice_state_changed",
    "sales_invoice_marked_as",
    "sales_invoice_destroyed",
    # Not "sales_invoice_paused"/"unpaused": pausing is what the connector itself does, and each
    # echo would spend the payment lane on a sync that changes nothing owed. A pause set by
    # hand shows at the next scheduled sync.
    "sales_invoice_updated",
    "payment",
    "contact_changed",
    "contact_merged",
)


def sync_period(today: date) -> str:
    """An explicit period: without one Moneybird silently applies ``this_year``."""
    return f"{today.year - LOOKBACK_YEARS}0101..{today.year + 1}1231"


def _cursor_state(value: str | None) -> dict[str, str]:
    try:
        state = json.loads(value) if value else {}
    except ValueError:
        return {}
    return state if isinstance(state, dict) else {}


def chunks(ids: list[str], size: int = BATCH) -> Iterator[list[str]]:
    for start in range(0, len(ids), size):
        yield ids[start : start + size]


class MoneybirdLedger:
    def __init__(self, context: LedgerContext) -> None:
        self.context = context
        self.tenant_id = context.tenant_id
        self.api = context.api()
        # Invoices read just now (the engine's just-in-time check), for send_reminder. A ledger
        # object lives for one send or one sync, so this never grows old.
        self._just_read: dict[str, dict[str, Any]] = {}

    @property
    def api_calls(self) -> int:
        return self.api.calls

    # -- reads ----------------------------------------------------------------------------

    def changed_invoices(self, cursor: SyncCursor) -> Generator[InvoiceChangesPage, None, None]:
        """One list call, then pages of 100 fetched invoices, each with its resuming cursor.

        The synchronization list is one call holding every unpaid invoice, so every run sees
        the whole open set at once: a run that resumes after a cut lists again and fetches
        only what differs from what was committed (committed pages are never fetched twice),
        and "known open but no longer listed" is always judged against a complete list.
        Those invoices (paid, credited, written off, deleted) are fetched first: payments first.
        """
        today = self.context.today()
        known = cursor.known
        check_contacts = known.has_open_debtors()  # asked before this run adds any
        listed = self._versions(
            "/sales_invoices/synchronization.json",
            {"filter": f"state:{'|'.join(mapping.UNPAID_STATES)},period:{sync_period(today)}"},
        )
        gone = [i for i in known.open_invoice_ids() if i not in listed]
        changed: list[str] = []
        ids = list(listed)
        for start in range(0, len(ids), COMPARE_CHUNK):
            chunk = ids[start : start + COMPARE_CHUNK]
            versions = known.open_invoice_versions(chunk)
            changed += [i for i in chunk if versions.get(i) != listed[i]]
        del ids
        expected = len(listed)
        del listed
        state = _cursor_state(cursor.value)
        value = json.dumps(state)
        now = datetime.now(UTC)
        checked = state.get("contacts_checked_at")
        contacts_due = checked is None or now - datetime.fromisoformat(checked) >= CONTACTS_EVERY
        if contacts_due:
            state["contacts_checked_at"] = now.isoformat()
        final = json.dumps(state)
        contacts_page = contacts_due and check_contacts
        batches = [(batch, True) for batch in chunks(gone)]
        batches += [(batch, False) for batch in chunks(changed)]
        del gone, changed
        seen_debtors: set[str] = set()
        for number, (batch, was_open) in enumerate(batches, start=1):
            # The last page carries the final cursor, unless the contact check follows.
            last = number == len(batches) and not contacts_page
            page = self._page(batch, final if last else value, expected, seen_debtors)
            if was_open:
                returned = {inv.id for inv in page.invoices}
                page = replace(page, deleted=[i for i in batch if i not in returned])
            yield page
        if contacts_page:
            debtors = self._changed_debtors(known, seen_debtors)
            yield InvoiceChangesPage(invoices=[], debtors=debtors, deleted=[], cursor=final,
                                     expected_total=expected)
        elif not batches and final != value:
            yield InvoiceChangesPage(invoices=[], debtors=[], deleted=[], cursor=final,
                                     expected_total=expected)

    def _page(self, ids: list[str], cursor: str, expected: int,
              seen_debtors: set[str]) -> InvoiceChangesPage:
        raw = self._fetch("/sales_invoices/synchronization.json", ids)
        debtors = {str(r["contact"]["id"]): mapping.debtor(r["contact"])
                   for r in raw if isinstance(r.get("contact"), dict)}
        seen_debtors.update(debtors)
        return InvoiceChangesPage(invoices=[mapping.invoice(r) for r in raw],
                                  debtors=list(debtors.values()), deleted=[], cursor=cursor,
                                  expected_total=expected)

    def _changed_debtors(self, known: KnownVersions, already: set[str]) -> list[DebtorRecord]:
        listed = self._versions("/contacts/synchronization.json", {})
        ids = [i for i in listed if i not in already]
        stale: list[str] = []
        for start in range(0, len(ids), COMPARE_CHUNK):
            chunk = ids[start : start + COMPARE_CHUNK]
            versions = known.debtor_versions(chunk)
            stale += [i for i in chunk if i in versions and versions[i] != listed[i]]
        return [mapping.debtor(r) for r in self._fetch("/contacts/synchronization.json", stale)]

    def invoice(self, invoice_id: str) -> InvoiceRecord:
        raw = self._invoice_json(invoice_id)
        self._just_read[invoice_id] = raw  # send_reminder needs its workflow/style/identity
        return mapping.invoice(raw)

    def _invoice_json(self, invoice_id: str) -> dict[str, Any]:
        return self._json("GET", f"/sales_invoices/{invoice_id}.json")

    def _versions(self, path: str, params: dict[str, str]) -> dict[str, str]:
        rows = self._json("GET", path, params=params)
        if not isinstance(rows, list):
            raise Rejected("Moneybird synchronization list is not a list")
        return {str(r["id"]): str(r.get("version")) for r in rows}

    def _fetch(self, path: str, ids: Iterable[str]) -> list[dict[str, Any]]:
        records: list[dict[str, Any]] = []
        for batch in chunks(list(ids)):
            rows = self._json("POST", path, json={"ids": batch}, idempotent=True)
            if not isinstance(rows, list):
                raise Rejected("Moneybird synchronization answer is not a list")
            records.extend(rows)
        return records

    def _json(self, method: str, path: str, **kwargs: Any) -> Any:
        response = self.api.request(method, path, **kwargs)
        try:
            return response.json()
        except ValueError:
            raise Transient(f"{method} answer is not JSON") from None

    def invoice_pdf(self, invoice_id: str) -> bytes | None:
        """The invoice PDF as Moneybird renders it (``download_pdf``).

        Moneybird answers 302 with a storage URL that is valid for 30 seconds, on another
        host; requests would follow it with our bearer token if the host matched, so the
        redirect is not followed automatically and the file is fetched without any token.
        """
        response = self.api.request("GET", f"/sales_invoices/{invoice_id}/download_pdf.json",
                                    allow_redirects=False)
        if response.is_redirect:
            location = response.headers.get("Location", "")
            url = urljoin(response.url, location)
            if not location or urlsplit(url).scheme not in ("http", "https"):
                raise Transient("download_pdf redirected nowhere usable")
            return _download_pdf(self.context.session, url, self.context.timeout)
        if response.headers.get("Content-Type", "").startswith("application/pdf"):
            return _checked_pdf(response.content)
        raise Rejected("download_pdf answered without a PDF")

    # -- writes ---------------------------------------------------------------------------

    def send_reminder(self, invoice_ids: Sequence[str], text: str) -> str:
        """Moneybird e-mails its own reminder for these invoices, with ``text`` as its message.

        One POST (grouped per contact, workflow, document style and identity as Moneybird
        requires). It reaches the debtor and has no idempotency key, so it is sent once:
        a lost answer or a 5xx raises :class:`Transient` with ``ambiguous=True`` and must not
        be retried; a 4xx raises :class:`Rejected`.
        """
        groups: dict[tuple[str, ...], list[str]] = {}
        for invoice_id in invoice_ids:
            raw = self._just_read.get(invoice_id) or self._invoice_json(invoice_id)
            key = tuple(str(raw.get(k) or "") for k in REMINDER_GROUP)
            if not all(key):
                raise Rejected("invoice has no workflow, document style or identity to remind")
            groups.setdefault(key, []).append(str(raw["id"]))
        reminders = [
            {**dict(zip(REMINDER_GROUP, key, strict=True)), "sales_invoice_ids": ids,
             "reminder_text": text, "delivery_method": "Email"}
            for key, ids in groups.items()
        ]
        self.api.request("POST", "/sales_invoices/send_reminders.json",
                         json={"sales_invoice_reminders": reminders}, idempotent=False)
        return ("moneybird-reminder:" + ",".join(invoice_ids))[:200]

    def add_note(self, invoice_id: str, text: str, key: str, *, maybe_done: bool = False) -> str:
        body = text if key in text else f"{text} [{key}]"

        def find() -> str | None:
            notes = self._invoice_json(invoice_id).get("notes") or ()
            return next((str(n["id"]) for n in notes if key in str(n.get("note") or "")), None)

        def write() -> str:
            note = self._json("POST", f"/sales_invoices/{invoice_id}/notes.json",
                              json={"note": {"note": body, "todo": False}})
            return str(note["id"])

        return write_once(find, write, maybe_done=maybe_done)

    def register_payment(
        self,
        invoice_id: str,
        amount: Decimal,
        paid_on: date,
        key: str,
        settings: PaymentSettings,
        *,
        maybe_done: bool = False,
    ) -> str:
        payment: dict[str, Any] = {
            "payment_date": paid_on.isoformat(),
            "price": f"{amount:.2f}",
            "transaction_identifier": key,
        }
        for name in ("manual_payment_action", "financial_account_id", "ledger_account_id"):
            if settings.get(name):
                payment[name] = settings[name]

        def find() -> str | None:
            payments = self._invoice_json(invoice_id).get("payments") or ()
            return next(
                (str(p["id"]) for p in payments if p.get("transaction_identifier") == key), None
            )

        def write() -> str:
            result = self._json("POST", f"/sales_invoices/{invoice_id}/payments.json",
                                json={"payment": payment})
            return str(result["id"])

        return write_once(find, write, maybe_done=maybe_done)

    def pause_own_reminders(self, invoice_id: str) -> None:
        # Pausing twice is harmless, so a lost answer may simply be retried. The OpenAPI
        # document requires a (empty) JSON body.
        self.api.request("POST", f"/sales_invoices/{invoice_id}/pause.json", json={},
                         idempotent=True)

    def resume_own_reminders(self, invoice_id: str) -> None:
        self.api.request("POST", f"/sales_invoices/{invoice_id}/resume.json", json={},
                         idempotent=True)

    # -- webhooks -------------------------------------------------------------------------

    def payment_setting_choices(self, field: str) -> list[tuple[str, str]]:
        """Active financial accounts (``financial_accounts``) or ledger accounts
        (``ledger_accounts``, with their account code) for the payment settings."""
        if field == "financial_account_id":
            return [(str(r["id"]), str(r.get("name") or r.get("identifier") or r["id"]))
                    for r in self._listed("/financial_accounts.json") if r.get("active", True)]
        if field == "ledger_account_id":
            return [(str(r["id"]), " ".join(filter(None, (r.get("account_id"), r.get("name")))))
                    for r in self._listed("/ledger_accounts.json") if r.get("active", True)]
        return []

    def _listed(self, path: str) -> list[dict[str, Any]]:
        """Every page of a list endpoint: Moneybird names the next one in a ``Link`` header
        (``rel="next"``), followed only inside this administration's API (it gets our token)
        and stopped if the paging goes round in circles (:mod:`providers.paging`)."""

        def fetch(url: str, params: Any) -> tuple[list[dict[str, Any]], str | None]:
            response = self.api.request("GET", url, params=params)
            try:
                rows = _rows(response.json())
            except ValueError:
                raise Transient("GET answer is not JSON") from None
            following = response.links.get("next", {}).get("url")
            if following and not following.startswith(f"{self.api.base_url}/"):
                raise Rejected("Moneybird linked a next page outside the administration")
            return rows, following

        return [row for rows in follow_next(fetch, path) for row in rows]

    def register_webhook(self, url: str) -> WebhookRegistration:
        data = self._json("POST", "/webhooks.json",
                          json={"url": url, "enabled_events": list(WEBHOOK_EVENTS)})
        return WebhookRegistration(id=str(data["id"]), secret=str(data["secret"]))

    def delete_webhook(self, webhook_id: str) -> None:
        try:
            self.api.request("DELETE", f"/webhooks/{webhook_id}.json", idempotent=True)
        except Rejected as exc:
            if exc.status != 404:  # already gone is what we wanted
                raise


def _rows(answer: Any) -> list[dict[str, Any]]:
    if not isinstance(answer, list) or not all(isinstance(r, dict) and "id" in r for r in answer):
        raise Rejected("Moneybird answered an account list that is not a list of accounts")
    return answer


def _download_pdf(session: requests.Session, url: str, timeout: tuple[float, float]) -> bytes:
    """GET a short-lived file URL: no Authorization header, bounded size, errors classified.

    The URL itself is never put in an error: it is a bearer capability for the file.
    """
    try:
        with session.get(url, timeout=timeout, stream=True, allow_redirects=True,
                         headers={"Accept": "application/pdf"}) as response:
            if response.status_code >= 400:
                # Expired link (403/404) or a storage hiccup: asking download_pdf again helps.
                raise Transient(f"invoice PDF download failed (HTTP {response.status_code})")
            chunks, size = [], 0
            for chunk in response.iter_content(64 * 1024):
                size += len(chunk)
                if size > MAX_PDF_BYTES:
                    raise Rejected("invoice PDF is larger than we accept")
                chunks.append(chunk)
    except requests.Timeout:
        raise Transient("invoice PDF download timed out") from None
    except requests.RequestException:
        raise Transient("invoice PDF download failed") from None
    return _checked_pdf(b"".join(chunks))


def _checked_pdf(content: bytes) -> bytes:
    if not content.lstrip()[:5] == b"%PDF-":
        raise Rejected("download_pdf did not give a PDF")
    return content
