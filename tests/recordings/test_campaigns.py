"""Campaigns: CRUD, keys limited to campaigns, and runs and deployments that belong to one."""

from __future__ import annotations

from collections.abc import Callable

import httpx
from sqlalchemy.engine import Engine
from temporalio.worker import Worker

from store.db import session_scope
from store.models import Execution
from tests.api.helpers import TenantKeys, make_flow, run, wait_for_status
from tests.recordings.helpers import make_campaign, make_key
from tests.telephony.helpers import paths, register


async def test_campaigns_are_created_read_renamed_and_deleted(
    api: httpx.AsyncClient, tenant: TenantKeys
) -> None:
    manager, viewer = tenant.auth("manager"), tenant.auth("viewer")
    spring = await make_campaign(api, tenant, "Spring launch", description="Q2 outbound")
    await make_campaign(api, tenant, "Autumn")

    listed = await api.get("/api/campaigns", headers=viewer)
    assert [c["name"] for c in listed.json()] == ["Autumn", "Spring launch"]
    read = await api.get(f"/api/campaigns/{spring['id']}", headers=viewer)
    assert read.json()["description"] == "Q2 outbound"

    renamed = await api.patch(
        f"/api/campaigns/{spring['id']}",
        json={"name": "Summer launch", "description": None},
        headers=manager,
    )
    assert renamed.status_code == 200, renamed.text
    assert (renamed.json()["name"], renamed.json()["description"]) == ("Summer launch", None)

    deleted = await api.delete(f"/api/campaigns/{spring['id']}", headers=manager)
    assert deleted.status_code == 204
    gone = await api.get(f"/api/campaigns/{spring['id']}", headers=viewer)
    assert gone.status_code == 404


async def test_campaign_names_are_unique_per_tenant(
    api: httpx.AsyncClient, tenant: TenantKeys, other_tenant: TenantKeys
) -> None:
    manager = tenant.auth("manager")
    await make_campaign(api, tenant, "Renewals")
    autumn = await make_campaign(api, tenant, "Autumn")

    again = await api.post("/api/campaigns", json={"name": "Renewals"}, headers=manager)
    assert again.status_code == 409 and "Renewals" in again.json()["error"]["message"]
    clash = await api.patch(
        f"/api/campaigns/{autumn['id']}", json={"name": "Renewals"}, headers=manager
    )
    assert clash.status_code == 409
    await make_campaign(api, other_tenant, "Renewals")  # another tenant's name is free

    assert paths(await api.post("/api/campaigns", json={"name": ""}, headers=manager)) == ["$.name"]
    no_name = await api.patch(
        f"/api/campaigns/{autumn['id']}", json={"name": None}, headers=manager
    )
    assert no_name.status_code == 422


async def test_another_tenants_campaign_does_not_exist(
    api: httpx.AsyncClient, tenant: TenantKeys, other_tenant: TenantKeys
) -> None:
    theirs = await make_campaign(api, other_tenant, "Theirs")
    mine = tenant.auth("manager")

    assert (await api.get(f"/api/campaigns/{theirs['id']}", headers=mine)).status_code == 404
    patched = await api.patch(f"/api/campaigns/{theirs['id']}", json={"name": "x"}, headers=mine)
    assert patched.status_code == 404
    assert (await api.delete(f"/api/campaigns/{theirs['id']}", headers=mine)).status_code == 404
    assert (await api.get("/api/campaigns", headers=mine)).json() == []


async def test_keys_are_limited_to_campaigns_of_their_tenant(
    api: httpx.AsyncClient, tenant: TenantKeys, other_tenant: TenantKeys
) -> None:
    admin = tenant.auth("admin")
    ours = await make_campaign(api, tenant, "Ours")
    theirs = await make_campaign(api, other_tenant, "Theirs")

    unknown = await api.post(
        "/api/keys",
        json={"name": "x", "role": "viewer", "campaigns": ["nope", ours["id"], theirs["id"]]},
        headers=admin,
    )
    assert paths(unknown) == ["$.campaigns[0]", "$.campaigns[2]"]
    for_admin = await api.post(
        "/api/keys", json={"name": "x", "role": "admin", "campaigns": [ours["id"]]}, headers=admin
    )
    assert paths(for_admin) == ["$.campaigns"]
    malformed = await api.post(
        "/api/keys", json={"name": "x", "role": "viewer", "campaigns": "all"}, headers=admin
    )
    assert paths(malformed) == ["$.campaigns"]

    await make_key(api, tenant, role="viewer", campaigns=[ours["id"]])
    keys = {k["name"]: k for k in (await api.get("/api/keys", headers=admin)).json()}
    assert keys["viewer-scoped"]["campaigns"] == [ours["id"]]
    assert keys["viewer-key"]["campaigns"] is None  # every campaign


async def test_a_campaign_in_use_cannot_be_deleted(
    api: httpx.AsyncClient, tenant: TenantKeys, engine: Engine
) -> None:
    manager = tenant.auth("manager")
    used = await make_campaign(api, tenant, "Used")
    unused = await make_campaign(api, tenant, "Unused")
    flow = await make_flow(api, tenant)
    await run(api, tenant, flow["id"], campaign_id=used["id"])
    await make_key(api, tenant, role="viewer", campaigns=[used["id"], unused["id"]])

    refused = await api.delete(f"/api/campaigns/{used['id']}", headers=manager)
    assert refused.status_code == 409
    assert "executions" in refused.json()["error"]["message"]

    assert (await api.delete(f"/api/campaigns/{unused['id']}", headers=manager)).status_code == 204
    keys = {k["name"]: k for k in (await api.get("/api/keys", headers=tenant.auth())).json()}
    assert keys["viewer-scoped"]["campaigns"] == [used["id"]]


async def test_a_run_belongs_to_its_campaign_and_its_retry_too(
    api: httpx.AsyncClient, tenant: TenantKeys, engine: Engine, worker: Worker
) -> None:
    campaign = await make_campaign(api, tenant, "Spring launch")
    flow = await make_flow(api, tenant)

    started = await run(api, tenant, flow["id"], campaign_id=campaign["id"])

    assert started["campaign_id"] == campaign["id"]
    done = await wait_for_status(api, tenant, started["id"], "completed")
    assert done["campaign_id"] == campaign["id"]
    with session_scope(engine) as session:
        row = session.get(Execution, started["id"])
        assert row is not None and row.campaign_id == campaign["id"]
    retried = await api.post(
        f"/api/executions/{started['id']}/retry", headers=tenant.auth("manager")
    )
    assert retried.status_code in (200, 201), retried.text
    assert retried.json()["campaign_id"] == campaign["id"]
    plain = await run(api, tenant, flow["id"])
    assert plain["campaign_id"] is None


async def test_a_run_in_an_unknown_campaign_is_refused(
    api: httpx.AsyncClient,
    tenant: TenantKeys,
    make_tenant: Callable[[], TenantKeys],
) -> None:
    flow = await make_flow(api, tenant)
    theirs = await make_campaign(api, make_tenant(), "Theirs")

    for campaign_id in ("nope", theirs["id"]):
        response = await api.post(
            f"/api/flows/{flow['id']}/executions",
            json={"campaign_id": campaign_id},
            headers=tenant.auth("manager"),
        )
        assert paths(response) == ["$.campaign_id"]
    listed = await api.get(f"/api/executions?flow_id={flow['id']}", headers=tenant.auth("viewer"))
    assert listed.json()["items"] == []


async def test_a_deployment_carries_its_campaign(
    api: httpx.AsyncClient, tenant: TenantKeys
) -> None:
    campaign = await make_campaign(api, tenant, "Support line")
    flow = await make_flow(api, tenant)
    line = await register(api, tenant)
    manager = tenant.auth("manager")

    deployed = await api.post(
        f"/api/flows/{flow['id']}/deploy",
        json={"phone_numbers": [line["number"]], "campaign_id": campaign["id"]},
        headers=manager,
    )
    assert deployed.status_code == 201, deployed.text
    assert deployed.json()["deployments"][0]["campaign_id"] == campaign["id"]
    number = await api.get(f"/api/phone-numbers/{line['id']}", headers=tenant.auth("viewer"))
    assert number.json()["deployments"]["production"]["campaign_id"] == campaign["id"]
    unknown = await api.post(
        f"/api/flows/{flow['id']}/deploy",
        json={"phone_numbers": [line["number"]], "campaign_id": "nope"},
        headers=manager,
    )
    assert paths(unknown) == ["$.campaign_id"]
    # A deployed campaign is in use.
    refused = await api.delete(f"/api/campaigns/{campaign['id']}", headers=manager)
    assert refused.status_code == 409 and "deployments" in refused.json()["error"]["message"]
