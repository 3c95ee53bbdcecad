"""Our own small schema of the SnelStart B2B API v2: only the operations and fields we use.

Written by us, in our structure, from SnelStart's API description (``shared/specs/snelstart/
snelstart-b2b-api-v2.yaml``, which is not ours to copy); each part names where its facts come
from. Types, lengths and enum values are the spec's; ``required`` is the spec's plus what our
client cannot work without (marked "ours"). The token endpoint is not in the spec: its shape is
the one every known client uses (``shared/reference/next-ledgers.md`` §3.2).

``validate_exchange(request, response)`` checks one werkzeug request and its response and
returns readable problems (an empty list: it conforms).
"""

from __future__ import annotations

import base64
import binascii
import json
import re
from typing import Any

from jsonschema import Draft202012Validator

# -- building blocks ------------------------------------------------------------------------

# Every "…IdentifierModel" and "id" in the spec: string, format uuid.
UUID = {"type": "string",
        "pattern": r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$"}
# format date-time (modifiedOn, factuurDatum, vervalDatum, datum); .NET may write 7 digits and
# may leave out the offset (UNCERTAIN which), so both.
DATE_TIME = {"type": "string",
             "pattern": r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,7})?(Z|[+-]\d{2}:\d{2})?$"}
MONEY = {"type": "number"}  # type number, format decimal
TEXT = {"type": ["string", "null"]}
IDENTIFIER = {"type": "object", "required": ["id"],  # identifier models: {id, uri}
              "properties": {"id": UUID, "uri": {"type": "string"}}}
MAIL_SETTINGS = {"type": ["object", "null"], "properties": {  # EmailVersturenModel
    "shouldSend": {"type": "boolean"}, "email": TEXT, "ccEmail": TEXT}}
ADDRESS = {"type": ["object", "null"], "properties": {  # AdresModel
    "contactpersoon": TEXT, "straat": TEXT, "postcode": TEXT, "plaats": TEXT,
    "land": {"oneOf": [IDENTIFIER, {"type": "null"}]}}}

# -- answers --------------------------------------------------------------------------------

# GET /verkoopfacturen(/{id}): VerkoopfactuurModel. Spec requires factuurnummer (≤ 25).
SALES_INVOICE = {
    "type": "object",
    "required": ["factuurnummer", "id", "relatie", "verkoopBoeking", "modifiedOn",
                 "openstaandSaldo", "factuurBedrag"],  # all but factuurnummer: ours
    "properties": {
        "id": UUID, "uri": {"type": "string"},
        "factuurnummer": {"type": "string", "maxLength": 25},
        "factuurDatum": DATE_TIME, "vervalDatum": DATE_TIME, "modifiedOn": DATE_TIME,
        "factuurBedrag": MONEY, "openstaandSaldo": MONEY,
        "relatie": IDENTIFIER, "verkoopBoeking": IDENTIFIER,
        "verkoopOrders": {"type": "array", "items": IDENTIFIER},
    },
}
# GET /relaties(/{id}): RelatieModel (no required fields in the spec; id ours).
RELATION = {
    "type": "object",
    "required": ["id"],
    "properties": {
        "id": UUID, "uri": {"type": "string"}, "modifiedOn": DATE_TIME,
        "relatiesoort": {"type": "array", "items": {"enum": ["Klant", "Leverancier"]}},
        "relatiecode": {"type": "integer"},
        "naam": {"type": ["string", "null"], "maxLength": 50},
        "vestigingsAdres": ADDRESS, "correspondentieAdres": ADDRESS,
        "telefoon": TEXT, "mobieleTelefoon": TEXT, "email": TEXT, "btwNummer": TEXT,
        "kvkNummer": {"type": ["string", "null"], "maxLength": 12},
        "krediettermijn": {"type": ["integer", "null"]},
        "nonactief": {"type": "boolean"}, "memo": TEXT,
        "aanmaningsoort": {"enum": ["Nee", "Onderneming", "Consument", None]},
        "incassoSoort": {"enum": ["Geen", "Core", "B2B", None]},
        "aanmaningEmailVersturen": MAIL_SETTINGS, "factuurEmailVersturen": MAIL_SETTINGS,
    },
}
# GET /companyInfo: CompanyInfoModel (administratieIdentifier uuid; names strings).
COMPANY_INFO = {"type": "object", "required": ["administratieIdentifier"],  # ours
                "properties": {"administratieIdentifier": UUID, "administratieNaam": TEXT,
                               "bedrijfsnaam": TEXT}}
# GET /dagboeken: DagboekModel, soort an enum.
JOURNAL = {"type": "object", "required": ["id", "soort"],  # ours
           "properties": {"id": UUID, "uri": {"type": "string"}, "omschrijving": TEXT,
                          "nummer": {"type": "integer"}, "nonactief": {"type": "boolean"},
                          "soort": {"enum": ["Geen", "Kas", "Bank", "Verkoop", "Inkoop",
                                             "Memoriaal", "Balans"]}}}
# GET /documenten/Verkoopboekingen/{pid}: VerkoopBoekingBijlageReferenceModel items.
ATTACHMENT = {"type": "object", "required": ["id", "fileName"],  # ours
              "properties": {"id": UUID, "uri": {"type": "string"},
                             "verkoopBoekingId": UUID, "fileName": {"type": "string"},
                             "readOnly": {"type": "boolean"}}}
# POST /documenten/{documenttype} 200: DocumentIdentifierModel.
DOCUMENT_ID = {**IDENTIFIER}
# BankboekingModel: required datum, bedragUitgegeven, bedragOntvangen, dagboek (spec).
SALES_LINE = {"type": "object", "required": ["boekingId"],  # ours (the spec requires none)
              "properties": {"boekingId": IDENTIFIER, "omschrijving": TEXT,
                             "debet": MONEY, "credit": MONEY}}
BANK_BOOKING = {
    "type": "object",
    "required": ["datum", "bedragUitgegeven", "bedragOntvangen", "dagboek"],
    "properties": {
        "id": UUID, "datum": DATE_TIME, "modifiedOn": DATE_TIME,
        "omschrijving": {"type": ["string", "null"], "maxLength": 250},
        "bedragOntvangen": MONEY, "bedragUitgegeven": MONEY, "dagboek": IDENTIFIER,
        "verkoopboekingBoekingsRegels": {"type": "array", "items": SALES_LINE},
    },
}
# Not in the spec: the token answer every client reads.
TOKEN = {"type": "object", "required": ["access_token", "expires_in"],
         "properties": {"access_token": {"type": "string", "minLength": 1},
                        "token_type": {"type": "string"},
                        "expires_in": {"type": "integer", "minimum": 1}}}
# Errors: APIM's {statusCode, message} (401, 429), the API's list of messages (400, 404),
# the spec's empty object (403). Their exact bodies are UNCERTAIN; our client reads only the
# status, Retry-After and, on a 401, whether the message names the subscription key.
APIM_ERROR = {"type": "object", "required": ["statusCode", "message"],
              "properties": {"statusCode": {"type": "integer"}, "message": {"type": "string"}}}
TOKEN_ERROR = {"type": "object", "required": ["error"], "properties": {"error": {"type": "string"}}}


def array_of(item: dict[str, Any]) -> dict[str, Any]:
    """The list operations answer a bare JSON array (``…ModelArray`` in the spec)."""
    return {"type": "array", "items": item}


# -- requests -------------------------------------------------------------------------------

# POST /documenten/{documenttype}: DocumentContentModel (content format byte = base64).
DOCUMENT_CONTENT = {
    "type": "object", "required": ["content", "parentIdentifier", "fileName"],  # ours
    "additionalProperties": False,
    "properties": {"content": {"type": "string", "minLength": 4},
                   "parentIdentifier": UUID, "fileName": {"type": "string", "minLength": 5},
                   "readOnly": {"type": "boolean"}},
}
NEW_BANK_BOOKING = {**BANK_BOOKING, "additionalProperties": False,
                    "properties": {k: v for k, v in BANK_BOOKING["properties"].items()
                                   if k not in ("id", "modifiedOn")}}
# $skip ≥ 0, 1 ≤ $top ≤ 500, $filter a string (every OData list operation we call).
PAGING = {"type": "object", "additionalProperties": False,
          "properties": {"$skip": {"type": "integer", "minimum": 0},
                         "$top": {"type": "integer", "minimum": 1, "maximum": 500},
                         "$filter": {"type": "string"}}}
NO_QUERY = {"type": "object", "additionalProperties": False}

# (method, path under /v2, query schema, request body schema, answer schema, answer status)
OPERATIONS: list[tuple[str, str, dict[str, Any], dict[str, Any] | None, dict[str, Any], int]] = [
    ("GET", r"/companyInfo", NO_QUERY, None, COMPANY_INFO, 200),
    ("GET", r"/verkoopfacturen", PAGING, None, array_of(SALES_INVOICE), 200),
    ("GET", r"/verkoopfacturen/[0-9a-fA-F-]{36}", NO_QUERY, None, SALES_INVOICE, 200),
    ("GET", r"/relaties", PAGING, None, array_of(RELATION), 200),
    ("GET", r"/relaties/[0-9a-fA-F-]{36}", NO_QUERY, None, RELATION, 200),
    ("GET", r"/dagboeken", NO_QUERY, None, array_of(JOURNAL), 200),
    ("GET", r"/documenten/Verkoopboekingen/[0-9a-fA-F-]{36}", NO_QUERY, None,
     array_of(ATTACHMENT), 200),
    ("POST", r"/documenten/Verkoopboekingen", NO_QUERY, DOCUMENT_CONTENT, DOCUMENT_ID, 200),
    ("GET", r"/bankboekingen", PAGING, None, array_of(BANK_BOOKING), 200),
    ("POST", r"/bankboekingen", NO_QUERY, NEW_BANK_BOOKING, BANK_BOOKING, 201),
]
ERRORS = {400: array_of({"type": "object", "required": ["message"]}), 401: APIM_ERROR,
          403: {"type": "object"}, 404: array_of({"type": "object", "required": ["message"]}),
          429: APIM_ERROR}
TOKEN_REQUEST = {"type": "object", "required": ["grant_type", "clientkey"],
                 "additionalProperties": False,
                 "properties": {"grant_type": {"const": "clientkey"},
                                "clientkey": {"type": "string", "minLength": 1,
                                              "pattern": r"^\S+$"}}}


def _problems(schema: dict[str, Any], value: Any, where: str) -> list[str]:
    validator = Draft202012Validator(schema)
    return [f"{where}: {'/'.join(map(str, e.absolute_path)) or '(top)'}: {e.message[:200]}"
            for e in validator.iter_errors(value)]


def _query(request: Any) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for name, value in request.args.items():
        out[name] = int(value) if name in ("$top", "$skip") and value.lstrip("-").isdigit() \
            else value
    return out


def validate_exchange(request: Any, response: Any) -> list[str]:
    """Problems with one exchange (request and answer) against our schema."""
    path, method = request.path, request.method
    label = f"{method} {path}"
    answer = response.get_data()
    body = json.loads(answer) if answer else None
    if path == "/b2b/token":
        problems = _problems(TOKEN_REQUEST, request.form.to_dict(), f"{label} request")
        schema = TOKEN if response.status_code == 200 else TOKEN_ERROR
        return problems + _problems(schema, body, f"{label} answer")
    if not path.startswith("/v2/"):
        return [f"{label}: not an API path"]
    problems = []
    if not request.headers.get("Ocp-Apim-Subscription-Key"):
        problems.append(f"{label}: no Ocp-Apim-Subscription-Key header")
    if not request.headers.get("Authorization", "").startswith("Bearer "):
        problems.append(f"{label}: no bearer token")
    rest = path.removeprefix("/v2")
    operation = next((op for op in OPERATIONS
                      if op[0] == method and re.fullmatch(op[1], rest)), None)
    if operation is None:
        return [*problems, f"{label}: an operation our schema does not know"]
    _, _, query, request_schema, answer_schema, status = operation
    problems += _problems(query, _query(request), f"{label} query")
    if request_schema is not None:
        sent = request.get_json(silent=True)
        problems += _problems(request_schema, sent, f"{label} request")
        if isinstance(sent, dict) and isinstance(sent.get("content"), str):
            try:
                base64.b64decode(sent["content"], validate=True)
            except (binascii.Error, ValueError):
                problems.append(f"{label} request: content is not base64")
    code = response.status_code
    if code == status:
        problems += _problems(answer_schema, body, f"{label} answer")
    elif code in ERRORS:
        problems += _problems(ERRORS[code], body, f"{label} answer {code}")
    elif code < 500:
        problems.append(f"{label}: undocumented status {code}")
    return problems
