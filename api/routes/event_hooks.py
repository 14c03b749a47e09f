"""A flow's inbound webhook: a URL and a secret with which a third party fires the flow's
event without an API key (the body signed with HMAC-SHA256, as Stripe and Shopify sign)."""

from __future__ import annotations

import json
from typing import Annotated

from fastapi import APIRouter, Header, Request, Response
from pydantic import TypeAdapter, ValidationError
from sqlmodel import Session
from starlette.concurrency import run_in_threadpool

from api.bodies.events import EventFired, EventHookOut, EventIn
from api.deps import EngineDep, ManagerKey, SettingsDep
from api.errors import KEYED, NOT_FOUND, error_responses
from api.routes.events import fire_posted
from api.services import event_triggers
from schemas.api_errors import request_error_details
from schemas.event_triggers import EVENT
from store import event_triggers as hooks
from store.errors import InvalidInputError, NotFoundError
from store.flows import get_flow

router = APIRouter(prefix="/flows", tags=["events"], responses=KEYED)
inbound = APIRouter(prefix="/webhooks/events", tags=["events"])
_event_in = TypeAdapter(EventIn)


@router.post("/{flow_id}/event-hook", status_code=201, responses=NOT_FOUND)
async def make_event_hook(flow_id: str, engine: EngineDep, key: ManagerKey) -> EventHookOut:
    """The flow's inbound webhook, made anew: its URL and its secret (shown once). A hook made
    before stops working. The flow needs an `event` trigger."""

    def make() -> EventHookOut:
        with Session(engine) as session:
            flow = get_flow(session, tenant_id=key.tenant_id, flow_id=flow_id)
            trigger = flow.trigger or {}
        if trigger.get("type") != EVENT:
            raise InvalidInputError(
                "only a flow with an `event` trigger has an event hook",
                details=[{"path": "$.trigger.type", "code": "invalid_value",
                          "message": "the flow's trigger is not `event`"}],
            )  # fmt: skip
        hook = hooks.new_hook(
            engine,
            tenant_id=key.tenant_id,
            flow_id=flow_id,
            secret=event_triggers.new_secret(),
        )
        return EventHookOut(
            flow_id=flow_id,
            event=str(trigger.get("event")),
            url=f"/webhooks/events/{hook.id}",
            secret=hook.secret,
            signature_header=event_triggers.SIGNATURE_HEADER,
        )

    return await run_in_threadpool(make)


@router.delete("/{flow_id}/event-hook", status_code=204, responses=NOT_FOUND)
async def delete_event_hook(flow_id: str, engine: EngineDep, key: ManagerKey) -> Response:
    """The hook stops working; posts to its URL are 404s."""
    await run_in_threadpool(hooks.delete_hook, engine, tenant_id=key.tenant_id, flow_id=flow_id)
    return Response(status_code=204)


@inbound.post(
    "/{hook_id}",
    responses={**error_responses(403, 404, 409, 413, 422, 503)},
    openapi_extra={
        "requestBody": {
            "required": True,
            "content": {"application/json": {"schema": {"$ref": "#/components/schemas/EventIn"}}},
        }
    },
)
async def fire_event_hook(
    hook_id: str,
    request: Request,
    response: Response,
    engine: EngineDep,
    settings: SettingsDep,
    signature: Annotated[str | None, Header(alias="Flowdeck-Signature", max_length=1000)] = None,
    idempotency_key: Annotated[
        str | None, Header(alias="Idempotency-Key", min_length=1, max_length=200)
    ] = None,
) -> EventFired:
    """Fire the hook's flow with its event: `Flowdeck-Signature: t=<unix seconds>,v1=<hex
    HMAC-SHA256 of "<t>.<raw body>" with the hook's secret>`, at most 5 minutes off; a bad,
    missing or stale signature is a 403. The body and the answer are `POST /api/events/{name}`'s,
    for this flow only (its conditions, DNC, cooldown and business hours apply)."""
    raw = await request.body()

    def find() -> tuple[str, str, str, dict[str, object]]:
        with Session(engine) as session:
            found = hooks.find_hook(session, hook_id=hook_id)
            if found is None:
                raise NotFoundError("no such event hook")
            hook, flow = found
            return hook.secret, hook.tenant_id, flow.id, dict(flow.trigger or {})

    secret, tenant_id, flow_id, trigger = await run_in_threadpool(find)
    event_triggers.verify(secret, raw, signature)
    try:
        body = _event_in.validate_python(json.loads(raw))
    except (ValueError, ValidationError) as exc:
        errors = exc.errors() if isinstance(exc, ValidationError) else []
        details = [d.model_dump() for d in request_error_details(errors)] or [
            {"path": "$", "code": "invalid_json", "message": "the body is not JSON"}
        ]
        raise InvalidInputError("the request is invalid", details=details) from None
    name = trigger.get("event") if trigger.get("type") == EVENT else None
    if not isinstance(name, str) or not name:
        raise NotFoundError("the hook's flow no longer has an event trigger")

    return await fire_posted(
        request,
        response,
        engine=engine,
        settings=settings,
        tenant_id=tenant_id,
        name=name,
        body=body,
        idempotency_key=f"hook:{hook_id}:{idempotency_key}" if idempotency_key else None,
        only_flow_id=flow_id,
    )
