"""The contract checks' fast pre-check (tests/contract/fast_schema.py) finds exactly what
openapi-core finds: same verdict as jsonschema on every schema of the Moneybird document, and
the same error texts on known-bad exchanges."""

from __future__ import annotations

import copy
import json
import random
from collections.abc import Iterator
from typing import Any

import flask
import pytest
from openapi_schema_validator import OAS30ReadValidator, OAS31Validator
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT202012
from werkzeug.test import EnvironBuilder
from werkzeug.wrappers import Request

from providers.moneybird.emulator import MoneybirdEmulator
from tests.contract import openapi as mb
from tests.contract.fast_schema import Compiler, FastSchemaValidator, Unsupported

# ------------------------------------------------------------------ helpers


def _reference_valid(validator: Any, instance: Any) -> bool:
    return next(iter(validator.iter_errors(instance)), None) is None


def _leaves(value: Any, path: tuple[Any, ...] = ()) -> Iterator[tuple[tuple[Any, ...], Any]]:
    yield path, value
    if isinstance(value, dict):
        for k, v in value.items():
            yield from _leaves(v, (*path, k))
    elif isinstance(value, list):
        for i, v in enumerate(value[:2]):
            yield from _leaves(v, (*path, i))


def _set(root: Any, path: tuple[Any, ...], value: Any) -> Any:
    if not path:
        return value
    out = copy.deepcopy(root)
    node = out
    for part in path[:-1]:
        node = node[part]
    node[path[-1]] = value
    return out


def _mutations(instance: Any, rng: random.Random, limit: int) -> list[Any]:
    """Wrong types, nulls, unknown enum/format strings, missing and unknown keys, anywhere."""
    changes: list[tuple[tuple[Any, ...], Any]] = []
    for path, value in _leaves(instance):
        swaps: list[Any] = [None, "not-a-date", 12345, 1.5, True, [], {}]
        if isinstance(value, str):
            swaps += ["", value + "x", "2026-13-45", "2026-01-02T03:04:05"]
        if isinstance(value, bool):
            swaps.append(int(value))
        elif isinstance(value, int):
            swaps += [-1, str(value), value + 0.5, 2**40]
        changes += [(path, swap) for swap in swaps]
        if isinstance(value, dict):
            changes += [(path, {k: v for k, v in value.items() if k != key}) for key in value]
            changes.append((path, {**value, "unexpected_key": 1}))
        if isinstance(value, list) and value:
            changes.append((path, [*value, value[0], "x", None]))
    return [_set(instance, path, swap) for path, swap in rng.sample(changes, min(limit,
                                                                                len(changes)))]


def _moneybird_schemas() -> Iterator[tuple[str, FastSchemaValidator, list[Any]]]:
    """Every request/response body schema of the document, with the document's own examples."""
    api = mb.build_openapi()
    spec, factory = api.spec, api.config.schema_validators_factory
    raw = mb._normalised_spec()
    for path, item in raw["paths"].items():
        for method, op in item.items():
            if method == "parameters" or not isinstance(op, dict):
                continue
            places = [("requestBody",)] if "requestBody" in op else []
            places += [("responses", status) for status in op.get("responses", {})]
            for place in places:
                where = spec / "paths" / path / method
                for part in place:
                    where = where / part
                with where.resolve() as resolved:
                    content = resolved.contents.get("content", {})
                for media, body in content.items():
                    if "schema" not in body:
                        continue
                    validator = factory.create(spec, where / "content" / media / "schema")
                    examples = [e.get("value") for e in body.get("examples", {}).values()]
                    if "example" in body:
                        examples.append(body["example"])
                    yield f"{method.upper()} {path} {'/'.join(place)}", validator, examples


# ------------------------------------------------------------------ the whole document


def test_every_moneybird_body_schema_is_prechecked_with_jsonschemas_verdict() -> None:
    rng = random.Random(20261127)
    seen: set[tuple[str, str]] = set()
    compared = invalid = 0
    schemas = list(_moneybird_schemas())
    assert len(schemas) > 1000
    for label, validator, examples in schemas:
        assert validator.fast is not None, f"{label}: not pre-checked"
        for example in examples:
            key = (json.dumps(validator.validator.schema, sort_keys=True),
                   json.dumps(example, sort_keys=True))
            if key in seen:  # the same schema text with the same example: done already
                continue
            seen.add(key)
            for instance in [example, *_mutations(example, rng, limit=6)]:
                expected = _reference_valid(validator.validator, instance)
                assert validator.fast(instance) is expected, (label, instance)
                compared += 1
                invalid += not expected
    assert compared > 4000 and invalid > compared / 3, (compared, invalid)


# ------------------------------------------------------------------ tricky keywords, one by one

_DATE_CHECKER = OAS30ReadValidator.FORMAT_CHECKER  # what openapi-core uses for 3.1 documents

TRICKY: list[tuple[dict[str, Any], list[Any]]] = [
    ({"type": "integer"}, [1, 1.0, True, "1", None, 2**70]),
    ({"type": "number", "minimum": 0, "maximum": 10}, [0, -0.1, 10, 10.5, True, "5", None]),
    ({"type": ["string", "null"], "format": "date"}, ["2026-02-28", "2026-02-30", None, 3, ""]),
    ({"type": "string", "format": "date-time"},
     ["2026-01-02T03:04:05Z", "2026-01-02T03:04:05", "2026-01-02t03:04:05z", "x"]),
    ({"type": "integer", "format": "int32"}, [2**31 - 1, 2**31, -(2**31), True]),
    ({"enum": [1, "a", None, [1], {"k": False}]}, [1, True, 1.0, "a", None, [1], [True],
                                                   {"k": False}, {"k": 0}, 0]),
    ({"pattern": r"^\d+$"}, ["123", "12a", "١٢٣", 5, "123\n"]),
    ({"type": "object", "required": ["a"], "properties": {"a": {"type": "string"}},
      "additionalProperties": False}, [{"a": "x"}, {}, {"a": 1}, {"a": "x", "b": 1}, [], "s"]),
    ({"properties": {"a": {}}, "additionalProperties": {"type": "integer"}},
     [{"a": "x", "b": 1}, {"b": "x"}, {"a": None}]),
    ({"type": "array", "items": False}, [[], [1]]),
    ({"type": "array", "items": {"$ref": "#/$defs/node"}}, [[{"n": [{"n": []}]}], [{"n": [1]}]]),
    ({"oneOf": [{"type": "integer"}, {"type": "number"}]}, [1, 1.5, "x"]),
    ({"anyOf": [{"type": "integer"}, {"minimum": 3}]}, [1, 2.5, 3.5, "x"]),
    ({"allOf": [{"type": "object"}, {"required": ["a"]}]}, [{"a": 1}, {}, 1]),
    # unevaluatedProperties sees through $ref and the valid branches of the applicators only
    ({"$ref": "#/$defs/base", "properties": {"b": {}}, "unevaluatedProperties": False},
     [{"a": 1, "b": 2}, {"a": 1, "c": 3}, {"a": "x"}]),
    ({"anyOf": [{"properties": {"a": {"type": "integer"}}},
                {"properties": {"b": {"type": "integer"}}}],
      "unevaluatedProperties": False},
     [{"a": 1}, {"a": 1, "b": 2}, {"a": "x", "b": 2}, {"a": "x", "b": "y"}, {"c": 1}]),
    ({"oneOf": [{"properties": {"a": {}}, "required": ["a"]}, {"type": "null"}],
      "unevaluatedProperties": {"type": "string"}},
     [{"a": 1, "z": "s"}, {"a": 1, "z": 2}, None, {"z": "s"}]),
    ({"allOf": [{"properties": {"a": {}}}], "additionalProperties": {"type": "integer"},
      "unevaluatedProperties": False}, [{"a": "x"}, {"q": 1}, {"q": "x"}]),
    ({"type": "object", "properties": {"a": {"type": "integer"}},
      "unevaluatedProperties": False}, [{"a": 1}, {"a": 1, "b": 2}, {}, "x"]),
    (True, [1, None]),
    (False, [1, None]),
]
DEFS = {
    "node": {"type": "object", "properties": {"n": {"type": "array",
                                                    "items": {"$ref": "#/$defs/node"}}}},
    "base": {"properties": {"a": {"type": "integer"}}},
}


def _document(schema: Any) -> dict[str, Any]:
    return {"$defs": DEFS, "x": schema}


@pytest.mark.parametrize(("schema", "instances"), TRICKY)
def test_tricky_keywords_get_jsonschemas_verdict(schema: Any, instances: list[Any]) -> None:
    doc = _document(schema)
    resource = Resource.from_contents(doc, default_specification=DRAFT202012)
    resolver = Registry().with_resource("", resource).resolver("")
    resolved = resolver.lookup("#/x")
    reference = OAS31Validator(resolved.contents, _resolver=resolved.resolver,
                               format_checker=_DATE_CHECKER)
    fast = Compiler(OAS31Validator, _DATE_CHECKER).compile(resolved.contents, resolved.resolver)
    for instance in instances:
        assert fast(instance) is _reference_valid(reference, instance), (schema, instance)


@pytest.mark.parametrize("schema", [
    {"discriminator": {"propertyName": "k"}, "oneOf": [{}]},
    {"$id": "https://other.example/s", "type": "object"},
    {"$schema": "https://json-schema.org/draft/2020-12/schema"},
    {"patternProperties": {"^a": {}}},
    {"if": {"type": "string"}, "then": {"minLength": 1}},
    {"properties": {"a": {"minLength": 1}}},
    {"prefixItems": [{}], "items": False},
    {"type": "decimal"},
    {"pattern": "("},
])
def test_what_is_not_mirrored_is_left_to_jsonschema(schema: dict[str, Any]) -> None:
    compiler = Compiler(OAS31Validator, _DATE_CHECKER)
    resolver = Registry().resolver("")
    with pytest.raises(Unsupported):
        compiler.compile(schema, resolver)
    # a failed compile leaves nothing half-built behind for the next one
    assert compiler.compile({"type": "string"}, resolver)("s")


# ------------------------------------------------------------------ whole exchanges


def _exchange(emu: MoneybirdEmulator, method: str, path: str, **kw: Any
              ) -> tuple[Request, flask.Response]:
    captured: list[tuple[Request, flask.Response]] = []

    def hook(request: Any, response: flask.Response) -> None:
        request = request._get_current_object()
        request.get_data()
        captured.append((request, response))

    emu.exchange_hook = hook
    emu.app.test_client().open(f"/api/v2{path}", method=method, **kw)
    return captured[-1]


def _with_body(response: flask.Response, body: Any, status: int | None = None) -> flask.Response:
    return flask.Response(json.dumps(body), status=status or response.status_code,
                          headers=dict(response.headers))


def test_known_bad_exchanges_give_openapi_cores_own_errors() -> None:
    emu = MoneybirdEmulator(seed=4, administrations=1, contacts=12, invoices=40, rate_limit=None)
    token, _ = emu.issue_token()
    adm = emu.administration_ids()[0]
    auth = {"Authorization": f"Bearer {token}", "Accept": "application/json"}
    request, response = _exchange(emu, "GET", f"/{adm}/sales_invoices.json", headers=auth)
    invoices = response.get_json()
    first = invoices[0]
    reference = mb.build_openapi(fast=False)
    cases = {
        "wrong type": [{**first, "paused": "no"}, *invoices[1:]],
        "unknown enum": [{**first, "state": "sleeping"}],
        "unknown property": [{**first, "surprise": 1}],
        "bad date": [{**first, "due_date": "2026-02-30"}],
        "nested wrong type": [{**first, "contact": {**first["contact"], "country": 7}}],
        "pattern": [{**first, "id": "12ab"}],
        "not a list": first,
    }
    assert mb.validate_exchange(request, response) == []
    for name, body in cases.items():
        bad = _with_body(response, body)
        fast_errors = mb.validate_exchange(request, bad)
        assert fast_errors, name
        assert mb.validate_exchange(request, bad, api=reference) == fast_errors, name
    # unknown path and a request body against its schema, fast and reference alike
    unknown = Request(EnvironBuilder(method="GET", path=f"/api/v2/{adm}/no_such_things.json",
                                     headers=auth).get_environ())
    sync = Request(EnvironBuilder(method="POST", path=f"/api/v2/{adm}/sales_invoices/"
                                  "synchronization.json", headers=auth,
                                  json={"ids": [{"id": 1}]}).get_environ())
    no_price = Request(EnvironBuilder(  # a required property missing from a request body
        method="POST", path=f"/api/v2/{adm}/sales_invoices/{first['id']}/payments.json",
        headers=auth, json={"payment": {"payment_date": "2026-01-02"}}).get_environ())
    for req in (unknown, sync, no_price):
        fast_errors = mb.validate_exchange(req, _with_body(response, []))
        assert fast_errors
        assert mb.validate_exchange(req, _with_body(response, []), api=reference) == fast_errors
