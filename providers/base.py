"""The Ledger contract: what every bookkeeping platform offers the connector.

The engine never sees platform JSON. A provider turns its API into these records and these
errors, and nothing in this package imports from ``connector``.
"""

from __future__ import annotations

import enum
from collections.abc import Generator, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from typing import Protocol, runtime_checkable

# ---------------------------------------------------------------------------------------------
# Errors, split by what the caller must do.


class LedgerError(Exception):
    """Base of every provider error. Messages never carry tokens or debtor data."""


class ReconnectRequired(LedgerError):
    """The grant no longer works: token dead or revoked, or a scope is missing.

    Syncing stops until the creditor connects again. ``missing_scope`` is set when the token is
    fine but lacks a scope, so the creditor is asked for that scope instead of told it is dead.
    """

    def __init__(self, message: str, *, missing_scope: str | None = None) -> None:
        super().__init__(message)
        self.missing_scope = missing_scope


class RateLimited(LedgerError):
    """The platform asked us to wait; try again at ``retry_at`` (aware UTC)."""

    def __init__(self, message: str, *, retry_at: datetime) -> None:
        super().__init__(message)
        self.retry_at = retry_at


class Transient(LedgerError):
    """A 5xx, a timeout or a dropped connection: safe to retry later.

    ``ambiguous`` is True when a write may have taken effect (the request was sent but no answer
    came back); such a write is only retried after re-reading the ledger.
    """

    def __init__(self, message: str, *, ambiguous: bool = False) -> None:
        super().__init__(message)
        self.ambiguous = ambiguous


class RefreshTooEarly(LedgerError):
    """The platform refuses a refresh because the current access token is still fresh.

    Exact Online allows a refresh only from 570 s after issue; the current token keeps working.
    """


class Rejected(LedgerError):
    """A 4xx other than auth and rate limits: a bug or bad data. Never retried."""

    def __init__(self, message: str, *, status: int | None = None) -> None:
        super().__init__(message)
        self.status = status


# ---------------------------------------------------------------------------------------------
# Provider description.


@dataclass(frozen=True)
class Capabilities:
    """What a ledger can take; each flag is read where it matters (writeback, stamp step,
    connections, web). A flag nobody reads is a promise nobody keeps: add one with its reader."""

    invoice_notes: bool = False
    register_payment: bool = False
    pause_own_reminders: bool = False
    send_own_reminder: bool = False
    invoice_pdf: bool = False
    webhooks: bool = False
    # The ledger lists the accounts its payment settings name (Ledger.payment_setting_choices).
    payment_setting_choices: bool = False
    # Every tenant's events come to one URL per app, signed with the app's key (AppWebhooks).
    app_webhooks: bool = False
    # A step's note goes with the document that went out (the letter, the stamped reminder):
    # the ledger keeps that PDF itself with the invoice (DocumentLedger).
    invoice_documents: bool = False


@dataclass(frozen=True)
class ProviderInfo:
    key: str
    display_name: str
    auth_kind: str  # "oauth2", or "client-key" for a KeyProvider (the connect page asks for a key)
    authorize_url: str
    token_url: str
    scopes: tuple[str, ...]
    capabilities: Capabilities
    tenant_label: str  # what the platform calls a tenant, e.g. "administratie"
    # Refresh this long before expiry; never earlier than the platform allows (Exact: 30 s).
    refresh_margin_seconds: int = 60


# ---------------------------------------------------------------------------------------------
# Records.


@dataclass(frozen=True)
class TokenSet:
    access_token: str
    refresh_token: str | None
    expires_in: int | None  # seconds from now; None: the platform did not say it expires
    scope: str | None = None

    def __repr__(self) -> str:  # never print tokens
        return f"TokenSet(expires_in={self.expires_in!r}, scope={self.scope!r})"


@dataclass(frozen=True)
class Tenant:
    id: str
    name: str
    currency: str = "EUR"
    country: str | None = None
    suspended: bool = False


class DebtorKind(enum.StrEnum):
    CONSUMER = "consumer"
    BUSINESS = "business"


@dataclass(frozen=True)
class DebtorRecord:
    id: str
    version: str
    kind: DebtorKind
    name: str
    contact_person: str | None = None
    email: str | None = None
    phone: str | None = None
    address_line: str | None = None
    postal_code: str | None = None
    city: str | None = None
    country: str | None = None
    chamber_of_commerce: str | None = None
    customer_number: str | None = None

    def __repr__(self) -> str:  # debtor data stays out of logs and tracebacks
        return f"DebtorRecord(id={self.id!r}, kind={self.kind.value!r})"


class InvoiceStatus(enum.StrEnum):
    """Where an invoice stands for collection, whatever the platform calls it."""

    DRAFT = "draft"
    OPEN = "open"  # unpaid (overdue or not: the due date tells)
    PAID = "paid"
    CREDITED = "credited"
    UNCOLLECTIBLE = "uncollectible"
    DELETED = "deleted"

    @property
    def closed(self) -> bool:
        return self in {InvoiceStatus.PAID, InvoiceStatus.CREDITED, InvoiceStatus.UNCOLLECTIBLE,
                        InvoiceStatus.DELETED}


@dataclass(frozen=True)
class NoteRecord:
    id: str
    text: str
    created_at: datetime | None = None


@dataclass(frozen=True)
class LedgerDocument:
    """A PDF that went out with a step (the letter as printed, the stamped reminder as mailed),
    for a ledger that keeps documents with the invoice. ``label`` names it in the ledger's list
    (the step's name, e.g. "Profitletter"); the ledger adds the write key to it."""

    content: bytes
    label: str

    def __repr__(self) -> str:  # the bytes are a letter to a debtor: never in logs
        return f"LedgerDocument(label={self.label!r}, size={len(self.content)})"


@dataclass(frozen=True)
class PaymentRecord:
    id: str
    amount: Decimal
    paid_on: date
    reference: str | None = None
    credit_invoice_id: str | None = None


@dataclass(frozen=True)
class InvoiceRecord:
    id: str
    version: str
    number: str | None
    debtor_id: str
    status: InvoiceStatus
    ledger_state: str
    invoice_date: date | None
    due_date: date | None
    currency: str
    total: Decimal
    open_amount: Decimal
    paid_on: date | None = None
    paused: bool = False
    payment_url: str | None = None
    notes: tuple[NoteRecord, ...] = ()
    payments: tuple[PaymentRecord, ...] = ()


@dataclass(frozen=True)
class InvoiceChangesPage:
    """One batch of what changed, with the cursor that resumes right after it.

    A sync applies and commits each page together with its ``cursor``, so a sync cut short
    (budget spent, crash, lost lease) goes on from the last committed page, never from nothing.
    ``invoices`` are new or changed invoices (open ones and ones that just closed); ``deleted``
    are ids of known invoices the platform no longer has; ``debtors`` came along.
    ``expected_total`` is how many invoices the whole pass will bring, where the platform tells
    (for progress on pages); None where it does not.
    """

    invoices: list[InvoiceRecord]
    debtors: list[DebtorRecord]
    deleted: list[str]
    cursor: str | None
    expected_total: int | None = None


class KnownVersions(Protocol):
    """What the connector holds, asked in chunks so no provider keeps a tenant in memory."""

    def open_invoice_versions(self, ids: Sequence[str]) -> dict[str, str]:
        """Versions of those of ``ids`` the connector holds as open invoices."""
        ...

    def open_invoice_ids(self) -> Iterator[str]:
        """Every invoice id the connector holds as open, streamed."""
        ...

    def debtor_versions(self, ids: Sequence[str]) -> dict[str, str]:
        """Versions of those of ``ids`` that are debtors of open invoices."""
        ...

    def has_open_debtors(self) -> bool: ...


@dataclass(frozen=True)
class KnownMappings:
    """:class:`KnownVersions` over plain mappings (tests, tools, small tenants)."""

    invoice_versions: Mapping[str, str] = field(default_factory=dict)
    debtor_version_map: Mapping[str, str] = field(default_factory=dict)

    def open_invoice_versions(self, ids: Sequence[str]) -> dict[str, str]:
        return {i: self.invoice_versions[i] for i in ids if i in self.invoice_versions}

    def open_invoice_ids(self) -> Iterator[str]:
        return iter(list(self.invoice_versions))

    def debtor_versions(self, ids: Sequence[str]) -> dict[str, str]:
        return {i: self.debtor_version_map[i] for i in ids if i in self.debtor_version_map}

    def has_open_debtors(self) -> bool:
        return bool(self.debtor_version_map)


@dataclass(frozen=True)
class SyncCursor:
    """What the connector knows, so a provider can ask only for what changed.

    ``value`` is the provider's own opaque cursor from the last committed page; ``known``
    answers which invoices and debtors the connector holds, and at which version.
    """

    value: str | None = None
    known: KnownVersions = field(default_factory=KnownMappings)


@dataclass(frozen=True)
class WebhookEvent:
    tenant_id: str
    action: str
    entity_type: str | None
    entity_id: str | None
    delivery_id: str | None  # the platform's idempotency key, for deduplication
    # Names one signed delivery (e.g. a digest of timestamp + body): a replay with a new or no
    # idempotency key is still recognised. None where the platform gives nothing to go on.
    replay_id: str | None = None


@dataclass(frozen=True)
class WebhookRegistration:
    id: str
    secret: str

    def __repr__(self) -> str:
        return f"WebhookRegistration(id={self.id!r})"


# How the creditor's bookkeeper wants collected money booked: the company's stored values by
# ``PaymentField.name`` (the plug-in's ``payment_fields``, see providers.plugin), None or absent
# where left empty. Each ledger reads only its own fields' keys.
PaymentSettings = Mapping[str, str | None]


# ---------------------------------------------------------------------------------------------
# Behaviour.


class TokenSource(Protocol):
    """Gives a provider a valid access token; the connector stores and refreshes it."""

    def access_token(self) -> str: ...

    def refresh_after_rejection(self, rejected_token: str) -> str:
        """Called after a 401: refresh (unless another caller already did) and return the new token.

        Raises :class:`ReconnectRequired` when the grant cannot be refreshed.
        """
        ...


class Ledger(Protocol):
    """One tenant of one platform, reached through one grant."""

    tenant_id: str

    @property
    def api_calls(self) -> int:
        """Calls this ledger object made so far (for the sync history, also after a failure)."""
        ...

    def changed_invoices(self, cursor: SyncCursor) -> Generator[InvoiceChangesPage, None, None]:
        """The changes since ``cursor``, page by page; calls are made as pages are asked for.

        Raises :class:`LedgerError` (e.g. :class:`RateLimited`) between pages: every page
        handed out before stays valid, and ``cursor`` of the last one resumes after it.
        """
        ...

    def invoice(self, invoice_id: str) -> InvoiceRecord: ...

    def add_note(self, invoice_id: str, text: str, key: str, *, maybe_done: bool = False) -> str:
        """Write a note carrying ``key``; returns the note id.

        With ``maybe_done`` (an earlier attempt may have landed) the ledger is read first and an
        existing note with ``key`` is returned instead of writing a second one.
        """
        ...

    def register_payment(
        self,
        invoice_id: str,
        amount: Decimal,
        paid_on: date,
        key: str,
        settings: PaymentSettings,
        *,
        maybe_done: bool = False,
    ) -> str: ...

    def pause_own_reminders(self, invoice_id: str) -> None: ...

    def resume_own_reminders(self, invoice_id: str) -> None: ...

    def invoice_pdf(self, invoice_id: str) -> bytes | None:
        """The invoice as the platform renders it (a PDF), or None where the platform has no
        such download (capability ``invoice_pdf``). The stamp step stamps this PDF, so the
        debtor sees the creditor's own invoice; without it our own reminder page is sent."""
        ...

    def payment_setting_choices(self, field: str) -> list[tuple[str, str]]:
        """The values a payment setting (a ``PaymentField.name``, ``from_ledger``) may take in
        this ledger, as (id, label) pairs, so the creditor picks instead of typing ids. Only where
        ``Capabilities.payment_setting_choices``; unknown fields give an empty list.
        Raises :class:`Transient` / :class:`ReconnectRequired` like every call."""
        ...

    def register_webhook(self, url: str) -> WebhookRegistration: ...

    def delete_webhook(self, webhook_id: str) -> None: ...


class Provider(Protocol):
    info: ProviderInfo

    def authorization_url(self, redirect_uri: str, state: str) -> str: ...

    def exchange_code(self, code: str, redirect_uri: str) -> TokenSet: ...

    def refresh(self, refresh_token: str) -> TokenSet: ...

    def list_tenants(self, tokens: TokenSource) -> list[Tenant]: ...

    def ledger(self, tenant_id: str, tokens: TokenSource) -> Ledger: ...

    def verify_webhook(
        self, raw_body: bytes, headers: Mapping[str, str], secret: str
    ) -> list[WebhookEvent]:
        """Check authenticity on the raw bytes; raise :class:`WebhookRejected` if not genuine."""
        ...


class WebhookRejected(Exception):
    """A webhook delivery that is not genuine (bad or stale signature, unparseable body)."""


@runtime_checkable
class RateLimitedProvider(Protocol):
    """A platform whose calls go through rate budgets (most do): the connector paces its sends
    to what they leave (see connector.pacing)."""

    def rate_budgets(self) -> list[object]:
        """The budgets every call of this provider takes from, as they are now."""
        ...


@runtime_checkable
class OwnReminderLedger(Protocol):
    """A ledger that e-mails the debtor its own reminder with our text (capability
    ``send_own_reminder``): the stamp step may go out that way instead of by our e-mail."""

    def send_reminder(self, invoice_ids: Sequence[str], text: str) -> str:
        """Send the reminder once; returns the platform's id of it. It reaches the debtor and
        carries no idempotency key: a lost answer raises :class:`Transient` with
        ``ambiguous=True`` and must not be retried."""
        ...


@runtime_checkable
class DocumentLedger(Protocol):
    """A ledger that keeps a step's own PDF with the invoice (capability
    ``invoice_documents``): the outbox hands it the document with the step's note."""

    def add_note_with_document(self, invoice_id: str, text: str, key: str,
                               document: LedgerDocument, *, maybe_done: bool = False) -> str:
        """Write the note and ``document`` once per ``key``, as :meth:`Ledger.add_note`
        does (with ``maybe_done`` the ledger is read first and what carries ``key`` is
        returned); returns the ledger's id of what was written. A ledger that keeps documents
        instead of notes may keep the document alone: it says more than the note."""
        ...


class UnknownRegion(ValueError):
    """A region code the platform has no service for."""


@runtime_checkable
class RegionalProvider(Protocol):
    """A platform that runs a separate service per region (``LedgerPlugin.regions``): tokens
    from one region do not work in another, so each grant is used through its own region."""

    def for_region(self, region: str | None) -> Provider:
        """The provider for ``region`` (None: the default); :class:`UnknownRegion` if none."""
        ...


class KeyProvider(Provider, Protocol):
    """A ledger the creditor connects with a key pasted on our page (``auth_kind`` "client-key",
    SnelStart's koppelsleutel) instead of an OAuth consent.

    The key plays the refresh token's part: :meth:`exchange_key` and :meth:`Provider.refresh`
    both trade it for a short-lived access token, and the key is stored encrypted as the grant's
    refresh token. A refused key raises :class:`ReconnectRequired`.
    """

    def exchange_key(self, key: str) -> TokenSet: ...


@runtime_checkable
class AppWebhooks(Protocol):
    """A platform that sends every tenant's events to one URL per app, signed with the app's own
    key (Xero). The connector serves ``/webhooks/<key>`` for it and finds companies by tenant."""

    def verify_app_webhook(self, raw_body: bytes,
                           headers: Mapping[str, str]) -> list[WebhookEvent]:
        """Check the signature on the raw bytes; raise :class:`WebhookRejected` if not genuine.
        An empty list is a genuine delivery without events (a platform's URL check)."""
        ...
