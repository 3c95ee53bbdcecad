"""SQLAlchemy 2 models: who may sign in, what is connected, the mirror, the pre-incasso work,
the debtor's page and the event log, one module per area.

Every name stays importable from here (``from connector.models import Case``), and importing
this package registers every table on :data:`Base.metadata`, which Alembic compares against.
"""

from __future__ import annotations

from connector.models.accounts import (
    Company,
    Connection,
    Grant,
    GrantStatus,
    Operator,
    PartnerSettings,
)
from connector.models.base import NAMING, Base, Money, UtcDateTime, new_id, utcnow
from connector.models.collection import (
    CallAttempt,
    CallOutcome,
    Case,
    CaseState,
    CollectionSettings,
    CompanyTemplate,
    Delivery,
    DeliveryCase,
    DeliveryState,
    Hold,
    HoldKind,
    UsageLine,
)
from connector.models.debtor_page import DebtorLink, DebtorResponse
from connector.models.ledger import (
    Debtor,
    Invoice,
    LedgerWrite,
    LedgerWriteState,
    SyncRun,
    SyncState,
    WebhookReceipt,
)
from connector.models.operations import (
    AlertSent,
    Event,
    JobLease,
    RateBudgetRow,
    RateCall,
    StoredFile,
    WorkerHeartbeat,
)

__all__ = [
    "NAMING",
    "AlertSent",
    "Base",
    "CallAttempt",
    "CallOutcome",
    "Case",
    "CaseState",
    "CollectionSettings",
    "Company",
    "CompanyTemplate",
    "Connection",
    "Debtor",
    "DebtorLink",
    "DebtorResponse",
    "Delivery",
    "DeliveryCase",
    "DeliveryState",
    "Event",
    "Grant",
    "GrantStatus",
    "Hold",
    "HoldKind",
    "Invoice",
    "JobLease",
    "LedgerWrite",
    "LedgerWriteState",
    "Money",
    "Operator",
    "PartnerSettings",
    "RateBudgetRow",
    "RateCall",
    "StoredFile",
    "SyncRun",
    "SyncState",
    "UsageLine",
    "UtcDateTime",
    "WebhookReceipt",
    "WorkerHeartbeat",
    "new_id",
    "utcnow",
]
