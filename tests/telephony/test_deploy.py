"""Deploying flows to numbers: one flow per number and environment, moved atomically."""

from __future__ import annotations

import asyncio
from typing import Any

import httpx
from sqlalchemy.engine import Engine

from store.db import session_scope
from store.keys import issue_key
from tests.api.helpers import TenantKeys, make_flow, set_flow
from tests.telephony.helpers import paths, register

HOURS = {"start": "09:00", "end": "18:00", "timezone": "Europe/London"}


async def _deploy(
    api: httpx.AsyncClient, tenant: TenantKeys, flow_id: str, **body: Any
) -> httpx.Response:
    return await api.post(f"/api/flows/{flow_id}/deploy", json=body, headers=tenant.auth("manager"))


async def _active(
    api: httpx.AsyncClient, tenant: TenantKeys, number: dict[str, Any]
) -> dict[str, Any]:
    response = await api.get(f"/api/phone-numbers/{number['id']}", headers=tenant.auth("viewer"))
    assert response.status_code == 200, response.text
    return dict(response.json()["deployments"])


async def test_deploying_points_numbers_at_the_published_version(
    api: httpx.AsyncClient, tenant: TenantKeys
) -> None:
    menu = await make_flow(api, tenant, name="Menu")
    fallback = await make_flow(api, tenant, name="Closed")
    sales, support = await register(api, tenant), await register(api, tenant)
    response = await _deploy(
        api,
        tenant,
        menu["id"],
        phone_numbers=[sales["number"], support["number"]],
        schedule=HOURS,
        fallback_flow_id=fallback["id"],
    )
    assert response.status_code == 201, response.text
    deployed = response.json()["deployments"]
    assert [d["number"] for d in deployed] == [sales["number"], support["number"]]
    assert all(d["environment"] == "production" and d["version"] == 1 for d in deployed)
    assert deployed[0]["schedule"]["timezone"] == "Europe/London"
    assert deployed[0]["fallback_flow_id"] == fallback["id"] and deployed[0]["active"]

    active = await _active(api, tenant, sales)
    assert active["staging"] is None
    assert active["production"]["flow_id"] == menu["id"]
    assert active["production"]["id"] == deployed[0]["id"]
    listed = await api.get("/api/phone-numbers", headers=tenant.auth("viewer"))
    assert all(n["deployments"]["production"]["flow_id"] == menu["id"] for n in listed.json())
    # A number a flow answers cannot be removed or renumbered.
    manager = tenant.auth("manager")
    assert (
        await api.delete(f"/api/phone-numbers/{sales['id']}", headers=manager)
    ).status_code == 409
    renumber = await api.patch(
        f"/api/phone-numbers/{sales['id']}", json={"number": "+15550000001"}, headers=manager
    )
    assert renumber.status_code == 409


async def test_redeploying_moves_the_number_and_keeps_history(
    api: httpx.AsyncClient, tenant: TenantKeys
) -> None:
    first = await make_flow(api, tenant, name="First")
    second = await make_flow(api, tenant, name="Second")
    line = await register(api, tenant)
    old = (await _deploy(api, tenant, first["id"], phone_numbers=[line["number"]])).json()
    staged = await _deploy(
        api, tenant, second["id"], phone_numbers=[line["number"]], environment="staging"
    )
    assert staged.status_code == 201, staged.text
    active = await _active(api, tenant, line)
    assert active["production"]["flow_id"] == first["id"]
    assert active["staging"]["flow_id"] == second["id"]

    moved = await _deploy(api, tenant, second["id"], phone_numbers=[line["number"]])
    assert moved.status_code == 201, moved.text
    active = await _active(api, tenant, line)
    assert active["production"]["flow_id"] == second["id"]
    assert active["staging"]["id"] == staged.json()["deployments"][0]["id"]

    viewer = tenant.auth("viewer")
    history = (await api.get(f"/api/flows/{first['id']}/deployments", headers=viewer)).json()
    assert [d["id"] for d in history] == [old["deployments"][0]["id"]]
    assert history[0]["active"] is False and history[0]["replaced_at"] is not None
    current = (await api.get(f"/api/flows/{second['id']}/deployments", headers=viewer)).json()
    assert [(d["environment"], d["active"]) for d in current] == [
        ("production", True),
        ("staging", True),
    ]


async def test_an_explicit_version_is_pinned_and_drafts_are_refused(
    api: httpx.AsyncClient, tenant: TenantKeys
) -> None:
    flow = await make_flow(api, tenant)
    line = await register(api, tenant)
    manager = tenant.auth("manager")
    draft = await api.post(
        f"/api/flows/{flow['id']}/versions", json={"definition": set_flow(2)}, headers=manager
    )
    assert draft.status_code == 201, draft.text
    refused = await _deploy(api, tenant, flow["id"], phone_numbers=[line["number"]], version=2)
    assert paths(refused) == ["$.version"]
    missing = await _deploy(api, tenant, flow["id"], phone_numbers=[line["number"]], version=9)
    assert paths(missing) == ["$.version"]
    await api.post(f"/api/flows/{flow['id']}/versions/2/publish", headers=manager)
    pinned = await _deploy(api, tenant, flow["id"], phone_numbers=[line["number"]], version=1)
    assert pinned.status_code == 201, pinned.text
    assert pinned.json()["deployments"][0]["version"] == 1
    default = await _deploy(api, tenant, flow["id"], phone_numbers=[line["number"]])
    assert default.json()["deployments"][0]["version"] == 2

    unpublished = await make_flow(api, tenant, publish=False)
    never = await _deploy(api, tenant, unpublished["id"], phone_numbers=[line["number"]])
    assert never.status_code == 409 and never.json()["error"]["code"] == "conflict"


async def test_bad_deploy_requests_are_422_at_their_paths(
    api: httpx.AsyncClient, tenant: TenantKeys, other_tenant: TenantKeys
) -> None:
    flow = await make_flow(api, tenant)
    mine = await register(api, tenant)
    theirs = await register(api, other_tenant)
    unknown = await _deploy(
        api, tenant, flow["id"], phone_numbers=[mine["number"], theirs["number"], "+15559999999"]
    )
    assert paths(unknown) == ["$.phone_numbers[1]", "$.phone_numbers[2]"]
    malformed = await _deploy(
        api,
        tenant,
        flow["id"],
        phone_numbers=[],
        environment="qa",
        schedule={"start": "25:00", "end": "18:00"},
    )
    assert paths(malformed) == ["$.environment", "$.phone_numbers", "$.schedule.start"]
    dup = await _deploy(api, tenant, flow["id"], phone_numbers=[mine["number"], mine["number"]])
    assert paths(dup) == ["$.phone_numbers"]

    draft_only = await make_flow(api, tenant, publish=False)
    foreign = await make_flow(api, other_tenant)
    for fallback in (draft_only["id"], foreign["id"], flow["id"], "nope"):
        response = await _deploy(
            api, tenant, flow["id"], phone_numbers=[mine["number"]], fallback_flow_id=fallback
        )
        assert paths(response) == ["$.fallback_flow_id"], fallback
    assert (await _active(api, tenant, mine))["production"] is None


async def test_deploys_are_private_to_the_tenant_and_need_a_manager(
    api: httpx.AsyncClient, tenant: TenantKeys, other_tenant: TenantKeys
) -> None:
    flow = await make_flow(api, tenant)
    line = await register(api, tenant)
    body = {"phone_numbers": [line["number"]]}
    viewer = await api.post(
        f"/api/flows/{flow['id']}/deploy", json=body, headers=tenant.auth("viewer")
    )
    assert viewer.status_code == 403
    foreign = await _deploy(api, other_tenant, flow["id"], **body)
    assert foreign.status_code == 404
    history = await api.get(f"/api/flows/{flow['id']}/deployments", headers=other_tenant.auth())
    assert history.status_code == 404
    assert (await _deploy(api, tenant, flow["id"], **body)).status_code == 201
    mine = await api.get(f"/api/flows/{flow['id']}/deployments", headers=tenant.auth("viewer"))
    assert len(mine.json()) == 1


async def test_concurrent_deploys_of_a_number_leave_exactly_one_active(
    api: httpx.AsyncClient, tenant: TenantKeys
) -> None:
    flows = [await make_flow(api, tenant, name=f"Flow {i}") for i in range(4)]
    line = await register(api, tenant)
    responses = await asyncio.gather(
        *(_deploy(api, tenant, f["id"], phone_numbers=[line["number"]]) for f in flows)
    )
    assert [r.status_code for r in responses] == [201] * 4, [r.text for r in responses]

    active = (await _active(api, tenant, line))["production"]
    viewer = tenant.auth("viewer")
    rows = []
    for flow in flows:
        history = await api.get(f"/api/flows/{flow['id']}/deployments", headers=viewer)
        rows += history.json()
    assert len(rows) == 4
    assert [r["id"] for r in rows if r["active"]] == [active["id"]]


async def test_a_flow_a_number_answers_with_cannot_be_deleted_until_it_is_replaced(
    api: httpx.AsyncClient, tenant: TenantKeys
) -> None:
    menu = await make_flow(api, tenant, name="Menu")
    closed = await make_flow(api, tenant, name="Closed")
    other = await make_flow(api, tenant, name="New menu")
    number = (await register(api, tenant))["number"]
    deployed = await _deploy(
        api, tenant, menu["id"], phone_numbers=[number], fallback_flow_id=closed["id"]
    )
    assert deployed.status_code == 201, deployed.text

    for flow in (menu, closed):
        refused = await api.delete(f"/api/flows/{flow['id']}", headers=tenant.auth("manager"))
        assert refused.status_code == 409, refused.text
        assert number in refused.json()["error"]["message"]

    moved = await _deploy(api, tenant, other["id"], phone_numbers=[number])
    assert moved.status_code == 201, moved.text
    for flow in (menu, closed):
        deleted = await api.delete(f"/api/flows/{flow['id']}", headers=tenant.auth("manager"))
        assert deleted.status_code == 204, deleted.text


async def test_a_key_first_used_to_deploy_keeps_working_afterwards(
    api: httpx.AsyncClient, tenant: TenantKeys, engine: Engine
) -> None:
    """A deploy ends its read transaction with a rollback, which expires what its session
    holds. The key it authenticated with is cached for the next requests: it must not be
    among those."""
    menu = await make_flow(api, tenant, name="Menu")
    number = await register(api, tenant)
    with session_scope(engine) as session:
        _, secret = issue_key(session, tenant_id=tenant.id, name="deployer", role="manager")
    deployer = {"Authorization": f"Bearer {secret}"}

    deployed = await api.post(
        f"/api/flows/{menu['id']}/deploy",
        json={"phone_numbers": [number["number"]]},
        headers=deployer,
    )
    listed = await api.get("/api/flows", headers=deployer)

    assert deployed.status_code == 201, deployed.text
    assert listed.status_code == 200, listed.text


async def test_undeploying_stops_the_number_answering_and_keeps_the_history(
    api: httpx.AsyncClient, tenant: TenantKeys, other_tenant: TenantKeys
) -> None:
    flow = await make_flow(api, tenant, name="Menu")
    line = await register(api, tenant)
    for environment in ("production", "staging"):
        deployed = await _deploy(
            api, tenant, flow["id"], phone_numbers=[line["number"]], environment=environment
        )
        assert deployed.status_code == 201, deployed.text
    manager = tenant.auth("manager")
    url = f"/api/phone-numbers/{line['id']}/deployments"

    assert (await api.delete(f"{url}/staging", headers=tenant.auth("viewer"))).status_code == 403
    assert (
        await api.delete(f"{url}/staging", headers=other_tenant.auth("manager"))
    ).status_code == 404
    assert paths(await api.delete(f"{url}/qa", headers=manager)) == ["$.path.environment"]
    ended = await api.delete(f"{url}/staging", headers=manager)

    assert ended.status_code == 200, ended.text
    assert ended.json()["deployments"]["staging"] is None
    assert ended.json()["deployments"]["production"]["flow_id"] == flow["id"]
    again = await api.delete(f"{url}/staging", headers=manager)
    assert again.status_code == 404 and "nothing is deployed" in again.json()["error"]["message"]
    history = await api.get(f"/api/flows/{flow['id']}/deployments", headers=tenant.auth("viewer"))
    assert sorted((d["environment"], d["active"]) for d in history.json()) == [
        ("production", True),
        ("staging", False),
    ]

    # With production undeployed too, the number (and the flow) can be removed.
    assert (await api.delete(f"{url}/production", headers=manager)).status_code == 200
    removed = await api.delete(f"/api/phone-numbers/{line['id']}", headers=manager)
    assert removed.status_code == 204, removed.text
    assert (await api.delete(f"/api/flows/{flow['id']}", headers=manager)).status_code == 204
