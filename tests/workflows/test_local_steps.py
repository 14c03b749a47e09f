"""Short side effects as local activities (`FLOWDECK_LOCAL_ACTIVITY_MAX_S`): an HTTP or CRM
step whose attempt timeout is within the limit runs in the worker without a round trip
through the Temporal server, with the same retries, timeouts, ports, timeline and
Idempotency-Key as a regular activity; a longer one stays a regular activity."""

from __future__ import annotations

import json
import time
from typing import Any

from pytest_httpserver import HTTPServer
from temporalio.api.enums.v1 import EventType
from werkzeug import Request, Response

from activities.flow_activities import ANNOUNCE_AFTER_S
from schemas.execution import ExecutionResult
from schemas.settings import Settings
from tests.workflows.conftest import Runner, flaky_sink

END = {"id": "done", "type": "end"}


async def test_short_steps_run_local_with_the_same_retries_and_a_long_one_stays_regular(
    skipping_runner: Runner, httpserver: HTTPServer
) -> None:
    flaky = flaky_sink(failures=2)
    httpserver.expect_request("/flaky").respond_with_handler(flaky)
    httpserver.expect_request("/slow").respond_with_json({"slow": True})
    httpserver.expect_request("/rest/crm.lead.update.json").respond_with_json({"result": True})
    flow = {
        "start": "flaky",
        "nodes": [
            {
                "id": "flaky",
                "type": "http",
                "config": {"method": "POST", "url": httpserver.url_for("/flaky"), "timeout_s": 5},
                "retry": {"max_attempts": 3, "delay_s": 1, "backoff": 1},
                "transitions": {"success": "crm"},
            },
            {
                "id": "crm",
                "type": "crm_update",
                "config": {
                    "webhook_url": httpserver.url_for("/rest"),
                    "id": "42",
                    "fields": {"STATUS_ID": "IN_PROCESS"},
                },
                "timeout_s": 10,
                "transitions": {"success": "slow"},
            },
            {
                "id": "slow",
                "type": "http",
                "config": {"url": httpserver.url_for("/slow"), "timeout_s": 40},
                "transitions": {"success": "done"},
            },
            END,
        ],
    }
    local = Settings.model_validate({"FLOWDECK_LOCAL_ACTIVITY_MAX_S": 15})
    assert local.short_local_action_types()[:2] == ["http", "crm_update"]
    handle = await skipping_runner.start(
        flow, short_local_steps=local.short_local_action_types(), local_max_s=15
    )
    result: ExecutionResult = await handle.result()

    assert result.status == "completed"
    steps = {s.node_id: s for s in skipping_runner.steps(handle)}
    assert (steps["flaky"].status, steps["flaky"].attempt, steps["flaky"].port) == (
        "success",
        3,
        "success",
    )
    execution_id = skipping_runner.execution(handle).id
    assert flaky.seen == [f"{execution_id}:flaky:1"] * 3  # one key across the retries
    assert steps["crm"].status == "success" and steps["slow"].status == "success"
    assert skipping_runner.path(handle)[-1] == ("done", "success", None)

    history = await handle.fetch_history()
    kinds = [e.event_type for e in history.events]
    scheduled = [
        e.activity_task_scheduled_event_attributes.activity_type.name
        for e in history.events
        if e.event_type == EventType.EVENT_TYPE_ACTIVITY_TASK_SCHEDULED
    ]
    assert scheduled == ["perform_action"]  # the 40 s step only: the others ran local
    assert kinds.count(EventType.EVENT_TYPE_MARKER_RECORDED) >= 2
    await skipping_runner.save_history(handle, "http_crm_local_short")


async def test_with_the_setting_at_zero_every_http_step_is_a_regular_activity(
    skipping_runner: Runner, httpserver: HTTPServer
) -> None:
    httpserver.expect_request("/hook").respond_with_json({"ok": True})
    default = Settings.model_validate({})
    assert default.local_activity_max_s == 30 and "http" in default.short_local_action_types()
    off = Settings.model_validate({"FLOWDECK_LOCAL_ACTIVITY_MAX_S": 0})
    assert off.local_activity_max_s == 0 and off.short_local_action_types() == []
    flow = {
        "start": "hook",
        "nodes": [
            {
                "id": "hook",
                "type": "http",
                "config": {"url": httpserver.url_for("/hook"), "timeout_s": 1},
                "transitions": {"success": "done"},
            },
            END,
        ],
    }
    handle = await skipping_runner.start(flow, short_local_steps=off.short_local_action_types())
    await handle.result()
    history = await handle.fetch_history()
    scheduled = [
        e for e in history.events if e.event_type == EventType.EVENT_TYPE_ACTIVITY_TASK_SCHEDULED
    ]
    assert len(scheduled) == 1


def _local_outputs(history: Any) -> list[dict[str, Any]]:
    """What each local action returned, from its marker in the history."""
    outputs = []
    for event in history.events:
        if event.event_type != EventType.EVENT_TYPE_MARKER_RECORDED:
            continue
        result = event.marker_recorded_event_attributes.details.get("result")
        if result is None or not result.payloads:
            continue
        if result.payloads[0].metadata.get("encoding") != b"json/plain":
            continue  # a write's answer: None
        value = json.loads(result.payloads[0].data)
        if isinstance(value, dict) and "port" in value:
            outputs.append(value)
    return outputs


async def test_local_steps_store_their_outcome_before_they_return(
    runner: Runner, httpserver: HTTPServer
) -> None:
    """A local step's outcome reaches Temporal only with its workflow task, so each local
    step writes its record before it returns (a worker restarted after losing the task finds
    it there, `test_local_replay`): a quick one in one write, start and end together; a slow
    one (still working after ANNOUNCE_AFTER_S) shows as running while it works. The history
    `http_local_give_back` was recorded when quick steps left their records to the
    workflow's next write, and still replays."""

    def slow(_: Request) -> Response:
        time.sleep(ANNOUNCE_AFTER_S + 0.3)
        return Response('{"slow": true}', status=200, content_type="application/json")

    httpserver.expect_request("/quick").respond_with_json({"n": 1})
    httpserver.expect_request("/slow").respond_with_handler(slow)

    def http(node_id: str, path: str, then: str) -> dict[str, Any]:
        return {
            "id": node_id,
            "type": "http",
            "config": {"method": "POST", "url": httpserver.url_for(path), "timeout_s": 5},
            "transitions": {"success": then},
        }

    flow = {
        "start": "first",
        "nodes": [
            http("first", "/quick", "note"),
            {
                "id": "note",
                "type": "set",
                "config": {"assign": {"seen": "yes"}},
                "transitions": {"next": "slow"},
            },
            http("slow", "/slow", "last"),
            http("last", "/quick", "done"),
            END,
        ],
    }
    handle = await runner.start(flow, short_local_steps=["http"], local_max_s=15)
    result: ExecutionResult = await handle.result()

    assert result.status == "completed"
    outputs = _local_outputs(await handle.fetch_history())
    assert [o.get("recorded", True) for o in outputs] == [True, True, True]
    assert runner.path(handle) == [
        ("first", "success", "success"),
        ("note", "success", "next"),
        ("slow", "success", "success"),
        ("last", "success", "success"),
        ("done", "success", None),
    ]
    steps = {s.node_id: s for s in runner.steps(handle)}
    first = steps["first"].result or {}
    assert first["status"] == 200 and first["body"] == {"n": 1}
    assert steps["slow"].duration_ms is not None and steps["slow"].duration_ms >= 250
    for step in steps.values():
        assert step.started_at is not None and step.ended_at is not None
        assert step.ended_at >= step.started_at and step.attempt == 1
    await runner.save_history(handle, "http_local_quick_slow")
    action = ["flow.step.started", "flow.step.completed"]
    pure = ["flow.step.completed"]
    assert runner.events(handle) == [
        "flow.started",
        *action,  # first: its start and end, written together when it was done
        *pure,
        *action,
        *action,
        *pure,
        "flow.completed",
    ]
