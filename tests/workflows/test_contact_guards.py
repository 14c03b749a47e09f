"""The interpreter's guards for lead engagement: Do-Not-Call and business hours."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from schemas.execution import SIGNAL_CONTACT_UPDATED, ContactUpdate, ExecutionResult
from schemas.hours import BusinessHours, next_opening
from tests.workflows.conftest import Runner

CONTACT = {"name": "Asha", "phone": "+919800000001", "email": "asha@example.com", "tags": []}


def _wait_then(*steps: dict[str, object]) -> dict[str, object]:
    nodes: list[dict[str, object]] = [
        {"id": "pause", "type": "wait", "config": {"hours": 1}, "transitions": {"next": "s0"}}
    ]
    for i, step in enumerate(steps):
        following = {"next" if step["type"] == "set" else "sent": f"s{i + 1}"}
        nodes.append({**step, "id": f"s{i}", "transitions": following})
    nodes.append({"id": f"s{len(steps)}", "type": "end"})
    return {"start": "pause", "nodes": nodes}


async def test_a_dnc_tag_added_while_waiting_stops_before_the_next_contact(
    skipping_runner: Runner,
) -> None:
    flow = _wait_then(
        {"type": "email", "config": {"to": "sales@acme.example", "subject": "New", "body": "x"}},
        {"type": "sms", "config": {"body": "Hello {{ contact.name }}"}},
    )
    handle = await skipping_runner.start(flow, contact=CONTACT)
    await handle.signal(
        SIGNAL_CONTACT_UPDATED, ContactUpdate(contact={**CONTACT, "tags": ["vip", "dnc"]})
    )
    result: ExecutionResult = await handle.result()

    assert (result.status, result.reason) == ("skipped", "contact is tagged DNC")
    steps = {s.node_id: s for s in skipping_runner.steps(handle)}
    # the internal notification is not a contact of the lead: it still goes out
    assert steps["s0"].status == "success"
    assert (steps["s1"].status, steps["s1"].skip_reason) == ("skipped", "contact is tagged DNC")
    assert [m.channel for m in skipping_runner.outbox(handle)] == ["email"]
    execution = skipping_runner.execution(handle)
    assert (execution.status, execution.reason) == ("skipped", "contact is tagged DNC")
    assert skipping_runner.events(handle)[-1] == "flow.skipped"


async def test_without_dnc_the_contact_is_reached(skipping_runner: Runner) -> None:
    flow = _wait_then({"type": "sms", "config": {"body": "Hello {{ contact.name }}"}})
    handle = await skipping_runner.start(flow, contact={**CONTACT, "tags": ["Dnc-review"]})
    result: ExecutionResult = await handle.result()
    assert result.status == "completed"
    [sms] = skipping_runner.outbox(handle)
    assert (sms.to, sms.content) == ("+919800000001", {"body": "Hello Asha"})


async def test_outside_business_hours_the_execution_waits_for_the_opening(
    skipping_runner: Runner,
) -> None:
    hours = BusinessHours(start="09:30", end="09:31", timezone="Asia/Kolkata", days=["sun"])
    flow = {
        "start": "hi",
        "nodes": [
            {"id": "hi", "type": "sms", "config": {"body": "Hi"}, "transitions": {"sent": "end"}},
            {"id": "end", "type": "end"},
        ],
    }
    handle = await skipping_runner.start(
        flow, contact=CONTACT, business_hours=hours, respect_business_hours=True
    )
    result: ExecutionResult = await handle.result()
    assert result.status == "completed"
    steps = skipping_runner.steps(handle)
    first = steps[0]
    if first.node_id != "business_hours":  # the skipped clock happened to be inside the hours
        assert next_opening(hours, first.started_at) == first.started_at
        return
    assert first.result is not None and first.result["reason"] == "outside business hours"
    until = datetime.fromisoformat(first.result["until"])
    assert until == next_opening(hours, first.started_at)
    assert until.astimezone(ZoneInfo("Asia/Kolkata")).strftime("%a %H:%M") == "Sun 09:30"
    assert steps[1].node_id == "hi" and steps[1].started_at >= until
