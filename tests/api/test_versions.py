"""Versions: drafts, publishing, immutability, rollback and diffs."""

from __future__ import annotations

from typing import Any

import httpx

from tests.api.helpers import TenantKeys, make_flow, set_flow


async def _new_draft(
    api: httpx.AsyncClient, tenant: TenantKeys, flow_id: str, definition: dict[str, Any]
) -> dict[str, Any]:
    response = await api.post(
        f"/api/flows/{flow_id}/versions",
        json={"definition": definition, "change_notes": "next"},
        headers=tenant.auth("manager"),
    )
    assert response.status_code == 201, response.text
    return dict(response.json())


async def _publish(api: httpx.AsyncClient, tenant: TenantKeys, flow_id: str, n: int) -> None:
    response = await api.post(
        f"/api/flows/{flow_id}/versions/{n}/publish", headers=tenant.auth("manager")
    )
    assert response.status_code == 200, response.text


async def _statuses(api: httpx.AsyncClient, tenant: TenantKeys, flow_id: str) -> dict[int, str]:
    listed = await api.get(f"/api/flows/{flow_id}/versions", headers=tenant.auth("viewer"))
    return {v["number"]: v["status"] for v in listed.json()}


async def test_publishing_archives_the_previous_version(
    api: httpx.AsyncClient, tenant: TenantKeys
) -> None:
    flow = await make_flow(api, tenant)
    assert flow["published_version"] == 1
    draft = await _new_draft(api, tenant, flow["id"], set_flow(2))
    assert draft["number"] == 2 and draft["status"] == "draft"
    assert await _statuses(api, tenant, flow["id"]) == {1: "published", 2: "draft"}

    await _publish(api, tenant, flow["id"], 2)
    assert await _statuses(api, tenant, flow["id"]) == {1: "archived", 2: "published"}
    read = await api.get(f"/api/flows/{flow['id']}", headers=tenant.auth("viewer"))
    assert read.json()["published_version"] == 2
    version = await api.get(f"/api/flows/{flow['id']}/versions/2", headers=tenant.auth("viewer"))
    assert version.json()["published_at"] is not None

    events = await api.get("/api/events?types=flow.published", headers=tenant.auth("viewer"))
    published = [e for e in events.json()["items"] if e["flow_id"] == flow["id"]]
    assert [e["data"]["version"] for e in published] == [1, 2]


async def test_only_drafts_are_editable_and_publishable(
    api: httpx.AsyncClient, tenant: TenantKeys
) -> None:
    flow = await make_flow(api, tenant, publish=False)
    edited = await api.put(
        f"/api/flows/{flow['id']}/versions/1",
        json={"definition": set_flow("edited"), "change_notes": "tweak"},
        headers=tenant.auth("manager"),
    )
    assert edited.status_code == 200, edited.text
    assert edited.json()["definition"] == set_flow("edited")
    assert edited.json()["change_notes"] == "tweak"

    await _publish(api, tenant, flow["id"], 1)
    frozen = await api.put(
        f"/api/flows/{flow['id']}/versions/1",
        json={"definition": set_flow("again")},
        headers=tenant.auth("manager"),
    )
    assert frozen.status_code == 409
    assert "only drafts" in frozen.json()["error"]["message"]
    twice = await api.post(
        f"/api/flows/{flow['id']}/versions/1/publish", headers=tenant.auth("manager")
    )
    assert twice.status_code == 409
    unchanged = await api.get(f"/api/flows/{flow['id']}/versions/1", headers=tenant.auth())
    assert unchanged.json()["definition"] == set_flow("edited")
    missing = await api.get(f"/api/flows/{flow['id']}/versions/9", headers=tenant.auth())
    assert missing.status_code == 404


async def test_every_save_is_validated_with_paths(
    api: httpx.AsyncClient, tenant: TenantKeys
) -> None:
    flow = await make_flow(api, tenant, publish=False)
    broken = set_flow()
    broken["start"] = "missing"
    created = await api.post(
        f"/api/flows/{flow['id']}/versions",
        json={"definition": broken},
        headers=tenant.auth("manager"),
    )
    assert created.status_code == 422
    assert "$.definition.start" in [d["path"] for d in created.json()["error"]["details"]]

    not_an_object = await api.put(
        f"/api/flows/{flow['id']}/versions/1",
        json={"definition": ["nodes"]},
        headers=tenant.auth("manager"),
    )
    assert not_an_object.status_code == 422
    assert not_an_object.json()["error"]["details"][0]["path"].startswith("$.definition")
    assert await _statuses(api, tenant, flow["id"]) == {1: "draft"}


async def test_rollback_publishes_a_copy_of_an_older_version(
    api: httpx.AsyncClient, tenant: TenantKeys
) -> None:
    flow = await make_flow(api, tenant, definition=set_flow("one"))
    await _new_draft(api, tenant, flow["id"], set_flow("two"))
    await _publish(api, tenant, flow["id"], 2)

    rolled = await api.post(
        f"/api/flows/{flow['id']}/rollback", json={"version": 1}, headers=tenant.auth("manager")
    )
    assert rolled.status_code == 201, rolled.text
    copy = rolled.json()
    assert copy["number"] == 3 and copy["status"] == "published"
    assert copy["rolled_back_from"] == 1
    assert copy["definition"] == set_flow("one")
    assert await _statuses(api, tenant, flow["id"]) == {
        1: "archived",
        2: "archived",
        3: "published",
    }
    read = await api.get(f"/api/flows/{flow['id']}", headers=tenant.auth())
    assert read.json()["published_version"] == 3

    same = await api.post(
        f"/api/flows/{flow['id']}/rollback", json={"version": 3}, headers=tenant.auth("manager")
    )
    assert same.status_code == 409
    await _new_draft(api, tenant, flow["id"], set_flow("draft"))
    to_draft = await api.post(
        f"/api/flows/{flow['id']}/rollback", json={"version": 4}, headers=tenant.auth("manager")
    )
    assert to_draft.status_code == 409
    unknown = await api.post(
        f"/api/flows/{flow['id']}/rollback", json={"version": 40}, headers=tenant.auth("manager")
    )
    assert unknown.status_code == 404


async def test_diff_lists_nodes_added_removed_and_changed(
    api: httpx.AsyncClient, tenant: TenantKeys
) -> None:
    before = set_flow("one")
    after = set_flow("two")
    after["variables"] = {"company": "Acme Pumps", "region": "west"}
    after["nodes"][0]["transitions"] = {"next": "notify"}
    after["nodes"].insert(
        1,
        {
            "id": "notify",
            "type": "sms",
            "config": {"body": "Hi {{ contact.name }}"},
            "transitions": {"sent": "done", "failed": "done"},
        },
    )
    flow = await make_flow(api, tenant, definition=before)
    await _new_draft(api, tenant, flow["id"], after)

    response = await api.get(
        f"/api/flows/{flow['id']}/versions/1/diff/2", headers=tenant.auth("viewer")
    )
    assert response.status_code == 200, response.text
    diff = response.json()
    assert diff["from"] == 1 and diff["to"] == 2
    assert diff["start"] is None
    assert diff["variables"] == [
        {"field": "company", "from": "Acme", "to": "Acme Pumps"},
        {"field": "region", "to": "west"},
    ]
    assert diff["nodes"]["added"] == [{"id": "notify", "type": "sms"}]
    assert diff["nodes"]["removed"] == []
    assert diff["nodes"]["changed"] == [
        {
            "id": "assign",
            "type": "set",
            "changes": [
                {"field": "config.assign.x", "from": "one", "to": "two"},
                {"field": "transitions.next", "from": "done", "to": "notify"},
            ],
        }
    ]
    backwards = await api.get(
        f"/api/flows/{flow['id']}/versions/2/diff/1", headers=tenant.auth("viewer")
    )
    assert backwards.json()["nodes"]["removed"] == [{"id": "notify", "type": "sms"}]
