"""The Campaigns page's flow assignments in a real browser against the real stack: a manager
assigns a published flow to a campaign's trigger with a priority and a condition, switches it
off and on (each checked through the API, and by firing the trigger through the API: nothing
starts while it is off), is shown the API's 409 for a second assignment of the same flow and
trigger, and removes it; a viewer reads the assignments and finds no edit control, and a
campaign whose assignments the API refuses says so in the API's words, with Try again."""

from __future__ import annotations

import json
from typing import Any

import httpx
import pytest
from playwright.async_api import Page, expect

from tests.dashboard.conftest import Browsing
from tests.dashboard.test_quality import A11Y_PROBLEMS, FOCUSED, LOW_CONTRAST
from tests.processes import REPO

pytestmark = pytest.mark.timeout(300)

SCRIPT: dict[str, Any] = json.loads((REPO / "examples" / "campaign_script.json").read_text())
DRAFT: dict[str, Any] = {
    "name": "Win-back script",
    "trigger": {"type": "campaign", "campaign_trigger": "inbound_start"},
    "definition": {"start": "done", "nodes": [{"id": "done", "type": "end"}]},
}
CALL = {
    "call_id": "CA-dash-1",
    "agent_id": "agent-9",
    "trigger": "manual",
    "contact": {"name": "Kiran Rao", "phone": "+15550100009", "email": "kiran@example.com"},
}


def _ok(response: httpx.Response, status: int = 200) -> Any:
    assert response.status_code == status, response.text
    return response.json() if response.content else None


def _seed(http: httpx.Client) -> dict[str, str]:
    """Two campaigns, the published campaign script and a draft flow never published."""
    script = _ok(http.post("/api/flows", json=SCRIPT), 201)["id"]
    _ok(http.post(f"/api/flows/{script}/versions/1/publish"))
    draft = _ok(http.post("/api/flows", json=DRAFT), 201)["id"]
    renewals = _ok(http.post("/api/campaigns", json={"name": "Renewals"}), 201)["id"]
    _ok(http.post("/api/campaigns", json={"name": "Spring push"}), 201)
    return {"script": script, "draft": draft, "renewals": renewals}


def _assignments(http: httpx.Client, campaign_id: str) -> list[dict[str, Any]]:
    return list(_ok(http.get(f"/api/campaigns/{campaign_id}/flows")))


def _fire(http: httpx.Client, campaign_id: str) -> dict[str, Any]:
    return dict(_ok(http.post(f"/api/campaigns/{campaign_id}/flows/trigger", json=CALL)))


def _runs(http: httpx.Client, flow_id: str) -> list[dict[str, Any]]:
    return list(_ok(http.get("/api/executions", params={"flow_id": flow_id}))["items"])


async def _well_made(page: Page, what: str) -> None:
    """What a screen reader needs, and text that can be read (test_quality's checks)."""
    assert await page.evaluate(A11Y_PROBLEMS) == [], f"{what}: accessibility problems"
    assert await page.evaluate(LOW_CONTRAST) == [], f"{what}: text hard to read"


async def _tab_to(page: Page, label: str) -> None:
    """Tab forward until the control named `label` has the focus, ringed and on screen."""
    for _ in range(12):
        await page.keyboard.press("Tab")
        focused = await page.evaluate(FOCUSED)
        if focused and focused["label"] == label:
            assert focused["indicator"] and focused["inView"], focused
            return
    raise AssertionError(f"{label!r} is not reachable by Tab")


async def test_a_manager_assigns_a_flow_to_a_campaign_switches_it_and_removes_it(
    browsing: Browsing,
) -> None:
    page, stack = browsing.page, browsing.stack
    with stack.client() as http:
        ids = _seed(http)
    await browsing.sign_in(stack.issue_key("manager"))
    await page.get_by_role("link", name="Campaigns").click()
    explained = page.get_by_role("list", name="How each trigger fires")
    await expect(explained).to_contain_text("Outbound start: an ai_call step of a run for the")
    await expect(explained).to_contain_text("Inbound start: a call comes in to a phone number")
    await expect(explained).to_contain_text("Manual: POST /api/campaigns/{id}/flows/trigger")
    await expect(page.get_by_text("nothing fires it yet")).to_have_count(0)
    renewals = page.get_by_role("region", name="Renewals", exact=True)
    await expect(renewals).to_contain_text("No flow assigned")
    await _well_made(page, "nothing assigned")
    await browsing.shoot("01-nothing-assigned")

    # The dialog by keyboard: Enter opens it with the focus inside, Escape gives it back.
    assign = renewals.get_by_role("button", name="Assign a flow to Renewals")
    await assign.focus()
    await page.keyboard.press("Enter")
    dialog = page.get_by_role("dialog", name="Assign a flow to Renewals")
    await expect(dialog.get_by_label("Flow")).to_be_focused()
    await _well_made(page, "the assign dialog")
    await page.keyboard.press("Escape")
    await expect(dialog).to_have_count(0)
    await expect(assign).to_be_focused()

    # Assign the script for manual firing, with a priority, for agent-9's calls only.
    await assign.click()
    await dialog.get_by_label("Flow").select_option(ids["script"])
    # The flow was written for outbound_start: that is suggested, and may be changed.
    await expect(dialog.get_by_label("Trigger")).to_have_value("outbound_start")
    await dialog.get_by_label("Trigger").select_option("manual")
    await expect(dialog).to_contain_text("Starts when fired through the API.")
    await dialog.get_by_label("Priority (optional)").fill("5")
    await dialog.get_by_role("button", name="Add condition").click()
    condition = dialog.get_by_role("group", name="Condition 1")
    # A field that is neither the call's nor the contact's: the API's 422, at its path.
    await condition.get_by_label("Field").fill("agent")
    await condition.get_by_label("Value").fill("agent-9")
    await dialog.get_by_role("button", name="Assign flow").click()
    await expect(dialog.get_by_role("alert")).to_contain_text("$.conditions[0].field")
    browsing.console.take(r"status of 422")
    await browsing.shoot("02-condition-refused")
    await condition.get_by_label("Field").fill("trigger.agent_id")
    await browsing.shoot("02-assign-dialog-filled")
    await dialog.get_by_role("button", name="Assign flow").click()
    await expect(renewals.get_by_role("status")).to_contain_text(
        "Assigned “Renewal campaign script” to Renewals: it starts when fired through the API."
    )
    table = renewals.get_by_role("table", name="Flows assigned to Renewals")
    row = table.locator("tr.assignment-row")
    await expect(row).to_have_count(1)
    for text in ("Renewal campaign script", "Manual", "when fired through the API", "5"):
        await expect(row).to_contain_text(text)
    await expect(row).to_contain_text("the agent is “agent-9”")
    switch = row.get_by_role("switch", name="Renewal campaign script (manual) active")
    await expect(switch).to_have_attribute("aria-checked", "true")
    with stack.client() as http:
        [stored] = _assignments(http, ids["renewals"])
    assert (stored["flow_id"], stored["trigger"], stored["priority"], stored["active"]) == (
        ids["script"],
        "manual",
        5,
        True,
    )
    assert stored["conditions"] == [{"field": "trigger.agent_id", "op": "eq", "value": "agent-9"}]
    # The other campaign is untouched.
    spring = page.get_by_role("region", name="Spring push", exact=True)
    await expect(spring).to_contain_text("No flow assigned")

    await _well_made(page, "an assignment")

    # Off, by keyboard: the API says inactive, and firing the trigger starts nothing.
    await assign.focus()
    await _tab_to(page, "Renewal campaign script (manual) active")
    await page.keyboard.press("Space")
    await expect(switch).to_have_attribute("aria-checked", "false")
    await expect(renewals.get_by_role("status")).to_contain_text("is inactive for manual")
    with stack.client() as http:
        assert [a["active"] for a in _assignments(http, ids["renewals"])] == [False]
        fired = _fire(http, ids["renewals"])
        assert fired["status"] == "no_match", fired
        assert _runs(http, ids["script"]) == []
    await browsing.shoot("03-switched-off")

    # On again: the same call starts the script.
    await switch.click()
    await expect(switch).to_have_attribute("aria-checked", "true")
    with stack.client() as http:
        assert [a["active"] for a in _assignments(http, ids["renewals"])] == [True]
        fired = _fire(http, ids["renewals"])
        assert (fired["status"], fired["flow_id"]) == ("started", ids["script"]), fired
        assert [run["id"] for run in _runs(http, ids["script"])] == [fired["execution_id"]]

    # The same flow for the same trigger again: the API's 409, in the dialog.
    await renewals.get_by_role("button", name="Assign a flow to Renewals").click()
    dialog = page.get_by_role("dialog", name="Assign a flow to Renewals")
    await dialog.get_by_label("Flow").select_option(ids["script"])
    await dialog.get_by_label("Trigger").select_option("manual")
    await dialog.get_by_role("button", name="Assign flow").click()
    await expect(dialog.get_by_role("alert")).to_have_text(
        "this flow is already assigned to the campaign for manual"
    )
    browsing.console.take(r"status of 409")
    await browsing.shoot("04-duplicate-refused")
    await dialog.get_by_role("button", name="Cancel").click()
    await expect(dialog).to_have_count(0)

    # A flow that is not published may be assigned, and the page says it never starts.
    await renewals.get_by_role("button", name="Assign a flow to Renewals").click()
    dialog = page.get_by_role("dialog", name="Assign a flow to Renewals")
    await dialog.get_by_label("Flow").select_option(ids["draft"])
    await expect(dialog.get_by_label("Trigger")).to_have_value("inbound_start")
    await expect(dialog).to_contain_text("This flow is not published")
    await dialog.get_by_role("button", name="Assign flow").click()
    await expect(row).to_have_count(2)
    draft_row = row.filter(has_text="Win-back script")
    await expect(draft_row).to_contain_text("not published: never starts")
    await expect(draft_row).to_contain_text(
        "when someone calls a number deployed with the campaign"
    )
    await expect(draft_row).to_contain_text("every call")

    # Its priority changed in place.
    await draft_row.get_by_role("button", name="Edit Win-back script (inbound start)").click()
    dialog = page.get_by_role("dialog", name="Edit “Win-back script” in Renewals")
    await dialog.get_by_label("Priority (optional)").fill("2")
    await browsing.shoot("05-edit-dialog")
    await dialog.get_by_role("button", name="Save").click()
    await expect(renewals.get_by_role("status")).to_contain_text("Saved “Win-back script”")
    await expect(draft_row.locator("td").nth(1)).to_have_text("2")
    await _well_made(page, "two assignments")
    with stack.client() as http:
        by_flow = {a["flow_id"]: a for a in _assignments(http, ids["renewals"])}
    assert by_flow[ids["draft"]]["priority"] == 2
    await browsing.shoot("06-assignments")

    # Removed after a confirmation.
    script_row = row.filter(has_text="Renewal campaign script")
    await script_row.get_by_role("button", name="Remove Renewal campaign script (manual)").click()
    confirm = page.get_by_role("dialog", name="Remove “Renewal campaign script” from Renewals?")
    await browsing.shoot("07-remove-confirmation")
    await confirm.get_by_role("button", name="Remove flow").click()
    await expect(renewals.get_by_role("status")).to_contain_text(
        "Removed “Renewal campaign script” from Renewals."
    )
    await expect(row).to_have_count(1)
    with stack.client() as http:
        assert [a["flow_id"] for a in _assignments(http, ids["renewals"])] == [ids["draft"]]
        assert _fire(http, ids["renewals"])["status"] == "no_match"


async def test_a_viewer_reads_a_campaigns_flows_and_finds_no_edit_control(
    browsing: Browsing,
) -> None:
    page, stack = browsing.page, browsing.stack
    with stack.client() as http:
        ids = _seed(http)
        body = {
            "flow_id": ids["script"],
            "trigger": "outbound_start",
            "priority": 1,
            "conditions": [{"field": "tags", "op": "any", "value": ["vip", "renewal"]}],
            "active": False,
        }
        _ok(http.post(f"/api/campaigns/{ids['renewals']}/flows", json=body), 201)
    await browsing.sign_in(stack.issue_key("viewer"))

    # A campaign's assignments the API will not give: its own error, in the API's words.
    refusal = {"error": {"code": "unavailable", "message": "the database is being migrated"}}
    await page.route(
        "**/api/campaigns/*/flows", lambda route: route.fulfill(status=503, json=refusal)
    )
    await page.get_by_role("link", name="Campaigns").click()
    renewals = page.get_by_role("region", name="Renewals", exact=True)
    error = renewals.get_by_role("alert")
    await expect(error).to_contain_text("The flows assigned to Renewals could not be loaded")
    await expect(error).to_contain_text("the database is being migrated")
    browsing.console.take(r"status of 503", count=2)  # one per campaign
    await browsing.shoot("01-assignments-refused")
    await page.unroute("**/api/campaigns/*/flows")
    await error.get_by_role("button", name="Try again").click()
    spring = page.get_by_role("region", name="Spring push", exact=True)
    await spring.get_by_role("button", name="Try again").click()
    await expect(spring).to_contain_text("No flow assigned")
    await expect(page.locator("main").get_by_role("alert")).to_have_count(0)
    row = renewals.get_by_role("table", name="Flows assigned to Renewals").locator(
        "tr.assignment-row"
    )
    await expect(row).to_contain_text("Renewal campaign script")
    await expect(row).to_contain_text("when an outbound campaign call is answered")
    await expect(row).to_contain_text("the contact's tags include one of “vip”, “renewal”")
    await expect(row).to_contain_text("Off")
    await expect(page.get_by_role("switch")).to_have_count(0)
    await expect(page.get_by_role("button", name="Assign a flow to Renewals")).to_have_count(0)
    for control in ("Edit", "Remove"):
        await expect(page.get_by_role("button", name=control)).to_have_count(0)
    await browsing.shoot("02-viewer-campaign-flows")
