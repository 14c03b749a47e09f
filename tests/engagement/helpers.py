"""Lead flows and small readers shared by the engagement tests."""

from __future__ import annotations

from typing import Any

import httpx
from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from store.models import Event, Execution
from tests.api.helpers import TenantKeys, make_flow


def sms_flow(text: str, *, wait_s: float | None = None) -> dict[str, Any]:
    """An SMS to the contact (after a wait of `wait_s` seconds, if given), then the end."""
    nodes: list[dict[str, Any]] = [
        {
            "id": "text",
            "type": "sms",
            "config": {"body": f"{text} {{{{ contact.name }}}}"},
            "transitions": {"sent": "done", "failed": "done"},
        },
        {"id": "done", "type": "end"},
    ]
    if wait_s is None:
        return {"start": "text", "nodes": nodes}
    pause = {
        "id": "pause",
        "type": "wait",
        "config": {"seconds": wait_s},
        "transitions": {"next": "text"},
    }
    return {"start": "pause", "nodes": [pause, *nodes]}


def lead_trigger(*conditions: dict[str, Any]) -> dict[str, Any]:
    return {"type": "lead_created", "conditions": list(conditions)}


def source_is(source: str) -> dict[str, Any]:
    return {"field": "lead_source", "op": "eq", "value": source}


async def lead_flow(
    api: httpx.AsyncClient,
    tenant: TenantKeys,
    text: str,
    *conditions: dict[str, Any],
    wait_s: float | None = None,
    **fields: Any,
) -> dict[str, Any]:
    """A published flow triggered by new leads that match `conditions`."""
    return await make_flow(
        api,
        tenant,
        sms_flow(text, wait_s=wait_s),
        name=fields.pop("name", text),
        trigger=lead_trigger(*conditions),
        **fields,
    )


async def post_lead(
    api: httpx.AsyncClient, tenant: TenantKeys, **lead: Any
) -> tuple[int, dict[str, Any]]:
    response = await api.post("/api/contacts", json=lead, headers=tenant.auth("manager"))
    assert response.status_code in (200, 201), response.text
    return response.status_code, dict(response.json())


async def outbox(api: httpx.AsyncClient, tenant: TenantKeys, execution_id: str) -> list[Any]:
    response = await api.get(
        "/api/outbox", params={"execution_id": execution_id}, headers=tenant.auth("viewer")
    )
    assert response.status_code == 200, response.text
    return list(response.json()["items"])


async def executions(api: httpx.AsyncClient, tenant: TenantKeys, **params: Any) -> list[Any]:
    response = await api.get(
        "/api/executions", params={"limit": 200, **params}, headers=tenant.auth("viewer")
    )
    assert response.status_code == 200, response.text
    return list(response.json()["items"])


def stored_execution(engine: Engine, execution_id: str) -> Execution:
    with Session(engine) as session:
        execution = session.get(Execution, execution_id)
        assert execution is not None
        return execution


def event_types(engine: Engine, execution_id: str) -> list[str]:
    with Session(engine) as session:
        query = select(Event.type).where(Event.execution_id == execution_id)
        return list(session.exec(query).all())
