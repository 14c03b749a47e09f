"""No 500 from a value: every integer a client sends is bounded to what its column or use can
take (422 at its path), and an integer the database driver still cannot pass is a 422 too."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from fastapi import APIRouter
from sqlalchemy.engine import Engine

from api.deps import SessionDep
from api.main import create_app
from api.routes.events import _resume_after
from schemas.settings import Settings
from store.flows import find_version
from tests.api.helpers import TenantKeys, make_flow

TOO_BIG = 2**63  # one past SQLite's INTEGER and PostgreSQL's BIGINT


@pytest.mark.parametrize(
    ("route", "extra"),
    [
        ("rollback", {}),
        ("test", {}),
        ("deploy", {"phone_numbers": ["+15550100001"]}),
        ("executions", {}),
    ],
)
async def test_a_version_beyond_64_bits_is_422_at_its_path(
    api: httpx.AsyncClient, tenant: TenantKeys, route: str, extra: dict[str, Any]
) -> None:
    flow = await make_flow(api, tenant)
    response = await api.post(
        f"/api/flows/{flow['id']}/{route}",
        json={"version": TOO_BIG, **extra},
        headers=tenant.auth(),
    )
    assert response.status_code == 422, response.text
    assert [d["path"] for d in response.json()["error"]["details"]] == ["$.version"]
    # The connection was not dropped: the next request on it is answered.
    assert (await api.get(f"/api/flows/{flow['id']}", headers=tenant.auth())).status_code == 200


async def test_a_turn_beyond_32_bits_is_422_before_the_workflow_is_asked(
    api: httpx.AsyncClient,
) -> None:
    response = await api.post(
        "/webhooks/twilio/voice/turn",
        params={"execution": "x", "turn": str(TOO_BIG), "event": "gather"},
    )
    assert response.status_code == 422, response.text
    assert response.json()["error"]["details"][0]["path"] == "$.query.turn"


async def test_a_last_event_id_beyond_any_event_is_422(
    api: httpx.AsyncClient, tenant: TenantKeys
) -> None:
    response = await api.get(
        "/api/events/stream", headers={**tenant.auth(), "Last-Event-ID": str(TOO_BIG)}
    )
    assert response.status_code == 422, response.text
    assert response.json()["error"]["details"][0]["path"] == "$.header.Last-Event-ID"


def test_a_last_event_id_of_other_digits_is_ignored_not_a_500() -> None:
    """`"²".isdigit()` is true, and `int("²")` raises: a Latin-1 header can carry it."""
    assert _resume_after("²", default=7) == 7
    assert _resume_after(" 12 ", default=7) == 12


async def test_an_integer_the_database_refuses_is_422_not_500(
    engine: Engine, settings: Settings
) -> None:
    """The net under the bounds: a route that hands an unbounded integer to the database."""
    probe = APIRouter()

    @probe.get("/api/probe/{number}")
    def lookup(number: int, session: SessionDep) -> dict[str, bool]:
        return {"found": find_version(session, flow_id="none", number=number) is not None}

    app = create_app(settings=settings, engine=engine)
    app.include_router(probe)
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://t") as client:
        assert (await client.get("/api/probe/5")).json() == {"found": False}
        response = await client.get(f"/api/probe/{2**70}")
    # SQLite's driver cannot pass it (OverflowError); PostgreSQL refuses it (DataError).
    assert response.status_code == 422, response.text
    assert response.json()["error"]["code"] == "invalid_input"


def test_every_integer_a_client_sends_is_bounded() -> None:
    """Statically, from /openapi.json: an integer with no maximum is a 500 waiting for one."""
    app = create_app(settings=Settings(FLOWDECK_ENV="test", DATABASE_URL="sqlite://"))
    spec = app.openapi()
    unbounded = []
    for path, operations in spec["paths"].items():
        for method, operation in operations.items():
            where = f"{method.upper()} {path}"
            for parameter in operation.get("parameters", []):
                unbounded += _unbounded(spec, parameter["schema"], f"{where} {parameter['name']}")
            for content in operation.get("requestBody", {}).get("content", {}).values():
                unbounded += _unbounded(spec, content.get("schema", {}), f"{where} body")
    assert unbounded == []


def _unbounded(
    spec: dict[str, Any], schema: Any, at: str, seen: frozenset[str] = frozenset()
) -> list[str]:
    if not isinstance(schema, dict):
        return []
    if "$ref" in schema:
        name = schema["$ref"].rsplit("/", 1)[-1]
        if name in seen:
            return []
        return _unbounded(spec, spec["components"]["schemas"][name], at, seen | {name})
    found = []
    if schema.get("type") == "integer" and not (
        schema.get("minimum", -(2**64)) >= -(2**63) and schema.get("maximum", 2**64) < 2**63
    ):
        found.append(at)
    for key in ("anyOf", "oneOf", "allOf", "prefixItems"):
        for item in schema.get(key, []):
            found += _unbounded(spec, item, at, seen)
    for name, item in schema.get("properties", {}).items():
        found += _unbounded(spec, item, f"{at}.{name}", seen)
    for key in ("items", "additionalProperties"):
        found += _unbounded(spec, schema.get(key), f"{at}[]", seen)
    return found
