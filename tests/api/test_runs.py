"""Running flows through the API on a real Temporal server, with and without a worker."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from sqlalchemy.engine import Engine
from sqlmodel import select
from temporalio.api.enums.v1 import EventType
from temporalio.client import Client, WorkflowExecutionStatus
from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.testing import WorkflowEnvironment
from temporalio.worker import Worker

from api.main import create_app
from schemas.limits import RUN_INPUT_LIMIT_BYTES
from schemas.settings import Settings
from store.db import session_scope
from store.models import Execution
from tests.api.conftest import TEMPORAL_UI
from tests.api.helpers import (
    LONG_WAIT,
    REVIEW,
    TenantKeys,
    make_flow,
    run,
    set_flow,
    wait_for_status,
    waiting_flow,
)


async def _signals(client: Client, workflow_id: str) -> list[str]:
    history = await client.get_workflow_handle(workflow_id).fetch_history()
    return [
        e.workflow_execution_signaled_event_attributes.signal_name
        for e in history.events
        if e.event_type == EventType.EVENT_TYPE_WORKFLOW_EXECUTION_SIGNALED
    ]


async def _terminate(client: Client, *workflow_ids: str) -> None:
    for workflow_id in workflow_ids:
        await client.get_workflow_handle(workflow_id).terminate("test over")


def _set_status(engine: Engine, execution_id: str, status: str) -> None:
    with session_scope(engine) as session:
        row = session.get(Execution, execution_id)
        assert row is not None
        row.status = status
        session.add(row)


async def test_a_run_completes_and_shows_its_timeline(
    api: httpx.AsyncClient, tenant: TenantKeys, worker: Worker
) -> None:
    flow = await make_flow(api, tenant, name="Greeting")
    started = await run(
        api,
        tenant,
        flow["id"],
        contact={"name": "Asha Rao", "phone": "+919800000001"},
        variables={"source": "api"},
    )
    assert started["status"] in ("pending", "running", "completed")
    assert started["workflow_id"] == f"exec-{started['id']}"
    assert started["temporal_url"] == (
        f"{TEMPORAL_UI}/namespaces/default/workflows/exec-{started['id']}"
    )

    done = await wait_for_status(api, tenant, started["id"], "completed")
    assert done["flow_name"] == "Greeting" and done["version"] == 1
    assert done["contact"] == {"name": "Asha Rao", "phone": "+919800000001"}
    assert done["contact_name"] == "Asha Rao" and done["contact_phone"] == "+919800000001"
    assert done["variables"] == {"source": "api"}
    assert done["trigger"]["type"] == "manual"
    assert done["context"]["vars"]["x"] == 1
    assert done["created_at"] <= done["started_at"] <= done["ended_at"]
    steps = done["steps"]
    assert [s["seq"] for s in steps] == sorted(s["seq"] for s in steps)
    assert [(s["node_id"], s["status"]) for s in steps] == [
        ("assign", "success"),
        ("done", "success"),
    ]
    assert steps[0]["port"] == "next" and steps[0]["duration_ms"] is not None


async def test_without_a_worker_the_workflow_waits_in_temporal(
    api: httpx.AsyncClient, tenant: TenantKeys, temporal_env: WorkflowEnvironment
) -> None:
    flow = await make_flow(api, tenant)
    started = await run(api, tenant, flow["id"], contact={"first_name": "Ravi", "last_name": "K"})
    description = await temporal_env.client.get_workflow_handle(started["workflow_id"]).describe()
    assert description.status == WorkflowExecutionStatus.RUNNING
    assert description.workflow_type == "FlowExecution"
    detail = await api.get(f"/api/executions/{started['id']}", headers=tenant.auth("viewer"))
    assert detail.json()["status"] == "pending"
    assert detail.json()["contact_name"] == "Ravi K"
    await _terminate(temporal_env.client, started["workflow_id"])


@pytest.fixture
async def broken_api(
    engine: Engine, settings: Settings, temporal_env: WorkflowEnvironment
) -> AsyncIterator[httpx.AsyncClient]:
    """The app with a client whose namespace does not exist: every start is refused."""
    client = await Client.connect(
        temporal_env.client.service_client.config.target_host,
        namespace="no-such-namespace",
        data_converter=pydantic_data_converter,
    )
    app = create_app(settings=settings, engine=engine, temporal_client=client)
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://t") as http:
        yield http


async def test_a_refused_start_is_recorded_as_failed_and_answered_503(
    api: httpx.AsyncClient, broken_api: httpx.AsyncClient, tenant: TenantKeys
) -> None:
    flow = await make_flow(api, tenant)
    response = await broken_api.post(
        f"/api/flows/{flow['id']}/executions", json={}, headers=tenant.auth("manager")
    )
    assert response.status_code == 503
    assert response.json()["error"]["code"] == "unavailable"
    listed = await api.get(f"/api/executions?flow_id={flow['id']}", headers=tenant.auth())
    [execution] = listed.json()["items"]
    assert execution["status"] == "failed"
    assert "could not be started" in execution["reason"]
    events = await api.get(
        f"/api/events?execution_id={execution['id']}", headers=tenant.auth("viewer")
    )
    assert [e["type"] for e in events.json()["items"]][-1] == "flow.failed"


async def test_the_pinned_version_follows_the_rules(
    api: httpx.AsyncClient, tenant: TenantKeys, temporal_env: WorkflowEnvironment
) -> None:
    flow = await make_flow(api, tenant, publish=False)
    unpublished = await api.post(
        f"/api/flows/{flow['id']}/executions", json={}, headers=tenant.auth("manager")
    )
    assert unpublished.status_code == 409
    assert "no published version" in unpublished.json()["error"]["message"]

    draft = await api.post(
        f"/api/flows/{flow['id']}/executions", json={"version": 1}, headers=tenant.auth("manager")
    )
    assert draft.status_code == 422
    assert draft.json()["error"]["details"][0]["path"] == "$.version"
    test_run = await run(api, tenant, flow["id"], version=1, test=True)
    assert test_run["version"] == 1 and test_run["test"] is True

    await api.post(f"/api/flows/{flow['id']}/versions/1/publish", headers=tenant.auth("manager"))
    await api.post(
        f"/api/flows/{flow['id']}/versions",
        json={"definition": set_flow(2)},
        headers=tenant.auth("manager"),
    )
    await api.post(f"/api/flows/{flow['id']}/versions/2/publish", headers=tenant.auth("manager"))
    archived = await run(api, tenant, flow["id"], version=1)
    assert archived["version"] == 1
    current = await run(api, tenant, flow["id"])
    assert current["version"] == 2
    missing = await api.post(
        f"/api/flows/{flow['id']}/executions", json={"version": 7}, headers=tenant.auth("manager")
    )
    assert missing.status_code == 422
    await _terminate(
        temporal_env.client,
        test_run["workflow_id"],
        archived["workflow_id"],
        current["workflow_id"],
    )


async def test_after_a_rollback_new_runs_use_the_copy(
    api: httpx.AsyncClient, tenant: TenantKeys, worker: Worker
) -> None:
    flow = await make_flow(api, tenant, definition=set_flow("one"))
    manager = tenant.auth("manager")
    await api.post(
        f"/api/flows/{flow['id']}/versions", json={"definition": set_flow("two")}, headers=manager
    )
    await api.post(f"/api/flows/{flow['id']}/versions/2/publish", headers=manager)
    before = await run(api, tenant, flow["id"])
    rolled = await api.post(
        f"/api/flows/{flow['id']}/rollback", json={"version": 1}, headers=manager
    )
    assert rolled.status_code == 201
    after = await run(api, tenant, flow["id"])

    assert (await wait_for_status(api, tenant, before["id"], "completed"))["context"]["vars"][
        "x"
    ] == "two"
    done = await wait_for_status(api, tenant, after["id"], "completed")
    assert done["version"] == 3
    assert done["context"]["vars"]["x"] == "one"


async def test_cancel_stops_a_waiting_execution_once(
    api: httpx.AsyncClient, tenant: TenantKeys, worker: Worker
) -> None:
    flow = await make_flow(api, tenant, definition=waiting_flow(LONG_WAIT))
    started = await run(api, tenant, flow["id"])
    await wait_for_status(api, tenant, started["id"], "waiting")

    cancelled = await api.post(
        f"/api/executions/{started['id']}/cancel",
        json={"reason": "customer asked"},
        headers=tenant.auth("manager"),
    )
    assert cancelled.status_code == 202, cancelled.text
    done = await wait_for_status(api, tenant, started["id"], "cancelled")
    assert done["reason"] == "customer asked"
    again = await api.post(
        f"/api/executions/{started['id']}/cancel", json={}, headers=tenant.auth("manager")
    )
    assert again.status_code == 409
    event = await api.post(
        f"/api/executions/{started['id']}/events/ping", json={}, headers=tenant.auth("manager")
    )
    assert event.status_code == 409

    retried = await api.post(
        f"/api/executions/{started['id']}/retry", headers=tenant.auth("manager")
    )
    assert retried.status_code == 201, retried.text
    retry = retried.json()
    assert retry["retry_of"] == started["id"] and retry["id"] != started["id"]
    assert retry["version"] == started["version"]
    await wait_for_status(api, tenant, retry["id"], "waiting")
    still_running = await api.post(
        f"/api/executions/{retry['id']}/retry", headers=tenant.auth("manager")
    )
    assert still_running.status_code == 409
    await api.post(f"/api/executions/{retry['id']}/cancel", headers=tenant.auth("manager"))
    await wait_for_status(api, tenant, retry["id"], "cancelled")


async def test_an_event_reaches_a_waiting_step(
    api: httpx.AsyncClient, tenant: TenantKeys, worker: Worker
) -> None:
    waiter = {"id": "paid", "type": "wait_for", "config": {"event": "payment.received"}}
    flow = await make_flow(api, tenant, definition=waiting_flow(waiter))
    started = await run(api, tenant, flow["id"])
    await wait_for_status(api, tenant, started["id"], "waiting")
    sent = await api.post(
        f"/api/executions/{started['id']}/events/payment.received",
        json={"data": {"amount": 499}},
        headers=tenant.auth("manager"),
    )
    assert sent.status_code == 202, sent.text
    done = await wait_for_status(api, tenant, started["id"], "completed")
    assert done["steps"][0]["port"] == "received"
    assert done["steps"][0]["result"]["data"] == {"amount": 499}


async def test_human_tasks_are_completed_by_their_assignee(
    api: httpx.AsyncClient, tenant: TenantKeys, worker: Worker
) -> None:
    second = {**REVIEW, "id": "approve", "config": {"assignee": "manager", "title": "Approve"}}
    definition = {
        "start": "review",
        "nodes": [
            {**REVIEW, "transitions": {"completed": "approve"}},
            {**second, "transitions": {"completed": "done"}},
            {"id": "done", "type": "end"},
        ],
    }
    flow = await make_flow(api, tenant, definition=definition)
    # The assignee is a template: the task belongs to whom it rendered to.
    started = await run(api, tenant, flow["id"], contact={"owner": "agent-key"})
    await wait_for_status(api, tenant, started["id"], "waiting")
    url = f"/api/executions/{started['id']}/steps/{{}}/complete"

    async def complete(step: str, role: str, data: dict[str, Any]) -> httpx.Response:
        return await api.put(url.format(step), json={"data": data}, headers=tenant.auth(role))

    assert (await complete("review", "viewer", {"budget": 5})).status_code == 403
    other_agent = await api.post(
        "/api/keys", json={"name": "someone-else", "role": "agent"}, headers=tenant.auth()
    )
    stranger = {"Authorization": f"Bearer {other_agent.json()['secret']}"}
    refused = await api.put(url.format("review"), json={"data": {"budget": 5}}, headers=stranger)
    assert refused.status_code == 403

    not_waiting = await complete("approve", "manager", {})
    assert not_waiting.status_code == 409
    assert "not waiting" in not_waiting.json()["error"]["message"]
    incomplete = await complete("review", "agent", {})
    assert incomplete.status_code == 409
    assert "budget" in incomplete.json()["error"]["message"]
    assert (await complete("done", "manager", {})).status_code == 409
    assert (await complete("nowhere", "manager", {})).status_code == 404

    accepted = await complete("review", "agent", {"budget": 5000})
    assert accepted.status_code == 200, accepted.text
    assert accepted.json() == {"accepted": True}
    twice = await complete("review", "agent", {"budget": 1})
    assert twice.status_code == 409
    assert (await complete("approve", "manager", {})).status_code == 200

    done = await wait_for_status(api, tenant, started["id"], "completed")
    review = next(s for s in done["steps"] if s["node_id"] == "review")
    assert review["result"]["data"] == {"budget": 5000}
    assert review["result"]["completed_by"] == "agent-key"
    after_end = await complete("review", "agent", {"budget": 1})
    assert after_end.status_code == 409


async def test_bulk_cancel_signals_only_live_matching_executions(
    api: httpx.AsyncClient, tenant: TenantKeys, engine: Engine, temporal_env: WorkflowEnvironment
) -> None:
    flow = await make_flow(api, tenant)
    other = await make_flow(api, tenant, name="other")
    runs = [await run(api, tenant, flow["id"]) for _ in range(3)]
    untouched = await run(api, tenant, other["id"])
    _set_status(engine, runs[0]["id"], "completed")

    response = await api.post(
        "/api/executions/cancel",
        json={"flow_id": flow["id"], "reason": "campaign stopped"},
        headers=tenant.auth("manager"),
    )
    assert response.status_code == 202, response.text
    assert response.json() == {"matched": 2, "signalled": 2}
    client = temporal_env.client
    assert await _signals(client, runs[0]["workflow_id"]) == []
    assert await _signals(client, runs[1]["workflow_id"]) == ["cancel"]
    assert await _signals(client, runs[2]["workflow_id"]) == ["cancel"]
    assert await _signals(client, untouched["workflow_id"]) == []

    bad = await api.post(
        "/api/executions/cancel", json={"status": ["nope"]}, headers=tenant.auth("manager")
    )
    assert bad.status_code == 422
    await _terminate(client, *(r["workflow_id"] for r in [*runs, untouched]))


async def test_bulk_cancel_of_picked_executions_signals_only_those(
    api: httpx.AsyncClient, tenant: TenantKeys, temporal_env: WorkflowEnvironment
) -> None:
    flow = await make_flow(api, tenant)
    runs = [await run(api, tenant, flow["id"]) for _ in range(3)]
    picked = [runs[0]["id"], runs[2]["id"], "no-such-execution"]

    response = await api.post(
        "/api/executions/cancel", json={"ids": picked}, headers=tenant.auth("manager")
    )
    assert response.status_code == 202, response.text
    assert response.json() == {"matched": 2, "signalled": 2}
    client = temporal_env.client
    assert await _signals(client, runs[0]["workflow_id"]) == ["cancel"]
    assert await _signals(client, runs[1]["workflow_id"]) == []
    assert await _signals(client, runs[2]["workflow_id"]) == ["cancel"]

    too_many = await api.post(
        "/api/executions/cancel", json={"ids": ["x"] * 201}, headers=tenant.auth("manager")
    )
    assert too_many.status_code == 422
    await _terminate(client, *(r["workflow_id"] for r in runs))


async def test_another_tenants_execution_does_not_exist(
    api: httpx.AsyncClient,
    tenant: TenantKeys,
    other_tenant: TenantKeys,
    temporal_env: WorkflowEnvironment,
) -> None:
    flow = await make_flow(api, tenant)
    started = await run(api, tenant, flow["id"])
    theirs = other_tenant.auth("admin")
    eid = started["id"]
    for method, path in [
        ("GET", f"/api/executions/{eid}"),
        ("POST", f"/api/executions/{eid}/cancel"),
        ("POST", f"/api/executions/{eid}/retry"),
        ("POST", f"/api/executions/{eid}/events/ping"),
        ("PUT", f"/api/executions/{eid}/steps/assign/complete"),
    ]:
        response = await api.request(method, path, json={}, headers=theirs)
        assert response.status_code == 404, (method, path, response.text)
    assert (await api.get("/api/executions", headers=theirs)).json()["items"] == []
    bulk = await api.post("/api/executions/cancel", json={}, headers=theirs)
    assert bulk.json() == {"matched": 0, "signalled": 0}
    assert await _signals(temporal_env.client, started["workflow_id"]) == []
    await _terminate(temporal_env.client, started["workflow_id"])


@pytest.mark.parametrize("part", ["variables", "contact"])
async def test_a_run_input_over_its_limit_is_422_at_the_largest_part_and_stores_nothing(
    api: httpx.AsyncClient, tenant: TenantKeys, engine: Engine, part: str
) -> None:
    """Contact, variables and trigger travel in every payload of the run's workflow: over
    `RUN_INPUT_LIMIT_BYTES` together, the run is refused at the largest of them."""
    flow = await make_flow(api, tenant)
    big = {"notes": "x" * (RUN_INPUT_LIMIT_BYTES + 1024)}
    response = await api.post(
        f"/api/flows/{flow['id']}/executions", json={part: big}, headers=tenant.auth("manager")
    )
    assert response.status_code == 422, response.text
    error = response.json()["error"]
    assert "the run's input is" in error["message"]
    assert [(d["path"], d["code"]) for d in error["details"]] == [(f"$.{part}", "too_large")]
    with session_scope(engine) as session:
        stored = session.exec(select(Execution).where(Execution.flow_id == flow["id"])).all()
    assert stored == []
    within = await api.post(
        f"/api/flows/{flow['id']}/executions",
        json={part: {"notes": "x" * 1024}},
        headers=tenant.auth("manager"),
    )
    assert within.status_code == 201, within.text
