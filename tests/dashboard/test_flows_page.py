"""The Flows page in a real browser against the real stack: signing in and out, the list
with its statuses, triggers and last week's runs, and every change it offers (create,
enable and disable, reorder by dragging and by keyboard, duplicate, export, delete, import),
each checked through the API afterwards; a viewer sees no edit control and the API refuses
the change anyway; with the API gone, the page says so."""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

import httpx
import pytest
from playwright.async_api import Locator, Page, expect

from tests.dashboard.conftest import Browsing, Stack
from tests.processes import REPO

pytestmark = pytest.mark.timeout(300)

LEAD_EXAMPLE = REPO / "examples" / "lead_engagement.json"
QUICK_FLOW = {
    "name": "Quick follow-up",
    "description": "Ends at once: a flow whose runs complete.",
    "trigger": {"type": "manual"},
    "definition": {"start": "done", "nodes": [{"id": "done", "type": "end"}]},
}


def _flows(http: httpx.Client) -> dict[str, dict[str, Any]]:
    listed = http.get("/api/flows")
    assert listed.status_code == 200, listed.text
    return {flow["name"]: flow for flow in listed.json()}


def _published_with_runs(stack: Stack, body: dict[str, Any], runs: int) -> str:
    """A published flow with `runs` completed executions (not test runs: they count)."""
    with stack.client() as http:
        created = http.post("/api/flows", json=body)
        assert created.status_code == 201, created.text
        flow_id = str(created.json()["id"])
        published = http.post(f"/api/flows/{flow_id}/versions/1/publish")
        assert published.status_code == 200, published.text
        started = []
        for n in range(runs):
            run = http.post(f"/api/flows/{flow_id}/executions", json={"contact": {"name": f"c{n}"}})
            assert run.status_code == 201, run.text
            started.append(run.json()["id"])
        for execution_id in started:
            _until_completed(http, execution_id)
    return flow_id


def _until_completed(http: httpx.Client, execution_id: str) -> None:
    deadline = time.monotonic() + 60
    while (status := http.get(f"/api/executions/{execution_id}").json()["status"]) != "completed":
        assert time.monotonic() < deadline, f"execution {execution_id} still {status}"
        time.sleep(0.2)


def _row(page: Page, name: str) -> Locator:
    return page.locator("tr.flow-row").filter(
        has=page.get_by_role("rowheader").filter(has=page.get_by_text(name, exact=True))
    )


def _lead_names(page: Page) -> Locator:
    return page.get_by_role("table", name="Lead flows, by priority").locator(
        ".flow-name > span:first-child"
    )


async def test_a_manager_walks_the_flows_page(browsing: Browsing, tmp_path: Path) -> None:
    page, stack = browsing.page, browsing.stack

    # Signing in: a wrong key is refused with the API's reason, the right one lets in.
    await page.goto(stack.url + "/")
    await expect(page.get_by_role("heading", name="Sign in to Flowdeck")).to_be_visible()
    await browsing.shoot("01-sign-in")
    await page.get_by_label("API key").fill("fd_not-a-key")
    await page.get_by_role("button", name="Sign in").click()
    await expect(page.get_by_role("alert")).to_have_text("unknown or revoked API key")
    browsing.console.take(r"status of 401")
    await browsing.shoot("02-sign-in-refused")
    await page.get_by_label("API key").fill(stack.admin_key)
    await page.get_by_role("button", name="Sign in").click()

    # No flows yet: the empty state says what to do.
    await expect(page.get_by_text("No flows yet")).to_be_visible()
    await expect(page.get_by_test_id("key-role")).to_have_text("Admin")
    await expect(page.get_by_test_id("tenant-name")).to_have_text("Default")
    await browsing.shoot("03-flows-empty")

    # Import an example file as it is: it lands among the lead flows, priority 1.
    await page.get_by_test_id("import-file").set_input_files(LEAD_EXAMPLE)
    await expect(page.get_by_text('Imported "IndiaMART lead follow-up"')).to_be_visible()
    lead = _row(page, "IndiaMART lead follow-up")
    await expect(lead.locator(".rank")).to_have_text("1")
    await expect(lead).to_contain_text("New lead · lead_source eq IndiaMART")
    await expect(lead).to_contain_text("Draft")

    # A published flow with two completed runs shows them, and its success rate.
    _published_with_runs(stack, QUICK_FLOW, runs=2)
    await page.reload()
    quick = _row(page, "Quick follow-up")
    await expect(quick).to_contain_text("Published v1")
    await expect(quick.get_by_test_id("runs")).to_have_text("2 runs")
    await expect(quick.get_by_test_id("success")).to_have_text("100% success")
    await expect(lead.get_by_test_id("runs")).to_have_text("0 runs")

    # Create a second lead flow through the dialog.
    await page.get_by_role("button", name="New flow").click()
    dialog = page.get_by_role("dialog", name="New flow")
    await dialog.get_by_label("Name").fill("Trade show leads")
    await dialog.get_by_label("Description (optional)").fill("Leads met at the trade show")
    await dialog.get_by_label("Started by").select_option(label="New lead")
    await browsing.shoot("04-new-flow-dialog")
    await dialog.get_by_role("button", name="Create flow").click()
    await expect(page.get_by_text('Created "Trade show leads" as a draft.')).to_be_visible()
    await expect(_lead_names(page)).to_have_text(["IndiaMART lead follow-up", "Trade show leads"])
    with stack.client() as http:
        created = _flows(http)["Trade show leads"]
    assert created["trigger"] == {"type": "lead_created"}
    assert created["published_version"] is None

    # Disable, then enable again: the switch says so and the API agrees.
    switch = quick.get_by_role("switch", name="Quick follow-up enabled")
    await expect(switch).to_have_attribute("aria-checked", "true")
    await switch.click()
    await expect(switch).to_have_attribute("aria-checked", "false")
    with stack.client() as http:
        assert _flows(http)["Quick follow-up"]["enabled"] is False
    await browsing.shoot("05-flow-disabled")
    await switch.click()
    await expect(switch).to_have_attribute("aria-checked", "true")
    with stack.client() as http:
        assert _flows(http)["Quick follow-up"]["enabled"] is True

    # Drag the trade-show flow above the IndiaMART one: it gets priority 1.
    trade = _row(page, "Trade show leads")
    await trade.locator(".drag-handle").drag_to(lead)
    await expect(page.get_by_text('"Trade show leads" is now priority 1 of 2.')).to_be_visible()
    await expect(_lead_names(page)).to_have_text(["Trade show leads", "IndiaMART lead follow-up"])
    with stack.client() as http:
        flows = _flows(http)
    assert flows["Trade show leads"]["priority"] == 1
    assert flows["IndiaMART lead follow-up"]["priority"] == 2
    await browsing.shoot("06-reordered-by-drag")

    # The keyboard does the same: ArrowDown on the handle moves it back, focus stays on it.
    handle = _row(page, "Trade show leads").locator(".drag-handle")
    await handle.focus()
    await page.keyboard.press("ArrowDown")
    await expect(page.get_by_text('"Trade show leads" is now priority 2 of 2.')).to_be_visible()
    await expect(_lead_names(page)).to_have_text(["IndiaMART lead follow-up", "Trade show leads"])
    await expect(_row(page, "Trade show leads").locator(".drag-handle")).to_be_focused()
    with stack.client() as http:
        flows = _flows(http)
    assert flows["IndiaMART lead follow-up"]["priority"] == 1
    assert flows["Trade show leads"]["priority"] == 2
    await browsing.shoot("07-reordered-by-keyboard")

    # Duplicate: a disabled copy with no priority and the same definition.
    await lead.get_by_role("button", name="Duplicate IndiaMART lead follow-up").click()
    copy_name = "IndiaMART lead follow-up (copy)"
    await expect(page.get_by_text(f'Created "{copy_name}", disabled')).to_be_visible()
    await expect(_row(page, copy_name).get_by_role("switch")).to_have_attribute(
        "aria-checked", "false"
    )
    example = json.loads(LEAD_EXAMPLE.read_text())
    with stack.client() as http:
        copy = _flows(http)[copy_name]
        assert copy["enabled"] is False and copy["priority"] is None
        version = http.get(f"/api/flows/{copy['id']}/versions/1").json()
    assert version["definition"] == example["definition"]
    await browsing.shoot("08-duplicated")

    # Export: the file is the example's shape, its settings and definition.
    async with page.expect_download() as download_info:
        await lead.get_by_role("button", name="Export IndiaMART lead follow-up").click()
    download = await download_info.value
    assert download.suggested_filename == "indiamart_lead_follow_up.json"
    exported_path = tmp_path / download.suggested_filename
    await download.save_as(exported_path)
    exported = json.loads(exported_path.read_text())
    for setting in ("name", "description", "enabled", "priority", "trigger", "cooldown_minutes"):
        assert exported[setting] == example[setting], setting
    assert exported["definition"] == example["definition"]

    # Delete, after saying yes in the confirmation; the API no longer has it.
    lead_id = await lead.get_attribute("data-flow-id")
    await lead.get_by_role("button", name="Delete IndiaMART lead follow-up").click()
    confirm = page.get_by_role("dialog", name='Delete "IndiaMART lead follow-up"?')
    await expect(confirm).to_be_visible()
    await browsing.shoot("09-delete-confirmation")
    await confirm.get_by_role("button", name="Delete flow").click()
    await expect(page.get_by_text('Deleted "IndiaMART lead follow-up".')).to_be_visible()
    await expect(_row(page, "IndiaMART lead follow-up")).to_have_count(0)
    with stack.client() as http:
        assert http.get(f"/api/flows/{lead_id}").status_code == 404

    # The exported file imports as it is: the flow is back, with its priority.
    await page.get_by_test_id("import-file").set_input_files(exported_path)
    await expect(page.get_by_text('Imported "IndiaMART lead follow-up"')).to_be_visible()
    await expect(_row(page, "IndiaMART lead follow-up").locator(".rank")).to_have_text("1")
    await browsing.shoot("10-flows-list")

    # A file that is not a flow, and one the API refuses: each says why.
    broken = tmp_path / "broken.json"
    broken.write_text("{not json")
    await page.get_by_test_id("import-file").set_input_files(broken)
    await expect(page.get_by_role("alert")).to_contain_text("The file is not JSON")
    invalid = tmp_path / "invalid.json"
    invalid.write_text(json.dumps({"name": "Bad", "definition": {"start": "x", "nodes": []}}))
    await page.get_by_test_id("import-file").set_input_files(invalid)
    alert = page.get_by_role("alert")
    await expect(alert).to_contain_text("Importing invalid.json failed")
    await expect(alert.locator("code").first).to_contain_text("$.definition")
    browsing.console.take(r"status of 422")
    await browsing.shoot("11-import-refused")

    # Another page, loaded with its own code; a client-side address loads the app directly.
    reimported_id = await _row(page, "IndiaMART lead follow-up").get_attribute("data-flow-id")
    await page.get_by_role("link", name="Executions").click()
    await expect(page.get_by_role("heading", name="Executions", exact=True)).to_be_visible()
    await page.goto(f"{stack.url}/flows/{reimported_id}")
    await expect(page.get_by_role("heading", name="IndiaMART lead follow-up")).to_be_visible()

    # Signing out ends the session: the API refuses the cookie from now on.
    await page.get_by_role("button", name="Sign out").click()
    await expect(page.get_by_text("You are signed out.")).to_be_visible()
    refused = await page.request.get(f"{stack.url}/api/session")
    assert refused.status == 401


async def test_a_viewer_sees_no_edit_control_and_the_api_refuses_a_forced_change(
    browsing: Browsing,
) -> None:
    page, stack = browsing.page, browsing.stack
    body = json.loads(LEAD_EXAMPLE.read_text())
    lead_id = _published_with_runs(stack, body, runs=0)
    _published_with_runs(stack, QUICK_FLOW, runs=1)

    await browsing.sign_in(stack.issue_key("viewer"))
    await expect(page.get_by_test_id("key-role")).to_have_text("Viewer")
    await expect(page.get_by_test_id("key-name")).to_have_text("viewer key")
    lead = _row(page, "IndiaMART lead follow-up")
    await expect(lead).to_contain_text("Published v1")
    await expect(_row(page, "Quick follow-up").get_by_test_id("runs")).to_have_text("1 run")
    await browsing.shoot("01-viewer-flows")

    for control in ("New flow", "Import JSON", "Duplicate", "Delete"):
        await expect(page.get_by_role("button", name=control)).to_have_count(0)
    await expect(page.get_by_role("switch")).to_have_count(0)
    await expect(page.locator(".drag-handle")).to_have_count(0)
    await expect(lead.get_by_role("button", name="Export IndiaMART lead follow-up")).to_be_visible()
    await expect(lead).to_contain_text("On")

    # Forced through the browser's own session (the cookie, our Origin), the API refuses.
    forced = await page.request.patch(
        f"{stack.url}/api/flows/{lead_id}",
        data={"enabled": False},
        headers={"Origin": stack.url},
    )
    assert forced.status == 403
    assert "manager" in (await forced.json())["error"]["message"]
    with stack.client() as http:
        assert http.get(f"/api/flows/{lead_id}").json()["enabled"] is True

    # The API gone: the page says it cannot reach it, and offers to try again.
    stack.api.kill()
    # Away to an address no page has (the other pages load their code from the API, gone
    # now), then back to the Flows page, which asks the API again.
    await page.evaluate(
        "history.pushState(null, '', '/nowhere'); dispatchEvent(new PopStateEvent('popstate'))"
    )
    await expect(page.get_by_role("heading", name="No such page")).to_be_visible()
    await page.get_by_role("link", name="Flows", exact=True).click()
    error = page.get_by_role("alert").filter(has_text="The flows could not be loaded")
    await expect(error).to_contain_text("Cannot reach the Flowdeck API")
    await expect(error.get_by_role("button", name="Try again")).to_be_visible()
    browsing.console.take(r"ERR_CONNECTION_REFUSED", count=2)  # the flows and their figures
    await browsing.shoot("02-api-unreachable")


async def test_a_scheduled_or_event_flow_is_created_with_what_it_needs_to_fire(
    browsing: Browsing,
) -> None:
    """A schedule needs its cron, an event trigger its name and a campaign trigger which of
    a campaign's triggers it is for (the API refuses them without): the dialog asks for
    them, and the stored trigger has them."""
    page, stack = browsing.page, browsing.stack
    await browsing.sign_in(stack.admin_key)

    await page.get_by_role("button", name="New flow").click()
    dialog = page.get_by_role("dialog", name="New flow")
    await dialog.get_by_label("Name").fill("Morning digest")
    await dialog.get_by_label("Started by").select_option(label="Schedule")
    await dialog.get_by_label("Cron (minute hour day month weekday)").fill("not a cron")
    await dialog.get_by_role("button", name="Create flow").click()
    await expect(dialog.get_by_role("alert")).to_contain_text("$.trigger.cron")
    browsing.console.take(r"status of 422")  # the refusal, as the browser logs it
    await browsing.shoot("01-schedule-refused")
    await dialog.get_by_label("Cron (minute hour day month weekday)").fill("30 8 * * 1-5")
    await dialog.get_by_role("button", name="Create flow").click()
    await expect(page.get_by_text('Created "Morning digest" as a draft.')).to_be_visible()

    await page.get_by_role("button", name="New flow").click()
    dialog = page.get_by_role("dialog", name="New flow")
    await dialog.get_by_label("Name").fill("Order status")
    await dialog.get_by_label("Started by").select_option(label="Event")
    create = dialog.get_by_role("button", name="Create flow")
    await expect(create).to_be_disabled()
    await dialog.get_by_label("Event name").fill("order.created")
    await browsing.shoot("02-event-flow")
    await create.click()
    await expect(page.get_by_text('Created "Order status" as a draft.')).to_be_visible()

    await page.get_by_role("button", name="New flow").click()
    dialog = page.get_by_role("dialog", name="New flow")
    await dialog.get_by_label("Name").fill("Renewal script")
    await dialog.get_by_label("Started by").select_option(label="Campaign")
    await dialog.get_by_label("Campaign trigger").select_option("inbound_start")
    await dialog.get_by_role("button", name="Create flow").click()
    await expect(page.get_by_text('Created "Renewal script" as a draft.')).to_be_visible()

    with stack.client() as http:
        flows = _flows(http)
    assert flows["Renewal script"]["trigger"] == {
        "type": "campaign",
        "campaign_trigger": "inbound_start",
    }
    assert flows["Morning digest"]["trigger"]["type"] == "schedule"
    assert flows["Morning digest"]["trigger"]["cron"] == "30 8 * * 1-5"
    assert flows["Order status"]["trigger"]["type"] == "event"
    assert flows["Order status"]["trigger"]["event"] == "order.created"
