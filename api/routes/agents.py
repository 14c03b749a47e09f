"""Agents: who takes transferred calls, their departments, skills and availability."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Request, Response
from sqlalchemy.engine import Engine
from sqlmodel import Session
from starlette.concurrency import run_in_threadpool

from api.bodies.agents import (
    AgentCreate,
    AgentOut,
    AgentStatusBody,
    AgentUpdate,
    AgentWorkOut,
    Status,
)
from api.deps import AgentKey, EngineDep, ManagerKey, SessionDep, SettingsDep, ViewerKey
from api.errors import CONFLICT, KEYED, NOT_FOUND, ForbiddenError
from api.services import routing
from api.services.routing import TwilioHttp, TwilioHttpDep
from schemas.settings import Settings
from store import telephony
from store.models import Agent

router = APIRouter(prefix="/agents", tags=["agents"], responses=KEYED)


@router.get("")
def list_agents(
    session: SessionDep,
    key: ViewerKey,
    department_id: Annotated[str | None, Query(max_length=32)] = None,
    status: Annotated[Status | None, Query()] = None,
) -> list[AgentOut]:
    """The tenant's agents by name, optionally of one department and/or in one status."""
    rows = telephony.list_agents(
        session, tenant_id=key.tenant_id, department_id=department_id, status=status
    )
    return [AgentOut.model_validate(a) for a in rows]


@router.post("", status_code=201, responses=CONFLICT)
async def create_agent(
    body: AgentCreate,
    request: Request,
    session: SessionDep,
    engine: EngineDep,
    settings: SettingsDep,
    http: TwilioHttpDep,
    key: ManagerKey,
) -> AgentOut:
    """An agent created available is offered a waiting caller it can take at once."""
    agent = await run_in_threadpool(
        telephony.create_agent, session, tenant_id=key.tenant_id, fields=body.given()
    )
    if agent.status == "available":
        await _offer_a_caller(
            agent, freed=False, request=request, session=session, engine=engine,
            settings=settings, http=http,
        )  # fmt: skip
    return AgentOut.model_validate(agent)


async def _offer_a_caller(
    agent: Agent,
    *,
    freed: bool,
    request: Request,
    session: Session,
    engine: Engine,
    settings: Settings,
    http: TwilioHttp,
) -> None:
    """Offer the available agent a waiting caller it can take (`freed`: it says it is free
    again, so its open offers end first); its row is read again when it took one."""
    offer_to = routing.agent_available if freed else routing.offer_waiting
    offer = await offer_to(
        engine=engine,
        settings=settings,
        http=http,
        temporal=await routing.temporal_or_none(request),
        tenant_id=agent.tenant_id,
        agent_id=agent.id,
    )
    if offer is not None:
        await run_in_threadpool(session.refresh, agent)


@router.get("/{agent_id}", responses=NOT_FOUND)
def read_agent(agent_id: str, session: SessionDep, key: ViewerKey) -> AgentOut:
    agent = telephony.get_agent(session, tenant_id=key.tenant_id, agent_id=agent_id)
    return AgentOut.model_validate(agent)


@router.get("/{agent_id}/flows/active", responses=NOT_FOUND)
def agent_active_flows(agent_id: str, session: SessionDep, key: ViewerKey) -> list[AgentWorkOut]:
    """The open executions the agent takes part in now, oldest first: the calls it holds or
    is offered, and the human tasks assigned to it (by id or name) that wait."""
    work = telephony.agent_work(session, tenant_id=key.tenant_id, agent_id=agent_id)
    return [
        AgentWorkOut(
            execution_id=w.execution.id,
            flow_id=w.execution.flow_id,
            flow_name=w.flow_name,
            version=w.execution.version,
            status=w.execution.status,
            kind=w.kind,
            node_id=w.node_id,
            call_sid=w.call_sid,
            since=w.since,
        )
        for w in work
    ]


_ROUTING_FIELDS = frozenset({"department_ids", "skills"})
"""Fields that may make an available agent the one a waiting caller needs."""


@router.patch("/{agent_id}", responses=NOT_FOUND | CONFLICT)
async def update_agent(
    agent_id: str,
    body: AgentUpdate,
    request: Request,
    session: SessionDep,
    engine: EngineDep,
    settings: SettingsDep,
    http: TwilioHttpDep,
    key: ManagerKey,
) -> AgentOut:
    """Setting `status` to available offers the agent the next waiting caller at once (the
    answer then shows it busy); so does giving an available agent departments or skills that
    a waiting caller needs."""
    changes = body.given()
    agent = await run_in_threadpool(
        telephony.update_agent,
        session,
        tenant_id=key.tenant_id,
        agent_id=agent_id,
        changes=changes,
    )
    freed = body.status == "available"
    if freed or (agent.status == "available" and _ROUTING_FIELDS & changes.keys()):
        await _offer_a_caller(
            agent, freed=freed, request=request, session=session, engine=engine,
            settings=settings, http=http,
        )  # fmt: skip
    return AgentOut.model_validate(agent)


@router.put("/{agent_id}/status", responses=NOT_FOUND)
async def set_agent_status(
    agent_id: str,
    body: AgentStatusBody,
    request: Request,
    session: SessionDep,
    engine: EngineDep,
    settings: SettingsDep,
    http: TwilioHttpDep,
    key: AgentKey,
) -> AgentOut:
    """Set the agent's availability: a manager sets anyone's; an `agent` key only its own
    agent's (the key named after the agent's id or name, as human tasks are assigned), 403
    otherwise. Available offers the agent the next waiting caller at once, as PATCH does."""
    agent = await run_in_threadpool(
        telephony.get_agent, session, tenant_id=key.tenant_id, agent_id=agent_id
    )
    if not routing.may_set_status(key, agent):
        raise ForbiddenError(f"this key may set only its own agent's status, not {agent.name}'s")
    agent = await run_in_threadpool(
        telephony.update_agent,
        session,
        tenant_id=key.tenant_id,
        agent_id=agent_id,
        changes={"status": body.status},
    )
    if body.status == "available":
        await _offer_a_caller(
            agent, freed=True, request=request, session=session, engine=engine,
            settings=settings, http=http,
        )  # fmt: skip
    return AgentOut.model_validate(agent)


@router.delete("/{agent_id}", status_code=204, responses=NOT_FOUND | CONFLICT)
def delete_agent(agent_id: str, session: SessionDep, key: ManagerKey) -> Response:
    telephony.delete_agent(session, tenant_id=key.tenant_id, agent_id=agent_id)
    return Response(status_code=204)
