"""The execution's timeline as its workflow keeps it: step records numbered in the order the
walk makes them, buffered until an action, a call's answer or a flush carries them to the
database (`store.timeline` applies them idempotently).
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from temporalio import workflow

with workflow.unsafe.imports_passed_through():
    from schemas import search_attributes
    from schemas.execution import (
        ACTIVITY_RECORD_PROGRESS,
        ActionOutput,
        ExecutionInput,
        ExecutionStatus,
        RecordInput,
        StepRecord,
        StepStatus,
    )
    from schemas.limits import RECORD_RESULT_LIMIT_BYTES, describe_size, json_size

RECORD_TIMEOUT = timedelta(seconds=30)


class Timeline:
    """Owns the records: the next step number, those to write, those still open (a step
    that waits), and those that rode on a live call's answers."""

    def __init__(self, data: ExecutionInput) -> None:
        self._in = data
        self.seq = data.resume.seq if data.resume else 0
        self.status = ExecutionStatus.pending
        """The execution's status as the workflow last wrote it (the `state` query's)."""
        self._pending: list[StepRecord] = []
        self._open: dict[int, StepRecord] = {}
        self._told: dict[str, list[StepRecord]] = {}
        """Records that rode on a call's answers (by CallSid:answer), written again at the end."""
        started_with = workflow.info().typed_search_attributes.get(search_attributes.STATUS)
        self.indexed = started_with is not None
        """It started with Flowdeck's search attributes: it keeps `FlowdeckStatus` current.
        (Runs started before they existed have none, and replay as they ran.)"""
        self._indexed_status = started_with
        self._end_stored: int | None = None
        """The seq of the end node's record an action step's activity wrote with the
        execution's end (`StepEnding`)."""

    def index(self, status: ExecutionStatus) -> None:
        """`FlowdeckStatus` says `status` (the Web UI filters runs by it)."""
        if self.indexed and status != self._indexed_status:
            workflow.upsert_search_attributes([search_attributes.STATUS.value_set(status)])
            self._indexed_status = status

    def walking(self) -> None:
        """The walk goes on after a wait: the execution is running again."""
        if self._indexed_status == ExecutionStatus.waiting:
            self.index(ExecutionStatus.running)

    def begin(
        self, node_id: str, node_type: str, *, status: StepStatus = StepStatus.running
    ) -> StepRecord:
        self.seq += 1
        return StepRecord(
            seq=self.seq,
            node_id=node_id,
            node_type=node_type,
            status=status,
            started_at=workflow.now(),
        )

    def hold(self, record: StepRecord) -> None:
        """The step goes on past this workflow task: written as it is at every flush."""
        self._open[record.seq] = record

    def release(self, record: StepRecord) -> None:
        self._open.pop(record.seq, None)

    def holding(self) -> bool:
        """Whether a step is held open (a wait, a call, a subflow under way)."""
        return bool(self._open)

    def end_stored(self, seq: int) -> None:
        """An action step's activity wrote the execution's end, completed, with the end
        node's record as step `seq`."""
        self._end_stored = seq

    def close(self, status: ExecutionStatus) -> bool:
        """Whether the execution ended as a step's activity already wrote it (`end_stored`):
        completed, by the end node whose record is the only one left to write, nothing held
        or riding on a call's answers. Then the status is the final one, indexed, and there
        is nothing to flush (the end node's reason came from the same node)."""
        stored, left = self._end_stored, self._pending
        if (
            stored is None
            or status != ExecutionStatus.completed
            or len(left) != 1
            or (left[0].seq, left[0].node_type) != (stored, "end")
            or self._open
            or self._told
        ):
            return False
        self._pending = []
        self.status = status
        self.index(status)
        return True

    def finish(
        self,
        record: StepRecord,
        status: StepStatus,
        *,
        port: str | None = None,
        result: dict[str, Any] | None = None,
        error: str | None = None,
        ended_at: datetime | None = None,
    ) -> None:
        record.status = status
        record.ended_at = ended_at or workflow.now()
        record.port = port
        if result is not None:
            record.result = result
        record.error = error
        self._pending.append(record.model_copy())

    def performed(self, record: StepRecord, output: ActionOutput) -> None:
        """An action step done by an activity that left its record to us (`recorded`): its
        start, then its end, as the activity would have written them (two events)."""
        record.attempt = output.attempt
        self._pending.append(record.model_copy())
        self.finish(
            record,
            StepStatus.success,
            port=output.port,
            result=output.result,
            ended_at=output.ended_at,
        )

    def skip(self, record: StepRecord, reason: str) -> None:
        record.status = StepStatus.skipped
        record.ended_at = workflow.now()
        record.skip_reason = reason
        self._pending.append(record)

    def add(self, record: StepRecord) -> None:
        self._pending.append(record)

    def close_open(self, reason: str) -> None:
        """The execution ended under its open steps: each is skipped with `reason`."""
        for record in self._open.values():
            record.status = StepStatus.skipped
            record.ended_at = workflow.now()
            record.skip_reason = reason
            self._pending.append(record.model_copy())
        self._open.clear()

    def take_pending(self) -> list[StepRecord]:
        pending, self._pending = self._pending, []
        return [_for_timeline(record) for record in pending]

    def put_back(self, records: list[StepRecord]) -> None:
        """Records an action did not carry after all: the next write takes them."""
        self._pending = records + self._pending

    def tell(self, key: str) -> None:
        """The records walked so far ride on a call's answer (`key`: CallSid:answer)."""
        self._told[key] = self.take_pending()

    def told(self, key: str) -> list[StepRecord]:
        return self._told.get(key, [])

    def write_told_again(self) -> None:
        """At the end, what rode on the call's answers is written again (idempotently), in
        case an answer never reached the API."""
        told = [record for records in self._told.values() for record in records]
        self._pending = told + self._pending

    def record_input(
        self,
        records: list[StepRecord],
        *,
        status: ExecutionStatus | None,
        reason: str | None = None,
        context: dict[str, Any] | None = None,
    ) -> RecordInput:
        return RecordInput(
            execution_id=self._in.execution_id,
            tenant_id=self._in.tenant_id,
            flow_id=self._in.flow_id,
            records=records,
            status=status,
            reason=reason,
            context=context,
            at=workflow.now(),
        )

    async def flush(
        self,
        *,
        status: ExecutionStatus | None = None,
        reason: str | None = None,
        context: dict[str, Any] | None = None,
        keep_open: bool = False,
        regular: bool = False,
    ) -> None:
        """Write buffered records (and open ones, when `keep_open`) with a local activity, or
        with a regular one (`regular`) when a caller waits for this workflow task's answer:
        a local activity holds the task, and so the answer, until the write is done."""
        records = self.take_pending()
        if keep_open:
            records.extend(_for_timeline(r.model_copy()) for r in self._open.values())
        if status is not None and status not in (ExecutionStatus.running, ExecutionStatus.waiting):
            self.status = status
        if status is not None:
            self.index(status)
        progress = self.record_input(records, status=status, reason=reason, context=context)
        if regular:
            await workflow.execute_activity(
                ACTIVITY_RECORD_PROGRESS,
                progress,
                start_to_close_timeout=RECORD_TIMEOUT,
                summary="record progress",
            )
            return
        await workflow.execute_local_activity(
            ACTIVITY_RECORD_PROGRESS, progress, start_to_close_timeout=RECORD_TIMEOUT
        )


def _for_timeline(record: StepRecord) -> StepRecord:
    """The record as the timeline keeps it: a result too large to show is left out (the step
    still has it, in `steps.<id>`), so a big variable never bloats what the workflow sends."""
    if record.result is None:
        return record
    size = json_size(record.result)
    if size <= RECORD_RESULT_LIMIT_BYTES:
        return record
    note = {"omitted": f"a {describe_size(size)} result, too large for the timeline"}
    return record.model_copy(update={"result": note})
