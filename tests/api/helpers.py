"""Flow documents and small client helpers shared by the API tests."""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass, field
from typing import Any

import httpx
from sqlalchemy.engine import Engine

from store.db import session_scope
from store.models import Execution, new_id


@dataclass
class TenantKeys:
    """A tenant and the secret of one key per role."""

    id: str
    secrets: dict[str, str] = field(default_factory=dict)

    def auth(self, role: str = "admin") -> dict[str, str]:
        return {"Authorization": f"Bearer {self.secrets[role]}"}


def insert_execution(engine: Engine, tenant_id: str, flow_id: str, **fields: Any) -> str:
    """An execution row written straight to the database (no workflow): its id."""
    execution_id = new_id()
    with session_scope(engine) as session:
        session.add(
            Execution(
                id=execution_id,
                tenant_id=tenant_id,
                flow_id=flow_id,
                version=1,
                workflow_id=f"exec-{execution_id}",
                **fields,
            )
        )
    return execution_id


def set_flow(value: Any = 1) -> dict[str, Any]:
    """Two steps, no side effect: sets `vars.x` and ends."""
    return {
        "start": "assign",
        "variables": {"company": "Acme"},
        "nodes": [
            {
                "id": "assign",
                "type": "set",
                "config": {"assign": {"x": value}},
                "transitions": {"next": "done"},
            },
            {"id": "done", "type": "end"},
        ],
    }


def waiting_flow(node: dict[str, Any]) -> dict[str, Any]:
    """`node` (a wait, wait_for or human task), then the end."""
    first_port = {"wait": "next", "wait_for": "received", "human_task": "completed"}[node["type"]]
    return {
        "start": node["id"],
        "nodes": [{**node, "transitions": {first_port: "done"}}, {"id": "done", "type": "end"}],
    }


LONG_WAIT = {"id": "pause", "type": "wait", "config": {"hours": 1}}
REVIEW = {
    "id": "review",
    "type": "human_task",
    "config": {
        "assignee": "{{ contact.owner }}",
        "title": "Qualify the lead",
        "fields": [{"name": "budget", "type": "number", "required": True}],
    },
}


async def make_flow(
    api: httpx.AsyncClient,
    tenant: TenantKeys,
    definition: dict[str, Any] | None = None,
    *,
    publish: bool = True,
    **fields: Any,
) -> dict[str, Any]:
    """A flow with version 1 (published unless told otherwise); returns the flow as read back."""
    body = {"name": fields.pop("name", "Test flow"), **fields}
    body["definition"] = definition if definition is not None else set_flow()
    response = await api.post("/api/flows", json=body, headers=tenant.auth("manager"))
    assert response.status_code == 201, response.text
    flow = response.json()
    if publish:
        published = await api.post(
            f"/api/flows/{flow['id']}/versions/1/publish", headers=tenant.auth("manager")
        )
        assert published.status_code == 200, published.text
    read = await api.get(f"/api/flows/{flow['id']}", headers=tenant.auth("viewer"))
    return dict(read.json())


async def run(
    api: httpx.AsyncClient, tenant: TenantKeys, flow_id: str, **body: Any
) -> dict[str, Any]:
    response = await api.post(
        f"/api/flows/{flow_id}/executions", json=body, headers=tenant.auth("manager")
    )
    assert response.status_code == 201, response.text
    return dict(response.json())


async def wait_for_status(
    api: httpx.AsyncClient,
    tenant: TenantKeys,
    execution_id: str,
    *statuses: str,
    within_s: float = 15.0,
) -> dict[str, Any]:
    """Poll the execution until its status is one of `statuses`."""
    deadline = time.monotonic() + within_s
    while True:
        response = await api.get(f"/api/executions/{execution_id}", headers=tenant.auth("viewer"))
        assert response.status_code == 200, response.text
        execution = dict(response.json())
        if execution["status"] in statuses:
            return execution
        if time.monotonic() > deadline:
            raise AssertionError(f"still {execution['status']}, expected {statuses}: {execution}")
        await asyncio.sleep(0.1)
