"""The Executions pages in a real browser against the real stack: leads posted through the
API appear in the open list and advance live (over the event stream, no reload); filters
live in the address; live runs are picked and cancelled in bulk; the list exports as CSV.
A run's page shows its timeline, its path on the flow's canvas at its pinned version and
its Temporal link, follows it live, cancels and retries it, and completes the human task it
waits on through the task's form. A viewer sees all of it and no control."""

from __future__ import annotations

import csv
import re
import time
from pathlib import Path
from typing import Any

import pytest
from playwright.async_api import Locator, Page, expect

from tests.dashboard.conftest import Browsing, Stack

pytestmark = pytest.mark.timeout(300)
PAGE = 50
"""Executions the list shows before "Load more"."""

LEAD_FLOW: dict[str, Any] = {
    "name": "Lead nurture",
    "description": "Welcome, wait for the sales call, then a brochure and an hour's pause.",
    "trigger": {"type": "lead_created", "conditions": []},
    "definition": {
        "start": "welcome",
        "nodes": [
            {
                "id": "welcome",
                "type": "sms",
                "config": {"body": "Hi {{ contact.name }}, thanks for your enquiry."},
                "transitions": {"sent": "called_back", "failed": "done"},
            },
            {
                "id": "called_back",
                "type": "wait_for",
                "config": {"event": "call.completed", "timeout_s": 86400},
                "transitions": {"received": "brochure", "timeout": "done"},
            },
            {
                "id": "brochure",
                "type": "sms",
                "config": {"body": "Here is our brochure, {{ contact.name }}."},
                "transitions": {"sent": "pause", "failed": "done"},
            },
            {
                "id": "pause",
                "type": "wait",
                "config": {"hours": 1},
                "transitions": {"next": "done"},
            },
            {"id": "done", "type": "end"},
        ],
    },
}

REVIEW_FLOW: dict[str, Any] = {
    "name": "Lead review",
    "description": "A person qualifies the lead, then it is thanked.",
    "trigger": {"type": "manual"},
    "definition": {
        "start": "review",
        "nodes": [
            {
                "id": "review",
                "type": "human_task",
                "config": {
                    "assignee": "sales",
                    "title": "Qualify {{ contact.name }}",
                    "description": "Call the lead and record what they need.",
                    "fields": [
                        {"name": "budget", "type": "number", "label": "Budget", "required": True},
                        {
                            "name": "segment",
                            "type": "choice",
                            "label": "Segment",
                            "options": ["SMB", "Enterprise"],
                            "required": True,
                        },
                        {"name": "callback", "type": "boolean", "label": "Wants a callback"},
                        {"name": "visit", "type": "date", "label": "Site visit"},
                    ],
                },
                "transitions": {"completed": "thanks", "timeout": "done"},
            },
            {
                "id": "thanks",
                "type": "sms",
                "config": {"body": "Thanks {{ contact.name }}, we will be in touch."},
                "transitions": {"sent": "done", "failed": "done"},
            },
            {"id": "done", "type": "end"},
        ],
    },
}

TEXT_FLOW: dict[str, Any] = {
    "name": "Text once",
    "trigger": {"type": "manual"},
    "definition": {
        "start": "text",
        "nodes": [
            {
                "id": "text",
                "type": "sms",
                "config": {"body": "Hello {{ contact.name }}"},
                "transitions": {"sent": "done", "failed": "done"},
            },
            {"id": "done", "type": "end"},
        ],
    },
}

QUICK_FLOW: dict[str, Any] = {
    "name": "Quick check",
    "trigger": {"type": "manual"},
    "definition": {"start": "done", "nodes": [{"id": "done", "type": "end"}]},
}


# --- the product, through its API ---------------------------------------------------------


def _published(stack: Stack, body: dict[str, Any]) -> str:
    with stack.client() as http:
        created = http.post("/api/flows", json=body)
        assert created.status_code == 201, created.text
        flow_id = str(created.json()["id"])
        published = http.post(f"/api/flows/{flow_id}/versions/1/publish")
        assert published.status_code == 200, published.text
    return flow_id


def _post_lead(stack: Stack, name: str, phone: str) -> str:
    """A lead through POST /api/contacts; returns the execution its lead flow started."""
    with stack.client() as http:
        posted = http.post("/api/contacts", json={"name": name, "phone": phone})
        assert posted.status_code in (200, 201), posted.text
    engagement = posted.json()["engagement"]
    assert engagement["status"] == "started", engagement
    return str(engagement["execution_id"])


def _run(stack: Stack, flow_id: str, name: str, phone: str | None = None) -> str:
    contact = {"name": name, **({"phone": phone} if phone else {})}
    with stack.client() as http:
        run = http.post(f"/api/flows/{flow_id}/executions", json={"contact": contact})
        assert run.status_code == 201, run.text
    return str(run.json()["id"])


def _execution(stack: Stack, execution_id: str) -> dict[str, Any]:
    with stack.client() as http:
        read = http.get(f"/api/executions/{execution_id}")
        assert read.status_code == 200, read.text
    return dict(read.json())


def _until(stack: Stack, execution_id: str, status: str, node: str | None = None) -> dict[str, Any]:
    """The execution once it has `status` (at `node`, if given)."""
    deadline = time.monotonic() + 60
    while True:
        execution = _execution(stack, execution_id)
        if execution["status"] == status and (node is None or execution["current_node"] == node):
            return execution
        assert time.monotonic() < deadline, f"{execution_id}: {execution['status']}"
        time.sleep(0.2)


def _completed_runs(stack: Stack, flow_id: str, count: int) -> None:
    started = {_run(stack, flow_id, f"Run {n:02d}") for n in range(count)}
    for execution_id in started:
        _until(stack, execution_id, "completed")


def _send_event(stack: Stack, execution_id: str, name: str) -> None:
    with stack.client() as http:
        sent = http.post(f"/api/executions/{execution_id}/events/{name}", json={"data": {}})
        assert sent.status_code == 202, sent.text


# --- the page -----------------------------------------------------------------------------


def _row(page: Page, contact: str) -> Locator:
    return page.locator("tr.execution-row").filter(
        has=page.get_by_role("rowheader").filter(has=page.get_by_text(contact, exact=True))
    )


def _rows(page: Page) -> Locator:
    return page.locator("tr.execution-row")


def _node(page: Page, node_id: str) -> Locator:
    return page.get_by_test_id("flow-diagram").locator(f'.step-node[data-node-id="{node_id}"]')


def _step(page: Page, node_id: str) -> Locator:
    return page.get_by_role("list", name="Timeline").locator(
        f'li.timeline-step[data-node-id="{node_id}"]'
    )


async def _mark_page(page: Page) -> None:
    """A flag in the page's memory: still there later means the page was never reloaded."""
    await page.evaluate("window.__notReloaded = true")


async def _assert_not_reloaded(page: Page) -> None:
    assert await page.evaluate("window.__notReloaded === true"), "the page was reloaded"


async def test_a_manager_watches_filters_cancels_and_exports_executions(
    browsing: Browsing, tmp_path: Path
) -> None:
    page, stack = browsing.page, browsing.stack
    _published(stack, LEAD_FLOW)
    await browsing.sign_in(stack.admin_key)

    # No runs yet: the empty state, and the stream is live.
    await page.get_by_role("link", name="Executions").click()
    await expect(page.get_by_role("heading", name="Executions", exact=True)).to_be_visible()
    await expect(page.get_by_text("No executions yet")).to_be_visible()
    await expect(page.get_by_test_id("live-indicator")).to_have_text("Live")
    await browsing.shoot("01-empty-and-live")
    await _mark_page(page)

    # A lead posted through the API appears at the top, live, waiting for the sales call.
    asha = _post_lead(stack, "Asha Rao", "+919800000001")
    row = _row(page, "Asha Rao")
    await expect(row.get_by_test_id("status")).to_have_text("Waiting")
    await expect(row.get_by_test_id("current-step")).to_have_text("called_back")
    await expect(row).to_contain_text("Lead nurture")
    await expect(row).to_contain_text("v1")
    await expect(row).to_contain_text("+919800000001")
    await browsing.shoot("02-lead-appeared-live")

    # The call is done: the run advances to its hour's pause, still without a reload.
    _send_event(stack, asha, "call.completed")
    await expect(row.get_by_test_id("current-step")).to_have_text("pause")
    await expect(row.get_by_test_id("status")).to_have_text("Waiting")
    await _assert_not_reloaded(page)
    await browsing.shoot("03-run-advanced-live")

    # More runs: two leads, and a test run by hand of a flow made since the page opened.
    quick = _published(stack, QUICK_FLOW)
    for name, phone in (("Bharat Mehta", "+919800000002"), ("Chitra Iyer", "+919800000003")):
        _post_lead(stack, name, phone)
    with stack.client() as http:
        tested = http.post(
            f"/api/flows/{quick}/executions", json={"contact": {"name": "Dev Test"}, "test": True}
        )
        assert tested.status_code == 201, tested.text
    _until(stack, tested.json()["id"], "completed")
    await expect(_rows(page)).to_have_count(4)
    await expect(_row(page, "Dev Test").get_by_test_id("status")).to_have_text("Completed")
    await expect(_row(page, "Dev Test")).to_contain_text("Test")
    await expect(_row(page, "Dev Test")).to_contain_text("Quick check")
    await expect(_rows(page).first).to_contain_text("Dev Test")  # the newest on top
    await _assert_not_reloaded(page)
    await browsing.shoot("04-four-runs")

    # Filters go into the address, and survive a reload.
    await page.get_by_label("Status").select_option(label="Completed")
    await expect(_rows(page)).to_have_count(1)
    await expect(page).to_have_url(f"{stack.url}/executions?status=completed")
    await page.reload()
    await expect(page.get_by_label("Status")).to_have_value("completed")
    await expect(_rows(page)).to_have_count(1)
    await expect(_rows(page).first).to_contain_text("Dev Test")
    await browsing.shoot("05-filtered-completed")
    await page.get_by_label("Status").select_option(label="Waiting")
    await expect(_rows(page)).to_have_count(3)
    await page.get_by_label("Runs").select_option(label="Test runs only")
    await expect(page.get_by_text("No executions match these filters")).to_be_visible()
    await page.get_by_label("Runs").select_option(label="Real runs only")
    await page.get_by_label("Contact").fill("chitra")
    await expect(_rows(page)).to_have_count(1)
    await expect(page).to_have_url(f"{stack.url}/executions?status=waiting&test=false&q=chitra")
    await page.get_by_role("button", name="Clear filters").click()
    await expect(_rows(page)).to_have_count(4)
    await expect(page).to_have_url(f"{stack.url}/executions")

    # Bulk cancel: two picked (one by mouse, one from the keyboard), confirmed, signalled.
    await _mark_page(page)
    await expect(_row(page, "Dev Test").get_by_role("checkbox")).to_be_disabled()
    await _row(page, "Bharat Mehta").get_by_role("checkbox").check()
    chitra_box = _row(page, "Chitra Iyer").get_by_role("checkbox")
    await chitra_box.focus()
    await page.keyboard.press("Space")
    await expect(chitra_box).to_be_checked()
    await expect(page.get_by_text("2 selected")).to_be_visible()
    await browsing.shoot("06-two-selected")
    await page.get_by_role("button", name="Cancel selected").click()
    confirm = page.get_by_role("dialog", name="Cancel 2 executions?")
    await expect(confirm).to_be_visible()
    await browsing.shoot("07-bulk-cancel-confirmation")
    await confirm.get_by_role("button", name="Cancel executions").click()
    signalled = page.get_by_text("Cancel signalled to 2 of 2 selected executions.")
    await expect(signalled).to_be_visible()
    for name in ("Bharat Mehta", "Chitra Iyer"):
        await expect(_row(page, name).get_by_test_id("status")).to_have_text("Cancelled")
    await expect(_row(page, "Asha Rao").get_by_test_id("status")).to_have_text("Waiting")
    await _assert_not_reloaded(page)
    with stack.client() as http:
        cancelled = http.get("/api/executions", params={"status": "cancelled"}).json()["items"]
    assert sorted(e["contact_name"] for e in cancelled) == ["Bharat Mehta", "Chitra Iyer"]
    await browsing.shoot("08-cancelled-live")

    # CSV export with the list's filters: the cancelled ones, as the API has them.
    await page.get_by_label("Status").select_option(label="Cancelled")
    await expect(_rows(page)).to_have_count(2)
    async with page.expect_download() as download_info:
        await page.get_by_role("link", name="Export CSV").click()
    download = await download_info.value
    assert download.suggested_filename == "executions.csv"
    saved = tmp_path / "executions.csv"
    await download.save_as(saved)
    with saved.open(newline="") as file:
        exported = list(csv.DictReader(file))
    assert sorted(r["contact_name"] for r in exported) == ["Bharat Mehta", "Chitra Iyer"]
    assert {r["status"] for r in exported} == {"cancelled"}
    assert {r["id"] for r in exported} == {e["id"] for e in cancelled}


async def test_a_run_s_page_follows_it_cancels_retries_and_completes_its_task(
    browsing: Browsing,
) -> None:
    page, stack = browsing.page, browsing.stack
    _published(stack, LEAD_FLOW)
    review = _published(stack, REVIEW_FLOW)
    texting = _published(stack, TEXT_FLOW)
    asha = _post_lead(stack, "Asha Rao", "+919800000001")
    _until(stack, asha, "waiting", "called_back")
    await browsing.sign_in(stack.admin_key)

    # From the list to the run: who, what, where it is, and its workflow in Temporal.
    await page.goto(f"{stack.url}/executions")
    await _row(page, "Asha Rao").get_by_role("link", name="Asha Rao").click()
    await expect(page).to_have_url(f"{stack.url}/executions/{asha}")
    await expect(page.get_by_role("heading", name="Asha Rao in Lead nurture")).to_be_visible()
    await expect(page.get_by_test_id("execution-status")).to_contain_text("Waiting at called_back")
    temporal = page.get_by_role("link", name="Open in Temporal Web UI")
    await expect(temporal).to_have_attribute("href", _execution(stack, asha)["temporal_url"])
    await expect(temporal).to_have_attribute("target", "_blank")

    # The timeline: the welcome sent, the wait for the call; the path on the canvas.
    welcome = _step(page, "welcome")
    await expect(welcome).to_contain_text("SMS")
    await expect(welcome).to_contain_text("Success")
    await expect(welcome).to_contain_text("→ sent")
    await expect(welcome).to_contain_text("body: Hi {{ contact.name }}, thanks for your enquiry.")
    await expect(welcome).to_contain_text("1 attempt")
    await expect(_step(page, "called_back")).to_contain_text(
        "Waiting for the event “call.completed”"
    )
    await expect(_node(page, "welcome")).to_have_class(_tone("done"))
    await expect(_node(page, "called_back")).to_have_class(_tone("waiting"))
    for untaken in ("brochure", "pause", "done"):
        await expect(_node(page, untaken)).to_have_class(_tone("dim"))
    await expect(page.get_by_test_id("variables")).to_contain_text("Asha Rao")
    await browsing.shoot("01-run-waiting-for-the-call")

    # A step picked on the canvas is picked in the timeline, and the other way round.
    await _node(page, "welcome").click()
    await expect(welcome).to_have_class(re.compile(r"\btimeline-selected\b"))
    await _step(page, "called_back").get_by_role("button", name="called_back").press("Enter")
    await expect(_node(page, "called_back")).to_have_class(re.compile(r"\bstep-node-selected\b"))
    await expect(welcome).not_to_have_class(re.compile(r"\btimeline-selected\b"))

    # The call is done: the page follows the run to its hour's pause, live.
    await _mark_page(page)
    _send_event(stack, asha, "call.completed")
    await expect(_step(page, "pause")).to_contain_text("Waits until")
    await expect(_step(page, "brochure")).to_contain_text("Success")
    await expect(_node(page, "called_back")).to_have_class(_tone("done"))
    await expect(_node(page, "pause")).to_have_class(_tone("waiting"))
    await expect(_node(page, "done")).to_have_class(_tone("dim"))
    await expect(page.get_by_test_id("execution-status")).to_contain_text("Waiting at pause")
    await _assert_not_reloaded(page)
    await browsing.shoot("02-run-advanced-to-the-pause")

    # Cancel from its page, then retry: a new run of the same version opens.
    await page.get_by_role("button", name="Cancel run").click()
    confirm = page.get_by_role("dialog", name="Cancel this run?")
    await confirm.get_by_role("button", name="Cancel run").click()
    await expect(page.get_by_test_id("execution-status")).to_contain_text("Cancelled")
    await expect(page.get_by_role("button", name="Cancel run")).to_have_count(0)
    assert _execution(stack, asha)["status"] == "cancelled"
    await browsing.shoot("03-run-cancelled")
    await page.get_by_role("button", name="Retry").click()
    await expect(page.get_by_text("Started this run again")).to_be_visible()
    await expect(page).not_to_have_url(f"{stack.url}/executions/{asha}")
    retried = page.url.rsplit("/", 1)[-1]
    assert _execution(stack, retried)["retry_of"] == asha
    await expect(page.get_by_role("link", name="the earlier run")).to_have_attribute(
        "href", f"/executions/{asha}"
    )
    await expect(page.get_by_test_id("execution-status")).to_contain_text("Waiting at called_back")
    await browsing.shoot("04-retried")

    # A human task: its form (title, description, fields, choices), completed; the run ends.
    task_run = _run(stack, review, "Meera Shah", "+919800000009")
    _until(stack, task_run, "waiting", "review")
    await page.goto(f"{stack.url}/executions/{task_run}")
    task = page.get_by_role("region", name="Qualify Meera Shah")
    await expect(task).to_contain_text("Call the lead and record what they need.")
    await expect(task).to_contain_text("assigned to sales")
    await expect(task.get_by_label("Budget (required) · number")).to_be_visible()
    segment = task.get_by_label("Segment (required) · choice")
    await expect(segment.locator("option")).to_have_text(["Choose…", "SMB", "Enterprise"])
    await expect(_node(page, "review")).to_have_class(_tone("waiting"))
    await browsing.shoot("05-human-task-form")
    await task.get_by_label("Budget (required) · number").fill("5000")
    await segment.select_option("Enterprise")
    await task.get_by_label("Wants a callback · boolean").check()
    await task.get_by_label("Site visit · date").fill("2026-12-10")
    await task.get_by_role("button", name="Complete task").click()
    completed = page.get_by_text("Completed “Qualify Meera Shah”; the run goes on.")
    await expect(completed).to_be_visible()
    await expect(page.get_by_test_id("execution-status")).to_contain_text("Completed")
    await expect(page.get_by_role("region", name="Qualify Meera Shah")).to_have_count(0)
    await expect(_step(page, "thanks")).to_contain_text("Success")
    await expect(_node(page, "review")).to_have_class(_tone("done"))
    await expect(_node(page, "thanks")).to_have_class(_tone("done"))
    done = _execution(stack, task_run)
    review_step = next(s for s in done["steps"] if s["node_id"] == "review")
    assert review_step["result"]["data"] == {
        "budget": 5000,
        "segment": "Enterprise",
        "callback": True,
        "visit": "2026-12-10",
    }
    await _step(page, "review").get_by_text("Result").click()
    await expect(_step(page, "review")).to_contain_text('"Enterprise"')
    await browsing.shoot("06-human-task-completed")

    # A step that failed: its error in the timeline, the node failed on the canvas.
    no_phone = _run(stack, texting, "No Phone")
    _until(stack, no_phone, "completed")
    await page.goto(f"{stack.url}/executions/{no_phone}")
    failed = _step(page, "text")
    await expect(failed).to_contain_text("Failed")
    await expect(failed).to_contain_text("missing variable contact.phone")
    await expect(_node(page, "text")).to_have_class(_tone("failed"))
    await expect(_node(page, "done")).to_have_class(_tone("done"))
    await browsing.shoot("07-failed-step")

    # An address that is no execution says so.
    await page.goto(f"{stack.url}/executions/not-a-run")
    error = page.get_by_role("alert").filter(has_text="This execution could not be loaded")
    await expect(error).to_contain_text("execution not-a-run not found")
    await expect(error.get_by_role("button", name="Try again")).to_have_count(0)
    browsing.console.take(r"status of 404")
    await browsing.shoot("08-no-such-execution")


async def test_a_viewer_sees_executions_without_controls(browsing: Browsing) -> None:
    page, stack = browsing.page, browsing.stack
    _published(stack, LEAD_FLOW)
    review = _published(stack, REVIEW_FLOW)
    asha = _post_lead(stack, "Asha Rao", "+919800000001")
    task_run = _run(stack, review, "Meera Shah")
    _until(stack, asha, "waiting", "called_back")
    _until(stack, task_run, "waiting", "review")
    _completed_runs(stack, _published(stack, QUICK_FLOW), PAGE + 1)

    # A page at a time: the two waiting runs are the oldest, on the second page.
    await browsing.sign_in(stack.issue_key("viewer"))
    await page.get_by_role("link", name="Executions").click()
    await expect(_rows(page)).to_have_count(PAGE)
    await expect(_row(page, "Asha Rao")).to_have_count(0)
    await page.get_by_role("button", name="Load more").click()
    await expect(_rows(page)).to_have_count(PAGE + 3)
    shown = page.get_by_test_id("shown-count")
    await expect(shown).to_have_text(f"{PAGE + 3} shown, all that match")
    await expect(page.get_by_role("button", name="Load more")).to_have_count(0)
    await page.get_by_label("Status").select_option(label="Waiting")
    await expect(_rows(page)).to_have_count(2)
    await expect(page.get_by_role("checkbox")).to_have_count(0)
    await expect(page.get_by_role("button", name="Cancel selected")).to_have_count(0)
    await expect(page.get_by_role("link", name="Export CSV")).to_be_visible()
    await browsing.shoot("01-viewer-list")

    await _row(page, "Asha Rao").get_by_role("link", name="Asha Rao").click()
    await expect(page.get_by_test_id("execution-status")).to_contain_text("Waiting")
    await expect(_node(page, "called_back")).to_have_class(_tone("waiting"))
    for control in ("Cancel run", "Retry"):
        await expect(page.get_by_role("button", name=control)).to_have_count(0)
    await browsing.shoot("02-viewer-run")

    await page.goto(f"{stack.url}/executions/{task_run}")
    task = page.get_by_role("region", name="Qualify Meera Shah")
    await expect(task.get_by_label("Budget (required) · number")).to_be_disabled()
    await expect(_node(page, "review")).to_have_class(_tone("waiting"))
    await expect(task.get_by_role("button", name="Complete task")).to_have_count(0)
    await expect(task).to_contain_text("a manager or its agent completes it")
    await browsing.shoot("03-viewer-task")

    # Forced with the viewer's session, the API refuses to cancel.
    forced = await page.request.post(
        f"{stack.url}/api/executions/{asha}/cancel", data={}, headers={"Origin": stack.url}
    )
    assert forced.status == 403
    assert _execution(stack, asha)["status"] == "waiting"


def _tone(tone: str) -> re.Pattern[str]:
    """A class list holding the canvas's overlay tone."""
    return re.compile(rf"\bstep-tone-{tone}\b")


async def test_the_list_says_when_the_live_stream_drops(browsing: Browsing) -> None:
    page, stack = browsing.page, browsing.stack
    _published(stack, LEAD_FLOW)
    _post_lead(stack, "Asha Rao", "+919800000001")
    await browsing.sign_in(stack.admin_key)
    await page.get_by_role("link", name="Executions").click()
    await expect(_rows(page)).to_have_count(1)
    await expect(page.get_by_test_id("live-indicator")).to_have_text("Live")

    # The API gone: the list stays as it was, and the indicator says the stream is retrying.
    stack.api.kill()
    indicator = page.get_by_test_id("live-indicator")
    await expect(indicator).to_contain_text("Reconnecting…")
    await expect(indicator).to_contain_text("stream dropped, retrying; nothing is missed")
    await expect(_rows(page)).to_have_count(1)
    await browsing.shoot("01-stream-dropped")
    # The browser logs the broken stream, and each retry while the API is away.
    dropped = [e for e in browsing.console.errors if "/api/events/stream" in e]
    assert dropped, browsing.console.errors
    for error in dropped:
        browsing.console.errors.remove(error)


async def test_the_page_says_so_when_its_code_cannot_be_fetched(browsing: Browsing) -> None:
    page, stack = browsing.page, browsing.stack
    await browsing.sign_in(stack.admin_key)
    await expect(page.get_by_text("No flows yet")).to_be_visible()

    # The API (which serves the page's code too) gone before the page was ever opened, and
    # the one reload the dashboard allows itself for a missing chunk already spent.
    await page.evaluate(
        "sessionStorage.setItem('flowdeck-reloaded-for-new-build', String(Date.now()))"
    )
    stack.api.kill()
    await page.get_by_role("link", name="Executions").click()
    error = page.get_by_role("alert").filter(has_text="The executions page could not be loaded")
    await expect(error).to_contain_text("/assets/")
    await expect(error.get_by_role("button", name="Try again")).to_be_visible()
    await browsing.shoot("01-page-code-unreachable")
    # The browser logs each refused fetch of the page's code and style (and React the error
    # it caught): those are expected, as is any API request the dashboard had in flight, or
    # made, once the API was gone (the overview's analytics, refreshed in the background).
    unreachable = [
        e
        for e in browsing.console.errors
        if "/assets/" in e or ("ERR_CONNECTION_REFUSED" in e and "/api/" in e)
    ]
    assert any("ExecutionsPage" in e for e in unreachable), browsing.console.errors
    for message in unreachable:
        browsing.console.errors.remove(message)


async def test_an_agent_completes_its_own_task_and_is_refused_another_s(
    browsing: Browsing,
) -> None:
    page, stack = browsing.page, browsing.stack
    review = _published(stack, REVIEW_FLOW)
    mine_body = {**REVIEW_FLOW, "name": "Agent review"}
    mine_body["definition"] = {
        **REVIEW_FLOW["definition"],
        "nodes": [
            {**node, "config": {**node["config"], "assignee": "agent key"}}
            if node["id"] == "review"
            else node
            for node in REVIEW_FLOW["definition"]["nodes"]
        ],
    }
    mine = _published(stack, mine_body)
    theirs_run = _run(stack, review, "Meera Shah", "+919800000009")
    mine_run = _run(stack, mine, "Ravi Kumar", "+919800000010")
    _until(stack, theirs_run, "waiting", "review")
    _until(stack, mine_run, "waiting", "review")
    await browsing.sign_in(stack.issue_key("agent"))

    # A task assigned to someone else: the form is there, and the API's refusal is shown.
    await page.goto(f"{stack.url}/executions/{theirs_run}")
    task = page.get_by_role("region", name="Qualify Meera Shah")
    await task.get_by_label("Budget (required) · number").fill("100")
    await task.get_by_label("Segment (required) · choice").select_option("SMB")
    await task.get_by_role("button", name="Complete task").click()
    await expect(task.get_by_role("alert")).to_contain_text(
        "step review is assigned to sales, not to this key"
    )
    browsing.console.take(r"status of 403")
    await expect(page.get_by_role("button", name="Cancel run")).to_have_count(0)
    await browsing.shoot("01-agent-refused")
    assert _execution(stack, theirs_run)["status"] == "waiting"

    # Its own task: completed from the form, the run goes on to the end.
    await page.goto(f"{stack.url}/executions/{mine_run}")
    task = page.get_by_role("region", name="Qualify Ravi Kumar")
    await task.get_by_label("Budget (required) · number").fill("2500")
    await task.get_by_label("Segment (required) · choice").select_option("SMB")
    await task.get_by_role("button", name="Complete task").click()
    await expect(page.get_by_test_id("execution-status")).to_contain_text("Completed")
    await browsing.shoot("02-agent-completed")
    done = _execution(stack, mine_run)
    review_step = next(s for s in done["steps"] if s["node_id"] == "review")
    assert review_step["result"]["data"] == {"budget": 2500, "segment": "SMB", "callback": False}
    assert review_step["result"]["completed_by"] == "agent key"
