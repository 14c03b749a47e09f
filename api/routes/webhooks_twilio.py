"""Twilio's webhooks for calls and messages (no API key: every request is signature-checked).

`X-Twilio-Signature` is checked with the twilio library's `RequestValidator` against
`PUBLIC_BASE_URL` + the request's path and query, and the form fields; a missing or bad
signature gets 403 and changes nothing. Voice webhooks answer with the call's next TwiML
(api/services/calls.py); status and messaging callbacks with empty TwiML.
"""

from __future__ import annotations

import asyncio
from collections.abc import Coroutine
from typing import Annotated, Any
from urllib.parse import parse_qsl

from fastapi import APIRouter, Query, Request
from fastapi.responses import Response
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import FormData, UploadFile
from twilio.twiml.messaging_response import MessagingResponse
from twilio.twiml.voice_response import VoiceResponse

from api import twiml
from api.bodies.common import INT32_MAX
from api.deps import EngineDep, SettingsDep, get_temporal, temporal_source
from api.errors import CONFLICT, NOT_FOUND, UNAVAILABLE, error_response, error_responses
from api.services import calls, campaign_flows, message_triggers
from api.services import routing as routing_service
from api.services import twilio_webhooks as hooks
from api.services.routing import TwilioHttpDep
from schemas.api_errors import ErrorResponse
from store.recorder import Recorder

TWIML = "text/xml"
URLENCODED = "application/x-www-form-urlencoded"

router = APIRouter(
    prefix="/webhooks/twilio",
    tags=["twilio"],
    responses={
        200: {"content": {TWIML: {"schema": {"type": "string"}}}, "description": "TwiML"},
        403: {"model": ErrorResponse, "description": "a missing or bad X-Twilio-Signature"},
        **error_responses(413, 422),
    },
)


def _form_body(*fields: str) -> dict[str, Any]:
    """The form Twilio posts, for the OpenAPI description: the fields we read (Twilio sends
    more; every one is signed, so all are accepted)."""
    schema = {
        "type": "object",
        "properties": {name: {"type": "string"} for name in fields},
        "additionalProperties": {"type": "string"},
    }
    return {"requestBody": {"content": {URLENCODED: {"schema": schema}}}}


CALL = ("CallSid", "AccountSid", "From", "To", "Direction", "CallStatus", "AnsweredBy")
TURN = (
    *CALL,
    "Digits",
    "SpeechResult",
    "Confidence",
    "RecordingUrl",
    "RecordingSid",
    "RecordingDuration",
    "DialCallStatus",
    "DialCallDuration",
    "QueueResult",
    "QueueTime",
)
STATUS = (*CALL, "CallDuration")
MESSAGE = ("MessageSid", "AccountSid", "From", "To", "Body", "MessageStatus", "ErrorCode")


async def _form(request: Request) -> FormData:
    """The posted fields, blank ones included (Twilio signs those too).

    Twilio posts URL-encoded forms: parsed from the body in one call, a fifth of what
    Starlette's streaming parser costs for a call's thirty-odd fields. Anything else goes to
    Starlette's parser.
    """
    if request.headers.get("content-type", "").split(";")[0].strip().lower() != URLENCODED:
        return await request.form()
    body = (await request.body()).decode("utf-8", errors="replace")
    fields: list[tuple[str, str | UploadFile]] = []
    fields.extend(parse_qsl(body, keep_blank_values=True))
    return FormData(fields)


async def _signed_form(request: Request, settings: SettingsDep) -> FormData | None:
    form = await _form(request)
    url = hooks.signed_url(settings, request.url.path, request.url.query)
    signature = request.headers.get("X-Twilio-Signature")
    if not hooks.signature_ok(settings, url, form, signature):
        hooks.log.warning("twilio.bad_signature", path=request.url.path)
        return None
    return form


def _forbidden() -> Response:
    return error_response(403, "missing or invalid X-Twilio-Signature")


def _fields(form: FormData) -> dict[str, str]:
    return {k: v for k, v in form.items() if isinstance(v, str)}


def _twiml(document: str) -> Response:
    return Response(document, media_type=TWIML)


_recording: set[asyncio.Task[Any]] = set()
"""Progress writes and flow starts under way (a task keeps no strong reference to itself)."""


def _in_background(work: Coroutine[Any, Any, object]) -> None:
    task = asyncio.create_task(work)
    _recording.add(task)
    task.add_done_callback(_recording.discard)


async def settled() -> None:
    """Wait for the work started after an answer (recordings, flow starts) to end."""
    while _recording:
        await asyncio.gather(*list(_recording), return_exceptions=True)


async def _trigger_flow(
    request: Request, settings: SettingsDep, engine: EngineDep, fields: dict[str, str]
) -> None:
    """Start the `message_received` flow the message matches (never raises)."""

    await message_triggers.on_message(
        engine=engine, settings=settings, client_source=temporal_source(request), form=fields
    )


async def _campaign_inbound(
    request: Request,
    settings: SettingsDep,
    engine: EngineDep,
    fields: dict[str, str],
    environment: str,
) -> None:
    """Start the `inbound_start` flow of the campaign the number is deployed for (never
    raises)."""

    await campaign_flows.on_inbound_call(
        engine=engine,
        settings=settings,
        client_source=temporal_source(request),
        form=fields,
        environment=environment,
    )


async def _campaign_outbound(
    request: Request, settings: SettingsDep, engine: EngineDep, fields: dict[str, str]
) -> None:
    """Start the `outbound_start` flow of the campaign an answered call was placed for."""

    await campaign_flows.on_outbound_call(
        engine=engine,
        settings=settings,
        client_source=temporal_source(request),
        call_sid=fields.get("CallSid", ""),
        status=fields.get("CallStatus", ""),
        answered_by=fields.get("AnsweredBy") or None,
    )


def _reply(reply: calls.Reply, request: Request) -> Response:
    """The TwiML now; the steps the turn walked are recorded beside it, off the call's path.

    Not a response background task: that would hold the connection, and with it the next
    webhook Twilio sends on it, until the write is done.
    """
    if reply.progress is not None:
        recorder: Recorder = request.app.state.call_recorder
        _in_background(calls.record_in_batch(recorder, reply.progress))
    return Response(reply.twiml, media_type=TWIML)


@router.post(
    "/voice", response_class=Response, responses=UNAVAILABLE, openapi_extra=_form_body(*CALL)
)
async def voice(
    request: Request,
    settings: SettingsDep,
    engine: EngineDep,
    execution: str | None = None,
    environment: str = "production",
    fallback: bool = False,
) -> Response:
    """A call to one of our numbers (or an answered call we placed, `?execution=<id>`): the
    flow deployed to the number (in `?environment=`, production by default) answers it.
    `?fallback=true`: the flow failed mid-call, and the deployment's fallback flow takes it."""
    form = await _signed_form(request, settings)
    if form is None:
        return _forbidden()
    fields = _fields(form)
    if not fields.get("CallSid"):
        return error_response(422, "CallSid is required", details=[_path("CallSid", "missing")])
    client = await get_temporal(request)
    if execution is not None:  # a call we placed was answered: turn 0 of its execution
        answered = calls.turn_of(fields, turn=0, event="answer")
        reply = await calls.exchange(client, settings, execution_id=execution, turn=answered)
    else:
        answering = calls.answer_inbound(
            engine,
            client,
            settings,
            form=fields,
            environment=environment,
            after_failure=fallback,
        )
        if fallback:
            reply = await answering
        else:
            # The campaign's `inbound_start` run is started beside the answer, not after it:
            # its row is committed before Twilio has the TwiML, so a crash loses no start.
            campaign = _campaign_inbound(request, settings, engine, fields, environment)
            reply, _ = await asyncio.gather(answering, campaign)
    return _reply(reply, request)


@router.post(
    "/voice/turn", response_class=Response, responses=UNAVAILABLE, openapi_extra=_form_body(*TURN)
)
async def voice_turn(
    request: Request,
    settings: SettingsDep,
    execution: str,
    turn: Annotated[int, Query(ge=0, le=INT32_MAX)],
    event: str,
) -> Response:
    """A `<Gather>`, `<Record>`, `<Dial>` or `<Enqueue>` action, or a `<Redirect>`: handed to
    the call's workflow as an Update; its result is the next TwiML."""
    form = await _signed_form(request, settings)
    if form is None:
        return _forbidden()
    fields = _fields(form)
    try:
        call_turn = calls.turn_of(fields, turn=turn, event=event)
    except calls.BadTurn as exc:
        return error_response(422, str(exc), details=[_path("event", "invalid", "query")])
    if not call_turn.call.call_sid:
        return error_response(422, "CallSid is required", details=[_path("CallSid", "missing")])
    client = await get_temporal(request)
    reply = await calls.exchange(client, settings, execution_id=execution, turn=call_turn)
    return _reply(reply, request)


@router.post("/voice/wait", response_class=Response, openapi_extra=_form_body(*TURN))
async def voice_wait(request: Request, settings: SettingsDep) -> Response:
    """What a caller waiting in a department's queue hears (the `<Enqueue>`'s waitUrl)."""
    form = await _signed_form(request, settings)
    if form is None:
        return _forbidden()
    return _twiml(twiml.hold_music(settings.hold_music_url))


@router.post(
    "/voice/routed",
    response_class=Response,
    responses=NOT_FOUND | CONFLICT | UNAVAILABLE,
    openapi_extra=_form_body(*TURN),
)
async def voice_routed(
    request: Request,
    settings: SettingsDep,
    engine: EngineDep,
    http: TwilioHttpDep,
    entry: str,
    agent: str | None = None,
) -> Response:
    """The `<Dial>` or `<Enqueue>` action of a call routed by `POST /api/departments/route`
    (`?entry=<queue entry>`, and `&agent=` for a `<Dial>`): the agent is freed, or a missed
    agent's caller queued."""
    form = await _signed_form(request, settings)
    if form is None:
        return _forbidden()
    try:
        document = await routing_service.routed_call_ended(
            engine=engine,
            settings=settings,
            http=http,
            temporal=await routing_service.temporal_or_none(request),
            queue_entry_id=entry,
            agent_id=agent,
            fields=_fields(form),
        )
    except routing_service.UnknownEntry as exc:
        return error_response(404, str(exc))
    return _twiml(document)


def _path(name: str, code: str, where: str = "form") -> dict[str, str]:
    return {"path": f"$.{where}.{name}", "code": code, "message": f"{name} is {code}"}


@router.post(
    "/status", response_class=Response, responses=UNAVAILABLE, openapi_extra=_form_body(*STATUS)
)
async def call_status(
    request: Request,
    settings: SettingsDep,
    engine: EngineDep,
    http: TwilioHttpDep,
    offer: str | None = None,
    agent: str | None = None,
) -> Response:
    """A call's status callback (CallSid, CallStatus, AnsweredBy, CallDuration): recorded on
    the call's outbox row and signalled to its execution. With `?offer=&agent=`, the end of
    an agent's call into a queue: a missed one is offered to another agent."""
    form = await _signed_form(request, settings)
    if form is None:
        return _forbidden()
    if offer is not None and agent is not None:
        await routing_service.offer_ended(
            engine=engine,
            settings=settings,
            http=http,
            temporal=await routing_service.temporal_or_none(request),
            queue_entry_id=offer,
            agent_id=agent,
            call_status=_fields(form).get("CallStatus", ""),
        )
        return Response(str(VoiceResponse()), media_type=TWIML)
    fields = _fields(form)
    target = await run_in_threadpool(hooks.apply_call_status, engine, fields)
    if target is not None:
        await hooks.send_signal(await get_temporal(request), target)
    # Answered, a call placed for a campaign starts its `outbound_start` flow before Twilio
    # has its answer (no caller waits on a status callback); never raises.
    await _campaign_outbound(request, settings, engine, fields)
    return Response(str(VoiceResponse()), media_type=TWIML)


@router.post(
    "/messaging",
    response_class=Response,
    responses=UNAVAILABLE,
    openapi_extra=_form_body(*MESSAGE),
)
async def messaging(request: Request, settings: SettingsDep, engine: EngineDep) -> Response:
    """An inbound SMS/WhatsApp (the reply a `send_and_wait` step waits for, else the start of
    the `message_received` flow it matches) or a delivery status callback
    (MessageSid, MessageStatus) of a message we sent."""
    form = await _signed_form(request, settings)
    if form is None:
        return _forbidden()
    fields = _fields(form)
    if hooks.is_inbound(fields):
        target = await run_in_threadpool(hooks.find_reply_target, engine, fields)
        if target is not None:
            await hooks.send_signal(await get_temporal(request), target)
        else:
            # A message no question waits for starts its `message_received` flow before Twilio
            # has its answer: the run's row is committed first (a few ms), so a crash after
            # the answer loses no message (the recovery sweep starts a row left pending).
            # It never raises.
            await _trigger_flow(request, settings, engine, fields)
    else:
        await run_in_threadpool(hooks.apply_message_status, engine, fields)
    return Response(str(MessagingResponse()), media_type=TWIML)
