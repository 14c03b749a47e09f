"""Flows: settings, validation with JSON paths, priorities, soft delete, tenant isolation."""

from __future__ import annotations

import json

import httpx
import pytest
from sqlalchemy.engine import Engine

from store.db import session_scope
from store.models import Execution
from tests.api.helpers import TenantKeys, make_flow, set_flow
from tests.examples import EXAMPLE_FILES, settings_of


async def test_a_flow_is_created_with_its_settings_and_a_draft(
    api: httpx.AsyncClient, tenant: TenantKeys
) -> None:
    body = {
        "name": "Lead follow-up",
        "description": "call, then WhatsApp",
        "priority": 3,
        "trigger": {
            "type": "lead_created",
            "conditions": [{"field": "lead_source", "op": "eq", "value": "IndiaMART"}],
        },
        "business_hours": {"start": "09:30", "end": "18:30", "timezone": "Asia/Kolkata"},
        "cooldown_minutes": 15,
        "definition": set_flow(),
        "change_notes": "first cut",
    }
    created = await api.post("/api/flows", json=body, headers=tenant.auth("manager"))
    assert created.status_code == 201, created.text
    flow = created.json()
    assert flow["name"] == "Lead follow-up" and flow["priority"] == 3
    assert flow["trigger"]["conditions"][0]["value"] == "IndiaMART"
    assert flow["business_hours"]["days"] == ["mon", "tue", "wed", "thu", "fri"]
    assert flow["cooldown_minutes"] == 15 and flow["enabled"] is True
    assert flow["published_version"] is None
    assert [(v["number"], v["status"], v["change_notes"]) for v in flow["versions"]] == [
        (1, "draft", "first cut")
    ]
    draft = await api.get(f"/api/flows/{flow['id']}/versions/1", headers=tenant.auth("viewer"))
    assert draft.json()["definition"] == set_flow()
    assert draft.json()["created_by"] == "manager-key"


def test_there_is_an_example_for_each_kind_of_work() -> None:
    assert [path.stem for path in EXAMPLE_FILES] == [
        "bitrix_qualify",
        "campaign_script",
        "ivr_menu",
        "lead_engagement",
        "order_status",
    ]


async def test_the_examples_are_accepted_as_they_are(
    api: httpx.AsyncClient, tenant: TenantKeys
) -> None:
    """Each file is posted byte for byte (as `curl -d @examples/x.json` would), all five in one
    tenant; each validates with no error and becomes its flow's draft version 1 unchanged."""
    headers = {**tenant.auth("manager"), "Content-Type": "application/json"}
    for path in EXAMPLE_FILES:
        document = json.loads(path.read_text())
        checked = await api.post(
            "/api/flows/validate",
            json={"definition": document["definition"], "live_call": path.stem == "ivr_menu"},
            headers=headers,
        )
        assert checked.status_code == 200, (path.name, checked.text)
        assert checked.json()["errors"] == [], path.name

        created = await api.post("/api/flows", content=path.read_bytes(), headers=headers)
        assert created.status_code == 201, (path.name, created.text)
        flow = created.json()
        for name, value in settings_of(document).items():
            assert flow[name] == value, (path.name, name)
        draft = await api.get(f"/api/flows/{flow['id']}/versions/1", headers=headers)
        assert draft.json()["definition"] == document["definition"], path.name


async def test_an_invalid_definition_is_refused_with_json_paths(
    api: httpx.AsyncClient, tenant: TenantKeys
) -> None:
    definition = set_flow()
    definition["nodes"][0]["transitions"] = {"next": "nowhere"}
    definition["nodes"][1]["type"] = "teleport"
    response = await api.post(
        "/api/flows", json={"name": "bad", "definition": definition}, headers=tenant.auth("manager")
    )
    assert response.status_code == 422
    error = response.json()["error"]
    paths = {d["path"] for d in error["details"]}
    assert "$.definition.nodes[1].type" in paths
    assert "$.definition.nodes[0].transitions.next" in paths
    # Nothing was saved.
    assert (await api.get("/api/flows", headers=tenant.auth("viewer"))).json() == []


async def test_validate_reports_without_saving(api: httpx.AsyncClient, tenant: TenantKeys) -> None:
    ok = await api.post(
        "/api/flows/validate", json={"definition": set_flow()}, headers=tenant.auth("viewer")
    )
    assert ok.status_code == 200
    assert ok.json() == {"valid": True, "errors": [], "warnings": []}

    voice = {
        "start": "hello",
        "nodes": [
            {"id": "hello", "type": "say", "config": {"text": "Hi"}, "transitions": {"next": "e"}},
            {"id": "e", "type": "end"},
        ],
    }
    warned = await api.post(
        "/api/flows/validate", json={"definition": voice}, headers=tenant.auth("viewer")
    )
    assert warned.status_code == 200
    assert warned.json()["valid"] is True
    assert warned.json()["warnings"][0]["path"].startswith("$.definition.nodes[0]")

    bad = await api.post(
        "/api/flows/validate",
        json={"definition": {"start": "a", "nodes": [{"id": "a", "type": "sms", "config": {}}]}},
        headers=tenant.auth("viewer"),
    )
    assert bad.status_code == 422
    details = bad.json()["error"]["details"]
    assert {"path": "$.definition.nodes[0].config.body", "code": "missing"} in [
        {"path": d["path"], "code": d["code"]} for d in details
    ]


async def test_settings_are_validated_with_paths(
    api: httpx.AsyncClient, tenant: TenantKeys
) -> None:
    response = await api.post(
        "/api/flows",
        json={
            "name": "x",
            "trigger": {"type": "telepathy"},
            "business_hours": {"start": "18:00", "end": "09:00"},
            "cooldown_minutes": -1,
        },
        headers=tenant.auth("manager"),
    )
    assert response.status_code == 422
    paths = {d["path"] for d in response.json()["error"]["details"]}
    assert {"$.trigger.type", "$.business_hours", "$.cooldown_minutes"} <= paths


@pytest.mark.parametrize(
    ("condition", "where", "code"),
    [
        ({"field": "lead_source", "op": "like", "value": "x"}, ".op", "invalid_value"),
        ({"op": "eq", "value": "x"}, ".field", "missing"),
        ({"field": "lead_source", "op": "eq"}, ".value", "missing"),
        ({"field": "entry_type", "op": "any", "value": "email"}, ".value", "invalid_value"),
        ({"field": "shoe_size", "op": "eq", "value": "9"}, ".field", "invalid_value"),
        ({"field": "lead_source", "op": "eq", "value": "x", "or": 1}, ".or", "unknown_key"),
        ("lead_source = x", "", "invalid_value"),
    ],
)
async def test_lead_trigger_conditions_are_validated_with_paths(
    api: httpx.AsyncClient, tenant: TenantKeys, condition: object, where: str, code: str
) -> None:
    path = f"$.trigger.conditions[0]{where}"
    good = {"field": "lead_source", "op": "eq", "value": "IndiaMART"}
    trigger = {"type": "lead_created", "conditions": [condition, good]}
    created = await api.post(
        "/api/flows", json={"name": "Leads", "trigger": trigger}, headers=tenant.auth("manager")
    )
    assert created.status_code == 422, created.text
    error = created.json()["error"]
    assert error["code"] == "invalid_input"
    assert [(d["path"], d["code"]) for d in error["details"]] == [(path, code)]
    listed = await api.get("/api/flows", headers=tenant.auth("viewer"))
    assert listed.json() == []  # nothing was saved

    flow = await make_flow(api, tenant, trigger={"type": "lead_created", "conditions": [good]})
    patched = await api.patch(
        f"/api/flows/{flow['id']}", json={"trigger": trigger}, headers=tenant.auth("manager")
    )
    assert patched.status_code == 422, patched.text
    assert [d["path"] for d in patched.json()["error"]["details"]] == [path]
    read = await api.get(f"/api/flows/{flow['id']}", headers=tenant.auth("viewer"))
    assert read.json()["trigger"]["conditions"] == [good]  # the flow kept its trigger


async def test_every_bad_lead_condition_is_reported_and_good_ones_pass(
    api: httpx.AsyncClient, tenant: TenantKeys
) -> None:
    conditions = [
        {"field": "lead_source", "op": "eq", "value": "IndiaMART"},
        {"field": "custom.product", "op": "contains", "value": "steel"},
        {"field": "tags", "op": "any", "value": ["gold", "steel"]},
        {"field": "entry_type", "op": "ne", "value": None},
    ]
    trigger = {"type": "lead_created", "conditions": conditions}
    created = await api.post(
        "/api/flows", json={"name": "Leads", "trigger": trigger}, headers=tenant.auth("manager")
    )
    assert created.status_code == 201, created.text
    assert created.json()["trigger"]["conditions"] == conditions

    bad = [{"field": "lead_source", "op": "any", "value": "x"}, {"field": "tags"}]
    refused = await api.patch(
        f"/api/flows/{created.json()['id']}",
        json={"trigger": {"type": "lead_created", "conditions": bad}},
        headers=tenant.auth("manager"),
    )
    assert refused.status_code == 422
    assert {d["path"] for d in refused.json()["error"]["details"]} == {
        "$.trigger.conditions[0].value",
        "$.trigger.conditions[1].op",
        "$.trigger.conditions[1].value",
    }
    not_a_list = await api.patch(
        f"/api/flows/{created.json()['id']}",
        json={"trigger": {"type": "lead_created", "conditions": {"field": "tags"}}},
        headers=tenant.auth("manager"),
    )
    assert not_a_list.status_code == 422
    assert [d["path"] for d in not_a_list.json()["error"]["details"]] == ["$.trigger.conditions"]


async def test_patch_changes_only_what_is_given(api: httpx.AsyncClient, tenant: TenantKeys) -> None:
    flow = await make_flow(api, tenant, trigger={"type": "manual"}, cooldown_minutes=30)
    patched = await api.patch(
        f"/api/flows/{flow['id']}",
        json={"enabled": False, "trigger": {"type": "event", "event": "order.created"}},
        headers=tenant.auth("manager"),
    )
    assert patched.status_code == 200, patched.text
    body = patched.json()
    assert body["enabled"] is False
    assert body["trigger"] == {"type": "event", "event": "order.created"}
    assert body["cooldown_minutes"] == 30 and body["name"] == "Test flow"
    assert body["published_version"] == 1  # settings never touch versions

    refused = await api.patch(
        f"/api/flows/{flow['id']}", json={"name": None}, headers=tenant.auth("manager")
    )
    assert refused.status_code == 422


async def test_a_priority_is_unique_per_tenant(
    api: httpx.AsyncClient, tenant: TenantKeys, other_tenant: TenantKeys
) -> None:
    first = await make_flow(api, tenant, priority=1)
    clash = await api.post(
        "/api/flows", json={"name": "second", "priority": 1}, headers=tenant.auth("manager")
    )
    assert clash.status_code == 409
    assert clash.json()["error"]["code"] == "conflict"
    second = await make_flow(api, tenant, priority=2)
    moved = await api.patch(
        f"/api/flows/{second['id']}", json={"priority": 1}, headers=tenant.auth("manager")
    )
    assert moved.status_code == 409
    # Another tenant's priorities are its own.
    await make_flow(api, other_tenant, priority=1)
    assert (await api.get(f"/api/flows/{first['id']}", headers=tenant.auth())).json()[
        "priority"
    ] == 1


async def test_priorities_are_reordered_at_once(api: httpx.AsyncClient, tenant: TenantKeys) -> None:
    a = await make_flow(api, tenant, name="a", priority=1)
    b = await make_flow(api, tenant, name="b", priority=2)
    c = await make_flow(api, tenant, name="c", priority=3)
    unranked = await make_flow(api, tenant, name="d")

    response = await api.put(
        "/api/flows/priorities", json={"order": [c["id"], a["id"]]}, headers=tenant.auth("manager")
    )
    assert response.status_code == 200, response.text
    listed = await api.get("/api/flows", headers=tenant.auth("viewer"))
    ranks = {f["name"]: f["priority"] for f in listed.json()}
    assert ranks == {"c": 1, "a": 2, "b": 3, "d": None}  # b, not listed, follows
    assert [f["name"] for f in listed.json()] == ["c", "a", "b", "d"]

    unknown = await api.put(
        "/api/flows/priorities",
        json={"order": [unranked["id"], "missing"]},
        headers=tenant.auth("manager"),
    )
    assert unknown.status_code == 422
    assert [d["path"] for d in unknown.json()["error"]["details"]] == ["$.order[1]"]
    twice = await api.put(
        "/api/flows/priorities", json={"order": [a["id"], a["id"]]}, headers=tenant.auth("manager")
    )
    assert twice.status_code == 422
    assert b["id"]  # untouched by the refused requests:
    again = await api.get("/api/flows", headers=tenant.auth("viewer"))
    assert {f["name"]: f["priority"] for f in again.json()} == ranks


async def test_delete_is_soft_and_frees_the_priority(
    api: httpx.AsyncClient, tenant: TenantKeys, engine: Engine
) -> None:
    flow = await make_flow(api, tenant, priority=1)
    with session_scope(engine) as session:
        execution = Execution(
            tenant_id=tenant.id, flow_id=flow["id"], version=1, workflow_id="exec-x"
        )
        session.add(execution)
    deleted = await api.delete(f"/api/flows/{flow['id']}", headers=tenant.auth("manager"))
    assert deleted.status_code == 204
    assert (await api.get(f"/api/flows/{flow['id']}", headers=tenant.auth())).status_code == 404
    assert (await api.get("/api/flows", headers=tenant.auth())).json() == []
    again = await api.delete(f"/api/flows/{flow['id']}", headers=tenant.auth("manager"))
    assert again.status_code == 404
    await make_flow(api, tenant, priority=1)  # the priority is free again
    # Its executions stay readable.
    kept = await api.get(f"/api/executions/{execution.id}", headers=tenant.auth())
    assert kept.status_code == 200 and kept.json()["flow_name"] == "Test flow"


async def test_another_tenants_flow_does_not_exist(
    api: httpx.AsyncClient, tenant: TenantKeys, other_tenant: TenantKeys
) -> None:
    flow = await make_flow(api, tenant)
    theirs = other_tenant.auth("admin")
    fid = flow["id"]
    for method, path, body in [
        ("GET", f"/api/flows/{fid}", None),
        ("PATCH", f"/api/flows/{fid}", {"enabled": False}),
        ("DELETE", f"/api/flows/{fid}", None),
        ("GET", f"/api/flows/{fid}/versions", None),
        ("GET", f"/api/flows/{fid}/versions/1", None),
        ("PUT", f"/api/flows/{fid}/versions/1", {"definition": set_flow()}),
        ("POST", f"/api/flows/{fid}/versions", {"definition": set_flow()}),
        ("POST", f"/api/flows/{fid}/versions/1/publish", None),
        ("POST", f"/api/flows/{fid}/rollback", {"version": 1}),
        ("GET", f"/api/flows/{fid}/versions/1/diff/1", None),
        ("POST", f"/api/flows/{fid}/executions", {}),
    ]:
        response = await api.request(method, path, json=body, headers=theirs)
        assert response.status_code == 404, (method, path, response.text)
        assert response.json()["error"]["code"] == "not_found"
    assert (await api.get("/api/flows", headers=theirs)).json() == []
    reorder = await api.put("/api/flows/priorities", json={"order": [fid]}, headers=theirs)
    assert reorder.status_code == 422
    mine = await api.get(f"/api/flows/{fid}", headers=tenant.auth())
    assert mine.json()["enabled"] is True and mine.json()["published_version"] == 1
