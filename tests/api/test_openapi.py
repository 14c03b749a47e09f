"""The OpenAPI description says what happens: every status a route can answer is declared,
with the error body as its schema."""

from __future__ import annotations

import inspect
from collections.abc import Iterator
from typing import Any

import pytest
from fastapi.dependencies.models import Dependant
from fastapi.routing import APIRoute

from api.deps import get_temporal
from api.main import create_app
from api.routes import ROUTERS
from schemas.settings import Settings

ERROR = "#/components/schemas/ErrorResponse"
app = create_app(settings=Settings(FLOWDECK_ENV="test", DATABASE_URL="sqlite://"))
SPEC = app.openapi()


def _routes() -> dict[tuple[str, str], APIRoute]:
    """Each operation's route, from the routers the app includes (by their full path)."""
    found = {}
    for prefix, router in ROUTERS:
        for route in router.routes:
            assert isinstance(route, APIRoute)
            for method in route.methods:
                found[(method, prefix + route.path)] = route
    return found


ROUTES = _routes()
DIRECT_TEMPORAL = ("get_temporal(",)
"""Routes that reach Temporal from their body rather than through `TemporalDep`. (Lead intake
reaches it too, but stores the lead and reports the engagement's error instead of a 503.)"""
OWN_503 = {("GET", "/api/health"), ("GET", "/api/health/ready")}
"""Readiness answers 503 with its own body, naming what is unreachable."""


def _dependencies(dependant: Dependant) -> Iterator[Any]:
    for dependency in dependant.dependencies:
        yield dependency.call
        yield from _dependencies(dependency)


def _uses_temporal(route: APIRoute) -> bool:
    if get_temporal in set(_dependencies(route.dependant)):
        return True
    source = inspect.getsource(route.endpoint)
    return any(call in source for call in DIRECT_TEMPORAL)


def _expected(route: APIRoute, method: str, operation: dict[str, Any]) -> set[int]:
    codes = {413}  # the body limit stands before every route
    if operation.get("security"):
        codes |= {401, 403}
    if operation.get("parameters") or operation.get("requestBody"):
        codes.add(422)
    if any(p["in"] == "path" for p in operation.get("parameters", [])):
        codes.add(404)
    if _uses_temporal(route):
        codes.add(503)
    if route.path.startswith("/webhooks/twilio/"):
        codes.add(403)  # a missing or bad signature
    return codes


def _cases() -> Iterator[tuple[str, str, APIRoute]]:
    for path, operations in SPEC["paths"].items():
        for method in operations:
            yield method.upper(), path, ROUTES[(method.upper(), path)]


@pytest.mark.parametrize(("method", "path", "route"), list(_cases()), ids=lambda v: str(v))
def test_every_status_a_route_answers_is_declared(method: str, path: str, route: APIRoute) -> None:
    operation = SPEC["paths"][path][method.lower()]
    declared = {int(code): body for code, body in operation["responses"].items()}
    missing = _expected(route, method, operation) - declared.keys()
    assert not missing, f"{method} {path} does not declare {sorted(missing)}"
    for code, body in declared.items():
        if code < 400 or (method, path) in OWN_503:
            continue
        schema = body["content"]["application/json"]["schema"]
        assert schema == {"$ref": ERROR}, f"{method} {path} {code}: {schema}"


def test_the_error_body_is_a_component() -> None:
    schemas = SPEC["components"]["schemas"]
    assert schemas["ErrorResponse"]["required"] == ["error"]
    assert set(schemas["ErrorBody"]["properties"]) == {"code", "message", "details"}
    assert set(schemas["ErrorDetail"]["properties"]) == {"path", "code", "message"}
