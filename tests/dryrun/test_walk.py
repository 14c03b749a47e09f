"""The pure dry-run walk: branches, loops, replies, simulated results, the step cap."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from schemas.flow import FlowDocument
from workflows.dryrun import STEP_CAP, dry_run

START = datetime(2030, 5, 6, 5, 0, tzinfo=UTC)


def _walk(nodes: list[dict[str, Any]], **kwargs: Any) -> Any:
    document = FlowDocument.model_validate({"start": nodes[0]["id"], "nodes": nodes})
    defaults: dict[str, Any] = {
        "contact": {"name": "Asha", "phone": "+919800000001", "tags": []},
        "variables": {},
        "trigger": {},
        "outcomes": {},
        "start_at": START,
    }
    return dry_run(document, **{**defaults, **kwargs})


def _path(run: Any) -> list[tuple[str, str | None]]:
    return [(s["node_id"], s["port"]) for s in run.steps]


def test_send_and_wait_follows_the_reply_into_a_split() -> None:
    nodes: list[dict[str, Any]] = [
        {
            "id": "ask",
            "type": "send_and_wait",
            "config": {"body": "Interested, {{ contact.name }}?", "timeout_s": 600},
            "transitions": {"reply": "route", "timeout": "nudge"},
        },
        {
            "id": "route",
            "type": "split",
            "config": {
                "cases": [
                    {"port": "yes", "when": {"var": "steps.ask.reply", "op": "eq", "value": "yes"}}
                ]
            },
            "transitions": {"yes": "done", "else": "nudge"},
        },
        {"id": "nudge", "type": "sms", "config": {"body": "Hi"}, "transitions": {"sent": "done"}},
        {"id": "done", "type": "end"},
    ]
    yes = _walk(nodes, outcomes={"reply": "yes"})
    assert _path(yes) == [("ask", "reply"), ("route", "yes"), ("done", None)]
    assert yes.steps[0]["rendered"]["body"] == "Interested, Asha?"
    assert yes.usage.sms == 1

    silent = _walk(nodes, outcomes={"reply": "timeout"})
    assert _path(silent) == [("ask", "timeout"), ("nudge", "sent"), ("done", None)]
    assert silent.usage.sms == 2

    forced = _walk(nodes, outcomes={"reply": "no", "route": "yes"})
    assert _path(forced)[1] == ("route", "yes")


def test_http_is_simulated_and_loops_stop_at_their_bound() -> None:
    nodes: list[dict[str, Any]] = [
        {
            "id": "fetch",
            "type": "http",
            "config": {"url": "https://crm.example.com/leads", "save_as": "lead"},
            "transitions": {"success": "each"},
        },
        {
            "id": "each",
            "type": "loop",
            "config": {"count": 5, "max_iterations": 3},
            "transitions": {"body": "note", "done": "done"},
        },
        {"id": "note", "type": "set", "config": {"assign": {"last": "{{ loop.index }}"}}},
        {"id": "done", "type": "end"},
    ]
    run = _walk(nodes)
    assert run.steps[0]["simulated"] is True and run.steps[0]["port"] == "success"
    assert [s["node_id"] for s in run.steps] == ["fetch", "each", "note", "note", "note", "done"]
    assert run.steps[1]["result"] == {"iterations": 3, "stopped_at_max_iterations": True}
    assert run.vars["last"] == 2
    assert run.ends == "completed"


def test_a_huge_templated_count_stops_at_the_bound_and_a_broken_while_fails() -> None:
    huge = [
        {"id": "each", "type": "loop", "config": {"count": "{{ 10 ** 12 }}", "max_iterations": 3}}
    ]
    run = _walk(huge)
    assert run.steps[0]["result"] == {"iterations": 3, "stopped_at_max_iterations": True}

    # A pattern Python runs and RE2 cannot (a flow saved before regexes moved to RE2).
    broken = {"var": "vars.word", "op": "regex", "value": r"(a)\1"}
    run = _walk(
        [{"id": "again", "type": "loop", "config": {"while": broken}}], variables={"word": "aa"}
    )
    assert run.ends == "failed"
    assert run.steps[0]["error"]


def test_a_cycle_through_a_wait_stops_at_the_step_cap() -> None:
    nodes: list[dict[str, Any]] = [
        {"id": "pause", "type": "wait", "config": {"hours": 1}, "transitions": {"next": "ping"}},
        {
            "id": "ping",
            "type": "email",
            "config": {"to": "a@x.in", "subject": "Ping", "body": "Still there?"},
            "transitions": {"sent": "pause"},
        },
    ]
    run = _walk(nodes)
    assert run.ends == "incomplete"
    assert len(run.steps) == STEP_CAP
    assert run.steps[-2]["waits_until"] == (START + timedelta(hours=STEP_CAP // 2)).isoformat()


def test_a_dnc_tag_added_on_the_way_skips_the_next_contact_step() -> None:
    nodes: list[dict[str, Any]] = [
        {"id": "mark", "type": "tag", "config": {"add": ["DNC"]}, "transitions": {"next": "sms"}},
        {"id": "sms", "type": "sms", "config": {"body": "Hi"}, "transitions": {"sent": "done"}},
        {"id": "done", "type": "end"},
    ]
    run = _walk(nodes)
    assert run.ends == "skipped" and run.reason == "contact is tagged DNC"
    assert run.skips == [{"node_id": "sms", "reason": "contact is tagged DNC"}]
    assert run.usage.sms == 0


def test_a_dnc_contact_still_lets_a_notification_to_someone_else_out() -> None:
    """The interpreter's rule, shared: DNC stops a step addressed to the contact only."""
    nodes: list[dict[str, Any]] = [
        {"id": "mark", "type": "tag", "config": {"add": ["DNC"]}, "transitions": {"next": "tell"}},
        {
            "id": "tell",
            "type": "email",
            "config": {"to": "sales@acme.example", "subject": "New lead", "body": "x"},
            "transitions": {"sent": "sms"},
        },
        {"id": "sms", "type": "sms", "config": {"body": "Hi"}},
    ]
    run = _walk(nodes)
    assert _path(run) == [("mark", "next"), ("tell", "sent"), ("sms", None)]
    assert run.ends == "skipped" and run.usage.email == 1 and run.usage.sms == 0


def test_a_wait_until_and_a_human_task_render_as_the_interpreter_does() -> None:
    task = {
        "id": "review",
        "type": "human_task",
        "config": {
            "assignee": "sales",
            "title": "Call {{ contact.name }}",
            "description": "Lead from {{ contact.phone }}",
        },
        "transitions": {"completed": "later"},
    }
    later = {"id": "later", "type": "wait", "config": {"until": "{{ 'soon' }}"}}
    run = _walk([task, later])
    assert run.steps[0]["rendered"] == {
        "assignee": "sales",
        "title": "Call Asha",
        "description": "Lead from +919800000001",
    }
    assert run.ends == "failed"
    assert run.reason == "step later failed: `until` is not an ISO date-time: 'soon'"


def test_voice_steps_fail_without_a_live_call_and_stored_email_templates_render() -> None:
    welcome = {("email", "welcome"): {"subject": "Hi {{ contact.name }}", "body": "B"}}
    mail: dict[str, Any] = {
        "id": "mail",
        "type": "email",
        "config": {"to": "a@x.in", "template": "welcome"},
    }
    greet = {
        "id": "greet",
        "type": "say",
        "config": {"text": "Hi"},
        "transitions": {"next": "mail"},
    }
    voice = _walk([greet, mail], stored_templates=welcome)
    assert voice.ends == "failed" and "needs a live call" in (voice.reason or "")

    direct = _walk([mail], stored_templates=welcome)
    assert direct.steps[0]["rendered"]["subject"] == "Hi Asha"
    assert direct.usage.email == 1
    unknown = _walk([mail])
    assert unknown.steps[0]["error"] == "no email template named 'welcome'"
    assert unknown.ends == "failed"
