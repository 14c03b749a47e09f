"""What one template render may cost: counted, so that no template can hang its execution.

Templates render inside the workflow, where a render that never ends holds the workflow task
(Temporal's deadlock detector then retries it for ever, and the stuck thread burns a core).
Time cannot be the measure there (a replay must decide exactly as the first run did), so a
render counts what it does and stops, with `TemplateBudgetError`, at the first budget it
exceeds:

- loop iterations: every item a `for` loop draws, all loops of the render together;
- operations: every call (function, method, macro), filter, test and intercepted operator
  (`+ * ** %`), plus one more for each 1,000 characters or items it takes or gives (each 10
  items, for the filters that run Python code per item: `sort`, `map`, `select`, `sum` …);
- size: no text, list or mapping an operation produces, and no rendered output, may be longer
  than `max_size` characters or items; `*` and `**` are refused before they compute one that
  would be, or an integer of more than `max_int_digits` digits; so are widths and precisions
  (`center`, `indent`, `'%*d'`, `'{:>N}'`) beyond `max_size`;
- nesting: calls nested deeper than `max_depth` (a macro calling itself);
- `range()` of more than `loop_iterations` items.

The counters of a render live in a context variable: workflows render in worker threads, and
each thread (and each asyncio task) sees only its own.
"""

from __future__ import annotations

import math
import re
import string
import threading
from collections.abc import Callable, ItemsView, Iterable, Iterator, KeysView, ValuesView
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from functools import wraps
from typing import Any, cast

from jinja2 import TemplateRuntimeError, nodes
from jinja2.visitor import NodeTransformer

__all__ = ["BUDGET", "RenderBudget", "TemplateBudgetError", "work_done"]


@dataclass(frozen=True)
class RenderBudget:
    loop_iterations: int = 10_000
    operations: int = 25_000
    max_size: int = 1_000_000
    max_int_digits: int = 4_000
    max_depth: int = 32


BUDGET = RenderBudget()
"""Every render's budget. An ordinary template (a message, a body, a date) uses a handful of
each; a loop over a few thousand items of an HTTP answer fits too. The worst a render can do
within it takes a few hundred milliseconds (`python -m bench.templates`)."""


class TemplateBudgetError(TemplateRuntimeError):
    """A render went over its budget; the message names the budget."""


class _Meter:
    __slots__ = ("budget", "depth", "iterations", "operations")

    def __init__(self, budget: RenderBudget) -> None:
        self.budget = budget
        self.iterations = 0
        self.operations = 0
        self.depth = 0

    def iteration(self) -> None:
        self.iterations += 1
        if self.iterations > self.budget.loop_iterations:
            raise TemplateBudgetError(
                f"template exceeds its budget of {self.budget.loop_iterations:,} loop iterations"
            )

    def operation(self, *values: Any, per: int = 1000, base: int = 1) -> None:
        """One operation, plus one per `per` characters or items of the values it handles."""
        self.operations += base + sum(map(size_of, values)) // per
        if self.operations > self.budget.operations:
            raise TemplateBudgetError(
                f"template exceeds its budget of {self.budget.operations:,} operations "
                "(calls, filters, tests and operators)"
            )


_METER: ContextVar[_Meter | None] = ContextVar("flowdeck_template_meter", default=None)


_WORK = threading.local()
"""What this thread's renders have done in all (loop iterations and operations): a workflow
task runs on one thread, so the interpreter bounds a stretch of steps by its growth."""


def work_done() -> int:
    """Loop iterations and operations of every render on this thread so far."""
    total: int = getattr(_WORK, "total", 0)
    return total


@contextmanager
def metered(budget: RenderBudget = BUDGET) -> Iterator[None]:
    """Count what is rendered inside; nested uses share the outermost render's counters."""
    if _METER.get() is not None:
        yield
        return
    meter = _Meter(budget)
    token = _METER.set(meter)
    try:
        yield
    finally:
        _METER.reset(token)
        _WORK.total = work_done() + meter.iterations + meter.operations


def _budget() -> RenderBudget:
    meter = _METER.get()
    return meter.budget if meter is not None else BUDGET


_SIZED = (
    str,
    bytes,
    bytearray,
    list,
    tuple,
    dict,
    set,
    frozenset,
    range,
    KeysView,
    ValuesView,
    ItemsView,
)


def size_of(value: Any) -> int:
    """Characters or items of a text or a collection; 0 for anything else."""
    return len(value) if isinstance(value, _SIZED) else 0


def check_size(value: Any, what: str = "a value") -> Any:
    limit = _budget().max_size
    if size_of(value) > limit:
        raise TemplateBudgetError(
            f"template exceeds its budget: {what} of more than {limit:,} characters or items"
        )
    return value


def _refuse_width(width: Any) -> None:
    limit = _budget().max_size
    if isinstance(width, int | float) and not isinstance(width, bool) and abs(width) > limit:
        raise TemplateBudgetError(
            f"template exceeds its budget: a width or count of {width:,} (at most {limit:,})"
        )


# --- what loops, calls and operators may do -----------------------------------------------


def iterate(iterable: Iterable[Any]) -> Iterator[Any]:
    """A `for` loop's items, each counted."""
    meter = _METER.get()
    for item in iterable:
        if meter is not None:
            meter.iteration()
        yield item


def sized(value: Any) -> Any:
    """An output expression's or a `~` concatenation's value, refused when too long; printing
    it costs nothing but its length."""
    meter = _METER.get()
    if meter is not None:
        meter.operation(value, base=0)
    return check_size(value)


def handled(value: Any) -> Any:
    """The container of an `in` test: searching it costs its length."""
    meter = _METER.get()
    if meter is not None:
        meter.operation(value)
    return value


HELPERS: dict[str, Callable[[Any], Any]] = {
    "flowdeck_iterate": iterate,
    "flowdeck_sized": sized,
    "flowdeck_handled": handled,
}
"""Installed as attributes of the environment; the transformed templates call them."""


def bounded_range(*args: int) -> range:
    items = range(*args)
    limit = _budget().loop_iterations
    if len(items) > limit:
        raise TemplateBudgetError(f"template exceeds its budget: range() of more than {limit:,}")
    return items


def _max_bits() -> int:
    return math.ceil(_budget().max_int_digits * math.log2(10))


def _bits(value: Any) -> int:
    return abs(value).bit_length() if isinstance(value, int) else 0


def check_binop(operator: str, left: Any, right: Any) -> None:
    """Refuse an operation whose result would be too big, before it is computed."""
    if operator == "*":
        for sequence, times in ((left, right), (right, left)):
            if isinstance(times, int) and size_of(sequence) * max(times, 0) > _budget().max_size:
                _refuse_size("`*`")
        if _bits(left) + _bits(right) > _max_bits():
            _refuse_digits("*")
    elif operator == "**":
        growing = isinstance(left, int) and isinstance(right, int) and abs(left) > 1
        if growing and _bits(left) * right > _max_bits():
            _refuse_digits("**")
    elif operator == "%" and isinstance(left, str):
        check_percent_format(left, right)
    elif operator == "+" and size_of(left) + size_of(right) > _budget().max_size:
        _refuse_size("`+`")


def _refuse_size(what: str) -> None:
    raise TemplateBudgetError(
        f"template exceeds its budget: {what} would make more than "
        f"{_budget().max_size:,} characters or items"
    )


def _refuse_digits(operator: str) -> None:
    raise TemplateBudgetError(
        f"template exceeds its budget: `{operator}` would make a number of more than "
        f"{_budget().max_int_digits:,} digits"
    )


_PERCENT_SPEC = re.compile(r"%(?:\([^)]*\))?[-#0 +]*(\*|\d+)?(?:\.(\*|\d+))?")
_NUMBER = re.compile(r"\d+")


def _arguments(values: Any) -> list[Any]:
    if isinstance(values, tuple | list):
        return list(values)
    if isinstance(values, dict):
        return list(values.values())
    return [values]


def check_percent_format(source: str, values: Any) -> None:
    """`'%10s' % x`: widths and precisions (written, or given by `*`) within the size limit."""
    starred = False
    for width, precision in _PERCENT_SPEC.findall(source):
        for number in (width, precision):
            if number == "*":
                starred = True
            elif number:
                _refuse_width(int(number))
    if starred:
        for value in _arguments(values):
            _refuse_width(value)


def check_brace_format(source: str, args: Iterable[Any]) -> None:
    """`'{:>10}'.format(x)`: widths and precisions within the size limit, nested ones too."""
    nested = False
    for _, field, spec, _ in string.Formatter().parse(source):
        if field is None or not spec:
            continue
        nested = nested or "{" in spec
        for number in _NUMBER.findall(spec):
            _refuse_width(int(number))
    if nested:
        for value in args:
            _refuse_width(value)


_WIDTH_METHODS = frozenset({"center", "ljust", "rjust", "zfill", "expandtabs", "to_bytes"})
"""Methods of texts and numbers whose integer argument is the length of what they make."""


def check_call(obj: Any, args: tuple[Any, ...], kwargs: dict[str, Any]) -> None:
    if getattr(obj, "__name__", None) in _WIDTH_METHODS and isinstance(
        getattr(obj, "__self__", None), str | bytes | int
    ):
        for value in (*args, *kwargs.values()):
            _refuse_width(value)


# --- filters and tests --------------------------------------------------------------------

_WIDTH_FILTERS = frozenset({"center", "indent", "wordwrap", "batch", "slice"})
"""Filters whose numeric argument sizes what they make (`'x' | center(10**9)`)."""
_PER_ITEM_FILTERS = frozenset(
    {
        "batch",
        "dictsort",
        "groupby",
        "items",
        "join",
        "list",
        "map",
        "max",
        "min",
        "pprint",
        "reject",
        "rejectattr",
        "reverse",
        "select",
        "selectattr",
        "slice",
        "sort",
        "sum",
        "tojson",
        "unique",
        "urlencode",
        "xmlattr",
    }
)
"""Filters that run Python code for every item they take: they cost one per 10 items."""


def metered_filter(name: str, function: Any) -> Callable[..., Any]:
    """`function` (a filter or a test) counted, its result's size checked."""
    skip = 1 if getattr(function, "jinja_pass_arg", None) is not None else 0
    per = 10 if name in _PER_ITEM_FILTERS else 1000

    @wraps(function)
    def run(*args: Any, **kwargs: Any) -> Any:
        value, rest = (args[skip], args[skip + 1 :]) if len(args) > skip else (None, ())
        if name in _WIDTH_FILTERS:
            for argument in (*rest, *kwargs.values()):
                _refuse_width(argument)
        elif name == "format" and isinstance(value, str):
            check_percent_format(value, kwargs or rest)
        elif name == "replace" and len(rest) >= 2:
            _check_replace(value, rest[0], rest[1])
        meter = _METER.get()
        if meter is not None:
            meter.operation(value, *rest, per=per)
        result = function(*args, **kwargs)
        if meter is not None:
            meter.operation(result, per=per)
        return check_size(result, f"the result of `{name}`")

    return run


def _check_replace(value: Any, old: Any, new: Any) -> None:
    if isinstance(value, str) and isinstance(old, str) and isinstance(new, str):
        # At most one replacement per occurrence (or, for an empty `old`, per position).
        count = value.count(old) if old else len(value) + 1
        if len(value) + count * max(len(new) - len(old), 0) > _budget().max_size:
            _refuse_size("`replace`")


# --- the calls, counted -------------------------------------------------------------------


@contextmanager
def call_counted(obj: Any, args: tuple[Any, ...], kwargs: dict[str, Any]) -> Iterator[None]:
    """Around a call from a template: counted, not nested too deep, arguments checked."""
    check_call(obj, args, kwargs)
    meter = _METER.get()
    if meter is None:
        yield
        return
    meter.operation(getattr(obj, "__self__", None), *args, *kwargs.values())
    meter.depth += 1
    try:
        if meter.depth > meter.budget.max_depth:
            raise TemplateBudgetError(
                f"template exceeds its budget of {meter.budget.max_depth} nested calls"
            )
        yield
    finally:
        meter.depth -= 1


def after_call(obj: Any, result: Any) -> Any:
    """The result of a call, counted and size-checked, and the object it may have grown."""
    meter = _METER.get()
    if meter is not None:
        meter.operation(result)
    check_size(getattr(obj, "__self__", None), "a collection grown")
    return check_size(result)


# --- the transformation of parsed templates -----------------------------------------------


def _helper(name: str, node: nodes.Node) -> nodes.Expr:
    lineno = node.lineno
    function = nodes.EnvironmentAttribute(name, lineno=lineno)
    return nodes.Call(function, [cast(nodes.Expr, node)], [], None, None, lineno=lineno)


class Metering(NodeTransformer):
    """Rewrites a parsed template so that its loops, outputs, `~` and `in` are counted."""

    def visit_For(self, node: nodes.For) -> nodes.Node:
        self.generic_visit(node)
        node.iter = _helper("flowdeck_iterate", node.iter)
        return node

    def visit_Output(self, node: nodes.Output) -> nodes.Node:
        self.generic_visit(node)
        node.nodes = [
            item if isinstance(item, nodes.TemplateData) else _helper("flowdeck_sized", item)
            for item in node.nodes
        ]
        return node

    def visit_Concat(self, node: nodes.Concat) -> nodes.Node:
        self.generic_visit(node)
        return _helper("flowdeck_sized", node)

    def visit_Operand(self, node: nodes.Operand) -> nodes.Node:
        self.generic_visit(node)
        if node.op in ("in", "notin"):
            node.expr = _helper("flowdeck_handled", node.expr)
        return node
