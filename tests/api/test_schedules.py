"""Schedule triggers through the API: a real Temporal Schedule on the dev server follows the
flow's publish, PATCH (cron, enable, disable) and delete, and each firing is an execution."""

from __future__ import annotations

import asyncio
import json
import os
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import httpx
import pytest
from sqlalchemy.engine import Engine
from temporalio.client import (
    Client,
    ScheduleActionExecutionStartWorkflow,
    ScheduleActionStartWorkflow,
    ScheduleHandle,
)
from temporalio.service import RPCError, RPCStatusCode
from temporalio.worker import Worker

from activities.scheduled import prepare_scheduled_run
from api.main import create_app
from api.services import recovery, schedules
from schemas import search_attributes
from schemas.schedule import (
    SCHEDULED_WORKFLOW_NAME,
    ScheduledRunInput,
    ScheduledStartInput,
    ScheduledStartResult,
    execution_id_for_firing,
    firing_workflow_id_for,
    schedule_id_for,
)
from schemas.settings import Settings
from store.db import session_scope
from store.models import Execution, utcnow
from tests.api.helpers import LONG_WAIT, TenantKeys, make_flow, wait_for_status, waiting_flow

SCHEDULED_HISTORIES = Path(__file__).parents[1] / "histories" / "scheduled"
EVERY_MORNING = {"type": "schedule", "cron": "0 9 * * mon-fri", "timezone": "Asia/Kolkata"}


async def _executions(api: httpx.AsyncClient, tenant: TenantKeys, flow_id: str) -> list[Any]:
    response = await api.get(
        "/api/executions", params={"flow_id": flow_id}, headers=tenant.auth("viewer")
    )
    assert response.status_code == 200, response.text
    return list(response.json()["items"])


async def _wait_for_runs(
    api: httpx.AsyncClient, tenant: TenantKeys, flow_id: str, count: int, within_s: float = 20
) -> list[Any]:
    deadline = time.monotonic() + within_s
    while True:
        runs = await _executions(api, tenant, flow_id)
        if len(runs) >= count:
            return runs
        if time.monotonic() > deadline:
            raise AssertionError(f"{len(runs)} executions, expected {count}")
        await asyncio.sleep(0.2)


async def _schedule(client: Client, flow_id: str) -> ScheduleHandle:
    return client.get_schedule_handle(schedule_id_for(flow_id))


async def _save_history(client: Client, handle: ScheduleHandle, name: str) -> None:
    """With FLOWDECK_RECORD_HISTORIES=1, keep the firing's history for the replay tests."""
    if os.environ.get("FLOWDECK_RECORD_HISTORIES") != "1":
        return
    [firing] = (await handle.describe()).info.recent_actions
    assert isinstance(firing.action, ScheduleActionExecutionStartWorkflow)
    starter = client.get_workflow_handle(firing.action.workflow_id)
    await starter.result()
    history = await starter.fetch_history()
    SCHEDULED_HISTORIES.mkdir(exist_ok=True)
    path = SCHEDULED_HISTORIES / f"{name}.json"
    path.write_text(json.dumps(json.loads(history.to_json()), indent=1))


async def _patch(
    api: httpx.AsyncClient, tenant: TenantKeys, flow_id: str, **changes: Any
) -> httpx.Response:
    return await api.patch(f"/api/flows/{flow_id}", json=changes, headers=tenant.auth("manager"))


async def test_a_firing_is_an_execution_of_the_published_version(
    api: httpx.AsyncClient, tenant: TenantKeys, worker: Worker, temporal_client: Client
) -> None:
    flow = await make_flow(api, tenant, name="Morning digest", trigger=EVERY_MORNING)
    assert flow["trigger"]["overlap"] == "skip"  # stored as applied, defaults filled in
    handle = await _schedule(temporal_client, flow["id"])
    described = await handle.describe()
    assert described.schedule.spec.time_zone_name == "Asia/Kolkata"
    assert described.schedule.state.paused is False
    action = described.schedule.action
    assert isinstance(action, ScheduleActionStartWorkflow)
    assert action.workflow == SCHEDULED_WORKFLOW_NAME
    assert await described.memo_value("flow") == "Morning digest"  # readable in the Web UI

    await handle.trigger()
    [execution] = await _wait_for_runs(api, tenant, flow["id"], 1)
    done = await wait_for_status(api, tenant, execution["id"], "completed")
    assert done["version"] == 1
    assert done["trigger"]["type"] == "schedule"
    assert done["trigger"]["schedule_id"] == schedule_id_for(flow["id"])
    scheduled_at = datetime.fromisoformat(done["trigger"]["scheduled_at"])
    assert scheduled_at.tzinfo is not None
    assert abs((datetime.now(UTC) - scheduled_at).total_seconds()) < 120
    assert [s["node_id"] for s in done["steps"]] == ["assign", "done"]

    shown = await api.get(f"/api/flows/{flow['id']}/schedule", headers=tenant.auth("viewer"))
    assert shown.status_code == 200, shown.text
    schedule = shown.json()
    assert schedule["schedule_id"] == schedule_id_for(flow["id"])
    assert schedule["paused"] is False
    assert [r["execution_id"] for r in schedule["recent_runs"]] == [execution["id"]]
    assert schedule["fired"] == 1
    next_run = datetime.fromisoformat(schedule["next_runs"][0]).astimezone(ZoneInfo("Asia/Kolkata"))
    assert (next_run.hour, next_run.minute, next_run.strftime("%a") in "MonTueWedThuFri") == (
        9,
        0,
        True,
    )
    assert schedule["temporal_url"].endswith(f"/schedules/{schedule_id_for(flow['id'])}")
    await _save_history(temporal_client, handle, "scheduled_start")


async def test_an_interval_fires_on_its_own_and_stops_while_the_flow_is_disabled(
    api: httpx.AsyncClient, tenant: TenantKeys, worker: Worker, temporal_client: Client
) -> None:
    trigger = {"type": "schedule", "interval_s": 5}
    flow = await make_flow(api, tenant, name="Every five seconds", trigger=trigger)
    [listed] = (await _wait_for_runs(api, tenant, flow["id"], 1, within_s=20))[:1]
    first = await wait_for_status(api, tenant, listed["id"], "completed")
    scheduled_at = datetime.fromisoformat(first["trigger"]["scheduled_at"])
    assert scheduled_at.timestamp() % 5 == 0  # on the interval's beat

    disabled = await _patch(api, tenant, flow["id"], enabled=False)
    assert disabled.status_code == 200, disabled.text
    handle = await _schedule(temporal_client, flow["id"])
    assert (await handle.describe()).schedule.state.paused is True
    shown = await api.get(f"/api/flows/{flow['id']}/schedule", headers=tenant.auth("viewer"))
    assert (shown.json()["paused"], shown.json()["note"]) == (True, "paused: the flow is disabled")
    assert shown.json()["next_runs"] == []
    before = len(await _executions(api, tenant, flow["id"]))
    await asyncio.sleep(11)  # two beats of the interval: nothing fires while paused
    assert len(await _executions(api, tenant, flow["id"])) == before

    enabled = await _patch(api, tenant, flow["id"], enabled=True)
    assert enabled.status_code == 200, enabled.text
    assert (await handle.describe()).schedule.state.paused is False
    await _wait_for_runs(api, tenant, flow["id"], before + 1, within_s=20)
    deleted = await api.delete(f"/api/flows/{flow['id']}", headers=tenant.auth("manager"))
    assert deleted.status_code == 204  # and with it the schedule: it fires no more


async def test_a_firing_while_the_last_run_still_runs_is_skipped(
    api: httpx.AsyncClient, tenant: TenantKeys, worker: Worker, temporal_client: Client
) -> None:
    flow = await make_flow(api, tenant, waiting_flow(LONG_WAIT), trigger=EVERY_MORNING)
    handle = await _schedule(temporal_client, flow["id"])
    await handle.trigger()
    [first] = await _wait_for_runs(api, tenant, flow["id"], 1)
    await wait_for_status(api, tenant, first["id"], "waiting")

    await handle.trigger()  # overlap "skip": the run of the last firing is still waiting
    deadline = time.monotonic() + 15
    while (await handle.describe()).info.num_actions_skipped_overlap < 1:
        assert time.monotonic() < deadline, "the second firing was not skipped"
        await asyncio.sleep(0.2)
    assert len(await _executions(api, tenant, flow["id"])) == 1
    shown = await api.get(f"/api/flows/{flow['id']}/schedule", headers=tenant.auth("viewer"))
    assert shown.json()["skipped_overlap"] == 1

    cancelled = await api.post(
        f"/api/executions/{first['id']}/cancel", json={}, headers=tenant.auth("manager")
    )
    assert cancelled.status_code in (200, 202), cancelled.text
    await wait_for_status(api, tenant, first["id"], "cancelled")
    [firing] = (await handle.describe()).info.recent_actions
    assert isinstance(firing.action, ScheduleActionExecutionStartWorkflow)
    starter = temporal_client.get_workflow_handle(
        firing.action.workflow_id, result_type=ScheduledStartResult
    )
    ended = await asyncio.wait_for(starter.result(), 15)  # the firing ends with its run
    assert (ended.execution_id, ended.status) == (first["id"], "cancelled")


async def test_a_firing_held_up_past_the_grace_is_started_once_by_the_sweep(
    api: httpx.AsyncClient,
    tenant: TenantKeys,
    engine: Engine,
    settings: Settings,
    worker: Worker,
    temporal_client: Client,
) -> None:
    flow = await make_flow(api, tenant, trigger=EVERY_MORNING)
    firing_id = f"{firing_workflow_id_for(flow['id'])}-2026-12-07T03:30:00Z"
    execution_id = execution_id_for_firing(firing_id)
    firing = ScheduledRunInput(
        tenant_id=tenant.id,
        flow_id=flow["id"],
        schedule_id=schedule_id_for(flow["id"]),
        execution_id=execution_id,
        scheduled_at=datetime(2026, 12, 7, 3, 30, tzinfo=UTC),
    )
    # The firing recorded its row, then stalled (its worker gone) past the sweep's grace.
    await asyncio.to_thread(prepare_scheduled_run, engine, firing, settings=settings)
    with session_scope(engine) as session:
        row = session.get(Execution, execution_id)
        assert row is not None and row.status == "pending"
        row.created_at = utcnow() - timedelta(minutes=10)
        session.add(row)
    outcomes = await recovery.sweep_starts(engine=engine, client=temporal_client, settings=settings)
    assert outcomes[execution_id] == "started"
    done = await wait_for_status(api, tenant, execution_id, "completed")
    assert done["trigger"]["scheduled_at"] == "2026-12-07T03:30:00+00:00"

    # The firing's workflow, running at last, finds its execution started and starts nothing.
    result = await temporal_client.execute_workflow(
        SCHEDULED_WORKFLOW_NAME,
        ScheduledStartInput(
            tenant_id=tenant.id, flow_id=flow["id"], schedule_id=schedule_id_for(flow["id"])
        ),
        id=firing_id,
        task_queue=settings.task_queue,
        result_type=ScheduledStartResult,
    )
    assert (result.execution_id, result.status) == (execution_id, "started elsewhere")
    runs = [w async for w in temporal_client.list_workflows(f"WorkflowId = 'exec-{execution_id}'")]
    assert len(runs) == 1


async def test_with_temporal_out_of_reach_a_scheduled_flow_changes_nothing(
    api: httpx.AsyncClient,
    tenant: TenantKeys,
    engine: Engine,
    settings: Settings,
    temporal_client: Client,
) -> None:
    flow = await make_flow(api, tenant, trigger=EVERY_MORNING)
    away = settings.model_copy(update={"temporal_address": "127.0.0.1:1"})  # nothing listens
    app = create_app(settings=away, engine=engine, temporal_client=None)
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://flowdeck.test") as offline:
        disabled = await _patch(offline, tenant, flow["id"], enabled=False)
        assert disabled.status_code == 503, disabled.text
        assert "nothing was changed" in disabled.json()["error"]["message"]
        deleted = await offline.delete(f"/api/flows/{flow['id']}", headers=tenant.auth("manager"))
        assert deleted.status_code == 503, deleted.text
        renamed = await _patch(offline, tenant, flow["id"], name="Renamed")  # no schedule change
        assert renamed.status_code == 503
    read = (await api.get(f"/api/flows/{flow['id']}", headers=tenant.auth("viewer"))).json()
    assert (read["enabled"], read["name"]) == (True, flow["name"])
    handle = await _schedule(temporal_client, flow["id"])
    assert (await handle.describe()).schedule.state.paused is False  # flow and schedule agree


async def test_changing_the_cron_updates_the_schedule_and_deleting_the_flow_deletes_it(
    api: httpx.AsyncClient, tenant: TenantKeys, temporal_client: Client
) -> None:
    flow = await make_flow(api, tenant, trigger=EVERY_MORNING)
    handle = await _schedule(temporal_client, flow["id"])
    morning = (await handle.describe()).info.next_action_times[0]

    evening = {"type": "schedule", "cron": "30 18 * * *", "timezone": "Europe/London"}
    changed = await _patch(api, tenant, flow["id"], trigger=evening, name="Evening digest")
    assert changed.status_code == 200, changed.text
    described = await handle.describe()
    # Found by the flow's new name in the Web UI; its firings carry it too.
    assert described.typed_search_attributes.get(search_attributes.FLOW_NAME) == "Evening digest"
    action = described.schedule.action
    assert isinstance(action, ScheduleActionStartWorkflow)
    assert action.typed_search_attributes.get(search_attributes.FLOW_NAME) == "Evening digest"
    assert described.schedule.spec.time_zone_name == "Europe/London"
    evening_at = described.info.next_action_times[0]
    assert evening_at != morning
    local = evening_at.astimezone(ZoneInfo("Europe/London"))
    assert (local.hour, local.minute) == (18, 30)

    later = {**evening, "start": "2030-01-01T00:00:00+05:30", "end": "2030-02-01T00:00:00Z"}
    bounded = await _patch(api, tenant, flow["id"], trigger=later)
    assert bounded.status_code == 200, bounded.text
    shown = await api.get(f"/api/flows/{flow['id']}/schedule", headers=tenant.auth("viewer"))
    runs = [datetime.fromisoformat(r) for r in shown.json()["next_runs"]]
    assert runs and all(  # nothing before its start, nothing after its end
        datetime(2029, 12, 31, 18, 30, tzinfo=UTC) <= r < datetime(2030, 2, 1, tzinfo=UTC)
        for r in runs
    )
    # 18:30 in London (UTC in winter), from its start (midnight in Kolkata is 18:30 UTC) on.
    assert runs[0] == datetime(2029, 12, 31, 18, 30, tzinfo=UTC)

    deleted = await api.delete(f"/api/flows/{flow['id']}", headers=tenant.auth("manager"))
    assert deleted.status_code == 204
    with pytest.raises(RPCError) as gone:
        await handle.describe()
    assert gone.value.status == RPCStatusCode.NOT_FOUND


async def test_a_schedule_waits_for_a_published_version_and_leaves_with_its_trigger(
    api: httpx.AsyncClient, tenant: TenantKeys, other_tenant: TenantKeys, temporal_client: Client
) -> None:
    flow = await make_flow(api, tenant, trigger=EVERY_MORNING, publish=False)
    handle = await _schedule(temporal_client, flow["id"])
    with pytest.raises(RPCError):
        await handle.describe()  # nothing to run yet
    none = await api.get(f"/api/flows/{flow['id']}/schedule", headers=tenant.auth("viewer"))
    assert none.status_code == 404

    published = await api.post(
        f"/api/flows/{flow['id']}/versions/1/publish", headers=tenant.auth("manager")
    )
    assert published.status_code == 200, published.text
    assert (await handle.describe()).schedule.state.paused is False
    theirs = await api.get(f"/api/flows/{flow['id']}/schedule", headers=other_tenant.auth("admin"))
    assert theirs.status_code == 404  # another tenant's flow: as if it did not exist

    manual = await _patch(api, tenant, flow["id"], trigger={"type": "manual"})
    assert manual.status_code == 200, manual.text
    with pytest.raises(RPCError) as gone:
        await handle.describe()
    assert gone.value.status == RPCStatusCode.NOT_FOUND


@pytest.mark.parametrize(
    ("trigger", "path"),
    [
        ({"type": "schedule", "cron": "61 * * * *"}, "$.trigger.cron"),
        ({"type": "schedule", "cron": "0 9 * *"}, "$.trigger.cron"),
        ({"type": "schedule", "cron": "0 9 31 2 *"}, "$.trigger.cron"),
        ({"type": "schedule", "cron": "@daily", "end": "2020-01-01T00:00:00Z"}, "$.trigger"),
        ({"type": "schedule", "cron": "0 9 * * funday"}, "$.trigger.cron"),
        (
            {"type": "schedule", "cron": "0 9 * * *", "timezone": "Mars/Olympus"},
            "$.trigger.timezone",
        ),
        ({"type": "schedule"}, "$.trigger"),
        ({"type": "schedule", "interval_s": 1}, "$.trigger.interval_s"),
        ({"type": "schedule", "cron": "@daily", "overlap": "sometimes"}, "$.trigger.overlap"),
        (
            {"type": "schedule", "cron": "@daily", "start": "2027-01-01T09:00:00"},
            "$.trigger.start",
        ),
    ],
)
async def test_a_bad_schedule_is_refused_at_its_path(
    api: httpx.AsyncClient, tenant: TenantKeys, trigger: dict[str, Any], path: str
) -> None:
    flow = await make_flow(api, tenant, publish=False)
    refused = await _patch(api, tenant, flow["id"], trigger=trigger)
    assert refused.status_code == 422, refused.text
    assert path in [d["path"] for d in refused.json()["error"]["details"]]
    created = await api.post(
        "/api/flows", json={"name": "Bad", "trigger": trigger}, headers=tenant.auth("manager")
    )
    assert created.status_code == 422
    assert path in [d["path"] for d in created.json()["error"]["details"]]


async def test_the_sweep_makes_a_schedule_a_failed_publish_left_missing(
    api: httpx.AsyncClient,
    tenant: TenantKeys,
    temporal_client: Client,
    engine: Engine,
    settings: Settings,
) -> None:
    """A publish whose sync failed leaves a published schedule flow with no schedule: the
    recovery sweep creates it (paused for a disabled flow), and leaves every other one alone."""
    running = await make_flow(api, tenant, name="Morning digest", trigger=EVERY_MORNING)
    disabled = await make_flow(api, tenant, name="Paused digest", trigger=EVERY_MORNING)
    await _patch(api, tenant, disabled["id"], enabled=False)
    draft = await make_flow(api, tenant, name="Draft", trigger=EVERY_MORNING, publish=False)
    for flow in (running, disabled):  # as if the publish's sync had never reached Temporal
        await (await _schedule(temporal_client, flow["id"])).delete()

    repaired = await schedules.repair_missing(
        engine=engine, client=temporal_client, settings=settings
    )
    assert sorted(repaired) == sorted([running["id"], disabled["id"]])
    for flow, paused in ((running, False), (disabled, True)):
        described = await (await _schedule(temporal_client, flow["id"])).describe()
        assert described.schedule.state.paused is paused
        assert described.schedule.spec.time_zone_name == "Asia/Kolkata"
    with pytest.raises(RPCError) as missing:
        await (await _schedule(temporal_client, draft["id"])).describe()
    assert missing.value.status == RPCStatusCode.NOT_FOUND  # no published version: none due
    again = await schedules.repair_missing(engine=engine, client=temporal_client, settings=settings)
    assert again == []
