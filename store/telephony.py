"""What a call centre configures: phone numbers, departments, agents, and deployments.

A number belongs to one tenant. It answers with one flow per environment: deploying moves it
in one transaction (the number's row is locked, the active deployment is marked replaced and
the new one written), and a unique partial index keeps exactly one active row per number and
environment even if that protocol were bypassed.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal

import sqlalchemy as sa
from sqlalchemy.engine import Engine
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, or_, select

from store.db import session_scope
from store.errors import ConflictError, InvalidInputError, NotFoundError, check_known
from store.models import (
    Agent,
    Department,
    Deployment,
    Execution,
    ExecutionStep,
    Flow,
    PhoneNumber,
    QueuedCall,
    utcnow,
)

ENVIRONMENTS = ("production", "staging")
AGENT_STATUSES = ("available", "busy", "offline")


def _commit(session: Session, clash: str) -> None:
    try:
        session.commit()
    except IntegrityError as exc:
        session.rollback()
        raise ConflictError(clash) from exc


def _invalid(path: str, code: str, message: str) -> InvalidInputError:
    return InvalidInputError(message, details=[{"path": path, "code": code, "message": message}])


# --- phone numbers -----------------------------------------------------------------------


def list_phone_numbers(session: Session, *, tenant_id: str) -> list[PhoneNumber]:
    query = select(PhoneNumber).where(PhoneNumber.tenant_id == tenant_id)
    return list(session.exec(query.order_by(col(PhoneNumber.number))).all())


def get_phone_number(session: Session, *, tenant_id: str, phone_number_id: str) -> PhoneNumber:
    number = session.get(PhoneNumber, phone_number_id)
    if number is None or number.tenant_id != tenant_id:
        raise NotFoundError(f"phone number {phone_number_id} not found")
    return number


def _number_taken(number: str) -> ConflictError:
    return ConflictError(f"the number {number} is already registered")


def create_phone_number(
    session: Session, *, tenant_id: str, number: str, label: str | None
) -> PhoneNumber:
    """Register a number; one registered anywhere (any tenant) is a conflict."""
    if session.exec(select(PhoneNumber).where(PhoneNumber.number == number)).first():
        raise _number_taken(number)
    row = PhoneNumber(tenant_id=tenant_id, number=number, label=label)
    session.add(row)
    _commit(session, str(_number_taken(number)))
    return row


def update_phone_number(
    session: Session, *, tenant_id: str, phone_number_id: str, changes: Mapping[str, Any]
) -> PhoneNumber:
    row = get_phone_number(session, tenant_id=tenant_id, phone_number_id=phone_number_id)
    new_number = changes.get("number")
    if new_number is not None and new_number != row.number:
        if session.exec(select(PhoneNumber).where(PhoneNumber.number == new_number)).first():
            raise _number_taken(new_number)
        if active_deployments(session, phone_number_ids=[row.id]):
            raise ConflictError(f"{row.number} has active deployments: it cannot be renumbered")
    for name, value in changes.items():
        setattr(row, name, value)
    row.updated_at = utcnow()
    session.add(row)
    _commit(session, str(_number_taken(str(new_number))))
    return row


def delete_phone_number(session: Session, *, tenant_id: str, phone_number_id: str) -> None:
    """Remove a number that no flow answers any more (its history goes with it)."""
    row = get_phone_number(session, tenant_id=tenant_id, phone_number_id=phone_number_id)
    if active_deployments(session, phone_number_ids=[row.id]):
        raise ConflictError(f"{row.number} still answers with a deployed flow")
    session.execute(sa.delete(Deployment).where(col(Deployment.phone_number_id) == row.id))
    session.delete(row)
    session.commit()


def find_tenant_numbers(
    session: Session, *, tenant_id: str, numbers: Sequence[str]
) -> dict[str, PhoneNumber]:
    """The tenant's registered numbers among `numbers`, by number."""
    query = select(PhoneNumber).where(
        PhoneNumber.tenant_id == tenant_id, col(PhoneNumber.number).in_(list(numbers))
    )
    return {row.number: row for row in session.exec(query).all()}


# --- deployments -------------------------------------------------------------------------


def active_deployments(session: Session, *, phone_number_ids: Sequence[str]) -> list[Deployment]:
    query = select(Deployment).where(
        col(Deployment.phone_number_id).in_(list(phone_number_ids)),
        col(Deployment.replaced_at).is_(None),
    )
    return list(session.exec(query).all())


def deploy(
    engine: Engine,
    *,
    tenant_id: str,
    flow_id: str,
    version: int,
    phone_number_ids: Sequence[str],
    environment: str,
    schedule: dict[str, Any] | None,
    fallback_flow_id: str | None,
    campaign_id: str | None = None,
) -> list[Deployment]:
    """Point each number's `environment` at the flow, in one transaction; the replaced
    deployments stay as history."""
    created: list[Deployment] = []
    with session_scope(engine) as session:
        # Locking the numbers (in a fixed order) makes concurrent deploys of one number queue
        # up; each then sees the deployment the previous one wrote and replaces it.
        ids = sorted(set(phone_number_ids))
        locked = select(PhoneNumber).where(col(PhoneNumber.id).in_(ids)).order_by(PhoneNumber.id)
        numbers = {row.id: row for row in session.exec(locked.with_for_update()).all()}
        now = utcnow()
        for number_id in dict.fromkeys(phone_number_ids):
            session.execute(
                sa.update(Deployment)
                .where(
                    col(Deployment.phone_number_id) == number_id,
                    col(Deployment.environment) == environment,
                    col(Deployment.replaced_at).is_(None),
                )
                .values(replaced_at=now)
            )
            deployment = Deployment(
                tenant_id=tenant_id,
                flow_id=flow_id,
                version=version,
                phone_number_id=number_id,
                number=numbers[number_id].number,
                environment=environment,
                schedule=schedule,
                fallback_flow_id=fallback_flow_id,
                campaign_id=campaign_id,
                created_at=now,
            )
            session.add(deployment)
            created.append(deployment)
        session.flush()
    return created


def undeploy(engine: Engine, *, tenant_id: str, phone_number_id: str, environment: str) -> None:
    """End the number's active deployment in `environment` (kept as history): the number
    answers nothing there any more. NotFoundError when nothing is deployed there."""
    with session_scope(engine) as session:
        number = get_phone_number(session, tenant_id=tenant_id, phone_number_id=phone_number_id)
        # The same row lock as deploy(): a concurrent deploy of the number waits for this.
        session.exec(select(PhoneNumber).where(PhoneNumber.id == number.id).with_for_update())
        ended = session.execute(
            sa.update(Deployment)
            .where(
                col(Deployment.phone_number_id) == number.id,
                col(Deployment.environment) == environment,
                col(Deployment.replaced_at).is_(None),
            )
            .values(replaced_at=utcnow())
        )
        if ended.rowcount == 0:  # type: ignore[attr-defined]
            raise NotFoundError(f"nothing is deployed to {number.number} in {environment}")


def flow_deployments(session: Session, *, tenant_id: str, flow_id: str) -> list[Deployment]:
    """Every deployment of the flow, active and replaced, newest first."""
    query = select(Deployment).where(
        Deployment.tenant_id == tenant_id, Deployment.flow_id == flow_id
    )
    return list(session.exec(query.order_by(col(Deployment.created_at).desc())).all())


# --- departments -------------------------------------------------------------------------


def list_departments(session: Session, *, tenant_id: str) -> list[Department]:
    query = select(Department).where(Department.tenant_id == tenant_id)
    return list(session.exec(query.order_by(col(Department.name))).all())


def get_department(session: Session, *, tenant_id: str, department_id: str) -> Department:
    department = session.get(Department, department_id)
    if department is None or department.tenant_id != tenant_id:
        raise NotFoundError(f"department {department_id} not found")
    return department


def _name_taken(name: Any) -> ConflictError:
    return ConflictError(f"a department named {name!r} already exists")


def _check_department(session: Session, department: Department) -> None:
    """The merged department is complete, its name free and its overflow a sibling."""
    if not department.phone_number and not department.queue:
        raise _invalid("$", "missing", "a department needs a `phone_number` or a `queue`")
    overflow = department.overflow_department_id
    if overflow is not None:
        if overflow == department.id:
            raise _invalid(
                "$.overflow_department_id", "self", "a department cannot overflow to itself"
            )
        target = session.get(Department, overflow)
        if target is None or target.tenant_id != department.tenant_id:
            raise _invalid(
                "$.overflow_department_id", "not_found", f"no department {overflow} in this tenant"
            )
    holder = session.exec(
        select(Department).where(
            Department.tenant_id == department.tenant_id, Department.name == department.name
        )
    ).first()
    if holder is not None and holder.id != department.id:
        raise _name_taken(department.name)


def create_department(session: Session, *, tenant_id: str, fields: Mapping[str, Any]) -> Department:
    department = Department(tenant_id=tenant_id, **fields)
    _check_department(session, department)
    session.add(department)
    _commit(session, str(_name_taken(department.name)))
    return department


def update_department(
    session: Session, *, tenant_id: str, department_id: str, changes: Mapping[str, Any]
) -> Department:
    department = get_department(session, tenant_id=tenant_id, department_id=department_id)
    with session.no_autoflush:
        for name, value in changes.items():
            setattr(department, name, value)
        try:
            _check_department(session, department)
        except (InvalidInputError, ConflictError):
            session.rollback()
            raise
    department.updated_at = utcnow()
    session.add(department)
    _commit(session, str(_name_taken(department.name)))
    return department


def delete_department(session: Session, *, tenant_id: str, department_id: str) -> None:
    """Remove it; departments overflowing to it stop overflowing, its agents leave it."""
    department = get_department(session, tenant_id=tenant_id, department_id=department_id)
    session.execute(
        sa.update(Department)
        .where(
            col(Department.tenant_id) == tenant_id,
            col(Department.overflow_department_id) == department.id,
        )
        .values(overflow_department_id=None)
    )
    for agent in list_agents(session, tenant_id=tenant_id, department_id=department.id):
        agent.department_ids = [d for d in agent.department_ids or [] if d != department.id]
        session.add(agent)
    session.delete(department)
    session.commit()


# --- agents ------------------------------------------------------------------------------


def list_agents(
    session: Session,
    *,
    tenant_id: str,
    department_id: str | None = None,
    status: str | None = None,
) -> list[Agent]:
    query = select(Agent).where(Agent.tenant_id == tenant_id)
    if status is not None:
        query = query.where(Agent.status == status)
    agents = list(session.exec(query.order_by(col(Agent.name), col(Agent.id))).all())
    if department_id is not None:
        # department_ids is a JSON list: filtered here, the same way on every backend.
        agents = [a for a in agents if department_id in (a.department_ids or [])]
    return agents


def get_agent(session: Session, *, tenant_id: str, agent_id: str) -> Agent:
    agent = session.get(Agent, agent_id)
    if agent is None or agent.tenant_id != tenant_id:
        raise NotFoundError(f"agent {agent_id} not found")
    return agent


def agents_named(session: Session, *, tenant_id: str, name: str) -> list[Agent]:
    """The tenant's agents whose id or name is `name` (how a human task names its assignee)."""
    query = select(Agent).where(
        Agent.tenant_id == tenant_id, or_(col(Agent.id) == name, col(Agent.name) == name)
    )
    return list(session.exec(query).all())


def _check_agent(session: Session, agent: Agent) -> None:
    if not agent.phone and not agent.client_identity:
        raise _invalid("$", "missing", "an agent needs a `phone` or a `client_identity`")
    wanted = list(agent.department_ids or [])
    known = {
        d.id
        for d in session.exec(
            select(Department).where(
                Department.tenant_id == agent.tenant_id, col(Department.id).in_(wanted)
            )
        ).all()
    }
    check_known(
        wanted,
        known,
        path="$.department_ids",
        code="not_found",
        problem=lambda d: f"no department {d} in this tenant",
        message="unknown departments",
    )


def create_agent(session: Session, *, tenant_id: str, fields: Mapping[str, Any]) -> Agent:
    agent = Agent(tenant_id=tenant_id, **fields)
    _check_agent(session, agent)
    session.add(agent)
    session.commit()
    return agent


def update_agent(
    session: Session, *, tenant_id: str, agent_id: str, changes: Mapping[str, Any]
) -> Agent:
    """Change an agent; a new status stamps `status_changed_at` (idle time counts from it)."""
    agent = get_agent(session, tenant_id=tenant_id, agent_id=agent_id)
    now = utcnow()
    with session.no_autoflush:
        if "status" in changes and changes["status"] != agent.status:
            agent.status_changed_at = now
        for name, value in changes.items():
            setattr(agent, name, value)
        try:
            _check_agent(session, agent)
        except InvalidInputError:
            session.rollback()
            raise
    agent.updated_at = now
    session.add(agent)
    session.commit()
    return agent


def delete_agent(session: Session, *, tenant_id: str, agent_id: str) -> None:
    agent = get_agent(session, tenant_id=tenant_id, agent_id=agent_id)
    session.delete(agent)
    session.commit()


# --- what an agent is doing --------------------------------------------------------------

OPEN_STATUSES = ("pending", "running", "waiting")


@dataclass(frozen=True)
class AgentWork:
    """An open execution the agent takes part in: a call it holds or is offered, or a human
    task assigned to it that waits."""

    execution: Execution
    flow_name: str
    kind: Literal["call", "task"]
    node_id: str | None
    call_sid: str | None
    since: datetime | None


def agent_work(session: Session, *, tenant_id: str, agent_id: str) -> list[AgentWork]:
    """The agent's part in the tenant's open executions, oldest first (NotFoundError for an
    agent of another tenant)."""
    agent = get_agent(session, tenant_id=tenant_id, agent_id=agent_id)
    opened = col(Execution.status).in_(OPEN_STATUSES)
    calls = session.exec(
        select(QueuedCall, Execution, Flow)
        .join(Execution, col(Execution.id) == col(QueuedCall.execution_id))
        .join(Flow, col(Flow.id) == col(Execution.flow_id))
        .where(
            QueuedCall.tenant_id == tenant_id,
            QueuedCall.agent_id == agent.id,
            QueuedCall.status == "offered",
            opened,
        )
    ).all()
    tasks = session.exec(
        select(ExecutionStep, Execution, Flow)
        .join(Execution, col(Execution.id) == col(ExecutionStep.execution_id))
        .join(Flow, col(Flow.id) == col(Execution.flow_id))
        .where(
            ExecutionStep.tenant_id == tenant_id,
            ExecutionStep.node_type == "human_task",
            ExecutionStep.status == "waiting",
            opened,
        )
    ).all()
    work = [
        AgentWork(execution, flow.name, "call", None, entry.call_sid, entry.offered_at)
        for entry, execution, flow in calls
    ]
    names = {agent.id, agent.name}
    work += [
        AgentWork(execution, flow.name, "task", step.node_id, None, step.started_at)
        for step, execution, flow in tasks
        if (step.result or {}).get("assignee") in names
    ]
    return sorted(work, key=lambda w: (w.since or w.execution.created_at, w.execution.id))
