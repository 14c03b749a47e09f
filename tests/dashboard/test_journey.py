"""Issue 13's "Done means", walked as a newcomer would, through the pages alone: sign in, a new
lead flow on the Flows page, SPEC §3's lead-engagement flow built in the builder from the
palette and its side panel (a problem met on a step and fixed), tested with a missed call,
published; leads posted through the API (as the issue says) appear in Executions and advance
live, and one more is added on the Contacts page; their calls are given outcomes in the
Outbox, one waiting run is cancelled; the flow's analytics funnel shows on the canvas where
the leads went."""

from __future__ import annotations

import re
import time

import pytest
from playwright.async_api import Locator, Page, expect

from tests.dashboard.conftest import VIEWPORTS, Browsing, Stack
from tests.dashboard.test_builder import (
    WIDE,
    Shots,
    _drag_port,
    _drop,
    _field,
    _node,
    _saved,
)

pytestmark = pytest.mark.timeout(420)

LEADS = (
    ("Asha Rao", "+919800000001", "answered"),
    ("Bharat Mehta", "+919800000002", "missed"),
    ("Chitra Iyer", "+919800000003", "busy"),
    ("Dev Patel", "+919800000004", None),  # the call is never given an outcome
)


def _post_lead(stack: Stack, name: str, phone: str) -> str:
    """A lead through the API (README: lead_created): the execution the flow started."""
    email = name.split()[0].lower() + "@example.com"
    lead = {"name": name, "phone": phone, "email": email, "lead_source": "IndiaMART"}
    with stack.client() as http:
        posted = http.post("/api/contacts", json=lead)
        assert posted.status_code in (200, 201), posted.text
    engagement = posted.json()["engagement"]
    assert engagement["status"] == "started", engagement
    return str(engagement["execution_id"])


def _until(stack: Stack, execution_id: str, status: str, node: str) -> None:
    deadline = time.monotonic() + 60
    with stack.client() as http:
        while True:
            run = http.get(f"/api/executions/{execution_id}").json()
            if run["status"] == status and run["current_node"] == node:
                return
            assert time.monotonic() < deadline, run
            time.sleep(0.2)


def _row(page: Page, contact: str) -> Locator:
    return page.locator("tr.execution-row").filter(
        has=page.get_by_role("rowheader").filter(has=page.get_by_text(contact, exact=True))
    )


async def _shoot_page(browsing: Browsing, page: Page, name: str) -> None:
    """Browsing.shoot, for a second tab."""
    for width, height in VIEWPORTS:
        await page.set_viewport_size({"width": width, "height": height})
        await page.screenshot(path=browsing.shots / f"{name}-{width}x{height}.png")


def _has(css_class: str) -> re.Pattern[str]:
    return re.compile(rf"(^|\s){re.escape(css_class)}(\s|$)")


def _percent(count: int, of: int) -> str:
    value = round(count * 1000 / of) / 10
    return f"{int(value)}%" if value.is_integer() else f"{value}%"


async def test_a_newcomer_builds_tests_publishes_and_watches_the_lead_flow(
    browsing: Browsing,
) -> None:
    page, stack = browsing.page, browsing.stack
    shoot = Shots(browsing)

    # Signed in with the admin key, a new flow started by new leads.
    await browsing.sign_in(stack.admin_key)
    await page.get_by_role("button", name="New flow").click()
    dialog = page.get_by_role("dialog", name="New flow")
    await dialog.get_by_label("Name").fill("IndiaMART leads")
    await dialog.get_by_label("Started by").select_option(label="New lead")
    await browsing.shoot("01-new-flow")
    await dialog.get_by_role("button", name="Create flow").click()
    await expect(page.get_by_text('Created "IndiaMART leads" as a draft.')).to_be_visible()
    await expect(page.get_by_role("link", name="IndiaMART leads", exact=True)).to_be_visible()
    await browsing.shoot("02-created")

    # Opened in the builder from the message: five steps from the palette.
    await page.get_by_role("link", name="Open it in the builder to draw its steps").click()
    await page.set_viewport_size(WIDE)
    await expect(page.get_by_text("No steps yet.")).to_be_visible()
    flow_id = page.url.rsplit("/", 1)[-1]
    await _drop(page, "Place a call", 130, 80, "call")
    await _drop(page, "Send WhatsApp", 420, 80, "wa")
    await _drop(page, "Wait", 710, 80, "pause")
    await _drop(page, "Send email", 710, 330, "mail")
    await _drop(page, "End", 420, 430, "done")
    await expect(page.locator(".step-node")).to_have_count(5)

    # Connected by dragging ports, and in the side panel.
    await _drag_port(page, "call", "answered", "done")
    await _drag_port(page, "call", "missed", "wa")
    await _drag_port(page, "wa", "sent", "pause")
    await _drag_port(page, "pause", "next", "mail")
    await _drag_port(page, "mail", "sent", "done")
    panel = page.get_by_test_id("side-panel")
    await _node(page, "call").click()
    await _field(panel, "busy").select_option("wa")
    await _field(panel, "failed").select_option("wa")
    await _field(panel, "Agent ID").fill("sales-bot")
    await _field(panel, "From").fill("+15550001111")
    await _field(panel, "Ring Timeout (seconds)").fill("30")
    await _node(page, "wa").click()
    await _field(panel, "failed").select_option("mail")
    await _field(panel, "Template").fill("lead_followup")
    await panel.get_by_role("button", name="Add entry").click()
    await panel.get_by_label("Name 1").fill("1")
    await panel.get_by_role("button", name="Insert a variable into Value 1").click()
    await panel.get_by_role("button", name="contact.name", exact=True).click()
    await _node(page, "pause").click()
    await _field(panel, "Minutes").fill("10")

    # The email without its recipient: the problem is on the step and on the field.
    await _node(page, "mail").click()
    await _field(panel, "failed").select_option("done")
    await _field(panel, "Subject").fill("Hello {{ contact.name }}")
    await _field(panel, "Body").fill("Thanks for your enquiry.")
    await _saved(page)
    await expect(_node(page, "mail").get_by_test_id("node-problems")).to_have_text("1")
    to_field = panel.locator('[data-field="to"]')
    await expect(to_field.get_by_test_id("field-problems")).to_contain_text(
        "missing required key 'to'"
    )
    await shoot("03-problem-on-the-email")
    await _field(panel, "To").fill("{{ contact.email }}")
    await _saved(page)
    await expect(_node(page, "mail").get_by_test_id("node-problems")).to_have_count(0)
    await expect(page.locator(".react-flow__edge")).to_have_count(9)
    await shoot("04-flow-built")

    # Test mode, a typed lead whose call is missed: the path is lit, the messages rendered.
    await page.get_by_role("button", name="Test", exact=True).click()
    test_panel = page.get_by_role("dialog", name="Test mode")
    await test_panel.get_by_label("Type one").check()
    for label, value in (
        ("Name", "Asha Rao"),
        ("Phone", "+919800000001"),
        ("Email", "asha@example.com"),
        ("Lead source", "IndiaMART"),
    ):
        await test_panel.get_by_label(label, exact=True).fill(value)
    await test_panel.get_by_label("Calls").select_option("missed")
    await test_panel.get_by_role("button", name="Run test").click()
    steps = test_panel.get_by_role("list", name="Steps of the test run").get_by_role("listitem")
    await expect(steps).to_have_count(5)
    await expect(steps.nth(0)).to_contain_text("→ missed")
    await expect(steps.nth(1)).to_contain_text("lead_followup")
    await expect(steps.nth(1)).to_contain_text('"1": "Asha Rao"')
    await expect(steps.nth(2)).to_contain_text("Waits until")
    await expect(steps.nth(3)).to_contain_text("asha@example.com")
    await expect(steps.nth(3)).to_contain_text("Hello Asha Rao")
    for place, node_id in enumerate(("call", "wa", "pause", "mail", "done"), start=1):
        lit = page.locator(f'.step-node[data-node-id="{node_id}"]')
        await expect(lit).to_have_class(_has("step-tone-lit"))
        await expect(lit.get_by_test_id("node-badge")).to_have_text(str(place))
    await expect(page.locator(".react-flow__edge.flow-edge-lit")).to_have_count(4)
    await browsing.shoot("05-test-mode-missed-call")
    await test_panel.get_by_role("button", name="Close test mode").click()

    # Published.
    await page.get_by_role("button", name="Publish", exact=True).click()
    await expect(page.get_by_text("Published v1: new runs use it from now on.")).to_be_visible()
    await shoot("06-published")

    # Its runs, open before the leads come: they appear and advance without a reload.
    await page.set_viewport_size({"width": 1280, "height": 800})
    await page.get_by_role("link", name="Watch its runs").click()
    await expect(page.get_by_label("Flow", exact=True)).to_have_value(flow_id)
    await expect(page.get_by_text("No executions")).to_be_visible()
    await expect(page.get_by_test_id("live-indicator")).to_have_text("Live")
    await page.evaluate("window.__notReloaded = true")
    runs = {name: _post_lead(stack, name, phone) for name, phone, _ in LEADS}
    for name, phone, _ in LEADS:
        row = _row(page, name)
        await expect(row.get_by_test_id("status")).to_have_text("Waiting")
        await expect(row.get_by_test_id("current-step")).to_have_text("call")
        await expect(row).to_contain_text("IndiaMART leads")
        await expect(row).to_contain_text(phone)
    await browsing.shoot("07-leads-arrived-live")

    # The calls' outcomes, simulated in the Outbox in a second tab, while the list stays open.
    outbox = await page.context.new_page()
    outbox.on("console", browsing.console.on_message)
    outbox.on("pageerror", browsing.console.on_exception)
    await outbox.goto(f"{stack.url}/outbox")
    for name, phone, outcome in LEADS:
        call = outbox.locator("li.outbox-voice").filter(has_text=phone)
        await expect(call).to_contain_text("waiting on its outcome")
        if outcome is None:
            continue
        await call.get_by_role("button", name=outcome.capitalize(), exact=True).click()
        await expect(
            outbox.get_by_text(f"Told execution {runs[name]} about a {outcome} call")
        ).to_be_visible()
        await expect(call.get_by_role("button", name="Missed")).to_have_count(0)
    await expect(outbox.locator("li.outbox-whatsapp")).to_have_count(2)
    await _shoot_page(browsing, outbox, "08-outbox-simulated")
    await outbox.close()

    # Back on the list, never reloaded: each run moved on where its call sent it.
    await page.bring_to_front()
    await expect(_row(page, "Asha Rao").get_by_test_id("status")).to_have_text("Completed")
    for name in ("Bharat Mehta", "Chitra Iyer"):
        await expect(_row(page, name).get_by_test_id("current-step")).to_have_text("pause")
        await expect(_row(page, name).get_by_test_id("status")).to_have_text("Waiting")
    await expect(_row(page, "Dev Patel").get_by_test_id("current-step")).to_have_text("call")
    assert await page.evaluate("window.__notReloaded === true"), "the page was reloaded"
    await browsing.shoot("09-runs-advanced-live")

    # A fifth lead added by hand on the Contacts page (the way without the API), its run
    # one click from the message.
    await page.get_by_role("link", name="Contacts", exact=True).click()
    await page.get_by_role("button", name="New contact").click()
    new_contact = page.get_by_role("dialog", name="New contact")
    await new_contact.get_by_label("Name").fill("Esha Nair")
    await new_contact.get_by_label("Lead source").fill("IndiaMART")
    await new_contact.get_by_label("Phone").fill("+919800000005")
    await new_contact.get_by_role("button", name="Create contact").click()
    await expect(page.get_by_text("Created Esha Nair. It started a lead flow.")).to_be_visible()
    await browsing.shoot("10-lead-added-by-hand")
    await page.get_by_role("link", name="Watch it run").click()
    await expect(page.get_by_role("heading", name="Esha Nair in IndiaMART leads")).to_be_visible()
    await expect(page.get_by_test_id("execution-status")).to_contain_text("Waiting at call")
    await page.get_by_role("link", name="Executions", exact=True).first.click()
    await expect(_row(page, "Esha Nair").get_by_test_id("current-step")).to_have_text("call")

    # Chitra's run, waiting out its ten minutes, is cancelled from its page.
    await _row(page, "Chitra Iyer").get_by_role("link", name="Chitra Iyer").click()
    await expect(page.get_by_test_id("execution-status")).to_contain_text("Waiting")
    await page.get_by_role("button", name="Cancel run").click()
    confirm = page.get_by_role("dialog", name="Cancel this run?")
    await confirm.get_by_role("button", name="Cancel run").click()
    await expect(page.get_by_test_id("execution-status")).to_contain_text("Cancelled")
    await browsing.shoot("11-run-cancelled")

    # The flow's analytics, from its builder: the funnel on the canvas says where the five
    # leads went.
    await page.get_by_role("link", name="IndiaMART leads", exact=True).click()
    await (
        page.get_by_role("navigation", name="This flow's runs")
        .get_by_role("link", name="Funnel")
        .click()
    )
    await expect(page.get_by_role("heading", name="IndiaMART leads", exact=True)).to_be_visible()
    with stack.client() as http:
        report = http.get(f"/api/analytics/flows/{flow_id}").json()
    reached = {node["node_id"]: node["executions"] for node in report["funnel"]}
    taken = {f"{e['node_id']}:{e['port']}": e["executions"] for e in report["edges"]}
    assert reached == {"call": 5, "wa": 2, "pause": 2, "done": 1}, reached
    assert taken == {"call:answered": 1, "call:missed": 1, "call:busy": 1, "wa:sent": 2}, taken
    diagram = page.get_by_test_id("flow-diagram")
    for node_id, count in (("call", 5), ("wa", 2), ("pause", 2), ("done", 1)):
        badge = diagram.locator(f'.step-node[data-node-id="{node_id}"]').get_by_test_id(
            "node-badge"
        )
        await expect(badge).to_have_text(f"{count} · {_percent(count, 5)}")
    await expect(
        diagram.locator('.step-node[data-node-id="mail"]').get_by_test_id("node-badge")
    ).to_have_text("0")
    for edge, count in (
        ("call:answered", 1),
        ("call:missed", 1),
        ("call:busy", 1),
        ("call:failed", 0),
        ("wa:sent", 2),
        ("pause:next", 0),
    ):
        edge_text = page.get_by_test_id(f"rf__edge-{edge}").locator(".react-flow__edge-text")
        await expect(edge_text).to_have_text(f"{edge.split(':')[1]}: {count}")
    await page.locator(".funnel-card").scroll_into_view_if_needed()
    await browsing.shoot("12-funnel")
    # The tiles: five runs, one completed, one cancelled (the other three still waiting).
    assert report["by_status"] == {"completed": 1, "cancelled": 1, "waiting": 3}, report
    await expect(page.get_by_test_id("tile-runs").locator(".tile-figure")).to_have_text("5")
    for outcome in ("completed", "cancelled"):
        tile = page.get_by_test_id(f"tile-{outcome}")
        await expect(tile.locator(".tile-figure")).to_have_text("20%")
        await expect(tile.locator(".tile-note")).to_have_text("1 of 5")
