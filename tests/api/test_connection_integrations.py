"""`GET /api/connections/integrations`: what a connection of each integration takes, read
from the one table in `schemas/connections.py`, so a form drawn from it offers only what
`POST /api/connections` accepts."""

from __future__ import annotations

from typing import Any

import httpx

from schemas.connections import AUTH_FIELDS, INTEGRATION_SPECS
from tests.api.helpers import TenantKeys


async def _integrations(api: httpx.AsyncClient, tenant: TenantKeys) -> dict[str, Any]:
    response = await api.get("/api/connections/integrations", headers=tenant.auth("viewer"))
    assert response.status_code == 200, response.text
    return {entry["integration"]: entry for entry in response.json()}


async def test_each_integration_lists_its_auth_kinds_secret_fields_and_settings(
    api: httpx.AsyncClient, tenant: TenantKeys
) -> None:
    listed = await _integrations(api, tenant)

    assert list(listed) == list(INTEGRATION_SPECS)
    assert listed["slack"] == {
        "integration": "slack",
        "label": "Slack",
        "auth": [
            {"kind": "bearer", "required": ["token"], "optional": []},
            {"kind": "webhook_url", "required": ["url"], "optional": []},
        ],
        "settings": [
            {
                "name": "base_url",
                "type": "string",
                "required": False,
                "default": "https://slack.com/api",
            }
        ],
    }
    openai = {s["name"]: s for s in listed["openai"]["settings"]}
    assert openai["model"] == {
        "name": "model",
        "type": "string",
        "required": False,
        "default": None,
    }
    assert openai["price_per_1k_input"]["type"] == "number"
    odoo = {s["name"]: s["required"] for s in listed["odoo"]["settings"]}
    assert odoo == {"base_url": True, "database": True}
    oauth2 = next(a for a in listed["hubspot"]["auth"] if a["kind"] == "oauth2")
    assert oauth2["required"] == list(AUTH_FIELDS["oauth2"].required)
    assert "refresh_token" in oauth2["optional"]


async def test_what_it_lists_is_what_creating_a_connection_accepts(
    api: httpx.AsyncClient, tenant: TenantKeys
) -> None:
    """Every auth kind listed, with its required secret fields and settings filled in, makes
    a connection; an auth kind not listed for the integration is refused at `$.auth`."""
    listed = await _integrations(api, tenant)
    values = {"url": "https://hooks.example.com/x", "token_url": "https://id.example.com/token"}
    for integration, entry in listed.items():
        settings = {
            s["name"]: "https://api.example.com" if s["name"].endswith("url") else "main"
            for s in entry["settings"]
            if s["required"]
        }
        for auth in entry["auth"]:
            if integration == "postgresql":
                secret = {"url": "postgresql://u:p@db.example.com/app"}
            else:
                secret = {name: values.get(name, "s3cr3t-value") for name in auth["required"]}
            body = {
                "name": f"{integration}-{auth['kind']}".replace("_", "-"),
                "integration": integration,
                "auth": auth["kind"],
                "settings": settings,
                "secret": secret,
            }
            created = await api.post("/api/connections", json=body, headers=tenant.auth("manager"))
            assert created.status_code == 201, (body, created.text)

    refused = await api.post(
        "/api/connections",
        json={"name": "x", "integration": "stripe", "auth": "bearer", "secret": {"token": "t"}},
        headers=tenant.auth("manager"),
    )
    assert refused.status_code == 422
    assert refused.json()["error"]["details"][0]["path"] == "$.auth"
