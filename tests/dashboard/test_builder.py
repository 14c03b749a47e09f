"""The flow builder in a real browser against the real stack: the lead-engagement flow of
SPEC §3 drawn from nothing on the canvas (palette, ports, side panel, a problem shown and
fixed, undo and redo, auto-layout), saved as you go and found again after a reload exactly
as the API stored it; a viewer sees the canvas and nothing to edit."""

from __future__ import annotations

import json
import re
from typing import Any

import httpx
import pytest
from playwright.async_api import Locator, Page, expect

from tests.dashboard.conftest import VIEWPORTS, Browsing, Stack
from tests.processes import REPO

pytestmark = pytest.mark.timeout(300)

LEAD_EXAMPLE = REPO / "examples" / "lead_engagement.json"
WIDE = {"width": 1920, "height": 1080}

# SPEC §3's lead-engagement flow, as the builder must store it (positions aside).
EXPECTED_NODES: list[dict[str, Any]] = [
    {
        "id": "call",
        "type": "ai_call",
        "config": {"agent_id": "sales-bot", "from": "+15550001111", "ring_timeout_s": 30},
        "transitions": {"answered": "done", "missed": "wa", "busy": "wa", "failed": "wa"},
    },
    {
        "id": "wa",
        "type": "whatsapp",
        "config": {"template": "lead_followup", "params": {"1": "{{ contact.name }}"}},
        "transitions": {"sent": "pause", "failed": "mail"},
    },
    {"id": "pause", "type": "wait", "config": {"minutes": 10}, "transitions": {"next": "mail"}},
    {
        "id": "mail",
        "type": "email",
        "config": {
            "to": "{{ contact.email }}",
            "subject": "Hello {{ contact.name }}",
            "body": "Thanks for your enquiry.",
        },
        "transitions": {"sent": "done", "failed": "done"},
    },
    {"id": "done", "type": "end", "config": {}, "transitions": {}},
]


def _create(stack: Stack, body: dict[str, Any]) -> str:
    with stack.client() as http:
        created = http.post("/api/flows", json=body)
        assert created.status_code == 201, created.text
        return str(created.json()["id"])


def _draft(http: httpx.Client, flow_id: str) -> dict[str, Any]:
    flow = http.get(f"/api/flows/{flow_id}").json()
    drafts = [v["number"] for v in flow["versions"] if v["status"] == "draft"]
    assert drafts, flow
    version = http.get(f"/api/flows/{flow_id}/versions/{max(drafts)}")
    assert version.status_code == 200, version.text
    return dict(version.json())


def _node(page: Page, node_id: str) -> Locator:
    return page.locator(f'.react-flow__node[data-id="{node_id}"]')


def _handle(page: Page, node_id: str, port: str) -> Locator:
    return _node(page, node_id).locator(f'.react-flow__handle[data-handleid="{port}"]')


def _field(panel: Locator, label: str) -> Locator:
    """A field of the side panel by its label (a required one's label ends with " *")."""
    return panel.get_by_label(re.compile(rf"^{re.escape(label)}( \*)?$"))


async def _center(locator: Locator) -> tuple[float, float]:
    box = await locator.bounding_box()
    assert box is not None
    return box["x"] + box["width"] / 2, box["y"] + box["height"] / 2


async def _drag_port(page: Page, source: str, port: str, target: str) -> None:
    """Draw a transition: from a port's handle onto the target node's input handle."""
    x, y = await _center(_handle(page, source, port))
    tx, ty = await _center(_handle(page, target, "in"))
    await page.mouse.move(x, y)
    await page.mouse.down()
    await page.mouse.move((x + tx) / 2, (y + ty) / 2, steps=5)
    await page.mouse.move(tx, ty, steps=5)
    await page.mouse.up()


async def _saved(page: Page) -> None:
    await expect(page.get_by_test_id("save-status")).to_have_text("Saved", timeout=10_000)


class Shots:
    """Screenshots at both sizes, the canvas fitted to each (as its "fit view" button does);
    the test itself works at 1920x1080, where the canvas has room."""

    def __init__(self, browsing: Browsing) -> None:
        self.browsing = browsing

    async def __call__(self, name: str) -> None:
        page = self.browsing.page
        for width, height in VIEWPORTS:
            await page.set_viewport_size({"width": width, "height": height})
            fit = page.locator(".react-flow__controls-fitview")
            if await page.locator(".step-node").count() > 0:
                await fit.click()
                await page.wait_for_timeout(300)
            await page.screenshot(path=self.browsing.shots / f"{name}-{width}x{height}.png")


async def _drop(page: Page, label: str, x: float, y: float, new_id: str) -> None:
    """Drag a step from the palette onto the canvas at (x, y), then give it its id."""
    canvas = page.locator(".react-flow__pane")
    await page.get_by_role("button", name=f"Add {label}", exact=True).drag_to(
        canvas, target_position={"x": x, "y": y}
    )
    panel = page.get_by_test_id("side-panel")
    await expect(panel.get_by_text(label, exact=True).first).to_be_visible()
    await panel.get_by_label("Step ID").fill(new_id)
    await panel.get_by_label("Step ID").press("Enter")
    await expect(_node(page, new_id)).to_be_visible()


async def test_a_manager_builds_the_lead_flow_on_the_canvas(browsing: Browsing) -> None:
    page, stack = browsing.page, browsing.stack
    shoot = Shots(browsing)
    await browsing.sign_in(stack.admin_key)

    # A new flow from the Flows page, opened in the builder from its name.
    await page.get_by_role("button", name="New flow").click()
    dialog = page.get_by_role("dialog", name="New flow")
    await dialog.get_by_label("Name").fill("Lead engagement")
    await dialog.get_by_role("button", name="Create flow").click()
    await page.get_by_role("link", name="Lead engagement", exact=True).click()
    await page.set_viewport_size(WIDE)
    await expect(page.get_by_role("heading", name="Lead engagement")).to_be_visible()
    await expect(page.get_by_text("No steps yet.")).to_be_visible()
    await expect(page.get_by_test_id("builder-version")).to_contain_text("No version yet")
    await shoot("01-empty-builder")
    flow_id = page.url.rsplit("/", 1)[-1]

    # Five steps dragged from the palette, each renamed as SPEC §3 names it.
    await _drop(page, "Place a call", 130, 80, "call")
    await _drop(page, "Send WhatsApp", 420, 80, "wa")
    await _drop(page, "Wait", 710, 80, "pause")
    await _drop(page, "Send email", 710, 330, "mail")
    await _drop(page, "End", 420, 430, "done")
    await expect(page.locator(".step-node")).to_have_count(5)
    await expect(_node(page, "call").get_by_text("start")).to_be_visible()
    await shoot("02-five-steps-dropped")

    # Ports connected by dragging from a handle onto a step...
    await _drag_port(page, "call", "answered", "done")
    await _drag_port(page, "call", "missed", "wa")
    await _drag_port(page, "wa", "sent", "pause")
    await _drag_port(page, "pause", "next", "mail")
    await _drag_port(page, "mail", "sent", "done")
    await expect(page.locator(".react-flow__edge")).to_have_count(5)

    # ... and from the side panel's "Next steps" (the keyboard's way).
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
    # The variable picker inserts a template at the cursor.
    await panel.get_by_role("button", name="Insert a variable into Value 1").click()
    await panel.get_by_role("button", name="contact.name", exact=True).click()
    await expect(_field(panel, "Value 1")).to_have_value("{{ contact.name }}")
    await shoot("03-whatsapp-configured")

    await _node(page, "pause").click()
    await _field(panel, "Minutes").fill("10")

    # The email has no `to` yet: the saved draft's problem marks the node and the field.
    await _node(page, "mail").click()
    await _field(panel, "failed").select_option("done")
    await _field(panel, "Subject").fill("Hello {{ contact.name }}")
    await _field(panel, "Body").fill("Thanks for your enquiry.")
    await _saved(page)
    mail_badge = _node(page, "mail").get_by_test_id("node-problems")
    await expect(mail_badge).to_have_text("1")
    await expect(_node(page, "mail").locator(".step-node-problems")).to_have_count(1)
    to_field = panel.locator('[data-field="to"]')
    await expect(to_field.get_by_test_id("field-problems")).to_contain_text(
        "missing required key 'to'"
    )
    await expect(page.get_by_test_id("problem-count")).to_contain_text("problem")
    await shoot("04-email-problem")

    # Fixed: the badge and the message go once the draft is saved again.
    await _field(panel, "To").fill("{{ contact.email }}")
    await _saved(page)
    await expect(mail_badge).to_have_count(0)
    await expect(to_field.get_by_test_id("field-problems")).to_have_count(0)

    # Undo and redo, by keyboard on the canvas and by the toolbar's buttons.
    await page.locator(".react-flow__pane").click(position={"x": 900, "y": 700})
    await expect(page.get_by_role("heading", name="Settings")).to_be_visible()
    await page.keyboard.press("Control+z")
    await expect(page.locator('[data-field="to"]')).to_have_count(
        0
    )  # the side panel shows settings
    await _node(page, "mail").click()
    await expect(_field(panel, "To")).to_have_value("")
    await page.get_by_role("button", name="Redo").click()
    await expect(_field(panel, "To")).to_have_value("{{ contact.email }}")
    # A mistake: the WhatsApp's `sent` dragged to the email instead of the wait; undone.
    await _drag_port(page, "wa", "sent", "mail")
    await _node(page, "wa").click()
    sent = _field(panel, "sent")
    await expect(sent).to_have_value("mail")
    await page.get_by_role("button", name="Undo").click()
    await expect(sent).to_have_value("pause")
    await _node(page, "wa").click()
    await page.keyboard.press("Control+Shift+z")
    await expect(sent).to_have_value("mail")
    await page.keyboard.press("Control+z")
    await expect(sent).to_have_value("pause")
    await _saved(page)

    # Auto-layout puts the steps in layers from the start, left to right.
    await page.get_by_role("button", name="Auto-layout").click()
    await _saved(page)
    xs = [
        (await _center(_node(page, node_id)))[0]
        for node_id in ("call", "wa", "pause", "mail", "done")
    ]
    assert xs == sorted(xs) and len(set(xs)) == 5, xs
    await shoot("05-auto-layout")

    # A stray step, deleted with the Delete key.
    await _drop(page, "Say", 600, 700, "stray")
    await _node(page, "stray").click()
    await page.keyboard.press("Delete")
    await expect(_node(page, "stray")).to_have_count(0)
    await _saved(page)

    # Stored as built: the API's draft is SPEC §3's flow, each node with its position.
    with stack.client() as http:
        draft = _draft(http, flow_id)
    definition = draft["definition"]
    assert definition["start"] == "call"
    positions = [node.pop("position") for node in definition["nodes"]]
    assert all(set(p) == {"x", "y"} for p in positions), positions
    assert definition["nodes"] == EXPECTED_NODES
    assert [p for p in draft["problems"] if p["severity"] == "error"] == []

    # After a reload the builder opens the same draft where it was left.
    before = {n: await _center(_node(page, n)) for n in ("call", "done")}
    await page.reload()
    await expect(page.locator(".step-node")).to_have_count(5)
    await expect(page.get_by_test_id("builder-version")).to_have_text(f"Draft v{draft['number']}")
    await expect(page.locator(".react-flow__edge")).to_have_count(9)
    await _node(page, "mail").click()
    await expect(_field(panel, "To")).to_have_value("{{ contact.email }}")
    after = {n: await _center(_node(page, n)) for n in ("call", "done")}
    assert (after["done"][0] - after["call"][0]) > 0 and (before["done"][0] - before["call"][0]) > 0
    await shoot("06-after-reload")


async def test_a_viewer_sees_the_canvas_and_nothing_to_edit(browsing: Browsing) -> None:
    page, stack = browsing.page, browsing.stack
    flow_id = _create(stack, json.loads(LEAD_EXAMPLE.read_text()))
    await browsing.sign_in(stack.issue_key("viewer"))
    await page.goto(f"{stack.url}/flows/{flow_id}")
    await expect(page.locator(".step-node")).to_have_count(6)
    example = json.loads(LEAD_EXAMPLE.read_text())["definition"]
    transitions = sum(len(node.get("transitions", {})) for node in example["nodes"])
    await expect(page.locator(".react-flow__edge")).to_have_count(transitions)
    await expect(page.get_by_role("navigation", name="Steps")).to_have_count(0)
    await expect(page.get_by_role("button", name="Undo")).to_have_count(0)
    await expect(page.get_by_role("button", name="Delete")).to_have_count(0)
    await expect(page.get_by_test_id("save-status")).to_have_text("Read only")
    panel = page.get_by_test_id("side-panel")
    await expect(_field(panel, "Name")).to_be_disabled()
    await expect(panel.get_by_role("button", name="Save settings")).to_have_count(0)
    await _node(page, "wa").click()
    await expect(_field(panel, "Template")).to_have_value("lead_followup")
    await expect(panel.locator("input:enabled, textarea:enabled, select:enabled")).to_have_count(0)
    await expect(panel.get_by_role("button", name="Delete step")).to_have_count(0)
    await expect(page.locator(".react-flow__node.draggable")).to_have_count(0)
    await browsing.shoot("01-viewer-builder")
    with stack.client() as http:
        versions = http.get(f"/api/flows/{flow_id}").json()["versions"]
    assert len(versions) == 1, "looking at a flow saves nothing"


async def test_an_unknown_flow_says_so(browsing: Browsing) -> None:
    page, stack = browsing.page, browsing.stack
    await browsing.sign_in(stack.admin_key)
    await page.goto(f"{stack.url}/flows/no-such-flow")
    await expect(page.get_by_role("alert")).to_contain_text("This flow could not be loaded")
    browsing.console.take(r"status of 404")
    await browsing.shoot("01-unknown-flow")


async def test_conditions_split_cases_settings_and_a_conflict(browsing: Browsing) -> None:
    page, stack = browsing.page, browsing.stack
    flow_id = _create(stack, {"name": "Scored leads", "trigger": {"type": "manual"}})
    await browsing.sign_in(stack.admin_key)
    await page.set_viewport_size(WIDE)
    await page.goto(f"{stack.url}/flows/{flow_id}")
    await expect(page.get_by_text("No steps yet.")).to_be_visible()
    panel = page.get_by_test_id("side-panel")
    shoot = Shots(browsing)

    # Steps added from the keyboard: Enter on a palette item.
    for label in ("Condition", "Split", "End"):
        await page.get_by_role("button", name=f"Add {label}", exact=True).press("Enter")
    await expect(page.locator(".step-node")).to_have_count(3)

    # A condition from rows, an OR group and a NOT.
    await _node(page, "condition").click()
    await panel.get_by_role("button", name="Add condition").click()
    first = panel.get_by_role("group", name="Condition", exact=True).nth(0)
    await first.get_by_label("Variable").fill("contact.score")
    await first.get_by_label("Operator").select_option("gt")
    await first.get_by_label("Value").fill("50")
    await first.get_by_role("button", name="AND").click()
    await panel.get_by_label("Combine with").select_option("any")
    second = panel.get_by_role("group", name="Condition", exact=True).nth(1)
    await second.get_by_label("Variable").fill("contact.email")
    await second.get_by_label("Operator").select_option("is_not_empty")
    await expect(second.get_by_label("Value")).to_have_count(0)
    await second.get_by_role("button", name="NOT").click()
    await expect(panel.locator(".condition-keyword")).to_have_text("NOT")
    await _field(panel, "true").select_option("split")
    await shoot("01-condition")

    # A split's cases are its ports, and `else`.
    await _node(page, "split").click()
    await panel.get_by_role("button", name="Add case").click()
    await _field(panel, "Port").fill("hot")
    await panel.get_by_role("button", name="Add condition").click()
    case = panel.get_by_role("group", name="Condition", exact=True)
    await case.get_by_label("Variable").fill("contact.score")
    await case.get_by_label("Operator").select_option("gte")
    await case.get_by_label("Value").fill("80")
    await expect(_handle(page, "split", "hot")).to_be_visible()
    await expect(_handle(page, "split", "else")).to_be_visible()
    await _field(panel, "hot").select_option("end")
    await _field(panel, "else").select_option("end")
    await expect(page.locator(".react-flow__edge")).to_have_count(3)

    # The flow's settings (saved with PATCH) and its variables (saved with the draft).
    await page.get_by_role("button", name="Settings").click()
    await _field(panel, "Started by").select_option("lead_created")
    await panel.get_by_role("button", name="Add lead condition").click()
    await panel.get_by_label("Value", exact=True).fill("IndiaMART")
    await _field(panel, "Only within business hours (a run waits for the opening)").check()
    await _field(panel, "Opens").fill("09:30")
    await _field(panel, "Closes").fill("18:30")
    await _field(panel, "Time zone").fill("Asia/Kolkata")
    await _field(panel, "Cooldown (minutes)").fill("30")
    await panel.get_by_role("button", name="Add entry").click()
    await _field(panel, "Variable 1").fill("company")
    await _field(panel, "Value 1").fill("Acme")
    await panel.get_by_role("button", name="Save settings").click()
    await expect(panel.get_by_text("Settings saved.")).to_be_visible()
    await _saved(page)
    await shoot("02-settings")

    with stack.client() as http:
        flow = http.get(f"/api/flows/{flow_id}").json()
        draft = _draft(http, flow_id)
    assert flow["trigger"] == {
        "type": "lead_created",
        "conditions": [{"field": "lead_source", "op": "eq", "value": "IndiaMART"}],
    }
    assert flow["business_hours"] == {
        "start": "09:30",
        "end": "18:30",
        "timezone": "Asia/Kolkata",
        "days": ["mon", "tue", "wed", "thu", "fri"],
    }
    assert flow["cooldown_minutes"] == 30
    definition = draft["definition"]
    nodes = {node["id"]: node for node in definition["nodes"]}
    assert definition["start"] == "condition"
    assert definition["variables"] == {"company": "Acme"}
    assert nodes["condition"]["config"] == {
        "when": {
            "any": [
                {"var": "contact.score", "op": "gt", "value": "50"},
                {"not": {"var": "contact.email", "op": "is_not_empty"}},
            ]
        }
    }
    assert nodes["condition"]["transitions"] == {"true": "split"}
    assert nodes["split"]["config"] == {
        "cases": [{"port": "hot", "when": {"var": "contact.score", "op": "gte", "value": "80"}}]
    }
    assert nodes["split"]["transitions"] == {"hot": "end", "else": "end"}
    assert [p for p in draft["problems"] if p["severity"] == "error"] == []

    # Published elsewhere meanwhile: the next save is refused with the API's reason, the
    # edit stays, and it is saved as a new draft on request.
    with stack.client() as http:
        published = http.post(f"/api/flows/{flow_id}/versions/{draft['number']}/publish")
        assert published.status_code == 200, published.text
    await _node(page, "end").click()
    await _field(panel, "Name").fill("Finish")
    status = page.get_by_test_id("save-status")
    await expect(status).to_contain_text(
        "Not saved: version 1 is published: only drafts can be edited"
    )
    browsing.console.take(r"status of 409")
    await expect(_node(page, "end")).to_contain_text("Finish")
    await shoot("03-conflict")
    await status.get_by_role("button", name="Save as a new draft").click()
    await _saved(page)
    await expect(page.get_by_test_id("builder-version")).to_have_text("Draft v2")
    with stack.client() as http:
        second_draft = _draft(http, flow_id)
    assert second_draft["number"] == 2
    assert {n["id"]: n for n in second_draft["definition"]["nodes"]}["end"]["name"] == "Finish"


async def test_every_step_type_has_its_form(browsing: Browsing) -> None:
    """Each step of the catalogue, added from the palette, opens its form in the side panel
    (the forms are drawn from the catalogue's JSON Schemas: none may fail to draw)."""
    page, stack = browsing.page, browsing.stack
    with stack.client() as http:
        steps = http.get("/api/steps").json()
    flow_id = _create(stack, {"name": "Every step"})
    await browsing.sign_in(stack.admin_key)
    await page.set_viewport_size(WIDE)
    await page.goto(f"{stack.url}/flows/{flow_id}")
    panel = page.get_by_test_id("side-panel")
    for step in steps:
        await page.get_by_role("button", name=f"Add {step['label']}", exact=True).press("Enter")
        await expect(panel.locator(".side-panel-kicker")).to_have_text(step["label"])
        await expect(_field(panel, "Step ID")).to_have_value(step["type"])
        if step["type"] in {"http", "crm_update", "human_task", "loop", "send_and_wait"}:
            await panel.screenshot(path=browsing.shots / f"form-{step['type']}.png")
    await expect(page.locator(".step-node")).to_have_count(len(steps))
    await _saved(page)
    with stack.client() as http:
        draft = _draft(http, flow_id)
    assert [node["type"] for node in draft["definition"]["nodes"]] == [s["type"] for s in steps]
    await Shots(browsing)("01-every-step")


async def test_editing_a_published_version_starts_a_new_draft(browsing: Browsing) -> None:
    page, stack = browsing.page, browsing.stack
    example = json.loads(LEAD_EXAMPLE.read_text())
    flow_id = _create(stack, example)
    with stack.client() as http:
        published = http.post(f"/api/flows/{flow_id}/versions/1/publish")
        assert published.status_code == 200, published.text
    await browsing.sign_in(stack.admin_key)
    await page.goto(f"{stack.url}/flows/{flow_id}")
    version = page.get_by_test_id("builder-version")
    await expect(version).to_have_text("Published v1: edits start a new draft")
    await _node(page, "pause").click()
    panel = page.get_by_test_id("side-panel")
    await _field(panel, "Minutes").fill("15")
    await _saved(page)
    await expect(version).to_have_text("Draft v2")
    await browsing.shoot("01-new-draft-from-published")
    with stack.client() as http:
        flow = http.get(f"/api/flows/{flow_id}").json()
        first = http.get(f"/api/flows/{flow_id}/versions/1").json()
        draft = _draft(http, flow_id)
    assert flow["published_version"] == 1
    assert first["definition"] == example["definition"]
    assert draft["number"] == 2
    pause = next(n for n in draft["definition"]["nodes"] if n["id"] == "pause")
    assert pause["config"] == {"minutes": 15}


async def test_a_step_is_reached_and_opened_from_the_keyboard(browsing: Browsing) -> None:
    """Tab reaches the steps on the canvas (each with a visible focus ring) and Enter opens
    the focused one in the side panel."""
    page, stack = browsing.page, browsing.stack
    flow_id = _create(stack, json.loads(LEAD_EXAMPLE.read_text()))
    await browsing.sign_in(stack.admin_key)
    await page.goto(f"{stack.url}/flows/{flow_id}")
    await expect(page.locator(".step-node")).to_have_count(6)
    focused = page.locator(".react-flow__node:focus")
    for _ in range(120):
        await page.keyboard.press("Tab")
        if await focused.count():
            break
    await expect(focused).to_have_attribute("data-id", "call")
    outline = await focused.evaluate("(el) => getComputedStyle(el).outlineStyle")
    assert outline == "solid"
    await page.keyboard.press("Tab")
    await expect(focused).to_have_attribute("data-id", "qualified")
    await page.keyboard.press("Enter")
    panel = page.get_by_test_id("side-panel")
    await expect(panel.locator(".side-panel-kicker")).to_have_text("Tag contact")
    await browsing.shoot("01-step-opened-by-keyboard")
