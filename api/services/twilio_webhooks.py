"""What Twilio's callbacks change: outbox rows, step results, and signals to workflows.

A callback belongs to the tenant of the outbox row it names (by CallSid or MessageSid), or,
for an inbound message, of the `send_and_wait` message it answers. A callback that names
nothing of ours is answered 200 and only logged: Twilio would otherwise retry it.
Statuses only move forward: callbacks may arrive out of order.
"""

from __future__ import annotations

import hmac
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import sqlalchemy as sa
import structlog
from pydantic import BaseModel
from sqlalchemy.engine import Engine
from temporalio.client import Client
from temporalio.service import RPCError, RPCStatusCode
from twilio.request_validator import RequestValidator

from api.errors import ServiceUnavailableError
from api.twiml import public_url
from schemas.call import execution_id_for_call
from schemas.execution import (
    SIGNAL_CALL_STATUS,
    SIGNAL_MESSAGE_REPLY,
    TERMINAL_STATUSES,
    CallStatusSignal,
    MessageReplySignal,
)
from schemas.settings import Settings
from store.db import session_scope
from store.models import Execution, ExecutionStep, OutboxMessage

log = structlog.get_logger(__name__)

RPC_TIMEOUT = timedelta(seconds=10)
AWAITING_REPLY = "awaiting_reply"
"""The content flag a `send_and_wait` message carries (activities/messaging.py)."""
REPLY_CANDIDATES = 20

CALL_RANK = {
    "queued": 0,
    "initiated": 1,
    "ringing": 2,
    "in-progress": 3,
    "completed": 4,
    "busy": 4,
    "no-answer": 4,
    "failed": 4,
    "canceled": 4,
}
MESSAGE_RANK = {
    "accepted": 0,
    "scheduled": 0,
    "queued": 0,
    "sending": 1,
    "sent": 2,
    "delivered": 3,
    "read": 4,
    "undelivered": 5,
    "failed": 5,
    "canceled": 5,
}
DECISIVE_RANK = 3
"""From `in-progress` on, a call status decides the `ai_call` step's port."""
WAITING_CALL = frozenset(s for s, rank in CALL_RANK.items() if rank < 4)
"""Call statuses that are not an outcome yet."""

_outbox = OutboxMessage.__table__  # type: ignore[attr-defined]
_execution = Execution.__table__  # type: ignore[attr-defined]
_step = ExecutionStep.__table__  # type: ignore[attr-defined]
_TERMINAL = [str(s) for s in TERMINAL_STATUSES]


# --- signatures --------------------------------------------------------------------------


def signed_url(settings: Settings, path: str, query: str) -> str:
    """The URL Twilio signed: our public base URL, the request's path and query (built as
    the callback URLs we hand Twilio are)."""
    url = public_url(settings.public_base_url, path)
    return f"{url}?{query}" if query else url


def signature_ok(settings: Settings, url: str, params: Any, signature: str | None) -> bool:
    """`X-Twilio-Signature` checked with the twilio library against TWILIO_AUTH_TOKEN.

    Twilio signs the URL it was configured with, ours: the library's signature of that URL
    settles the usual case in one HMAC. Its `validate` (the URL with and without the port,
    two HMACs and a character-by-character compare) settles the rest.
    """
    token = settings.twilio_auth_token.get_secret_value() if settings.twilio_auth_token else ""
    if not token or not signature:
        return False
    validator = RequestValidator(token)
    expected = str(validator.compute_signature(url, params))
    if hmac.compare_digest(expected.encode(), signature.encode()):
        return True
    return bool(validator.validate(url, params, signature))


# --- targets -----------------------------------------------------------------------------


@dataclass(frozen=True)
class Target:
    """A signal for one execution's workflow."""

    execution_id: str
    tenant_id: str
    workflow_id: str
    name: str
    arg: BaseModel


def _forward(ranks: Mapping[str, int], old: str, new: str) -> bool:
    return new in ranks and ranks[new] > ranks.get(old, -1)


def _live_workflow(conn: sa.Connection, execution_id: str | None) -> tuple[str, str] | None:
    """The workflow id and tenant of an execution still running, else None."""
    if execution_id is None:
        return None
    row = conn.execute(
        sa.select(_execution.c.workflow_id, _execution.c.tenant_id, _execution.c.status).where(
            _execution.c.id == execution_id
        )
    ).first()
    if row is None or row.status in _TERMINAL:
        return None
    return str(row.workflow_id), str(row.tenant_id)


FORM_INT_MAX = 2_147_483_647
"""Twilio's numbers (seconds, sizes) fit a 32-bit column; a larger one is not Twilio's."""


def form_int(value: str | None) -> int | None:
    """A number field of Twilio's form (CallDuration, QueueTime …); None when absent, bad or
    out of range (it is stored, and a database column has a range)."""
    try:
        number = int(value) if value else None
    except ValueError:
        return None
    return number if number is not None and 0 <= number <= FORM_INT_MAX else None


def apply_call_status(engine: Engine, form: Mapping[str, str]) -> Target | None:
    """Record a call's status on its outbox row; the signal for its execution, if running."""
    sid, status = form.get("CallSid", ""), form.get("CallStatus", "")
    with session_scope(engine) as session:
        conn = session.connection()
        row = conn.execute(
            sa.select(_outbox).where(_outbox.c.provider_id == sid, _outbox.c.channel == "voice")
        ).first()
        if not sid:
            log.info("twilio.call_status.no_call_sid", status=status)
            return None
        if row is not None:
            execution_id = str(row.execution_id)
            if _forward(CALL_RANK, row.status, status):
                conn.execute(sa.update(_outbox).where(_outbox.c.id == row.id).values(status=status))
        else:
            # Not a call we placed: an inbound call runs as the execution its CallSid names,
            # or, once its flow failed, as its fallback flow's.
            execution_id = execution_id_for_call(sid)
            if _live_workflow(conn, execution_id) is None:
                execution_id = execution_id_for_call(sid, fallback=True)
        live = _live_workflow(conn, execution_id)
        if row is None and live is None:
            log.info("twilio.call_status.unknown_call", call_sid=sid, status=status)
            return None
    log.info("twilio.call_status", call_sid=sid, status=status, execution_id=execution_id)
    if live is None or CALL_RANK.get(status, 0) < DECISIVE_RANK:
        return None  # queued, initiated, ringing: recorded, no news for the workflow
    signal = CallStatusSignal(
        call_sid=sid,
        status=status,
        answered_by=form.get("AnsweredBy") or None,
        duration_s=form_int(form.get("CallDuration")),
    )
    return Target(execution_id, live[1], live[0], SIGNAL_CALL_STATUS, signal)


def _seq_of(key: str) -> int | None:
    tail = key.rsplit(":", 1)[-1]
    return int(tail) if tail.isdigit() else None


def apply_message_status(engine: Engine, form: Mapping[str, str]) -> None:
    """A delivery status: onto the message's outbox row and its step's result."""
    sid = form.get("MessageSid", "")
    status = form.get("MessageStatus") or form.get("SmsStatus") or ""
    with session_scope(engine) as session:
        conn = session.connection()
        row = conn.execute(
            sa.select(_outbox).where(
                _outbox.c.provider_id == sid, _outbox.c.channel.in_(["sms", "whatsapp"])
            )
        ).first()
        if row is None or not sid:
            log.info("twilio.message_status.unknown_message", message_sid=sid, status=status)
            return
        if not _forward(MESSAGE_RANK, row.status, status):
            return
        conn.execute(sa.update(_outbox).where(_outbox.c.id == row.id).values(status=status))
        seq = _seq_of(row.idempotency_key)
        step = conn.execute(
            sa.select(_step.c.id, _step.c.result).where(
                _step.c.execution_id == row.execution_id, _step.c.seq == seq
            )
        ).first()
        if step is not None:
            result = {**(step.result or {}), "delivery_status": status}
            conn.execute(sa.update(_step).where(_step.c.id == step.id).values(result=result))
    log.info("twilio.message_status", message_sid=sid, status=status)


def _address(value: str) -> tuple[str, str]:
    """(channel, number) of a Twilio address: `whatsapp:+91…` or `+91…`."""
    value = value.strip()
    if value.startswith("whatsapp:"):
        return "whatsapp", value.removeprefix("whatsapp:")
    return "sms", value


def find_reply_target(engine: Engine, form: Mapping[str, str]) -> Target | None:
    """The running `send_and_wait` step this inbound message answers: the newest message sent
    to its sender (from the number it arrived at) by an execution still running."""
    channel, sender = _address(form.get("From", ""))
    _, receiver = _address(form.get("To", ""))
    query = (
        sa.select(_outbox, _execution.c.workflow_id)
        .join(_execution, _execution.c.id == _outbox.c.execution_id)
        .where(
            _outbox.c.channel == channel,
            _outbox.c.to == sender,
            _execution.c.status.not_in(_TERMINAL),
        )
        .order_by(_outbox.c.created_at.desc())
        .limit(REPLY_CANDIDATES)
    )
    with engine.connect() as conn:
        rows = conn.execute(query).all()
    for row in rows:
        content = row.content or {}
        if content.get(AWAITING_REPLY) and content.get("from") in (None, receiver):
            signal = MessageReplySignal(
                channel=channel,
                from_=sender,
                body=form.get("Body", ""),
                message_sid=form.get("MessageSid") or None,
            )
            return Target(
                row.execution_id, row.tenant_id, row.workflow_id, SIGNAL_MESSAGE_REPLY, signal
            )
    # The sender's number is the contact's: the message's id finds it, the log keeps no PII.
    log.info("twilio.inbound.no_waiting_step", channel=channel, message_sid=form.get("MessageSid"))
    return None


def is_inbound(form: Mapping[str, str]) -> bool:
    status = form.get("MessageStatus") or form.get("SmsStatus")
    return status == "received" or (status is None and "Body" in form)


async def send_signal(client: Client, target: Target) -> bool:
    """Signal the workflow; False if it is no longer running."""
    handle = client.get_workflow_handle(target.workflow_id)
    try:
        await handle.signal(target.name, target.arg, rpc_timeout=RPC_TIMEOUT)
    except RPCError as exc:
        if exc.status == RPCStatusCode.NOT_FOUND:
            log.info("twilio.signal.workflow_gone", execution_id=target.execution_id)
            return False
        raise ServiceUnavailableError(f"Temporal refused the signal: {exc.message}") from exc
    log.info("twilio.signalled", execution_id=target.execution_id, signal=target.name)
    return True
