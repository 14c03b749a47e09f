"""Checks a request against Twilio's OpenAPI description of its 2010-04-01 API.

The description is the published one, vendored in tests/contracts/ with its licence: a request
must hit a path template of it with a method it defines, carry every required form field
of the operation's request body, and send no form field or query parameter it does not list.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

CONTRACT = Path(__file__).resolve().parents[1] / "contracts" / "twilio_api_v2010.json"


@dataclass(frozen=True)
class Operation:
    template: str
    method: str
    required: frozenset[str]
    form_fields: frozenset[str]
    query: frozenset[str]


@cache
def _spec() -> dict[str, Any]:
    return dict(json.loads(CONTRACT.read_text()))


@cache
def _patterns() -> list[tuple[re.Pattern[str], str]]:
    patterns = []
    for template in _spec()["paths"]:
        regex = re.sub(r"\\\{[^}]+\\\}", "[^/]+", re.escape(template))
        patterns.append((re.compile(f"^{regex}$"), template))
    # The most specific template first: fewer placeholders, then longer.
    patterns.sort(key=lambda p: (p[1].count("{"), -len(p[1])))
    return patterns


def operation(method: str, path: str) -> Operation:
    """The operation a request hits; AssertionError if the description has none."""
    template = next((t for pattern, t in _patterns() if pattern.match(path)), None)
    if template is None:
        raise AssertionError(f"{path} is no path of Twilio's API")
    item = _spec()["paths"][template]
    op = item.get(method.lower())
    if op is None:
        raise AssertionError(f"Twilio's {template} has no {method}")
    form: dict[str, Any] = {}
    body = op.get("requestBody")
    if body is not None:
        form = body["content"]["application/x-www-form-urlencoded"]["schema"]
    query = {p["name"] for p in op.get("parameters", []) if p.get("in") == "query"}
    return Operation(
        template=template,
        method=method.upper(),
        required=frozenset(form.get("required", [])),
        form_fields=frozenset(form.get("properties", {})),
        query=frozenset(query),
    )


def problems(method: str, path: str, form: dict[str, Any], query: dict[str, Any]) -> list[str]:
    """What is wrong with a request by Twilio's description (empty when it conforms)."""
    try:
        op = operation(method, path)
    except AssertionError as exc:
        return [str(exc)]
    found = []
    missing = sorted(op.required - set(form))
    if missing:
        found.append(f"{op.method} {op.template} lacks required {missing}")
    unknown_form = sorted(set(form) - op.form_fields)
    if unknown_form:
        found.append(f"{op.method} {op.template} sends unknown fields {unknown_form}")
    unknown_query = sorted(set(query) - op.query)
    if unknown_query:
        found.append(f"{op.method} {op.template} sends unknown query {unknown_query}")
    return found
