"""The Jinja2 sandbox message templates run in, companies' own templates included.

Jinja's :class:`ImmutableSandboxedEnvironment` already refuses internals (``__class__``,
``__globals__`` …), unsafe callables and changing lists or dicts. A company template is text a
creditor typed into a web form, so this sandbox also bounds what one render can cost: every
string or list an expression builds (``*``, ``+``, ``~``) is capped, ``range()`` is short,
``%``-formatting and the string methods and filters that pad or repeat (``center``,
``format``, ``indent`` …) are not available, and only a short list of filters is.

Every template compiled here (default files, a company's saved text, a preview) is also refused
macros, call blocks, imports, extends and recursive loops (a macro calling itself doubles its
work per level), and every ``for`` loop draws from one step budget per render
(:data:`MAX_LOOP_STEPS`), so nested loops over a long value stop early instead of pinning a CPU.
Loop depth and the friendlier reasons are checked before saving
(:mod:`connector.collection.template_check`).
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterable, Iterator
from typing import Any

from jinja2 import FileSystemLoader, StrictUndefined, Template, nodes
from jinja2.compiler import CodeGenerator, Frame
from jinja2.exceptions import SecurityError
from jinja2.nodes import Concat
from jinja2.runtime import Context
from jinja2.sandbox import ImmutableSandboxedEnvironment

from connector import TEMPLATES
from connector.formatting import money

MAX_VALUE = 50_000  # characters (or items) in any one value an expression builds
MAX_RANGE = 1_000
MAX_LOOP_STEPS = 10_000  # loop iterations per render, all loops (and includes) together
# Constructs that let a template multiply its own work or pull in other templates.
FORBIDDEN_NODES = (nodes.Macro, nodes.CallBlock, nodes.Import, nodes.FromImport, nodes.Extends)
# Not a Jinja identifier, so a template cannot name it.
_BUDGET_VAR = "loop budget"
SAFE_FILTERS = ("abs", "capitalize", "count", "d", "default", "dictsort", "e", "escape",
                "first", "float", "groupby", "int", "items", "last", "length", "list", "lower",
                "map", "max", "min", "reject", "rejectattr", "reverse", "round", "select",
                "selectattr", "sort", "string", "title", "trim", "truncate", "unique", "upper",
                "wordcount")
# str methods that pad, repeat or format: a single call could take gigabytes.
BLOCKED_STR_METHODS = frozenset({"center", "ljust", "rjust", "zfill", "expandtabs", "format",
                                 "format_map", "replace", "join", "encode", "translate"})


def _too_big(value: Any) -> bool:
    return isinstance(value, str | list | tuple) and len(value) > MAX_VALUE


def checked(value: Any) -> Any:
    """``value`` itself, unless it is a string or list longer than :data:`MAX_VALUE`."""
    if _too_big(value):
        raise SecurityError("dit levert een te lange tekst op")
    return value


class _CheckedConcat(CodeGenerator):
    """Compiles ``a ~ b`` so that its result goes through :func:`checked` as well."""

    def visit_Concat(self, node: Concat, frame: Frame) -> None:
        self.write("environment.checked_value(")
        super().visit_Concat(node, frame)
        self.write(")")


class LoopBudget:
    """The loop steps one render may still take (shared with the templates it includes)."""

    __slots__ = ("left",)

    def __init__(self, steps: int = MAX_LOOP_STEPS) -> None:
        self.left = steps

    def spend(self) -> None:
        self.left -= 1
        if self.left < 0:
            raise SecurityError(f"lussen mogen samen hoogstens {MAX_LOOP_STEPS} keer draaien")


class BudgetedTemplate(Template):
    """A template whose every render starts with a fresh :class:`LoopBudget`."""

    def new_context(self, vars: dict[str, Any] | None = None, shared: bool = False,
                    locals: dict[str, Any] | None = None) -> Context:
        vars = dict(vars or {})
        if not isinstance(vars.get(_BUDGET_VAR), LoopBudget):
            vars[_BUDGET_VAR] = LoopBudget()  # an include (shared) keeps its parent's budget
        return super().new_context(vars, shared, locals)


def refuse_unbounded(ast: nodes.Template) -> None:
    """Raise :class:`SecurityError` for constructs no message template may use."""
    if any(True for _ in ast.find_all(FORBIDDEN_NODES)) or any(
            loop.recursive for loop in ast.find_all(nodes.For)):
        raise SecurityError("macro's, import, extends en recursieve lussen zijn in een "
                            "sjabloon niet toegestaan")


class MessageSandbox(ImmutableSandboxedEnvironment):
    """Immutable sandbox with bounded values; see the module docstring."""

    code_generator_class = _CheckedConcat
    template_class = BudgetedTemplate
    intercepted_binops = frozenset({"*", "**", "+", "%"})

    def checked_value(self, value: Any) -> Any:
        return checked(value)

    def bounded_loop(self, context: Context, iterable: Iterable[Any]) -> Iterator[Any]:
        """What a ``for`` loop iterates over: the items, each one paid from the budget."""
        budget = context.get(_BUDGET_VAR)
        if not isinstance(budget, LoopBudget):
            budget = LoopBudget()
        for item in iterable:
            budget.spend()
            yield item

    def _generate(self, source: nodes.Template, name: str | None, filename: str | None,
                  defer_init: bool = False) -> str:
        """Compile with the refusals above and every loop drawing from the budget."""
        refuse_unbounded(source)
        for loop in source.find_all(nodes.For):
            loop.iter = nodes.Call(nodes.EnvironmentAttribute("bounded_loop"),
                                   [nodes.ContextReference(), loop.iter], [], None, None,
                                   lineno=loop.lineno)
        return super()._generate(source, name, filename, defer_init)

    def call_binop(self, context: Any, operator_name: str, left: Any, right: Any) -> Any:
        if operator_name == "**" and isinstance(right, int | float) and abs(right) > 64:
            raise SecurityError("machtsverheffen met zo'n grote exponent mag niet")
        if operator_name == "%" and isinstance(left, str):
            raise SecurityError("%-opmaak van tekst mag niet in een sjabloon")
        if operator_name == "*":
            for seq, count in ((left, right), (right, left)):
                if (isinstance(seq, str | list | tuple) and isinstance(count, int)
                        and len(seq) * count > MAX_VALUE):
                    raise SecurityError("dit levert een te lange tekst op")
        return checked(self.binop_table[operator_name](left, right))

    def wrap_str_format(self, value: Any) -> None:
        """No ``str.format`` at all (Jinja would hand out a wrapped one before asking
        :meth:`is_safe_attribute`): a width of 10**9 is one call."""
        return None

    def is_safe_attribute(self, obj: Any, attr: str, value: Any) -> bool:
        if isinstance(obj, str) and attr in BLOCKED_STR_METHODS:
            return False
        return super().is_safe_attribute(obj, attr, value)


def _small_range(*args: int) -> range:
    """``range`` for templates, short enough that two nested loops stay cheap."""
    numbers = range(*args)
    if len(numbers) > MAX_RANGE:
        raise SecurityError(f"range() mag hoogstens {MAX_RANGE} getallen geven")
    return numbers


def _checked_filter(func: Callable[..., Any]) -> Callable[..., Any]:
    @functools.wraps(func)  # keeps Jinja's pass_context/pass_environment markers
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        return checked(func(*args, **kwargs))

    return wrapper


def _join(value: Iterable[Any], d: str = "") -> str:
    """``join`` that counts before it builds: no gigantic string in memory first."""
    parts, size = [], 0
    for item in value:
        text = str(item)
        size += len(text) + len(d)
        if size > MAX_VALUE:
            raise SecurityError("dit levert een te lange tekst op")
        parts.append(text)
    return str(d).join(parts)


def _replace(value: Any, old: str, new: str, count: int = -1) -> str:
    """``replace`` that refuses a result longer than :data:`MAX_VALUE` before building it."""
    text, old, new = str(value), str(old), str(new)
    hits = text.count(old) if old else len(text) + 1
    if count >= 0:
        hits = min(hits, count)
    if len(text) + hits * (len(new) - len(old)) > MAX_VALUE:
        raise SecurityError("dit levert een te lange tekst op")
    return text.replace(old, new, count)


def make_sandbox() -> MessageSandbox:
    """The environment for every message template: default files and companies' own text."""
    env = MessageSandbox(loader=FileSystemLoader(str(TEMPLATES)), undefined=StrictUndefined,
                         autoescape=False, keep_trailing_newline=False)
    stock = env.filters
    env.filters = {name: _checked_filter(stock[name]) for name in SAFE_FILTERS}
    env.filters.update(money=money, join=_join, replace=_replace)
    # lipsum() writes megabytes in one call and namespace() carries values from one loop
    # iteration to the next (the way to grow a value step by step): neither is offered.
    env.globals = {"range": _small_range, "cycler": env.globals["cycler"],
                   "joiner": env.globals["joiner"]}
    return env


__all__ = ["FORBIDDEN_NODES", "MAX_LOOP_STEPS", "MAX_RANGE", "MAX_VALUE", "MessageSandbox",
           "checked", "make_sandbox", "refuse_unbounded"]
