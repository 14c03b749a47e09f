"""Calls & people in a real browser against the real stack: a menu flow deployed to a number
answers a simulated inbound call (Twilio's signed webhooks, the TwiML followed, as
`flowdeck call` does), and the agents board follows it live: the caller waiting in the
department's queue, an agent set available taking it and busy on it (also in the agent's
own view, with a link to the execution), then free again. Departments, agents and a
deployment are created, changed and removed through the page and checked through the API;
an agent key finds its own view with the task that waits for it, and sets its own status and
no one else's; a viewer sees the board and no edit
control."""

from __future__ import annotations

import time
from typing import Any

import httpx
import pytest
from playwright.async_api import Locator, Page, expect

from callsim import SimulatedCall
from schemas.call import execution_id_for_call
from tests.dashboard.conftest import Browsing, Stack

pytestmark = pytest.mark.timeout(300)

AUTH_TOKEN = "dashboard-calls-token"
PUBLIC_URL = "https://flowdeck.calls.test"
"""What Twilio would be configured with: signatures are computed over it."""
NUMBER = "+15550123400"
CALLER = "+15550199887"
LIVE = 12_000
"""Long enough for the board's next refresh (every 3 s) to show a change."""


@pytest.fixture
def stack_env() -> dict[str, str]:
    return {"TWILIO_AUTH_TOKEN": AUTH_TOKEN, "PUBLIC_BASE_URL": PUBLIC_URL}


def menu_flow() -> dict[str, Any]:
    """Press 1 for sales, then to the Sales department (its agents, else its queue)."""
    return {
        "name": "Main menu",
        "description": "Answers the main line.",
        "trigger": {"type": "call_incoming"},
        "definition": {
            "start": "menu",
            "nodes": [
                {
                    "id": "menu",
                    "type": "gather",
                    "config": {"prompt": "Press 1 for sales.", "num_digits": 1},
                    "transitions": {"input": "route", "timeout": "menu"},
                },
                {
                    "id": "route",
                    "type": "condition",
                    "config": {"when": {"var": "call.digits", "op": "eq", "value": "1"}},
                    "transitions": {"true": "sales", "false": "menu"},
                },
                {
                    "id": "sales",
                    "type": "transfer",
                    "config": {"department": "Sales", "timeout_s": 25},
                    "transitions": {"connected": "bye", "no_answer": "sorry", "failed": "sorry"},
                },
                {"id": "sorry", "type": "say", "config": {"text": "Sorry, nobody could answer."}},
                {"id": "bye", "type": "hangup"},
            ],
        },
    }


def _ok(response: httpx.Response, status: int = 200) -> Any:
    assert response.status_code == status, response.text
    return response.json() if response.content else None


def _set_up_the_line(stack: Stack) -> dict[str, Any]:
    """Sales (a queue), Asha and Bo (offline), the main line, the menu flow published and
    deployed to it in production."""
    with stack.client() as http:
        sales = _ok(http.post("/api/departments", json={"name": "Sales", "queue": "sales"}), 201)
        agents = {
            name: _ok(
                http.post(
                    "/api/agents",
                    json={
                        "name": name,
                        "phone": phone,
                        "department_ids": [sales["id"]],
                        "skills": skills,
                    },
                ),
                201,
            )
            for name, phone, skills in (
                ("Asha", "+15550107070", ["english", "hindi"]),
                ("Bo", "+15550108080", ["spanish"]),
            )
        }
        _ok(http.post("/api/phone-numbers", json={"number": NUMBER, "label": "Main line"}), 201)
        flow = _ok(http.post("/api/flows", json=menu_flow()), 201)
        _ok(http.post(f"/api/flows/{flow['id']}/versions/1/publish"))
        _ok(http.post(f"/api/flows/{flow['id']}/deploy", json={"phone_numbers": [NUMBER]}), 201)
    return {"sales": sales, "agents": agents, "flow": flow}


REVIEW_FLOW = {
    "name": "Callback review",
    "trigger": {"type": "manual"},
    "definition": {
        "start": "review",
        "nodes": [
            {
                "id": "review",
                "type": "human_task",
                "config": {
                    "assignee": "Bo",
                    "title": "Call the customer back",
                    "fields": [{"name": "outcome", "type": "choice", "options": ["done", "later"]}],
                    "timeout_s": 3600,
                },
                "transitions": {"completed": "done", "timeout": "done"},
            },
            {"id": "done", "type": "end"},
        ],
    },
}
"""A task for Bo: it waits for him (or an hour)."""


def _until_waiting(stack: Stack, execution_id: str) -> None:
    deadline = time.monotonic() + 60
    with stack.client() as http:
        while (status := http.get(f"/api/executions/{execution_id}").json()["status"]) != "waiting":
            assert time.monotonic() < deadline, f"execution {execution_id} still {status}"
            time.sleep(0.2)


def _department(page: Page, name: str) -> Locator:
    return page.locator("article.department-card").filter(
        has=page.get_by_role("heading", name=name, exact=True)
    )


def _agent_row(page: Page, name: str) -> Locator:
    return page.locator("tr.agent-row").filter(
        has=page.get_by_role("rowheader").filter(
            has=page.get_by_role("link", name=name, exact=True)
        )
    )


def _agent(stack: Stack, agent_id: str) -> dict[str, Any]:
    with stack.client() as http:
        return dict(_ok(http.get(f"/api/agents/{agent_id}")))


def _until_completed(stack: Stack, execution_id: str) -> None:
    deadline = time.monotonic() + 60
    with stack.client() as http:
        while (
            status := http.get(f"/api/executions/{execution_id}").json()["status"]
        ) != "completed":
            assert time.monotonic() < deadline, f"execution {execution_id} still {status}"
            time.sleep(0.2)


async def test_a_supervisor_follows_a_call_on_the_agents_board(browsing: Browsing) -> None:
    page, stack = browsing.page, browsing.stack
    await browsing.sign_in(stack.issue_key("manager"))
    await page.get_by_role("link", name="Calls & people").click()
    await expect(page.get_by_role("heading", name="Calls & people")).to_be_visible()
    await expect(page.get_by_text("No departments yet")).to_be_visible()
    await expect(page.get_by_text("No agents yet")).to_be_visible()
    await expect(page.get_by_text("No phone numbers yet")).to_be_visible()
    await browsing.shoot("01-empty")

    line = _set_up_the_line(stack)
    asha, bo = line["agents"]["Asha"], line["agents"]["Bo"]
    # The board notices the new department and agents by itself; numbers load with the page.
    sales = _department(page, "Sales")
    await expect(sales).to_be_visible(timeout=LIVE)
    await expect(_agent_row(page, "Bo")).to_be_visible(timeout=LIVE)
    await page.reload()
    await expect(sales.get_by_test_id("queue-length")).to_have_text("No one waiting")
    await expect(sales.get_by_test_id("department-agents")).to_have_text(
        "0 available0 busy2 offline"
    )
    await expect(page.get_by_label("Status of Asha")).to_have_value("offline")
    await expect(page.get_by_label("Skills of Asha")).to_have_text("englishhindi")
    number_row = page.locator("tr.number-row", has_text=NUMBER)
    await expect(number_row).to_contain_text("Main line")
    await expect(number_row.locator("td[data-environment=production]")).to_contain_text(
        "Main menu v1"
    )
    await expect(number_row.locator("td[data-environment=staging]")).to_contain_text(
        "Nothing deployed"
    )
    await expect(page.get_by_test_id("live-status")).to_contain_text("refreshed every 3 s")
    await browsing.shoot("02-board")

    # The phone rings; the caller presses 1; nobody is available: the queue.
    async with httpx.AsyncClient(base_url=stack.url, timeout=20) as http:
        call = SimulatedCall(
            client=http, auth_token=AUTH_TOKEN, public_url=PUBLIC_URL, to=NUMBER, from_=CALLER
        )
        menu = await call.start()
        assert menu.spoken() == ["Press 1 for sales."], menu.text
        queued = await call.press("1")
        assert queued.first("Enqueue") is not None, queued.text
        execution_id = execution_id_for_call(call.call_sid)

        await expect(sales.get_by_test_id("queue-length")).to_have_text("1 waiting", timeout=LIVE)
        waiting = sales.get_by_role("list", name="Callers waiting for Sales").get_by_role(
            "listitem"
        )
        await expect(waiting).to_have_count(1)
        await expect(page.get_by_test_id("board-totals")).to_have_text(
            "1 caller waiting0 available0 busy2 offline"
        )
        await expect(waiting.first).to_contain_text(CALLER)
        await expect(waiting.first).to_contain_text("waiting 0:")
        await expect(waiting.first.get_by_role("link", name="Execution")).to_have_attribute(
            "href", f"/executions/{execution_id}"
        )
        await browsing.shoot("03-caller-waiting")

        # Asha says she is available: the waiting caller is offered to her at once.
        await page.get_by_label("Status of Asha").select_option("available")
        await expect(page.locator(".action-message-region")).to_contain_text(
            "Asha is available and was offered the next waiting caller, so is busy now."
        )
        await expect(page.get_by_label("Status of Asha")).to_have_value("busy")
        await expect(sales.get_by_test_id("queue-length")).to_have_text("No one waiting")
        await expect(sales.get_by_test_id("department-agents")).to_have_text(
            "0 available1 busy1 offline"
        )
        assert _agent(stack, asha["id"])["status"] == "busy"
        await browsing.shoot("04-agent-busy")

        # Her own view: the call she is on, and the way to its execution.
        await _agent_row(page, "Asha").get_by_role("link", name="Asha").click()
        await expect(page.get_by_role("heading", name="Asha", exact=True)).to_be_visible()
        work = page.get_by_role("table", name="Active flows and tasks").locator("tbody tr")
        await expect(work).to_have_count(1)
        await expect(work.first).to_contain_text("Main menu")
        await expect(work.first).to_contain_text(f"On call {call.call_sid}")
        await expect(
            work.first.get_by_role("link", name="Open the execution of Main menu")
        ).to_have_attribute("href", f"/executions/{execution_id}")
        await expect(page.get_by_label("Status of Asha")).to_have_value("busy")
        await browsing.shoot("05-agent-view-on-call")

        # She picks up; the call ends: she is free again and her view empties, live.
        connected = await call.queue_ends("bridged", queue_time_s=20)
        assert connected.verbs == ["Hangup"], connected.text
        _until_completed(stack, execution_id)
        await expect(page.get_by_text("Nothing under way")).to_be_visible(timeout=LIVE)
        await expect(page.get_by_label("Status of Asha")).to_have_value("available")
        await browsing.shoot("06-agent-view-free")

    await page.get_by_role("link", name="Calls & people").first.click()
    await expect(page.get_by_label("Status of Asha")).to_have_value("available")
    await expect(sales.get_by_test_id("department-agents")).to_have_text(
        "1 available0 busy1 offline"
    )
    assert _agent(stack, bo["id"])["status"] == "offline"


async def test_departments_agents_and_deployments_are_managed_on_the_page(
    browsing: Browsing,
) -> None:
    page, stack = browsing.page, browsing.stack
    dialog = page.get_by_role("dialog")
    line = _set_up_the_line(stack)
    await browsing.sign_in(stack.issue_key("manager"))
    await page.goto(stack.url + "/calls")
    await expect(_department(page, "Sales")).to_be_visible()

    # A department: created, renamed with an overflow, checked through the API.
    await page.get_by_role("button", name="New department").click()
    await dialog.get_by_label("Name").fill("Support")
    await dialog.get_by_label("Queue").fill("support")
    await browsing.shoot("01-new-department")
    await page.get_by_role("button", name="Create department").click()
    await expect(page.locator(".action-message-region")).to_contain_text(
        'Created department "Support".'
    )
    support = _department(page, "Support")
    await expect(support).to_contain_text("Queue “support”")
    await support.get_by_role("button", name="Edit Support").click()
    await dialog.get_by_label("Name").fill("Customer care")
    await dialog.get_by_label("Overflow to").select_option(label="Sales")
    await page.get_by_role("button", name="Save department").click()
    care = _department(page, "Customer care")
    await expect(care).to_contain_text("Overflows to Sales")
    with stack.client() as http:
        [care_row] = [d for d in _ok(http.get("/api/departments")) if d["name"] == "Customer care"]
    assert care_row["overflow_department_id"] == line["sales"]["id"]
    assert care_row["queue"] == "support"
    # Business hours are set through the API; the board shows them, and the page keeps them.
    hours = {"start": "09:30", "end": "18:30", "timezone": "Asia/Kolkata"}
    with stack.client() as http:
        _ok(http.patch(f"/api/departments/{care_row['id']}", json={"business_hours": hours}))
    await expect(care).to_contain_text(
        "Open 09:30\u201318:30 mon\u2013fri (Asia/Kolkata)", timeout=LIVE
    )
    await care.get_by_role("button", name="Edit Customer care").click()
    await dialog.get_by_label("Queue").fill("care")
    await page.get_by_role("button", name="Save department").click()
    await expect(care).to_contain_text("Queue “care”")
    with stack.client() as http:
        kept = _ok(http.get(f"/api/departments/{care_row['id']}"))
    assert kept["business_hours"]["start"] == "09:30" and kept["queue"] == "care"

    # A refused form shows the API's reason and keeps the dialog open.
    await page.get_by_role("button", name="New agent").click()
    await dialog.get_by_label("Name").fill("Cleo")
    await dialog.get_by_label("Phone (E.164)").fill("555-0100")
    await page.get_by_role("button", name="Create agent").click()
    await expect(page.get_by_role("dialog").get_by_role("alert")).to_contain_text("E.164")
    browsing.console.take("status of 422")
    await browsing.shoot("02-agent-refused")

    # An agent: created in a department with skills, then edited, then deleted.
    await dialog.get_by_label("Phone (E.164)").fill("+15550102020")
    await dialog.get_by_label("Customer care").check()
    await dialog.get_by_label("Skills (comma-separated)").fill("billing, french")
    await dialog.get_by_label("Status").select_option("available")
    await page.get_by_role("button", name="Create agent").click()
    await expect(page.locator(".action-message-region")).to_contain_text(
        'Created agent "Cleo" (available).'
    )
    cleo = _agent_row(page, "Cleo")
    await expect(cleo).to_contain_text("Customer care")
    await expect(page.get_by_label("Skills of Cleo")).to_have_text("billingfrench")
    await expect(page.get_by_label("Status of Cleo")).to_have_value("available")
    await expect(care.get_by_test_id("department-agents")).to_have_text(
        "1 available0 busy0 offline"
    )
    await browsing.shoot("03-agent-created")
    await cleo.get_by_role("button", name="Edit Cleo").click()
    await dialog.get_by_label("Sales").check()
    await dialog.get_by_label("Skills (comma-separated)").fill("billing")
    await page.get_by_role("button", name="Save agent").click()
    await expect(cleo).to_contain_text("Customer care, Sales")
    await expect(page.get_by_label("Skills of Cleo")).to_have_text("billing")
    with stack.client() as http:
        [cleo_row] = [a for a in _ok(http.get("/api/agents")) if a["name"] == "Cleo"]
    assert cleo_row["skills"] == ["billing"] and cleo_row["phone"] == "+15550102020"
    assert sorted(cleo_row["department_ids"]) == sorted([line["sales"]["id"], care_row["id"]])

    await cleo.get_by_role("button", name="Delete Cleo").click()
    await expect(page.get_by_role("dialog")).to_contain_text('Delete agent "Cleo"?')
    await browsing.shoot("04-delete-agent")
    await page.get_by_role("button", name="Delete agent").click()
    await expect(cleo).to_have_count(0)
    await care.get_by_role("button", name="Delete Customer care").click()
    await page.get_by_role("button", name="Delete department").click()
    await expect(care).to_have_count(0)
    with stack.client() as http:
        assert [a["name"] for a in _ok(http.get("/api/agents"))] == ["Asha", "Bo"]
        assert [d["name"] for d in _ok(http.get("/api/departments"))] == ["Sales"]

    # A deployment: the menu deployed to staging from the page, then removed.
    row = page.locator("tr.number-row", has_text=NUMBER)
    await row.get_by_role("button", name=f"Deploy a flow to {NUMBER} in staging").click()
    await expect(dialog.get_by_label("Flow")).to_have_value(line["flow"]["id"])
    await page.get_by_role("button", name="Deploy", exact=True).click()
    await expect(page.locator(".action-message-region")).to_contain_text(
        f'"Main menu" v1 now answers {NUMBER} in staging.'
    )
    await expect(row.locator("td[data-environment=staging]")).to_contain_text("Main menu v1")
    await browsing.shoot("05-deployed-to-staging")
    await row.get_by_role("button", name=f"Remove the staging deployment of {NUMBER}").click()
    await page.get_by_role("button", name="Remove deployment").click()
    await expect(row.locator("td[data-environment=staging]")).to_contain_text("Nothing deployed")
    await expect(row.locator("td[data-environment=production]")).to_contain_text("Main menu v1")
    with stack.client() as http:
        [number] = _ok(http.get("/api/phone-numbers"))
    assert number["deployments"]["staging"] is None
    assert number["deployments"]["production"]["flow_id"] == line["flow"]["id"]

    # A number still answering in production cannot go: the API's reason is shown.
    await row.get_by_role("button", name=f"Delete {NUMBER}").click()
    await page.get_by_role("button", name="Delete number").click()
    await expect(page.get_by_role("dialog").get_by_role("alert")).to_be_visible()
    browsing.console.take("status of 409")
    await browsing.shoot("06-number-refused")
    await page.get_by_role("button", name="Cancel").click()
    await expect(row).to_be_visible()


async def test_an_agent_sets_only_its_own_status_and_a_viewer_changes_nothing(
    browsing: Browsing,
) -> None:
    page, stack = browsing.page, browsing.stack
    line = _set_up_the_line(stack)
    asha, bo = line["agents"]["Asha"], line["agents"]["Bo"]
    with stack.client() as http:
        bo_key = _ok(http.post("/api/keys", json={"name": "Bo", "role": "agent"}), 201)["secret"]
        review = _ok(http.post("/api/flows", json=REVIEW_FLOW), 201)
        _ok(http.post(f"/api/flows/{review['id']}/versions/1/publish"))
        run = _ok(http.post(f"/api/flows/{review['id']}/executions", json={"contact": {}}), 201)
    _until_waiting(stack, run["id"])

    # Bo, signed in with his own agent key, finds his page from the board: the task that
    # waits for him, and the way to it.
    await browsing.sign_in(bo_key)
    await page.goto(stack.url + "/calls")
    await page.get_by_role("link", name="your flows and tasks").click()
    await expect(page.get_by_role("heading", name="Bo", exact=True)).to_be_visible()
    work = page.get_by_role("table", name="Active flows and tasks").locator("tbody tr")
    await expect(work).to_have_count(1)
    await expect(work.first).to_contain_text("Callback review")
    await expect(work.first).to_contain_text("Task")
    await expect(work.first).to_contain_text("Waiting at step review")
    await expect(
        work.first.get_by_role("link", name="Open the execution of Callback review")
    ).to_have_attribute("href", f"/executions/{run['id']}")
    await page.get_by_label("Status of Bo").select_option("available")
    await expect(page.locator(".action-message-region")).to_contain_text("Bo is available.")
    assert _agent(stack, bo["id"])["status"] == "available"
    await browsing.shoot("01-agent-own-view")
    # Asha's status is not his to change; the board shows no edit control to him.
    await page.goto(f"{stack.url}/agents/{asha['id']}")
    await expect(page.get_by_role("heading", name="Asha", exact=True)).to_be_visible()
    await expect(page.get_by_label("Status of Asha")).to_have_count(0)
    await page.goto(stack.url + "/calls")
    await expect(page.get_by_label("Status of Bo")).to_have_value("available")
    await expect(page.get_by_label("Status of Asha")).to_have_count(0)
    await expect(page.get_by_role("button", name="New agent")).to_have_count(0)
    await page.get_by_role("button", name="Sign out").click()
    await expect(page.get_by_text("You are signed out.")).to_be_visible()

    # A viewer sees the whole board, live, and no control that changes anything.
    await browsing.sign_in(stack.issue_key("viewer"))
    await page.goto(stack.url + "/calls")
    sales = _department(page, "Sales")
    await expect(sales.get_by_test_id("department-agents")).to_have_text(
        "1 available0 busy1 offline"
    )
    await expect(_agent_row(page, "Asha")).to_contain_text("Offline")
    await expect(_agent_row(page, "Bo")).to_contain_text("Available")
    await expect(page.locator("tr.number-row", has_text=NUMBER)).to_contain_text("Main menu v1")
    main = page.locator("main")
    await expect(main.get_by_role("combobox")).to_have_count(0)
    for name in ("New department", "New agent", "New number", "Edit", "Delete", "Remove", "Deploy"):
        await expect(main.get_by_role("button", name=name)).to_have_count(0)
    with stack.client() as http:
        _ok(http.put(f"/api/agents/{asha['id']}/status", json={"status": "busy"}))
    await expect(_agent_row(page, "Asha")).to_contain_text("Busy", timeout=LIVE)
    await browsing.shoot("02-viewer-board")
    await page.goto(f"{stack.url}/agents/{asha['id']}")
    await expect(page.get_by_role("heading", name="Asha", exact=True)).to_be_visible()
    await expect(main.get_by_role("combobox")).to_have_count(0)
    await browsing.shoot("03-viewer-agent-view")

    # An agent that is not there: the API's reason, and the way back.
    await page.goto(f"{stack.url}/agents/no-such-agent")
    await expect(page.get_by_role("alert")).to_contain_text("This agent could not be loaded")
    await expect(page.get_by_role("alert")).to_contain_text("agent no-such-agent not found")
    browsing.console.take("status of 404", count=2)  # the agent and its work
    await browsing.shoot("04-unknown-agent")

    # The API gone: the board keeps what it showed and says it is not updating.
    await page.get_by_role("link", name="Back to calls and people").click()
    await expect(sales.get_by_test_id("queue-length")).to_have_text("No one waiting")
    stack.api.kill()
    stale = page.get_by_role("alert").filter(has_text="Not updating")
    await expect(stale).to_contain_text("Cannot reach the Flowdeck API", timeout=LIVE)
    await expect(sales).to_be_visible()
    await browsing.shoot("05-api-gone")
    await page.goto("about:blank")
    refused = [e for e in browsing.console.errors if "ERR_CONNECTION_REFUSED" in e]
    assert refused, browsing.console.errors
    browsing.console.take("ERR_CONNECTION_REFUSED", count=len(refused))
