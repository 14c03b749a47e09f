"""JSON Schemas that a flow gives (an `ai_generate` step's `json_schema`): checked when the
flow is saved, and the answers checked against them when the step runs.

The schema's own `$schema` picks its draft (4, 6, 7, 2019-09 or 2020-12); without one,
2020-12. `format` is not asserted (as the drafts say by default). What a worker must not do
on a flow author's say is refused when the flow is saved: a `$ref` outside the schema (it
would never be fetched, and could not resolve) or to a place in it that does not exist, and
`patternProperties` (its regexes would run on Python's backtracking engine, which a crafted
answer can stall); `pattern` runs on RE2, linear in the text, as `regex` conditions do.
"""

from __future__ import annotations

from collections.abc import Iterator
from functools import lru_cache
from typing import Any
from urllib.parse import unquote

import re2
from jsonschema import exceptions, validators
from jsonschema.protocols import Validator
from referencing.exceptions import Unresolvable

MAX_PROBLEMS = 5

_DRAFTS: dict[str, type[Validator]] = {
    str(cls.META_SCHEMA.get("$id") or cls.META_SCHEMA.get("id")).rstrip("#"): cls
    for cls in (
        validators.Draft4Validator,
        validators.Draft6Validator,
        validators.Draft7Validator,
        validators.Draft201909Validator,
        validators.Draft202012Validator,
    )
}


_RE2_OPTIONS = re2.Options()
_RE2_OPTIONS.log_errors = False  # RE2 would print every refused pattern on stderr


@lru_cache(maxsize=256)
def _compiled(pattern: str) -> Any:
    return re2.compile(pattern, _RE2_OPTIONS)


def _re2_pattern(
    validator: Validator, pattern: str, instance: Any, schema: dict[str, Any]
) -> Iterator[exceptions.ValidationError]:
    if not validator.is_type(instance, "string"):
        return
    try:
        matches = _compiled(pattern).search(instance) is not None
    except UnicodeEncodeError:  # a lone surrogate, which RE2's UTF-8 cannot hold
        matches = False
    if not matches:
        yield exceptions.ValidationError(f"{instance!r} does not match {pattern!r}")


def _re2_compiles(pattern: str) -> bool:
    try:
        _compiled(pattern)
    except re2.error:
        return False
    return True


_CHECKERS: dict[str, type[Validator]] = {
    uri: validators.extend(draft, {"pattern": _re2_pattern})  # type: ignore[no-untyped-call]
    for uri, draft in _DRAFTS.items()
}
_LATEST = str(validators.Draft202012Validator.META_SCHEMA["$id"]).rstrip("#")


def _draft(schema: dict[str, Any]) -> type[Validator]:
    """The schema's draft, with `pattern` on RE2 (its `$schema` checked by `_refusal`)."""
    declared = schema.get("$schema")
    return _CHECKERS[declared.rstrip("#") if isinstance(declared, str) else _LATEST]


def _walk(node: Any, path: str) -> Iterator[tuple[str, str, Any]]:
    """Every (path, key, value) of the schema's objects."""
    if isinstance(node, dict):
        for key, value in node.items():
            yield path, key, value
            yield from _walk(value, f"{path}.{key}")
    elif isinstance(node, list):
        for index, value in enumerate(node):
            yield from _walk(value, f"{path}[{index}]")


def _points_into(schema: dict[str, Any], ref: str) -> bool:
    """Whether a `#/a/b` reference finds something in the schema."""
    target: Any = schema
    for part in ref[2:].split("/") if ref != "#" else []:
        key = unquote(part).replace("~1", "/").replace("~0", "~")
        if isinstance(target, dict) and key in target:
            target = target[key]
        elif isinstance(target, list) and key.isdigit() and int(key) < len(target):
            target = target[int(key)]
        else:
            return False
    return True


def _refusal(schema: dict[str, Any]) -> str | None:
    declared = schema.get("$schema")
    if declared is not None and (
        not isinstance(declared, str) or declared.rstrip("#") not in _DRAFTS
    ):
        return f"$.$schema: not a draft this checker knows ({', '.join(sorted(_DRAFTS))})"
    for path, key, value in _walk(schema, "$"):
        if key == "patternProperties":
            return f"{path}.patternProperties: not supported (use properties, or pattern)"
        if key in ("$ref", "$dynamicRef") and isinstance(value, str):
            if not value.startswith("#"):
                return f"{path}.{key}: only references within the schema (#…) are allowed"
            if value.startswith("#/") and not _points_into(schema, value):
                return f"{path}.{key}: {value} points to nothing in the schema"
        if key == "pattern" and isinstance(value, str) and not _re2_compiles(value):
            return f"{path}.pattern: not a regular expression RE2 accepts"
    return None


def schema_problem(schema: dict[str, Any]) -> str | None:
    """Why `schema` is not a JSON Schema a step may use, or None when it is."""
    refused = _refusal(schema)
    if refused is not None:
        return refused
    try:
        _draft(schema).check_schema(schema)
    except exceptions.SchemaError as error:
        return f"{error.json_path}: {error.message}"
    return None


class UnusableSchema(ValueError):
    """A schema that cannot be used after all (a `$ref` to an anchor that is not there)."""


def instance_problems(schema: dict[str, Any], instance: Any) -> list[str]:
    """Where and why `instance` does not match `schema` (its first few problems, by path)."""
    validator = _draft(schema)(schema)
    try:
        errors = sorted(validator.iter_errors(instance), key=lambda e: e.json_path)
    except Unresolvable as exc:
        raise UnusableSchema(f"json_schema has a reference that does not resolve: {exc}") from None
    return [f"{error.json_path}: {error.message}" for error in errors[:MAX_PROBLEMS]]
