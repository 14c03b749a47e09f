"""Simulate what the sandbox cannot know: how a call ended, what the contact replied.

So a developer can walk a whole flow locally: `{"call": "missed"}` ends the execution's
waiting sandbox call as Twilio's status callback would; `{"reply": "yes"}` answers its
waiting sandbox `send_and_wait` message as an inbound message would. Real (twilio) calls
and messages are not simulated: their outcomes come from Twilio.
"""

from __future__ import annotations

from typing import Annotated

import sqlalchemy as sa
from fastapi import APIRouter, Path
from sqlalchemy.engine import Engine
from starlette.concurrency import run_in_threadpool
from temporalio.client import Client

from api.bodies.simulate import SimulateBody, SimulateOut
from api.deps import EngineDep, ManagerKey, SessionDep, SettingsDep, TemporalDep
from api.errors import CONFLICT, KEYED, NOT_FOUND, UNAVAILABLE
from api.services import campaign_flows
from api.services import twilio_webhooks as hooks
from schemas.execution import (
    SIGNAL_CALL_STATUS,
    SIGNAL_MESSAGE_REPLY,
    CallStatusSignal,
    MessageReplySignal,
)
from store import executions
from store.db import session_scope
from store.errors import ConflictError
from store.models import OutboxMessage

router = APIRouter(prefix="/executions", tags=["executions"], responses=KEYED)

CALL_OUTCOMES: dict[str, tuple[str, str | None]] = {
    "answered": ("completed", "human"),
    "voicemail": ("completed", "machine_start"),
    "missed": ("no-answer", None),
    "busy": ("busy", None),
    "failed": ("failed", None),
}
"""Outcome -> Twilio's CallStatus and AnsweredBy."""
SIMULATED_DURATION_S = 42

_outbox = OutboxMessage.__table__  # type: ignore[attr-defined]


def _waiting_row(engine: Engine, execution_id: str, *, call: bool) -> OutboxMessage | None:
    """The execution's newest sandbox call still undecided, or message awaiting a reply."""
    query = sa.select(_outbox).where(
        _outbox.c.execution_id == execution_id, _outbox.c.provider == "sandbox"
    )
    if call:
        query = query.where(
            _outbox.c.channel == "voice", _outbox.c.status.in_(sorted(hooks.WAITING_CALL))
        )
    else:
        query = query.where(_outbox.c.channel.in_(["sms", "whatsapp"]))
    with engine.connect() as conn:
        rows = conn.execute(query.order_by(_outbox.c.created_at.desc()).limit(50)).all()
    for row in rows:
        if call or (row.content or {}).get(hooks.AWAITING_REPLY):
            return OutboxMessage.model_construct(**row._asdict())
    return None


async def _ready(client: Client) -> Client:
    return client


def _set_status(engine: Engine, row_id: str, status: str) -> None:
    with session_scope(engine) as session:
        session.connection().execute(
            sa.update(_outbox).where(_outbox.c.id == row_id).values(status=status)
        )


@router.post("/{execution_id}/simulate", responses=NOT_FOUND | CONFLICT | UNAVAILABLE)
async def simulate(
    execution_id: Annotated[str, Path(max_length=64)],
    body: SimulateBody,
    key: ManagerKey,
    session: SessionDep,
    engine: EngineDep,
    client: TemporalDep,
    settings: SettingsDep,
) -> SimulateOut:
    """End the waiting sandbox call (`call`: answered, missed, busy, failed, voicemail) or
    answer the waiting sandbox message (`reply`). 409 if nothing of the kind is waiting."""
    execution = await run_in_threadpool(
        executions.get_execution, session, tenant_id=key.tenant_id, execution_id=execution_id
    )
    if executions.is_terminal(execution):
        raise ConflictError(f"execution {execution_id} has already {execution.status}")
    row = await run_in_threadpool(_waiting_row, engine, execution.id, call=body.call is not None)
    if row is None:
        what = "call is waiting for its outcome" if body.call else "message awaits a reply"
        raise ConflictError(f"no sandbox {what} in execution {execution_id}")
    signal: CallStatusSignal | MessageReplySignal
    status: str | None = None
    answered_by: str | None = None
    if body.call is not None:
        status, answered_by = CALL_OUTCOMES[body.call]
        signal = CallStatusSignal(
            call_sid=row.provider_id or "",
            status=status,
            answered_by=answered_by,
            duration_s=SIMULATED_DURATION_S if status == "completed" else 0,
        )
        name = SIGNAL_CALL_STATUS
    else:
        signal = MessageReplySignal(channel=row.channel, from_=row.to, body=body.reply or "")
        name = SIGNAL_MESSAGE_REPLY
    target = hooks.Target(execution.id, execution.tenant_id, execution.workflow_id, name, signal)
    if not await hooks.send_signal(client, target):
        raise ConflictError(f"the workflow of execution {execution_id} is no longer running")
    if status is not None:
        await run_in_threadpool(_set_status, engine, row.id, status)
        await campaign_flows.on_outbound_call(
            engine=engine,
            settings=settings,
            client_source=lambda: _ready(client),
            call_sid=row.provider_id or "",
            status=status,
            answered_by=answered_by,
        )
    return SimulateOut(
        execution_id=execution.id, signal=name, sent=signal.model_dump(mode="json", by_alias=True)
    )
