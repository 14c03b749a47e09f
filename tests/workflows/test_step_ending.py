"""The execution's end written with its last step (`StepEnding`): when an action step's port
leads straight to a completed `end`, the step's activity writes the end node's record, the
status and the final `vars` and `steps` with the step itself, and the workflow skips its own
final write (one local activity, one activation and one transaction fewer a run). Anything
else ends as before: the workflow writes the end."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from pytest_httpserver import HTTPServer
from temporalio.api.enums.v1 import EventType

from activities.flow_activities import _end_of
from schemas.execution import ActionInput, ActionOutput, ExecutionResult, StepEnding
from tests.workflows.conftest import Runner


def _flow(url: str, *, then: str = "done") -> dict[str, Any]:
    """A `set`, a POST saving its body as `order`, then `then`; a `set` and an end after."""
    return {
        "start": "mark",
        "nodes": [
            {
                "id": "mark",
                "type": "set",
                "config": {"assign": {"source": "ads"}},
                "transitions": {"next": "post"},
            },
            {
                "id": "post",
                "type": "http",
                "config": {"method": "POST", "url": url, "timeout_s": 5, "save_as": "order"},
                "transitions": {"success": then},
            },
            {
                "id": "note",
                "type": "set",
                "config": {"assign": {"noted": True}},
                "transitions": {"next": "done"},
            },
            {"id": "done", "type": "end", "config": {"reason": "all sent"}},
        ],
    }


def _local_activity_markers(history: Any) -> int:
    return sum(
        1
        for e in history.events
        if e.event_type == EventType.EVENT_TYPE_MARKER_RECORDED
        and e.marker_recorded_event_attributes.marker_name == "core_local_activity"
    )


async def test_a_last_step_writes_the_execution_end_with_itself(
    skipping_runner: Runner, httpserver: HTTPServer
) -> None:
    httpserver.expect_request("/orders", method="POST").respond_with_json({"order": 7})
    handle = await skipping_runner.start(
        _flow(httpserver.url_for("/orders")), short_local_steps=["http"], local_max_s=15
    )
    result: ExecutionResult = await handle.result()

    assert result.status == "completed"
    history = await handle.fetch_history()
    assert _local_activity_markers(history) == 1  # the POST's: no final write of its own
    kinds = [e.event_type for e in history.events]
    assert EventType.EVENT_TYPE_ACTIVITY_TASK_SCHEDULED not in kinds
    # what the workflow's own final write would have stored
    row = skipping_runner.execution(handle)
    assert (row.status, row.reason, row.current_node) == ("completed", "all sent", "done")
    assert row.ended_at is not None and row.context is not None
    assert row.context["vars"] == {"source": "ads", "order": {"order": 7}}
    assert row.context["steps"]["post"]["body"] == {"order": 7}
    assert set(row.context["steps"]) == {"mark", "post"}
    assert skipping_runner.path(handle) == [
        ("mark", "success", "next"),
        ("post", "success", "success"),
        ("done", "success", None),
    ]
    assert skipping_runner.events(handle)[-1] == "flow.completed"
    assert skipping_runner.events(handle).count("flow.completed") == 1
    await skipping_runner.save_history(handle, "http_ends_with_step")


async def test_a_step_followed_by_more_steps_leaves_the_end_to_the_workflow(
    skipping_runner: Runner, httpserver: HTTPServer
) -> None:
    httpserver.expect_request("/orders", method="POST").respond_with_json({"order": 8})
    handle = await skipping_runner.start(
        _flow(httpserver.url_for("/orders"), then="note"),
        short_local_steps=["http"],
        local_max_s=15,
    )
    await handle.result()

    assert _local_activity_markers(await handle.fetch_history()) == 2  # the POST, the end
    row = skipping_runner.execution(handle)
    assert (row.status, row.reason) == ("completed", "all sent")
    assert row.context is not None and row.context["vars"]["noted"] is True
    assert [node for node, _, _ in skipping_runner.path(handle)] == ["mark", "post", "note", "done"]


def _action(ending: StepEnding) -> ActionInput:
    return ActionInput(
        execution_id="e1",
        tenant_id="t1",
        flow_id="f1",
        seq=4,
        node_id="post",
        node_type="http",
        config={},
        started_at=datetime.now(UTC),
        ending=ending,
    )


def test_the_step_writes_no_end_past_the_data_budget_or_by_another_port() -> None:
    ending = StepEnding(
        ports={"success": "done"},
        context={"vars": {"a": 1}, "steps": {}},
        room=40,
        save_as="order",
        saves="body",
    )
    small = ActionOutput(port="success", result={"body": {"n": 1}})
    end = _end_of(_action(ending), small)
    assert end is not None and end.status == "completed"
    assert [(r.seq, r.node_id, r.node_type) for r in end.records] == [(5, "done", "end")]
    assert end.context == {"vars": {"a": 1, "order": {"n": 1}}, "steps": {"post": small.result}}

    # the result (16 bytes of JSON) and the variable it saves (7) fit in 23; not in 22
    assert _end_of(_action(ending.model_copy(update={"room": 23})), small) is not None
    assert _end_of(_action(ending.model_copy(update={"room": 22})), small) is None
    assert _end_of(_action(ending), small.model_copy(update={"port": "error"})) is None
