"""Exact's constants, error bodies and JSON rules shared by the emulator's modules."""

from __future__ import annotations

import json
import re
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any

from providers.exact_online.emulator_data import odata_date

Json = Any
Row = dict[str, Any]

ACCESS_TTL = 600
EARLY_REFRESH_WINDOW = 570  # "only ... 9 minutes and 30 seconds after you received it"
REFRESH_TTL = timedelta(days=30)
CODE_TTL = timedelta(minutes=3)
ERROR_BUDGET = 10  # 4xx per app/user/division/endpoint per hour before the endpoint is blocked
ERROR_STATUSES = (400, 401, 403, 404)
DELETED_RETENTION = timedelta(days=61)

WEBHOOK_TOPICS = (
    "Accounts", "Contacts", "BankAccounts", "Documents", "SalesInvoices", "SalesEntries",
    "BankEntries", "CashEntries", "GeneralJournalEntries", "PurchaseEntries", "GLAccounts", "Items",
    "Quotations", "SalesOrders", "GoodsDeliveries", "Subscriptions", "TimeTransactions",
    "CostTransactions", "FinancialTransactions",
)  # fmt: skip
TOPIC_ENDPOINTS = {
    "Accounts": "crm/Accounts",
    "Contacts": "crm/Contacts",
    "SalesEntries": "salesentry/SalesEntries",
    "SalesInvoices": "salesinvoice/SalesInvoices",
    "BankEntries": "financialtransaction/BankEntries",
    "CashEntries": "financialtransaction/CashEntries",
    "GeneralJournalEntries": "generaljournalentry/GeneralJournalEntries",
}
# sync/Deleted EntityType codes (reference §5.2).
DELETED_TYPES = {"TransactionLines": 1, "Accounts": 2, "Contacts": 5, "PaymentTerms": 10}
DELETED_TYPES["SalesInvoices"] = 13

# Token-endpoint bodies. Old-RT and expiry bodies are quoted in the reference (§2.2); the
# invalid_client body and the early-refresh body/Reason were observed on the live API
# (websmurf/laravel-exact-online #28 and #31); invalid_grant is our choice (not documented).
OLD_REFRESH_BODY = {"error": "unauthorized_client", "error_description": "Old refresh token used."}
EARLY_REFRESH_BODY = {
    "error": "access_denied",
    "error_description": "Rate limit exceeded: access_token not expired",
}
EARLY_REFRESH_REASON = "TooEarlyToRefreshTokens: Rate limit exceeded: access_token not expired"
INVALID_CLIENT_BODY = {"error": "invalid_client"}
INVALID_GRANT_BODY = {"error": "invalid_grant"}

SELECT_MESSAGE = "Please add a $select or a $top=1 statement to the query string"
MANDATORY_FILTER_MESSAGE = (
    "This endpoint has mandatory filtering applied. A GET request for this endpoint must have a "
    "$filter parameter with one of the following fields in the url: {fields}"
)

G, S, I16, I32, I64 = "Edm.Guid", "Edm.String", "Edm.Int16", "Edm.Int32", "Edm.Int64"
DBL, B, T, NAV = "Edm.Double", "Edm.Boolean", "Edm.DateTime", "nav"
NUMERIC = {I16, I32, I64, DBL, "Edm.Decimal", "Edm.Byte"}



class ApiError(Exception):
    """Raised inside handlers to answer with Exact's error body."""

    def __init__(self, status: int, message: str, headers: dict[str, str] | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.headers = headers or {}


def error_body(message: str) -> Json:
    """Exact's REST error body (reference §3)."""
    return {"error": {"code": "", "message": {"lang": "", "value": message}}}


def not_found_segment(segment: str) -> ApiError:
    return ApiError(404, f"Resource not found for the segment '{segment}'.")


# --------------------------------------------------------------------------- JSON


_DEC_RE = re.compile(r'"\\u0000DEC(-?[0-9.]+)\\u0000"')


def _default(o: Any) -> Any:
    if isinstance(o, Decimal):
        return f"\x00DEC{format(o, 'f')}\x00"
    if isinstance(o, date):
        return odata_date(o)
    raise TypeError(type(o).__name__)


def dumps(obj: Json) -> str:
    """Compact JSON with Decimals as JSON numbers (scale kept) and dates as ``/Date(ms)/``."""
    text = json.dumps(obj, default=_default, separators=(",", ":"), ensure_ascii=False)
    return _DEC_RE.sub(r"\1", text)



def us_time(value: datetime) -> str:
    """``10/11/2022 9:18:20 PM``: the format of Exact's refresh-expiry message (WS#22)."""
    v = value.astimezone(UTC)
    hour = v.hour % 12 or 12
    half = "AM" if v.hour < 12 else "PM"
    return f"{v.month}/{v.day}/{v.year} {hour}:{v.minute:02d}:{v.second:02d} {half}"


def is_open(it: Row) -> bool:
    """An open receivable (not a payable, not settled)."""
    return it["LineType"] == 20 and it["Paid"] < it["Total"]
