"""The `transfer` step's routing, and the freed agent's next caller when a transfer ends.

`route_transfer` picks the destination (store.routing does the race-safe claiming); the
interpreter turns the `Routed` answer into `<Dial>` or `<Enqueue>`. When the transfer is over,
`release_and_offer` frees its agent and calls it into the queue of the first caller waiting
for it (`providers.offers`, which the API uses too for agents set available by hand).
"""

from __future__ import annotations

import asyncio
from typing import Any

import httpx
from sqlalchemy.engine import Engine
from temporalio.client import Client

from activities.step import StepContext, handles, parse_config, step_error
from providers.offers import dispatch_offer
from schemas.call import ReleaseAgent, Routed
from schemas.execution import ActionOutput
from schemas.flow import TransferConfig
from schemas.settings import Settings
from store import routing

NO_LIVE_CALL = "NoLiveCall"
OFFER_FAILED = "OfferFailed"
ROUTED_PORT = "routed"


@handles("transfer")
async def route_transfer(ctx: StepContext) -> ActionOutput:
    """Where a transfer goes: `ActionOutput(port="routed", result=Routed, waiting=True)`.

    The step is not over when the destination is chosen: the workflow dials or queues the
    caller and finishes the step with its real port (connected, no_answer, failed).

    `ctx.data.context` carries `{"call": {"call_sid", "from", "to"}, "path": [node ids]}`.
    An unknown department or agent, a busy or offline agent, a closed department without
    an open overflow fail the step for good (its `failed` port).
    """
    config = parse_config(TransferConfig, ctx)
    if config.number:
        routed = Routed(action="dial", number=config.number, timeout_s=config.timeout_s)
        return ActionOutput(port=ROUTED_PORT, result=routed.model_dump(), waiting=True)
    context = ctx.data.context or {}
    call = context.get("call") or {}
    call_sid = call.get("call_sid")
    if not call_sid:
        raise step_error("this step needs a live call", type=NO_LIVE_CALL, retryable=False)
    stored: dict[str, Any] = {
        "path": list(context.get("path") or []),
        "from": call.get("from"),
        "to": call.get("to"),
    }
    try:
        routed = await asyncio.to_thread(
            routing.route,
            ctx.engine,
            tenant_id=ctx.data.tenant_id,
            department=config.department,
            agent=config.agent,
            skills=config.skills,
            execution_id=ctx.data.execution_id,
            call_sid=str(call_sid),
            context=stored,
            timeout_s=config.timeout_s,
            priority=config.priority,
            route_key=ctx.data.idempotency_key,
        )
    except routing.RoutingError as exc:
        raise step_error(str(exc), type=exc.code, retryable=False) from None
    ctx.log.info(
        "transfer.routed",
        action=routed.action,
        agent_id=routed.agent_id,
        department=routed.department,
        queue_entry_id=routed.queue_entry_id,
        position=routed.position,
    )
    return ActionOutput(port=ROUTED_PORT, result=routed.model_dump(), waiting=True)


async def release_and_offer(
    request: ReleaseAgent,
    *,
    engine: Engine,
    settings: Settings,
    http: httpx.AsyncClient,
    temporal: Client | None,
) -> routing.Offer | None:
    """End a transfer and offer the freed agent the next waiting caller, if any.

    A retry after a failed offer finds the transfer already ended and the offer withdrawn
    (the caller back in line, the agent available): the agent is offered the next caller
    again. (An agent still busy, or set offline meanwhile, is offered nothing.)
    """
    offer = await asyncio.to_thread(
        routing.release,
        engine,
        tenant_id=request.tenant_id,
        agent_id=request.agent_id,
        queue_entry_id=request.queue_entry_id,
        outcome=request.outcome,
    )
    if offer is None and request.agent_id is not None:
        offer = await asyncio.to_thread(
            routing.next_offer, engine, tenant_id=request.tenant_id, agent_id=request.agent_id
        )
    if offer is not None:
        await dispatch_offer(offer, engine=engine, settings=settings, http=http, temporal=temporal)
    return offer
