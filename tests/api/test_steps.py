"""`GET /api/steps`: the step catalogue the dashboard's palette is built from."""

from __future__ import annotations

import httpx

from schemas.steps import STEP
from tests.api.helpers import TenantKeys


async def test_the_catalogue_lists_every_step_type_with_its_ports_and_config_schema(
    api: httpx.AsyncClient, tenant: TenantKeys
) -> None:
    response = await api.get("/api/steps", headers=tenant.auth("viewer"))
    assert response.status_code == 200, response.text
    steps = {s["type"]: s for s in response.json()}
    assert set(steps) == set(STEP)
    http = steps["http"]
    assert (http["category"], http["label"]) == ("data", "HTTP request")
    assert http["ports"] == ["success", "error"] and http["action"] is True
    assert "url" in http["config_schema"]["properties"]
    assert "url" in http["config_schema"]["required"]
    assert steps["record"]["ports"] == ["recorded", "no_audio", "error"]  # its activity may fail
    assert steps["split"]["dynamic_ports"] is True and steps["split"]["ports"] == []
    gather = steps["gather"]
    assert gather["voice"] and gather["pauses"] and gather["category"] == "voice"
    assert {s["category"] for s in steps.values()} <= {
        "logic",
        "messaging",
        "voice",
        "data",
        "people",
    }


async def test_the_catalogue_needs_a_key(api: httpx.AsyncClient) -> None:
    assert (await api.get("/api/steps")).status_code == 401
