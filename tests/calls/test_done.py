"""Issue 4's "done means", as a new user would try it: deploy a menu flow to a number, call it
with the script that plays Twilio's part (`callsim.play`, behind `flowdeck call`), press 2,
hear that sales is busy, wait in the queue until an agent is free, hang up; the execution is
completed with `hangup` in its timeline and in Temporal."""

from __future__ import annotations

import asyncio

import httpx
from temporalio.api.enums.v1 import EventType
from temporalio.client import WorkflowExecutionStatus
from temporalio.testing import WorkflowEnvironment
from temporalio.worker import Worker

from callsim import SimulatedCall, play
from schemas.call import execution_id_for_call
from schemas.execution import SIGNAL_CALL_STATUS
from tests.api.helpers import TenantKeys, wait_for_status
from tests.calls.conftest import AUTH_TOKEN, CALLER, PUBLIC_URL, Deploy
from tests.calls.test_transfer import ASHA, menu_flow, offers_to


async def test_call_press_2_wait_in_the_sales_queue_then_hang_up(
    api: httpx.AsyncClient,
    tenant: TenantKeys,
    worker: Worker,
    deploy: Deploy,
    temporal_env: WorkflowEnvironment,
) -> None:
    manager = tenant.auth("manager")
    created = await api.post(
        "/api/departments", json={"name": "Sales", "queue": "sales"}, headers=manager
    )
    assert created.status_code == 201, created.text
    sales = created.json()
    asha = await api.post(
        "/api/agents",
        json={"name": "Asha", "phone": ASHA, "department_ids": [sales["id"]], "status": "busy"},
        headers=manager,
    )
    assert asha.status_code == 201, asha.text
    _, number = await deploy(menu_flow())
    heard: list[str] = []
    offered: list[dict[str, object]] = []

    async def caller(prompt: str) -> str:
        """In the queue: the agent becomes available, is offered the call; then hang up."""
        assert prompt.startswith("waiting in the queue"), prompt
        freed = await api.patch(
            f"/api/agents/{asha.json()['id']}", json={"status": "available"}, headers=manager
        )
        assert freed.json()["status"] == "busy"  # taking our call now
        offered.extend(await offers_to(api, tenant, ASHA))
        return "hangup"

    call = SimulatedCall(
        client=api, auth_token=AUTH_TOKEN, public_url=PUBLIC_URL, to=number, from_=CALLER
    )
    await play(call, ["press:2"], ask=caller, say=heard.append)

    assert heard[0] == "  flow says: Press 1 for support, 2 for sales."
    assert heard[1].startswith("  flow says: All agents of Sales are busy.")
    assert heard[-1] == "  you hung up"
    assert len(offered) == 1

    execution_id = execution_id_for_call(call.call_sid)
    execution = await wait_for_status(api, tenant, execution_id, "completed")
    assert execution["reason"] == "hangup"
    assert [s["node_type"] for s in execution["steps"]][-1] == "hangup"
    assert execution["workflow_id"] in execution["temporal_url"]
    handle = temporal_env.client.get_workflow_handle(execution["workflow_id"])
    # What the Web UI shows of the run: its result (the row is written just before the
    # workflow closes), and the hang-up arriving as a signal.
    result = await handle.result()
    described = await handle.describe()
    assert described.status == WorkflowExecutionStatus.COMPLETED
    assert (result["status"], result["reason"]) == ("completed", "hangup")
    history = await handle.fetch_history()
    signals = [
        e.workflow_execution_signaled_event_attributes.signal_name
        for e in history.events
        if e.event_type == EventType.EVENT_TYPE_WORKFLOW_EXECUTION_SIGNALED
    ]
    assert SIGNAL_CALL_STATUS in signals
    # The agent who was being offered the call is free again.
    for _ in range(100):
        agent = await api.get(f"/api/agents/{asha.json()['id']}", headers=tenant.auth("viewer"))
        if agent.json()["status"] == "available":
            break
        await asyncio.sleep(0.05)
    assert agent.json()["status"] == "available"
