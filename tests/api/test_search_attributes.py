"""Runs found in Temporal by what they are: Flowdeck's search attributes, set at the start and
kept current by the workflow, queried through Temporal's visibility API as the Web UI does."""

from __future__ import annotations

import asyncio
import shutil
import sys
import time
from pathlib import Path

import httpx
from starlette.datastructures import State
from temporalio.api.operatorservice.v1 import ListSearchAttributesRequest
from temporalio.client import WorkflowExecutionDescription
from temporalio.testing import WorkflowEnvironment
from temporalio.worker import Worker

from api.temporal import index_executions_if_possible
from schemas import search_attributes
from schemas.settings import Settings
from tests.api.helpers import LONG_WAIT, TenantKeys, make_flow, run, set_flow, waiting_flow


async def _found(env: WorkflowEnvironment, query: str, expected: set[str]) -> set[str]:
    """The workflow ids the query finds, once visibility has caught up with `expected`."""
    deadline = time.monotonic() + 15
    while True:
        found = {w.id async for w in env.client.list_workflows(query)}
        if found == expected or time.monotonic() > deadline:
            return found
        await asyncio.sleep(0.2)


async def test_runs_are_found_by_flow_and_status_as_the_status_changes(
    api: httpx.AsyncClient, tenant: TenantKeys, worker: Worker, temporal_env: WorkflowEnvironment
) -> None:
    waiting = await make_flow(api, tenant, waiting_flow(LONG_WAIT), name="Nurture")
    quick = await make_flow(api, tenant, set_flow(), name="Quick")
    parked = await run(api, tenant, waiting["id"], contact={"phone": "+15557770042"})
    done = await run(api, tenant, quick["id"])

    by_flow = f'FlowdeckFlow = "{waiting["id"]}" AND FlowdeckStatus = "waiting"'
    assert await _found(temporal_env, by_flow, {parked["workflow_id"]}) == {parked["workflow_id"]}
    completed = f'FlowdeckFlow = "{quick["id"]}" AND FlowdeckStatus = "completed"'
    assert await _found(temporal_env, completed, {done["workflow_id"]}) == {done["workflow_id"]}

    handle = temporal_env.client.get_workflow_handle(parked["workflow_id"])
    described: WorkflowExecutionDescription = await handle.describe()
    attributes = described.typed_search_attributes
    assert attributes.get(search_attributes.TENANT) == tenant.id
    assert attributes.get(search_attributes.FLOW_NAME) == "Nurture"
    assert attributes.get(search_attributes.VERSION) == 1
    assert attributes.get(search_attributes.CONTACT_PHONE) == "+15557770042"
    assert attributes.get(search_attributes.TRIGGER) == "manual"
    assert await described.memo_value("flow") == "Nurture"

    cancelled = await api.post(
        f"/api/executions/{parked['id']}/cancel", json={}, headers=tenant.auth("manager")
    )
    assert cancelled.status_code == 202
    gone = f'FlowdeckFlow = "{waiting["id"]}" AND FlowdeckStatus = "cancelled"'
    assert await _found(temporal_env, gone, {parked["workflow_id"]}) == {parked["workflow_id"]}


async def test_the_app_registers_them_where_missing_and_does_without_where_it_cannot(
    time_skipping_env: WorkflowEnvironment,
) -> None:
    bare = await WorkflowEnvironment.start_local(
        dev_server_existing_path=shutil.which("temporal")
        or str(Path(sys.executable).parent / "temporal")
    )
    try:
        state = State({"settings": Settings.model_validate({"FLOWDECK_ENV": "test"})})
        await index_executions_if_possible(state, bare.client)
        assert state.settings.index_executions is True
        listed = await bare.client.operator_service.list_search_attributes(
            ListSearchAttributesRequest(namespace="default")
        )
        assert {k.name for k in search_attributes.KEYS} <= set(listed.custom_attributes)
    finally:
        await bare.shutdown()
    # Temporal's time-skipping test server has no custom search attributes at all.
    state = State({"settings": Settings.model_validate({"FLOWDECK_ENV": "test"})})
    await index_executions_if_possible(state, time_skipping_env.client)
    assert state.settings.index_executions is False
