"""Routing a transfer: longest idle agent with the skills, else the department's queue.

The store's functions against both databases; the helpers at the top build a call centre
row by row and are shared by the other routing test modules.
"""

from __future__ import annotations

import threading
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import pytest
from sqlalchemy.engine import Engine
from sqlmodel import select

from store import routing
from store.db import session_scope
from store.models import Agent, Department, Execution, ExecutionStep, QueuedCall, Tenant, utcnow


def call_sid() -> str:
    return "CA" + uuid.uuid4().hex


@dataclass
class Centre:
    """A tenant's call centre, built row by row."""

    engine: Engine
    tenant_id: str

    def department(self, name: str, **fields: Any) -> Department:
        fields.setdefault("queue", name.lower())
        with session_scope(self.engine) as session:
            row = Department(tenant_id=self.tenant_id, name=name, **fields)
            session.add(row)
            session.flush()
            return row

    def agent(
        self,
        name: str,
        departments: list[Department],
        *,
        status: str = "available",
        idle_s: int = 0,
        skills: list[str] | None = None,
        phone: str | None = None,
        client_identity: str | None = None,
    ) -> Agent:
        if phone is None and client_identity is None:
            phone = "+1555" + str(uuid.uuid4().int)[:7]
        with session_scope(self.engine) as session:
            row = Agent(
                tenant_id=self.tenant_id,
                name=name,
                phone=phone,
                client_identity=client_identity,
                department_ids=[d.id for d in departments],
                skills=skills,
                status=status,
                status_changed_at=utcnow() - timedelta(seconds=idle_s),
            )
            session.add(row)
            session.flush()
            return row

    def read_agent(self, agent_id: str) -> Agent:
        with session_scope(self.engine) as session:
            row = session.get(Agent, agent_id)
            assert row is not None
            return row

    def entry(self, entry_id: str) -> QueuedCall:
        with session_scope(self.engine) as session:
            row = session.get(QueuedCall, entry_id)
            assert row is not None
            return row

    def entries(self) -> list[QueuedCall]:
        with session_scope(self.engine) as session:
            query = select(QueuedCall).where(QueuedCall.tenant_id == self.tenant_id)
            return list(session.exec(query).all())


def make_centre(engine: Engine, tenant_id: str | None = None) -> Centre:
    if tenant_id is None:
        with session_scope(engine) as session:
            tenant = Tenant(name=f"centre-{uuid.uuid4().hex[:6]}")
            session.add(tenant)
            session.flush()
            tenant_id = tenant.id
    return Centre(engine=engine, tenant_id=tenant_id)


def closed_hours(now: datetime) -> dict[str, Any]:
    """Business hours that are closed at `now` (UTC): open only on another weekday."""
    days = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
    other = days[(now.weekday() + 3) % 7]
    return {"start": "00:00", "end": "24:00", "timezone": "UTC", "days": [other]}


@pytest.fixture
def centre(engine: Engine) -> Centre:
    return make_centre(engine)


def _route(centre: Centre, department: str, **kwargs: Any) -> Any:
    kwargs.setdefault("execution_id", None)
    kwargs.setdefault("call_sid", call_sid())
    return routing.route(centre.engine, tenant_id=centre.tenant_id, department=department, **kwargs)


def test_the_longest_idle_available_agent_is_dialled_and_becomes_busy(centre: Centre) -> None:
    sales = centre.department("Sales", phone_number="+15550100000")
    centre.agent("Recent", [sales], idle_s=10)
    oldest = centre.agent("Oldest", [sales], idle_s=600)
    centre.agent("Middle", [sales], idle_s=60)

    routed = _route(centre, "Sales")

    assert routed.action == "dial"
    assert (routed.agent_id, routed.agent_name, routed.number) == (
        oldest.id,
        "Oldest",
        oldest.phone,
    )
    assert (routed.department, routed.caller_id) == ("Sales", "+15550100000")
    after = centre.read_agent(oldest.id)
    assert after.status == "busy" and after.status_changed_at > oldest.status_changed_at
    entry = centre.entry(routed.queue_entry_id)
    assert (entry.status, entry.agent_id) == ("offered", oldest.id)


def test_the_department_is_found_by_id_too_and_client_agents_are_dialled_as_clients(
    centre: Centre,
) -> None:
    support = centre.department("Support")
    agent = centre.agent("Web", [support], client_identity="web-agent-1")

    routed = _route(centre, support.id)

    assert (routed.action, routed.client, routed.number) == ("dial", "web-agent-1", None)
    assert routed.agent_id == agent.id


def test_only_agents_with_every_requested_skill_qualify(centre: Centre) -> None:
    sales = centre.department("Sales")
    centre.agent("English only", [sales], idle_s=900, skills=["english"])
    both = centre.agent("Bilingual", [sales], idle_s=10, skills=["English", "hindi"])

    routed = _route(centre, "Sales", skills=["english", "Hindi"])

    assert routed.agent_id == both.id


def test_busy_offline_and_other_departments_agents_are_skipped(centre: Centre) -> None:
    sales = centre.department("Sales")
    support = centre.department("Support")
    centre.agent("Busy", [sales], status="busy", idle_s=900)
    centre.agent("Offline", [sales], status="offline", idle_s=900)
    centre.agent("Support only", [support], idle_s=900)
    free = centre.agent("Free", [sales, support], idle_s=5)

    assert _route(centre, "Sales").agent_id == free.id
    queued = _route(centre, "Sales")
    assert (queued.action, queued.queue, queued.position) == ("enqueue", f"fd-{sales.id}-p5", 1)


def test_nobody_available_queues_the_caller_with_its_context(centre: Centre) -> None:
    billing = centre.department("Billing", phone_number="+15550100001")
    sid = call_sid()

    routed = _route(
        centre, "Billing", call_sid=sid, priority=3, context={"path": ["menu", "billing"]}
    )

    assert routed.action == "enqueue"
    assert routed.queue == f"fd-{billing.id}-p3"
    assert routed.position == 1
    entry = centre.entry(routed.queue_entry_id)
    assert (entry.status, entry.call_sid, entry.priority) == ("waiting", sid, 3)
    assert entry.context == {"path": ["menu", "billing"]}


def test_callers_wait_in_twilio_queues_of_callers_alike_never_shared_by_tenants(
    engine: Engine,
) -> None:
    """Twilio bridges an agent to the longest waiting call of the queue it dials: callers of
    one department, priority and skill set share a queue, and nobody else does."""
    first, second = make_centre(engine), make_centre(engine)
    ours, theirs = first.department("Sales"), second.department("Sales")
    assert ours.queue == theirs.queue == "sales"

    def queue(centre: Centre, **kwargs: Any) -> str:
        routed = _route(centre, "Sales", **kwargs)
        assert routed.action == "enqueue"
        return str(routed.queue)

    plain = queue(first)
    assert plain == queue(first) == f"fd-{ours.id}-p5"
    assert queue(second) == f"fd-{theirs.id}-p5"
    assert queue(first, priority=1) == f"fd-{ours.id}-p1"
    skilled = queue(first, skills=["Hindi", "billing"])
    assert skilled.startswith(f"fd-{ours.id}-p5-") and skilled != plain
    assert queue(first, skills=["BILLING", "hindi"]) == skilled  # the same set, any case
    assert queue(first, skills=["billing"]) != skilled
    assert len(skilled) <= 64  # Twilio's limit on a queue's name


def test_a_department_that_is_a_phone_line_is_dialled_when_no_agent_is_free(
    centre: Centre, engine: Engine
) -> None:
    line = centre.department("Billing", queue=None, phone_number="+15550100009")
    bo = centre.agent("Bo", [line], status="busy")

    routed = _route(centre, "Billing", route_key="exec-1:transfer:1")

    assert (routed.action, routed.number, routed.agent_id) == ("dial", "+15550100009", None)
    assert routed.caller_id is None  # the line sees who is calling
    entry = centre.entry(routed.queue_entry_id)
    assert (entry.status, entry.outcome) == ("done", "dialled_line")
    assert _route(centre, "Billing", route_key="exec-1:transfer:1") == routed  # a retry
    released = routing.release(
        engine,
        tenant_id=centre.tenant_id,
        agent_id=None,
        queue_entry_id=routed.queue_entry_id,
        outcome="connected",
    )
    assert released is None and centre.read_agent(bo.id).status == "busy"
    # With an agent free, the agent takes the call before the line does.
    free = centre.agent("Asha", [line])
    assert _route(centre, "Billing").agent_id == free.id


def test_queue_positions_follow_priority_then_arrival(centre: Centre) -> None:
    centre.department("Sales")
    first = _route(centre, "Sales", priority=5)
    second = _route(centre, "Sales", priority=5)
    urgent = _route(centre, "Sales", priority=1)

    assert [first.position, second.position, urgent.position] == [1, 2, 1]
    with session_scope(centre.engine) as session:
        department = routing.find_department(
            session, tenant_id=centre.tenant_id, department="Sales"
        )
        order = routing.waiting_entries(
            session, tenant_id=centre.tenant_id, department_id=department.id
        )
    assert [e.id for e in order] == [
        urgent.queue_entry_id,
        first.queue_entry_id,
        second.queue_entry_id,
    ]


def test_a_closed_department_overflows_to_its_open_overflow(centre: Centre) -> None:
    now = utcnow()
    after_hours = centre.department("After hours")
    night = centre.agent("Night", [after_hours])
    sales = centre.department(
        "Sales", business_hours=closed_hours(now), overflow_department_id=after_hours.id
    )
    centre.agent("Day", [sales], idle_s=900)

    routed = _route(centre, "Sales", now=now)

    assert (routed.action, routed.agent_id) == ("dial", night.id)
    assert (routed.department, routed.overflow_from) == ("After hours", "Sales")


def test_a_closed_department_without_an_open_overflow_fails_clearly(centre: Centre) -> None:
    now = utcnow()
    a = centre.department("A", business_hours=closed_hours(now))
    b = centre.department("B", business_hours=closed_hours(now), overflow_department_id=a.id)
    with session_scope(centre.engine) as session:
        row = session.get(Department, a.id)
        assert row is not None
        row.overflow_department_id = b.id  # a loop: A -> B -> A
        session.add(row)

    with pytest.raises(routing.RoutingError, match="'A' is closed") as closed:
        _route(centre, "A", now=now)
    assert closed.value.code == "DepartmentClosed"
    assert centre.entries() == []


def test_an_unknown_or_foreign_department_is_named_in_the_error(
    centre: Centre, engine: Engine
) -> None:
    other = make_centre(engine)
    foreign = other.department("Theirs")
    for name in ("Nope", foreign.id, "Theirs"):
        with pytest.raises(routing.RoutingError, match=f"no department '{name}'") as unknown:
            _route(centre, name)
        assert unknown.value.code == "UnknownDepartment"


def test_an_agent_target_is_claimed_or_fails_when_not_available(centre: Centre) -> None:
    sales = centre.department("Sales", phone_number="+15550100002")
    free = centre.agent("Asha", [sales])
    centre.agent("Ravi", [sales], status="offline")

    routed = routing.route(
        centre.engine,
        tenant_id=centre.tenant_id,
        agent="Asha",
        execution_id=None,
        call_sid=call_sid(),
    )
    assert (routed.action, routed.agent_id, routed.department) == ("dial", free.id, "Sales")
    assert centre.read_agent(free.id).status == "busy"

    for name, status in (("Asha", "busy"), ("Ravi", "offline")):
        with pytest.raises(routing.RoutingError, match=f"agent '{name}' is {status}") as failed:
            routing.route(
                centre.engine,
                tenant_id=centre.tenant_id,
                agent=name,
                execution_id=None,
                call_sid=call_sid(),
            )
        assert failed.value.code == "AgentUnavailable"
    with pytest.raises(routing.RoutingError, match="no agent 'Ghost'"):
        routing.route(
            centre.engine,
            tenant_id=centre.tenant_id,
            agent="Ghost",
            execution_id=None,
            call_sid="x",
        )


def test_a_retried_route_returns_the_first_answer(centre: Centre) -> None:
    sales = centre.department("Sales")
    one = centre.agent("One", [sales])
    two = centre.agent("Two", [sales])

    key = f"{uuid.uuid4().hex}:4"  # the step's idempotency key: execution and seq

    first = _route(centre, "Sales", route_key=key)
    again = _route(centre, "Sales", route_key=key)

    assert again == first and first.action == "dial"
    assert len(centre.entries()) == 1
    statuses = sorted(centre.read_agent(a.id).status for a in (one, two))
    assert statuses == ["available", "busy"]  # one agent claimed, not two


def test_concurrent_transfers_never_get_the_same_agent(centre: Centre) -> None:
    sales = centre.department("Sales")
    agents = [centre.agent(f"Agent {i}", [sales], idle_s=100 - i) for i in range(3)]
    results: list[Any] = []
    errors: list[BaseException] = []
    start = threading.Barrier(8)

    def transfer() -> None:
        try:
            start.wait()
            results.append(_route(centre, "Sales"))
        except BaseException as exc:  # surfaced below
            errors.append(exc)

    threads = [threading.Thread(target=transfer) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)

    assert errors == []
    dialled = [r.agent_id for r in results if r.action == "dial"]
    assert sorted(dialled) == sorted(a.id for a in agents)  # each agent once, all of them
    positions = sorted(r.position for r in results if r.action == "enqueue")
    assert positions == [1, 2, 3, 4, 5]


def test_release_frees_the_agent_and_offers_it_the_next_waiting_caller(
    centre: Centre, engine: Engine
) -> None:
    sales = centre.department("Sales", phone_number="+15550100003")
    agent = centre.agent("Asha", [sales])
    execution = _execution(centre)
    connected = _route(centre, "Sales")
    later = _route(centre, "Sales", priority=5, execution_id=execution.id)
    urgent = _route(centre, "Sales", priority=1)
    assert (later.action, urgent.action) == ("enqueue", "enqueue")

    offer = routing.release(
        engine,
        tenant_id=centre.tenant_id,
        agent_id=agent.id,
        queue_entry_id=connected.queue_entry_id,
        outcome="connected",
    )

    assert offer is not None
    assert (offer.queue_entry_id, offer.agent_id, offer.queue) == (
        urgent.queue_entry_id,
        agent.id,
        f"fd-{sales.id}-p1",
    )
    assert (offer.to, offer.caller_id) == (agent.phone, "+15550100003")
    done = centre.entry(connected.queue_entry_id)
    assert (done.status, done.outcome) == ("done", "connected")
    assert done.ended_at is not None
    assert centre.entry(urgent.queue_entry_id).status == "offered"
    assert centre.read_agent(agent.id).status == "busy"

    # The offered caller hangs up; the next one is the execution's, whose workflow is named.
    second = routing.release(
        engine,
        tenant_id=centre.tenant_id,
        agent_id=agent.id,
        queue_entry_id=urgent.queue_entry_id,
        outcome="hangup",
    )
    assert second is not None and second.queue_entry_id == later.queue_entry_id
    assert second.workflow_id == execution.workflow_id

    # Releasing the same entry again frees nothing: the agent stays on its new caller.
    assert (
        routing.release(
            engine,
            tenant_id=centre.tenant_id,
            agent_id=agent.id,
            queue_entry_id=urgent.queue_entry_id,
            outcome="hangup",
        )
        is None
    )
    assert centre.read_agent(agent.id).status == "busy"


def test_release_leaves_an_agent_set_offline_meanwhile_offline(
    centre: Centre, engine: Engine
) -> None:
    sales = centre.department("Sales")
    agent = centre.agent("Asha", [sales])
    connected = _route(centre, "Sales")
    with session_scope(engine) as session:
        row = session.get(Agent, agent.id)
        assert row is not None
        row.status = "offline"
        session.add(row)
    _route(centre, "Sales")  # someone waits

    offer = routing.release(
        engine,
        tenant_id=centre.tenant_id,
        agent_id=agent.id,
        queue_entry_id=connected.queue_entry_id,
        outcome="connected",
    )

    assert offer is None
    assert centre.read_agent(agent.id).status == "offline"


def test_an_agent_dialled_straight_who_did_not_answer_goes_offline(
    centre: Centre, engine: Engine
) -> None:
    sales = centre.department("Sales")
    agent = centre.agent("Asha", [sales])
    dialled = _route(centre, "Sales")
    assert dialled.action == "dial"
    waiting = _route(centre, "Sales")

    offer = routing.release(
        engine,
        tenant_id=centre.tenant_id,
        agent_id=agent.id,
        queue_entry_id=dialled.queue_entry_id,
        outcome="no_answer",
    )

    assert offer is None  # not offered the caller who waits
    assert centre.read_agent(agent.id).status == "offline"
    assert centre.entry(dialled.queue_entry_id).outcome == "no_answer"
    assert centre.entry(waiting.queue_entry_id).status == "waiting"


def test_next_offer_respects_skills_and_departments(centre: Centre, engine: Engine) -> None:
    sales = centre.department("Sales")
    support = centre.department("Support")
    now = utcnow()
    needs_hindi = _route(centre, "Sales", skills=["hindi"], enqueued_at=now)
    plain = _route(centre, "Sales", enqueued_at=now + timedelta(seconds=1))
    _route(centre, "Support", enqueued_at=now - timedelta(seconds=60))  # another department
    agent = centre.agent("English", [sales], skills=["english"])

    offer = routing.next_offer(engine, tenant_id=centre.tenant_id, agent_id=agent.id)

    assert offer is not None and offer.queue_entry_id == plain.queue_entry_id
    assert centre.entry(needs_hindi.queue_entry_id).status == "waiting"
    assert routing.next_offer(engine, tenant_id=centre.tenant_id, agent_id=agent.id) is None
    other = centre.agent("Support", [support], status="offline")
    assert routing.next_offer(engine, tenant_id=centre.tenant_id, agent_id=other.id) is None


def test_concurrent_offers_never_hand_one_caller_to_two_agents(
    centre: Centre, engine: Engine
) -> None:
    sales = centre.department("Sales")
    waiting = [_route(centre, "Sales") for _ in range(2)]
    agents = [centre.agent(f"A{i}", [sales]) for i in range(5)]  # they log in after
    offers: list[Any] = []
    start = threading.Barrier(len(agents))

    def offer(agent_id: str) -> None:
        start.wait()
        offers.append(routing.next_offer(engine, tenant_id=centre.tenant_id, agent_id=agent_id))

    threads = [threading.Thread(target=offer, args=(a.id,)) for a in agents]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)

    made = [o for o in offers if o is not None]
    assert sorted(o.queue_entry_id for o in made) == sorted(w.queue_entry_id for w in waiting)
    assert len({o.agent_id for o in made}) == 2
    statuses = sorted(centre.read_agent(a.id).status for a in agents)
    assert statuses == ["available", "available", "available", "busy", "busy"]


def test_the_path_of_a_call_comes_from_its_execution(centre: Centre, engine: Engine) -> None:
    from schemas.call import execution_id_for_call

    sid = call_sid()
    execution = _execution(centre, execution_id=execution_id_for_call(sid))
    with session_scope(engine) as session:
        for seq, node in enumerate(["welcome", "menu", "sales"], start=1):
            session.add(
                ExecutionStep(
                    execution_id=execution.id,
                    tenant_id=centre.tenant_id,
                    seq=seq,
                    node_id=node,
                    node_type="say",
                    status="success",
                )
            )
    with session_scope(engine) as session:
        found = routing.execution_for_call(session, tenant_id=centre.tenant_id, call_sid=sid)
        assert found is not None and found.id == execution.id
        assert routing.path_of(session, execution_id=execution.id) == ["welcome", "menu", "sales"]
        assert routing.execution_for_call(session, tenant_id="someone-else", call_sid=sid) is None


def _execution(centre: Centre, execution_id: str | None = None) -> Execution:
    from store.models import Flow

    with session_scope(centre.engine) as session:
        flow = Flow(tenant_id=centre.tenant_id, name="Menu", published_version=1)
        session.add(flow)
        session.flush()
        fields: dict[str, Any] = {"id": execution_id} if execution_id else {}
        row = Execution(
            tenant_id=centre.tenant_id,
            flow_id=flow.id,
            version=1,
            workflow_id=f"exec-{uuid.uuid4().hex}",
            **fields,
        )
        session.add(row)
        session.flush()
        return row


def test_a_caller_queued_as_the_agent_frees_up_is_never_left_waiting(
    centre: Centre, engine: Engine
) -> None:
    """Routing and releasing at the same moment: afterwards either the agent is busy or
    nobody waits (never an available agent beside a waiting caller)."""
    sales = centre.department("Sales")
    agent = centre.agent("Solo", [sales])
    current = _route(centre, "Sales").queue_entry_id

    def release(start: threading.Barrier, entry_id: str) -> None:
        start.wait()
        routing.release(
            engine,
            tenant_id=centre.tenant_id,
            agent_id=agent.id,
            queue_entry_id=entry_id,
            outcome="connected",
        )

    def arrive(start: threading.Barrier) -> None:
        start.wait()
        _route(centre, "Sales")

    for _ in range(15):
        start = threading.Barrier(2)
        threads = [
            threading.Thread(target=release, args=(start, current)),
            threading.Thread(target=arrive, args=(start,)),
        ]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=60)

        with session_scope(engine) as session:
            waiting = routing.waiting_entries(
                session, tenant_id=centre.tenant_id, department_id=sales.id
            )
        assert not (waiting and centre.read_agent(agent.id).status == "available")
        offered = [e for e in centre.entries() if e.status == "offered"]
        assert len(offered) == 1  # the agent is on exactly one caller
        current = offered[0].id
