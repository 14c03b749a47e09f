"""Routing transferred calls: an available agent of the department, else its queue.

Every routed transfer is a `QueuedCall` entry: `offered` when an agent was claimed for it at
once, `waiting` in the department's queue otherwise, `done` once released. Claims are
conditional UPDATEs (`... WHERE status = 'available'`, `... WHERE status = 'waiting'`) whose
row count says who won, so two transfers routed at the same moment never get the same agent
and two agents never take the same caller, on SQLite and PostgreSQL alike. Locks are always
taken department first (routing and offering only), then agent, then entry, so concurrent
routes, offers and releases cannot deadlock.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from pydantic import ValidationError
from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select

from schemas.call import Routed, execution_id_for_call
from schemas.hours import BusinessHours, is_open
from store.db import session_scope
from store.models import (
    Agent,
    Department,
    Execution,
    ExecutionStep,
    OutboxMessage,
    QueuedCall,
    utcnow,
)

WAITING, OFFERED, DONE = "waiting", "offered", "done"
PENDING = "pending"
"""`QueuedCall.offer_call` of an offer whose agent's call is not placed yet."""
DIALLED_LINE = "dialled_line"
"""The outcome of a transfer to a department's phone line (no agent was free to take it)."""
MISSED_DIAL = frozenset({"no_answer"})
"""The transfer outcome of a direct dial the agent did not answer (busy, no answer); a failed
one may be ours or Twilio's doing (a refused redirect), not the agent's."""
_BACK_IN_LINE: dict[str, Any] = {
    "status": WAITING,
    "agent_id": None,
    "offered_at": None,
    "offer_call": None,
}
"""An offered entry's columns once its caller waits again (for no agent, no call)."""
CANDIDATES = 50
"""Agents (or waiting callers) looked at per claim; more only matters under heavy contention."""

_agents = Agent.__table__  # type: ignore[attr-defined]
_entries = QueuedCall.__table__  # type: ignore[attr-defined]


class RoutingError(Exception):
    """A transfer that cannot be routed; retrying does not help. `code` names the reason."""

    def __init__(self, message: str, *, code: str) -> None:
        super().__init__(message)
        self.code = code


@dataclass(frozen=True, kw_only=True)
class Offer:
    """A waiting caller handed to an agent: the agent is to be called into the queue."""

    tenant_id: str
    queue_entry_id: str
    queue: str
    call_sid: str
    execution_id: str | None
    workflow_id: str | None
    agent_id: str
    agent_name: str
    agent_phone: str | None
    agent_client: str | None
    caller_id: str | None
    """The department's number, shown to the agent."""

    @property
    def to(self) -> str:
        """Where the agent is called: its phone, else its Twilio Client identity."""
        return self.agent_phone or f"client:{self.agent_client}"


def queue_name(department: Department, *, priority: int, skills: Sequence[str]) -> str:
    """The Twilio queue a caller waits in: one per department, priority and set of skills.

    An agent offered a caller dials `<Dial><Queue>`, and Twilio bridges the longest waiting
    call of that queue. In a queue of callers alike, that is the caller Flowdeck chose (by
    priority, then arrival, among those the agent has the skills for). Department ids are
    unique, so two tenants (or departments) with a queue of the same name never share one.
    """
    name = f"fd-{department.id}-p{priority}"
    wanted = sorted({skill.casefold() for skill in skills})
    if wanted:
        name += "-" + hashlib.sha256("\n".join(wanted).encode()).hexdigest()[:12]
    return name


def find_department(session: Session, *, tenant_id: str, department: str) -> Department:
    """The tenant's department by id or by name; RoutingError naming it otherwise."""
    row = session.get(Department, department)
    if row is not None and row.tenant_id == tenant_id:
        return row
    by_name = select(Department).where(
        Department.tenant_id == tenant_id, Department.name == department
    )
    found = session.exec(by_name).first()
    if found is None:
        raise RoutingError(f"no department {department!r} in this tenant", code="UnknownDepartment")
    return found


def _find_agent(session: Session, *, tenant_id: str, agent: str) -> Agent:
    row = session.get(Agent, agent)
    if row is not None and row.tenant_id == tenant_id:
        return row
    by_name = select(Agent).where(Agent.tenant_id == tenant_id, Agent.name == agent)
    found = session.exec(by_name.order_by(col(Agent.id))).first()
    if found is None:
        raise RoutingError(f"no agent {agent!r} in this tenant", code="UnknownAgent")
    return found


def _open(department: Department, now: datetime) -> bool:
    if not department.business_hours:
        return True
    try:
        hours = BusinessHours.model_validate(department.business_hours)
    except ValidationError:
        return True  # stored hours are validated by the API; unreadable ones never close
    return is_open(hours, now)


def _open_department(
    session: Session, department: Department, now: datetime
) -> tuple[Department, str | None]:
    """The department itself when open, else the first open one along its overflow chain."""
    seen = {department.id}
    current = department
    while not _open(current, now):
        nxt = current.overflow_department_id
        target = session.get(Department, nxt) if nxt else None
        if target is None or target.tenant_id != department.tenant_id or target.id in seen:
            raise RoutingError(
                f"department {department.name!r} is closed and has no open overflow department",
                code="DepartmentClosed",
            )
        seen.add(target.id)
        current = target
    return current, (department.name if current.id != department.id else None)


def _lock_departments(session: Session, department_ids: Sequence[str]) -> None:
    """Serialize routing into and offering from these departments' queues (PostgreSQL row
    locks, in id order; SQLite has one writer anyway). Without it, on PostgreSQL, a caller
    could be queued just as the only agent became free and was offered an empty queue."""
    if session.get_bind().dialect.name != "postgresql":
        return
    query = (
        select(Department.id)
        .where(col(Department.id).in_(sorted(department_ids)))
        .order_by(col(Department.id))
        .with_for_update()
    )
    session.exec(query).all()


def _claim_agent(session: Session, agent_id: str, now: datetime) -> bool:
    """Available -> busy, if nobody else claimed it first."""
    result = session.connection().execute(
        sa.update(_agents)
        .where(_agents.c.id == agent_id, _agents.c.status == "available")
        .values(status="busy", status_changed_at=now, updated_at=now)
    )
    return result.rowcount == 1


def _candidates(
    session: Session, *, tenant_id: str, department_id: str, skills: Sequence[str]
) -> list[Agent]:
    """Available agents of the department with every skill, longest idle first."""
    query = (
        select(Agent)
        .where(Agent.tenant_id == tenant_id, Agent.status == "available")
        .order_by(col(Agent.status_changed_at), col(Agent.id))
    )
    wanted = {s.casefold() for s in skills}
    # department_ids and skills are JSON lists: filtered here, the same way on every backend.
    return [
        a
        for a in session.exec(query).all()
        if department_id in (a.department_ids or [])
        and wanted <= {s.casefold() for s in a.skills or []}
    ]


def position(session: Session, entry: QueuedCall) -> int:
    """1-based place of a waiting entry in its department's queue."""
    ahead = session.exec(
        select(sa.func.count())
        .select_from(QueuedCall)
        .where(
            QueuedCall.tenant_id == entry.tenant_id,
            QueuedCall.department_id == entry.department_id,
            QueuedCall.status == WAITING,
            sa.or_(
                col(QueuedCall.priority) < entry.priority,
                sa.and_(
                    col(QueuedCall.priority) == entry.priority,
                    sa.or_(
                        col(QueuedCall.enqueued_at) < entry.enqueued_at,
                        sa.and_(
                            col(QueuedCall.enqueued_at) == entry.enqueued_at,
                            col(QueuedCall.id) < entry.id,
                        ),
                    ),
                ),
            ),
        )
    ).one()
    return int(ahead) + 1


def _routed(session: Session, entry: QueuedCall, *, timeout_s: int, **extra: Any) -> Routed:
    """What a transfer's entry means for the call: dial its agent, or wait in its queue."""
    department = session.get(Department, entry.department_id) if entry.department_id else None
    common: dict[str, Any] = {
        "department_id": department.id if department else None,
        "department": department.name if department else None,
        "queue_entry_id": entry.id,
        "timeout_s": timeout_s,
        "caller_id": department.phone_number if department else None,
        **extra,
    }
    if entry.status == WAITING:
        return Routed(
            action="enqueue", queue=entry.queue, position=position(session, entry), **common
        )
    if entry.outcome == DIALLED_LINE and department is not None:
        # The caller's own number is shown to the line (Twilio's default for a forwarded call).
        return Routed(action="dial", number=department.phone_number, **common | {"caller_id": None})
    agent = session.get(Agent, entry.agent_id) if entry.agent_id else None
    if agent is None:
        raise RoutingError(
            f"the agent of transfer {entry.id} no longer exists", code="UnknownAgent"
        )
    return Routed(
        action="dial",
        number=agent.phone,
        client=None if agent.phone else agent.client_identity,
        agent_id=agent.id,
        agent_name=agent.name,
        **common,
    )


def route(
    engine: Engine,
    *,
    tenant_id: str,
    department: str | None = None,
    agent: str | None = None,
    skills: Sequence[str] = (),
    execution_id: str | None,
    call_sid: str,
    priority: int = 5,
    context: dict[str, Any] | None = None,
    timeout_s: int = 30,
    route_key: str | None = None,
    now: datetime | None = None,
    enqueued_at: datetime | None = None,
) -> Routed:
    """Claim an agent for the call (a department's longest idle with the skills, or the named
    agent), else queue it in the department. `route_key` makes a retry return the same answer.
    `now` (business hours) and `enqueued_at` default to the present.
    """
    if (department is None) == (agent is None):
        raise ValueError("route needs exactly one of department or agent")
    now = now or utcnow()
    with session_scope(engine) as session:
        if route_key is not None:
            earlier = session.exec(
                select(QueuedCall).where(QueuedCall.route_key == route_key)
            ).first()
            if earlier is not None:
                return _routed(session, earlier, timeout_s=timeout_s)
        entry = QueuedCall(
            tenant_id=tenant_id,
            department_id="",
            queue="",
            execution_id=execution_id,
            call_sid=call_sid,
            route_key=route_key,
            priority=priority,
            skills=list(skills) or None,
            context=context,
            enqueued_at=now,
        )
        if agent is not None:
            return _route_to_agent(session, entry, agent=agent, now=now, timeout_s=timeout_s)
        assert department is not None
        asked = find_department(session, tenant_id=tenant_id, department=department)
        target, overflow_from = _open_department(session, asked, now)
        entry.department_id = target.id
        entry.queue = queue_name(target, priority=priority, skills=skills)
        _lock_departments(session, [target.id])
        for candidate in _candidates(
            session, tenant_id=tenant_id, department_id=target.id, skills=skills
        )[:CANDIDATES]:
            if _claim_agent(session, candidate.id, now):
                entry.status, entry.agent_id, entry.offered_at = OFFERED, candidate.id, now
                break
        else:
            if target.phone_number and not target.queue:
                # A department that is a phone line, with no agent free: dial the line.
                entry.status, entry.outcome, entry.ended_at = DONE, DIALLED_LINE, now
            entry.enqueued_at = enqueued_at or utcnow()  # stamped in queue order: no ties
        session.add(entry)
        session.flush()
        return _routed(session, entry, timeout_s=timeout_s, overflow_from=overflow_from)


def _route_to_agent(
    session: Session, entry: QueuedCall, *, agent: str, now: datetime, timeout_s: int
) -> Routed:
    found = _find_agent(session, tenant_id=entry.tenant_id, agent=agent)
    if not _claim_agent(session, found.id, now):
        raise RoutingError(f"agent {found.name!r} is {found.status}", code="AgentUnavailable")
    session.refresh(found)
    departments = found.department_ids or []
    entry.department_id = departments[0] if departments else ""
    entry.queue = ""
    entry.status, entry.agent_id, entry.offered_at = OFFERED, found.id, now
    session.add(entry)
    session.flush()
    return _routed(session, entry, timeout_s=timeout_s)


def release(
    engine: Engine,
    *,
    tenant_id: str,
    agent_id: str | None,
    queue_entry_id: str | None,
    outcome: str,
) -> Offer | None:
    """End a transfer: its entry done with `outcome`, its agent available again (unless set
    offline meanwhile). Then the next waiting caller for that agent, claimed, if any.

    An agent dialled straight (not through a queue) who did not answer (`no_answer`) is set
    offline instead, as a missed queue offer is, and offered nothing.
    Releasing twice is harmless: an entry already done frees no agent a second time.
    """
    now = utcnow()
    freed: str | None = agent_id
    missed = False
    with session_scope(engine) as session:
        conn = session.connection()
        entry = session.get(QueuedCall, queue_entry_id) if queue_entry_id else None
        if queue_entry_id is not None:
            if entry is None or entry.tenant_id != tenant_id or entry.status == DONE:
                # An entry closed before (a retried release) freed its agent then, not now.
                return None
            freed = entry.agent_id
            dialled = entry.status == OFFERED and entry.offer_call is None
            missed = dialled and outcome in MISSED_DIAL
        if freed is not None:  # the agent's row first, then the entry's (see the module doc)
            conn.execute(
                sa.update(_agents)
                .where(
                    _agents.c.id == freed,
                    _agents.c.tenant_id == tenant_id,
                    _agents.c.status == "busy",
                )
                .values(
                    status="offline" if missed else "available",
                    status_changed_at=now,
                    updated_at=now,
                )
            )
        if entry is not None:
            closed = conn.execute(
                sa.update(_entries)
                .where(_entries.c.id == entry.id, _entries.c.status != DONE)
                .values(status=DONE, outcome=outcome[:32], ended_at=now)
            )
            if closed.rowcount != 1:
                session.rollback()  # released concurrently: that release freed the agent
                return None
    if missed:
        return None
    return next_offer(engine, tenant_id=tenant_id, agent_id=freed) if freed else None


def close_offers(engine: Engine, *, tenant_id: str, agent_id: str, outcome: str) -> int:
    """Close the entries still offered to an agent who says they are free again. An offer
    whose call to the agent was never placed puts its caller back in line instead."""
    offered = (
        _entries.c.tenant_id == tenant_id,
        _entries.c.agent_id == agent_id,
        _entries.c.status == OFFERED,
    )
    with session_scope(engine) as session:
        conn = session.connection()
        conn.execute(
            sa.update(_entries)
            .where(*offered, _entries.c.offer_call == PENDING)
            .values(**_BACK_IN_LINE)
        )
        result = conn.execute(
            sa.update(_entries)
            .where(*offered)
            .values(status=DONE, outcome=outcome[:32], ended_at=utcnow())
        )
        return int(result.rowcount)


def next_offer(engine: Engine, *, tenant_id: str, agent_id: str) -> Offer | None:
    """For an available agent, the first caller waiting in its departments (by priority,
    then arrival) that it has the skills for: entry offered and agent busy, in one
    transaction. None when nothing waits or the agent is not available."""
    now = utcnow()
    with session_scope(engine) as session:
        agent = session.get(Agent, agent_id)
        if agent is None or agent.tenant_id != tenant_id or agent.status != "available":
            return None
        departments = list(agent.department_ids or [])
        if not departments:
            return None
        skills = {s.casefold() for s in agent.skills or []}
        _lock_departments(session, departments)
        waiting = session.exec(
            select(QueuedCall)
            .where(
                QueuedCall.tenant_id == tenant_id,
                col(QueuedCall.department_id).in_(departments),
                QueuedCall.status == WAITING,
            )
            .order_by(col(QueuedCall.priority), col(QueuedCall.enqueued_at), col(QueuedCall.id))
            .limit(CANDIDATES)
        ).all()
        fitting = [e for e in waiting if {s.casefold() for s in e.skills or []} <= skills]
        if not fitting or not _claim_agent(session, agent.id, now):
            return None
        for entry in fitting:
            claimed = session.connection().execute(
                sa.update(_entries)
                .where(_entries.c.id == entry.id, _entries.c.status == WAITING)
                .values(status=OFFERED, agent_id=agent.id, offered_at=now, offer_call=PENDING)
            )
            if claimed.rowcount == 1:
                return _offer(session, entry, agent)
        session.rollback()  # every one was taken meanwhile: the agent stays available
        return None


def _offer(session: Session, entry: QueuedCall, agent: Agent) -> Offer:
    department = session.get(Department, entry.department_id)
    execution = session.get(Execution, entry.execution_id) if entry.execution_id else None
    return Offer(
        tenant_id=entry.tenant_id,
        queue_entry_id=entry.id,
        queue=entry.queue,
        call_sid=entry.call_sid,
        execution_id=entry.execution_id,
        workflow_id=execution.workflow_id if execution is not None else None,
        agent_id=agent.id,
        agent_name=agent.name,
        agent_phone=agent.phone,
        agent_client=agent.client_identity,
        caller_id=department.phone_number if department is not None else None,
    )


def withdraw_offer(engine: Engine, *, offer: Offer) -> None:
    """An offer that could not be made (the agent's call failed): the caller waits again
    and the agent is available again."""
    now = utcnow()
    with session_scope(engine) as session:
        conn = session.connection()
        conn.execute(
            sa.update(_agents)
            .where(_agents.c.id == offer.agent_id, _agents.c.status == "busy")
            .values(status="available", status_changed_at=now, updated_at=now)
        )
        conn.execute(
            sa.update(_entries)
            .where(_entries.c.id == offer.queue_entry_id, _entries.c.status == OFFERED)
            .values(**_BACK_IN_LINE)
        )


@dataclass(frozen=True, kw_only=True)
class EntryState:
    """Where a routed call stands: what a callback about it needs to decide."""

    tenant_id: str
    status: str
    agent_id: str | None
    queue: str


def entry_state(engine: Engine, *, queue_entry_id: str) -> EntryState | None:
    with session_scope(engine) as session:
        entry = session.get(QueuedCall, queue_entry_id)
        if entry is None:
            return None
        return EntryState(
            tenant_id=entry.tenant_id,
            status=entry.status,
            agent_id=entry.agent_id,
            queue=entry.queue,
        )


def offer_placed(engine: Engine, *, offer: Offer, call: str) -> None:
    """The agent's call for an offer is placed (its sid, or `sandbox`): no longer sweepable."""
    with session_scope(engine) as session:
        session.connection().execute(
            sa.update(_entries)
            .where(
                _entries.c.id == offer.queue_entry_id,
                _entries.c.agent_id == offer.agent_id,
                _entries.c.status == OFFERED,
            )
            .values(offer_call=call[:64])
        )


@dataclass(frozen=True, kw_only=True)
class Reclaimed:
    """A stale offer's caller, back in line: to be offered to one of `agents` (available)."""

    tenant_id: str
    queue_entry_id: str
    agents: list[str]


def reclaim_stale_offers(engine: Engine, *, offered_before: datetime) -> list[Reclaimed]:
    """Offers claimed before `offered_before` whose call to the agent was never placed (the
    process dispatching them died between the claim and the call): each caller waits again,
    its agent is available again, and the department's available agents are returned, to
    offer it anew. Each entry is reclaimed once, in a transaction of its own, by whichever
    sweeper's conditional UPDATE wins."""
    with session_scope(engine) as session:
        stale = session.exec(
            select(QueuedCall.id).where(
                QueuedCall.status == OFFERED,
                QueuedCall.offer_call == PENDING,
                col(QueuedCall.offered_at) < offered_before,
            )
        ).all()
    reclaimed = (_reclaim(engine, entry_id) for entry_id in stale)
    return [r for r in reclaimed if r is not None]


def _reclaim(engine: Engine, entry_id: str) -> Reclaimed | None:
    now = utcnow()
    with session_scope(engine) as session:
        conn = session.connection()
        entry = session.get(QueuedCall, entry_id)
        if entry is None or entry.status != OFFERED or entry.offer_call != PENDING:
            return None
        if entry.agent_id is not None:  # the agent's row first, then the entry's
            conn.execute(
                sa.update(_agents)
                .where(_agents.c.id == entry.agent_id, _agents.c.status == "busy")
                .values(status="available", status_changed_at=now, updated_at=now)
            )
        won = conn.execute(
            sa.update(_entries)
            .where(
                _entries.c.id == entry.id,
                _entries.c.status == OFFERED,
                _entries.c.offer_call == PENDING,
                _entries.c.agent_id == entry.agent_id,
            )
            .values(**_BACK_IN_LINE)
        )
        if won.rowcount != 1:
            session.rollback()  # placed or reclaimed meanwhile: its agent stays as it was
            return None
        return Reclaimed(
            tenant_id=entry.tenant_id, queue_entry_id=entry.id, agents=_ready(session, entry)
        )


def _ready(session: Session, entry: QueuedCall) -> list[str]:
    """The available agents of the entry's department, longest idle first."""
    agents = session.exec(
        select(Agent)
        .where(Agent.tenant_id == entry.tenant_id, Agent.status == "available")
        .order_by(col(Agent.status_changed_at))
    ).all()
    return [a.id for a in agents if entry.department_id in (a.department_ids or [])]


def missed_offer(engine: Engine, *, queue_entry_id: str, agent_id: str) -> tuple[str, list[str]]:
    """The agent did not take the call it was offered (no answer, busy, failed): the caller
    waits again, the agent is set offline (as a contact centre marks a missed offer), and the
    ids of the available agents of the caller's department are returned (with the tenant),
    to offer it anew. Nothing changes when the entry is no longer offered to that agent."""
    now = utcnow()
    with session_scope(engine) as session:
        conn = session.connection()
        entry = session.get(QueuedCall, queue_entry_id)
        if entry is None or entry.status != OFFERED or entry.agent_id != agent_id:
            return "", []
        conn.execute(
            sa.update(_entries)
            .where(_entries.c.id == queue_entry_id, _entries.c.status == OFFERED)
            .values(**_BACK_IN_LINE)
        )
        conn.execute(
            sa.update(_agents)
            .where(_agents.c.id == agent_id, _agents.c.status == "busy")
            .values(status="offline", status_changed_at=now, updated_at=now)
        )
        return entry.tenant_id, _ready(session, entry)


def waiting_entries(session: Session, *, tenant_id: str, department_id: str) -> list[QueuedCall]:
    """A department's queue in the order it is served."""
    query = (
        select(QueuedCall)
        .where(
            QueuedCall.tenant_id == tenant_id,
            QueuedCall.department_id == department_id,
            QueuedCall.status == WAITING,
        )
        .order_by(col(QueuedCall.priority), col(QueuedCall.enqueued_at), col(QueuedCall.id))
    )
    return list(session.exec(query).all())


def execution_for_call(session: Session, *, tenant_id: str, call_sid: str) -> Execution | None:
    """The tenant's execution that handles a call: the one an inbound call runs as, else the
    one that placed it (its outbox row holds the CallSid)."""
    execution = session.get(Execution, execution_id_for_call(call_sid))
    if execution is None:
        placed = session.exec(
            select(OutboxMessage).where(
                OutboxMessage.provider_id == call_sid, OutboxMessage.channel == "voice"
            )
        ).first()
        if placed is not None and placed.execution_id:
            execution = session.get(Execution, placed.execution_id)
    if execution is not None and execution.tenant_id == tenant_id:
        return execution
    return None


def path_of(session: Session, *, execution_id: str) -> list[str]:
    """The node ids an execution went through so far, in order."""
    query = (
        select(ExecutionStep.node_id)
        .where(ExecutionStep.execution_id == execution_id)
        .order_by(col(ExecutionStep.seq))
    )
    return list(session.exec(query).all())
