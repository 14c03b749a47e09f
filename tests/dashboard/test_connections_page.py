"""The Connections page and the analytics' AI usage in a real browser against the real stack:
an admin creates a Slack connection (a field the API refuses is shown under it) and an
OpenAI-compatible one pointed at a local chat-completions server, sees each secret masked and
never in the page, tests it, replaces its secret, cannot delete one a published flow uses (the
API's 409 naming the flow), deletes an unused one; a viewer sees the list and no edit
control; runs of an `ai_classify` step show their tokens and cost on the analytics pages."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from playwright.async_api import Locator, Page, expect

from tests.dashboard.conftest import Browsing, Stack
from tests.fake_openai import (
    API_KEY,
    FakeChatServer,
    Received,
    Reply,
    json_reply,
    serve_fake_openai,
)

pytestmark = pytest.mark.timeout(300)

SLACK_TOKEN = "xoxb-2718281828-3141592653-ZmxvdWRlY2tzZWNyZXQ"
WRONG_KEY = "sk-test-ffffffffffffffffffffffffffffffffWXYZ"
PROMPT_TOKENS, COMPLETION_TOKENS = 40, 8


@pytest.fixture
def stack_env() -> dict[str, str]:
    """The local chat-completions server is on loopback: the address guard must let it be."""
    return {"FLOWDECK_HTTP_ALLOWLIST": "127.0.0.1"}


def _by_keyword(request: Received) -> Reply:
    """The fake model: billing when the message speaks of money, else technical."""
    label = "billing" if "invoice" in request.user.lower() else "technical"
    reply = {"label": label, "confidence": 0.9}
    return json_reply(reply, prompt_tokens=PROMPT_TOKENS, completion_tokens=COMPLETION_TOKENS)


@pytest.fixture
async def chat() -> AsyncIterator[FakeChatServer]:
    async with serve_fake_openai() as server:
        server.answer = _by_keyword
        yield server


def _client(stack: Stack, key: str | None = None) -> httpx.AsyncClient:
    """Asynchronous: the fake chat server answers on this test's event loop, which a
    blocking request would stall."""
    headers = {"Authorization": f"Bearer {key or stack.admin_key}"}
    return httpx.AsyncClient(base_url=stack.url, headers=headers, timeout=20)


async def _created(response: httpx.Response) -> dict[str, Any]:
    assert response.status_code in (200, 201), response.text
    return dict(response.json())


def _openai_body(base_url: str, name: str = "llm") -> dict[str, Any]:
    return {
        "name": name,
        "integration": "openai",
        "auth": "api_key",
        "settings": {
            "base_url": base_url,
            "model": "gpt-4o-mini",
            "price_per_1k_input": 0.5,
            "price_per_1k_output": 1.5,
        },
        "secret": {"api_key": API_KEY},
    }


def _slack_flow(name: str, connection: str) -> dict[str, Any]:
    return {
        "name": name,
        "trigger": {"type": "manual"},
        "definition": {
            "start": "post",
            "nodes": [
                {
                    "id": "post",
                    "type": "slack",
                    "config": {"connection": connection, "channel": "#sales", "text": "New lead"},
                    "transitions": {"sent": "done"},
                },
                {"id": "done", "type": "end"},
            ],
        },
    }


def _triage_flow(connection: str, name: str = "Ticket triage") -> dict[str, Any]:
    return {
        "name": name,
        "trigger": {"type": "manual"},
        "definition": {
            "start": "classify",
            "nodes": [
                {
                    "id": "classify",
                    "type": "ai_classify",
                    "config": {
                        "connection": connection,
                        "text": "{{ vars.message }}",
                        "labels": ["billing", "technical"],
                    },
                    "retry": {"max_attempts": 1},
                    "transitions": {"success": "done"},
                },
                {"id": "done", "type": "end"},
            ],
        },
    }


async def _published(http: httpx.AsyncClient, body: dict[str, Any]) -> str:
    flow = await _created(await http.post("/api/flows", json=body))
    await _created(await http.post(f"/api/flows/{flow['id']}/versions/1/publish"))
    return str(flow["id"])


async def _completed_runs(http: httpx.AsyncClient, flow_id: str, messages: list[str]) -> None:
    started = []
    for message in messages:
        body = {"contact": {"name": "Asha"}, "variables": {"message": message}}
        run = await _created(await http.post(f"/api/flows/{flow_id}/executions", json=body))
        started.append(run["id"])
    deadline = time.monotonic() + 60
    for execution_id in started:
        while (await http.get(f"/api/executions/{execution_id}")).json()["status"] != "completed":
            assert time.monotonic() < deadline, f"execution {execution_id} did not complete"
            await asyncio.sleep(0.2)


def _row(page: Page, name: str) -> Locator:
    return page.locator("tr.connection-row").filter(
        has=page.get_by_role("rowheader").filter(has_text=name)
    )


async def _open_connections(page: Page) -> None:
    await (
        page.get_by_role("navigation", name="Main").get_by_role("link", name="Connections").click()
    )
    await expect(page.get_by_role("heading", level=1, name="Connections")).to_be_visible()


async def test_an_admin_creates_tests_rekeys_and_deletes_connections(
    browsing: Browsing, chat: FakeChatServer
) -> None:
    page, stack = browsing.page, browsing.stack
    await browsing.sign_in(stack.admin_key)
    await _open_connections(page)

    # Nothing yet: the empty state says what a connection is for.
    empty = page.locator("main .state-empty")
    await expect(empty).to_contain_text("No connections yet")
    await expect(empty).to_contain_text("A step names a connection, so no secret is written")
    await browsing.shoot("01-empty")

    # By keyboard: Enter opens the form, Escape closes it and gives the focus back.
    opener = page.get_by_role("button", name="New connection")
    await opener.focus()
    await page.keyboard.press("Enter")
    await expect(page.get_by_role("dialog", name="New connection")).to_be_visible()
    await expect(page.get_by_label("Name")).to_be_focused()
    await page.keyboard.press("Escape")
    await expect(page.get_by_role("dialog")).to_have_count(0)
    await expect(opener).to_be_focused()

    # A Slack connection with a bearer token; a base URL the API refuses is shown under it.
    await opener.click()
    dialog = page.get_by_role("dialog", name="New connection")
    await dialog.get_by_label("Name").fill("sales-slack")
    await dialog.get_by_label("Integration").select_option(label="Slack")
    await expect(dialog.get_by_label("Auth").locator("option")).to_have_text(
        ["Bearer token", "Webhook URL"]
    )
    await dialog.get_by_label("Auth").select_option(label="Bearer token")
    token = dialog.get_by_label("Token")
    await expect(token).to_have_attribute("type", "password")
    await token.fill(SLACK_TOKEN)
    await dialog.get_by_label("Base URL").fill("ftp://slack.example.com")
    await dialog.get_by_role("button", name="Create connection").click()
    problem = dialog.locator("#connection-setting-base_url-problem")
    await expect(problem).to_have_text("the URL must begin with http:// or https://")
    await expect(dialog.get_by_label("Base URL")).to_have_attribute("aria-invalid", "true")
    browsing.console.take(r"status of 422")
    await browsing.shoot("02-new-slack-refused")
    await dialog.get_by_label("Base URL").fill("")
    await dialog.get_by_role("button", name="Create connection").click()
    await expect(page.get_by_text("Created “sales-slack”")).to_be_visible()
    slack = _row(page, "sales-slack")
    await expect(slack).to_contain_text("Slack")
    await expect(slack).to_contain_text("Bearer token")
    await expect(slack.get_by_test_id("secret")).to_have_text("Token:••••" + SLACK_TOKEN[-4:])
    await expect(slack.get_by_test_id("settings")).to_have_text("Base URL:https://slack.com/api")

    # An OpenAI-compatible connection to the local server, with its model and prices.
    await page.get_by_role("button", name="New connection").click()
    dialog = page.get_by_role("dialog", name="New connection")
    await dialog.get_by_label("Name").fill("llm")
    await dialog.get_by_label("Integration").select_option(label="OpenAI-compatible")
    await dialog.get_by_label("Auth").select_option(label="API key")
    await dialog.get_by_label("API key").fill(API_KEY)
    await dialog.get_by_label("Base URL").fill(chat.base_url)
    await dialog.get_by_label("Default model").fill("gpt-4o-mini")
    await dialog.get_by_label("Price per 1,000 prompt tokens").fill("0.5")
    await dialog.get_by_label("Price per 1,000 completion tokens").fill("1.5")
    await browsing.shoot("03-new-openai")
    await dialog.get_by_role("button", name="Create connection").click()
    await expect(page.get_by_text("Created “llm”")).to_be_visible()
    llm = _row(page, "llm")
    await expect(llm.get_by_test_id("secret")).to_have_text("API key:••••" + API_KEY[-4:])
    await expect(llm.get_by_test_id("settings")).to_contain_text(f"Base URL:{chat.base_url}")
    await expect(llm.get_by_test_id("settings")).to_contain_text("Default model:gpt-4o-mini")
    for secret in (SLACK_TOKEN, API_KEY):
        assert secret not in await page.content()

    # Testing it: the local server lists its models for that key.
    await page.get_by_role("button", name="Test llm").click()
    answer = page.get_by_test_id("test-llm")
    await expect(answer).to_contain_text("Test passed")
    await expect(answer).to_contain_text("the API lists 2 model(s)")
    await browsing.shoot("04-tested")
    # At 1280 px the whole table shows, its Delete buttons included, without scrolling it.
    frame = page.locator(".table-frame").filter(has=page.locator(".connections-table"))
    widths = await frame.evaluate("f => [f.scrollWidth, f.clientWidth]")
    assert widths[0] <= widths[1], widths

    # A wrong key, then the right one again: the test says so each time, the mask follows.
    for key, verdict in ((WRONG_KEY, "Test failed"), (API_KEY, "Test passed")):
        await page.get_by_role("button", name="Replace the secret of llm").click()
        dialog = page.get_by_role("dialog", name="Replace the secret of “llm”")
        await dialog.get_by_label("API key").fill(key)
        if key == WRONG_KEY:
            await browsing.shoot("05-replace-secret")
        await dialog.get_by_role("button", name="Replace secret").click()
        await expect(page.get_by_text("Replaced the secret of “llm”.")).to_be_visible()
        await expect(llm.get_by_test_id("secret")).to_have_text("API key:••••" + key[-4:])
        await page.get_by_role("button", name="Test llm").click()
        await expect(answer).to_contain_text(verdict)
        if key == WRONG_KEY:
            await expect(answer).to_contain_text("401")
            await browsing.shoot("06-test-failed")
        assert key not in await page.content()

    # A published flow uses the Slack connection: the API refuses to delete it, naming it.
    async with _client(stack) as http:
        await _published(http, _slack_flow("Lead alert", "sales-slack"))
        await _created(
            await http.post(
                "/api/connections",
                json={
                    "name": "old-stripe",
                    "integration": "stripe",
                    "auth": "api_key",
                    "secret": {"api_key": "sk_test_unused_key_000000000000"},
                },
            )
        )
    await page.reload()
    await page.get_by_role("button", name="Delete sales-slack").click()
    confirm = page.get_by_role("dialog", name="Delete “sales-slack”?")
    await confirm.get_by_role("button", name="Delete connection").click()
    await expect(confirm.get_by_role("alert")).to_contain_text("Lead alert")
    await browsing.shoot("07-delete-refused")
    await confirm.get_by_role("button", name="Cancel").click()
    await expect(slack).to_be_visible()

    # An unused one goes.
    await page.get_by_role("button", name="Delete old-stripe").click()
    confirm = page.get_by_role("dialog", name="Delete “old-stripe”?")
    await confirm.get_by_role("button", name="Delete connection").click()
    await expect(page.get_by_text("Deleted “old-stripe”.")).to_be_visible()
    await expect(page.locator("tr.connection-row")).to_have_count(2)
    await browsing.shoot("08-after-delete")
    async with _client(stack) as http:
        names = [c["name"] for c in (await http.get("/api/connections")).json()]
    assert names == ["llm", "sales-slack"]
    browsing.console.take(r"status of 409")


async def test_a_viewer_sees_the_connections_masked_and_no_edit_control(
    browsing: Browsing, chat: FakeChatServer
) -> None:
    page, stack = browsing.page, browsing.stack
    async with _client(stack) as http:
        await _created(await http.post("/api/connections", json=_openai_body(chat.base_url)))
        slack = {
            "name": "sales-slack",
            "integration": "slack",
            "auth": "bearer",
            "secret": {"token": SLACK_TOKEN},
        }
        await _created(await http.post("/api/connections", json=slack))
    viewer = stack.issue_key("viewer")
    await browsing.sign_in(viewer)
    await _open_connections(page)

    await expect(page.locator("tr.connection-row")).to_have_count(2)
    await expect(_row(page, "llm").get_by_test_id("secret")).to_have_text(
        "API key:••••" + API_KEY[-4:]
    )
    await expect(_row(page, "sales-slack")).to_contain_text("Bearer token")
    main = page.locator("main")
    await expect(main.get_by_role("button")).to_have_count(0)
    for secret in (SLACK_TOKEN, API_KEY):
        assert secret not in await page.content()
    await browsing.shoot("01-viewer")

    # The API refuses the viewer anyway.
    async with _client(stack, viewer) as http:
        refused = await http.post("/api/connections", json=_openai_body(chat.base_url, "mine"))
    assert refused.status_code == 403


async def test_analytics_show_the_tokens_and_cost_of_ai_steps(
    browsing: Browsing, chat: FakeChatServer
) -> None:
    page, stack = browsing.page, browsing.stack
    async with _client(stack) as http:
        await _created(await http.post("/api/connections", json=_openai_body(chat.base_url)))
        unpriced = _openai_body(chat.base_url, "llm-unpriced")
        unpriced["settings"] = {"base_url": chat.base_url, "model": "gpt-4o-mini"}
        await _created(await http.post("/api/connections", json=unpriced))
        triage = await _published(http, _triage_flow("llm"))
        drafts = await _published(http, _triage_flow("llm-unpriced", "Reply drafts"))
        plain = await _published(
            http,
            {
                "name": "Plain",
                "trigger": {"type": "manual"},
                "definition": {"start": "done", "nodes": [{"id": "done", "type": "end"}]},
            },
        )
        await _completed_runs(http, plain, ["-"])
    await browsing.sign_in(stack.admin_key)

    # Runs, but no AI step yet: the AI usage says what it will show.
    await page.get_by_role("navigation", name="Main").get_by_role("link", name="Analytics").click()
    usage = page.locator("section.ai-usage")
    await expect(usage).to_contain_text("No AI step succeeded in this window.")
    await browsing.shoot("01-no-ai-usage")

    async with _client(stack) as http:
        await _completed_runs(http, triage, ["Where is my invoice?", "The app crashes", "Refund?"])
        await _completed_runs(http, drafts, ["Thanks!"])
    runs = 3
    cost = runs * (PROMPT_TOKENS * 0.5 + COMPLETION_TOKENS * 1.5) / 1000
    await page.reload()
    rows = usage.locator("tbody tr")
    await expect(rows).to_have_count(2)
    row = rows.first  # the most tokens first
    cells = [
        "Ticket triage",
        str(runs),
        str(runs * PROMPT_TOKENS),
        str(runs * COMPLETION_TOKENS),
        str(runs * (PROMPT_TOKENS + COMPLETION_TOKENS)),
        f"US${cost:.3f}",
    ]
    await expect(row.locator("th, td")).to_have_text(cells)
    tokens = PROMPT_TOKENS + COMPLETION_TOKENS
    unpriced_cells = ["Reply drafts", "1", str(PROMPT_TOKENS), str(COMPLETION_TOKENS), str(tokens)]
    await expect(rows.nth(1).locator("th, td")).to_have_text([*unpriced_cells, "no prices"])
    total = [
        "Total",
        str(runs + 1),
        str((runs + 1) * PROMPT_TOKENS),
        str((runs + 1) * COMPLETION_TOKENS),
        str((runs + 1) * tokens),
        f"US${cost:.3f} ({runs} of {runs + 1} priced)",
    ]
    await expect(usage.locator("tfoot tr").locator("th, td")).to_have_text(total)
    await usage.scroll_into_view_if_needed()
    await browsing.shoot("02-ai-usage-overview")

    # The flow's report: the same per AI step.
    await row.get_by_role("link", name="Ticket triage").click()
    await expect(page.get_by_role("heading", level=1, name="Ticket triage")).to_be_visible()
    step = page.locator("section.ai-usage tbody tr")
    await expect(step.locator("th")).to_contain_text("classify")
    await expect(step.locator("td")).to_have_text(cells[1:])
    await page.locator("section.ai-usage").scroll_into_view_if_needed()
    await browsing.shoot("03-ai-usage-flow")
