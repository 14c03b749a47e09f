"""Contacts through the API: intake, merging by phone, bulk, search, edits, isolation."""

from __future__ import annotations

import httpx
from sqlalchemy.engine import Engine
from sqlmodel import Session, select
from temporalio.client import Client
from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.testing import WorkflowEnvironment
from temporalio.worker import Worker

from api.main import create_app
from schemas.settings import Settings
from store.models import Execution
from tests.api.helpers import TenantKeys, wait_for_status
from tests.engagement.helpers import executions, lead_flow, post_lead, source_is


def _paths(response: httpx.Response) -> list[str]:
    assert response.status_code == 422, response.text
    return [d["path"] for d in response.json()["error"]["details"]]


async def test_invalid_contacts_are_refused_with_their_paths(
    api: httpx.AsyncClient, tenant: TenantKeys
) -> None:
    manager = tenant.auth("manager")
    bad_phone = await api.post("/api/contacts", json={"phone": "98123"}, headers=manager)
    assert _paths(bad_phone) == ["$.phone"]
    local = await api.post("/api/contacts", json={"phone": "+0123456789"}, headers=manager)
    assert _paths(local) == ["$.phone"]
    nobody = await api.post("/api/contacts", json={"name": "Nameless"}, headers=manager)
    assert _paths(nobody) == ["$"]
    odd = await api.post(
        "/api/contacts",
        json={"phone": "+919800000001", "email": "nope", "tags": [""], "colour": "red"},
        headers=manager,
    )
    assert sorted(_paths(odd)) == ["$.colour", "$.email", "$.tags[0]"]


async def test_a_known_phone_merges_into_its_contact(
    api: httpx.AsyncClient, tenant: TenantKeys
) -> None:
    status, first = await post_lead(
        api,
        tenant,
        name="Asha",
        phone="+919800000001",
        lead_source="IndiaMART",
        entry_type="integration",
        tags=["vip"],
        custom={"product": "pipes", "city": "Pune"},
    )
    assert status == 201
    status, merged = await post_lead(
        api,
        tenant,
        name="Asha K",
        phone="+919800000001",
        tags=["VIP", "hot"],
        custom={"product": "valves"},
    )
    assert status == 200
    assert merged["id"] == first["id"]
    assert merged["name"] == "Asha K"
    assert merged["lead_source"] == "IndiaMART" and merged["entry_type"] == "integration"
    assert merged["tags"] == ["vip", "hot"]
    assert merged["custom"] == {"product": "valves", "city": "Pune"}


async def test_bulk_intake_stores_the_valid_and_reports_the_invalid(
    api: httpx.AsyncClient, tenant: TenantKeys, worker: object
) -> None:
    flow = await lead_flow(api, tenant, "Bulk", source_is("IndiaMART"), priority=1)
    items = [
        {"name": "A", "phone": "+919800000021", "lead_source": "IndiaMART"},
        {"name": "B", "phone": "12"},
        {"name": "C", "email": "c@example.com", "entry_type": "upload"},
        "not an object",
    ]
    response = await api.post(
        "/api/contacts/bulk", json={"contacts": items}, headers=tenant.auth("manager")
    )
    assert response.status_code == 200, response.text
    body = response.json()
    assert (body["created"], body["updated"], body["invalid"]) == (2, 0, 2)
    results = body["results"]
    assert [r["status"] for r in results] == ["created", "invalid", "created", "invalid"]
    assert [e["path"] for e in results[1]["errors"]] == ["$.contacts[1].phone"]
    assert [e["path"] for e in results[3]["errors"]] == ["$.contacts[3]"]
    engaged = results[0]["contact"]["engagement"]
    assert (engaged["status"], engaged["flow_id"]) == ("started", flow["id"])
    assert results[2]["contact"]["engagement"]["status"] == "no_match"

    listed = await api.get("/api/contacts", headers=tenant.auth("viewer"))
    assert sorted(c["name"] for c in listed.json()["items"]) == ["A", "C"]

    too_many = await api.post(
        "/api/contacts/bulk",
        json={"contacts": [{"phone": "+919800000001"}] * 501},
        headers=tenant.auth("manager"),
    )
    assert _paths(too_many) == ["$.contacts"]


async def test_search_pages_edits_and_deletes(api: httpx.AsyncClient, tenant: TenantKeys) -> None:
    for i, name in enumerate(("Asha Rao", "Ravi Iyer", "Asha Menon")):
        await post_lead(api, tenant, name=name, phone=f"+91980000010{i}", email=f"{i}@x.example")
    viewer = tenant.auth("viewer")
    found = await api.get("/api/contacts", params={"q": "asha"}, headers=viewer)
    assert [c["name"] for c in found.json()["items"]] == ["Asha Menon", "Asha Rao"]
    by_phone = await api.get("/api/contacts", params={"q": "0000101"}, headers=viewer)
    assert [c["name"] for c in by_phone.json()["items"]] == ["Ravi Iyer"]
    by_email = await api.get("/api/contacts", params={"q": "2@x"}, headers=viewer)
    assert [c["name"] for c in by_email.json()["items"]] == ["Asha Menon"]

    page = await api.get("/api/contacts", params={"limit": 2}, headers=viewer)
    rest = await api.get(
        "/api/contacts", params={"limit": 2, "cursor": page.json()["next_cursor"]}, headers=viewer
    )
    names = [c["name"] for c in page.json()["items"] + rest.json()["items"]]
    assert names == ["Asha Menon", "Ravi Iyer", "Asha Rao"]
    assert rest.json()["next_cursor"] is None
    bad = await api.get("/api/contacts", params={"cursor": "garbage"}, headers=viewer)
    assert _paths(bad) == ["$.query.cursor"]

    ravi = by_phone.json()["items"][0]
    manager = tenant.auth("manager")
    edited = await api.patch(
        f"/api/contacts/{ravi['id']}",
        json={"tags": ["b2b"], "custom": {"city": "Chennai"}, "email": None},
        headers=manager,
    )
    assert edited.status_code == 200, edited.text
    assert (edited.json()["tags"], edited.json()["custom"]) == (["b2b"], {"city": "Chennai"})
    assert edited.json()["email"] is None
    removed = await api.patch(
        f"/api/contacts/{ravi['id']}", json={"custom": {"city": None}}, headers=manager
    )
    assert removed.json()["custom"] == {}
    clash = await api.patch(
        f"/api/contacts/{ravi['id']}", json={"phone": "+919800000100"}, headers=manager
    )
    assert clash.status_code == 409
    assert _paths(
        await api.patch(f"/api/contacts/{ravi['id']}", json={"phone": "1"}, headers=manager)
    ) == ["$.phone"]

    assert (await api.delete(f"/api/contacts/{ravi['id']}", headers=manager)).status_code == 204
    assert (await api.get(f"/api/contacts/{ravi['id']}", headers=viewer)).status_code == 404


async def test_another_tenants_contacts_are_invisible(
    api: httpx.AsyncClient, tenant: TenantKeys, other_tenant: TenantKeys
) -> None:
    _, contact = await post_lead(api, tenant, name="Asha", phone="+919800000001")
    url = f"/api/contacts/{contact['id']}"
    theirs = other_tenant.auth("manager")
    assert (await api.get(url, headers=theirs)).status_code == 404
    assert (await api.patch(url, json={"name": "x"}, headers=theirs)).status_code == 404
    assert (await api.delete(url, headers=theirs)).status_code == 404
    assert (await api.get("/api/contacts", headers=theirs)).json()["items"] == []
    # The same phone is a different contact in another tenant.
    status, own = await post_lead(api, other_tenant, name="Other", phone="+919800000001")
    assert status == 201 and own["id"] != contact["id"]
    assert (await api.get(url, headers=tenant.auth("viewer"))).json()["name"] == "Asha"


async def test_the_contact_is_stored_when_engagement_fails(
    engine: Engine, settings: Settings, tenant: TenantKeys, api: httpx.AsyncClient
) -> None:
    await lead_flow(api, tenant, "Hi", source_is("IndiaMART"), priority=1)
    unreachable = settings.model_copy(update={"temporal_address": "127.0.0.1:1"})
    app = create_app(settings=unreachable, engine=engine)
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://t") as offline:
        response = await offline.post(
            "/api/contacts",
            json={"name": "Asha", "phone": "+919800000001", "lead_source": "IndiaMART"},
            headers=tenant.auth("manager"),
        )
    assert response.status_code == 201, response.text
    engagement = response.json()["engagement"]
    assert engagement["status"] == "error"
    assert "Temporal is unreachable" in engagement["reason"]
    read = await api.get(f"/api/contacts/{response.json()['id']}", headers=tenant.auth("viewer"))
    assert read.status_code == 200
    with Session(engine) as session:
        rows = session.exec(select(Execution).where(Execution.tenant_id == tenant.id)).all()
        assert rows == []


async def test_a_lead_whose_start_fails_enters_on_its_next_post(
    engine: Engine,
    settings: Settings,
    tenant: TenantKeys,
    api: httpx.AsyncClient,
    worker: Worker,
    temporal_env: WorkflowEnvironment,
) -> None:
    flow = await lead_flow(api, tenant, "Hi", source_is("IndiaMART"), priority=1)
    # A Temporal server that answers but refuses the start (its namespace does not exist).
    refusing = await Client.connect(
        temporal_env.client.service_client.config.target_host,
        namespace="no-such-namespace",
        data_converter=pydantic_data_converter,
    )
    app = create_app(settings=settings, engine=engine, temporal_client=refusing)
    lead = {"name": "Asha", "phone": "+919800000001", "lead_source": "IndiaMART"}
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://t") as refused:
        response = await refused.post("/api/contacts", json=lead, headers=tenant.auth("manager"))
    assert response.status_code == 201, response.text
    engagement = response.json()["engagement"]
    assert engagement["status"] == "error"
    assert "could not be started" in engagement["reason"]
    [failed] = await executions(api, tenant, flow_id=flow["id"])
    assert failed["status"] == "failed" and "could not be started" in failed["reason"]
    assert failed["contact_id"] == response.json()["id"]

    # The claim was given up: the next post enters at once, well inside the 60 min cooldown.
    _, again = await post_lead(api, tenant, **lead)
    assert again["engagement"]["status"] == "started", again
    started = await wait_for_status(api, tenant, again["engagement"]["execution_id"], "completed")
    assert started["contact_id"] == response.json()["id"]
    assert started["match"]["flow_id"] == flow["id"]
