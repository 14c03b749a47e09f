"""A live call's session on the API side: answering a call, handing each turn to its workflow.

- `POST /webhooks/twilio/voice`: an inbound call to a deployed number starts the flow's
  execution, whose id is derived from the CallSid (`schemas.call.execution_id_for_call`), so
  a retried webhook finds the same row and the same workflow. An outbound call we placed
  (`?execution=<id>` in its answer URL) is turn 0 of its execution's workflow instead, found
  from the id alone: an execution that is not running answers with a goodbye.
- `POST /webhooks/twilio/voice/turn`: each `<Gather>`/`<Record>`/`<Dial>`/`<Enqueue>`
  action and `<Redirect>` is the workflow Update `call_turn`, whose result is the next TwiML.
  The Update id is the CallSid and the turn: Temporal answers a repeated id with the first
  one's result, so a retried request never counts as a second key press.

Twilio waits 15 s at most; a turn whose answer takes longer than `call_hold_after_s` is answered
with a hold message and a redirect back to the same turn (FLOWDECK_CALL_HOLD_AFTER_S).
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Mapping
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import structlog
from sqlalchemy.engine import Engine
from sqlalchemy.exc import IntegrityError, SQLAlchemyError
from sqlmodel import Session, col, select
from starlette.concurrency import run_in_threadpool
from temporalio.client import (
    Client,
    WithStartWorkflowOperation,
    WorkflowUpdateFailedError,
    WorkflowUpdateRPCTimeoutOrCancelledError,
)
from temporalio.common import WorkflowIDConflictPolicy, WorkflowIDReusePolicy
from temporalio.exceptions import WorkflowAlreadyStartedError
from temporalio.service import RPCError

from api import twiml
from api.services.twilio_webhooks import form_int
from schemas import search_attributes
from schemas.call import (
    UPDATE_CALL_TURN,
    CallInfo,
    CallTurn,
    TurnEvent,
    execution_id_for_call,
)
from schemas.execution import (
    WORKFLOW_NAME,
    CallAnswer,
    ExecutionInput,
    ExecutionStatus,
    Launch,
    RecordInput,
    workflow_id_for,
)
from schemas.hours import BusinessHours, is_open
from schemas.settings import Settings
from store.contacts import contact_dict
from store.db import session_scope
from store.errors import ConflictError, NotFoundError
from store.executions import new_execution, pinned_input
from store.flows import get_flow, version_to_run
from store.models import Contact, Deployment, Execution, PhoneNumber, utcnow
from store.recorder import Recorder
from store.timeline import apply_records

log = structlog.get_logger(__name__)

RPC_TIMEOUT = timedelta(seconds=10)
NOT_IN_SERVICE = "The number you have called is not in service. Goodbye."
CLOSED = "We are closed now. Please call again during our opening hours. Goodbye."
UNAVAILABLE = "We are sorry, we cannot take your call right now. Please try again later."
EVENTS: frozenset[str] = frozenset(TurnEvent.__args__)  # type: ignore[attr-defined]


class BadTurn(ValueError):
    """A signed request whose query names no valid turn (not something Twilio sends)."""


@dataclass(frozen=True)
class Answering:
    """How an inbound call is answered: an execution to run, or a message and goodbye."""

    execution_id: str | None = None
    workflow_input: ExecutionInput | None = None
    message: str | None = None


def call_info(form: Mapping[str, str]) -> CallInfo:
    return CallInfo(
        call_sid=form.get("CallSid", ""),
        from_=form.get("From", ""),
        to=form.get("To", ""),
        direction=form.get("Direction") or "inbound",
        answered_by=form.get("AnsweredBy") or None,
    )


def _float(value: str | None) -> float | None:
    try:
        return float(value) if value not in (None, "") else None
    except ValueError:
        return None


def turn_of(form: Mapping[str, str], *, turn: int, event: str) -> CallTurn:
    """One of Twilio's requests as a turn, from its form fields."""
    if event not in EVENTS:
        raise BadTurn(f"unknown turn event {event!r}")
    return CallTurn(
        turn=turn,
        event=event,
        call=call_info(form),
        digits=form.get("Digits") or None,
        speech=form.get("SpeechResult") or None,
        confidence=_float(form.get("Confidence")),
        recording_url=form.get("RecordingUrl") or None,
        recording_sid=form.get("RecordingSid") or None,
        recording_duration_s=form_int(form.get("RecordingDuration")),
        dial_status=form.get("DialCallStatus") or None,
        dial_duration_s=form_int(form.get("DialCallDuration")),
        queue_result=form.get("QueueResult") or None,
        queue_time_s=form_int(form.get("QueueTime")),
    )


# --- inbound: which flow answers ---------------------------------------------------------


def _deployment(session: Session, *, number: str, environment: str) -> Deployment | None:
    query = (
        select(Deployment)
        .join(PhoneNumber, col(PhoneNumber.id) == col(Deployment.phone_number_id))
        .where(
            PhoneNumber.number == number,
            Deployment.environment == environment,
            col(Deployment.replaced_at).is_(None),
        )
    )
    return session.exec(query).first()


def _caller(session: Session, *, tenant_id: str, phone: str) -> dict[str, Any]:
    """The caller as a contact: the stored one with that phone, else just the number."""
    query = select(Contact).where(Contact.tenant_id == tenant_id, Contact.phone == phone)
    contact = session.exec(query).first()
    return contact_dict(contact) if contact is not None else {"phone": phone}


def prepare_inbound(
    engine: Engine,
    *,
    form: Mapping[str, str],
    environment: str,
    settings: Settings,
    after_failure: bool = False,
) -> Answering:
    """The execution row an inbound call runs as (created once per CallSid) and its input.

    `after_failure`: the deployed flow failed mid-call and handed the call over; its
    fallback flow answers, as a second execution of the call.
    """
    call = call_info(form)
    execution_id = execution_id_for_call(call.call_sid, fallback=after_failure)
    # Reads outside the writer lock (SQLite has one writer); only the insert takes it.
    with Session(engine) as session:
        deployment = _deployment(session, number=call.to, environment=environment)
        if deployment is None:
            log.info("call.not_deployed", to=call.to, environment=environment)
            return Answering(message=NOT_IN_SERVICE)
        existing = session.get(Execution, execution_id)
        flow_id, fallback = deployment.flow_id, False
        version: int | None = deployment.version
        if existing is not None:
            flow_id, version = existing.flow_id, existing.version
        elif after_failure:
            if deployment.fallback_flow_id is None:
                return Answering(message=UNAVAILABLE)
            flow_id, version, fallback = deployment.fallback_flow_id, None, True
        elif deployment.schedule and not is_open(
            BusinessHours.model_validate(deployment.schedule), utcnow()
        ):
            if deployment.fallback_flow_id is None:
                return Answering(message=CLOSED)
            flow_id, version, fallback = deployment.fallback_flow_id, None, True
        tenant_id = deployment.tenant_id
        try:
            flow = get_flow(session, tenant_id=tenant_id, flow_id=flow_id)
            if not flow.enabled and existing is None:
                # Disabled: it answers no call (a trigger, like any other); the fallback may.
                log.info("call.flow_disabled", flow_id=flow_id)
                if fallback or deployment.fallback_flow_id is None:
                    return Answering(message=UNAVAILABLE)
                flow_id, version, fallback = deployment.fallback_flow_id, None, True
                flow = get_flow(session, tenant_id=tenant_id, flow_id=flow_id)
                if not flow.enabled:
                    return Answering(message=UNAVAILABLE)
            pinned = version_to_run(session, flow=flow, number=version, test=False)
        except (NotFoundError, ConflictError) as exc:
            log.warning("call.flow_unavailable", flow_id=flow_id, error=str(exc))
            return Answering(message=UNAVAILABLE)
        contact = _caller(session, tenant_id=tenant_id, phone=call.from_)
        trigger = {
            "type": "call_incoming",
            "call_sid": call.call_sid,
            "from": call.from_,
            "to": call.to,
            "environment": environment,
            "deployment_id": deployment.id,
            "fallback": fallback,
        }
        execution = new_execution(
            execution_id=execution_id,
            tenant_id=tenant_id,
            flow_id=flow.id,
            version=pinned.number,
            contact=contact,
            variables={},
            trigger=trigger,
            contact_id=contact.get("id"),
            campaign_id=deployment.campaign_id,
            launch=Launch(
                call=call,
                fallback_on_failure=deployment.fallback_flow_id is not None and not fallback,
            ),
        )
        workflow_input = pinned_input(
            session, execution, flow=flow, version=pinned, settings=settings
        )
    if existing is None:
        # After the reading session is closed: it must not hold a pooled connection while
        # it waits for the writer.
        try:
            with session_scope(engine) as write:
                write.add(execution)
        except IntegrityError:
            pass  # the same call's retried webhook got there first
    return Answering(execution_id=execution_id, workflow_input=workflow_input)


# --- talking to the workflow -------------------------------------------------------------


@dataclass(frozen=True)
class Reply:
    """The TwiML for Twilio, and the progress to record once it is sent."""

    twiml: str
    progress: RecordInput | None = None


def record_progress(engine: Engine, progress: RecordInput) -> None:
    """Write progress now (idempotent); errors are logged, the workflow writes it again."""
    try:
        apply_records(engine, progress)
    except (LookupError, SQLAlchemyError):
        log.warning("call.progress_not_recorded", execution_id=progress.execution_id)


async def record_in_batch(recorder: Recorder, progress: RecordInput) -> None:
    """The steps a turn walked, written after Twilio has its answer, sharing a transaction
    with the other calls' turns (group commit). Not lost on failure: the workflow writes the
    same records again when it ends."""
    try:
        await recorder.apply(progress)
    except (LookupError, SQLAlchemyError):
        log.warning("call.progress_not_recorded", execution_id=progress.execution_id)


def _update_id(turn: CallTurn) -> str:
    """Temporal answers a repeated Update id with the first one's result."""
    return f"{turn.call.call_sid}:{turn.turn}"


async def exchange(
    client: Client, settings: Settings, *, execution_id: str, turn: CallTurn
) -> Reply:
    """Hand a turn to the call's workflow; the TwiML of its answer (or a hold, or goodbye)."""
    handle = client.get_workflow_handle(workflow_id_for(execution_id))
    update = handle.execute_update(
        UPDATE_CALL_TURN,
        turn,
        id=_update_id(turn),
        result_type=CallAnswer,
        rpc_timeout=RPC_TIMEOUT,
    )
    return await _answer(update, settings, execution_id=execution_id, turn=turn)


async def _answer(
    update: Awaitable[CallAnswer],
    settings: Settings,
    *,
    execution_id: str,
    turn: CallTurn,
    starting: bool = False,
) -> Reply:
    """The TwiML of the turn's answer; a hold while it is not ready; a goodbye when the
    workflow is over. With `starting`, Temporal's refusal is raised: the start failed."""
    base = settings.public_base_url
    try:
        result = await asyncio.wait_for(update, settings.call_hold_after_s)
    except (TimeoutError, WorkflowUpdateRPCTimeoutOrCancelledError):
        # Still working on it (the Update goes on): hold, then ask again for the same turn.
        log.info("call.hold", execution_id=execution_id, turn=turn.turn)
        first = turn.event != "hold"
        return Reply(
            twiml.hold(base_url=base, execution_id=execution_id, turn=turn.turn, first=first)
        )
    except WorkflowAlreadyStartedError:
        log.info("call.already_over", execution_id=execution_id)
        return Reply(twiml.hangup())
    except WorkflowUpdateFailedError as exc:
        cause = getattr(exc.cause, "message", None) or str(exc.cause)
        log.warning("call.turn_refused", execution_id=execution_id, turn=turn.turn, cause=cause)
        return Reply(twiml.hangup())
    except RPCError as exc:
        if starting:
            raise
        # The workflow is gone (finished, or never started): nothing more to say on this call.
        log.info("call.turn_no_workflow", execution_id=execution_id, error=exc.message)
        return Reply(twiml.hangup())
    document = twiml.render(result.answer, base_url=base, execution_id=execution_id)
    return Reply(document, result.progress)


def _start_failed(engine: Engine, execution_id: str, reason: str) -> None:
    """The row says why, so nothing is lost silently."""
    with session_scope(engine) as session:
        execution = session.get(Execution, execution_id)
        if execution is None:
            return
        tenant_id, flow_id = execution.tenant_id, execution.flow_id
    record_progress(
        engine,
        RecordInput(
            execution_id=execution_id,
            tenant_id=tenant_id,
            flow_id=flow_id,
            status=ExecutionStatus.failed,
            reason=reason,
            at=utcnow(),
        ),
    )


async def answer_inbound(
    engine: Engine,
    client: Client,
    settings: Settings,
    *,
    form: Mapping[str, str],
    environment: str,
    after_failure: bool = False,
) -> Reply:
    answering = await run_in_threadpool(
        prepare_inbound,
        engine,
        form=form,
        environment=environment,
        settings=settings,
        after_failure=after_failure,
    )
    if answering.message is not None:
        return Reply(twiml.message_and_hangup(answering.message))
    data = answering.workflow_input
    assert data is not None
    turn = turn_of(form, turn=0, event="answer")
    start: WithStartWorkflowOperation[Any, Any] = WithStartWorkflowOperation(
        WORKFLOW_NAME,
        data,
        id=workflow_id_for(data.execution_id),
        task_queue=settings.task_queue,
        # A retried ring webhook joins the running workflow; once it is over, nothing starts.
        id_conflict_policy=WorkflowIDConflictPolicy.USE_EXISTING,
        id_reuse_policy=WorkflowIDReusePolicy.REJECT_DUPLICATE,
        static_summary=f"{data.flow_name} v{data.version}: call {data.contact.get('phone')}",
        memo=search_attributes.memo(data),
        search_attributes=search_attributes.indexed(data) if settings.index_executions else None,
    )
    update = client.execute_update_with_start_workflow(
        UPDATE_CALL_TURN,
        turn,
        start_workflow_operation=start,
        id=_update_id(turn),
        result_type=CallAnswer,
        rpc_timeout=RPC_TIMEOUT,
    )
    try:
        return await _answer(
            update, settings, execution_id=data.execution_id, turn=turn, starting=True
        )
    except RPCError as exc:
        log.warning("call.start_failed", execution_id=data.execution_id, error=exc.message)
        reason = f"the workflow could not be started: {exc.message}"
        await run_in_threadpool(_start_failed, engine, data.execution_id, reason)
        return Reply(twiml.message_and_hangup(UNAVAILABLE))
