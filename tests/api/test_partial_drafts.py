"""Unfinished drafts (`partial`): saved as the builder saves as you go, their problems listed,
and refused where they would run or be published."""

from __future__ import annotations

from typing import Any

import httpx

from tests.api.helpers import TenantKeys, make_flow, set_flow


def _unfinished() -> dict[str, Any]:
    """A set step, then an HTTP step whose URL is not filled in yet."""
    return {
        "start": "assign",
        "nodes": [
            {
                "id": "assign",
                "type": "set",
                "config": {"assign": {"x": 1}},
                "transitions": {"next": "call"},
            },
            {"id": "call", "type": "http", "config": {"method": "POST"}, "transitions": {}},
        ],
    }


async def _save(
    api: httpx.AsyncClient, tenant: TenantKeys, flow_id: str, definition: Any, **body: Any
) -> httpx.Response:
    return await api.post(
        f"/api/flows/{flow_id}/versions",
        json={"definition": definition, **body},
        headers=tenant.auth("manager"),
    )


async def test_an_unfinished_draft_is_saved_with_its_problems_and_refused_when_published(
    api: httpx.AsyncClient, tenant: TenantKeys
) -> None:
    flow = await make_flow(api, tenant)
    strict = await _save(api, tenant, flow["id"], _unfinished())
    assert strict.status_code == 422  # without `partial`, a draft must validate, as before

    saved = await _save(api, tenant, flow["id"], _unfinished(), partial=True)
    assert saved.status_code == 201, saved.text
    draft = saved.json()
    errors = [p for p in draft["problems"] if p["severity"] == "error"]
    paths = {p["path"] for p in errors}
    assert "$.definition.nodes[1].config.url" in paths, draft["problems"]
    assert draft["definition"] == _unfinished()

    read = await api.get(
        f"/api/flows/{flow['id']}/versions/{draft['number']}", headers=tenant.auth("viewer")
    )
    assert read.json()["problems"] == draft["problems"]

    publish = await api.post(
        f"/api/flows/{flow['id']}/versions/{draft['number']}/publish",
        headers=tenant.auth("manager"),
    )
    assert publish.status_code == 422
    assert "$.definition.nodes[1].config.url" in {
        d["path"] for d in publish.json()["error"]["details"]
    }

    # Fixed as you go: the same draft, now valid, has no problems and publishes.
    fixed = await api.put(
        f"/api/flows/{flow['id']}/versions/{draft['number']}",
        json={"definition": set_flow(7), "partial": True},
        headers=tenant.auth("manager"),
    )
    assert fixed.status_code == 200, fixed.text
    assert fixed.json()["problems"] == []
    publish = await api.post(
        f"/api/flows/{flow['id']}/versions/{draft['number']}/publish",
        headers=tenant.auth("manager"),
    )
    assert publish.status_code == 200, publish.text
    assert publish.json()["problems"] == []


async def test_an_unfinished_draft_neither_runs_nor_dry_runs(
    api: httpx.AsyncClient, tenant: TenantKeys
) -> None:
    flow = await make_flow(api, tenant)
    draft = (await _save(api, tenant, flow["id"], _unfinished(), partial=True)).json()
    contact = {"phone": "+15550001111"}
    for path in ("executions", "test"):
        response = await api.post(
            f"/api/flows/{flow['id']}/{path}",
            json={"contact": contact, "version": draft["number"], "test": True}
            if path == "executions"
            else {"contact": contact, "version": draft["number"]},
            headers=tenant.auth("manager"),
        )
        assert response.status_code == 422, (path, response.text)
        error = response.json()["error"]
        assert "unfinished draft" in error["message"]
        assert [d["path"] for d in error["details"]] == ["$.version"]


async def test_a_partial_draft_is_still_held_to_the_size_limits_and_must_be_an_object(
    api: httpx.AsyncClient, tenant: TenantKeys
) -> None:
    flow = await make_flow(api, tenant)
    too_deep: Any = {"x": 1}
    for _ in range(100):
        too_deep = {"x": too_deep}
    deep = await _save(api, tenant, flow["id"], {"nodes": [], "extra": too_deep}, partial=True)
    assert deep.status_code == 422
    assert deep.json()["error"]["details"][0]["code"] == "too_deep"

    listed = await _save(api, tenant, flow["id"], [1, 2], partial=True)
    assert listed.status_code == 422
    assert listed.json()["error"]["details"] == [
        {"path": "$.definition", "code": "type", "message": "expected an object"}
    ]
    versions = await api.get(f"/api/flows/{flow['id']}/versions", headers=tenant.auth("viewer"))
    assert [v["number"] for v in versions.json()] == [1]  # nothing refused was stored
