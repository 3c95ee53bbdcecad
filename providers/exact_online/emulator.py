"""An in-memory emulator of Exact Online's REST API v1 and OAuth2 for tests and demos.

It follows /work/shared/reference/exact-online.md: the token rules (600 s access tokens with
``expires_in`` as a string, single-use rotating refresh tokens, no refresh before 570 s, 30-day
refresh expiry), the OData conventions (``{"d": {"results": [...], "__next": ...}}``,
``/Date(ms)/``, 60-row pages and 1,000-row bulk/sync pages, mandatory ``$select``/``$filter``,
``Timestamp`` row versions, ``sync/Deleted``), the per-division minutely/daily rate limits with
their ``X-RateLimit-*`` headers (epoch milliseconds), the 10-errors-per-endpoint-per-hour block,
write-backs (CommunicationNotes, BankEntries/CashEntries) and webhooks signed with the app's
webhook secret.

Regions: Exact has one host per country (NL ``https://start.exactonline.nl``, BE ``.be``,
DE ``.de``, UK ``.co.uk``, FR ``.fr``, ES ``.es``, US ``https://start.exactonline.com``); OAuth,
REST and tokens are bound to that host. The emulator serves a single host with exactly Exact's
paths (``/api/oauth2/auth``, ``/api/oauth2/token``, ``/api/v1/current/Me``,
``/api/v1/{division}/...``), so a client only swaps the base URL.

Strictness: behaviour a real Exact would punish (refresh-token reuse, early refresh, missing
``$select``/mandatory ``$filter``, no division in the URL, an expired access token, tripping the
error block, ...) is recorded in ``violations``; the pytest fixture fails the test when any are
left.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import html
import json
import random
import re
import secrets
import threading
import time
import uuid
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from datetime import time as dtime
from decimal import Decimal, InvalidOperation
from typing import Any
from urllib.parse import parse_qsl, quote, urlencode, urlsplit

import flask
import requests

from providers.emulator_server import (
    LOST_ANSWER,
    DeliveryQueue,
    EmulatorServer,
    drop_connection,
    fault_kind,
    html_page,
    redirect_with,
)
from providers.exact_online import emulator_data as data
from providers.exact_online.emulator_data import cents, day_start, odata_date, to_ms

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


def _schema(spec: str) -> dict[str, str]:
    out = {}
    for part in spec.split():
        name, _, kind = part.partition(":")
        out[name] = {
            "G": G, "S": S, "I16": I16, "I": I32, "L": I64, "D": DBL, "B": B, "T": T, "N": NAV,
        }[kind or "S"]  # fmt: skip
    return out


ACCOUNT_FIELDS = _schema(
    "ID:G Code Name Email Phone Website AddressLine1 AddressLine2 Postcode City Country "
    "CountryName ChamberOfCommerce VATNumber MainContact:G Status IsSales:B IsSupplier:B Blocked:B "
    "PaymentConditionSales PaymentConditionSalesDescription Language Remarks Created:T Modified:T "
    "Division:I"
)
CONTACT_FIELDS = _schema(
    "ID:G Account:G AccountName FirstName MiddleName LastName FullName Initials Email "
    "BusinessEmail Phone BusinessPhone Mobile BusinessMobile JobTitleDescription IsMainContact:B "
    "Language Notes Created:T Modified:T Division:I"
)
ADDRESS_FIELDS = _schema(
    "ID:G Account:G AccountName Type:I16 TypeDescription Main:B AddressLine1 AddressLine2 "
    "Postcode City Country Contact:G ContactName Phone Created:T Modified:T Division:I"
)
RECEIVABLE_FIELDS = _schema(
    "ID:G Account:G AccountCode AccountName AccountCountry AccountContact:G AccountContactName "
    "AmountDC:D AmountFC:D TransactionAmountDC:D TransactionAmountFC:D Currency Description "
    "Division:I Document:G DueDate:T TransactionDueDate:T EndDate:T EndToEndID EntryDate:T "
    "EntryID:G EntryNumber:I GLAccount:G InvoiceDate:T InvoiceNumber:I IsFullyPaid:B "
    "LastPaymentDate:T PaymentCondition PaymentConditionDescription PaymentMethod "
    "PaymentReference Source:I Status:I16 TransactionEntryID:G TransactionID:G "
    "TransactionType:I YourRef Created:T Modified:T"
)
PAYMENT_TERM_FIELDS = {
    **RECEIVABLE_FIELDS,
    **_schema("LineType:I16 ApprovalStatus:I16 Journal Timestamp:L"),
}
RECEIVABLES_LIST_FIELDS = _schema(
    "HID:L AccountId:G AccountCode AccountName Amount:D AmountInTransit:D CurrencyCode "
    "Description DueDate:T EntryNumber:I InvoiceDate:T InvoiceNumber:I JournalCode "
    "JournalDescription YourRef"
)
DELETED_FIELDS = _schema(
    "ID:G Timestamp:L DeletedBy:G DeletedDate:T Division:I EntityKey:G EntityType:I"
)
NOTE_FIELDS = _schema(
    "ID:G Account:G AccountName Contact:G ContactFullName Created:T Creator:G CreatorFullName "
    "Date:T Division:I Document:G Modified:T Modifier:G ModifierFullName Notes Opportunity:G "
    "Subject"
)
ENTRY_FIELDS = _schema(
    "EntryID:G EntryNumber:I JournalCode JournalDescription Currency Division:I "
    "FinancialPeriod:I16 "
    "FinancialYear:I16 Status:I16 StatusDescription Created:T Modified:T"
)
BANK_ENTRY_FIELDS = {**ENTRY_FIELDS, "BankEntryLines": NAV}
CASH_ENTRY_FIELDS = {**ENTRY_FIELDS, "CashEntryLines": NAV}
LINE_FIELDS = _schema(
    "ID:G EntryID:G Account:G AccountName AmountDC:D AmountFC:D Date:T Description GLAccount:G "
    "GLAccountCode LineNumber:I OurRef:I Division:I"
)
SALES_ENTRY_FIELDS = _schema(
    "EntryID:G EntryNumber:I Customer:G CustomerName AmountDC:D AmountFC:D Currency Description "
    "DueDate:T EntryDate:T InvoiceNumber:I Journal JournalDescription PaymentCondition "
    "PaymentReference Status:I16 YourRef Created:T Modified:T Division:I"
)
SALES_INVOICE_FIELDS = _schema(
    "InvoiceID:G InvoiceNumber:I InvoiceTo:G InvoiceToName OrderedBy:G OrderedByName AmountDC:D "
    "AmountFC:D Currency Description DueDate:T InvoiceDate:T Status:I16 Type:I PaymentCondition "
    "PaymentReference YourRef Remarks Created:T Modified:T Division:I"
)
GL_FIELDS = _schema("ID:G Code Description Division:I")
JOURNAL_FIELDS = _schema("ID:G Code Description Type:I GLAccount:G Division:I")
DIVISION_FIELDS = _schema(
    "Code:I Hid:L Description Customer:G CustomerCode CustomerName Country Currency Current:B "
    "Status:I16 VATNumber ChamberOfCommerceNumber StartDate:T Created:T Modified:T "
    "DivisionMoveDate:T"
)
ME_FIELDS = _schema(
    "UserID:G UserName FullName FirstName LastName Email LanguageCode Language Legislation:L "
    "CurrentDivision:I AccountingDivision:I DivisionCustomer:G DivisionCustomerCode "
    "DivisionCustomerName DivisionCustomerVatNumber ServerTime:T ServerUtcOffset:D"
)
WEBHOOK_FIELDS = _schema(
    "ID:G CallbackURL ClientID Created:T Creator:G CreatorFullName Description Division:I Topic "
    "UserID:G"
)
# Bulk whitelist for bulk/Cashflow/Receivables (reference §5.1, PI).
RECEIVABLE_BULK_FILTERS = (
    "Account", "Document", "EndDate", "EndToEndID", "EntryDate", "EntryID", "GLAccount", "ID",
    "InvoiceDate", "InvoiceNumber", "Source", "Status", "TransactionID", "TransactionType",
)  # fmt: skip
# crm/Accounts list from PQ#591; the Contacts/Addresses lists are our choice (undocumented).
ACCOUNT_FILTERS = (
    "Blocked", "ChamberOfCommerce", "City", "Code", "Created", "Email", "ID", "IsSales",
    "Modified", "Name", "Status", "VATNumber",
)  # fmt: skip
CONTACT_FILTERS = ("Account", "Created", "Email", "FirstName", "ID", "LastName", "Modified")
ADDRESS_FILTERS = ("Account", "Created", "ID", "Modified", "Type")
ACCOUNT_WRITABLE = {
    "Name", "Email", "Phone", "Website", "AddressLine1", "AddressLine2", "Postcode", "City",
    "Country", "ChamberOfCommerce", "VATNumber", "Blocked", "Remarks", "Language",
    "PaymentConditionSales", "Status",
}  # fmt: skip


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


def _not_found_segment(segment: str) -> ApiError:
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


# --------------------------------------------------------------------------- OData $filter

_TOKEN_RE = re.compile(
    r"""\s*(?:(?P<guid>guid'[^']*')|(?P<dt>datetime'[^']*')|(?P<str>'(?:[^']|'')*')
    |(?P<num>-?\d+(?:\.\d+)?[LlMmDd]?)|(?P<lp>\()|(?P<rp>\))|(?P<comma>,)
    |(?P<name>[A-Za-z_][A-Za-z0-9_]*))""",
    re.X,
)
_CMP = {"eq", "ne", "gt", "ge", "lt", "le"}
_FUNCS = {
    "trim": S, "tolower": S, "toupper": S, "substringof": B, "startswith": B, "endswith": B,
    "year": I32, "month": I32, "day": I32,
}  # fmt: skip


def _parse_datetime_literal(text: str) -> datetime:
    value = datetime.fromisoformat(text.replace("Z", "+00:00"))
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


class _Filter:
    """A small OData v2 ``$filter`` parser/evaluator with WCF-style errors and type checks."""

    def __init__(self, text: str, fields: dict[str, str], type_name: str) -> None:
        self.text = text
        self.fields = fields
        self.type_name = type_name
        self.used: list[str] = []
        self.tokens: list[tuple[str, str, int]] = []
        pos = 0
        while pos < len(text):
            if not text[pos:].strip():
                break
            m = _TOKEN_RE.match(text, pos)
            if not m or m.end() == pos:
                raise ApiError(400, f"Syntax error at position {pos}.")
            kind = m.lastgroup or ""
            self.tokens.append((kind, m.group(kind), m.start(kind)))
            pos = m.end()
        self.i = 0
        self.ast = self._or()
        if self.i != len(self.tokens):
            raise ApiError(400, f"Syntax error at position {self.tokens[self.i][2]}.")
        if self._type(self.ast) not in (B, "null"):
            raise ApiError(400, "Expression of type 'Edm.Boolean' expected at position 0.")

    # parsing -----------------------------------------------------------------
    def _peek(self) -> tuple[str, str, int] | None:
        return self.tokens[self.i] if self.i < len(self.tokens) else None

    def _word(self, *words: str) -> bool:
        tok = self._peek()
        if tok and tok[0] == "name" and tok[1] in words:
            self.i += 1
            return True
        return False

    def _or(self) -> Any:
        node = self._and()
        while self._word("or"):
            node = ("or", node, self._and())
        return node

    def _and(self) -> Any:
        node = self._not()
        while self._word("and"):
            node = ("and", node, self._not())
        return node

    def _not(self) -> Any:
        if self._word("not"):
            return ("not", self._not())
        return self._cmp()

    def _cmp(self) -> Any:
        left = self._primary()
        tok = self._peek()
        if tok and tok[0] == "name" and tok[1] in _CMP:
            self.i += 1
            right = self._primary()
            lt, rt = self._type(left), self._type(right)
            if not self._compatible(lt, rt):
                raise ApiError(
                    400,
                    f"Operator '{tok[1]}' incompatible with operand types '{lt}' and '{rt}' "
                    f"at position {tok[2]}.",
                )
            return ("cmp", tok[1], left, right)
        return left

    def _primary(self) -> Any:
        tok = self._peek()
        if tok is None:
            raise ApiError(400, f"Expression expected at position {len(self.text)}.")
        kind, value, pos = tok
        self.i += 1
        if kind == "lp":
            node = self._or()
            if not self._peek() or self._peek()[0] != "rp":  # type: ignore[index]
                raise ApiError(400, f"')' or operator expected at position {len(self.text)}.")
            self.i += 1
            return node
        if kind == "guid":
            raw = value[5:-1]
            try:
                return ("lit", G, str(uuid.UUID(raw)))
            except ValueError as exc:
                raise ApiError(
                    400, f"Unrecognized 'Edm.Guid' literal '{value}' at '{pos}'."
                ) from exc
        if kind == "dt":
            try:
                return ("lit", T, _parse_datetime_literal(value[9:-1]))
            except ValueError as exc:
                raise ApiError(
                    400, f"Unrecognized 'Edm.DateTime' literal '{value}' at '{pos}'."
                ) from exc
        if kind == "str":
            return ("lit", S, value[1:-1].replace("''", "'"))
        if kind == "num":
            suffix = value[-1].upper() if value[-1].isalpha() else ""
            digits = value[:-1] if suffix else value
            if suffix == "L" or (not suffix and "." not in digits):
                return ("lit", I64 if suffix == "L" else I32, int(digits))
            return ("lit", "Edm.Decimal" if suffix == "M" else DBL, Decimal(digits))
        if kind == "name":
            if value in ("true", "false"):
                return ("lit", B, value == "true")
            if value == "null":
                return ("lit", "null", None)
            nxt = self._peek()
            if nxt and nxt[0] == "lp" and value in _FUNCS:
                self.i += 1
                args = [self._or()]
                while self._peek() and self._peek()[0] == "comma":  # type: ignore[index]
                    self.i += 1
                    args.append(self._or())
                if not self._peek() or self._peek()[0] != "rp":  # type: ignore[index]
                    raise ApiError(400, f"')' or ',' expected at position {len(self.text)}.")
                self.i += 1
                return ("call", value, args)
            if value not in self.fields or self.fields[value] == NAV:
                raise ApiError(
                    400,
                    f"No property '{value}' exists in type '{self.type_name}' at position {pos}.",
                )
            self.used.append(value)
            return ("field", value)
        raise ApiError(400, f"Syntax error at position {pos}.")

    def _type(self, node: Any) -> str:
        if node[0] == "lit":
            return node[1]
        if node[0] == "field":
            return self.fields[node[1]]
        if node[0] == "call":
            return _FUNCS[node[1]]
        return B

    @staticmethod
    def _compatible(a: str, b: str) -> bool:
        if "null" in (a, b) or a == b:
            return True
        return a in NUMERIC and b in NUMERIC

    # evaluation --------------------------------------------------------------
    def matches(self, row: Row) -> bool:
        """True when ``row`` (python-typed API values) satisfies the filter."""
        return bool(self._eval(self.ast, row))

    def _eval(self, node: Any, row: Row) -> Any:
        kind = node[0]
        if kind == "lit":
            return node[2]
        if kind == "field":
            value = row.get(node[1])
            if isinstance(value, date) and not isinstance(value, datetime):
                return day_start(value)
            if isinstance(value, str) and self.fields[node[1]] == G:
                return value.lower()
            return value
        if kind == "and":
            return self._eval(node[1], row) and self._eval(node[2], row)
        if kind == "or":
            return self._eval(node[1], row) or self._eval(node[2], row)
        if kind == "not":
            return not self._eval(node[1], row)
        if kind == "call":
            args = [self._eval(a, row) for a in node[2]]
            name = node[1]
            if any(a is None for a in args):
                return None
            if name == "trim":
                return str(args[0]).strip()
            if name == "tolower":
                return str(args[0]).lower()
            if name == "toupper":
                return str(args[0]).upper()
            if name == "substringof":
                return str(args[0]) in str(args[1])
            if name == "startswith":
                return str(args[0]).startswith(str(args[1]))
            if name == "endswith":
                return str(args[0]).endswith(str(args[1]))
            return getattr(args[0], name)
        op, left, right = node[1], self._eval(node[2], row), self._eval(node[3], row)
        if op == "eq":
            return left == right
        if op == "ne":
            return left != right
        if left is None or right is None:
            return False
        try:
            return {
                "gt": left > right,
                "ge": left >= right,
                "lt": left < right,
                "le": left <= right,
            }[op]
        except TypeError:
            return False


# --------------------------------------------------------------------------- plumbing types


@dataclass
class _Set:
    """One OData entity set: schema, where its rows come from, how it pages and filters."""

    path: str
    type_name: str
    fields: dict[str, str]
    key: str
    source: Callable[[Row], Iterable[Row]]
    render: Callable[[Row, Row], Row]
    kind: str = "normal"  # normal | bulk | sync | read
    mandatory: tuple[str, ...] = ()
    whitelist: tuple[str, ...] | None = None
    select_required: bool = True
    methods: tuple[str, ...] = ("GET",)
    order: str = "key"  # key | Timestamp


@dataclass
class _Fault:
    method: str
    path_contains: str
    times: int
    seconds: float = 0.0
    status: int = 500
    body: Json = None


@dataclass
class _Job:
    delivery: dict[str, Any]
    body: bytes
    due: float = 0.0


@dataclass
class _Grant:
    """One user consent: the divisions it covers and its current refresh/access tokens."""

    client_id: str | None
    divisions: frozenset[int]
    access_issued_at: datetime
    revoked: bool = False


@dataclass
class _Refresh:
    value: str
    grant: _Grant
    issued_at: datetime
    used: bool = False


@dataclass
class _Access:
    value: str
    grant: _Grant
    issued_at: datetime
    expires_at: datetime | None


@dataclass
class _Quota:
    minute: int = 0  # epoch seconds of the current minute window
    minute_count: int = 0
    day: date | None = None
    day_count: int = 0


class ExactEmulator:
    """Exact Online REST v1 + OAuth2 over an in-memory, seeded ledger. Thread-safe (one RLock)."""

    def __init__(
        self,
        *,
        seed: int = 1,
        divisions: int = 2,
        accounts: int = 300,
        open_items: int = 600,
        client_id: str = "exact-demo-client",
        client_secret: str = "exact-demo-secret",  # noqa: S107 - demo credentials of a fake server
        webhook_secret: str = "exact-demo-webhook-secret",  # noqa: S107
        redirect_uri: str | None = None,
        clock_speed: float = 1.0,
        now: Callable[[], datetime] | None = None,
        minutely_limit: int = 60,
        daily_limit: int = 5000,
        page_size_default: int = 60,
        public_url: str | None = None,
    ) -> None:
        self._lock = threading.RLock()
        self._now_fn = now
        self.clock_speed = float(clock_speed)
        self._real_start = datetime.now(UTC)
        self._emu_start = now().astimezone(UTC) if now else self._real_start
        self.seed = seed
        self.client_id = client_id
        self.client_secret = client_secret
        self.webhook_secret = webhook_secret
        self.redirect_uri = redirect_uri
        self.minutely_limit = minutely_limit
        self.daily_limit = daily_limit
        self.page_size_default = page_size_default
        self.bulk_page_size = 1000
        self.token_daily_limit = 200
        self.public_url = public_url.rstrip("/") if public_url else None
        self.exchange_hook: Callable[[flask.Request, flask.Response], Any] | None = None
        self.hook_errors: list[str] = []
        self.calls: list[dict[str, Any]] = []
        self.errors: list[dict[str, Any]] = []
        self.violations: list[dict[str, Any]] = []
        self.token_events: list[dict[str, Any]] = []
        self.deliveries: list[dict[str, Any]] = []
        self.retry_base_delay = 0.2
        self.max_retries = 5
        self.server: EmulatorServer | None = None

        self._ts = data.Clock(100_000_000 + (seed % 1000) * 1_000_000)
        self._rng = random.Random(f"exact-{seed}-runtime")
        self.user, divs = data.generate(seed, divisions, accounts, open_items, self.now(), self._ts)
        self._divs: dict[int, Row] = {}
        for d in divs:
            d.update(notes={}, entries={}, deleted=[], webhooks={}, entry_number=0)
            d["entry_number"] = (self.now().year % 100) * 1_000_000 + 200_000
            self._divs[d["Code"]] = d
        self.current_division = divs[-1]["Code"]  # NOT the big one: clients must not rely on it
        self._grants: list[_Grant] = []
        self._refresh: dict[str, _Refresh] = {}
        self._access: dict[str, _Access] = {}
        self._codes: dict[str, dict[str, Any]] = {}
        self._quota: dict[int, _Quota] = {}
        self._token_calls: dict[date, int] = {}
        self._error_log: dict[tuple[int | None, str], list[datetime]] = {}
        self._blocked: dict[tuple[int | None, str], datetime] = {}
        self._faults: list[_Fault] = []
        self._sets = self._build_sets()

        self._deliveries = DeliveryQueue(self._attempt, "exact-webhooks")
        self._http = requests.Session()

        self.app = self._build_app()

    # ------------------------------------------------------------------ time

    def now(self) -> datetime:
        """The emulator's clock (aware UTC): ``now`` callable, else real time × ``clock_speed``."""
        if self._now_fn is not None:
            return to_ms(self._now_fn().astimezone(UTC))
        real = datetime.now(UTC)
        if self.clock_speed == 1.0:
            return to_ms(real)
        return to_ms(self._emu_start + (real - self._real_start) * self.clock_speed)

    def _today(self) -> date:
        return self.now().date()

    # ------------------------------------------------------------------ recording

    def _violation(self, kind: str, detail: str) -> None:
        with self._lock:
            self.violations.append({"at": self.now(), "kind": kind, "detail": detail})

    def take_violations(self) -> list[dict[str, Any]]:
        """Return and clear recorded violations (for tests that provoke them on purpose)."""
        with self._lock:
            out = list(self.violations)
            self.violations.clear()
            return out

    def _token_event(self, outcome: str, **extra: Any) -> None:
        self.token_events.append({"at": self.now(), "outcome": outcome, **extra})

    def count_token_events(self, outcome: str) -> int:
        """How many token-endpoint calls ended in ``outcome``."""
        with self._lock:
            return sum(1 for e in self.token_events if e["outcome"] == outcome)

    # ------------------------------------------------------------------ base URL

    def _base_url(self) -> str:
        if self.public_url:
            return self.public_url
        if flask.has_request_context():
            return flask.request.host_url.rstrip("/")
        return "http://127.0.0.1"

    def _uri(self, code: int, path: str, key: str | int) -> str:
        literal = f"guid'{key}'" if isinstance(key, str) else str(key)
        return f"{self._base_url()}/api/v1/{code}/{path}({literal})"

    # ------------------------------------------------------------------ rendering

    def _account_of(self, div: Row, account_id: str | None) -> Row:
        return div["accounts"].get(account_id or "", {})

    def _r_account(self, div: Row, a: Row) -> Row:
        row = {k: a.get(k) for k in ACCOUNT_FIELDS if k != "Division"}
        row["Division"] = div["Code"]
        row["Timestamp"] = a["Timestamp"]
        return row

    def _r_contact(self, div: Row, c: Row) -> Row:
        row = {k: c.get(k) for k in CONTACT_FIELDS}
        row.update(
            AccountName=self._account_of(div, c["Account"]).get("Name"), Division=div["Code"]
        )
        row["Timestamp"] = c["Timestamp"]
        return row

    def _r_address(self, div: Row, a: Row) -> Row:
        row = {k: a.get(k) for k in ADDRESS_FIELDS}
        contact = div["contacts"].get(a.get("Contact") or "", {})
        row.update(
            AccountName=self._account_of(div, a["Account"]).get("Name"),
            TypeDescription={
                1: "Bezoekadres",
                2: "Postadres",
                3: "Factuuradres",
                4: "Afleveradres",
            }[a["Type"]],
            ContactName=contact.get("FullName"),
            Division=div["Code"],
            Timestamp=a["Timestamp"],
        )
        return row

    def _r_term(self, div: Row, it: Row) -> Row:
        acc = self._account_of(div, it["Account"])
        contact = div["contacts"].get(acc.get("MainContact") or "", {})
        open_amount = it["Total"] - it["Paid"]
        paid = open_amount <= 0
        sign = Decimal(1) if it["LineType"] == 20 else Decimal(-1)
        return {
            "ID": it["ID"],
            "Account": it["Account"],
            "AccountCode": acc.get("Code"),
            "AccountName": acc.get("Name"),
            "AccountCountry": acc.get("Country"),
            "AccountContact": acc.get("MainContact"),
            "AccountContactName": contact.get("FullName"),
            "AmountDC": cents(sign * max(open_amount, Decimal(0))),
            "AmountFC": cents(sign * max(open_amount, Decimal(0))),
            "TransactionAmountDC": cents(sign * it["Total"]),
            "TransactionAmountFC": cents(sign * it["Total"]),
            "Currency": "EUR",
            "Description": it["Description"],
            "Division": div["Code"],
            "Document": None,
            "DueDate": it["DueDate"],
            "TransactionDueDate": it["DueDate"],
            "EndDate": it["EndDate"],
            "EndToEndID": None,
            "EntryDate": it["EntryDate"],
            "EntryID": it["EntryID"],
            "EntryNumber": it["EntryNumber"],
            "GLAccount": div["gl_accounts"]["debtors" if it["LineType"] == 20 else "creditors"][
                "ID"
            ],
            "InvoiceDate": it["InvoiceDate"],
            "InvoiceNumber": it["InvoiceNumber"],
            "IsFullyPaid": paid,
            "LastPaymentDate": it["LastPaymentDate"],
            "PaymentCondition": it["PaymentCondition"],
            "PaymentConditionDescription": it["PaymentConditionDescription"],
            "PaymentMethod": it["PaymentMethod"],
            "PaymentReference": it["PaymentReference"],
            "Source": 1,
            "Status": 50 if paid else 20,
            "TransactionEntryID": it["EntryID"],
            "TransactionID": it["TransactionID"],
            "TransactionType": 20 if it["LineType"] == 20 else 30,
            "YourRef": it["YourRef"],
            "Created": it["Created"],
            "Modified": it["Modified"],
            "LineType": it["LineType"],
            "ApprovalStatus": 1,
            "Journal": it["Journal"],
            "Timestamp": it["Timestamp"],
            "HID": it["HID"],
        }

    def _r_receivables_list(self, div: Row, it: Row) -> Row:
        acc = self._account_of(div, it["Account"])
        return {
            "HID": it["HID"],
            "AccountId": it["Account"],
            "AccountCode": acc.get("Code"),
            "AccountName": acc.get("Name"),
            "Amount": cents(it["Total"] - it["Paid"]),
            "AmountInTransit": Decimal("0.00"),
            "CurrencyCode": "EUR",
            "Description": it["Description"],
            "DueDate": it["DueDate"],
            "EntryNumber": it["EntryNumber"],
            "InvoiceDate": it["InvoiceDate"],
            "InvoiceNumber": it["InvoiceNumber"],
            "JournalCode": "70",
            "JournalDescription": "Verkoopboek",
            "YourRef": it["YourRef"],
        }

    def _r_deleted(self, div: Row, d: Row) -> Row:
        return dict(d, Division=div["Code"])

    def _r_note(self, div: Row, n: Row) -> Row:
        acc = self._account_of(div, n["Account"])
        contact = div["contacts"].get(n.get("Contact") or "", {})
        return {
            "ID": n["ID"],
            "Account": n["Account"],
            "AccountName": acc.get("Name"),
            "Contact": n.get("Contact"),
            "ContactFullName": contact.get("FullName"),
            "Created": n["Created"],
            "Creator": self.user["UserID"],
            "CreatorFullName": self.user["FullName"],
            "Date": n["Date"],
            "Division": div["Code"],
            "Document": None,
            "Modified": n["Modified"],
            "Modifier": self.user["UserID"],
            "ModifierFullName": self.user["FullName"],
            "Notes": n["Notes"],
            "Opportunity": None,
            "Subject": n["Subject"],
        }

    def _r_line(self, div: Row, ln: Row) -> Row:
        gl = next((g for g in div["gl_accounts"].values() if g["ID"] == ln["GLAccount"]), {})
        return {
            "ID": ln["ID"],
            "EntryID": ln["EntryID"],
            "Account": ln["Account"],
            "AccountName": self._account_of(div, ln["Account"]).get("Name"),
            "AmountDC": ln["AmountFC"],
            "AmountFC": ln["AmountFC"],
            "Date": ln["Date"],
            "Description": ln["Description"],
            "GLAccount": ln["GLAccount"],
            "GLAccountCode": gl.get("Code"),
            "LineNumber": ln["LineNumber"],
            "OurRef": ln["OurRef"],
            "Division": div["Code"],
        }

    def _r_entry(self, div: Row, e: Row, expand: bool = False) -> Row:
        journal = div["journals"][e["JournalCode"]]
        kind = "BankEntryLines" if e["kind"] == "BankEntries" else "CashEntryLines"
        lines_set = self._sets["financialtransaction/" + kind]
        lines: Any = {
            "__deferred": {
                "uri": f"{self._base_url()}/api/v1/{div['Code']}/financialtransaction/{kind}"
                f"?$filter=EntryID%20eq%20guid'{e['EntryID']}'"
            }
        }
        if expand:
            lines = {
                "results": [
                    self._with_meta(div, lines_set, self._r_line(div, ln)) for ln in e["lines"]
                ]
            }
        return {
            "EntryID": e["EntryID"],
            "EntryNumber": e["EntryNumber"],
            "JournalCode": e["JournalCode"],
            "JournalDescription": journal["Description"],
            "Currency": "EUR",
            "Division": div["Code"],
            "FinancialPeriod": e["Date"].month,
            "FinancialYear": e["Date"].year,
            "Status": 20,
            "StatusDescription": "Open",
            "Created": e["Created"],
            "Modified": e["Modified"],
            kind: lines,
        }

    def _r_sales_entry(self, div: Row, it: Row) -> Row:
        acc = self._account_of(div, it["Account"])
        return {
            "EntryID": it["EntryID"],
            "EntryNumber": it["EntryNumber"],
            "Customer": it["Account"],
            "CustomerName": acc.get("Name"),
            "AmountDC": cents(it["Total"]),
            "AmountFC": cents(it["Total"]),
            "Currency": "EUR",
            "Description": it["Description"],
            "DueDate": it["DueDate"],
            "EntryDate": it["EntryDate"],
            "InvoiceNumber": it["InvoiceNumber"],
            "Journal": "70",
            "JournalDescription": "Verkoopboek",
            "PaymentCondition": it["PaymentCondition"],
            "PaymentReference": it["PaymentReference"],
            "Status": 20,
            "YourRef": it["YourRef"],
            "Created": it["Created"],
            "Modified": it["Modified"],
            "Division": div["Code"],
        }

    def _r_sales_invoice(self, div: Row, it: Row) -> Row:
        acc = self._account_of(div, it["Account"])
        return {
            "InvoiceID": it["InvoiceID"],
            "InvoiceNumber": it["InvoiceNumber"],
            "InvoiceTo": it["Account"],
            "InvoiceToName": acc.get("Name"),
            "OrderedBy": it["Account"],
            "OrderedByName": acc.get("Name"),
            "AmountDC": cents(it["Total"]),
            "AmountFC": cents(it["Total"]),
            "Currency": "EUR",
            "Description": it["Notes"],
            "DueDate": it["DueDate"],
            "InvoiceDate": it["InvoiceDate"],
            "Status": 50,
            "Type": 8020,
            "PaymentCondition": it["PaymentCondition"],
            "PaymentReference": it["PaymentReference"],
            "YourRef": it["YourRef"],
            "Remarks": None,
            "Created": it["Created"],
            "Modified": it["Modified"],
            "Division": div["Code"],
        }

    def _r_division(self, div: Row) -> Row:
        row = {k: div.get(k) for k in DIVISION_FIELDS}
        row["Current"] = div["Code"] == self.current_division
        return row

    def _r_journal(self, div: Row, j: Row) -> Row:
        return dict(j, Division=div["Code"])

    def _r_webhook(self, div: Row, w: Row) -> Row:
        return dict(w, Division=div["Code"])

    def _with_meta(self, div: Row, s: _Set, row: Row, select: list[str] | None = None) -> Row:
        """A row as the API shows it: ``__metadata`` first, then the selected properties."""
        out: Row = {
            "__metadata": {"uri": self._uri(div["Code"], s.path, row[s.key]), "type": s.type_name}
        }
        for name in select or s.fields:
            out[name] = row.get(name)
        return out

    # ------------------------------------------------------------------ entity sets

    def _build_sets(self) -> dict[str, _Set]:
        def items(kind: str) -> Callable[[Row], Iterable[Row]]:
            def source(div: Row) -> Iterable[Row]:
                for it in div["items"].values():
                    if kind == "terms" or (
                        it["LineType"] == 20 and (kind == "receivables" or it["Paid"] < it["Total"])
                    ):
                        yield it

            return source

        def entries(kind: str) -> Callable[[Row], Iterable[Row]]:
            return lambda div: (e for e in div["entries"].values() if e["kind"] == kind)

        def lines(kind: str) -> Callable[[Row], Iterable[Row]]:
            return lambda div: (
                ln for e in div["entries"].values() if e["kind"] == kind for ln in e["lines"]
            )

        def deleted(div: Row) -> Iterable[Row]:
            cutoff = self.now() - DELETED_RETENTION
            return (d for d in div["deleted"] if d["DeletedDate"] >= cutoff)

        m = "Exact.Web.Api.Models."
        acc, con, adr, term = self._r_account, self._r_contact, self._r_address, self._r_term
        ts_only = ("Timestamp",)

        def accounts(d: Row) -> Iterable[Row]:
            return d["accounts"].values()

        def contacts(d: Row) -> Iterable[Row]:
            return d["contacts"].values()

        def addresses(d: Row) -> Iterable[Row]:
            return d["addresses"].values()

        def sync(path: str, type_: str, fields: dict[str, str], src: Any, render: Any) -> _Set:
            fields = {**fields, "Timestamp": I64}
            return _Set(
                path,
                m + type_,
                fields,
                "ID",
                src,
                render,
                "sync",
                ts_only,
                ts_only,
                order="Timestamp",
            )

        # fmt: off
        sets = [
            _Set("crm/Accounts", m + "Account", ACCOUNT_FIELDS, "ID", accounts, acc,
                 mandatory=ACCOUNT_FILTERS, methods=("GET", "PUT")),
            _Set("bulk/CRM/Accounts", m + "Bulk.CRM.Account", ACCOUNT_FIELDS, "ID", accounts, acc,
                 "bulk", ACCOUNT_FILTERS, ACCOUNT_FILTERS),
            sync("sync/CRM/Accounts", "Sync.CRM.Account", ACCOUNT_FIELDS, accounts, acc),
            _Set("crm/Contacts", m + "Contact", CONTACT_FIELDS, "ID", contacts, con,
                 mandatory=CONTACT_FILTERS),
            _Set("bulk/CRM/Contacts", m + "Bulk.CRM.Contact", CONTACT_FIELDS, "ID", contacts, con,
                 "bulk", CONTACT_FILTERS, CONTACT_FILTERS),
            sync("sync/CRM/Contacts", "Sync.CRM.Contact", CONTACT_FIELDS, contacts, con),
            _Set("crm/Addresses", m + "Address", ADDRESS_FIELDS, "ID", addresses, adr,
                 mandatory=ADDRESS_FILTERS),
            _Set("bulk/CRM/Addresses", m + "Bulk.CRM.Address", ADDRESS_FIELDS, "ID", addresses,
                 adr, "bulk", ADDRESS_FILTERS, ADDRESS_FILTERS),
            sync("sync/CRM/Addresses", "Sync.CRM.Address", ADDRESS_FIELDS, addresses, adr),
            _Set("cashflow/Receivables", m + "Cashflow.Receivable", RECEIVABLE_FIELDS, "ID",
                 items("receivables"), term, mandatory=RECEIVABLE_BULK_FILTERS,
                 methods=("GET", "PUT")),
            _Set("bulk/Cashflow/Receivables", m + "Bulk.Cashflow.Receivable", RECEIVABLE_FIELDS,
                 "ID", items("receivables"), term, "bulk", RECEIVABLE_BULK_FILTERS,
                 RECEIVABLE_BULK_FILTERS),
            sync("sync/Cashflow/PaymentTerms", "Sync.Cashflow.PaymentTerm", PAYMENT_TERM_FIELDS,
                 items("terms"), term),
            _Set("read/financial/ReceivablesList", m + "Financial.ReceivablesListItem",
                 RECEIVABLES_LIST_FIELDS, "HID", items("open"), self._r_receivables_list, "read",
                 select_required=False),
            sync("sync/Deleted", "Sync.Deleted", DELETED_FIELDS, deleted, self._r_deleted),
            _Set("activities/CommunicationNotes", m + "Activities.CommunicationNote", NOTE_FIELDS,
                 "ID", lambda d: d["notes"].values(), self._r_note, methods=("GET", "POST")),
            _Set("financialtransaction/BankEntries", m + "FinancialTransaction.BankEntry",
                 BANK_ENTRY_FIELDS, "EntryID", entries("BankEntries"), self._r_entry,
                 methods=("GET", "POST", "DELETE")),
            _Set("financialtransaction/CashEntries", m + "FinancialTransaction.CashEntry",
                 CASH_ENTRY_FIELDS, "EntryID", entries("CashEntries"), self._r_entry,
                 methods=("GET", "POST", "DELETE")),
            _Set("financialtransaction/BankEntryLines", m + "FinancialTransaction.BankEntryLine",
                 LINE_FIELDS, "ID", lines("BankEntries"), self._r_line),
            _Set("financialtransaction/CashEntryLines", m + "FinancialTransaction.CashEntryLine",
                 LINE_FIELDS, "ID", lines("CashEntries"), self._r_line),
            _Set("salesentry/SalesEntries", m + "SalesEntry.SalesEntry", SALES_ENTRY_FIELDS,
                 "EntryID", items("receivables"), self._r_sales_entry),
            _Set("salesinvoice/SalesInvoices", m + "SalesInvoice.SalesInvoice",
                 SALES_INVOICE_FIELDS, "InvoiceID", items("receivables"), self._r_sales_invoice),
            _Set("financial/GLAccounts", m + "Financial.GLAccount", GL_FIELDS, "ID",
                 lambda d: d["gl_accounts"].values(), lambda d, g: dict(g, Division=d["Code"])),
            _Set("financial/Journals", m + "Financial.Journal", JOURNAL_FIELDS, "ID",
                 lambda d: d["journals"].values(), self._r_journal),
            _Set("webhooks/WebhookSubscriptions", m + "Webhooks.WebhookSubscription",
                 WEBHOOK_FIELDS, "ID", lambda d: d["webhooks"].values(), self._r_webhook,
                 select_required=False, methods=("GET", "POST", "DELETE")),
        ]
        # fmt: on
        return {s.path: s for s in sets}

    # ------------------------------------------------------------------ ledger mechanics

    def _div(self, code: int | str) -> Row:
        div = self._divs.get(int(code))
        if div is None:
            raise KeyError(f"unknown division {code}")
        return div

    def _touch(self, rec: Row) -> None:
        rec["Timestamp"] = self._ts.next()
        rec["Modified"] = self.now()

    def _find_item(self, div: Row, ref: Any) -> Row:
        text = str(ref).strip().lower()
        for it in div["items"].values():
            if text in (it["ID"], it["EntryID"], it["InvoiceID"]) or text in (
                str(it["InvoiceNumber"]),
                str(it["HID"]),
            ):
                return it
        raise KeyError(f"unknown item {ref}")

    def _apply_payment(self, div: Row, item: Row | None, amount: Decimal, on: date) -> Decimal:
        """Reduce the open amount (closing the item when settled); returns the amount applied."""
        if item is None or item["LineType"] != 20:
            return Decimal(0)
        open_amount = item["Total"] - item["Paid"]
        if open_amount <= 0:
            return Decimal(0)
        applied = min(amount, open_amount)
        item["Paid"] = cents(item["Paid"] + applied)
        item["LastPaymentDate"] = on
        if item["Paid"] >= item["Total"]:
            item["EndDate"] = on
        self._touch(item)
        return applied

    def _book_entry(self, div: Row, kind: str, journal: str, lines: list[Row], source: str) -> Row:
        """Store a bank/cash entry, match lines on Account + OurRef, fire the webhook."""
        now = self.now()
        div["entry_number"] += 1
        entry_id = data.guid(self._rng)
        entry = {
            "EntryID": entry_id,
            "EntryNumber": div["entry_number"],
            "JournalCode": journal,
            "kind": kind,
            "Date": lines[0]["Date"] if lines else now.date(),
            "Created": now,
            "Modified": now,
            "Timestamp": self._ts.next(),
            "source": source,
            "lines": [],
        }
        for n, ln in enumerate(lines, start=1):
            rec = dict(ln, ID=data.guid(self._rng), EntryID=entry_id, LineNumber=n)
            match = None
            if ln.get("Account") and ln.get("OurRef") is not None:
                match = next(
                    (
                        it
                        for it in div["items"].values()
                        if it["InvoiceNumber"] == ln["OurRef"]
                        and it["Account"] == ln["Account"]
                        and it["LineType"] == 20
                    ),
                    None,
                )
            rec["matched_item"] = match["ID"] if match else None
            rec["applied"] = self._apply_payment(div, match, ln["AmountFC"], ln["Date"])
            entry["lines"].append(rec)
        div["entries"][entry_id] = entry
        self._emit(div, kind, "Create", entry_id)
        return entry

    def _log_deleted(self, div: Row, entity: str, key: str) -> None:
        div["deleted"].append(
            {
                "ID": data.guid(self._rng),
                "Timestamp": self._ts.next(),
                "DeletedBy": self.user["UserID"],
                "DeletedDate": self.now(),
                "EntityKey": key,
                "EntityType": DELETED_TYPES[entity],
            }
        )

    # ------------------------------------------------------------------ webhooks

    def _emit(self, div: Row, topic: str, action: str, key: str) -> None:
        """Queue a signed notification for every subscription of the division on ``topic``."""
        subs = [w for w in div["webhooks"].values() if w["Topic"] == topic]
        if not subs:
            return
        now = self.now()
        endpoint = TOPIC_ENDPOINTS.get(topic, topic)
        content = {
            "Topic": topic,
            "ClientId": self.client_id,
            "Division": div["Code"],
            "Action": action,
            "Key": key,
            "ExactOnlineEndpoint": self._uri(div["Code"], endpoint, key),
            "EventCreatedOn": now.strftime("%Y-%m-%dT%H:%M:%S.") + f"{now.microsecond // 1000:03d}",
        }
        raw = json.dumps(content, separators=(",", ":"))
        digest = hmac.new(self.webhook_secret.encode(), raw.encode(), hashlib.sha256)
        body = ('{"Content":' + raw + ',"HashCode":"' + digest.hexdigest().upper() + '"}').encode()
        for sub in subs:
            delivery = {
                "url": sub["CallbackURL"],
                "subscription_id": sub["ID"],
                "division": div["Code"],
                "topic": topic,
                "action": action,
                "key": key,
                "body": body,
                "status": None,
                "attempts": 0,
            }
            self.deliveries.append(delivery)
            self._deliveries.put(_Job(delivery, body, time.monotonic()))

    def _attempt(self, job: _Job) -> None:
        try:
            resp = self._http.post(
                job.delivery["url"],
                data=job.body,
                headers={"Content-Type": "application/json"},
                timeout=5,
            )
            status: int | None = resp.status_code
        except requests.RequestException:
            status = None
        with self._lock:
            job.delivery["attempts"] += 1
            job.delivery["status"] = status
        ok = status is not None and 200 <= status < 300
        if not ok and job.delivery["attempts"] <= self.max_retries:
            job.due = time.monotonic() + self.retry_base_delay * job.delivery["attempts"]
            self._deliveries.put(job)

    def wait_for_deliveries(self, timeout: float = 5.0) -> bool:
        """Block until every queued webhook push (incl. retries) is done; False on timeout."""
        return self._deliveries.wait_idle(timeout)

    def close(self) -> None:
        """Stop the delivery thread (pending pushes are dropped)."""
        self._deliveries.close()
        self._http.close()

    # ------------------------------------------------------------------ tokens

    def _new_pair(self, grant: _Grant, ttl: int | None = ACCESS_TTL) -> tuple[_Access, _Refresh]:
        now = self.now()
        access = _Access(
            "gAAAA" + secrets.token_urlsafe(48),
            grant,
            now,
            now + timedelta(seconds=ttl) if ttl is not None else None,
        )
        refresh = _Refresh("Gcp7!IAAA" + secrets.token_urlsafe(48), grant, now)
        grant.access_issued_at = now
        self._access[access.value] = access
        self._refresh[refresh.value] = refresh
        return access, refresh

    def _grant(self, client_id: str | None, divisions: Iterable[int] | None) -> _Grant:
        divs = frozenset(int(d) for d in divisions) if divisions else frozenset(self._divs)
        grant = _Grant(client_id, divs, self.now())
        self._grants.append(grant)
        return grant

    def issue_token(self, divisions: Iterable[int] | None = None) -> tuple[str, str]:
        """Pre-issue (access, refresh) as if the user consented; default: all divisions."""
        with self._lock:
            access, refresh = self._new_pair(self._grant(self.client_id, divisions))
            self._token_event("issued", via="issue_token")
            return access.value, refresh.value

    def register_token(self, token: str) -> None:
        """Accept ``token`` verbatim as a non-expiring bearer token for all divisions (curl)."""
        with self._lock:
            grant = self._grant(self.client_id, None)
            self._access[token] = _Access(token, grant, self.now(), None)

    def revoke_tokens(self) -> None:
        """The user revoked the app: every access and refresh token stops working."""
        with self._lock:
            for grant in self._grants:
                grant.revoked = True

    def expire_access_tokens(self) -> None:
        """Every access token expires now (refresh is then allowed; refresh tokens keep working)."""
        with self._lock:
            past = self.now() - timedelta(seconds=1)
            for tok in self._access.values():
                if tok.expires_at is not None:
                    tok.expires_at = past
            for grant in self._grants:
                grant.access_issued_at = min(
                    grant.access_issued_at, self.now() - timedelta(seconds=ACCESS_TTL)
                )

    # ------------------------------------------------------------------ control surface

    def serve(self, host: str = "127.0.0.1", port: int = 0) -> EmulatorServer:
        """Serve on a loopback port in a daemon thread; sets ``public_url`` if not given."""
        server = EmulatorServer(self, host, port, "exact-emulator")
        if self.public_url is None:
            self.public_url = server.url
        self.server = server
        return server

    def division_codes(self) -> list[int]:
        """Codes of all seeded divisions; the first one is the big one."""
        with self._lock:
            return list(self._divs)

    def divisions(self) -> list[Row]:
        """All divisions as ``system/Divisions`` rows (python-typed)."""
        with self._lock:
            return [self._r_division(d) for d in self._divs.values()]

    def open_items(self, division: int) -> list[Row]:
        """Open receivables as ``cashflow/Receivables`` rows (+``HID``), Decimal amounts."""
        with self._lock:
            div = self._div(division)
            return [
                self._r_term(div, it)
                for it in div["items"].values()
                if it["LineType"] == 20 and it["Paid"] < it["Total"]
            ]

    def item(self, division: int, ref: Any) -> Row:
        """One receivable (open or settled) by ID, EntryID, InvoiceID, InvoiceNumber or HID."""
        with self._lock:
            div = self._div(division)
            return self._r_term(div, self._find_item(div, ref))

    def accounts(self, division: int) -> list[Row]:
        """All accounts (debtors and a few suppliers) as ``crm/Accounts`` rows."""
        with self._lock:
            div = self._div(division)
            return [self._r_account(div, a) for a in div["accounts"].values()]

    def contacts(self, division: int) -> list[Row]:
        """All contacts as ``crm/Contacts`` rows."""
        with self._lock:
            div = self._div(division)
            return [self._r_contact(div, c) for c in div["contacts"].values()]

    def addresses(self, division: int) -> list[Row]:
        """All addresses as ``crm/Addresses`` rows."""
        with self._lock:
            div = self._div(division)
            return [self._r_address(div, a) for a in div["addresses"].values()]

    def notes(self, division: int, account_id: str | None = None) -> list[Row]:
        """CommunicationNotes written (by anyone), optionally for one account, oldest first."""
        with self._lock:
            div = self._div(division)
            return [
                self._r_note(div, n)
                for n in div["notes"].values()
                if account_id is None or n["Account"] == str(account_id).lower()
            ]

    def payments(self, division: int) -> list[Row]:
        """Every bank/cash entry line booked, plus kind, source, matched_item and applied."""
        with self._lock:
            div = self._div(division)
            out = []
            for e in div["entries"].values():
                for ln in e["lines"]:
                    row = self._r_line(div, ln)
                    row.update(
                        kind=e["kind"],
                        JournalCode=e["JournalCode"],
                        EntryNumber=e["EntryNumber"],
                        source=e["source"],
                        matched_item=ln["matched_item"],
                        applied=ln["applied"],
                    )
                    out.append(row)
            return out

    def pay_item(
        self, division: int, entry_or_invoice_id: Any, amount: Decimal | None = None
    ) -> Row:
        """The debtor paid the creditor (bank feed): books a BankEntry matched to the item."""
        with self._lock:
            div = self._div(division)
            it = self._find_item(div, entry_or_invoice_id)
            amt = cents(Decimal(amount)) if amount is not None else it["Total"] - it["Paid"]
            line = {
                "Account": it["Account"],
                "AmountFC": amt,
                "Date": self._today(),
                "Description": f"Betaling factuur {it['InvoiceNumber']}",
                "GLAccount": div["gl_accounts"]["debtors"]["ID"],
                "OurRef": it["InvoiceNumber"],
            }
            self._book_entry(div, "BankEntries", "20", [line], "bank_feed")
            return self._r_term(div, it)

    def delete_item(self, division: int, entry_or_invoice_id: Any) -> None:
        """The creditor deleted the sales entry: gone from every list, logged in sync/Deleted."""
        with self._lock:
            div = self._div(division)
            it = self._find_item(div, entry_or_invoice_id)
            del div["items"][it["ID"]]
            self._log_deleted(div, "PaymentTerms", it["ID"])
            self._log_deleted(div, "TransactionLines", it["TransactionID"])
            self._log_deleted(div, "SalesInvoices", it["InvoiceID"])
            self._emit(div, "SalesEntries", "Delete", it["EntryID"])
            self._emit(div, "SalesInvoices", "Delete", it["InvoiceID"])

    def update_account(self, division: int, account_id: str, **fields: Any) -> Row:
        """Change account fields (bumps Timestamp/Modified, fires Accounts/Update)."""
        with self._lock:
            div = self._div(division)
            acc = div["accounts"].get(str(account_id).lower())
            if acc is None:
                raise KeyError(f"unknown account {account_id}")
            for key in fields:
                if key not in ACCOUNT_FIELDS or key in ("ID", "Division", "Created", "Modified"):
                    raise KeyError(f"unknown or read-only account field {key}")
            acc.update(fields)
            self._touch(acc)
            self._emit(div, "Accounts", "Update", acc["ID"])
            return self._r_account(div, acc)

    def delete_account(self, division: int, account_id: str) -> None:
        """Remove an account without items (logged in sync/Deleted, fires Accounts/Delete)."""
        with self._lock:
            div = self._div(division)
            acc = div["accounts"].pop(str(account_id).lower())
            self._log_deleted(div, "Accounts", acc["ID"])
            self._emit(div, "Accounts", "Delete", acc["ID"])

    def create_item(
        self,
        division: int,
        account_id: str | None = None,
        amount: Decimal = Decimal("121.00"),
        due_date: date | None = None,
        *,
        invoice_date: date | None = None,
        description: str | None = None,
        your_ref: str | None = None,
    ) -> Row:
        """Book a new sales invoice/entry (fires SalesEntries and SalesInvoices Create)."""
        with self._lock:
            div = self._div(division)
            debtors = [a for a in div["accounts"].values() if a["IsSales"]]
            acc = div["accounts"][str(account_id).lower()] if account_id else debtors[0]
            today = self._today()
            div["number"] += 1
            hid = max(it["HID"] for it in div["items"].values()) + 1 if div["items"] else 1
            it = data.make_item(
                self._rng, acc, div["number"], hid, today, self.now(), self._ts,
                due_in=((due_date or today + timedelta(days=14)) - today).days,
                amount=cents(Decimal(amount)),
            )  # fmt: skip
            if invoice_date is not None:
                it["InvoiceDate"] = it["EntryDate"] = invoice_date
            it["Created"] = it["Modified"] = self.now()
            if description:
                it["Description"] = description
            it["YourRef"] = your_ref
            div["items"][it["ID"]] = it
            self._emit(div, "SalesEntries", "Create", it["EntryID"])
            self._emit(div, "SalesInvoices", "Create", it["InvoiceID"])
            return self._r_term(div, it)

    def add_settled_history(self, division: int, count: int) -> None:
        """Add ``count`` fully paid sales terms: years of history a big division carries in
        ``sync/Cashflow/PaymentTerms`` but never in its open items."""
        with self._lock:
            div = self._div(division)
            debtors = [a for a in div["accounts"].values() if a["IsSales"]]
            today = self._today()
            hid = max((it["HID"] for it in div["items"].values()), default=0)
            for _ in range(count):
                div["number"] += 1
                hid += 1
                it = data.make_item(self._rng, self._rng.choice(debtors), div["number"], hid,
                                    today, self.now(), self._ts)
                paid_on = min(today, it["DueDate"])
                it.update(Paid=it["Total"], LastPaymentDate=paid_on, EndDate=paid_on)
                div["items"][it["ID"]] = it

    def set_current_division(self, code: int) -> None:
        """The user opened another company in the browser (``Me.CurrentDivision`` changes)."""
        with self._lock:
            self.current_division = self._div(code)["Code"]

    def inject_delay(self, method: str, path_contains: str, seconds: float, times: int = 1) -> None:
        """Process matching requests normally, then hold the response back ``seconds``."""
        with self._lock:
            self._faults.append(_Fault(method.upper(), path_contains, times, seconds, status=0))

    def inject_lost_answer(self, method: str, path_contains: str, times: int = 1) -> None:
        """Process matching requests normally, then drop the connection: the answer is lost
        (a timeout or a cut line), whatever timeout the client uses."""
        with self._lock:
            self._faults.append(
                _Fault(method.upper(), path_contains, times, status=LOST_ANSWER)
            )

    def inject_error(
        self, method: str, path_contains: str, status: int = 500, times: int = 1, body: Json = None
    ) -> None:
        """Answer matching requests with ``status`` WITHOUT processing them."""
        with self._lock:
            self._faults.append(
                _Fault(method.upper(), path_contains, times, status=status, body=body)
            )

    def count_calls(
        self,
        division: int | str | None = None,
        method: str | None = None,
        path_contains: str | None = None,
    ) -> int:
        """How many /api/v1 requests matched (for rate-budget assertions)."""
        with self._lock:
            return sum(
                1
                for c in self.calls
                if (division is None or c["division"] == int(division))
                and (method is None or c["method"] == method.upper())
                and (path_contains is None or path_contains in c["path"])
            )

    def reset_calls(self) -> None:
        """Forget recorded calls and errors."""
        with self._lock:
            self.calls.clear()
            self.errors.clear()

    # ------------------------------------------------------------------ query handling

    @staticmethod
    def _select(s: _Set) -> list[str] | None:
        raw = flask.request.args.get("$select")
        if raw is None or raw.strip() in ("", "*"):
            return None
        names = [n.strip() for n in raw.split(",") if n.strip()]
        for n in names:
            if n not in s.fields:
                raise ApiError(
                    400, f"Could not find a property named '{n}' on type '{s.type_name}'."
                )
        return names

    def _query(self, div: Row, s: _Set) -> Row:
        args = flask.request.args
        select = self._select(s)
        raw_select = args.get("$select")
        top_raw = args.get("$top")
        top = None
        if top_raw is not None:
            if not top_raw.isdigit():
                raise ApiError(400, f"Invalid value '{top_raw}' for $top query option found.")
            top = int(top_raw)
        if s.select_required and select is None:
            rescued = s.kind == "normal" and top == 1 and raw_select is None
            if not rescued:
                self._violation("missing_select", f"GET {s.path} without an explicit $select")
                raise ApiError(400, SELECT_MESSAGE)
        flt = None
        raw_filter = args.get("$filter")
        if raw_filter is not None and raw_filter.strip():
            flt = _Filter(raw_filter, s.fields, s.type_name)
            if s.whitelist is not None:
                bad = sorted({f for f in flt.used if f not in s.whitelist})
                if bad:
                    self._violation("unsupported_filter", f"{s.path}: {', '.join(bad)}")
                    raise ApiError(
                        400, f"Filtering on these fields is not supported: {', '.join(bad)}"
                    )
        if s.mandatory and (flt is None or not set(flt.used) & set(s.mandatory)):
            self._violation("missing_mandatory_filter", f"GET {s.path} without an allowed $filter")
            raise ApiError(400, MANDATORY_FILTER_MESSAGE.format(fields=", ".join(s.mandatory)))
        page = self.bulk_page_size if s.kind in ("bulk", "sync") else self.page_size_default
        if top is not None:
            page = min(page, top)
        order_field = "Timestamp" if s.order == "Timestamp" else s.key
        skip = args.get("$skiptoken")
        after: Any = None
        if skip is not None:
            m = re.fullmatch(r"guid'([0-9a-fA-F-]{36})'|(\d+)L?", skip.strip())
            if not m:
                raise ApiError(400, f"Invalid value '{skip}' for $skiptoken query option found.")
            after = m.group(1).lower() if m.group(1) else int(m.group(2))
        rows = list(s.source(div))
        rows.sort(key=lambda r: r[order_field])
        out: list[Row] = []
        more = False
        for rec in rows:
            if after is not None and not rec[order_field] > after:
                continue
            row = s.render(div, rec)
            if flt is not None and not flt.matches(row):
                continue
            if len(out) >= page:
                more = True
                break
            out.append(row)
        body: Row = {"results": [self._with_meta(div, s, r, select) for r in out]}
        left = None if top is None else top - len(out)
        if more and out and (left is None or left > 0):
            last = out[-1][order_field]
            token = f"guid'{last}'" if isinstance(last, str) else f"{last}L"
            body["__next"] = self._next_url(token, left)
        return {"d": body}

    def _next_url(self, skiptoken: str, top_left: int | None) -> str:
        args = [
            (k, v)
            for k, v in parse_qsl(flask.request.query_string.decode(), keep_blank_values=True)
            if k not in ("$skiptoken", "$top")
        ]
        if top_left is not None:
            args.append(("$top", str(top_left)))
        args.append(("$skiptoken", skiptoken))
        query = urlencode(args, quote_via=quote, safe="$',()*:")
        return f"{self._base_url()}{flask.request.path}?{query}"

    def _single(self, div: Row, s: _Set, key_literal: str) -> Row:
        m = re.fullmatch(r"guid'([^']*)'|(\d+)L?", key_literal.strip())
        if not m:
            raise ApiError(400, f"Syntax error at position 0 in '{key_literal}'.")
        if m.group(1) is not None:
            try:
                key: Any = str(uuid.UUID(m.group(1)))
            except ValueError as exc:
                raise ApiError(400, f"Unrecognized 'Edm.Guid' literal '{key_literal}'.") from exc
        else:
            key = int(m.group(2))
        rec = next((r for r in s.source(div) if r.get(s.key) == key), None)
        if rec is None:
            raise ApiError(404, "Resource not found.")
        return rec

    def _json_body(self, type_name: str) -> Row:
        raw = flask.request.get_data()
        try:
            body = json.loads(raw or b"null", parse_float=Decimal)
        except (ValueError, UnicodeDecodeError) as exc:
            raise ApiError(
                400, "Error processing request stream. JSON text specified is not valid."
            ) from exc
        if not isinstance(body, dict):
            raise ApiError(
                400,
                "Error processing request stream. The request should be a valid top-level "
                "resource object.",
            )
        return body

    @staticmethod
    def _unknown_props(body: Row, fields: Iterable[str], type_name: str) -> None:
        allowed = set(fields)
        for key in body:
            if key not in allowed and key != "__metadata":
                raise ApiError(
                    400,
                    f"The property '{key}' does not exist on type '{type_name}'. Make sure to "
                    "only use property names that are defined by the type.",
                )

    @staticmethod
    def _conversion_error(prop: str, target: str) -> ApiError:
        return ApiError(
            400,
            "Error processing request stream. Error encountered in converting the value from "
            f"request payload for property '{prop}' to type '{target}', which is the property's "
            "type. See inner exception for more detail.",
        )

    def _guid(self, body: Row, prop: str) -> str | None:
        value = body.get(prop)
        if value is None:
            return None
        try:
            return str(uuid.UUID(str(value)))
        except ValueError as exc:
            raise self._conversion_error(prop, "System.Guid") from exc

    def _date(self, body: Row, prop: str) -> date | None:
        value = body.get(prop)
        if value is None:
            return None
        text = str(value)
        m = re.fullmatch(r"/Date\((-?\d+)(?:[+-]\d{4})?\)/", text)
        try:
            if m:
                return datetime.fromtimestamp(int(m.group(1)) / 1000, UTC).date()
            return _parse_datetime_literal(text).date()
        except (ValueError, OverflowError) as exc:
            raise self._conversion_error(prop, "System.DateTime") from exc

    def _money(self, body: Row, prop: str) -> Decimal | None:
        value = body.get(prop)
        if value is None:
            return None
        if isinstance(value, bool) or not isinstance(value, int | Decimal):
            raise self._conversion_error(prop, "System.Double")
        try:
            return cents(Decimal(value))
        except InvalidOperation as exc:
            raise self._conversion_error(prop, "System.Double") from exc

    def _int(self, body: Row, prop: str) -> int | None:
        value = body.get(prop)
        if value is None:
            return None
        if isinstance(value, bool):
            raise self._conversion_error(prop, "System.Int32")
        if isinstance(value, int):
            return value
        if isinstance(value, str) and value.strip().isdigit():
            return int(value.strip())
        raise self._conversion_error(prop, "System.Int32")

    # ------------------------------------------------------------------ handlers

    def current_for(self, grant: _Grant) -> int:
        """``Me.CurrentDivision`` as a token sees it. With division scoping, a consent that
        leaves out the division the user last opened in the browser gets one of the consented
        divisions instead (the lowest code here), so ``/{CurrentDivision}/system/Divisions``
        always answers; a division outside the consent is refused with
        ``403 Forbidden - User division is not within division scope`` (exact-online.md §2.4;
        which consented division Exact picks is UNCERTAIN, clients must not rely on it)."""
        inside = sorted(d for d in grant.divisions if d in self._divs)
        if self.current_division in inside or not inside:
            return self.current_division
        return inside[0]

    def h_me(self, grant: _Grant) -> Row:
        cur = self._divs[self.current_for(grant)]
        now = self.now()
        me = {
            **self.user,
            "CurrentDivision": cur["Code"],
            "AccountingDivision": cur["Code"],
            "DivisionCustomer": cur["Customer"],
            "DivisionCustomerCode": cur["CustomerCode"],
            "DivisionCustomerName": cur["CustomerName"],
            "DivisionCustomerVatNumber": cur["VATNumber"],
            "ServerTime": now,
            "ServerUtcOffset": Decimal("1") if now.month in (11, 12, 1, 2, 3) else Decimal("2"),
        }
        select = flask.request.args.get("$select")
        names = [n.strip() for n in select.split(",")] if select else list(ME_FIELDS)
        for n in names:
            if n not in ME_FIELDS:
                raise ApiError(
                    400, f"Could not find a property named '{n}' on type 'Exact.Web.Api.System.Me'."
                )
        row: Row = {
            "__metadata": {
                "uri": f"{self._base_url()}/api/v1/current/Me(guid'{self.user['UserID']}')",
                "type": "Exact.Web.Api.System.Me",
            }
        }
        row.update({n: me[n] for n in names})
        return {"d": {"results": [row]}}

    def h_divisions(self, div: Row, grant: _Grant, all_: bool) -> Row:
        select = flask.request.args.get("$select")
        names = [n.strip() for n in select.split(",")] if select else list(DIVISION_FIELDS)
        type_name = "Exact.Web.Api.Models.System.Division"
        for n in names:
            if n not in DIVISION_FIELDS:
                raise ApiError(400, f"Could not find a property named '{n}' on type '{type_name}'.")
        flt = None
        if flask.request.args.get("$filter"):
            flt = _Filter(flask.request.args["$filter"], DIVISION_FIELDS, type_name)
        path = "system/AllDivisions" if all_ else "system/Divisions"
        results = []
        for d in self._divs.values():
            if not all_ and d["Code"] not in grant.divisions:
                continue
            row = self._r_division(d)
            if flt is not None and not flt.matches(row):
                continue
            out: Row = {
                "__metadata": {"uri": self._uri(div["Code"], path, d["Code"]), "type": type_name}
            }
            out.update({n: row[n] for n in names})
            results.append(out)
        return {"d": {"results": results}}

    def h_note_create(self, div: Row) -> tuple[int, Row]:
        s = self._sets["activities/CommunicationNotes"]
        body = self._json_body(s.type_name)
        self._unknown_props(body, NOTE_FIELDS, s.type_name)
        account = self._guid(body, "Account")
        contact = self._guid(body, "Contact")
        on = self._date(body, "Date") or self._today()
        if account is None:
            raise ApiError(400, "Mandatory: Account")
        if account not in div["accounts"]:
            raise ApiError(400, "Invalid value: Account")
        if contact is not None and contact not in div["contacts"]:
            raise ApiError(400, "Invalid value: Contact")
        subject = body.get("Subject")
        if not isinstance(subject, str) or not subject.strip():
            raise ApiError(400, "Mandatory: Subject")
        notes = body.get("Notes")
        if notes is not None and not isinstance(notes, str):
            raise self._conversion_error("Notes", "System.String")
        now = self.now()
        rec = {
            "ID": data.guid(self._rng),
            "Account": account,
            "Contact": contact,
            "Subject": subject,
            "Notes": notes,
            "Date": datetime.combine(on, dtime(0), UTC),
            "Created": now,
            "Modified": now,
        }
        div["notes"][rec["ID"]] = rec
        return 201, {"d": self._with_meta(div, s, self._r_note(div, rec))}

    def h_entry_create(self, div: Row, kind: str) -> tuple[int, Row]:
        s = self._sets["financialtransaction/" + kind]
        line_prop = "BankEntryLines" if kind == "BankEntries" else "CashEntryLines"
        body = self._json_body(s.type_name)
        header_fields = [*s.fields, "ClosingBalanceFC", "OpeningBalanceFC", "BankStatementDocument"]
        self._unknown_props(body, header_fields, s.type_name)
        journal = body.get("JournalCode")
        if journal in (None, ""):
            raise ApiError(400, "Mandatory: Journal")
        journal = str(journal)
        wanted = 12 if kind == "BankEntries" else 10
        if journal not in div["journals"] or div["journals"][journal]["Type"] != wanted:
            raise ApiError(400, f"Invalid value: Journal '{journal}'")
        raw_lines = body.get(line_prop)
        if isinstance(raw_lines, dict) and isinstance(raw_lines.get("results"), list):
            raw_lines = raw_lines["results"]
        if not isinstance(raw_lines, list) or not raw_lines:
            raise ApiError(400, f"Mandatory: {line_prop}")
        gl_ids = {g["ID"] for g in div["gl_accounts"].values()}
        line_type = s.type_name + "Line"
        lines = []
        for raw in raw_lines:
            if not isinstance(raw, dict):
                raise self._conversion_error(line_prop, line_type)
            self._unknown_props(raw, [*LINE_FIELDS, "AmountVATFC", "VATCode", "Notes"], line_type)
            gl = self._guid(raw, "GLAccount")
            amount = self._money(raw, "AmountFC")
            account = self._guid(raw, "Account")
            if gl is None:
                raise ApiError(400, "Mandatory: GLAccount")
            if gl not in gl_ids:
                raise ApiError(400, "Invalid value: GLAccount")
            if amount is None:
                raise ApiError(400, "Mandatory: AmountFC")
            if account is not None and account not in div["accounts"]:
                raise ApiError(400, "Invalid value: Account")
            description = raw.get("Description")
            lines.append(
                {
                    "Account": account,
                    "AmountFC": amount,
                    "Date": self._date(raw, "Date") or self._today(),
                    "Description": description if isinstance(description, str) else None,
                    "GLAccount": gl,
                    "OurRef": self._int(raw, "OurRef"),
                }
            )
        entry = self._book_entry(div, kind, journal, lines, "api")
        row = self._r_entry(div, entry, expand=True)
        return 201, {"d": self._with_meta(div, s, row)}

    def h_entry_delete(self, div: Row, s: _Set, key: str) -> tuple[int, Row | None]:
        entry = self._single(div, s, key)
        for ln in entry["lines"]:
            if ln["matched_item"] and ln["applied"]:
                it = div["items"].get(ln["matched_item"])
                if it is not None:
                    it["Paid"] = cents(it["Paid"] - ln["applied"])
                    it["EndDate"] = None
                    self._touch(it)
        del div["entries"][entry["EntryID"]]
        self._emit(div, entry["kind"], "Delete", entry["EntryID"])
        return 204, None

    def h_put(self, div: Row, s: _Set, key: str) -> tuple[int, Row | None]:
        rec = self._single(div, s, key)
        body = self._json_body(s.type_name)
        self._unknown_props(body, s.fields, s.type_name)
        if s.path == "crm/Accounts":
            changes = {k: v for k, v in body.items() if k in ACCOUNT_WRITABLE}
            if "Blocked" in changes and not isinstance(changes["Blocked"], bool):
                raise self._conversion_error("Blocked", "System.Boolean")
            rec.update(changes)
            self._touch(rec)
            self._emit(div, "Accounts", "Update", rec["ID"])
        else:  # cashflow/Receivables: only these may change ("prepare collections")
            for k in ("Description", "PaymentMethod", "PaymentReference"):
                if k in body:
                    rec[k] = body[k]
            self._touch(rec)
        return 204, None

    def h_webhook_create(self, div: Row) -> tuple[int, Row]:
        """Runs WITHOUT the lock held while it POSTs the validation request."""
        s = self._sets["webhooks/WebhookSubscriptions"]
        body = self._json_body(s.type_name)
        self._unknown_props(body, WEBHOOK_FIELDS, s.type_name)
        url, topic = body.get("CallbackURL"), body.get("Topic")
        if not isinstance(url, str) or not url.strip():
            raise ApiError(400, "Mandatory: CallbackURL")
        if not isinstance(topic, str) or not topic:
            raise ApiError(400, "Mandatory: Topic")
        if topic not in WEBHOOK_TOPICS:
            raise ApiError(400, f"Invalid value: Topic '{topic}'")
        parts = urlsplit(url)
        loopback = parts.hostname in ("127.0.0.1", "localhost", "::1")
        if parts.scheme != "https" and not (parts.scheme == "http" and loopback):
            raise ApiError(400, "Invalid: CallbackURL must use https")
        try:  # Exact validates with an empty POST (Content-Length: 0) and needs a 2xx.
            check = self._http.post(url, data=b"", timeout=5)
            status = check.status_code
        except requests.RequestException:
            status = 0
        if not 200 <= status < 300:
            raise ApiError(500, f"Invalid: Post to callback URL endpoint returns {status}")
        with self._lock:
            now = self.now()
            rec = {
                "ID": data.guid(self._rng),
                "CallbackURL": url,
                "ClientID": self.client_id,
                "Created": now,
                "Creator": self.user["UserID"],
                "CreatorFullName": self.user["FullName"],
                "Description": body.get("Description") or topic,
                "Topic": topic,
                "UserID": self.user["UserID"],
            }
            div["webhooks"][rec["ID"]] = rec
            return 201, {"d": self._with_meta(div, s, self._r_webhook(div, rec))}

    def h_webhook_delete(self, div: Row, s: _Set, key: str) -> tuple[int, Row | None]:
        rec = self._single(div, s, key)
        del div["webhooks"][rec["ID"]]
        return 204, None

    # ------------------------------------------------------------------ dispatch

    @staticmethod
    def _respond(status: int, body: Json, headers: dict[str, str] | None = None) -> flask.Response:
        if status == 204 or body is None:
            payload = ""
        elif isinstance(body, str | bytes):
            payload = body
        else:
            payload = dumps(body)
        resp = flask.Response(
            payload, status=status, content_type="application/json; charset=utf-8"
        )
        for k, v in (headers or {}).items():
            resp.headers[k] = v
        return resp

    def _take_fault(self, kind: str, method: str, path: str) -> _Fault | None:
        for f in self._faults:
            if (
                fault_kind(f.status) == kind
                and f.method == method
                and f.path_contains in path
            ):
                f.times -= 1
                if f.times <= 0:
                    self._faults.remove(f)
                return f
        return None

    def _rate(self, code: int) -> tuple[dict[str, str], flask.Response | None]:
        """Count one call against the division's minutely and daily quota."""
        now = self.now()
        q = self._quota.setdefault(code, _Quota())
        minute = int(now.timestamp()) // 60 * 60
        if q.minute != minute:
            q.minute, q.minute_count = minute, 0
        if q.day != now.date():
            q.day, q.day_count = now.date(), 0
        day_reset = int(datetime.combine(now.date() + timedelta(days=1), dtime(0), UTC).timestamp())
        daily = {
            "X-RateLimit-Limit": str(self.daily_limit),
            "X-RateLimit-Remaining": str(max(0, self.daily_limit - q.day_count)),
            "X-RateLimit-Reset": str(day_reset * 1000),
        }
        minutely = {
            "X-RateLimit-Minutely-Limit": str(self.minutely_limit),
            "X-RateLimit-Minutely-Remaining": str(max(0, self.minutely_limit - q.minute_count)),
            "X-RateLimit-Minutely-Reset": str((minute + 60) * 1000),
        }
        # 429 body: the reference gives none; PQ#528 shows Exact's 429 carries no error JSON.
        if q.day_count >= self.daily_limit:
            return daily, self._respond(429, "", daily)
        if q.minute_count >= self.minutely_limit:
            return minutely, self._respond(429, "", minutely)
        q.day_count += 1
        q.minute_count += 1
        daily["X-RateLimit-Remaining"] = str(self.daily_limit - q.day_count)
        minutely["X-RateLimit-Minutely-Remaining"] = str(self.minutely_limit - q.minute_count)
        return {**daily, **minutely}, None

    def _authenticate(self) -> _Access:
        header = flask.request.headers.get("Authorization", "")
        value = header[7:].strip() if header[:7].lower() == "bearer " else ""
        tok = self._access.get(value) if value else None
        if tok is None or tok.grant.revoked:
            raise ApiError(401, "Unauthorized", {"WWW-Authenticate": "Bearer"})
        if tok.expires_at is not None and self.now() >= tok.expires_at:
            self._violation("expired_access_token", "API call with an access token past its 600 s")
            raise ApiError(
                401, "Unauthorized", {"WWW-Authenticate": 'Bearer error="invalid_token"'}
            )
        return tok

    def _api(self, rest: str) -> flask.Response:
        method, path = flask.request.method, flask.request.path
        record: dict[str, Any] = {
            "method": method,
            "path": path,
            "query": flask.request.query_string.decode(),
            "division": None,
            "status": None,
            "at": self.now(),
        }
        endpoint_holder: dict[str, Any] = {"endpoint": rest, "message": None}
        resp = self._dispatch(method, path, rest, record, endpoint_holder)
        record["status"] = resp.status_code
        with self._lock:
            self.calls.append(record)
            if 400 <= resp.status_code < 500:
                self._record_error(record, endpoint_holder)
            delay = self._take_fault("delay", method, path)
            lost = self._take_fault("lost", method, path)
        if delay is not None:
            time.sleep(delay.seconds)
        if lost is not None:
            drop_connection(flask.request.environ)
        return resp

    def _record_error(self, record: dict[str, Any], holder: dict[str, Any]) -> None:
        key = (record["division"], holder["endpoint"])
        self.errors.append(dict(record, endpoint=holder["endpoint"], message=holder["message"]))
        if record["status"] not in ERROR_STATUSES:
            return
        now = self.now()
        log = [t for t in self._error_log.get(key, []) if t > now - timedelta(hours=1)]
        log.append(now)
        self._error_log[key] = log
        if len(log) >= ERROR_BUDGET and key not in self._blocked:
            self._blocked[key] = now + timedelta(hours=1)
            self._violation(
                "endpoint_blocked",
                f"{ERROR_BUDGET} errors within an hour on {holder['endpoint']} "
                f"(division {record['division']}): blocked for 1 hour",
            )

    def _dispatch(
        self, method: str, path: str, rest: str, record: dict[str, Any], holder: dict[str, Any]
    ) -> flask.Response:
        headers: dict[str, str] = {}
        try:
            with self._lock:
                first, _, sub = rest.partition("/")
                division: int | None = None
                if rest == "current/Me":
                    holder["endpoint"] = "current/Me"
                elif first.isdigit() and int(first) > 0:
                    division = int(first)
                    record["division"] = division
                    key_m = re.fullmatch(r"([^(]*)(?:\((.*)\))?(/[A-Za-z]+)?", sub)
                    holder["endpoint"] = key_m.group(1) if key_m else sub
                else:
                    self._violation("no_division", f"{method} {path} names no division")
                    raise _not_found_segment(first)
                tok = self._authenticate()
                if division is not None and (
                    division not in tok.grant.divisions or division not in self._divs
                ):
                    raise ApiError(403, "Forbidden - User division is not within division scope")
                bucket = division if division is not None else self.current_for(tok.grant)
                block_key = (division, holder["endpoint"])
                if block_key in self._blocked:
                    if self.now() < self._blocked[block_key]:
                        raise ApiError(
                            403,
                            "Forbidden - This endpoint is blocked for one hour because of too "
                            "many errors",
                        )
                    del self._blocked[block_key]
                headers, limited = self._rate(bucket)
                if limited is not None:
                    return limited
                fault = self._take_fault("error", method, path)
                if fault is not None:
                    body = fault.body if fault.body is not None else error_body("Internal error")
                    return self._respond(fault.status, body, headers)
                if division is None:
                    if method != "GET":
                        raise ApiError(
                            405, f"The requested resource does not support http method '{method}'."
                        )
                    return self._respond(200, self.h_me(tok.grant), headers)
                div = self._divs[division]
                m = re.fullmatch(r"([A-Za-z]+(?:/[A-Za-z]+)+?)(?:\((.*)\))?", sub)
                if not m:
                    raise _not_found_segment(sub.split("/")[-1] if sub else str(division))
                set_path, key = m.group(1), m.group(2)
                if set_path in ("system/Divisions", "system/AllDivisions"):
                    if method != "GET":
                        raise ApiError(
                            405, f"The requested resource does not support http method '{method}'."
                        )
                    body = self.h_divisions(div, tok.grant, set_path.endswith("AllDivisions"))
                    return self._respond(200, body, headers)
                s = self._sets.get(set_path)
                if s is None:
                    raise _not_found_segment(set_path.split("/")[-1])
                if (
                    method not in s.methods
                    or (method in ("PUT", "DELETE") and key is None)
                    or (method == "POST" and key is not None)
                ):
                    raise ApiError(
                        405, f"The requested resource does not support http method '{method}'."
                    )
                if method == "GET":
                    if key is not None:
                        rec = self._single(div, s, key)
                        row = self._with_meta(div, s, s.render(div, rec), self._select(s))
                        return self._respond(200, {"d": {"results": [row]}}, headers)
                    return self._respond(200, self._query(div, s), headers)
                if method == "PUT":
                    return self._respond(*self.h_put(div, s, key or ""), headers)
                if method == "DELETE":
                    if s.path.startswith("webhooks/"):
                        return self._respond(*self.h_webhook_delete(div, s, key or ""), headers)
                    return self._respond(*self.h_entry_delete(div, s, key or ""), headers)
                if s.path == "activities/CommunicationNotes":
                    return self._respond(*self.h_note_create(div), headers)
                if s.path.startswith("financialtransaction/"):
                    return self._respond(*self.h_entry_create(div, s.path.split("/")[1]), headers)
            # webhooks/WebhookSubscriptions POST: validation call happens outside the lock.
            return self._respond(*self.h_webhook_create(div), headers)
        except ApiError as exc:
            holder["message"] = exc.message
            return self._respond(exc.status, error_body(exc.message), {**headers, **exc.headers})

    # ------------------------------------------------------------------ OAuth

    def _oauth_error_page(self, message: str) -> flask.Response:
        page = html_page(
            "Fout bij autoriseren",
            f"<h1>Er ging iets mis</h1><p>{html.escape(message)}</p>"
            "<p>Controleer de instellingen van de app (client_id en redirect_uri).</p>",
        )
        return flask.Response(page, status=400, content_type="text/html; charset=utf-8")

    def _check_client_redirect(self, client_id: str | None, redirect_uri: str | None) -> str | None:
        if client_id != self.client_id:
            return f"Client with identifier '{client_id}' not found."
        if not redirect_uri:
            return "De redirect_uri ontbreekt."
        if self.redirect_uri is not None and redirect_uri != self.redirect_uri:
            return "De redirect_uri komt niet exact overeen met de geregistreerde redirect URI."
        return None

    def oauth_authorize_get(self) -> flask.Response:
        """The Dutch consent page with one checkbox per division (division scoping)."""
        args = flask.request.args
        problem = self._check_client_redirect(args.get("client_id"), args.get("redirect_uri"))
        if problem:
            return self._oauth_error_page(problem)
        redirect_uri = args["redirect_uri"]
        if args.get("response_type") != "code":
            return redirect_with(
                redirect_uri, {"error": "unsupported_response_type", "state": args.get("state")}
            )
        with self._lock:
            divs = [(d["Code"], d["Description"]) for d in self._divs.values()]
        hidden = "".join(
            f'<input type="hidden" name="{k}" value="{html.escape(v)}">'
            for k, v in (
                ("client_id", args["client_id"]),
                ("redirect_uri", redirect_uri),
                ("response_type", "code"),
                ("state", args.get("state", "")),
            )
        )
        boxes = "".join(
            f'<li><label><input type="checkbox" name="division" value="{code}" checked> '
            f"{html.escape(name)} ({code})</label></li>"
            for code, name in divs
        )
        body = (
            "<h1>Toegang verlenen</h1>"
            f"<p>De app <strong>{html.escape(args['client_id'])}</strong> vraagt toegang tot uw "
            "Exact Online-administraties: lezen van debiteuren en openstaande posten, schrijven "
            "van notities en boekingen.</p>"
            f'<form method="post" action="/api/oauth2/auth">{hidden}'
            f"<p>Administraties:</p><ul>{boxes}</ul>"
            '<button type="submit" name="decision" value="approve">Toestaan</button> '
            '<button type="submit" name="decision" value="deny">Weigeren</button></form>'
        )
        return flask.Response(
            html_page("Exact Online – toegang verlenen", body),
            content_type="text/html; charset=utf-8",
        )

    def oauth_authorize_post(self) -> flask.Response:
        """Approve/deny: redirect back with ``code`` (single use, 3 minutes) or access_denied."""
        form = flask.request.form
        problem = self._check_client_redirect(form.get("client_id"), form.get("redirect_uri"))
        if problem:
            return self._oauth_error_page(problem)
        redirect_uri = form["redirect_uri"]
        state = form.get("state") or None
        with self._lock:
            divs = [
                int(d) for d in form.getlist("division") if d.isdigit() and int(d) in self._divs
            ]
        if form.get("decision") != "approve" or not divs:
            return redirect_with(redirect_uri, {"error": "access_denied", "state": state})
        code = "stampNL001." + secrets.token_urlsafe(24) + "!IAAAA" + secrets.token_urlsafe(32)
        with self._lock:
            self._codes[code] = {
                "client_id": form["client_id"],
                "redirect_uri": redirect_uri,
                "divisions": divs,
                "expires_at": self.now() + CODE_TTL,
                "used": False,
            }
        return redirect_with(redirect_uri, {"code": code, "state": state})

    @staticmethod
    def _oauth_json(status: int, body: Json, reason: str | None = None) -> flask.Response:
        resp = flask.Response(json.dumps(body), status=status, content_type="application/json")
        resp.headers["Cache-Control"] = "no-store"
        if reason:
            resp.headers["Reason"] = reason
        return resp

    def _token_response(self, access: _Access, refresh: _Refresh) -> flask.Response:
        return self._oauth_json(
            200,
            {
                "access_token": access.value,
                "token_type": "bearer",
                "expires_in": str(ACCESS_TTL),
                "refresh_token": refresh.value,
            },
        )

    def oauth_token(self) -> flask.Response:
        """authorization_code and refresh_token grants with every Exact token rule."""
        form = flask.request.form
        client_id, client_secret = form.get("client_id"), form.get("client_secret")
        auth = flask.request.headers.get("Authorization", "")
        if auth[:6].lower() == "basic ":
            try:
                client_id, _, client_secret = (
                    base64.b64decode(auth[6:].strip()).decode().partition(":")
                )
            except ValueError:
                client_id = client_secret = None
        with self._lock:
            today = self._today()
            self._token_calls[today] = self._token_calls.get(today, 0) + 1
            if client_id != self.client_id or not hmac.compare_digest(
                (client_secret or "").encode(), self.client_secret.encode()
            ):
                self._token_event("invalid_client")
                return self._oauth_json(400, INVALID_CLIENT_BODY)
            if self._token_calls[today] > self.token_daily_limit:
                self._token_event("token_quota_exceeded")
                self._violation(
                    "token_quota_exceeded", f"> {self.token_daily_limit} token calls today"
                )
                return self._oauth_json(
                    400,
                    {
                        "error": "access_denied",
                        "error_description": "Rate limit exceeded: too many token requests",
                    },
                )
            grant_type = form.get("grant_type")
            now = self.now()
            if grant_type == "authorization_code":
                code = self._codes.get(form.get("code") or "")
                if code is None or code["client_id"] != client_id:
                    self._token_event("invalid_grant", grant_type=grant_type)
                    return self._oauth_json(400, INVALID_GRANT_BODY)
                if code["used"]:
                    self._token_event("code_reused")
                    self._violation("authorization_code_reused", "authorization code used twice")
                    return self._oauth_json(400, INVALID_GRANT_BODY)
                code["used"] = True
                if code["redirect_uri"] != form.get("redirect_uri") or now >= code["expires_at"]:
                    self._token_event("invalid_grant", grant_type=grant_type)
                    return self._oauth_json(400, INVALID_GRANT_BODY)
                access, refresh = self._new_pair(self._grant(client_id, code["divisions"]))
                self._token_event("issued", via="authorization_code")
                return self._token_response(access, refresh)
            if grant_type == "refresh_token":
                rt = self._refresh.get(form.get("refresh_token") or "")
                if rt is None or rt.grant.revoked:
                    self._token_event("invalid_grant", grant_type=grant_type)
                    return self._oauth_json(400, INVALID_GRANT_BODY)
                if rt.used:
                    self._token_event("old_refresh_token_used")
                    self._violation("old_refresh_token_used", "a refresh token was used twice")
                    return self._oauth_json(401, OLD_REFRESH_BODY)
                if now >= rt.issued_at + REFRESH_TTL:
                    self._token_event("expired_refresh_token")
                    return self._oauth_json(
                        400,
                        {
                            "error": "invalid_request",
                            "error_description": f"The refresh token expired at "
                            f"{_us_time(rt.issued_at + REFRESH_TTL)} and it is now "
                            f"{_us_time(now)}.",
                        },
                    )
                if now < rt.grant.access_issued_at + timedelta(seconds=EARLY_REFRESH_WINDOW):
                    self._token_event("early_refresh_rejected")
                    age = (now - rt.grant.access_issued_at).total_seconds()
                    self._violation("early_refresh", f"refresh {age:.0f} s after issue (< 570 s)")
                    return self._oauth_json(400, EARLY_REFRESH_BODY, EARLY_REFRESH_REASON)
                rt.used = True
                access, refresh = self._new_pair(rt.grant)
                self._token_event("refreshed")
                return self._token_response(access, refresh)
            self._token_event("unsupported_grant_type")
            return self._oauth_json(400, {"error": "unsupported_grant_type"})

    # ------------------------------------------------------------------ HTML view for people

    def view_index(self) -> str:
        """List divisions."""
        with self._lock:
            rows = "".join(
                f'<li><a href="/_emulator/{d["Code"]}">{html.escape(d["Description"])}</a> '
                f"(divisie <code>{d['Code']}</code>, "
                f"{sum(1 for it in d['items'].values() if _is_open(it))}"
                f" openstaande posten, {len(d['accounts'])} relaties, "
                f"{len(d['notes'])} notities)</li>"
                for d in self._divs.values()
            )
        body = (
            "<h1>Exact Online-emulator</h1>"
            f"<p>Client id: <code>{html.escape(self.client_id)}</code> · huidige divisie (Me): "
            f"<code>{self.current_division}</code></p><ul>{rows}</ul>"
        )
        return html_page("Exact Online-emulator", body)

    def view_division(self, code: int) -> str:
        """Open items of one division, oldest due date first."""
        with self._lock:
            div = self._divs.get(code)
            if div is None:
                flask.abort(404)
            today = self._today()
            items = sorted(
                (
                    it
                    for it in div["items"].values()
                    if it["LineType"] == 20 and it["Paid"] < it["Total"]
                ),
                key=lambda it: (it["DueDate"], it["InvoiceNumber"]),
            )
            rows = []
            for it in items[:1000]:
                acc = div["accounts"].get(it["Account"], {})
                late = (today - it["DueDate"]).days
                rows.append(
                    f"<tr><td>{it['InvoiceNumber']}</td>"
                    f"<td><a href='/_emulator/{code}/accounts/{it['Account']}'>"
                    f"{html.escape(acc.get('Name', '–'))}</a></td>"
                    f"<td>{it['DueDate'].isoformat()}</td><td>{late if late > 0 else ''}</td>"
                    f"<td style='text-align:right'>€ {cents(it['Total'] - it['Paid'])}</td></tr>"
                )
        more = f"<p>… en nog {len(items) - 1000} posten</p>" if len(items) > 1000 else ""
        body = (
            f"<p><a href='/_emulator/'>← divisies</a></p><h1>{html.escape(div['Description'])}</h1>"
            f"<p>{len(items)} openstaande posten</p><table><tr><th>Factuur</th><th>Relatie</th>"
            "<th>Vervaldatum</th><th>Dagen te laat</th><th>Openstaand</th></tr>"
            f"{''.join(rows)}</table>{more}"
        )
        return html_page(div["Description"], body)

    def view_account(self, code: int, account_id: str) -> str:
        """One account: open items (with a pay button), notes we wrote, payments."""
        with self._lock:
            div = self._divs.get(code)
            if div is None or account_id not in div["accounts"]:
                flask.abort(404)
            acc = div["accounts"][account_id]
            items = [it for it in div["items"].values() if it["Account"] == account_id]
            notes = [n for n in div["notes"].values() if n["Account"] == account_id]
            pays = [
                (e, ln)
                for e in div["entries"].values()
                for ln in e["lines"]
                if ln["Account"] == account_id
            ]
        e = html.escape
        item_rows = "".join(
            f"<tr><td>{it['InvoiceNumber']}</td><td>{it['DueDate'].isoformat()}</td>"
            f"<td>€ {cents(it['Total'])}</td><td>€ {cents(it['Total'] - it['Paid'])}</td><td>"
            + (
                f"<form method='post' action='/_emulator/{code}/items/{it['ID']}/pay'>"
                "<button type='submit'>Markeer als betaald</button></form>"
                if it["Paid"] < it["Total"]
                else "betaald"
            )
            + "</td></tr>"
            for it in sorted(items, key=lambda it: it["DueDate"])
        )
        note_rows = (
            "".join(
                f"<li>{n['Created'].isoformat()}: <strong>{e(n['Subject'])}</strong>"
                f"<br>{e(n['Notes'] or '')}</li>"
                for n in notes
            )
            or "<li>geen</li>"
        )
        pay_rows = (
            "".join(
                f"<li>{ln['Date'].isoformat()}: € {ln['AmountFC']} ({e(ent['kind'])}, "
                f"OurRef {ln['OurRef']}, {e(ent['source'])})</li>"
                for ent, ln in pays
            )
            or "<li>geen</li>"
        )
        body = (
            f"<p><a href='/_emulator/{code}'>← openstaande posten</a></p>"
            f"<h1>{e(acc['Name'])}</h1><p>Code {e(acc['Code'].strip())} · {e(acc['Email'] or '')}"
            f" · {e(acc['Phone'] or '')}<br>{e(acc['AddressLine1'] or '')}, "
            f"{e(acc['Postcode'] or '')} {e(acc['City'] or '')}<br>"
            f"KvK {e(acc['ChamberOfCommerce'] or '–')} · btw {e(acc['VATNumber'] or '–')}</p>"
            "<h2>Posten</h2><table><tr><th>Factuur</th><th>Vervaldatum</th><th>Bedrag</th>"
            f"<th>Openstaand</th><th></th></tr>{item_rows}</table>"
            f"<h2>Notities (CommunicationNotes)</h2><ul>{note_rows}</ul>"
            f"<h2>Betalingen</h2><ul>{pay_rows}</ul>"
        )
        return html_page(acc["Name"], body)

    def view_pay(self, code: int, item_id: str) -> flask.Response:
        """Demo button: the debtor paid in full (bank feed), back to the account page."""
        try:
            row = self.pay_item(code, item_id)
        except KeyError:
            flask.abort(404)
        return flask.redirect(f"/_emulator/{code}/accounts/{row['Account']}", code=303)

    # ------------------------------------------------------------------ Flask app

    def _build_app(self) -> flask.Flask:
        app = flask.Flask(f"exact_emulator_{id(self)}")

        @app.route("/api/v1/<path:rest>", methods=["GET", "POST", "PUT", "PATCH", "DELETE"])
        def api(rest: str) -> flask.Response:
            return self._api(rest)

        app.add_url_rule("/api/oauth2/auth", "auth_get", self.oauth_authorize_get, methods=["GET"])
        app.add_url_rule(
            "/api/oauth2/auth", "auth_post", self.oauth_authorize_post, methods=["POST"]
        )
        app.add_url_rule("/api/oauth2/token", "token", self.oauth_token, methods=["POST"])
        app.add_url_rule("/_emulator/", "view_index", self.view_index)
        app.add_url_rule("/_emulator/<int:code>", "view_division", self.view_division)
        app.add_url_rule(
            "/_emulator/<int:code>/accounts/<account_id>", "view_account", self.view_account
        )
        app.add_url_rule(
            "/_emulator/<int:code>/items/<item_id>/pay", "view_pay", self.view_pay, methods=["POST"]
        )

        @app.after_request
        def after(response: flask.Response) -> flask.Response:
            if flask.request.path.startswith("/api/"):
                hook = self.exchange_hook
                if hook is not None:
                    try:
                        hook(flask.request, response)
                    except Exception as exc:  # a broken checker must never break the API
                        with self._lock:
                            self.hook_errors.append(f"{type(exc).__name__}: {exc}")
            return response

        return app


def _us_time(value: datetime) -> str:
    """``10/11/2022 9:18:20 PM``: the format of Exact's refresh-expiry message (WS#22)."""
    v = value.astimezone(UTC)
    hour = v.hour % 12 or 12
    half = "AM" if v.hour < 12 else "PM"
    return f"{v.month}/{v.day}/{v.year} {hour}:{v.minute:02d}:{v.second:02d} {half}"


def _is_open(it: Row) -> bool:
    """An open receivable (not a payable, not settled)."""
    return it["LineType"] == 20 and it["Paid"] < it["Total"]


def run(port: int, seed: int = 1, token: str | None = None, host: str = "127.0.0.1") -> None:
    """CLI entry: serve a seeded emulator until Ctrl-C (``connector emulator exact-online``)."""
    emulator = ExactEmulator(seed=seed)
    if token:
        emulator.register_token(token)
    server = emulator.serve(host=host, port=port)
    lines = [
        f"Exact Online-emulator draait op {server.url}",
        f"  API:       {server.url}/api/v1/{{divisie}}/...  (en {server.url}/api/v1/current/Me)",
        f"  OAuth:     {server.url}/api/oauth2/auth  (client_id={emulator.client_id}, "
        f"client_secret={emulator.client_secret})",
        f"  Webhook-secret: {emulator.webhook_secret}",
        f"  Overzicht: {server.url}/_emulator/",
        f"  Divisies:  {', '.join(str(c) for c in emulator.division_codes())}",
    ]
    if token:
        lines.append("  Vaste access token geregistreerd (alle divisies, verloopt niet)")
    print("\n".join(lines), flush=True)
    try:
        while True:
            time.sleep(3600)
    except KeyboardInterrupt:
        pass
    finally:
        server.shutdown()


__all__ = ["ApiError", "EmulatorServer", "ExactEmulator", "dumps", "error_body", "run"]
