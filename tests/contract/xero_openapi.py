"""Contract check of HTTP exchanges against Xero's official OpenAPI documents (v16.1.0, MIT,
copied verbatim into ``tests/contract/xero/`` with their licence).

``validate_exchange(request, response)`` validates a werkzeug/flask request and its response
against ``xero_accounting.yaml`` (``/api.xro/2.0/…``) or ``xero-identity.yaml``
(``/connections``) and returns readable errors (empty list = conforming).
``validate_webhook(body)`` checks a webhook payload against ``xero-webhooks.yaml``.

Normalisations (none loosens a schema):
1. ``servers`` -> ``/api.xro/2.0`` (accounting) and ``/`` (identity), so loopback hosts match.
2. Identity paths are spelt ``/Connections`` in the document and ``/connections`` on the wire
   (``x-basepath`` https://api.xero.com; every SDK and Xero's docs use lower case).
3. ``Connection.createdDateUtc``/``updatedDateUtc`` are typed ``date-time`` but the document's
   own example (and Xero) writes them without a zone (``2019-12-07T18:46:19.5165400``), which
   RFC 3339 refuses: they are checked against that shape instead (SPEC_FIXES). The same holds
   for the webhooks' ``eventDateUtc`` (the document's example: ``2025-12-02T00:44:09.923``).
4. ``GET /Invoices/{InvoiceID}`` with ``Accept: application/pdf`` is matched to the document's
   pseudo-path ``/Invoices/{InvoiceID}/pdf`` (its ``x-path`` is ``/Invoices/{InvoiceID}``).

Allow-list (statuses the documents leave out; each checked for what is known of it):
* 401, 403 (token or organisation refused), 404, 409 and 429 are not declared on any operation
  (reference next-ledgers §1.8, §1.9): only their headers are checked (429: Retry-After an
  integer, X-Rate-Limit-Problem present).
* 400 where an operation declares none (reads): Xero answers bad parameters of any call so.
* 5xx are outside the contract (injected faults).
"""

from __future__ import annotations

import json
import threading
from pathlib import Path
from typing import Any

import jsonschema
import yaml
from openapi_core import Config, OpenAPI
from openapi_core.contrib.werkzeug import WerkzeugOpenAPIRequest, WerkzeugOpenAPIResponse

HERE = Path(__file__).with_name("xero")
ACCOUNTING = HERE / "xero_accounting.yaml"
IDENTITY = HERE / "xero-identity.yaml"
WEBHOOKS = HERE / "xero-webhooks.yaml"
API_PREFIX = "/api.xro/2.0"
UNDECLARED = {401, 403, 404, 409, 429}
_lock = threading.Lock()
_ZONELESS = {"type": "string", "pattern": r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,7})?$"}
SPEC_FIXES = {"createdDateUtc": _ZONELESS, "updatedDateUtc": _ZONELESS}
_cache: dict[str, Any] = {}

try:
    from yaml import CSafeLoader as _Loader
except ImportError:  # pragma: no cover - pure-Python PyYAML
    from yaml import SafeLoader as _Loader  # type: ignore[assignment]


def _load(path: Path) -> dict[str, Any]:
    return yaml.load(path.read_text(encoding="utf-8"), Loader=_Loader)


def _spec(name: str) -> OpenAPI:
    with _lock:
        if name not in _cache:
            if name == "accounting":
                spec = _load(ACCOUNTING)
                spec["servers"] = [{"url": API_PREFIX}]
            else:
                spec = _load(IDENTITY)
                spec["servers"] = [{"url": "/"}]
                spec["paths"] = {p.replace("/Connections", "/connections"): item
                                 for p, item in spec["paths"].items()}
                properties = spec["components"]["schemas"]["Connection"]["properties"]
                for name, schema in SPEC_FIXES.items():
                    properties[name] = {**schema, "description": "zone-less UTC (see above)"}
            _cache[name] = OpenAPI.from_dict(spec, config=Config(spec_validator_cls=None))
        return _cache[name]


def webhook_schema() -> dict[str, Any]:
    with _lock:
        if "webhooks" not in _cache:
            spec = _load(WEBHOOKS)
            # CreditNoteWebhookEvent refers to this one's event ($ref), so one fix serves both.
            event = spec["components"]["schemas"]["WebhookEvent"]["properties"]["events"]
            event["items"]["properties"]["eventDateUtc"] = {
                **_ZONELESS, "description": "zone-less UTC (see above)"}
            _cache["webhooks"] = spec
        return _cache["webhooks"]


class _PdfAwareRequest(WerkzeugOpenAPIRequest):
    """Matches GET /Invoices/{id} asking for a PDF to the pseudo-path (normalisation 4)."""

    @property
    def path(self) -> str:
        path = self.get_path(self.request.path)
        if "application/pdf" in self.request.headers.get("Accept", "") and \
                path.count("/") == 4 and "/Invoices/" in path:
            return path + "/pdf"
        return path


def _describe(exc: BaseException) -> str:
    parts = [f"{type(exc).__name__}: {exc}"]
    cause = exc.__cause__ or exc.__context__
    seen = {id(exc)}
    while cause is not None and id(cause) not in seen:
        seen.add(id(cause))
        parts.append(f"{type(cause).__name__}: {cause}")
        for sub in getattr(cause, "schema_errors", None) or []:
            parts.append(f"  - {getattr(sub, 'message', sub)} at {list(getattr(sub, 'path', []))}")
        cause = cause.__cause__ or cause.__context__
    for sub in getattr(exc, "schema_errors", None) or []:
        parts.append(f"  - {getattr(sub, 'message', sub)} at {list(getattr(sub, 'path', []))}")
    return " <- ".join(parts)


def validate_exchange(request: Any, response: Any) -> list[str]:
    """Validate one request/response pair; returns human-readable errors (empty = OK)."""
    spec = _spec("accounting" if request.path.startswith(API_PREFIX) else "identity")
    label = f"{request.method} {request.path}"
    if request.query_string:
        label += "?" + request.query_string.decode(errors="replace")
    label += f" -> {response.status_code}"
    errors: list[str] = []
    oa_request = _PdfAwareRequest(request)
    try:
        spec.validate_request(oa_request)
    except Exception as exc:
        errors.append(f"{label}: request: {_describe(exc)}")
    status = response.status_code
    if status >= 500:
        return errors
    if status in UNDECLARED:
        if status == 429:
            if not str(response.headers.get("Retry-After", "")).isdigit():
                errors.append(f"{label}: response: Retry-After missing or not an integer")
            if not response.headers.get("X-Rate-Limit-Problem"):
                errors.append(f"{label}: response: X-Rate-Limit-Problem missing")
        return errors
    try:
        spec.validate_response(oa_request, WerkzeugOpenAPIResponse(response))
    except Exception as exc:
        # Allow-list: a 400 on a read, whose operation declares none (Xero answers bad
        # parameters of any call with 400; the documents declare it on writes only).
        if not (status == 400 and type(exc).__name__ == "ResponseNotFound"):
            errors.append(f"{label}: response: {_describe(exc)}")
    return errors


def validate_webhook(body: bytes) -> list[str]:
    """A webhook payload against the document's WebhookEvent (or CreditNoteWebhookEvent)."""
    spec = webhook_schema()
    payload = json.loads(body)
    categories = {e.get("eventCategory") for e in payload.get("events", [])}
    name = "CreditNoteWebhookEvent" if categories == {"CREDITNOTE"} else "WebhookEvent"
    schema = {**spec["components"]["schemas"][name], "components": spec["components"]}
    validator = jsonschema.Draft202012Validator(
        schema, format_checker=jsonschema.Draft202012Validator.FORMAT_CHECKER)
    return [f"webhook: {e.message} at {list(e.path)}" for e in validator.iter_errors(payload)]


__all__ = ["validate_exchange", "validate_webhook"]
