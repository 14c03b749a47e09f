"""Values in a step's config that look like a raw secret, which belongs in a connection.

A flow's document is readable by every viewer key (`GET /api/flows/{id}/versions/{n}`), so a
token written into it is no longer secret. Publishing refuses such values (422 at their path);
validating a draft warns. The check walks every step's config, whatever its type, and judges
each string with its templates (`{{ … }}`, `{% … %}`) taken out: a value filled in at run time
is not written in the flow.

What counts: a vendor's key by its well-known shape (Slack `xox…-`, Stripe `sk_live_`,
OpenAI `sk-`, GitHub `ghp_`, AWS `AKIA…`, SendGrid `SG.`, Google `AIza`, a Slack webhook
URL), `Bearer <token>`, a literal value of an `Authorization`-like header or of a field named
like a secret (`password`, `api_key`, `token`…), a URL with a password in it, and a long
high-entropy string in a header. Messages never quote the value.
"""

from __future__ import annotations

import math
import re
from collections import Counter
from collections.abc import Iterator
from typing import Any

from schemas.flow import FlowDocument
from schemas.validation import Problem

CODE = "raw_secret"

_TEMPLATE = re.compile(r"\{\{.*?\}\}|\{%.*?%\}|\{#.*?#\}", re.DOTALL)
_PLAIN_KEY = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")

_SHAPES: tuple[tuple[re.Pattern[str], str], ...] = (
    (re.compile(r"\bxox[abposre]-[A-Za-z0-9-]{10,}"), "a Slack token"),
    (
        re.compile(r"hooks\.slack\.com/(services|workflows|triggers)/[A-Za-z0-9/_-]{10,}"),
        "a Slack webhook URL",
    ),
    (re.compile(r"\b(sk|rk)_(live|test)_[A-Za-z0-9]{10,}"), "a Stripe secret key"),
    (re.compile(r"\bsk-(proj-|ant-)?[A-Za-z0-9_-]{20,}"), "an OpenAI-style API key"),
    (
        re.compile(r"\b(ghp|gho|ghu|ghs|ghr)_[A-Za-z0-9]{30,}|\bgithub_pat_[A-Za-z0-9_]{30,}"),
        "a GitHub token",
    ),
    (re.compile(r"\bAKIA[0-9A-Z]{16}\b"), "an AWS access key"),
    (re.compile(r"\bSG\.[A-Za-z0-9_-]{16,}\.[A-Za-z0-9_-]{16,}"), "a SendGrid API key"),
    (re.compile(r"\bAIza[0-9A-Za-z_-]{35}"), "a Google API key"),
    (re.compile(r"\bshp(at|ca|pa|ss)_[a-fA-F0-9]{32}"), "a Shopify access token"),
    (re.compile(r"\bpat-(na|eu)1-[a-f0-9-]{36}"), "a HubSpot private app token"),
    (re.compile(r"(?i)\bbearer\s+[A-Za-z0-9._~+/-]{8,}=*"), "a bearer token"),
    (re.compile(r"(?i)\b[a-z][a-z0-9+.-]*://[^/\s:@]+:[^/\s@]+@"), "a URL with a password"),
)

_AUTH_HEADERS = frozenset(
    {
        "authorization",
        "proxy-authorization",
        "x-api-key",
        "api-key",
        "apikey",
        "x-auth-token",
        "x-access-token",
        "private-token",
        "x-shopify-access-token",
        "cookie",
    }
)
_SECRET_KEYS = frozenset(
    {
        "password",
        "passwd",
        "secret",
        "client_secret",
        "api_key",
        "apikey",
        "access_token",
        "refresh_token",
        "auth_token",
        "token",
        "private_key",
    }
)
_AUTH_SCHEMES = re.compile(r"(?i)^\s*(basic|bearer|token|digest|apikey|key)\b\s*")
_UUID = re.compile(r"[0-9a-fA-F]{8}(-[0-9a-fA-F]{4}){3}-[0-9a-fA-F]{12}")
_TOKEN = re.compile(r"[A-Za-z0-9+/=_.~-]{24,}")
MIN_LITERAL = 8
"""A shorter literal in an auth header or a secret-named field is a placeholder, not a key."""
ENTROPY_BITS = 3.5
"""Bits per character from which a long token in a header reads as random (a key); words,
ids and dates stay below it."""


def _literal(text: str) -> str:
    """The text a flow's author wrote, templates taken out."""
    return _TEMPLATE.sub(" ", text)


def _key(name: Any) -> str:
    if isinstance(name, int):
        return f"[{name}]"
    return f".{name}" if _PLAIN_KEY.match(str(name)) else f"[{str(name)!r}]"


def _strings(
    value: Any, path: str, keys: tuple[str, ...]
) -> Iterator[tuple[str, str, tuple[str, ...]]]:
    """Every string under `value`, with its path and the keys leading to it."""
    if isinstance(value, str):
        yield value, path, keys
    elif isinstance(value, dict):
        for name, item in value.items():
            yield from _strings(item, path + _key(name), (*keys, str(name)))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield from _strings(item, path + _key(index), keys)


def _entropy(token: str) -> float:
    counts = Counter(token)
    return -sum(n / len(token) * math.log2(n / len(token)) for n in counts.values())


def _random_token(text: str) -> bool:
    for token in _TOKEN.findall(text):
        if _UUID.fullmatch(token):
            continue  # a request or correlation id, not a key
        mixed = sum(bool(re.search(p, token)) for p in (r"[a-z]", r"[A-Z]", r"[0-9]")) >= 2
        if mixed and _entropy(token) >= ENTROPY_BITS:
            return True
    return False


def looks_secret(text: str, keys: tuple[str, ...]) -> str | None:
    """What the string looks like (`a Stripe secret key`), or None when it looks harmless.
    `keys`: the config keys leading to it (`("headers", "Authorization")`)."""
    literal = _literal(text)
    for pattern, kind in _SHAPES:
        if pattern.search(literal):
            return kind
    name = keys[-1].lower() if keys else ""
    in_headers = len(keys) >= 2 and keys[-2].lower() == "headers"
    if name in _AUTH_HEADERS or name in _SECRET_KEYS:
        written = _AUTH_SCHEMES.sub("", literal).strip()
        if len(written) >= MIN_LITERAL and " " not in written:
            return f"a literal {keys[-1]!r} value"
    if in_headers and _random_token(literal):
        return "a long random string in a header"
    return None


def raw_secret_problems(document: FlowDocument) -> list[Problem]:
    """Each value of the document's steps' configs, and of its `variables` (which a step
    could read instead), that looks like a raw secret, at its path."""
    places: list[tuple[Any, str]] = [(document.variables, "$.variables")]
    for index, node in enumerate(document.nodes):
        config = getattr(node, "config", None)
        if config is not None:
            dumped = config.model_dump(mode="json", by_alias=True, exclude_defaults=True)
            dumped.pop("connection", None)
            places.append((dumped, f"$.nodes[{index}].config"))
    problems = []
    for value, at in places:
        for text, path, keys in _strings(value, at, ()):
            kind = looks_secret(text, keys)
            if kind is not None:
                problems.append(Problem(path=path, code=CODE, message=_message(kind)))
    return problems


def _message(kind: str) -> str:
    return (
        f"this looks like {kind}: a secret written in a flow can be read by every key of the "
        "tenant. Keep it in a connection (/api/connections) and name the connection in the "
        "step instead"
    )
