"""Agents through the API: reachability, departments, skills, status and its timestamp."""

from __future__ import annotations

from datetime import datetime

import httpx
from sqlalchemy.engine import Engine

from store.db import session_scope
from store.models import ExecutionStep
from tests.api.helpers import TenantKeys, insert_execution, make_flow
from tests.telephony.helpers import create, paths


async def test_agents_are_created_filtered_and_change_status(
    api: httpx.AsyncClient, tenant: TenantKeys
) -> None:
    sales = await create(api, tenant, "/api/departments", name="Sales", queue="sales")
    support = await create(api, tenant, "/api/departments", name="Support", queue="support")
    asha = await create(
        api,
        tenant,
        "/api/agents",
        name="Asha",
        phone="+15550100001",
        department_ids=[sales["id"]],
        skills=["hindi", "pipes"],
        status="available",
    )
    ravi = await create(
        api,
        tenant,
        "/api/agents",
        name="Ravi",
        client_identity="ravi",
        department_ids=[sales["id"], support["id"]],
    )
    assert asha["status"] == "available" and asha["skills"] == ["hindi", "pipes"]
    assert ravi["status"] == "offline" and ravi["skills"] == [] and ravi["phone"] is None

    viewer = tenant.auth("viewer")

    async def names(query: str) -> list[str]:
        response = await api.get(f"/api/agents{query}", headers=viewer)
        assert response.status_code == 200, response.text
        return [a["name"] for a in response.json()]

    assert await names("") == ["Asha", "Ravi"]
    assert await names(f"?department_id={sales['id']}") == ["Asha", "Ravi"]
    assert await names(f"?department_id={support['id']}") == ["Ravi"]
    assert await names("?status=available") == ["Asha"]
    assert await names(f"?department_id={support['id']}&status=available") == []
    assert paths(await api.get("/api/agents?status=asleep", headers=viewer)) == ["$.query.status"]

    manager = tenant.auth("manager")
    renamed = await api.patch(f"/api/agents/{asha['id']}", json={"name": "A"}, headers=manager)
    assert renamed.json()["status_changed_at"] == asha["status_changed_at"]
    busy = await api.patch(f"/api/agents/{asha['id']}", json={"status": "busy"}, headers=manager)
    assert busy.status_code == 200, busy.text
    changed_at = datetime.fromisoformat(busy.json()["status_changed_at"])
    assert changed_at > datetime.fromisoformat(asha["status_changed_at"])
    assert await names("?status=busy") == ["A"]
    read = await api.get(f"/api/agents/{asha['id']}", headers=viewer)
    assert read.json()["status"] == "busy"
    assert datetime.fromisoformat(read.json()["status_changed_at"]) == changed_at

    # An agent leaves a department that is removed.
    await api.delete(f"/api/departments/{sales['id']}", headers=manager)
    read = await api.get(f"/api/agents/{ravi['id']}", headers=viewer)
    assert read.json()["department_ids"] == [support["id"]]
    assert (await api.delete(f"/api/agents/{ravi['id']}", headers=manager)).status_code == 204
    assert (await api.get(f"/api/agents/{ravi['id']}", headers=viewer)).status_code == 404


async def test_invalid_agents_are_422_at_their_paths(
    api: httpx.AsyncClient, tenant: TenantKeys, other_tenant: TenantKeys
) -> None:
    manager = tenant.auth("manager")
    unreachable = await api.post("/api/agents", json={"name": "Nobody"}, headers=manager)
    assert paths(unreachable) == ["$"]
    bad = await api.post(
        "/api/agents",
        json={"name": "X", "phone": "555", "status": "asleep", "skills": [""]},
        headers=manager,
    )
    assert paths(bad) == ["$.phone", "$.skills[0]", "$.status"]
    mine = await create(api, tenant, "/api/departments", name="Sales", queue="sales")
    theirs = await create(api, other_tenant, "/api/departments", name="Sales", queue="sales")
    borrowed = await api.post(
        "/api/agents",
        json={"name": "X", "phone": "+15550100002", "department_ids": [mine["id"], theirs["id"]]},
        headers=manager,
    )
    assert paths(borrowed) == ["$.department_ids[1]"]
    agent = await create(api, tenant, "/api/agents", name="X", phone="+15550100002")
    nulled = await api.patch(f"/api/agents/{agent['id']}", json={"status": None}, headers=manager)
    assert paths(nulled) == ["$"]
    unreachable = await api.patch(
        f"/api/agents/{agent['id']}", json={"phone": None}, headers=manager
    )
    assert paths(unreachable) == ["$"]
    read = await api.get(f"/api/agents/{agent['id']}", headers=manager)
    assert read.json()["phone"] == "+15550100002"


async def test_agents_are_private_to_their_tenant_and_written_by_managers(
    api: httpx.AsyncClient, tenant: TenantKeys, other_tenant: TenantKeys
) -> None:
    agent = await create(api, tenant, "/api/agents", name="Asha", client_identity="asha")
    listed = await api.get("/api/agents", headers=other_tenant.auth("viewer"))
    assert listed.json() == []
    for method in ("GET", "PATCH", "DELETE"):
        response = await api.request(
            method,
            f"/api/agents/{agent['id']}",
            json={"status": "busy"} if method == "PATCH" else None,
            headers=other_tenant.auth(),
        )
        assert response.status_code == 404, (method, response.text)
    viewer = tenant.auth("viewer")
    status = await api.patch(f"/api/agents/{agent['id']}", json={"status": "busy"}, headers=viewer)
    assert status.status_code == 403
    read = await api.get(f"/api/agents/{agent['id']}", headers=viewer)
    assert read.json()["status"] == "offline"


async def test_an_agents_active_flows_are_its_waiting_tasks_in_open_executions(
    api: httpx.AsyncClient, tenant: TenantKeys, other_tenant: TenantKeys, engine: Engine
) -> None:
    flow = await make_flow(api, tenant, name="Escalations")
    asha = await create(api, tenant, "/api/agents", name="Asha", phone="+15550100021")

    def task(status: str, assignee: str, step_status: str = "waiting") -> str:
        execution_id = insert_execution(engine, tenant.id, flow["id"], status=status)
        with session_scope(engine) as session:
            session.add(
                ExecutionStep(
                    execution_id=execution_id, tenant_id=tenant.id, seq=1, node_id="review",
                    node_type="human_task", status=step_status, result={"assignee": assignee},
                )
            )  # fmt: skip
        return execution_id

    by_name = task("waiting", "Asha")
    by_id = task("waiting", asha["id"])
    task("waiting", "role:support")  # someone else's
    task("completed", "Asha", "skipped")  # over
    task("cancelled", "Asha")  # over, its step left behind

    response = await api.get(f"/api/agents/{asha['id']}/flows/active", headers=tenant.auth("agent"))

    assert response.status_code == 200, response.text
    active = response.json()
    assert [(w["execution_id"], w["kind"], w["node_id"]) for w in active] == [
        (by_name, "task", "review"),
        (by_id, "task", "review"),
    ]
    assert all(w["flow_name"] == "Escalations" and w["status"] == "waiting" for w in active)
    foreign = await api.get(
        f"/api/agents/{asha['id']}/flows/active", headers=other_tenant.auth("viewer")
    )
    assert foreign.status_code == 404
