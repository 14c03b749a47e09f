"""The transfer step's routing activity, and offering queued callers to freed agents.

Activities run as a worker runs them (`ActivityEnvironment`, the real `FlowActivities`);
agents are called through the real twilio library against the fake Twilio REST server, or
recorded in the outbox in sandbox mode; the caller's workflow is a real one on Temporal.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from sqlalchemy.engine import Engine
from sqlmodel import select
from temporalio.api.enums.v1 import EventType
from temporalio.client import Client
from temporalio.exceptions import ApplicationError
from temporalio.testing import ActivityEnvironment, WorkflowEnvironment
from temporalio.worker import Worker

from activities import FlowActivities
from activities import routing as dispatch
from schemas.call import ACTIVITY_RELEASE_AGENT, SIGNAL_CALL_ROUTED, ReleaseAgent, Routed
from schemas.execution import ActionInput
from schemas.settings import Settings
from store import routing
from store.db import session_scope
from store.models import Agent, Execution, OutboxMessage
from tests.activities.conftest import Seed, seed_tenant
from tests.api.helpers import LONG_WAIT, TenantKeys, make_flow, waiting_flow
from tests.channels.conftest import (
    TWILIO_ENV,
    FakeTwilio,
    _twilio_server,
    fake_twilio,
    routed_to,
)
from tests.telephony.test_routing import Centre, call_sid, make_centre

__all__ = ["_twilio_server", "fake_twilio"]  # fixtures, used here

SANDBOX: dict[str, Any] = {"FLOWDECK_ENV": "test"}


def queue_twiml(queue: str) -> str:
    """What an agent offered a waiting caller is called with: dial that caller's queue."""
    return (
        '<?xml version="1.0" encoding="UTF-8"?>'
        f"<Response><Dial><Queue>{queue}</Queue></Dial></Response>"
    )


@pytest.fixture
def seed(engine: Engine) -> Seed:
    return seed_tenant(engine)


@pytest.fixture
def centre(seed: Seed) -> Centre:
    return make_centre(seed.engine, seed.tenant_id)


@pytest.fixture
async def http(fake_twilio: FakeTwilio) -> AsyncIterator[httpx.AsyncClient]:
    async with routed_to(fake_twilio) as client:
        yield client


def _transfer(seed: Seed, config: dict[str, Any], *, sid: str | None, seq: int = 1) -> ActionInput:
    data = seed.action("transfer", config, seq=seq, node_id="to_sales")
    call = {"call_sid": sid, "from": "+919800000001", "to": "+15550100000"} if sid else None
    context = {"call": call, "path": ["welcome", "menu", "to_sales"]} if call else {}
    return data.model_copy(update={"context": context})


def _activities(engine: Engine, http: httpx.AsyncClient, **env: Any) -> FlowActivities:
    return FlowActivities(
        engine=engine, settings=Settings.model_validate({**SANDBOX, **env}), http_client=http
    )


async def _perform(engine: Engine, http: httpx.AsyncClient, data: ActionInput) -> Any:
    return await ActivityEnvironment().run(_activities(engine, http).perform_action, data)


async def test_a_transfer_to_a_department_dials_its_available_agent(
    seed: Seed, centre: Centre, http: httpx.AsyncClient
) -> None:
    sales = centre.department("Sales", phone_number="+15550100000")
    agent = centre.agent("Asha", [sales], skills=["hindi"])
    sid = call_sid()

    output = await _perform(
        seed.engine, http, _transfer(seed, {"department": "Sales", "skills": ["hindi"]}, sid=sid)
    )

    assert output.port == "routed"
    assert output.result["action"] == "dial"
    assert (output.result["agent_id"], output.result["number"]) == (agent.id, agent.phone)
    assert output.result["caller_id"] == "+15550100000"
    assert output.waiting  # the workflow dials, then finishes the step with its real port
    step = seed.step(1)
    assert step is not None and step.status == "waiting"
    assert step.result is not None and step.result["agent_id"] == agent.id
    entry = centre.entry(output.result["queue_entry_id"])
    assert (entry.call_sid, entry.execution_id) == (sid, seed.execution_id)
    assert entry.context == {
        "path": ["welcome", "menu", "to_sales"],
        "from": "+919800000001",
        "to": "+15550100000",
    }


async def test_a_transfer_with_nobody_free_queues_the_caller(
    seed: Seed, centre: Centre, http: httpx.AsyncClient
) -> None:
    sales = centre.department("Sales")
    centre.agent("Busy", [sales], status="busy")

    output = await _perform(
        seed.engine, http, _transfer(seed, {"department": "Sales"}, sid=call_sid())
    )

    assert output.result["action"] == "enqueue"
    assert (output.result["queue"], output.result["position"]) == (f"fd-{sales.id}-p5", 1)


async def test_a_transfer_with_a_priority_is_served_before_earlier_callers(
    seed: Seed, centre: Centre, http: httpx.AsyncClient
) -> None:
    sales = centre.department("Sales")
    centre.agent("Busy", [sales], status="busy")
    earlier = _transfer(seed, {"department": "Sales"}, sid=call_sid())
    vip = _transfer(seed, {"department": "Sales", "priority": 1}, sid=call_sid(), seq=2)

    first = await _perform(seed.engine, http, earlier)
    urgent = await _perform(seed.engine, http, vip)

    assert (first.result["position"], urgent.result["position"]) == (1, 1)
    assert urgent.result["queue"] == f"fd-{sales.id}-p1"
    assert centre.entry(urgent.result["queue_entry_id"]).priority == 1


async def test_a_retried_transfer_step_routes_once(
    seed: Seed, centre: Centre, http: httpx.AsyncClient
) -> None:
    sales = centre.department("Sales")
    centre.agent("One", [sales])
    centre.agent("Two", [sales])
    data = _transfer(seed, {"department": "Sales"}, sid=call_sid())

    first = await dispatch.route_transfer(_context(seed, http, data))
    again = await dispatch.route_transfer(_context(seed, http, data))

    assert again == first
    assert len(centre.entries()) == 1


async def test_a_transfer_to_a_number_needs_no_routing(seed: Seed, http: httpx.AsyncClient) -> None:
    data = _transfer(seed, {"number": "+15557654321", "timeout_s": 20}, sid=call_sid())

    output = await dispatch.route_transfer(_context(seed, http, data))

    assert output.result["action"] == "dial"
    assert (output.result["number"], output.result["timeout_s"]) == ("+15557654321", 20)


@pytest.mark.parametrize(
    ("config", "sid", "error_type", "message"),
    [
        ({"department": "Nowhere"}, True, "UnknownDepartment", "no department 'Nowhere'"),
        ({"agent": "Ravi"}, True, "AgentUnavailable", "agent 'Ravi' is offline"),
        ({"department": "Sales"}, False, "NoLiveCall", "this step needs a live call"),
        ({"department": "Sales", "agent": "Ravi"}, True, "InvalidConfig", "exactly one of"),
    ],
)
async def test_a_transfer_that_cannot_be_routed_fails_for_good(
    seed: Seed,
    centre: Centre,
    http: httpx.AsyncClient,
    config: dict[str, Any],
    sid: bool,
    error_type: str,
    message: str,
) -> None:
    sales = centre.department("Sales")
    centre.agent("Ravi", [sales], status="offline")
    data = _transfer(seed, config, sid=call_sid() if sid else None)

    with pytest.raises(ApplicationError) as failed:
        await dispatch.route_transfer(_context(seed, http, data))

    assert failed.value.type == error_type
    assert failed.value.non_retryable
    assert message in failed.value.message


def _context(seed: Seed, http: httpx.AsyncClient, data: ActionInput) -> Any:
    import structlog

    from activities.step import StepContext

    return StepContext(
        data=data,
        engine=seed.engine,
        settings=Settings.model_validate(SANDBOX),
        http=http,
        log=structlog.get_logger("tests.routing"),
    )


def _outbox(engine: Engine, tenant_id: str) -> list[OutboxMessage]:
    with session_scope(engine) as session:
        query = select(OutboxMessage).where(OutboxMessage.tenant_id == tenant_id)
        return list(session.exec(query).all())


def _release(seed: Seed, entry_id: str | None, agent_id: str | None) -> ReleaseAgent:
    return ReleaseAgent(
        tenant_id=seed.tenant_id,
        execution_id=seed.execution_id,
        call_sid=call_sid(),
        agent_id=agent_id,
        queue_entry_id=entry_id,
        outcome="connected",
    )


async def test_the_release_activity_frees_the_agent_and_calls_it_into_the_next_queue(
    seed: Seed, centre: Centre, http: httpx.AsyncClient, temporal_env: WorkflowEnvironment
) -> None:
    sales = centre.department("Sales", phone_number="+15550100000")
    agent = centre.agent("Asha", [sales])
    connected = routing.route(
        seed.engine, tenant_id=seed.tenant_id, department="Sales", execution_id=None, call_sid="CA1"
    )
    waiting = routing.route(
        seed.engine, tenant_id=seed.tenant_id, department="Sales", execution_id=None, call_sid="CA2"
    )
    activities = _activities(seed.engine, http)
    assert ACTIVITY_RELEASE_AGENT in [
        getattr(a, "__temporal_activity_definition").name for a in activities.all()
    ]

    await ActivityEnvironment(client=temporal_env.client).run(
        activities.release_agent, _release(seed, connected.queue_entry_id, agent.id)
    )

    assert centre.entry(connected.queue_entry_id or "").outcome == "connected"
    assert centre.entry(waiting.queue_entry_id or "").status == "offered"
    assert centre.read_agent(agent.id).status == "busy"
    [offer] = _outbox(seed.engine, seed.tenant_id)
    assert (offer.channel, offer.provider, offer.to) == ("voice", "sandbox", agent.phone)
    assert offer.content is not None
    assert offer.content["purpose"] == "queue_offer"
    assert offer.content["twiml"] == queue_twiml(waiting.queue)
    assert offer.content["from"] == "+15550100000"


async def test_through_twilio_the_agent_is_called_with_dial_queue_twiml(
    seed: Seed,
    centre: Centre,
    http: httpx.AsyncClient,
    fake_twilio: FakeTwilio,
    temporal_env: WorkflowEnvironment,
) -> None:
    sales = centre.department("Sales")
    agent = centre.agent("Asha", [sales], status="busy")
    waiting = routing.route(
        seed.engine, tenant_id=seed.tenant_id, department="Sales", execution_id=None, call_sid="CA3"
    )
    activities = _activities(seed.engine, http, **TWILIO_ENV)

    await ActivityEnvironment(client=temporal_env.client).run(
        activities.release_agent, _release(seed, None, agent.id)
    )

    assert fake_twilio.violations == []
    [call] = fake_twilio.calls
    assert (call["to"], call["from"]) == (agent.phone, TWILIO_ENV["FLOWDECK_TWILIO_FROM_VOICE"])
    assert call["form"]["Twiml"] == [queue_twiml(waiting.queue)]
    [row] = _outbox(seed.engine, seed.tenant_id)
    assert (row.provider, row.provider_id) == ("twilio", call["sid"])
    assert centre.entry(waiting.queue_entry_id or "").agent_id == agent.id


def _on_a_call_with_one_waiting(seed: Seed, centre: Centre) -> tuple[Agent, Routed, Routed]:
    """Asha, Sales' one agent, on a transfer (connected), and a caller waiting behind it."""
    sales = centre.department("Sales")
    agent = centre.agent("Asha", [sales])
    route = {"tenant_id": seed.tenant_id, "department": "Sales", "execution_id": None}
    connected, waiting = [
        routing.route(seed.engine, call_sid=call_sid(), **route) for _ in range(2)
    ]
    assert (connected.action, waiting.action) == ("dial", "enqueue")
    return agent, connected, waiting


async def test_a_refused_agent_call_puts_the_caller_back_in_the_queue(
    seed: Seed,
    centre: Centre,
    http: httpx.AsyncClient,
    fake_twilio: FakeTwilio,
    temporal_env: WorkflowEnvironment,
) -> None:
    """The release itself succeeds: the next caller's refused offer must not fail the
    execution whose transfer just ended."""
    agent, connected, waiting = _on_a_call_with_one_waiting(seed, centre)
    fake_twilio.refuse_next = (400, 21211, "The 'To' number is not a valid phone number.")
    activities = _activities(seed.engine, http, **TWILIO_ENV)

    await ActivityEnvironment(client=temporal_env.client).run(
        activities.release_agent, _release(seed, connected.queue_entry_id, agent.id)
    )

    assert centre.entry(connected.queue_entry_id or "").outcome == "connected"
    entry = centre.entry(waiting.queue_entry_id or "")
    assert (entry.status, entry.agent_id) == ("waiting", None)
    assert centre.read_agent(agent.id).status == "available"
    assert _outbox(seed.engine, seed.tenant_id) == []


async def test_a_release_retried_after_twilio_failed_offers_the_next_caller_again(
    seed: Seed,
    centre: Centre,
    http: httpx.AsyncClient,
    fake_twilio: FakeTwilio,
    temporal_env: WorkflowEnvironment,
) -> None:
    agent, connected, waiting = _on_a_call_with_one_waiting(seed, centre)
    fake_twilio.refuse_next = (503, 20503, "Service Unavailable")
    activities = _activities(seed.engine, http, **TWILIO_ENV)
    release = _release(seed, connected.queue_entry_id, agent.id)
    environment = ActivityEnvironment(client=temporal_env.client)

    with pytest.raises(ApplicationError) as failed:
        await environment.run(activities.release_agent, release)
    assert failed.value.type == "OfferFailed" and not failed.value.non_retryable
    assert centre.entry(waiting.queue_entry_id or "").status == "waiting"

    await environment.run(activities.release_agent, release)  # Temporal's retry

    entry = centre.entry(waiting.queue_entry_id or "")
    assert (entry.status, entry.agent_id) == ("offered", agent.id)
    assert centre.read_agent(agent.id).status == "busy"
    [call] = fake_twilio.calls
    assert call["to"] == agent.phone


async def _signals(client: Client, workflow_id: str, *, expect: str) -> list[str]:
    """The signals in the workflow's history; waits a little for `expect`, since the server
    writes a signal that arrives during a workflow task only once that task completes."""
    names: list[str] = []
    for _ in range(50):
        history = await client.get_workflow_handle(workflow_id).fetch_history()
        names = [
            e.workflow_execution_signaled_event_attributes.signal_name
            for e in history.events
            if e.event_type == EventType.EVENT_TYPE_WORKFLOW_EXECUTION_SIGNALED
        ]
        if expect in names:
            break
        await asyncio.sleep(0.1)
    return names


async def test_the_callers_workflow_is_signalled_when_an_agent_takes_it(
    api: httpx.AsyncClient,
    tenant: TenantKeys,
    worker: Worker,
    engine: Engine,
    temporal_env: WorkflowEnvironment,
    http: httpx.AsyncClient,
) -> None:
    flow = await make_flow(api, tenant, waiting_flow(LONG_WAIT))
    started = await api.post(
        f"/api/flows/{flow['id']}/executions", json={}, headers=tenant.auth("manager")
    )
    assert started.status_code in (200, 201, 202), started.text
    execution_id = started.json()["id"]
    with session_scope(engine) as session:
        execution = session.get(Execution, execution_id)
        assert execution is not None
        workflow_id = execution.workflow_id
    centre = make_centre(engine, tenant.id)
    sales = centre.department("Sales")
    agent = centre.agent("Asha", [sales], status="busy")
    waiting = routing.route(
        engine,
        tenant_id=tenant.id,
        department="Sales",
        execution_id=execution_id,
        call_sid=call_sid(),
    )
    activities = _activities(engine, http)
    release = ReleaseAgent(
        tenant_id=tenant.id,
        execution_id="another",
        call_sid="CA0",
        agent_id=agent.id,
        outcome="connected",
    )

    await ActivityEnvironment(client=temporal_env.client).run(activities.release_agent, release)

    assert centre.entry(waiting.queue_entry_id or "").status == "offered"
    assert SIGNAL_CALL_ROUTED in await _signals(
        temporal_env.client, workflow_id, expect=SIGNAL_CALL_ROUTED
    )
