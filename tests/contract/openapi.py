"""Contract check of HTTP exchanges against Moneybird's official OpenAPI document.

``validate_exchange(request, response)`` validates a werkzeug/flask request (path, method,
parameters, body, security) and its response (status, headers, body schema) with openapi-core and
returns readable error strings (empty list = conforming). The spec copy next to this file is
loaded once per process. Schema validation runs behind fast_schema.py's exact pre-check (a body
it does not accept is validated, and its errors reported, by openapi-core as before).

Normalisations applied to the spec (none of them loosens a schema, each is explained below):
1. ``servers`` -> ``/api/v2`` so that loopback hosts match.
2. Request bodies declared as ``application/*`` are re-keyed to ``application/json`` because
   openapi-core does not deserialize the wildcard media type.
3. Requests are matched with a trailing ``.json`` removed from the path: every path ends in
   ``{id}{format}`` and openapi-core's greedy template regex would otherwise put ``123.json`` into
   ``id`` (failing ``^\\d+$``). Per the spec's ``format`` parameter (``^(.(json|xml))?$``, may be
   empty) both spellings address the same operation.
4. Parameter schemas whose ``type`` is a list (``identifier`` = ``["string", "integer"]``,
   ``per_page`` = ``["integer", "string"]``, ...) get the first non-null type inlined:
   openapi-core 0.23's style deserializer crashes on list types ("Expected a string value").
   ``pattern``/``minimum``/``maximum`` are kept, so e.g. ``per_page=101`` still fails.

Narrow allow-list for places where the spec itself is wrong or incomplete (see SPEC_FIXES and
``_status_fallbacks``), each entry names what it covers and why.
"""

from __future__ import annotations

import copy
import json
import threading
from pathlib import Path
from typing import Any

from openapi_core import Config, OpenAPI
from openapi_core.contrib.werkzeug import WerkzeugOpenAPIRequest, WerkzeugOpenAPIResponse
from openapi_core.validation.schemas import oas31_schema_validators_factory

try:
    from tests.contract.fast_schema import FastSchemaValidatorsFactory
except ImportError:  # other jsonschema/openapi-core internals: openapi-core alone (slower)
    FastSchemaValidatorsFactory = None  # type: ignore[assignment,misc]

SPEC_PATH = Path(__file__).with_name("moneybird-openapi.json")
_lock = threading.Lock()
_cache: dict[str, Any] = {}

# Schema pointer -> replacement, with the reason. Only for verified contradictions in the spec.
SPEC_FIXES: list[tuple[tuple[str, ...], dict[str, Any], str]] = [
    (
        ("components", "schemas", "payment_response", "properties", "price"),
        {"type": "string", "pattern": r"^-?\d+\.\d+$"},
        "payment_response.price is typed `number`, but every example in the spec (POST "
        '/sales_invoices/{id}/payments 201: "price": "363.0") and the real API return a '
        "decimal string like all other money fields. Affects every path embedding payments.",
    ),
    (
        ("components", "schemas", "payment_response", "properties", "price_base"),
        {"type": "string", "pattern": r"^-?\d+\.\d+$"},
        'Same contradiction as payment_response.price (example: "price_base": "363.0").',
    ),
]


def _status_fallbacks(path: str, op: dict[str, Any]) -> dict[str, str]:
    """Undocumented-but-real statuses, validated against the spec's own shared components.

    * 401 (`401_unauthorized`, symbolic_error): the spec lists it on only 25 operations, yet
      every bearer-protected operation answers 401 for a missing/invalid token or a missing scope
      (the spec's own examples "No access to sales_invoices" show the body).
    * 429 (`429_too_many_requests`): the rate limit applies to every request (reference §3.1),
      the spec declares it on only 21 operations.
    * 404 (`404_not_found`) on administration-scoped paths: an unknown or not-granted
      administration id is answered with 404 regardless of the operation.
    """
    out = {"401": "401_unauthorized", "429": "429_too_many_requests"}
    if path.startswith("/{administration_id}/"):
        out["404"] = "404_not_found"
    return {k: v for k, v in out.items() if k not in op.get("responses", {})}


def _fix_param_schema(spec: dict[str, Any], param: dict[str, Any]) -> None:
    schema = param.get("schema")
    if not isinstance(schema, dict):
        return
    resolved = schema
    seen = 0
    while "$ref" in resolved and seen < 5:
        node: Any = spec
        for part in resolved["$ref"].lstrip("#/").split("/"):
            node = node[part]
        resolved = node
        seen += 1
    if isinstance(resolved.get("type"), list):
        fixed = copy.deepcopy(resolved)
        fixed["type"] = next(t for t in fixed["type"] if t != "null")
        param["schema"] = fixed


def _normalised_spec() -> dict[str, Any]:
    spec = json.loads(SPEC_PATH.read_text(encoding="utf-8"))
    spec["servers"] = [{"url": "/api/v2"}]
    for pointer, replacement, _reason in SPEC_FIXES:
        node = spec
        for part in pointer[:-1]:
            node = node[part]
        node[pointer[-1]] = {**node[pointer[-1]], **replacement}
    for param in spec.get("components", {}).get("parameters", {}).values():
        _fix_param_schema(spec, param)
    for path, item in spec["paths"].items():
        for param in item.get("parameters", []):
            if "$ref" not in param:
                _fix_param_schema(spec, param)
        for method, op in item.items():
            if method == "parameters" or not isinstance(op, dict):
                continue
            for param in op.get("parameters", []):
                if "$ref" not in param:
                    _fix_param_schema(spec, param)
            content = op.get("requestBody", {}).get("content", {})
            if "application/*" in content:
                content["application/json"] = content.pop("application/*")
            for status, ref in _status_fallbacks(path, op).items():
                op.setdefault("responses", {})[status] = {"$ref": f"#/components/responses/{ref}"}
    return spec


def build_openapi(*, fast: bool = True) -> OpenAPI:
    """The normalised spec; ``fast`` puts the exact pre-check of fast_schema.py in front of
    openapi-core's schema validation (``fast=False``: openapi-core alone, the reference)."""
    config = Config(spec_validator_cls=None)
    if fast and FastSchemaValidatorsFactory is not None:
        config = Config(spec_validator_cls=None, schema_validators_factory=(
            FastSchemaValidatorsFactory(oas31_schema_validators_factory)))
    return OpenAPI.from_dict(_normalised_spec(), config=config)


def openapi() -> OpenAPI:
    """The loaded, normalised spec with the pre-check (cached for the process)."""
    with _lock:
        if "openapi" not in _cache:
            _cache["openapi"] = build_openapi()
        return _cache["openapi"]


def _describe(exc: BaseException) -> str:
    parts = [f"{type(exc).__name__}: {exc}"]
    seen = {id(exc)}
    cause = exc.__cause__ or exc.__context__
    while cause is not None and id(cause) not in seen:
        seen.add(id(cause))
        parts.append(f"{type(cause).__name__}: {cause}")
        for sub in getattr(cause, "schema_errors", None) or []:
            parts.append(f"  - {getattr(sub, 'message', sub)} at {list(getattr(sub, 'path', []))}")
        cause = cause.__cause__ or cause.__context__
    for sub in getattr(exc, "schema_errors", None) or []:
        parts.append(f"  - {getattr(sub, 'message', sub)} at {list(getattr(sub, 'path', []))}")
    return " <- ".join(parts)


class _FormatlessRequest(WerkzeugOpenAPIRequest):
    """Matches the operation on the path without its ``.json`` suffix (see normalisation 3)."""

    @property
    def path(self) -> str:
        return self.get_path(self.request.path).removesuffix(".json")


def validate_exchange(request: Any, response: Any, api: OpenAPI | None = None) -> list[str]:
    """Validate one request/response pair; returns human-readable errors (empty = OK).
    ``api`` defaults to the cached, pre-checked spec (another one: for comparing)."""
    spec = api or openapi()
    label = f"{request.method} {request.path}"
    if request.query_string:
        label += "?" + request.query_string.decode(errors="replace")
    label += f" -> {response.status_code}"
    errors: list[str] = []
    oa_request = _FormatlessRequest(request)
    try:
        spec.validate_request(oa_request)
    except Exception as exc:
        errors.append(f"{label}: request: {_describe(exc)}")
    status = response.status_code
    # Allow-list: 5xx are outside the contract (the spec documents none; injected faults use them).
    if status >= 500:
        return errors
    # Allow-list: an nginx front end may answer 429 with an HTML page (reference §3.1, picqer
    # moneybird-php-client#101). Only the headers are checked then.
    if status == 429 and response.mimetype == "text/html":
        for name in ("RateLimit-Limit", "RateLimit-Remaining", "RateLimit-Reset", "Retry-After"):
            if not str(response.headers.get(name, "")).isdigit():
                errors.append(f"{label}: response: header {name} missing or not an integer")
        return errors
    try:
        spec.validate_response(oa_request, WerkzeugOpenAPIResponse(response))
    except Exception as exc:
        errors.append(f"{label}: response: {_describe(exc)}")
    return errors


__all__ = ["SPEC_FIXES", "build_openapi", "openapi", "validate_exchange"]
