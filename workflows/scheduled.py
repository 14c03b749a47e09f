"""What a flow's Temporal Schedule starts at each firing: a small workflow that records the
execution row (an activity) and runs the flow's published version as its child.

The row comes first, as for every run, so the firing is in `GET /api/executions` and the
recovery sweep can finish a start a crash interrupted. The row's id is derived from this
workflow's id, which Temporal makes unique per firing (`scheduled-<flow>-<time>`): a retried
activity finds the row, and the child's id (`exec-<execution id>`) is started at most once.
Waiting for the child makes the schedule's overlap policy mean "while the previous run of
the flow is still going"; the child is cancelled (as the Web UI cancels a run) if this
workflow is cancelled or terminated by that policy.
"""

from __future__ import annotations

from datetime import timedelta

from temporalio import workflow
from temporalio.common import RetryPolicy, WorkflowIDReusePolicy
from temporalio.exceptions import WorkflowAlreadyStartedError

with workflow.unsafe.imports_passed_through():
    from schemas import search_attributes
    from schemas.execution import WORKFLOW_NAME, ExecutionResult, workflow_id_for
    from schemas.schedule import (
        ACTIVITY_PREPARE_SCHEDULED_RUN,
        SCHEDULED_BY_ID,
        SCHEDULED_START_TIME,
        SCHEDULED_WORKFLOW_NAME,
        ScheduledRun,
        ScheduledRunInput,
        ScheduledStartInput,
        ScheduledStartResult,
        execution_id_for_firing,
    )

PREPARE_TIMEOUT = timedelta(seconds=30)
PREPARE_RETRY = RetryPolicy(maximum_interval=timedelta(seconds=30), maximum_attempts=20)


@workflow.defn(name=SCHEDULED_WORKFLOW_NAME)
class ScheduledFlowStart:
    @workflow.run
    async def run(self, data: ScheduledStartInput) -> ScheduledStartResult:
        info = workflow.info()
        attributes = info.typed_search_attributes
        firing = ScheduledRunInput(
            tenant_id=data.tenant_id,
            flow_id=data.flow_id,
            schedule_id=attributes.get(SCHEDULED_BY_ID) or data.schedule_id,
            execution_id=execution_id_for_firing(info.workflow_id),
            scheduled_at=attributes.get(SCHEDULED_START_TIME) or workflow.now(),
        )
        run = await workflow.execute_activity(
            ACTIVITY_PREPARE_SCHEDULED_RUN,
            firing,
            result_type=ScheduledRun,
            start_to_close_timeout=PREPARE_TIMEOUT,
            retry_policy=PREPARE_RETRY,
            summary=f"record the execution of flow {data.flow_id}",
        )
        if run.input is None:
            return ScheduledStartResult(
                execution_id=run.execution_id, status="skipped", reason=run.skipped
            )
        indexed = attributes.get(search_attributes.TENANT) is not None
        try:
            result = await workflow.execute_child_workflow(
                WORKFLOW_NAME,
                run.input,
                id=workflow_id_for(run.execution_id),
                result_type=ExecutionResult,
                parent_close_policy=workflow.ParentClosePolicy.REQUEST_CANCEL,
                # An execution's workflow id is never reused: one the sweep started and that has
                # ended since must not run again (a child's default policy would allow it).
                id_reuse_policy=WorkflowIDReusePolicy.REJECT_DUPLICATE,
                memo=search_attributes.memo(run.input),
                search_attributes=search_attributes.indexed(run.input) if indexed else None,
                static_summary=f"{run.input.flow_name} v{run.input.version}",
            )
        except WorkflowAlreadyStartedError:
            # The recovery sweep started it first (this workflow was held up past its grace).
            return ScheduledStartResult(execution_id=run.execution_id, status="started elsewhere")
        return ScheduledStartResult(
            execution_id=run.execution_id, status=str(result.status), reason=result.reason
        )
