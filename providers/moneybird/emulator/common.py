"""Moneybird's constants, error bodies and small helpers shared by the emulator's modules."""

from __future__ import annotations

from typing import Any

Json = Any
Result = tuple[int, Json, dict[str, str]]

STATES = (
    "draft",
    "open",
    "scheduled",
    "pending_payment",
    "late",
    "reminded",
    "paid",
    "uncollectible",
)
NAMED_PERIODS = tuple(
    f"{rel}_{unit}"
    for unit in ("week", "month", "quarter", "year")
    for rel in ("this", "prev", "next")
)
CONTACT_SCOPES = ("estimates", "sales_invoices", "documents", "bank", "settings")
ALL_SCOPES = ("sales_invoices", "documents", "estimates", "bank", "time_entries", "settings")
PAYMENT_ACTIONS = {
    "private_payment": "financial_account_id",
    "payment_without_proof": None,
    "cash_payment": "financial_account_id",
    "rounding_error": None,
    "bank_transfer": "financial_mutation_id",
    "balance_settlement": "ledger_account_id",
    "invoices_settlement": "invoice_id",
}
OOB_REDIRECT = "urn:ietf:wg:oauth:2.0:oob"
# Doorkeeper's standard error descriptions (Moneybird's OAuth server is Doorkeeper).
OAUTH_ERRORS = {
    "invalid_grant": "The provided authorization grant is invalid, expired, revoked, does not "
    "match the redirection URI used in the authorization request, or was issued to another client.",
    "invalid_client": "Client authentication failed due to unknown client, no client "
    "authentication included, or unsupported authentication method.",
    "invalid_request": "The request is missing a required parameter, includes an unsupported "
    "parameter value, or is otherwise malformed.",
    "unsupported_grant_type": "The authorization grant type is not supported by the authorization "
    "server.",
    "access_denied": "The resource owner or authorization server denied the request.",
    "unsupported_response_type": "The authorization server does not support this response type.",
}
# Observed on the real API (picqer/moneybird-php-client#188); the spec has no example for it.
INVALID_TOKEN_BODY = {"error": "token is invalid", "symbolic": {"request": "invalid_grant"}}


class TextBody(str):
    """A handler result sent as text/plain instead of JSON (the download_pdf redirect)."""



class ApiError(Exception):
    """Raised inside handlers to answer with a Moneybird-shaped error body."""

    def __init__(self, status: int, body: Json) -> None:
        super().__init__(status)
        self.status = status
        self.body = body


def not_found(key: str = "id") -> ApiError:
    return ApiError(404, {"error": "record not found", "symbolic": {key: "not_found"}})


def unprocessable(field_name: str, message: str, code: str) -> ApiError:
    return ApiError(
        422, {"error": {field_name: [message]}, "details": {field_name: [{"error": code}]}}
    )


def filter_error(message: str) -> ApiError:
    return ApiError(400, {"error": message, "symbolic": {"filter": "invalid"}})



STATE_NL = {
    "draft": "concept",
    "open": "openstaand",
    "scheduled": "ingepland",
    "pending_payment": "betaling in behandeling",
    "late": "te laat",
    "reminded": "herinnerd",
    "paid": "betaald",
    "uncollectible": "oninbaar",
}


def contact_name(c: dict[str, Any]) -> str:
    return (
        c.get("company_name")
        or " ".join(x for x in (c.get("firstname"), c.get("lastname")) if x)
        or "–"
    )
