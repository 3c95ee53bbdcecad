"""A fast, exact pre-check in front of openapi-core's JSON-schema validation (tests only).

Why: the contract checks validate every emulator exchange with openapi-core, which runs the
``jsonschema`` interpreter (a fresh validator per ``$ref``, a registry lookup per reference,
``unevaluatedProperties`` re-walking each object). That costs ~1 s of CPU per 100 Moneybird
invoices, minutes on the paged-sync tests.

How, without weakening anything:

* Each schema openapi-core asks for is compiled once into plain Python predicates that mirror,
  keyword by keyword, what ``jsonschema``'s validator class does with it (same type checker, same
  format checker object, same ``re.search``, same ``equal`` for ``enum``, the same
  ``find_evaluated_property_keys_by_schema`` rules for ``unevaluatedProperties``). ``$refs`` are
  resolved at compile time through the same ``referencing`` resolver openapi-core uses.
* The predicate only ever answers "valid". Anything it does not accept is handed to the
  unchanged openapi-core/jsonschema validator, which produces the errors (so messages are
  identical). A schema with any keyword the compiler does not mirror exactly (a keyword the
  validator class knows and binds to another function, ``discriminator``, ``$id``, ``$schema``,
  ...) is not compiled at all: it is always validated the slow way.
* Validators are built once per schema location and reused (openapi-core builds one per call,
  deep-copying the format checker each time).

tests/test_contract_fast_schema.py compares the pre-check with jsonschema on valid and mutated
instances for every response schema of the Moneybird document.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Callable
from typing import Any

from jsonschema import _keywords as js_kw
from jsonschema import _types as js_types
from jsonschema._utils import equal
from openapi_core.validation.schemas.factories import DialectSchemaValidatorsFactory
from openapi_core.validation.schemas.validators import SchemaValidator
from openapi_schema_validator import _keywords as oas_kw
from openapi_schema_validator._regex import has_ecma_regex

Check = Callable[[Any], bool]


class Unsupported(Exception):
    """The schema uses something the pre-check does not mirror: it is validated the slow way."""


# Keys that would change how jsonschema resolves references or picks the dialect underneath.
_SCOPE_KEYS = {"$id", "$schema", "$anchor", "$dynamicAnchor", "$recursiveAnchor", "$vocabulary"}
# The functions each mirrored keyword must be bound to in the validator class.
_MIRRORED: dict[str, tuple[Any, ...]] = {
    "$ref": (js_kw.ref,),
    "type": (js_kw.type,),
    "properties": (js_kw.properties,),
    "required": (js_kw.required,),
    "additionalProperties": (js_kw.additionalProperties,),
    "unevaluatedProperties": (js_kw.unevaluatedProperties,),
    "items": (js_kw.items,),
    "enum": (js_kw.enum,),
    "minimum": (js_kw.minimum,),
    "maximum": (js_kw.maximum,),
    "format": (js_kw.format,),
    "pattern": (js_kw.pattern, oas_kw.pattern),
    "allOf": (js_kw.allOf, oas_kw.allOf),
    "anyOf": (js_kw.anyOf, oas_kw.anyOf),
    "oneOf": (js_kw.oneOf, oas_kw.oneOf),
}
_NO_OP = (oas_kw.not_implemented,)
# Keywords besides `properties` that can mark keys evaluated (find_evaluated_property_keys_...).
_KEY_MARKERS = ("$ref", "$dynamicRef", "additionalProperties", "patternProperties",
                "dependentSchemas", "allOf", "anyOf", "oneOf", "if")
# The type checks the keywords themselves apply ("only for objects", ...), mirrored inline.
_STANDARD_TYPES = {"object": js_types.is_object, "array": js_types.is_array,
                   "string": js_types.is_string, "number": js_types.is_number}


def _true(_: Any) -> bool:
    return True


def _false(_: Any) -> bool:
    return False


def _unbuilt(_: Any) -> bool:  # pragma: no cover - compile() finishes before any check
    raise RuntimeError("schema pre-check used before it was compiled")


def _no_keys(_: Any) -> set[str]:
    return set()


def _is_integer(x: Any) -> bool:
    return isinstance(x, int) and not isinstance(x, bool)


def _is_number(x: Any) -> bool:
    return js_types.is_number(None, x)


# jsonschema's type checks that are a bare isinstance, and the others, inlined.
_ISINSTANCE: dict[Any, type] = {
    js_types.is_array: list,
    js_types.is_bool: bool,
    js_types.is_null: type(None),
    js_types.is_object: dict,
    js_types.is_string: str,
}
_FAST_TYPES: dict[Any, Check] = {
    js_types.is_integer: _is_integer,
    js_types.is_number: _is_number,
}


def _all(checks: list[Check]) -> Check:
    if not checks:
        return _true
    if len(checks) == 1:
        return checks[0]
    if len(checks) == 2:
        a, b = checks
        return lambda x: a(x) and b(x)

    def check(x: Any) -> bool:
        for c in checks:  # noqa: SIM110 - a plain loop: all() with a generator is slower here
            if not c(x):
                return False
        return True

    return check


class _Node:
    """One compiled schema: ``check(x)`` = no jsonschema error; ``evaluated(x)`` = the keys
    jsonschema's ``find_evaluated_property_keys_by_schema`` would return for it."""

    __slots__ = ("check", "done", "evaluated")

    def __init__(self) -> None:
        self.done = False
        self.check: Check = _unbuilt
        self.evaluated: Callable[[dict[str, Any]], set[str]] = _no_keys

    def call(self) -> Check:
        """The check, or a late-bound one while this node is still being compiled (cycles)."""
        return self.check if self.done else (lambda x: self.check(x))

    def evaluator(self) -> Callable[[dict[str, Any]], set[str]]:
        return self.evaluated if self.done else (lambda x: self.evaluated(x))


class Compiler:
    """Compiles schemas for one validator class, format checker and resolver family."""

    def __init__(self, validator_cls: Any, format_checker: Any) -> None:
        self.validators = validator_cls.VALIDATORS
        self.type_checker = validator_cls.TYPE_CHECKER
        self.format_checker = format_checker
        self._memo: dict[int, tuple[Any, _Node]] = {}
        checkers = self.type_checker._type_checkers
        self.standard = all(checkers.get(n) is fn for n, fn in _STANDARD_TYPES.items())

    def compile(self, schema: Any, resolver: Any) -> Check:
        """The pre-check for ``schema`` (raises Unsupported when it cannot be mirrored).

        All or nothing: nodes built by a compile that fails are forgotten, so no later schema
        can reach a half-built one."""
        if not self.standard:
            raise Unsupported("non-standard type checker")
        before = set(self._memo)
        try:
            return self._node(schema, resolver).call()
        except Unsupported:
            for key in set(self._memo) - before:
                del self._memo[key]
            raise

    # ------------------------------------------------------------------ nodes

    def _node(self, schema: Any, resolver: Any) -> _Node:
        if schema is True or schema is False:
            node = _Node()
            node.check, node.done = (_true if schema else _false), True
            return node
        if not isinstance(schema, dict):
            raise Unsupported(f"schema of type {type(schema).__name__}")
        key = id(schema)
        if key in self._memo:  # keeps the schema alive, so the id stays unique
            return self._memo[key][1]
        node = _Node()
        self._memo[key] = (schema, node)
        self._build(node, schema, resolver)
        node.done = True
        return node

    def _build(self, node: _Node, schema: dict[str, Any], resolver: Any) -> None:
        for key in schema:
            if key in _SCOPE_KEYS:
                raise Unsupported(key)
            bound = self.validators.get(key)
            if bound is None and key in _MIRRORED:
                raise Unsupported(f"keyword {key} not applied by this validator class")
            if bound is None or bound in _NO_OP:
                continue  # jsonschema ignores it too (annotation)
            if bound not in _MIRRORED.get(key, ()):
                raise Unsupported(f"keyword {key}")
            if key in ("allOf", "anyOf", "oneOf") and "discriminator" in schema:
                raise Unsupported("discriminator")
            if key == "pattern" and bound is oas_kw.pattern and has_ecma_regex():
                raise Unsupported("ECMA regex")
            if key == "items" and "prefixItems" in schema:
                raise Unsupported("prefixItems")
        if "patternProperties" in schema:
            raise Unsupported("patternProperties")
        checks: list[Check] = []
        contributors: list[Callable[[dict[str, Any]], set[str]]] = []
        get = schema.get
        if "$ref" in schema:
            resolved = resolver.lookup(schema["$ref"])
            target = self._node(resolved.contents, resolved.resolver)
            checks.append(target.call())
            contributors.append(target.evaluator())
        if "type" in schema:
            checks.append(self._type(schema["type"]))
        if "enum" in schema:
            enums = schema["enum"]
            checks.append(lambda x: any(equal(each, x) for each in enums))
        if "minimum" in schema:  # jsonschema: `instance < minimum` is the error
            low = schema["minimum"]
            checks.append(lambda x: not _is_number(x) or not x < low)
        if "maximum" in schema:  # jsonschema: `instance > maximum` is the error
            high = schema["maximum"]
            checks.append(lambda x: not _is_number(x) or not x > high)
        if "pattern" in schema:
            try:
                search = re.compile(schema["pattern"]).search
            except (re.error, TypeError) as exc:  # jsonschema fails on it when validating
                raise Unsupported(f"pattern {schema['pattern']!r}") from exc
            checks.append(lambda x: not isinstance(x, str) or search(x) is not None)
        if "format" in schema and self.format_checker is not None:
            checks.append(self._format(schema["format"]))
        if "required" in schema:
            required = tuple(schema["required"])
            checks.append(lambda x: not isinstance(x, dict) or all(p in x for p in required))
        properties = get("properties")
        prop_checks: dict[str, Check] = {}
        if "properties" in schema:
            prop_checks = {n: self._node(s, resolver).call() for n, s in properties.items()}
            checks.append(self._properties(prop_checks))
        if isinstance(properties, dict):
            names = frozenset(properties)
            contributors.append(lambda x: names & x.keys())
        if "additionalProperties" in schema:
            extra = self._node(schema["additionalProperties"], resolver)
            checks.append(self._additional(
                extra, schema["additionalProperties"], get("properties", {})))
            contributors.append(self._valid_keys(extra))
        if "items" in schema:
            checks.append(self._items(self._node(schema["items"], resolver).call()))
        for word in ("allOf", "anyOf", "oneOf"):
            if word not in schema:
                continue
            subs = [self._node(s, resolver) for s in schema[word]]
            checks.append(self._applicator(word, [s.call() for s in subs]))
            contributors.append(self._applied_keys([(s.call(), s.evaluator()) for s in subs]))
        if "unevaluatedProperties" in schema:
            rest = self._node(schema["unevaluatedProperties"], resolver)
            contributors.append(self._valid_keys(rest))
            only_properties = schema["unevaluatedProperties"] is False and isinstance(
                properties, dict) and not any(k in schema for k in _KEY_MARKERS)
            checks.append(self._unevaluated(
                node, rest, frozenset(properties) if only_properties else None))
        node.evaluated = self._union(contributors)
        node.check = _all(checks)

    # ------------------------------------------------------------------ keywords

    def _type(self, types: Any) -> Check:
        names = [types] if isinstance(types, str) else list(types)
        funcs = []
        plain: list[type] = []  # types whose check is a bare isinstance
        for name in names:
            try:
                fn = self.type_checker._type_checkers[name]
            except KeyError:
                raise Unsupported(f"type {name!r}") from None
            if fn in _ISINSTANCE:
                plain.append(_ISINSTANCE[fn])
            else:
                fast = _FAST_TYPES.get(fn)
                funcs.append(fast or (lambda x, fn=fn, checker=self.type_checker: fn(checker, x)))
        if plain:
            classes = tuple(plain)
            funcs.insert(0, lambda x: isinstance(x, classes))
        if len(funcs) == 1:
            return funcs[0]
        if len(funcs) == 2:
            a, b = funcs
            return lambda x: a(x) or b(x)
        return lambda x: any(f(x) for f in funcs)

    def _format(self, name: str) -> Check:
        if name not in self.format_checker.checkers:
            return _true
        func, raises = self.format_checker.checkers[name]

        def check(x: Any) -> bool:
            try:
                return bool(func(x))
            except raises:
                return False

        return check

    @staticmethod
    def _properties(prop_checks: dict[str, Check]) -> Check:
        pairs = tuple(prop_checks.items())

        def check(x: Any) -> bool:
            if not isinstance(x, dict):
                return True
            for name, sub in pairs:  # noqa: SIM110 - hot loop, see _all
                if name in x and not sub(x[name]):
                    return False
            return True

        return check

    @staticmethod
    def _additional(extra: _Node, raw: Any, properties: dict[str, Any]) -> Check:
        sub = extra.call()
        is_schema = isinstance(raw, dict)

        def check(x: Any) -> bool:
            if not isinstance(x, dict):
                return True
            extras = [k for k in x if k not in properties]
            if is_schema:
                return all(sub(x[k]) for k in extras)
            return bool(raw) or not extras

        return check

    @staticmethod
    def _items(sub: Check) -> Check:
        return lambda x: not isinstance(x, list) or all(sub(i) for i in x)

    @staticmethod
    def _applicator(word: str, subs: list[Check]) -> Check:
        if word == "allOf":
            return lambda x: all(s(x) for s in subs)
        if word == "anyOf":
            return lambda x: any(s(x) for s in subs)
        return lambda x: sum(1 for s in subs if s(x)) == 1

    @staticmethod
    def _valid_keys(node: _Node) -> Callable[[dict[str, Any]], set[str]]:
        sub = node.call()
        return lambda x: {k for k, v in x.items() if sub(v)}

    @staticmethod
    def _applied_keys(
        subs: list[tuple[Check, Callable[[dict[str, Any]], set[str]]]],
    ) -> Callable[[dict[str, Any]], set[str]]:
        def keys(x: dict[str, Any]) -> set[str]:
            out: set[str] = set()
            for check, evaluated in subs:
                if check(x):
                    out |= evaluated(x)
            return out

        return keys

    @staticmethod
    def _union(parts: list[Callable[[dict[str, Any]], set[str]]]) -> Callable[..., set[str]]:
        if not parts:
            return _no_keys

        def keys(x: dict[str, Any]) -> set[str]:
            out: set[str] = set()
            for part in parts:
                out |= set(part(x))
            return out

        return keys

    @staticmethod
    def _unevaluated(node: _Node, rest: _Node, declared: frozenset[str] | None) -> Check:
        if declared is not None:
            # `unevaluatedProperties: false` beside `properties` only: exactly the declared
            # keys are evaluated (the false schema accepts no value), so none other may occur.
            return lambda x: not isinstance(x, dict) or x.keys() <= declared
        sub = rest.call()

        def check(x: Any) -> bool:
            if not isinstance(x, dict):
                return True
            evaluated = node.evaluated(x)
            return all(sub(v) for k, v in x.items() if k not in evaluated)

        return check


class FastSchemaValidator(SchemaValidator):
    """openapi-core's SchemaValidator, asking the compiled pre-check first."""

    def __init__(self, schema: Any, validator: Any, fast: Check | None = None) -> None:
        super().__init__(schema, validator)
        self.fast = fast

    def validate(self, value: Any) -> None:
        if self.fast is not None and self.fast(value):
            return
        super().validate(value)  # the unchanged path: finds and reports the errors


class FastSchemaValidatorsFactory(DialectSchemaValidatorsFactory):
    """Drop-in for openapi-core's 3.1 factory: one validator per schema location, pre-checked."""

    def __init__(self, base: DialectSchemaValidatorsFactory) -> None:
        super().__init__(
            base.schema_validator_cls,
            base.default_jsonschema_dialect_id,
            format_checker=base.format_checker,
        )
        self._lock = threading.RLock()
        self._validators: dict[tuple[Any, ...], SchemaValidator] = {}
        self._compilers: dict[int, Compiler] = {}
        self._spec: Any = None
        self.unsupported: dict[str, str] = {}  # schema location -> why it is not pre-checked

    def create(  # type: ignore[override]
        self,
        spec: Any,
        schema: Any,
        format_validators: Any = None,
        extra_format_validators: Any = None,
        forbid_unspecified_additional_properties: bool = False,
        enforce_properties_required: bool = False,
    ) -> SchemaValidator:
        plain = (format_validators is None and extra_format_validators is None
                 and not forbid_unspecified_additional_properties
                 and not enforce_properties_required)
        if not plain or (self._spec is not None and spec is not self._spec):
            return super().create(spec, schema, format_validators, extra_format_validators,
                                  forbid_unspecified_additional_properties,
                                  enforce_properties_required)
        key = tuple(schema.parts)
        found = self._validators.get(key)
        if found is not None:
            return found
        with self._lock:
            self._spec = spec
            if key not in self._validators:
                self._validators[key] = self._build(spec, schema)
            return self._validators[key]

    def _build(self, spec: Any, schema: Any) -> SchemaValidator:
        slow = super().create(spec, schema)
        jsv = slow.validator
        if jsv.format_checker is None or type(jsv) is not self.get_validator_cls(spec, schema):
            return slow
        compiler = self._compilers.get(id(type(jsv)))
        if compiler is None:
            compiler = self._compilers[id(type(jsv))] = Compiler(type(jsv), jsv.format_checker)
        with schema.resolve() as resolved:
            try:
                fast = compiler.compile(resolved.contents, resolved.resolver)
            except Unsupported as why:
                self.unsupported["/".join(map(str, schema.parts))] = str(why)
                fast = None
        return FastSchemaValidator(schema, jsv, fast)


__all__ = ["Compiler", "FastSchemaValidator", "FastSchemaValidatorsFactory", "Unsupported"]
