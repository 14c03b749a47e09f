r"""Evaluating conditions (`schemas.conditions`) against an execution's context.

Rules, shared by `condition`, `split`, loop `while` and the dry run:

- `var` is a dotted path into the context (`steps.order.body.items.0.sku`); `value` is a
  literal, never a template.
- Numbers given as strings compare as numbers: `"10" gt 9` holds, `"abc" gt 1` does not (no
  error). `eq`/`ne`/`in` treat a numeric string as a number only against an actual number,
  so the digits `"01"` and `"1"` stay different; two non-numeric strings order as text.
- Speech (`call.speech`, `steps.<id>.speech`) compares case- and punctuation-insensitively:
  `"Sales!" eq "sales"`, `"I need SUPPORT." contains "support"`.
- `before`/`after` compare ISO datetimes or dates; a naive datetime is UTC, a date is its
  midnight UTC. Anything that does not parse makes them false.
- A missing variable makes every comparison false, except those that ask for absence:
  `is_empty`, `ne`, `not_contains` and `not_in` hold. `exists` holds when the variable is
  present and not null; `is_empty` also holds for null, `""` (or blanks), `[]` and `{}`.
- `in`/`not_in` take a list, or a string of comma-separated items.
- `regex` searches the text anywhere in it (as `re.search`), with RE2, whose time grows with
  the text and never explodes (`^(a+)+$` cannot freeze the worker). Python's syntax and
  inline flags (`(?i)`, `(?m)`, `(?s)`) work, `\d`, `\w` and `\s` match Unicode as in Python;
  what RE2 cannot run (backreferences, lookarounds, `(?x)`) is refused at validation, and such
  a pattern that still reaches a run (a flow saved before) fails its step with `RegexError`
  rather than quietly never matching. A pattern that is no regex at all makes it false.
  Two differences remain: `\b` knows ASCII word characters only, and `$` (without `(?m)`)
  matches only at the very end, not also before a final newline.
"""

from __future__ import annotations

import math
import re
import unicodedata
from collections.abc import Callable, Mapping, Sequence
from datetime import UTC, date, datetime, time
from functools import lru_cache
from typing import Any

import re2

from schemas.conditions import AllOf, AnyOf, Comparison, Condition, NotOf
from schemas.flow import SplitCase

__all__ = ["ELSE_PORT", "RegexError", "choose_case", "evaluate", "regex_error", "resolve"]

ELSE_PORT = "else"

_NEGATIONS = {"ne": "eq", "not_contains": "contains", "not_in": "in"}
# Ops whose operands are words of speech; a regex or a date is not normalized.
_SPEECH_OPS = frozenset({"eq", "contains", "starts_with", "ends_with", "in"})


def resolve(context: Mapping[str, Any], path: str) -> tuple[bool, Any]:
    """`(found, value)` of a dotted path through mappings and list indexes (`items.0`)."""
    current: Any = context
    for part in path.split("."):
        if isinstance(current, Mapping):
            if part not in current:
                return False, None
            current = current[part]
        elif isinstance(current, list | tuple) and _is_index(part):
            index = int(part)
            if not -len(current) <= index < len(current):
                return False, None
            current = current[index]
        else:
            return False, None
    return True, current


def _is_index(part: str) -> bool:
    return part.lstrip("-").isdigit()


def evaluate(condition: Condition, context: Mapping[str, Any]) -> bool:
    """Whether `condition` holds in `context` (see the module docstring for the rules)."""
    if isinstance(condition, AllOf):
        return all(evaluate(c, context) for c in condition.all)
    if isinstance(condition, AnyOf):
        return any(evaluate(c, context) for c in condition.any)
    if isinstance(condition, NotOf):
        return not evaluate(condition.not_, context)
    return _compare(condition, context)


def choose_case(cases: Sequence[SplitCase], context: Mapping[str, Any]) -> str:
    """The port of the first case whose `when` holds, else `"else"`."""
    for case in cases:
        if evaluate(case.when, context):
            return case.port
    return ELSE_PORT


def _compare(comparison: Comparison, context: Mapping[str, Any]) -> bool:
    op = comparison.op
    positive = _NEGATIONS.get(op)
    if positive is not None:
        return not _holds(positive, comparison.var, comparison.value, context)
    return _holds(op, comparison.var, comparison.value, context)


def _holds(op: str, var: str, expected: Any, context: Mapping[str, Any]) -> bool:
    found, actual = resolve(context, var)
    if op == "exists":
        return found and actual is not None
    if op == "is_empty":
        return not found or _is_empty(actual)
    if not found:
        return False
    if op == "is_not_empty":
        return not _is_empty(actual)
    if op in _SPEECH_OPS and _is_speech(var):
        actual, expected = _normalize_speech(actual), _normalize_speech(expected)
    return _OPS[op](actual, expected)


def _is_speech(var: str) -> bool:
    parts = var.split(".")
    return parts[-1] == "speech" and parts[0] in ("call", "steps")


def _normalize_speech(value: Any) -> Any:
    """Lower case, no punctuation, single spaces; lists are normalized item by item."""
    if isinstance(value, str):
        kept = (" " if unicodedata.category(ch).startswith("P") else ch for ch in value)
        return " ".join("".join(kept).casefold().split())
    if isinstance(value, list | tuple):
        return [_normalize_speech(v) for v in value]
    return value


def _is_empty(value: Any) -> bool:
    if value is None:
        return True
    if isinstance(value, str):
        return not value.strip()
    if isinstance(value, Mapping | list | tuple | set):
        return len(value) == 0
    return False


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _number(value: Any) -> float | None:
    """`value` as a finite number: numbers, or strings that spell one; else None."""
    if _is_number(value):
        return float(value)
    if isinstance(value, str):
        try:
            number = float(value.strip())
        except ValueError:
            return None
        return number if math.isfinite(number) else None
    return None


_BOOLEAN_WORDS = {"true": True, "false": False}


def _equal(actual: Any, expected: Any) -> bool:
    if _is_number(actual) or _is_number(expected):
        a, b = _number(actual), _number(expected)
        if a is not None and b is not None:
            return a == b
    if isinstance(actual, bool) != isinstance(expected, bool):
        # `"true"` from a form or a query string against a JSON `true`.
        word = expected if isinstance(actual, bool) else actual
        flag = actual if isinstance(actual, bool) else expected
        return isinstance(word, str) and _BOOLEAN_WORDS.get(word.strip().lower()) is flag
    return bool(actual == expected)


def _order(actual: Any, expected: Any, holds: Callable[[Any, Any], bool]) -> bool:
    a, b = _number(actual), _number(expected)
    if a is not None and b is not None:
        return holds(a, b)
    if isinstance(actual, str) and isinstance(expected, str):
        return holds(actual, expected)
    return False


def _text(value: Any) -> str | None:
    """Strings, and numbers written out; anything else has no text to search."""
    if isinstance(value, str):
        return value
    if _is_number(value):
        return str(value)
    return None


def _contains(actual: Any, expected: Any) -> bool:
    if isinstance(actual, str):
        needle = _text(expected)
        return needle is not None and needle in actual
    if isinstance(actual, list | tuple | set):
        return any(_equal(item, expected) for item in actual)
    if isinstance(actual, Mapping):
        return expected in actual if isinstance(expected, str) else False
    return False


def _starts_with(actual: Any, expected: Any) -> bool:
    text, prefix = _text(actual), _text(expected)
    return text is not None and prefix is not None and text.startswith(prefix)


def _ends_with(actual: Any, expected: Any) -> bool:
    text, suffix = _text(actual), _text(expected)
    return text is not None and suffix is not None and text.endswith(suffix)


def _in(actual: Any, expected: Any) -> bool:
    if isinstance(expected, str):
        expected = [item.strip() for item in expected.split(",")]
    if not isinstance(expected, list | tuple | set):
        return False
    return any(_equal(actual, item) for item in expected)


class RegexError(ValueError):
    """A `regex` condition whose pattern RE2 cannot run: its step fails with this."""

    def __init__(self, pattern: str, reason: str) -> None:
        super().__init__(f"regex {pattern!r} cannot be used: {reason}")
        self.reason = reason


_RE2_OPTIONS = re2.Options()
_RE2_OPTIONS.log_errors = False  # RE2 would print every refused pattern on stderr

# Python's classes of characters are Unicode; RE2's are ASCII. Outside a class `[…]`, then
# inside one (None: kept as RE2 has it, a negation cannot be put inside a class).
_SPACE = r"\t-\r\x{1c}-\x{20}\x{85}\p{Z}"  # what str.isspace() holds
_CLASSES: dict[str, tuple[str, str | None]] = {
    "d": (r"\p{Nd}", r"\p{Nd}"),
    "D": (r"\P{Nd}", r"\P{Nd}"),
    "w": (r"[\p{L}\p{N}_]", r"\p{L}\p{N}_"),
    "W": (r"[^\p{L}\p{N}_]", None),
    "s": (f"[{_SPACE}]", _SPACE),
    "S": (f"[^{_SPACE}]", None),
    "Z": (r"\z", None),
}


def _translate_escape(escape: str, *, in_class: bool) -> str:
    """One backslash escape of Python's syntax in RE2's."""
    letter = escape[1]
    if letter in _CLASSES:
        outside, inside = _CLASSES[letter]
        replacement = inside if in_class else outside
        return replacement if replacement is not None else escape
    if letter in "uU":  # \u00e9, \U0001F600: RE2 writes \x{…}
        return f"\\x{{{escape[2:]}}}"
    return escape


_ESCAPE_LENGTH = {"u": 6, "U": 10}


def _python_to_re2(pattern: str) -> str:
    """`pattern` (Python's syntax) for RE2, its classes of characters Unicode as in Python."""
    out: list[str] = []
    position, in_class = 0, False
    while position < len(pattern):
        char = pattern[position]
        if char == "\\" and position + 1 < len(pattern):
            length = _ESCAPE_LENGTH.get(pattern[position + 1], 2)
            escape = pattern[position : position + length]
            out.append(_translate_escape(escape, in_class=in_class))
            position += len(escape)
            continue
        if in_class and char == "[" and pattern.startswith("[:", position):
            end = pattern.find(":]", position + 2)
            if end != -1:  # [[:alpha:]]: its ] does not close the class
                out.append(pattern[position : end + 2])
                position = end + 2
                continue
        if not in_class and char == "[":
            opening = "[^" if pattern.startswith("[^", position) else "["
            if pattern.startswith("]", position + len(opening)):
                opening += "]"  # a ] first in a class is itself
            out.append(opening)
            position += len(opening)
            in_class = True
            continue
        if in_class and char == "]":
            in_class = False
        out.append(char)
        position += 1
    return "".join(out)


@lru_cache(maxsize=512)
def _pattern(source: str) -> Any:
    """The compiled pattern; raises RegexError with RE2's reason when it cannot be run."""
    try:
        return re2.compile(_python_to_re2(source), _RE2_OPTIONS)
    except re2.error as exc:
        reason = exc.args[0] if exc.args else exc
        if isinstance(reason, bytes):
            reason = reason.decode("utf-8", "replace")
        raise RegexError(source, str(reason)) from None


def _is_python_regex(source: str) -> bool:
    """Whether Python's `re` compiles it (compiling is quick; matching is what explodes)."""
    try:
        re.compile(source)
    except (re.error, RecursionError, OverflowError):
        return False
    return True


def _regex(actual: Any, expected: Any) -> bool:
    text = _text(actual)
    if text is None or not isinstance(expected, str):
        return False
    try:
        pattern = _pattern(expected)
    except RegexError:
        if _is_python_regex(expected):
            raise  # it ran before RE2: failing the step says so, never matching would not
        return False
    try:
        return pattern.search(text) is not None
    except UnicodeEncodeError:  # a lone surrogate, which UTF-8 (RE2's text) cannot hold
        return False


def _moment(value: Any) -> datetime | None:
    """An aware datetime from a datetime, a date or an ISO string; None if it is not one."""
    if isinstance(value, str):
        text = value.strip()
        try:
            value = datetime.fromisoformat(text)
        except ValueError:
            try:
                value = date.fromisoformat(text)
            except ValueError:
                return None
    if isinstance(value, datetime):
        return value if value.tzinfo is not None else value.replace(tzinfo=UTC)
    if isinstance(value, date):
        return datetime.combine(value, time(0), tzinfo=UTC)
    return None


def _before(actual: Any, expected: Any) -> bool:
    a, b = _moment(actual), _moment(expected)
    return a is not None and b is not None and a < b


def _after(actual: Any, expected: Any) -> bool:
    a, b = _moment(actual), _moment(expected)
    return a is not None and b is not None and a > b


_OPS: dict[str, Callable[[Any, Any], bool]] = {
    "eq": _equal,
    "gt": lambda a, b: _order(a, b, lambda x, y: x > y),
    "gte": lambda a, b: _order(a, b, lambda x, y: x >= y),
    "lt": lambda a, b: _order(a, b, lambda x, y: x < y),
    "lte": lambda a, b: _order(a, b, lambda x, y: x <= y),
    "contains": _contains,
    "starts_with": _starts_with,
    "ends_with": _ends_with,
    "in": _in,
    "regex": _regex,
    "before": _before,
    "after": _after,
}


def regex_error(pattern: str) -> str | None:
    """Why RE2 cannot run `pattern`, or None; validation reports it at the flow's path."""
    try:
        _pattern(pattern)
    except RegexError as exc:
        return exc.reason
    return None
