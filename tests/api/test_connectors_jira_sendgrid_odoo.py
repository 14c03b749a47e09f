"""Jira, Odoo and SendGrid connections through the API, and the flows that name them: the
connections' settings and secrets as the API takes them (the secret never answered), an email
step's `connection` checked on publish as a SendGrid one, and the dry run's warning."""

from __future__ import annotations

from typing import Any

import httpx

from tests.api.helpers import TenantKeys, make_flow

JIRA_TOKEN = "ATATT3xFfGF0apitesttoken00000000000"
ODOO_KEY = "9f8e7d6c5b4a39281706f5e4d3c2b1a0apitest"
SENDGRID_KEY = "SG.apitestkey00000000000.abcdefghijklmnopqrstuvwxyz0123456"


async def _create(
    api: httpx.AsyncClient, tenant: TenantKeys, body: dict[str, Any]
) -> httpx.Response:
    return await api.post("/api/connections", json=body, headers=tenant.auth("manager"))


async def test_jira_odoo_and_sendgrid_connections_are_made_and_never_shown(
    api: httpx.AsyncClient, tenant: TenantKeys
) -> None:
    jira = {
        "name": "jira",
        "integration": "jira",
        "auth": "basic",
        "settings": {"base_url": "https://acme.atlassian.net"},
        "secret": {"username": "ops@example.com", "password": JIRA_TOKEN},
    }
    odoo = {
        "name": "odoo",
        "integration": "odoo",
        "auth": "basic",
        "settings": {"base_url": "https://acme.odoo.com", "database": "acme"},
        "secret": {"username": "flowdeck", "password": ODOO_KEY},
    }
    sendgrid = {
        "name": "mail",
        "integration": "sendgrid",
        "auth": "api_key",
        "settings": {"from_email": "support@acme.example"},
        "secret": {"api_key": SENDGRID_KEY},
    }
    answers = [await _create(api, tenant, body) for body in (jira, odoo, sendgrid)]
    listed = await api.get("/api/connections", headers=tenant.auth("viewer"))

    assert [a.status_code for a in answers] == [201, 201, 201], [a.text for a in answers]
    assert answers[2].json()["settings"] == {
        "base_url": "https://api.sendgrid.com",
        "from_email": "support@acme.example",
    }
    for text in [*(a.text for a in answers), listed.text]:
        assert JIRA_TOKEN not in text and ODOO_KEY not in text and SENDGRID_KEY not in text

    no_database = {**odoo, "name": "odoo2", "settings": {"base_url": "https://acme.odoo.com"}}
    refused = await _create(api, tenant, no_database)
    assert refused.status_code == 422
    assert [(d["path"], d["code"]) for d in refused.json()["error"]["details"]] == [
        ("$.settings.database", "missing")
    ]


def _email_flow(connection: str) -> dict[str, Any]:
    return {
        "start": "mail",
        "nodes": [
            {
                "id": "mail",
                "type": "email",
                "config": {
                    "connection": connection,
                    "to": "{{ contact.email }}",
                    "subject": "Hello",
                    "body": "Hi {{ contact.name }}",
                },
                "transitions": {"sent": "done"},
            },
            {"id": "done", "type": "end"},
        ],
    }


async def test_an_email_step_names_a_sendgrid_connection(
    api: httpx.AsyncClient, tenant: TenantKeys
) -> None:
    flow = await make_flow(api, tenant, _email_flow("mail"), publish=False)
    publish = f"/api/flows/{flow['id']}/versions/1/publish"

    missing = await api.post(publish, headers=tenant.auth("manager"))
    tested = await api.post(
        f"/api/flows/{flow['id']}/test",
        json={"version": 1, "contact": {"name": "Asha", "email": "asha@example.com"}},
        headers=tenant.auth("manager"),
    )
    slack = {
        "name": "mail",
        "integration": "slack",
        "auth": "bearer",
        "secret": {"token": "xoxb-1"},
    }
    made = await _create(api, tenant, slack)
    wrong = await api.post(publish, headers=tenant.auth("manager"))

    assert missing.status_code == 422, missing.text
    [detail] = missing.json()["error"]["details"]
    assert detail["path"] == "$.definition.nodes[0].config.connection"
    assert detail["code"] == "unknown_connection"
    assert "no sendgrid connection named 'mail'" in detail["message"]
    assert tested.status_code == 200, tested.text
    mail = tested.json()["steps"][0]
    assert mail["calls"] == {"integration": "sendgrid", "action": None, "connection": "mail"}
    assert mail["warning"] == "no sendgrid connection named 'mail' in this tenant"
    assert wrong.status_code == 422
    assert wrong.json()["error"]["details"][0]["code"] == "wrong_integration"

    await api.delete(f"/api/connections/{made.json()['id']}", headers=tenant.auth("manager"))
    sendgrid = {"name": "mail", "integration": "sendgrid", "auth": "api_key"}
    await _create(api, tenant, {**sendgrid, "secret": {"api_key": SENDGRID_KEY}})
    published = await api.post(publish, headers=tenant.auth("manager"))
    assert published.status_code == 200, published.text
