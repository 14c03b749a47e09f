"""perform_action records its own progress; record_progress writes what the workflow buffered."""

from __future__ import annotations

import inspect
from datetime import UTC, datetime, timedelta

import pytest
from temporalio.exceptions import ApplicationError
from temporalio.testing import ActivityEnvironment

from schemas.call import ACTIVITY_RELEASE_AGENT
from schemas.execution import (
    ACTIVITY_PERFORM_ACTION,
    ACTIVITY_PREPARE_SUBFLOW,
    ACTIVITY_RECORD_PROGRESS,
    ExecutionStatus,
    RecordInput,
    StepRecord,
    StepStatus,
)
from schemas.schedule import ACTIVITY_PREPARE_SCHEDULED_RUN
from tests.activities.conftest import Runner, Seed


async def test_success_records_buffered_steps_start_and_end(runner: Runner, seed: Seed) -> None:
    began = datetime.now(UTC) - timedelta(seconds=2)
    buffered = StepRecord(
        seq=1,
        node_id="prepare",
        node_type="set",
        status=StepStatus.success,
        started_at=began,
        ended_at=began,
        port="next",
        result={"assigned": ["greeting"]},
    )
    data = seed.action("tag", {"add": ["vip"]}, seq=2, node_id="mark", records=[buffered])

    output = await runner.perform(data)

    assert output.port == "next"
    set_step = seed.step(1)
    assert set_step is not None and set_step.status == "success" and set_step.node_id == "prepare"
    step = seed.step(2)
    assert step is not None
    assert (step.node_id, step.node_type, step.status, step.port) == (
        "mark",
        "tag",
        "success",
        "next",
    )
    assert step.result == {"tags": ["vip"]}
    assert step.ended_at is not None and step.duration_ms is not None and step.duration_ms >= 0
    assert step.error is None
    execution = seed.execution()
    assert execution.status == "running"
    assert execution.started_at == began  # the first step's start, not the activity's
    assert seed.event_types() == [
        "flow.started",
        "flow.step.completed",  # the buffered `set` step
        "flow.step.started",
        "flow.step.completed",
    ]


async def test_failed_attempt_leaves_the_error_on_the_running_step(
    runner: Runner, seed: Seed
) -> None:
    data = seed.action("http", {"url": "ftp://files.example.com/x"})

    with pytest.raises(ApplicationError) as caught:
        await runner.perform(data, attempt=3)

    assert caught.value.non_retryable
    step = seed.step(1)
    assert step is not None
    assert step.status == "running"  # the workflow marks it failed after its last attempt
    assert step.attempt == 3
    assert step.error is not None and "only http and https" in step.error
    assert "flow.step.failed" not in seed.event_types()


async def test_a_retry_clears_the_previous_attempts_error(runner: Runner, seed: Seed) -> None:
    failing = seed.action("http", {"url": "ftp://files.example.com/x"})
    with pytest.raises(ApplicationError):
        await runner.perform(failing)

    await runner.perform(
        failing.model_copy(update={"node_type": "tag", "config": {"add": ["x"]}}), attempt=2
    )

    step = seed.step(1)
    assert step is not None
    assert (step.status, step.attempt, step.error) == ("success", 2, None)
    assert seed.event_types().count("flow.step.started") == 1


async def test_invalid_config_is_not_retryable_and_names_the_field(
    runner: Runner, seed: Seed
) -> None:
    with pytest.raises(ApplicationError) as caught:
        await runner.perform(seed.action("tag", {"add": ["a"], "colour": "red"}))

    assert caught.value.type == "InvalidConfig"
    assert caught.value.non_retryable
    assert "colour" in caught.value.message


@pytest.mark.parametrize("node_type", ["subflow", "wait", "teleport"])
async def test_non_action_steps_are_refused(runner: Runner, seed: Seed, node_type: str) -> None:
    with pytest.raises(ApplicationError) as caught:
        await runner.perform(seed.action(node_type, {}))

    assert caught.value.type == "InvalidStep"
    assert caught.value.non_retryable


async def test_missing_execution_is_not_retryable(runner: Runner, seed: Seed) -> None:
    data = seed.action("tag", {"add": ["a"]}).model_copy(update={"execution_id": "nope"})

    with pytest.raises(ApplicationError) as caught:
        await runner.perform(data)

    assert caught.value.type == "ExecutionNotFound"
    assert caught.value.non_retryable


async def test_record_progress_writes_steps_and_final_status(runner: Runner, seed: Seed) -> None:
    now = datetime.now(UTC)
    activities = runner.activities()
    record = RecordInput(
        execution_id=seed.execution_id,
        tenant_id=seed.tenant_id,
        flow_id=seed.flow_id,
        records=[
            StepRecord(
                seq=1,
                node_id="done",
                node_type="end",
                status=StepStatus.success,
                started_at=now,
                ended_at=now,
            )
        ],
        status=ExecutionStatus.completed,
        at=now,
    )

    await ActivityEnvironment().run(activities.record_progress, record)
    await ActivityEnvironment().run(
        activities.record_progress, record
    )  # a retry writes nothing twice

    execution = seed.execution()
    assert execution.status == "completed"
    assert execution.ended_at is not None
    assert seed.event_types() == ["flow.started", "flow.step.completed", "flow.completed"]


def test_all_registers_the_five_named_activities(runner: Runner) -> None:
    names = {fn.__temporal_activity_definition.name for fn in runner.activities().all()}  # type: ignore[attr-defined]
    assert names == {
        ACTIVITY_PERFORM_ACTION,
        ACTIVITY_RECORD_PROGRESS,
        ACTIVITY_PREPARE_SUBFLOW,
        ACTIVITY_RELEASE_AGENT,
        ACTIVITY_PREPARE_SCHEDULED_RUN,
    }
    assert all(inspect.iscoroutinefunction(fn) for fn in runner.activities().all())
