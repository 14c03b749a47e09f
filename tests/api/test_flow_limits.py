"""Flows over `FLOWDECK_MAX_NODES` or `FLOWDECK_MAX_DEFINITION_BYTES` are refused (422) where
a definition comes in (validate, create, new version, draft update) and again at publish, so
none is published to fail every run. The limits here are the settings' own, made small."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from sqlalchemy.engine import Engine
from temporalio.testing import WorkflowEnvironment

from schemas.settings import Settings
from schemas.validation import FlowLimits
from store import flows
from store.db import session_scope
from tests.api.conftest import TEMPORAL_UI
from tests.api.helpers import TenantKeys, make_flow

MAX_NODES = 5
MAX_BYTES = 4096


@pytest.fixture
def settings(task_queue: str, temporal_env: WorkflowEnvironment) -> Settings:
    return Settings(
        FLOWDECK_ENV="test",
        TEMPORAL_ADDRESS=temporal_env.client.service_client.config.target_host,
        TEMPORAL_UI_URL=TEMPORAL_UI,
        FLOWDECK_TASK_QUEUE=task_queue,
        FLOWDECK_MAX_NODES=MAX_NODES,
        FLOWDECK_MAX_DEFINITION_BYTES=MAX_BYTES,
    )


def chain(size: int, *, note: str = "") -> dict[str, Any]:
    nodes: list[dict[str, Any]] = [
        {
            "id": f"n{i}",
            "type": "set",
            "config": {"assign": {"x": i}},
            "transitions": {"next": f"n{i + 1}" if i < size - 2 else "done"},
        }
        for i in range(size - 1)
    ]
    nodes.append({"id": "done", "type": "end"})
    return {"start": "n0", "variables": {"note": note}, "nodes": nodes}


TOO_MANY = chain(MAX_NODES + 1)
TOO_BIG = chain(3, note="x" * MAX_BYTES)


def refused(response: httpx.Response, path: str, code: str) -> str:
    assert response.status_code == 422, response.text
    error = response.json()["error"]
    assert [(d["path"], d["code"]) for d in error["details"]] == [(path, code)]
    message: str = error["message"]
    assert error["details"][0]["message"] in message  # said up front, not only in a detail
    return message


@pytest.mark.parametrize(
    ("definition", "path", "code", "says"),
    [
        (TOO_MANY, "$.definition.nodes", "too_many_nodes", "6 nodes, over the limit of 5"),
        (TOO_BIG, "$.definition", "too_large", "over the limit of 4,096"),
    ],
)
async def test_validate_refuses_a_flow_over_the_limits_for_any_key(
    api: httpx.AsyncClient,
    tenant: TenantKeys,
    definition: dict[str, Any],
    path: str,
    code: str,
    says: str,
) -> None:
    response = await api.post(
        "/api/flows/validate", json={"definition": definition}, headers=tenant.auth("viewer")
    )
    assert says in refused(response, path, code)
    fits = await api.post(
        "/api/flows/validate", json={"definition": chain(MAX_NODES)}, headers=tenant.auth("viewer")
    )
    assert fits.status_code == 200, fits.text


@pytest.mark.parametrize(
    ("definition", "path", "code"),
    [(TOO_MANY, "$.definition.nodes", "too_many_nodes"), (TOO_BIG, "$.definition", "too_large")],
)
async def test_no_flow_over_the_limits_is_saved(
    api: httpx.AsyncClient,
    tenant: TenantKeys,
    definition: dict[str, Any],
    path: str,
    code: str,
) -> None:
    manager = tenant.auth("manager")
    created = await api.post(
        "/api/flows", json={"name": "big", "definition": definition}, headers=manager
    )
    refused(created, path, code)
    assert (await api.get("/api/flows", headers=manager)).json() == []

    flow = await make_flow(api, tenant, chain(MAX_NODES), publish=False)
    versions = f"/api/flows/{flow['id']}/versions"
    refused(await api.post(versions, json={"definition": definition}, headers=manager), path, code)
    refused(
        await api.put(f"{versions}/1", json={"definition": definition}, headers=manager), path, code
    )
    draft = await api.get(f"{versions}/1", headers=manager)
    assert draft.json()["definition"] == chain(MAX_NODES)
    assert [v["number"] for v in (await api.get(versions, headers=manager)).json()] == [1]


async def test_a_draft_saved_under_looser_limits_is_not_published(
    api: httpx.AsyncClient, tenant: TenantKeys, engine: Engine
) -> None:
    flow = await make_flow(api, tenant, chain(MAX_NODES), publish=False)
    with session_scope(engine) as session:  # saved while the limit was higher
        flows.create_version(
            session,
            tenant_id=tenant.id,
            flow_id=flow["id"],
            definition=TOO_MANY,
            limits=FlowLimits(max_nodes=100),
        )
    manager = tenant.auth("manager")
    published = await api.post(f"/api/flows/{flow['id']}/versions/2/publish", headers=manager)
    refused(published, "$.definition.nodes", "too_many_nodes")
    version = await api.get(f"/api/flows/{flow['id']}/versions/2", headers=manager)
    assert version.json()["status"] == "draft"
    assert (await api.get(f"/api/flows/{flow['id']}", headers=manager)).json()[
        "published_version"
    ] is None
