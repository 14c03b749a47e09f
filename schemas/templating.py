"""Jinja2 templates in flow configs (SPEC §3), rendered in a sandbox with strict undefineds.

A missing variable raises `TemplateRenderError` naming its full dotted path
(`contact.custom.bitrix_id`), unless the template gives a `default`. Dots look up keys of
mappings only, never their methods: `{{ steps.x.body.items }}` is the `items` key, and a
missing key is missing rather than a bound `dict.items` shown to a customer (iterate a
mapping with the `items` filter: `{% for k, v in contact.custom | items %}`).

Every render has a budget (`schemas.template_budget`): a template that loops, calls or grows
without end fails its step with "template exceeds its budget of …" instead of hanging the
execution.

Pure functions over plain data, safe to call inside a Temporal workflow (passed through).
"""

from __future__ import annotations

import re
from collections.abc import Generator, Iterable, Mapping
from functools import lru_cache, update_wrapper
from typing import Any, NoReturn, cast

from jinja2 import (
    StrictUndefined,
    Template,
    TemplateError,
    TemplateSyntaxError,
    UndefinedError,
    nodes,
)
from jinja2.runtime import Context
from jinja2.sandbox import SandboxedEnvironment
from jinja2.utils import missing

from schemas import template_budget as budget

__all__ = [
    "TemplateRenderError",
    "has_template",
    "render",
    "render_value",
    "template_syntax_error",
    "work_done",
]

work_done = budget.work_done

_MARKERS = ("{{", "{%", "{#")
_SINGLE_EXPRESSION = re.compile(r"^\{\{-?(?P<expr>.*?)-?\}\}$", re.DOTALL)
_LOCATE_MAX_DEPTH = 12


class TemplateRenderError(ValueError):
    """A template could not be rendered; `variable` is the missing dotted name when known."""

    def __init__(self, message: str, *, template: str, variable: str | None = None) -> None:
        super().__init__(message)
        self.template = template
        self.variable = variable


class _MissingVariable(UndefinedError):
    """Raised by `_PathUndefined` when a missing value is used; resolved to a dotted path."""

    def __init__(self, hint: str | None, root: Any, names: tuple[Any, ...]) -> None:
        super().__init__(hint or "missing variable")
        self.hint = hint
        self.root = root
        self.names = names


class _PathUndefined(StrictUndefined):
    """A strict undefined that remembers the chain of names looked up through it.

    Looking further into a missing value (`contact.custom.bitrix_id` with no `custom`) gives
    another undefined with the longer path instead of failing there, so the error names the
    whole path and `| default(...)` works at any depth.
    """

    __slots__ = ("_undefined_names",)

    def __init__(
        self,
        hint: str | None = None,
        obj: Any = missing,
        name: str | None = None,
        exc: type[Exception] = UndefinedError,
        names: tuple[Any, ...] | None = None,
    ) -> None:
        super().__init__(hint, obj, name, exc)  # type: ignore[arg-type]
        self._undefined_names = names if names is not None else (() if name is None else (name,))

    def _fail_with_undefined_error(self, *args: Any, **kwargs: Any) -> NoReturn:
        raise _MissingVariable(self._undefined_hint, self._undefined_obj, self._undefined_names)

    def _deeper(self, name: Any) -> _PathUndefined:
        return _PathUndefined(
            self._undefined_hint, self._undefined_obj, name, names=(*self._undefined_names, name)
        )

    def __getattr__(self, name: str) -> Any:
        if name[:2] == "__" and name[-2:] == "__":
            raise AttributeError(name)
        return self._deeper(name)

    def __getitem__(self, name: Any) -> Any:
        return self._deeper(name)

    # Every operator that StrictUndefined fails on must point at the override above: the base
    # classes bound their own function objects when they were defined.
    __iter__ = __str__ = __len__ = __eq__ = __ne__ = __bool__ = __hash__ = (
        _fail_with_undefined_error
    )
    __contains__ = __call__ = _fail_with_undefined_error
    __add__ = __radd__ = __sub__ = __rsub__ = _fail_with_undefined_error
    __mul__ = __rmul__ = __truediv__ = __rtruediv__ = _fail_with_undefined_error
    __floordiv__ = __rfloordiv__ = __mod__ = __rmod__ = _fail_with_undefined_error
    __pos__ = __neg__ = __pow__ = __rpow__ = _fail_with_undefined_error
    __lt__ = __le__ = __gt__ = __ge__ = _fail_with_undefined_error
    __int__ = __float__ = __complex__ = _fail_with_undefined_error


class _FlowEnvironment(SandboxedEnvironment):
    """The sandbox, with mapping lookups by key only (see the module docstring), and a budget
    (`schemas.template_budget`) on loops, calls, operators and sizes."""

    intercepted_binops = frozenset({"+", "*", "**", "%"})

    def __init__(self, **options: Any) -> None:
        super().__init__(**options)
        # `random` would pick anew when a workflow replays: a template must render the same.
        self.filters.pop("random", None)
        self.filters = {k: budget.metered_filter(k, f) for k, f in self.filters.items()}
        self.tests = {k: budget.metered_filter(k, f) for k, f in self.tests.items()}
        self.globals.pop("lipsum", None)  # lipsum(10**9) writes for ever
        self.globals["range"] = budget.bounded_range
        for name, helper in budget.HELPERS.items():
            setattr(self, name, helper)

    def _generate(
        self,
        source: nodes.Template,
        name: str | None,
        filename: str | None,
        defer_init: bool = False,
    ) -> str:
        """Compile `source` with its loops, outputs, `~` and `in` counted."""
        source = budget.Metering().visit(source)
        source.set_environment(self)
        return super()._generate(source, name, filename, defer_init)

    def call_binop(self, context: Context, operator: str, left: Any, right: Any) -> Any:
        budget.check_binop(operator, left, right)
        result = super().call_binop(context, operator, left, right)
        return budget.sized(result)

    def call(__self, __context: Context, __obj: Any, *args: Any, **kwargs: Any) -> Any:
        # Jinja adds the loop's and block's variables for `Context.call`; they are no arguments.
        given = {k: v for k, v in kwargs.items() if k not in ("_loop_vars", "_block_vars")}
        if getattr(__obj, "__func__", __obj) in _HELPER_FUNCTIONS:
            return __obj(*args, **given)
        with budget.call_counted(__obj, args, given):
            result = super().call(__context, __obj, *args, **kwargs)
        return budget.after_call(__obj, result)

    def wrap_str_format(self, value: Any) -> Any:
        """`str.format` as the sandbox has it, its widths checked first."""
        formatter = super().wrap_str_format(value)
        if formatter is None:
            return None
        source: str = value.__self__
        by_map = value.__name__ == "format_map"

        def checked(*args: Any, **kwargs: Any) -> Any:
            values: Iterable[Any] = (*args, *kwargs.values())
            if by_map and args and isinstance(args[0], Mapping):
                values = args[0].values()
            budget.check_brace_format(source, values)
            return formatter(*args, **kwargs)

        return update_wrapper(checked, value)

    def getattr(self, obj: Any, attribute: str) -> Any:
        if isinstance(obj, Mapping):
            try:
                return obj[attribute]
            except KeyError:
                return self.undefined(obj=obj, name=attribute)
        return super().getattr(obj, attribute)

    def getitem(self, obj: Any, argument: Any) -> Any:
        if isinstance(obj, Mapping):
            try:
                return obj[argument]
            except (KeyError, TypeError):
                return self.undefined(obj=obj, name=argument)
        return super().getitem(obj, argument)


def _environment(*, autoescape: bool) -> _FlowEnvironment:
    return _FlowEnvironment(
        undefined=_PathUndefined,
        autoescape=autoescape,
        # Jinja drops a template's final newline by default; a message keeps what it was given.
        keep_trailing_newline=True,
    )


_TEXT_ENV = _environment(autoescape=False)
_HTML_ENV = _environment(autoescape=True)
_HELPER_FUNCTIONS = frozenset(budget.HELPERS.values())


def has_template(text: str) -> bool:
    """Whether `text` contains Jinja markup at all."""
    return any(marker in text for marker in _MARKERS)


@lru_cache(maxsize=2048)
def _compile(source: str, autoescape: bool) -> Template:
    env = _HTML_ENV if autoescape else _TEXT_ENV
    return env.from_string(source)


@lru_cache(maxsize=2048)
def _compile_expression(expression: str) -> Any:
    return _TEXT_ENV.compile_expression(expression, undefined_to_none=False)


def _locate(context: Mapping[str, Any], target: Any) -> tuple[Any, ...] | None:
    """The path from the context's top to `target` (found by identity), if it is in there."""
    stack: list[tuple[Any, tuple[Any, ...]]] = [(context, ())]
    while stack:
        current, path = stack.pop()
        if len(path) > _LOCATE_MAX_DEPTH:
            continue
        if isinstance(current, Mapping):
            children: list[tuple[Any, Any]] = list(current.items())
        elif isinstance(current, list | tuple):
            children = list(enumerate(current))
        else:
            continue
        for key, child in children:
            if child is target:
                return (*path, key)
            if isinstance(child, Mapping | list | tuple):
                stack.append((child, (*path, key)))
    return None


def _dotted(names: tuple[Any, ...]) -> str:
    return ".".join(str(n) for n in names)


def _missing_error(
    exc: _MissingVariable, *, template: str, context: Mapping[str, Any]
) -> TemplateRenderError:
    if exc.hint:
        # Jinja's own explanation (an unsafe attribute, an empty `first`) beats a path.
        return TemplateRenderError(f"{exc.hint} in template {template!r}", template=template)
    prefix = () if exc.root is missing else _locate(context, exc.root)
    # None: looked up on a value the template computed itself, so only the tail is known.
    variable = _dotted(exc.names if prefix is None else (*prefix, *exc.names))
    return TemplateRenderError(
        f"missing variable {variable} in template {template!r}",
        template=template,
        variable=variable,
    )


def _failure(exc: Exception, *, template: str, context: Mapping[str, Any]) -> TemplateRenderError:
    if isinstance(exc, _MissingVariable):
        return _missing_error(exc, template=template, context=context)
    if isinstance(exc, TemplateSyntaxError):
        return TemplateRenderError(
            f"template does not parse: {_syntax_message(exc)} in {template!r}", template=template
        )
    if isinstance(exc, budget.TemplateBudgetError):
        return TemplateRenderError(f"{exc}: {_shortened(template)}", template=template)
    if isinstance(exc, RecursionError):
        return TemplateRenderError(
            f"template nests too deeply: {_shortened(template)}", template=template
        )
    return TemplateRenderError(f"{exc} in template {template!r}", template=template)


def _shortened(template: str, limit: int = 200) -> str:
    text = template if len(template) <= limit else template[: limit - 1] + "…"
    return repr(text)


# What a template can raise while rendering user data: Jinja's own errors (the budget's among
# them), the ordinary errors of the operations it performs (`{{ 1 / 0 }}`, `{{ "a" + 1 }}`),
# and a template nested past Python's recursion limit.
_RENDER_ERRORS = (
    TemplateError,
    TypeError,
    ValueError,
    ArithmeticError,
    LookupError,
    RecursionError,
)


def render(template: str, context: Mapping[str, Any], *, autoescape: bool = False) -> str:
    """Render `template` against `context`; `autoescape` for HTML email bodies."""
    if not has_template(template):
        return template
    try:
        with budget.metered():
            return _render_text(_compile(template, autoescape), context)
    except _RENDER_ERRORS as exc:
        raise _failure(exc, template=template, context=context) from exc


def _render_text(compiled: Template, context: Mapping[str, Any]) -> str:
    """The output, piece by piece, stopped as soon as it is longer than the budget allows."""
    pieces: list[str] = []
    length = 0
    chunks = cast(Generator[str, None, None], compiled.generate(context))
    try:
        for chunk in chunks:
            length += len(chunk)
            if length > budget.BUDGET.max_size:
                raise budget.TemplateBudgetError(
                    "template exceeds its budget: an output of more than "
                    f"{budget.BUDGET.max_size:,} characters"
                )
            pieces.append(chunk)
    finally:
        chunks.close()
    return "".join(pieces)


def _single_expression(template: str) -> str | None:
    """The expression of a template that is exactly one `{{ expr }}`, else None."""
    match = _SINGLE_EXPRESSION.match(template.strip())
    if match is None:
        return None
    expr = match.group("expr")
    if any(marker in expr for marker in ("{{", "}}", "{%", "%}", "{#")):
        return None
    return expr


def _render_native(template: str, expression: str, context: Mapping[str, Any]) -> Any:
    try:
        with budget.metered():
            value = _compile_expression(expression)(**context)
        if isinstance(value, _PathUndefined):
            value._fail_with_undefined_error()
    except _RENDER_ERRORS as exc:
        raise _failure(exc, template=template, context=context) from exc
    return value


def render_value(value: Any, context: Mapping[str, Any], *, native: bool = True) -> Any:
    """Render every string inside `value` (dicts, lists); other values come back untouched.

    With `native`, a string that is exactly one `{{ expr }}` gives the expression's own value
    (a list for a loop's `for_each`, a number), not its text; without it every string renders
    to a string (for config fields typed `str`). Mapping keys are never rendered. All the
    strings inside share one render's budget.
    """
    with budget.metered():
        return _render_value(value, context, native=native)


def _render_value(value: Any, context: Mapping[str, Any], *, native: bool) -> Any:
    if isinstance(value, str):
        if not has_template(value):
            return value
        expression = _single_expression(value) if native else None
        if expression is not None:
            return _render_native(value, expression, context)
        return render(value, context)
    if isinstance(value, Mapping):
        return {key: _render_value(item, context, native=native) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [_render_value(item, context, native=native) for item in value]
    return value


def _syntax_message(exc: TemplateSyntaxError) -> str:
    message = exc.message or str(exc)
    return f"line {exc.lineno}: {message}" if exc.lineno and exc.lineno > 1 else message


@lru_cache(maxsize=4096)
def template_syntax_error(template: str) -> str | None:
    """Why `template` does not parse (or names an unknown filter/test), or None when it does.

    Parsed only, not compiled: compiling costs five times as much, and validation checks
    every string of a flow (the same ones again at each save and publish).
    """
    if not has_template(template):
        return None
    try:
        tree = _TEXT_ENV.parse(template)
    except TemplateSyntaxError as exc:
        return _syntax_message(exc)
    except TemplateError as exc:
        return str(exc)
    except RecursionError:
        return "the template nests too deeply"
    for node in tree.find_all((nodes.Filter, nodes.Test)):
        kind, known = (
            ("filter", _TEXT_ENV.filters)
            if isinstance(node, nodes.Filter)
            else ("test", _TEXT_ENV.tests)
        )
        if node.name not in known:
            return f"no {kind} named {node.name!r}"
    return None
