"""`PUT /api/agents/{id}/status`: a manager sets any agent's availability, an agent key
only its own agent's (the key named after the agent), and available offers a waiting caller."""

from __future__ import annotations

import secrets

import httpx
from sqlalchemy.engine import Engine

from store.db import session_scope
from store.keys import issue_key
from tests.api.helpers import TenantKeys
from tests.telephony.helpers import create


def _agent_key(engine: Engine, tenant: TenantKeys, name: str) -> dict[str, str]:
    """The headers of an `agent` key named `name` (an agent's id or name makes it theirs)."""
    with session_scope(engine) as session:
        _, secret = issue_key(session, tenant_id=tenant.id, name=name, role="agent")
    return {"Authorization": f"Bearer {secret}"}


async def _set(
    api: httpx.AsyncClient, agent_id: str, status: str, headers: dict[str, str]
) -> httpx.Response:
    return await api.put(f"/api/agents/{agent_id}/status", json={"status": status}, headers=headers)


async def test_an_agent_sets_its_own_status_and_no_one_elses(
    api: httpx.AsyncClient, tenant: TenantKeys, engine: Engine
) -> None:
    asha = await create(api, tenant, "/api/agents", name="Asha", phone="+15550100201")
    bo = await create(api, tenant, "/api/agents", name="Bo", phone="+15550100202")
    as_asha = _agent_key(engine, tenant, "Asha")
    as_bo_by_id = _agent_key(engine, tenant, bo["id"])

    busy = await _set(api, asha["id"], "busy", as_asha)
    assert busy.status_code == 200, busy.text
    assert busy.json()["status"] == "busy"
    assert busy.json()["status_changed_at"] > asha["status_changed_at"]
    offline = await _set(api, bo["id"], "offline", as_bo_by_id)
    assert offline.status_code == 200, offline.text

    refused = await _set(api, bo["id"], "available", as_asha)
    assert refused.status_code == 403, refused.text
    assert refused.json()["error"]["message"] == (
        "this key may set only its own agent's status, not Bo's"
    )
    viewer = await _set(api, asha["id"], "available", tenant.auth("viewer"))
    assert viewer.status_code == 403, viewer.text
    unchanged = await api.get(f"/api/agents/{bo['id']}", headers=tenant.auth("viewer"))
    assert unchanged.json()["status"] == "offline"

    by_manager = await _set(api, bo["id"], "busy", tenant.auth("manager"))
    assert (by_manager.status_code, by_manager.json()["status"]) == (200, "busy")


async def test_the_status_is_checked_and_other_tenants_agents_are_not_found(
    api: httpx.AsyncClient, tenant: TenantKeys, other_tenant: TenantKeys
) -> None:
    asha = await create(api, tenant, "/api/agents", name="Asha", phone="+15550100203")
    manager = tenant.auth("manager")

    asleep = await _set(api, asha["id"], "asleep", manager)
    assert asleep.status_code == 422, asleep.text
    assert [d["path"] for d in asleep.json()["error"]["details"]] == ["$.status"]
    elsewhere = await _set(api, asha["id"], "available", other_tenant.auth("manager"))
    assert elsewhere.status_code == 404, elsewhere.text
    missing = await _set(api, "nope", "available", manager)
    assert missing.status_code == 404, missing.text


async def test_an_agent_who_says_it_is_available_is_offered_the_waiting_caller(
    api: httpx.AsyncClient, tenant: TenantKeys, engine: Engine
) -> None:
    sales = await create(api, tenant, "/api/departments", name="Sales", queue="sales")
    asha = await create(
        api, tenant, "/api/agents", name="Asha", phone="+15550100204",
        department_ids=[sales["id"]],
    )  # fmt: skip
    call_sid = "CA" + secrets.token_hex(16)
    routed = await api.post(
        "/api/departments/route",
        json={"call_sid": call_sid, "department": "Sales"},
        headers=tenant.auth("manager"),
    )
    assert routed.json()["status"] == "queued", routed.text

    free = await _set(api, asha["id"], "available", _agent_key(engine, tenant, "Asha"))

    assert free.status_code == 200, free.text
    assert free.json()["status"] == "busy"  # offered the caller at once
    queue = await api.get(f"/api/departments/{sales['id']}/queue", headers=tenant.auth("viewer"))
    assert queue.json() == []
