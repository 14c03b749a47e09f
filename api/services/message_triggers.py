"""Inbound messages that answer no waiting question start `message_received` flows.

The tenant is the owner of the number the message was sent to (`/api/phone-numbers`); a
number of no tenant starts nothing. The sender becomes the tenant's contact with that phone
(found, or created with only the phone). Among the tenant's enabled, published
`message_received` flows whose trigger matches (`schemas.message_triggers`), the best-ranked
one runs, as a new lead's would (`engagement.start`: DNC, cooldown and business hours apply),
with the message as `trigger.message`, and the `vars` of the conversation it continues (the
contact's last message-started run on the channel within 30 minutes). A message that is only
an opt-out keyword (`STOP` …) starts nothing: Twilio and the carrier handle the opt-out.
Never raises: Twilio's answer does not wait for, nor depend on, any of this.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import timedelta
from typing import Any

import structlog
from pydantic import ValidationError
from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select
from starlette.concurrency import run_in_threadpool

from api.services import engagement
from api.services.engagement import ClientSource
from schemas.execution import ExecutionStatus
from schemas.message_triggers import (
    MESSAGE_RECEIVED,
    MessageTrigger,
    is_opt_out,
    judge,
    trigger_data,
)
from schemas.settings import Settings
from schemas.triggers import Candidate, Match, choose
from store import contacts, matching
from store.models import Execution, Flow, PhoneNumber, utcnow

log = structlog.get_logger(__name__)

CONVERSATION_WINDOW = timedelta(minutes=30)
"""Messages of a contact on one channel this close to the last one's run are a conversation."""
CONVERSATION_CANDIDATES = 20


def _address(value: str) -> tuple[str, str]:
    """(channel, number) of a Twilio address: `whatsapp:+91…` or `+91…`."""
    value = value.strip()
    if value.startswith("whatsapp:"):
        return "whatsapp", value.removeprefix("whatsapp:")
    return "sms", value


def _verdict(flow: Flow, *, channel: str, to: str, body: str) -> tuple[bool, str]:
    try:
        trigger = MessageTrigger.model_validate(flow.trigger)
    except ValidationError as exc:  # stored before its shape was checked
        return False, f"invalid trigger: {exc.errors()[0]['msg']}"
    return judge(trigger, channel=channel, to=to, body=body)


def _match(
    engine: Engine, *, channel: str, to: str, body: str
) -> tuple[str | None, Match | None, Flow | None]:
    """The tenant owning `to`, the match among its flows, and the winning flow."""
    with Session(engine, expire_on_commit=False) as session:
        number = session.exec(select(PhoneNumber).where(PhoneNumber.number == to)).first()
        if number is None:
            return None, None, None
        flows = {
            f.id: f
            for f in matching.triggered_flows(
                session, tenant_id=number.tenant_id, trigger_type=MESSAGE_RECEIVED
            )
        }
    candidates = [matching.candidate_of(f) for f in flows.values()]

    def verdict(candidate: Candidate) -> tuple[bool, str]:
        return _verdict(flows[candidate.flow_id], channel=channel, to=to, body=body)

    match = choose(
        candidates, verdict, none_reason="no enabled, published message_received flow matches"
    )
    return number.tenant_id, match, flows.get(match.flow_id) if match.flow_id else None


def conversation_vars(
    engine: Engine, *, tenant_id: str, contact_id: str, channel: str
) -> dict[str, Any]:
    """The `vars` of the conversation the message continues: those of the contact's newest run
    started by a message on the same channel within `CONVERSATION_WINDOW` (as far as its row
    has them, a run still going included), else none."""
    since = utcnow() - CONVERSATION_WINDOW
    query = (
        select(Execution)
        .where(
            Execution.tenant_id == tenant_id,
            Execution.contact_id == contact_id,
            col(Execution.created_at) >= since,
            Execution.status != ExecutionStatus.skipped.value,
        )
        .order_by(col(Execution.created_at).desc())
        .limit(CONVERSATION_CANDIDATES)
    )
    with Session(engine) as session:
        for execution in session.exec(query).all():
            trigger = execution.trigger or {}
            message = trigger.get("message") or {}
            if trigger.get("type") != MESSAGE_RECEIVED or message.get("channel") != channel:
                continue
            recorded = (execution.context or {}).get("vars")
            return dict(recorded if isinstance(recorded, dict) else execution.variables or {})
    return {}


async def on_message(
    *,
    engine: Engine,
    settings: Settings,
    client_source: ClientSource,
    form: Mapping[str, str],
) -> dict[str, Any]:
    """Start the flow the inbound message triggers, or say why none started; never raises."""
    channel, sender = _address(form.get("From", ""))
    _, to = _address(form.get("To", ""))
    body = form.get("Body", "")
    try:
        if is_opt_out(body):
            log.info("message.opt_out", channel=channel)
            return {"status": "opt_out"}
        tenant_id, match, flow = await run_in_threadpool(
            _match, engine, channel=channel, to=to, body=body
        )
        if tenant_id is None or match is None:
            log.info("message.unknown_number", channel=channel)
            return {"status": "unknown_number"}
        if flow is None:
            log.info("message.no_flow", channel=channel, tenant_id=tenant_id)
            return {"status": "no_match", "match": match.as_dict()}
        saved = await run_in_threadpool(
            contacts.save_contact, engine, tenant_id=tenant_id, fields={"phone": sender}
        )
        contact = contacts.contact_dict(saved.contact)
        variables = await run_in_threadpool(
            conversation_vars,
            engine,
            tenant_id=tenant_id,
            contact_id=contact["id"],
            channel=channel,
        )
        trigger = trigger_data(
            contact_id=contact["id"],
            body=body,
            sender=sender,
            to=to,
            channel=channel,
            message_sid=form.get("MessageSid") or None,
        )
        return await engagement.start(
            engine=engine,
            settings=settings,
            client_source=client_source,
            flow=flow,
            contact=contact,
            match=match,
            trigger=trigger,
            variables=variables,
        )
    except Exception as exc:  # Twilio has its answer; the reason is logged
        log.warning("message trigger failed", channel=channel, error=str(exc))
        return {"status": "error", "reason": str(exc) or type(exc).__name__}
