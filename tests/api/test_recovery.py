"""The API's recovery sweeps on a real Temporal server: starts lost to a crash are made again
(once), executions nobody will start are ended, a pending execution can be cancelled, and an
execution whose workflow task keeps failing is failed with the cause."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import timedelta
from typing import Any

import httpx
import pytest
from pytest_httpserver import HTTPServer
from sqlalchemy.engine import Engine
from sqlmodel import Session, select
from temporalio import workflow
from temporalio.client import WorkflowExecutionStatus
from temporalio.exceptions import WorkflowAlreadyStartedError
from temporalio.testing import WorkflowEnvironment
from temporalio.worker import Worker

from api.services import recovery, runs
from api.services.runs import end_without_workflow
from schemas.execution import WORKFLOW_NAME, ExecutionInput, ExecutionStatus
from schemas.settings import Settings
from store.executions import load_execution_input
from store.models import Event, Execution, utcnow
from tests.api.helpers import (
    LONG_WAIT,
    TenantKeys,
    insert_execution,
    make_flow,
    wait_for_status,
    waiting_flow,
)
from worker import build_worker

LONG_AGO = utcnow() - timedelta(minutes=10)


def _http_flow(url: str) -> dict[str, Any]:
    return {
        "start": "notify",
        "nodes": [
            {
                "id": "notify",
                "type": "http",
                "config": {"method": "POST", "url": url, "body": {"n": 1}},
                "transitions": {"success": "done"},
            },
            {"id": "done", "type": "end"},
        ],
    }


@pytest.fixture
def sweep_settings(settings: Settings) -> Settings:
    return settings.model_copy(
        update={"http_allowlist": "127.0.0.1,localhost", "start_grace_s": 60.0}
    )


def _row(engine: Engine, execution_id: str) -> Execution:
    with Session(engine) as session:
        row = session.get(Execution, execution_id)
        assert row is not None
        return row


def _events(engine: Engine, execution_id: str) -> list[str]:
    with Session(engine) as session:
        query = select(Event).where(Event.execution_id == execution_id).order_by(Event.id)  # type: ignore[arg-type]
        return [e.type for e in session.exec(query).all()]


async def _runs(env: WorkflowEnvironment, workflow_id: str) -> int:
    return len([w async for w in env.client.list_workflows(f"WorkflowId = '{workflow_id}'")])


async def _sweep(
    engine: Engine, env: WorkflowEnvironment, settings: Settings, *execution_ids: str
) -> list[str | None]:
    """What the sweep did with each of these executions (None: left alone)."""
    outcomes = await recovery.sweep_starts(engine=engine, client=env.client, settings=settings)
    return [outcomes.get(i) for i in execution_ids]


@pytest.fixture
async def sweeping_worker(
    engine: Engine, sweep_settings: Settings, temporal_env: WorkflowEnvironment
) -> AsyncIterator[Worker]:
    running = build_worker(temporal_env.client, engine=engine, settings=sweep_settings)
    async with running:
        yield running


async def test_a_start_lost_to_a_crash_is_made_once_by_the_sweep(
    api: httpx.AsyncClient,
    tenant: TenantKeys,
    engine: Engine,
    temporal_env: WorkflowEnvironment,
    sweep_settings: Settings,
    sweeping_worker: Worker,
    httpserver: HTTPServer,
) -> None:
    httpserver.expect_request("/hook", method="POST").respond_with_json({"ok": True})
    flow = await make_flow(api, tenant, _http_flow(httpserver.url_for("/hook")))
    fresh = insert_execution(
        engine, tenant.id, flow["id"], trigger={"type": "manual"}, contact={}, launch={}
    )
    lost = insert_execution(
        engine,
        tenant.id,
        flow["id"],
        trigger={"type": "manual"},
        contact={"name": "Asha"},
        launch={},
        created_at=LONG_AGO,
    )

    # The fresh one is younger than the grace: its start may still be on its way.
    assert await _sweep(engine, temporal_env, sweep_settings, lost, fresh) == ["started", None]
    done = await wait_for_status(api, tenant, lost, "completed")
    assert done["steps"][0]["node_id"] == "notify"
    assert _row(engine, fresh).status == "pending"
    # The next sweep finds nothing more to do: the start is confirmed, never made twice.
    assert await _sweep(engine, temporal_env, sweep_settings, lost) == [None]
    assert await _runs(temporal_env, f"exec-{lost}") == 1
    assert len(httpserver.log) == 1
    # Not left for the sweeps of other tests' API processes (they share this database).
    end_without_workflow(engine, _row(engine, fresh), ExecutionStatus.cancelled, "test over")


async def test_a_start_that_did_happen_is_confirmed_not_repeated(
    api: httpx.AsyncClient,
    tenant: TenantKeys,
    engine: Engine,
    temporal_env: WorkflowEnvironment,
    sweep_settings: Settings,
) -> None:
    flow = await make_flow(api, tenant, waiting_flow(LONG_WAIT))
    execution_id = insert_execution(
        engine, tenant.id, flow["id"], trigger={"type": "manual"}, launch={}, created_at=LONG_AGO
    )
    with Session(engine) as session:
        workflow_input = load_execution_input(
            session, _row(engine, execution_id), settings=sweep_settings
        )
    # Started (no worker on this queue yet, so it wrote nothing), then the process died.
    await runs.start_workflow_of(temporal_env.client, sweep_settings, workflow_input)

    assert await _sweep(engine, temporal_env, sweep_settings, execution_id) == ["confirmed"]
    assert _row(engine, execution_id).launch is None
    assert await _runs(temporal_env, f"exec-{execution_id}") == 1
    await temporal_env.client.get_workflow_handle(f"exec-{execution_id}").terminate("test over")


async def test_an_inbound_call_whose_flow_never_started_ends_failed(
    api: httpx.AsyncClient,
    tenant: TenantKeys,
    engine: Engine,
    temporal_env: WorkflowEnvironment,
    sweep_settings: Settings,
) -> None:
    flow = await make_flow(api, tenant)
    execution_id = insert_execution(
        engine,
        tenant.id,
        flow["id"],
        trigger={"type": "call_incoming", "call_sid": "CA123"},
        launch={},
        created_at=LONG_AGO,
    )
    assert await _sweep(engine, temporal_env, sweep_settings, execution_id) == ["failed"]
    row = _row(engine, execution_id)
    assert row.status == "failed" and row.reason == recovery.CALL_NEVER_STARTED
    assert _events(engine, execution_id) == ["flow.failed"]
    assert await _runs(temporal_env, f"exec-{execution_id}") == 0  # the call is over: no flow


async def test_a_subflow_child_waits_for_its_parent_and_ends_with_it(
    api: httpx.AsyncClient,
    tenant: TenantKeys,
    engine: Engine,
    temporal_env: WorkflowEnvironment,
    sweep_settings: Settings,
) -> None:
    flow = await make_flow(api, tenant)
    parent = insert_execution(engine, tenant.id, flow["id"], status="running")
    child = insert_execution(
        engine,
        tenant.id,
        flow["id"],
        trigger={"type": "subflow", "parent_execution_id": parent},
        parent_execution_id=parent,
        launch={},
        created_at=LONG_AGO,
    )
    assert await _sweep(engine, temporal_env, sweep_settings, child) == ["waiting"]
    assert _row(engine, child).status == "pending"  # its running parent may still start it

    end_without_workflow(engine, _row(engine, parent), ExecutionStatus.failed, "x")
    assert await _sweep(engine, temporal_env, sweep_settings, child) == ["cancelled"]
    row = _row(engine, child)
    assert row.status == "cancelled" and row.reason == recovery.PARENT_ENDED


async def test_a_pending_execution_can_be_cancelled_and_a_late_start_runs_nothing(
    api: httpx.AsyncClient,
    tenant: TenantKeys,
    engine: Engine,
    temporal_env: WorkflowEnvironment,
    sweep_settings: Settings,
    sweeping_worker: Worker,
    httpserver: HTTPServer,
) -> None:
    flow = await make_flow(api, tenant, _http_flow(httpserver.url_for("/hook")))
    stranded = [
        insert_execution(engine, tenant.id, flow["id"], trigger={"type": "manual"}, launch={})
        for _ in range(3)
    ]
    cancelled = await api.post(
        f"/api/executions/{stranded[0]}/cancel",
        json={"reason": "stuck"},
        headers=tenant.auth("manager"),
    )
    assert cancelled.status_code == 202, cancelled.text
    done = await wait_for_status(api, tenant, stranded[0], "cancelled")
    assert done["reason"] == "stuck"

    bulk = await api.post(
        "/api/executions/cancel",
        json={"flow_id": flow["id"], "status": ["pending"], "reason": "cleanup"},
        headers=tenant.auth("manager"),
    )
    assert bulk.status_code == 202, bulk.text
    assert bulk.json() == {"matched": 2, "signalled": 2}
    for execution_id in stranded[1:]:
        await wait_for_status(api, tenant, execution_id, "cancelled")

    # The start that was on its way arrives after the cancel: nothing runs.
    with Session(engine) as session:
        workflow_input: ExecutionInput = load_execution_input(
            session, _row(engine, stranded[0]), settings=sweep_settings
        )
    with pytest.raises(WorkflowAlreadyStartedError):
        await runs.start_workflow_of(temporal_env.client, sweep_settings, workflow_input)
    assert httpserver.log == []


async def test_cancelling_a_live_execution_whose_workflow_is_gone_ends_it(
    api: httpx.AsyncClient,
    tenant: TenantKeys,
    engine: Engine,
    temporal_env: WorkflowEnvironment,
    worker: Worker,
) -> None:
    flow = await make_flow(api, tenant, waiting_flow(LONG_WAIT))
    started = await api.post(
        f"/api/flows/{flow['id']}/executions", json={}, headers=tenant.auth("manager")
    )
    execution = started.json()
    await wait_for_status(api, tenant, execution["id"], "waiting")
    # Terminated in the Temporal Web UI: no workflow writes the row's end.
    await temporal_env.client.get_workflow_handle(execution["workflow_id"]).terminate("ops")

    cancelled = await api.post(
        f"/api/executions/{execution['id']}/cancel", json={}, headers=tenant.auth("manager")
    )
    assert cancelled.status_code == 202, cancelled.text
    ended = await wait_for_status(api, tenant, execution["id"], "cancelled")
    assert "its workflow was gone" in ended["reason"]


# --- wedged executions ---------------------------------------------------------------------


@workflow.defn(name=WORKFLOW_NAME, sandboxed=False)
class BrokenInterpreter:
    """Stands for any workflow task that cannot complete: it fails on every attempt."""

    @workflow.run
    async def run(self, data: ExecutionInput) -> None:
        raise RuntimeError(f"cannot run {data.execution_id}: an interpreter bug")


async def test_an_execution_whose_workflow_task_keeps_failing_is_failed_with_the_cause(
    api: httpx.AsyncClient,
    tenant: TenantKeys,
    engine: Engine,
    temporal_env: WorkflowEnvironment,
    sweep_settings: Settings,
) -> None:
    flow = await make_flow(api, tenant)
    execution_id = insert_execution(engine, tenant.id, flow["id"], trigger={"type": "manual"})
    with Session(engine) as session:
        workflow_input = load_execution_input(
            session, _row(engine, execution_id), settings=sweep_settings
        )
    settings = sweep_settings.model_copy(update={"wedged_after_attempts": 2})
    async with Worker(
        temporal_env.client,
        task_queue=settings.task_queue,
        workflows=[BrokenInterpreter],
    ):
        handle = await temporal_env.client.start_workflow(
            WORKFLOW_NAME, workflow_input, id=f"exec-{execution_id}", task_queue=settings.task_queue
        )
        sweep = recovery.WedgedSweep()
        failed = 0
        for _ in range(60):  # Temporal flags it after two failed tasks in a row
            failed = await recovery.fail_wedged(
                engine=engine, client=temporal_env.client, settings=settings, sweep=sweep
            )
            if failed:
                break
            await asyncio.sleep(0.5)
    assert sweep.supported and failed == 1
    described = await handle.describe()
    assert described.status == WorkflowExecutionStatus.TERMINATED
    row = _row(engine, execution_id)
    assert row.status == "failed"
    assert row.reason is not None and "an interpreter bug" in row.reason
    assert _events(engine, execution_id)[-1] == "flow.failed"


async def test_a_lost_start_of_a_run_with_a_call_places_that_call(
    api: httpx.AsyncClient,
    tenant: TenantKeys,
    engine: Engine,
    temporal_env: WorkflowEnvironment,
    sweep_settings: Settings,
    sweeping_worker: Worker,
) -> None:
    """The call a run places first is part of how it starts (`launch`): made again too."""
    flow = await make_flow(api, tenant, waiting_flow(LONG_WAIT))
    dial = {"dial": {"to": "+15557770001", "from": "+15550001111", "ring_timeout_s": 20}}
    lost = insert_execution(
        engine,
        tenant.id,
        flow["id"],
        trigger={"type": "manual"},
        contact={"phone": "+15557770001"},
        launch=dial,
        created_at=LONG_AGO,
    )
    assert await _sweep(engine, temporal_env, sweep_settings, lost) == ["started"]
    execution = await wait_for_status(api, tenant, lost, "waiting")
    [placed] = execution["steps"]
    assert placed["node_id"] == "outbound_call" and placed["status"] == "waiting"
    outbox = await api.get(
        "/api/outbox", params={"execution_id": lost}, headers=tenant.auth("viewer")
    )
    [call] = [m for m in outbox.json()["items"] if m["channel"] == "voice"]
    assert call["to"] == "+15557770001"
    await temporal_env.client.get_workflow_handle(f"exec-{lost}").terminate("test over")


async def test_rows_left_waiting_never_hide_a_lost_start_behind_them(
    api: httpx.AsyncClient,
    tenant: TenantKeys,
    engine: Engine,
    temporal_env: WorkflowEnvironment,
    sweep_settings: Settings,
    sweeping_worker: Worker,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(recovery, "SWEEP_PAGE", 2)
    flow = await make_flow(api, tenant)
    parent = insert_execution(engine, tenant.id, flow["id"], status="running")
    children = [
        insert_execution(
            engine,
            tenant.id,
            flow["id"],
            trigger={"type": "subflow"},
            parent_execution_id=parent,
            launch={},
            created_at=LONG_AGO - timedelta(minutes=1),  # older: first in line
        )
        for _ in range(3)
    ]
    lost = insert_execution(
        engine, tenant.id, flow["id"], trigger={"type": "manual"}, launch={}, created_at=LONG_AGO
    )
    outcomes = await _sweep(engine, temporal_env, sweep_settings, *children, lost)
    assert outcomes == ["waiting", "waiting", "waiting", "started"]
    await wait_for_status(api, tenant, lost, "completed")
    end_without_workflow(engine, _row(engine, parent), ExecutionStatus.failed, "test over")
    await _sweep(engine, temporal_env, sweep_settings, *children)  # they end with it
