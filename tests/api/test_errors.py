"""Garbage in, a JSON 4xx out: never a 500 (the transport would raise it in the test)."""

from __future__ import annotations

import httpx
import pytest
from sqlalchemy.engine import Engine

from tests.api.helpers import TenantKeys, make_flow

JSON = {"content-type": "application/json"}


@pytest.mark.parametrize(
    ("method", "path", "content"),
    [
        ("POST", "/api/flows", b"{not json"),
        ("POST", "/api/flows", b""),
        ("POST", "/api/flows", b"[1, 2]"),
        ("POST", "/api/flows", b'"a string"'),
        ("POST", "/api/flows", b'{"name": 5, "priority": "high", "enabled": "maybe"}'),
        ("POST", "/api/flows", b'{"name": "x", "definition": 17}'),
        ("POST", "/api/flows", b'{"name": "x", "priority": 99999999999999999999}'),
        ("POST", "/api/flows", b'{"name": "x", "unknown": true}'),
        ("POST", "/api/flows/validate", b'{"definition": {"nodes": "lots"}}'),
        ("POST", "/api/flows/validate", b'{"definition": null}'),
        ("PUT", "/api/flows/priorities", b'{"order": "abc"}'),
        ("PUT", "/api/flows/priorities", b'{"order": [1, {"x": 2}]}'),
        ("POST", "/api/keys", b'{"name": "", "role": "admin"}'),
        ("POST", "/api/executions/cancel", b'{"since": "yesterday"}'),
        ("GET", "/api/executions?limit=100000000", None),
        ("GET", "/api/executions?limit=-1", None),
        ("GET", "/api/executions?limit=abc", None),
        ("GET", "/api/executions?since=not-a-date", None),
        ("GET", "/api/executions?test=perhaps", None),
        ("GET", "/api/executions?cursor=%00%01garbage", None),
        ("GET", "/api/executions?cursor=WyJ4IiwgMV0", None),  # a JSON list, not ours
        ("GET", "/api/events?after=-5", None),
        ("GET", "/api/events?after=99999999999999999999999", None),
        ("GET", "/api/outbox?cursor=%%%", None),
    ],
)
async def test_bad_input_is_a_json_4xx(
    api: httpx.AsyncClient, tenant: TenantKeys, method: str, path: str, content: bytes | None
) -> None:
    response = await api.request(method, path, content=content, headers={**tenant.auth(), **JSON})
    assert 400 <= response.status_code < 500, response.text
    error = response.json()["error"]
    assert error["code"] and error["message"]
    assert isinstance(error["details"], list)


async def test_wrong_types_name_their_paths(api: httpx.AsyncClient, tenant: TenantKeys) -> None:
    response = await api.post(
        "/api/flows",
        json={"name": 5, "enabled": "maybe", "trigger": {"type": "manual"}, "cooldown_minutes": []},
        headers=tenant.auth(),
    )
    assert response.status_code == 422
    paths = sorted(d["path"] for d in response.json()["error"]["details"])
    assert paths == ["$.cooldown_minutes", "$.enabled", "$.name"]


async def test_garbage_in_paths_and_bodies_of_a_real_flow(
    api: httpx.AsyncClient, tenant: TenantKeys
) -> None:
    flow = await make_flow(api, tenant)
    auth = tenant.auth()
    cases = [
        ("GET", f"/api/flows/{flow['id']}/versions/abc", None),
        ("GET", f"/api/flows/{flow['id']}/versions/0", None),
        ("GET", f"/api/flows/{flow['id']}/versions/99999999999999", None),
        ("GET", f"/api/flows/{flow['id']}/versions/1/diff/-3", None),
        ("POST", f"/api/flows/{flow['id']}/rollback", {"version": "latest"}),
        ("POST", f"/api/flows/{flow['id']}/executions", {"contact": "Asha"}),
        ("POST", f"/api/flows/{flow['id']}/executions", {"version": 2**40}),
        ("PATCH", f"/api/flows/{flow['id']}", {"business_hours": {"start": "25:00"}}),
        ("PATCH", f"/api/flows/{flow['id']}", {"trigger": "lead_created"}),
        ("PUT", f"/api/flows/{flow['id']}/versions/1", {"change_notes": "no definition"}),
    ]
    for method, path, body in cases:
        response = await api.request(method, path, json=body, headers=auth)
        assert 400 <= response.status_code < 500, (method, path, response.text)
        assert response.json()["error"]["code"]


async def test_text_the_database_cannot_store_is_refused(
    api: httpx.AsyncClient, tenant: TenantKeys, engine: Engine
) -> None:
    response = await api.post("/api/flows", json={"name": "nul\u0000byte"}, headers=tenant.auth())
    # SQLite stores a NUL; PostgreSQL refuses it in text, which is the client's input: a 422.
    expected = 422 if engine.dialect.name == "postgresql" else 201
    assert response.status_code == expected, response.text


async def test_absurdly_nested_json_is_refused(api: httpx.AsyncClient, tenant: TenantKeys) -> None:
    deep = b"[" * 100_000 + b"]" * 100_000
    response = await api.post("/api/flows", content=deep, headers={**tenant.auth(), **JSON})
    assert response.status_code in (400, 422)
    # Deep but parseable: the validator, not the JSON parser, meets it.
    for depth in (300, 5000):
        condition = '{"all": [' * depth + '{"var": "x", "op": "exists"}' + "]}" * depth
        node = f'{{"id": "a", "type": "condition", "config": {{"when": {condition}}}}}'
        body = f'{{"definition": {{"start": "a", "nodes": [{node}]}}}}'.encode()
        response = await api.post(
            "/api/flows/validate", content=body, headers={**tenant.auth(), **JSON}
        )
        assert response.status_code in (200, 400, 422), response.text[:300]
