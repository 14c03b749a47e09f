"""A flow's `schedule` trigger as a Temporal Schedule, kept in step with the flow.

The schedule (`schedule-<flow id>`) exists while the flow has a schedule trigger, a published
version and is not deleted; it is paused while the flow is disabled. Every change that can
move one of these (a PATCH of the flow, a publish or a rollback, a delete) calls
`sync_schedule` after the flow is committed, which makes the Temporal side match the stored
flow whatever it was before: a retried request repairs a sync that failed, and so does the API's
recovery sweep (`repair_missing`: a published schedule flow whose schedule Temporal lacks, as
after a publish whose sync failed, gets it within `FLOWDECK_START_SWEEP_S`). Each firing starts
`ScheduledFlowStart` (`workflows.scheduled`), which records the execution and runs the
version published at that moment.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import structlog
from pydantic import ValidationError
from sqlalchemy.engine import Engine
from sqlmodel import Session
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import State
from temporalio.client import (
    Client,
    Schedule,
    ScheduleActionStartWorkflow,
    ScheduleAlreadyRunningError,
    ScheduleDescription,
    ScheduleIntervalSpec,
    ScheduleOverlapPolicy,
    SchedulePolicy,
    ScheduleSpec,
    ScheduleState,
    ScheduleUpdate,
    ScheduleUpdateInput,
)
from temporalio.common import SearchAttributePair, TypedSearchAttributes
from temporalio.service import RPCError, RPCStatusCode

from api.deps import temporal_client_of
from api.errors import ServiceUnavailableError
from schemas import search_attributes
from schemas.schedule import (
    SCHEDULE,
    SCHEDULED_WORKFLOW_NAME,
    ScheduledStartInput,
    ScheduleTrigger,
    firing_workflow_id_for,
    schedule_id_for,
)
from schemas.settings import Settings
from store import flows
from store.errors import InvalidInputError, NotFoundError
from store.models import Flow

log = structlog.get_logger(__name__)

RPC_TIMEOUT = timedelta(seconds=10)
PAUSED_NOTE = "paused: the flow is disabled"
OVERLAP = {
    "skip": ScheduleOverlapPolicy.SKIP,
    "buffer_one": ScheduleOverlapPolicy.BUFFER_ONE,
    "buffer_all": ScheduleOverlapPolicy.BUFFER_ALL,
    "cancel_other": ScheduleOverlapPolicy.CANCEL_OTHER,
    "terminate_other": ScheduleOverlapPolicy.TERMINATE_OTHER,
    "allow_all": ScheduleOverlapPolicy.ALLOW_ALL,
}


def is_scheduled(trigger: dict[str, Any] | None) -> bool:
    return (trigger or {}).get("type") == SCHEDULE


def wanted_trigger(flow: Flow) -> ScheduleTrigger | None:
    """The schedule the flow should have now, or None for none."""
    if flow.deleted_at is not None or flow.published_version is None:
        return None
    if not is_scheduled(flow.trigger):
        return None
    try:
        return ScheduleTrigger.model_validate(flow.trigger)
    except ValidationError as exc:  # stored before schedules were checked: nothing to run
        log.warning("schedule trigger invalid", flow_id=flow.id, error=str(exc))
        return None


def _attributes(flow: Flow, *, trigger: bool) -> TypedSearchAttributes:
    pairs: list[SearchAttributePair[str]] = [
        SearchAttributePair(search_attributes.TENANT, flow.tenant_id),
        SearchAttributePair(search_attributes.FLOW, flow.id),
        SearchAttributePair(search_attributes.FLOW_NAME, flow.name[:200]),
    ]
    if trigger:
        pairs.append(SearchAttributePair(search_attributes.TRIGGER, SCHEDULE))
    return TypedSearchAttributes(pairs)


def _memo(flow: Flow) -> dict[str, str]:
    return {"flow": flow.name, "flow_id": flow.id, "tenant": flow.tenant_id}


def build_schedule(flow: Flow, trigger: ScheduleTrigger, settings: Settings) -> Schedule:
    """The Temporal Schedule of a flow's trigger: its spec, its policies, its action."""
    spec = ScheduleSpec(
        cron_expressions=[trigger.cron] if trigger.cron else [],
        intervals=(
            [ScheduleIntervalSpec(every=timedelta(seconds=trigger.interval_s))]
            if trigger.interval_s
            else []
        ),
        time_zone_name=trigger.timezone,
        start_at=trigger.start,
        end_at=trigger.end,
    )
    action = ScheduleActionStartWorkflow(
        SCHEDULED_WORKFLOW_NAME,
        ScheduledStartInput(
            tenant_id=flow.tenant_id, flow_id=flow.id, schedule_id=schedule_id_for(flow.id)
        ),
        id=firing_workflow_id_for(flow.id),
        task_queue=settings.task_queue,
        memo=_memo(flow),
        typed_search_attributes=(
            _attributes(flow, trigger=True)
            if settings.index_executions
            else TypedSearchAttributes.empty
        ),
        static_summary=f"scheduled run of {flow.name}"[:200],
    )
    policy = SchedulePolicy(
        overlap=OVERLAP[trigger.overlap],
        catchup_window=timedelta(seconds=trigger.catchup_window_s),
    )
    paused = not flow.enabled
    state = ScheduleState(paused=paused, note=PAUSED_NOTE if paused else "")
    return Schedule(action=action, spec=spec, policy=policy, state=state)


def _refused(exc: RPCError, flow: Flow) -> Exception:
    if exc.status == RPCStatusCode.INVALID_ARGUMENT:
        # Our checks should have caught it; Temporal's parser is the last word.
        return InvalidInputError(
            f"Temporal refused the schedule: {exc.message}",
            details=[{"path": "$.trigger", "code": "invalid_value", "message": exc.message}],
        )
    return ServiceUnavailableError(f"Temporal refused the schedule's change: {exc.message}")


async def _apply(client: Client, settings: Settings, flow: Flow, schedule: Schedule) -> None:
    schedule_id = schedule_id_for(flow.id)
    try:
        await client.create_schedule(
            schedule_id,
            schedule,
            memo=_memo(flow),
            search_attributes=(
                _attributes(flow, trigger=False) if settings.index_executions else None
            ),
            rpc_timeout=RPC_TIMEOUT,
        )
        log.info("schedule created", flow_id=flow.id, schedule_id=schedule_id)
        return
    except ScheduleAlreadyRunningError:
        pass
    handle = client.get_schedule_handle(schedule_id)

    def replace(_: ScheduleUpdateInput) -> ScheduleUpdate:
        # Its search attributes follow a renamed flow (its memo cannot change after creation).
        attributes = _attributes(flow, trigger=False) if settings.index_executions else None
        return ScheduleUpdate(schedule=schedule, search_attributes=attributes)

    await handle.update(replace, rpc_timeout=RPC_TIMEOUT)
    # An update may leave the paused state as it was: set it explicitly.
    described = await handle.describe(rpc_timeout=RPC_TIMEOUT)
    if described.schedule.state.paused != schedule.state.paused:
        if schedule.state.paused:
            await handle.pause(note=PAUSED_NOTE, rpc_timeout=RPC_TIMEOUT)
        else:
            await handle.unpause(note="resumed: the flow is enabled", rpc_timeout=RPC_TIMEOUT)
    log.info(
        "schedule updated", flow_id=flow.id, schedule_id=schedule_id, paused=schedule.state.paused
    )


async def _delete(client: Client, flow: Flow) -> None:
    schedule_id = schedule_id_for(flow.id)
    try:
        await client.get_schedule_handle(schedule_id).delete(rpc_timeout=RPC_TIMEOUT)
    except RPCError as exc:
        if exc.status != RPCStatusCode.NOT_FOUND:
            raise
        return
    log.info("schedule deleted", flow_id=flow.id, schedule_id=schedule_id)


async def sync_schedule(*, client: Client, settings: Settings, flow: Flow) -> None:
    """Make the flow's Temporal Schedule what the stored flow says: created or updated (and
    paused while the flow is disabled), or deleted when the flow has no schedule to run."""
    trigger = wanted_trigger(flow)
    try:
        if trigger is None:
            await _delete(client, flow)
        else:
            await _apply(client, settings, flow, build_schedule(flow, trigger, settings))
    except RPCError as exc:
        raise _refused(exc, flow) from exc


def _scheduled(engine: Engine) -> list[Flow]:
    with Session(engine, expire_on_commit=False) as session:
        return flows.published_flows_with(session, trigger_type=SCHEDULE)


async def repair_missing(*, engine: Engine, client: Client, settings: Settings) -> list[str]:
    """Create the schedules that published schedule flows should have and Temporal lacks
    (a publish whose sync failed); the flows repaired. Existing schedules are left as they
    are: every change to a flow syncs its schedule itself."""
    repaired = []
    for flow in await run_in_threadpool(_scheduled, engine):
        if wanted_trigger(flow) is None:
            continue
        handle = client.get_schedule_handle(schedule_id_for(flow.id))
        try:
            await handle.describe(rpc_timeout=RPC_TIMEOUT)
            continue
        except RPCError as exc:
            if exc.status != RPCStatusCode.NOT_FOUND:
                raise
        await sync_schedule(client=client, settings=settings, flow=flow)
        log.warning("schedule repaired", flow_id=flow.id, reason="Temporal had no schedule")
        repaired.append(flow.id)
    return repaired


async def describe_schedule(
    *, session: Session, state: State, tenant_id: str, flow_id: str
) -> ScheduleDescription:
    """The flow's schedule as Temporal has it; 404 when the flow has none now."""
    flow = await run_in_threadpool(flows.get_flow, session, tenant_id=tenant_id, flow_id=flow_id)
    client = await temporal_client_of(state)
    handle = client.get_schedule_handle(schedule_id_for(flow.id))
    try:
        return await handle.describe(rpc_timeout=RPC_TIMEOUT)
    except RPCError as exc:
        if exc.status == RPCStatusCode.NOT_FOUND:
            raise NotFoundError(
                f"flow {flow_id} has no schedule (it needs a schedule trigger and a "
                "published version)"
            ) from exc
        raise ServiceUnavailableError(f"Temporal refused the request: {exc.message}") from exc


def schedule_url(settings: Settings, schedule_id: str) -> str:
    """Where the schedule is shown in the Temporal Web UI."""
    base = settings.temporal_ui_url.rstrip("/")
    return f"{base}/namespaces/{settings.temporal_namespace}/schedules/{schedule_id}"


# --- the flow changes that move a schedule ---------------------------------------------------


async def _sync(state: State, settings: Settings, flow: Flow) -> None:
    await sync_schedule(client=await temporal_client_of(state), settings=settings, flow=flow)


async def update_flow(
    *,
    session: Session,
    state: State,
    settings: Settings,
    tenant_id: str,
    flow_id: str,
    changes: dict[str, Any],
) -> Flow:
    """Change a flow's settings; a schedule trigger (before or after) follows the change. Should
    Temporal refuse it or be out of reach, the change is undone: nothing changed anywhere."""
    before = await run_in_threadpool(flows.get_flow, session, tenant_id=tenant_id, flow_id=flow_id)
    was_scheduled = is_scheduled(before.trigger)
    previous = {name: getattr(before, name) for name in changes}
    flow = await run_in_threadpool(
        flows.update_flow, session, tenant_id=tenant_id, flow_id=flow_id, changes=changes
    )
    if not (was_scheduled or is_scheduled(flow.trigger)):
        return flow
    try:
        await _sync(state, settings, flow)
    except (InvalidInputError, ServiceUnavailableError) as exc:
        await run_in_threadpool(
            flows.update_flow, session, tenant_id=tenant_id, flow_id=flow_id, changes=previous
        )
        if isinstance(exc, ServiceUnavailableError):
            raise ServiceUnavailableError(f"{exc}; nothing was changed, try again") from exc
        raise
    return flow


async def delete_flow(
    *, session: Session, state: State, settings: Settings, tenant_id: str, flow_id: str
) -> None:
    """Soft-delete a flow and its schedule. The schedule goes first: with Temporal out of
    reach nothing is deleted (503), and a flow the store refuses to delete gets it back."""
    flow = await run_in_threadpool(flows.get_flow, session, tenant_id=tenant_id, flow_id=flow_id)
    if not is_scheduled(flow.trigger):
        await run_in_threadpool(flows.delete_flow, session, tenant_id=tenant_id, flow_id=flow_id)
        return
    client = await temporal_client_of(state)
    try:
        await _delete(client, flow)
    except RPCError as exc:
        raise ServiceUnavailableError(
            f"{_refused(exc, flow)}; nothing was deleted, try again"
        ) from exc
    try:
        await run_in_threadpool(flows.delete_flow, session, tenant_id=tenant_id, flow_id=flow_id)
    except Exception:
        await sync_schedule(client=client, settings=settings, flow=flow)
        raise


async def after_publish(
    *, session: Session, state: State, settings: Settings, tenant_id: str, flow_id: str
) -> None:
    """A flow's first published version brings its schedule to life (later ones change
    nothing: each firing reads the version published then)."""
    flow = await run_in_threadpool(flows.get_flow, session, tenant_id=tenant_id, flow_id=flow_id)
    if not is_scheduled(flow.trigger):
        return
    try:
        await _sync(state, settings, flow)
    except ServiceUnavailableError as exc:
        raise ServiceUnavailableError(
            f"the version is published, but {exc}: the recovery sweep makes the schedule "
            "once Temporal answers (or PATCH the flow, any setting, to try now)"
        ) from exc
