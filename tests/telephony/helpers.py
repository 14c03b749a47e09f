"""Small helpers for the telephony resource tests."""

from __future__ import annotations

import secrets
from typing import Any

import httpx

from tests.api.helpers import TenantKeys


def fresh_number() -> str:
    """A number no other test registered (numbers are unique across all tenants)."""
    return "+1555" + "".join(secrets.choice("0123456789") for _ in range(7))


async def register(
    api: httpx.AsyncClient, tenant: TenantKeys, number: str | None = None, **fields: Any
) -> dict[str, Any]:
    body = {"number": number or fresh_number(), **fields}
    response = await api.post("/api/phone-numbers", json=body, headers=tenant.auth("manager"))
    assert response.status_code == 201, response.text
    return dict(response.json())


async def create(
    api: httpx.AsyncClient, tenant: TenantKeys, path: str, **body: Any
) -> dict[str, Any]:
    response = await api.post(path, json=body, headers=tenant.auth("manager"))
    assert response.status_code == 201, response.text
    return dict(response.json())


def paths(response: httpx.Response) -> list[str]:
    assert response.status_code == 422, response.text
    return sorted(d["path"] for d in response.json()["error"]["details"])
