"""The builder's actions in a real browser against the real stack: test mode lights the path a
contact would take and shows what each step would send; publishing (refused for an unfinished
draft, with the problems' paths); version history with a side-by-side diff and a rollback;
deploying a menu flow to a phone number; a viewer sees versions and diffs and no control that
changes anything. Every change is checked through the API afterwards."""

from __future__ import annotations

import copy
import json
import re
from typing import Any

import httpx
import pytest
from playwright.async_api import Locator, Page, expect

from tests.dashboard.conftest import Browsing, Stack
from tests.processes import REPO

pytestmark = pytest.mark.timeout(300)

LEAD_EXAMPLE = json.loads((REPO / "examples" / "lead_engagement.json").read_text())
ASHA = {
    "Name": "Asha Rao",
    "Phone": "+919800000001",
    "Email": "asha@example.com",
    "Lead source": "IndiaMART",
}
RAVI = {
    "name": "Ravi Kumar",
    "phone": "+919800000002",
    "email": "ravi@example.com",
    "lead_source": "Website",
}
# A Monday, 11:30 in Kolkata: inside the flow's business hours (the browser runs in UTC).
MONDAY_MORNING = "2030-05-06T06:00"
MENU_FLOW = {
    "name": "Front desk",
    "description": "Press 1 to reach the front desk.",
    "trigger": {"type": "call_incoming"},
    "definition": {
        "start": "menu",
        "nodes": [
            {
                "id": "menu",
                "type": "gather",
                "config": {"prompt": "Press 1 for the front desk.", "num_digits": 1},
                "transitions": {"input": "desk", "timeout": "bye"},
            },
            {
                "id": "desk",
                "type": "transfer",
                "config": {"number": "+15550109999"},
                "transitions": {"no_answer": "bye", "failed": "bye"},
            },
            {"id": "bye", "type": "end"},
        ],
    },
}
AFTER_HOURS_FLOW = {
    "name": "After hours",
    "trigger": {"type": "call_incoming"},
    "definition": {"start": "done", "nodes": [{"id": "done", "type": "end"}]},
}


def _api(stack: Stack) -> httpx.Client:
    return stack.client()


def _created(response: httpx.Response) -> dict[str, Any]:
    assert response.status_code in (200, 201), response.text
    body: dict[str, Any] = response.json()
    return body


def _lead_flow(stack: Stack) -> str:
    with _api(stack) as http:
        return str(_created(http.post("/api/flows", json=LEAD_EXAMPLE))["id"])


def _published(stack: Stack, body: dict[str, Any]) -> str:
    with _api(stack) as http:
        flow_id = str(_created(http.post("/api/flows", json=body))["id"])
        _created(http.post(f"/api/flows/{flow_id}/versions/1/publish"))
    return flow_id


def _flow(stack: Stack, flow_id: str) -> dict[str, Any]:
    with _api(stack) as http:
        return _created(http.get(f"/api/flows/{flow_id}"))


def _node(definition: dict[str, Any], node_id: str) -> dict[str, Any]:
    node: dict[str, Any] = next(n for n in definition["nodes"] if n["id"] == node_id)
    return node


async def _open_builder(page: Page, stack: Stack, flow_id: str) -> None:
    await page.goto(f"{stack.url}/flows/{flow_id}")
    await expect(page.get_by_role("group", name="Flow actions")).to_be_visible()
    await expect(page.locator(".step-node").first).to_be_visible()


def _drawer(page: Page, title: str) -> Locator:
    return page.get_by_role("dialog", name=title)


def _node_on_canvas(page: Page, node_id: str) -> Locator:
    return page.locator(f'.step-node[data-node-id="{node_id}"]')


async def test_test_mode_lights_the_path_and_publishing_compares_and_rolls_back(
    browsing: Browsing,
) -> None:
    page, stack = browsing.page, browsing.stack
    flow_id = _lead_flow(stack)
    await browsing.sign_in(stack.admin_key)
    await _open_builder(page, stack, flow_id)
    await browsing.shoot("01-builder-with-actions")

    # Test mode with a stored contact, whose call is answered (the default): tagged, done.
    with _api(stack) as http:
        _created(http.post("/api/contacts", json=RAVI))
    await page.get_by_role("button", name="Test", exact=True).click()
    panel = _drawer(page, "Test mode")
    await expect(panel).to_be_visible()
    await panel.get_by_label("When the run starts (optional, your time)").fill(MONDAY_MORNING)
    await panel.get_by_label("A stored contact").check()
    await panel.get_by_label("Search contacts").fill("Ravi")
    await panel.get_by_role("radio", name="Ravi Kumar · +919800000002").check()
    await panel.get_by_role("button", name="Run test").click()
    steps = panel.get_by_role("list", name="Steps of the test run").get_by_role("listitem")
    await expect(steps).to_have_count(3)
    await expect(steps.nth(0)).to_contain_text("→ answered")
    await expect(steps.nth(0)).to_contain_text("+919800000002")
    await expect(_node_on_canvas(page, "qualified")).to_have_class(_has("step-tone-lit"))
    await expect(_node_on_canvas(page, "wa")).to_have_class(_has("step-tone-dim"))
    await expect(panel.get_by_role("heading", name="Cost estimate: $0.014")).to_be_visible()
    await browsing.shoot("02-test-mode-stored-contact")

    # A typed contact whose call is missed goes WhatsApp, pause, email.
    await panel.get_by_label("Type one").check()
    for label, value in ASHA.items():
        await panel.get_by_label(label, exact=True).fill(value)
    await panel.get_by_label("Calls").select_option("missed")
    await browsing.shoot("03-test-mode-form")
    await panel.get_by_role("button", name="Run test").click()
    await expect(steps).to_have_count(5)
    await expect(
        panel.get_by_role("heading", name="The run completes after 5 steps")
    ).to_be_visible()
    await expect(steps.nth(0)).to_contain_text("→ missed")
    whatsapp = steps.nth(1)
    await expect(whatsapp).to_contain_text("lead_followup")
    await expect(whatsapp).to_contain_text('"1": "Asha Rao"')
    await expect(whatsapp).to_contain_text('"2": "Acme Pumps"')
    await expect(steps.nth(2)).to_contain_text("Waits until")
    email = steps.nth(3)
    await expect(email).to_contain_text("asha@example.com")
    await expect(email).to_contain_text("Your enquiry with Acme Pumps")
    await expect(email).to_contain_text("Hello Asha Rao,")
    await expect(email).to_contain_text("Thanks for your enquiry about our products.")
    # Not published yet: the lead matches, and the page says what it takes to run.
    await expect(panel.get_by_text("once it is enabled and published")).to_be_visible()
    await expect(panel.get_by_role("heading", name="Cost estimate: $0.0051")).to_be_visible()

    # On the canvas: the path lit in order, the answered branch dimmed, the edges taken lit.
    for place, node_id in enumerate(("call", "wa", "pause", "mail", "done"), start=1):
        node = _node_on_canvas(page, node_id)
        await expect(node).to_have_class(_has("step-tone-lit"))
        await expect(node.get_by_test_id("node-badge")).to_have_text(str(place))
    await expect(_node_on_canvas(page, "qualified")).to_have_class(_has("step-tone-dim"))
    await expect(page.locator(".react-flow__edge.flow-edge-lit")).to_have_count(4)
    await browsing.shoot("04-test-mode-path-lit")

    # A step forced to fail (the WhatsApp) and a flow variable given: straight to the email,
    # which names the given company.
    await panel.get_by_text("Force a step's outcome").click()
    await panel.get_by_label("wa Send WhatsApp").select_option("failed")
    await panel.get_by_label("Flow variables (JSON, optional)").fill('{"company": "Globex"}')
    await panel.get_by_role("button", name="Run test").click()
    await expect(steps).to_have_count(4)
    await expect(steps.nth(1)).to_contain_text("→ failed")
    await expect(steps.nth(1)).to_contain_text("simulated failure")
    await expect(_node_on_canvas(page, "wa")).to_have_class(_has("step-tone-failed"))
    await expect(steps.nth(2)).to_contain_text("Your enquiry with Globex")
    await expect(_node_on_canvas(page, "pause")).to_have_class(_has("step-tone-dim"))
    await expect(_node_on_canvas(page, "mail").get_by_test_id("node-badge")).to_have_text("3")
    await browsing.shoot("05-test-mode-forced-outcome")

    # Closing the panel (Escape, from the keyboard) clears the path.
    await page.keyboard.press("Escape")
    await expect(panel).to_be_hidden()
    await expect(page.locator(".step-node.step-tone-lit")).to_have_count(0)
    await expect(page.locator(".step-node.step-tone-dim")).to_have_count(0)

    # Publishing right after an edit: it waits for the editor's save and publishes the edit.
    await _node_on_canvas(page, "pause").click()
    await page.get_by_test_id("side-panel").get_by_label("Minutes", exact=True).fill("15")
    await page.get_by_role("button", name="Publish", exact=True).click()
    await expect(page.get_by_text("Published v1: new runs use it from now on.")).to_be_visible()
    await browsing.shoot("06-published-v1")
    assert _flow(stack, flow_id)["published_version"] == 1
    with _api(stack) as http:
        v1 = _created(http.get(f"/api/flows/{flow_id}/versions/1"))
    assert _node(v1["definition"], "pause")["config"]["minutes"] == 15

    # An unfinished draft (a transition to a step that does not exist) is not published:
    # the page says where the problem is.
    broken = copy.deepcopy(LEAD_EXAMPLE["definition"])
    _node(broken, "wa")["transitions"]["sent"] = "nowhere"
    with _api(stack) as http:
        _created(
            http.post(
                f"/api/flows/{flow_id}/versions", json={"definition": broken, "partial": True}
            )
        )
    await _open_builder(page, stack, flow_id)
    await page.get_by_role("button", name="Publish", exact=True).click()
    refusal = page.get_by_role("alert").filter(has_text="Publishing v2 failed")
    await expect(refusal).to_contain_text("v2 is unfinished")
    await expect(refusal).to_contain_text("$.definition.nodes[2].transitions.sent")
    await browsing.shoot("07-unfinished-draft-refused")
    assert _flow(stack, flow_id)["published_version"] == 1

    # Nor can it be tested: the API's refusal, and the draft's problems at their paths.
    await page.get_by_role("button", name="Test", exact=True).click()
    await panel.get_by_label("Phone", exact=True).fill(ASHA["Phone"])
    await panel.get_by_role("button", name="Run test").click()
    refused = panel.get_by_role("alert").filter(has_text="This version cannot be tested")
    await expect(refused).to_contain_text("version 2 is an unfinished draft")
    await expect(panel).to_contain_text("$.definition.nodes[2].transitions.sent")
    browsing.console.take("status of 422")
    await browsing.shoot("08-unfinished-draft-not-tested")
    await panel.get_by_role("button", name="Close test mode").click()

    # The draft fixed through the API, with a longer pause and a new subject: the diff shows it.
    fixed = copy.deepcopy(LEAD_EXAMPLE["definition"])
    _node(fixed, "pause")["config"]["minutes"] = 30
    _node(fixed, "mail")["config"]["subject"] = "About your enquiry, {{ contact.name }}"
    with _api(stack) as http:
        _created(http.put(f"/api/flows/{flow_id}/versions/2", json={"definition": fixed}))
    await _open_builder(page, stack, flow_id)
    await page.get_by_role("button", name="Versions", exact=True).click()
    versions = _drawer(page, "Versions")
    rows = versions.locator("tbody tr[data-version]")
    await expect(rows).to_have_count(2)
    await expect(rows.nth(0)).to_contain_text("draft")
    await expect(rows.nth(1)).to_contain_text("published")
    await versions.get_by_role("button", name="Compare").click()
    diff = versions.get_by_role("region", name="Changes from v1 to v2")
    await expect(diff).to_contain_text("0 added, 0 removed, 2 changed")
    pause = diff.locator("table").filter(has_text="Changed pause")
    await expect(pause.locator("tbody tr")).to_have_text(_cells("config.minutes", "15", "30"))
    mail = diff.locator("table").filter(has_text="Changed mail")
    await expect(mail.locator("tbody tr")).to_have_text(
        _cells(
            "config.subject",
            "Your enquiry with {{ vars.company }}",
            "About your enquiry, {{ contact.name }}",
        )
    )
    await browsing.shoot("09-versions-diff")
    await versions.get_by_role("button", name="Close versions").click()

    await page.get_by_role("button", name="Publish", exact=True).click()
    await expect(page.get_by_text("Published v2: new runs use it from now on.")).to_be_visible()

    # Rolling back to v1: asked first, then v1's steps are published again as v3.
    await page.get_by_role("button", name="Versions", exact=True).click()
    await expect(rows).to_have_count(2)
    await expect(rows.nth(1)).to_contain_text("archived")
    await versions.get_by_role("button", name="Roll back to v1").click()
    confirm = page.get_by_role("dialog", name="Roll back to v1?")
    await expect(confirm).to_be_visible()
    await browsing.shoot("10-rollback-confirm")
    await confirm.get_by_role("button", name="Roll back to v1").click()
    await expect(
        page.get_by_text("Rolled back: v1's steps are published again as v3.")
    ).to_be_visible()
    await expect(rows).to_have_count(3)
    await expect(rows.nth(0)).to_contain_text("rolled back from v1")
    await browsing.shoot("11-rolled-back")
    flow = _flow(stack, flow_id)
    assert flow["published_version"] == 3
    assert [(v["number"], v["status"]) for v in flow["versions"]] == [
        (1, "archived"),
        (2, "archived"),
        (3, "published"),
    ]
    with _api(stack) as http:
        v3 = _created(http.get(f"/api/flows/{flow_id}/versions/3"))
    assert v3["rolled_back_from"] == 1
    assert _node(v3["definition"], "pause")["config"]["minutes"] == 15


async def test_a_menu_flow_is_deployed_to_a_phone_number(browsing: Browsing) -> None:
    page, stack = browsing.page, browsing.stack
    flow_id = _published(stack, MENU_FLOW)
    fallback_id = _published(stack, AFTER_HOURS_FLOW)
    await browsing.sign_in(stack.admin_key)
    await _open_builder(page, stack, flow_id)

    # No number yet: the dialog says where to add one.
    await page.get_by_role("button", name="Deploy", exact=True).click()
    panel = _drawer(page, "Deploy")
    await expect(panel.get_by_text("No phone numbers yet")).to_be_visible()
    await expect(panel.get_by_role("link", name="Calls page")).to_have_attribute("href", "/calls")
    await expect(panel.get_by_text("Not deployed")).to_be_visible()
    await browsing.shoot("01-deploy-no-numbers")
    await panel.get_by_role("button", name="Close deploy").click()

    with _api(stack) as http:
        _created(http.post("/api/phone-numbers", json={"number": "+15550100001", "label": "Main"}))
        gone = _created(http.post("/api/phone-numbers", json={"number": "+15550100002"}))
    await page.get_by_role("button", name="Deploy", exact=True).click()

    # A number removed meanwhile (here, through the API): the API's refusal, at its path.
    await expect(panel.get_by_role("checkbox")).to_have_count(3)
    with _api(stack) as http:
        assert http.delete(f"/api/phone-numbers/{gone['id']}").status_code == 204
    await panel.get_by_role("checkbox", name="+15550100002").check()
    await panel.get_by_role("button", name="Deploy", exact=True).click()
    refusal = panel.get_by_role("alert")
    await expect(refusal).to_contain_text("Deploy failed: unknown phone numbers")
    await expect(refusal).to_contain_text("+15550100002 is not a phone number of this tenant")
    browsing.console.take("status of 422")
    await browsing.shoot("02-deploy-refused")
    # The numbers are asked for again: the removed one is gone from the list.
    await expect(panel.get_by_role("checkbox", name="+15550100002")).to_have_count(0)

    await panel.get_by_role("checkbox", name="+15550100001").check()
    await panel.get_by_label("Fallback flow", exact=True).select_option(label="After hours")
    await panel.get_by_label("Answer only on a schedule").check()
    await browsing.shoot("03-deploy-form")
    await panel.get_by_role("button", name="Deploy", exact=True).click()
    await expect(page.get_by_text("Deployed v1 to +15550100001 in production.")).to_be_visible()
    current = panel.get_by_role("region", name="Current deployments").locator("tbody tr")
    await expect(current).to_have_count(1)
    await expect(current.first).to_contain_text("+15550100001")
    await expect(current.first).to_contain_text("production")
    await expect(current.first).to_contain_text("After hours")
    await expect(current.first).to_contain_text("mon, tue, wed, thu, fri, 09:00 to 17:00 (UTC)")
    await browsing.shoot("04-deployed")

    with _api(stack) as http:
        listed = http.get(f"/api/flows/{flow_id}/deployments")
    assert listed.status_code == 200, listed.text
    deployments = listed.json()
    assert [(d["number"], d["environment"], d["version"], d["active"]) for d in deployments] == [
        ("+15550100001", "production", 1, True)
    ]
    assert deployments[0]["fallback_flow_id"] == fallback_id
    assert deployments[0]["schedule"]["start"] == "09:00"

    # Stopping it, after a confirmation: it moves to the history.
    await panel.get_by_role("button", name="Stop +15550100001 answering in production").click()
    confirm = page.get_by_role("dialog", name='Stop +15550100001 answering with "Front desk"?')
    await confirm.get_by_role("button", name="Stop answering").click()
    await expect(
        panel.get_by_text('+15550100001 no longer answers with "Front desk" in production.')
    ).to_be_visible()
    await expect(panel.get_by_text("Not deployed")).to_be_visible()
    await expect(panel.get_by_text("Earlier deployments (1)")).to_be_visible()
    await browsing.shoot("05-stopped")
    with _api(stack) as http:
        numbers = http.get("/api/phone-numbers")
    assert numbers.status_code == 200, numbers.text
    assert [(n["number"], n["deployments"]["production"]) for n in numbers.json()] == [
        ("+15550100001", None)
    ]


async def test_a_viewer_sees_versions_and_diffs_and_changes_nothing(browsing: Browsing) -> None:
    page, stack = browsing.page, browsing.stack
    flow_id = _published(stack, LEAD_EXAMPLE)
    changed = copy.deepcopy(LEAD_EXAMPLE["definition"])
    _node(changed, "pause")["config"]["minutes"] = 45
    with _api(stack) as http:
        _created(http.post(f"/api/flows/{flow_id}/versions", json={"definition": changed}))
        _created(http.post(f"/api/flows/{flow_id}/versions/2/publish"))
    viewer = stack.issue_key("viewer")
    await browsing.sign_in(viewer)
    await _open_builder(page, stack, flow_id)

    actions = page.get_by_role("group", name="Flow actions")
    await expect(actions.get_by_role("button")).to_have_text(["Versions", "Deployments"])
    await actions.get_by_role("button", name="Versions").click()
    versions = _drawer(page, "Versions")
    await expect(versions.locator("tbody tr[data-version]")).to_have_count(2)
    await expect(versions.get_by_role("button", name="Roll back to v1")).to_have_count(0)
    await versions.get_by_role("button", name="Compare").click()
    pause = versions.locator("table").filter(has_text="Changed pause")
    await expect(pause.locator("tbody tr")).to_have_text(_cells("config.minutes", "10", "45"))
    await browsing.shoot("01-viewer-versions-diff")
    await versions.get_by_role("button", name="Close versions").click()

    await actions.get_by_role("button", name="Deployments").click()
    deployments = _drawer(page, "Deployments")
    await expect(deployments.get_by_text("Not deployed")).to_be_visible()
    await expect(deployments.get_by_role("checkbox")).to_have_count(0)
    await expect(deployments.get_by_role("button", name="Deploy", exact=True)).to_have_count(0)
    await browsing.shoot("02-viewer-deployments")


def _has(css_class: str) -> re.Pattern[str]:
    return re.compile(rf"(^|\s){re.escape(css_class)}(\s|$)")


def _cells(*texts: str) -> re.Pattern[str]:
    """A table row's text: these cells' texts in order."""
    return re.compile(r"\s*".join(re.escape(t) for t in texts))
