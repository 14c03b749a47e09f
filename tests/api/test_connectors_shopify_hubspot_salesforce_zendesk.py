"""Shopify, HubSpot, Salesforce and Zendesk connections through the API, and the flows that
name them: the connections as the API takes them (the secret never answered), a step's config
refused at its path when its action lacks what it needs, publishing, and the dry run."""

from __future__ import annotations

import base64
from typing import Any

import httpx
import pytest
from pytest_httpserver import HTTPServer
from temporalio.testing import WorkflowEnvironment

from schemas.settings import Settings
from tests.api.conftest import TEMPORAL_UI
from tests.api.helpers import TenantKeys, make_flow


@pytest.fixture
def settings(task_queue: str, temporal_env: WorkflowEnvironment) -> Settings:
    """The API's settings, loopback allowed: the connection test's server lives there."""
    return Settings(
        FLOWDECK_ENV="test",
        TEMPORAL_ADDRESS=temporal_env.client.service_client.config.target_host,
        TEMPORAL_UI_URL=TEMPORAL_UI,
        FLOWDECK_TASK_QUEUE=task_queue,
        FLOWDECK_HTTP_ALLOWLIST="127.0.0.1,::1",
    )


SHOPIFY_TOKEN = "shpat_apitest0123456789abcdef012345"
HUBSPOT_TOKEN = "pat-na1-apitest0-1111-2222-3333-444455556666"
SALESFORCE_TOKEN = "00D5g000004APIT!AQ4AQapitestaccesstoken000"
SALESFORCE_SECRET = "E1F2A3B4C5D6apitestclientsecret"
ZENDESK_TOKEN = "apitestZendeskToken0123456789abcdefghij"
SECRETS = (SHOPIFY_TOKEN, HUBSPOT_TOKEN, SALESFORCE_TOKEN, SALESFORCE_SECRET, ZENDESK_TOKEN)

CONNECTIONS: list[dict[str, Any]] = [
    {
        "name": "shop",
        "integration": "shopify",
        "auth": "api_key",
        "settings": {"base_url": "https://acme.myshopify.com"},
        "secret": {"api_key": SHOPIFY_TOKEN},
    },
    {
        "name": "crm",
        "integration": "hubspot",
        "auth": "bearer",
        "secret": {"token": HUBSPOT_TOKEN},
    },
    {
        "name": "sfdc",
        "integration": "salesforce",
        "auth": "oauth2",
        "settings": {"instance_url": "https://acme.my.salesforce.com"},
        "secret": {
            "access_token": SALESFORCE_TOKEN,
            "refresh_token": "5Aep861apitestrefreshtoken",
            "client_id": "3MVG9apitestclient",
            "client_secret": SALESFORCE_SECRET,
            "token_url": "https://login.salesforce.com/services/oauth2/token",
        },
    },
    {
        "name": "support",
        "integration": "zendesk",
        "auth": "basic",
        "settings": {"base_url": "https://acme.zendesk.com"},
        "secret": {"username": "agent@acme.example", "password": ZENDESK_TOKEN},
    },
]


def _flow(hubspot: dict[str, Any]) -> dict[str, Any]:
    return {
        "start": "order",
        "nodes": [
            {
                "id": "order",
                "type": "shopify",
                "config": {"connection": "shop", "action": "get_order", "order_id": "450789469"},
                "transitions": {"success": "note"},
            },
            {
                "id": "note",
                "type": "hubspot",
                "config": hubspot,
                "transitions": {"success": "lead"},
            },
            {
                "id": "lead",
                "type": "salesforce",
                "config": {
                    "connection": "sfdc",
                    "action": "create",
                    "fields": {"LastName": "{{ contact.name }}", "Company": "Acme"},
                },
                "transitions": {"success": "ticket"},
            },
            {
                "id": "ticket",
                "type": "zendesk",
                "config": {
                    "connection": "support",
                    "action": "update_ticket",
                    "ticket_id": "{{ vars.ticket }}",
                    "status": "solved",
                },
                "transitions": {"success": "done"},
            },
            {"id": "done", "type": "end"},
        ],
    }


NOTE = {"connection": "crm", "action": "add_note", "email": "{{ contact.email }}", "note": "Hi"}


async def test_connections_are_made_never_shown_and_a_flow_using_them_is_published(
    api: httpx.AsyncClient, tenant: TenantKeys
) -> None:
    made = [
        await api.post("/api/connections", json=body, headers=tenant.auth("manager"))
        for body in CONNECTIONS
    ]
    listed = await api.get("/api/connections", headers=tenant.auth("viewer"))
    flow = await make_flow(api, tenant, _flow(NOTE), publish=False)
    published = await api.post(
        f"/api/flows/{flow['id']}/versions/1/publish", headers=tenant.auth("manager")
    )
    tested = await api.post(
        f"/api/flows/{flow['id']}/test",
        json={
            "version": 1,
            "contact": {"name": "Rao", "email": "rao@example.com"},
            "variables": {"ticket": "35436"},
        },
        headers=tenant.auth("manager"),
    )

    assert [m.status_code for m in made] == [201, 201, 201, 201], [m.text for m in made]
    assert made[0].json()["settings"] == {
        "base_url": "https://acme.myshopify.com",
        "api_version": "2024-10",
    }
    assert made[1].json()["settings"] == {"base_url": "https://api.hubapi.com"}
    for text in [*(m.text for m in made), listed.text, tested.text]:
        assert all(secret not in text for secret in SECRETS)
    assert published.status_code == 200, published.text
    assert tested.status_code == 200, tested.text
    steps = tested.json()["steps"]
    assert [s.get("calls", {}).get("integration") for s in steps] == [
        "shopify",
        "hubspot",
        "salesforce",
        "zendesk",
        None,
    ]
    assert not any(s.get("warning") for s in steps)
    assert steps[3]["rendered"]["ticket_id"] == "35436"


async def test_a_step_lacking_what_its_action_needs_is_refused_at_its_path(
    api: httpx.AsyncClient, tenant: TenantKeys
) -> None:
    no_contact = {"connection": "crm", "action": "add_note", "note": "Hi"}
    response = await api.post(
        "/api/flows", json={"name": "f", "definition": _flow(no_contact)}, headers=tenant.auth()
    )

    assert response.status_code == 422, response.text
    [detail] = response.json()["error"]["details"]
    assert detail["path"].startswith("$.definition.nodes[1]")
    assert "HubSpot's add_note needs `contact_id` or `email`" in detail["message"]

    comma = {"connection": "shop", "action": "add_tags", "order_id": 1, "tags": ["a,b"]}
    flow = _flow(NOTE)
    flow["nodes"][0]["config"] = comma
    response = await api.post(
        "/api/flows", json={"name": "f", "definition": flow}, headers=tenant.auth()
    )
    assert response.status_code == 422, response.text
    assert "a Shopify tag cannot contain a comma" in response.text


async def test_a_salesforce_connection_needs_its_instance_url(
    api: httpx.AsyncClient, tenant: TenantKeys
) -> None:
    body = {**CONNECTIONS[2], "settings": {}}
    response = await api.post("/api/connections", json=body, headers=tenant.auth("manager"))

    assert response.status_code == 422
    assert [(d["path"], d["code"]) for d in response.json()["error"]["details"]] == [
        ("$.settings.instance_url", "missing")
    ]
    assert SALESFORCE_TOKEN not in response.text


async def test_a_zendesk_connections_test_signs_in_as_its_step_does(
    api: httpx.AsyncClient, tenant: TenantKeys, httpserver: HTTPServer
) -> None:
    """Zendesk's API-token login is `{email}/token:{token}`: the test call and the step both
    add the `/token` the username lacks (`schemas.connections.auth_headers`)."""
    login = base64.b64encode(f"agent@acme.example/token:{ZENDESK_TOKEN}".encode()).decode()
    httpserver.expect_request(
        "/api/v2/users/me.json", headers={"Authorization": f"Basic {login}"}
    ).respond_with_json({"user": {"id": 35436, "name": "Agent"}})
    httpserver.expect_request("/api/v2/users/me.json").respond_with_json(
        {"user": {"id": None, "name": "Anonymous user"}}
    )
    body = {**CONNECTIONS[3], "settings": {"base_url": httpserver.url_for("").rstrip("/")}}
    made = await api.post("/api/connections", json=body, headers=tenant.auth("manager"))

    tested = await api.post(f"/api/connections/{made.json()['id']}/test", headers=tenant.auth())

    assert tested.json()["outcome"] == "ok", tested.text
    assert ZENDESK_TOKEN not in tested.text
