"""The analytics pages in a real browser against the real stack: flows published and run
through the API (a condition, an A/B split, an HTTP step that fails, a run cancelled while it
waits, a test run), then the overview and a flow's report must show what the API reports and
what was run: runs per day, outcome rates, totals per flow, the funnel's counts on the canvas's
nodes and edges, the A/B variants; the range, the test-run switch and the flow filter change
what is shown; a flow without runs, a range the API refuses and an unknown flow each say so."""

from __future__ import annotations

import copy
import math
import re
import time
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from playwright.async_api import Locator, Page, expect

from tests.dashboard.conftest import Browsing, Stack

pytestmark = pytest.mark.timeout(300)

HOT, COLD = 6, 2
CALL_OUTCOMES = ("answered", "missed", "busy", "failed", "voicemail")
SIMULATED = ("answered", "missed", "missed", "busy")
FINISHED = {"completed", "failed", "cancelled", "skipped"}

# Hot leads (score over 50) meet an A/B split and complete; cold ones reach an HTTP step whose
# address (loopback, not allow-listed) is refused, and fail there. `thanks` is never reached.
SCORING = {
    "name": "Lead scoring",
    "trigger": {"type": "manual"},
    "definition": {
        "start": "route",
        "nodes": [
            {
                "id": "route",
                "type": "condition",
                "config": {"when": {"var": "contact.score", "op": "gt", "value": 50}},
                "transitions": {"true": "ab", "false": "crm"},
            },
            {
                "id": "ab",
                "type": "ab_split",
                "config": {"variants": [{"port": "a", "weight": 50}, {"port": "b", "weight": 50}]},
                "transitions": {"a": "offer_a", "b": "offer_b"},
            },
            {
                "id": "offer_a",
                "type": "set",
                "config": {"assign": {"offer": "discount"}},
                "transitions": {"next": "done"},
            },
            {
                "id": "offer_b",
                "type": "set",
                "config": {"assign": {"offer": "trial"}},
                "transitions": {"next": "done"},
            },
            {
                "id": "crm",
                "type": "http",
                "config": {"method": "POST", "url": "http://127.0.0.1:9/leads"},
                "transitions": {"success": "thanks"},
            },
            {
                "id": "thanks",
                "type": "set",
                "config": {"assign": {"synced": True}},
                "transitions": {"next": "done"},
            },
            {"id": "done", "type": "end"},
        ],
    },
}
SLOW = {
    "name": "Slow follow-up",
    "trigger": {"type": "manual"},
    "definition": {
        "start": "pause",
        "nodes": [
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
CALLS = {
    "name": "Call new leads",
    "trigger": {"type": "manual"},
    "definition": {
        "start": "call",
        "nodes": [
            {
                "id": "call",
                "type": "ai_call",
                "config": {"agent_id": "sales-bot", "ring_timeout_s": 30},
                "transitions": {port: "done" for port in CALL_OUTCOMES},
            },
            {"id": "done", "type": "end"},
        ],
    },
}
NEVER_RUN = {
    "name": "Never run",
    "trigger": {"type": "manual"},
    "definition": {"start": "done", "nodes": [{"id": "done", "type": "end"}]},
}


def _published(http: httpx.Client, body: dict[str, Any]) -> str:
    created = http.post("/api/flows", json=body)
    assert created.status_code == 201, created.text
    flow_id = str(created.json()["id"])
    published = http.post(f"/api/flows/{flow_id}/versions/1/publish")
    assert published.status_code == 200, published.text
    return flow_id


def _start(http: httpx.Client, flow_id: str, contact: dict[str, Any], *, test: bool = False) -> str:
    run = http.post(f"/api/flows/{flow_id}/executions", json={"contact": contact, "test": test})
    assert run.status_code == 201, run.text
    return str(run.json()["id"])


def _until(http: httpx.Client, execution_id: str, statuses: set[str]) -> str:
    deadline = time.monotonic() + 60
    while (status := http.get(f"/api/executions/{execution_id}").json()["status"]) not in statuses:
        assert time.monotonic() < deadline, f"execution {execution_id} still {status}"
        time.sleep(0.2)
    return str(status)


def _run_everything(stack: Stack) -> dict[str, str]:
    """The flows, and their runs finished: hot leads complete, cold ones fail, a slow one is
    cancelled while it waits, and one test run completes."""
    with stack.client() as http:
        ids = {body["name"]: _published(http, body) for body in (SCORING, SLOW, CALLS, NEVER_RUN)}
        scoring = ids["Lead scoring"]
        hot = [_start(http, scoring, {"name": f"hot {n}", "score": 80}) for n in range(HOT)]
        cold = [_start(http, scoring, {"name": f"cold {n}", "score": 10}) for n in range(COLD)]
        trial = _start(http, scoring, {"name": "tester", "score": 90}, test=True)
        slow = _start(http, ids["Slow follow-up"], {"name": "patient"})
        for execution_id in [*hot, trial]:
            assert _until(http, execution_id, FINISHED) == "completed"
        for execution_id in cold:
            assert _until(http, execution_id, FINISHED) == "failed"
        assert _until(http, slow, {"waiting"}) == "waiting"
        cancelled = http.post(f"/api/executions/{slow}/cancel")
        assert cancelled.status_code == 202, cancelled.text
        assert _until(http, slow, FINISHED) == "cancelled"
        # Sandbox calls, each ended by the outcome the sandbox is told to simulate.
        for n, outcome in enumerate(SIMULATED):
            call = _start(
                http, ids["Call new leads"], {"name": f"caller {n}", "phone": f"+1555020000{n}"}
            )
            assert _until(http, call, {"waiting"}) == "waiting"
            simulated = http.post(f"/api/executions/{call}/simulate", json={"call": outcome})
            assert simulated.status_code == 200, simulated.text
            assert _until(http, call, FINISHED) == "completed"
    return ids


def _percent(rate: float) -> str:
    """As the page writes a rate: one decimal, none when whole (JavaScript's rounding)."""
    value = math.floor(rate * 1000 + 0.5) / 10
    return f"{int(value)}%" if value.is_integer() else f"{value}%"


def _get(stack: Stack, path: str, **query: Any) -> dict[str, Any]:
    with stack.client() as http:
        answer = http.get(path, params=query)
    assert answer.status_code == 200, answer.text
    body: dict[str, Any] = answer.json()
    return body


def _window(days: int = 30) -> dict[str, str]:
    """The page's default window (the last 30 UTC days, today included), as the API takes it."""
    today = datetime.now(UTC).date()
    return {
        "since": f"{today - timedelta(days=days - 1)}T00:00:00Z",
        "until": f"{today + timedelta(days=1)}T00:00:00Z",
    }


async def _expect_tiles(page: Page, totals: dict[str, Any]) -> None:
    await expect(page.get_by_test_id("tile-runs").locator(".tile-figure")).to_have_text(
        str(totals["runs"])
    )
    for outcome in ("completed", "failed", "cancelled", "skipped"):
        tile = page.get_by_test_id(f"tile-{outcome}")
        await expect(tile.locator(".tile-figure")).to_have_text(_percent(totals["rates"][outcome]))
        count = totals["by_status"].get(outcome, 0)
        await expect(tile.locator(".tile-note")).to_have_text(f"{count} of {totals['runs']}")


async def _expect_day_row(chart: Locator, day: dict[str, Any]) -> None:
    """The chart's figures, unfolded: the day's runs and its count of each outcome."""
    await chart.get_by_text("Show the figures").click()
    row = chart.locator(f'tr[data-day="{day["day"]}"]')
    counts = [str(day["by_status"].get(s, 0)) for s in ("completed", "failed", "cancelled")]
    await expect(row.locator("td")).to_have_text(
        [str(day["runs"]), *counts, str(day["by_status"].get("skipped", 0)), "0"]
    )


def _node(page: Page, node_id: str) -> Locator:
    return page.get_by_test_id("flow-diagram").locator(f'.step-node[data-node-id="{node_id}"]')


def _edge_label(page: Page, edge: str) -> Locator:
    return page.get_by_test_id(f"rf__edge-{edge}").locator(".react-flow__edge-text")


async def test_analytics_show_what_was_run(browsing: Browsing) -> None:
    page, stack = browsing.page, browsing.stack
    ids = _run_everything(stack)
    today = datetime.now(UTC).date().isoformat()
    overview = _get(stack, "/api/analytics/overview", **_window())
    calls = len(SIMULATED)
    assert overview["runs"] == HOT + COLD + 1 + calls
    assert overview["by_status"] == {"cancelled": 1, "completed": HOT + calls, "failed": COLD}

    # The overview: tiles, runs per day, rates and the per-flow table, as the API counts them.
    await browsing.sign_in(stack.admin_key)
    # The Flows page's run count opens the flow's report, over the same seven days.
    await page.get_by_role(
        "link", name=f"Lead scoring: {HOT + COLD} runs, open its analytics"
    ).click()
    await expect(page.get_by_role("heading", name="Lead scoring", exact=True)).to_be_visible()
    await expect(page.get_by_role("button", name="7 days")).to_have_attribute(
        "aria-pressed", "true"
    )
    await page.get_by_role("link", name="Analytics", exact=True).first.click()
    await expect(page.get_by_role("heading", name="Analytics", exact=True)).to_be_visible()
    await _expect_tiles(page, overview)
    await expect(page.get_by_role("button", name="30 days")).to_have_attribute(
        "aria-pressed", "true"
    )
    await expect(page.locator(".uplot-frame canvas")).to_have_count(2)  # two charts
    runs_chart = page.locator("figure.chart").filter(has_text="Runs per day")
    [day] = overview["per_day"]
    assert day["day"] == today
    # The chart's legend holds the window's totals while the pointer is away from it.
    for outcome, label in (
        ("completed", "Completed"),
        ("failed", "Failed"),
        ("cancelled", "Cancelled"),
    ):
        legend = runs_chart.locator(".u-legend .u-series").filter(has_text=label)
        await expect(legend.locator(".u-value")).to_have_text(str(overview["by_status"][outcome]))
    rates_legend = (
        page.locator("figure.chart").filter(has_text="Outcome rates").locator(".u-legend")
    )
    await expect(
        rates_legend.locator(".u-series").filter(has_text="Failed").locator(".u-value")
    ).to_have_text(_percent(overview["rates"]["failed"]))
    await _expect_day_row(runs_chart, day)
    rates_chart = page.locator("figure.chart").filter(has_text="Outcome rates")
    await rates_chart.get_by_text("Show the figures").click()
    await expect(rates_chart.locator(f'tr[data-day="{today}"] td')).to_have_text(
        [str(day["runs"])]
        + [_percent(day["rates"][o]) for o in ("completed", "failed", "cancelled", "skipped")]
    )
    per_flow = page.get_by_role("table", name="Per flow")
    scoring_row = per_flow.locator(f'tr[data-flow-id="{ids["Lead scoring"]}"]')
    await expect(scoring_row.locator("td")).to_have_text(
        [str(HOT + COLD), "6 (75%)", "2 (25%)", "0 (0%)", "0 (0%)", "0"]
    )
    slow_row = per_flow.locator(f'tr[data-flow-id="{ids["Slow follow-up"]}"]')
    await expect(slow_row.locator("td")).to_have_text(
        ["1", "0 (0%)", "0 (0%)", "1 (100%)", "0 (0%)", "0"]
    )
    await expect(per_flow.locator("tbody tr")).to_have_count(3)  # "Never run" has no runs
    await browsing.shoot("01-overview")

    # Test runs count only when asked for.
    await page.get_by_label("Include test runs").check()
    with_test = _get(stack, "/api/analytics/overview", include_test=True, **_window())
    assert with_test["runs"] == HOT + COLD + 2 + calls
    await _expect_tiles(page, with_test)
    assert "test=1" in page.url
    await page.get_by_label("Include test runs").uncheck()
    await _expect_tiles(page, overview)

    # A flow's report, from its row: the funnel on the canvas, node by node and edge by edge.
    await scoring_row.get_by_role("link", name="Lead scoring").click()
    await expect(page.get_by_role("heading", name="Lead scoring", exact=True)).to_be_visible()
    report = _get(stack, f"/api/analytics/flows/{ids['Lead scoring']}", **_window())
    reached = {node["node_id"]: node["executions"] for node in report["funnel"]}
    assert reached["route"] == HOT + COLD and reached["crm"] == COLD and "thanks" not in reached
    await _expect_tiles(page, report)
    start = reached["route"]
    for node_id in ("route", "ab", "offer_a", "offer_b", "crm", "done"):
        count = reached.get(node_id, 0)
        badge = _node(page, node_id).get_by_test_id("node-badge")
        if count:
            await expect(badge).to_have_text(f"{count} · {_percent(count / start)}")
        else:
            await expect(badge).to_have_text("0")
    await expect(_node(page, "thanks").get_by_test_id("node-badge")).to_have_text("0")
    await expect(_node(page, "thanks")).to_have_class(_class("step-tone-dim"))
    await expect(_node(page, "route")).not_to_have_class(_class("step-tone-dim"))
    taken = {f"{edge['node_id']}:{edge['port']}": edge["executions"] for edge in report["edges"]}
    assert taken["route:true"] == HOT and taken["route:false"] == COLD
    assert "crm:success" not in taken
    for edge in ("route:true", "route:false", "ab:a", "ab:b", "offer_a:next", "offer_b:next"):
        port = edge.split(":")[1]
        await expect(_edge_label(page, edge)).to_have_text(f"{port}: {taken.get(edge, 0)}")
    await expect(_edge_label(page, "crm:success")).to_have_text("success: 0")

    # The same funnel as a table: where runs went no further (the failing HTTP step).
    funnel = page.get_by_role("table", name="Funnel per step")
    crm = funnel.locator('tr[data-node-id="crm"]')
    await expect(crm.get_by_test_id("reached")).to_have_text(str(COLD))
    await expect(crm.get_by_test_id("share")).to_have_text(_percent(COLD / start))
    await expect(crm.get_by_test_id("stopped")).to_have_text(str(COLD))
    await expect(funnel.locator('tr[data-node-id="route"]').get_by_test_id("ports")).to_have_text(
        f"true {HOT}, false {COLD}"
    )
    await _node(page, "crm").click()
    await expect(page.locator(".funnel-detail")).to_have_text(
        f"crm: reached by {COLD} ({_percent(COLD / start)} of start), left by success 0;"
        f" {COLD} went no further."
    )

    # A/B results per variant, as the API counts them; together they are the hot leads.
    [split] = report["ab_results"]
    assert split["node_id"] == "ab"
    assert sum(v["executions"] for v in split["variants"]) == HOT
    for variant in split["variants"]:
        row = page.get_by_role("table", name="Variants of ab").locator(
            f'tr[data-variant="{variant["variant"]}"]'
        )
        await expect(row.get_by_test_id("runs")).to_have_text(str(variant["executions"]))
        await expect(row.get_by_test_id("completed")).to_have_text(str(variant["completed"]))
        await expect(row.get_by_test_id("rate")).to_have_text(_percent(variant["completion_rate"]))
    # Every hot lead completed, whatever its variant: there is no difference to test (the
    # split is random: all six may have taken one variant).
    await expect(page.locator(".ab-split .verdict")).to_contain_text(
        "every run completed" if len(split["variants"]) > 1 else "only one variant has runs"
    )

    # Version 2 sends cold leads to a nurture step instead: two cold leads complete on it.
    # Every version's runs are counted until one version is picked; then the funnel is drawn
    # on that version's graph with its runs alone.
    with stack.client() as http:
        v2 = copy.deepcopy(SCORING["definition"])
        v2["nodes"][0]["transitions"]["false"] = "nurture"
        v2["nodes"] = [n for n in v2["nodes"] if n["id"] not in ("crm", "thanks")]
        v2["nodes"].append(
            {
                "id": "nurture",
                "type": "tag",
                "config": {"add": ["nurture"]},
                "transitions": {"next": "done"},
            }
        )
        created = http.post(f"/api/flows/{ids['Lead scoring']}/versions", json={"definition": v2})
        assert created.status_code == 201, created.text
        published = http.post(f"/api/flows/{ids['Lead scoring']}/versions/2/publish")
        assert published.status_code == 200, published.text
        later = [
            _start(
                http,
                ids["Lead scoring"],
                {"name": f"late {n}", "phone": f"+1555010000{n}", "score": 5},
            )
            for n in range(2)
        ]
        for execution_id in later:
            assert _until(http, execution_id, FINISHED) == "completed"
    await page.reload()
    version = page.get_by_label("Version", exact=True)
    await expect(version.locator("option")).to_have_text(
        [
            f"All versions · {HOT + COLD + 2} runs",
            "Version 2 (published) · 2 runs",
            f"Version 1 (archived) · {HOT + COLD} runs",
        ]
    )
    await expect(page.get_by_test_id("tile-runs").locator(".tile-figure")).to_have_text(
        str(HOT + COLD + 2)
    )
    await expect(page.get_by_test_id("drawn-on")).to_have_text("Drawn on version 2 (published)")
    await version.select_option(label="Version 2 (published) · 2 runs")
    assert "version=2" in page.url
    second = _get(stack, f"/api/analytics/flows/{ids['Lead scoring']}", version=2, **_window())
    assert second["runs"] == 2
    await _expect_tiles(page, second)
    await expect(_node(page, "nurture").get_by_test_id("node-badge")).to_have_text("2 · 100%")
    await expect(_node(page, "ab")).to_have_class(_class("step-tone-dim"))
    await expect(_edge_label(page, "route:false")).to_have_text("false: 2")
    await browsing.shoot("04-version-2")
    await version.select_option(label=f"Version 1 (archived) · {HOT + COLD} runs")
    await expect(page.get_by_test_id("drawn-on")).to_have_text("Drawn on version 1 (archived)")
    await _expect_tiles(page, report)
    await expect(_node(page, "crm").get_by_test_id("node-badge")).to_have_text(
        f"{COLD} · {_percent(COLD / start)}"
    )

    # Runs per day for this flow, no call steps, a mean time for each step that finished.
    [flow_day] = report["per_day"]
    await _expect_day_row(page.locator("figure.chart").filter(has_text="Runs per day"), flow_day)
    await expect(page.get_by_text("No AI call finished in this window.")).to_be_visible()
    times = page.get_by_role("list", name="Mean time per step").locator(".bar-row")
    await expect(times).to_have_count(len(report["step_times"]))
    for step in report["step_times"]:
        await expect(
            times.filter(has=page.locator(f'code:text-is("{step["node_id"]}")'))
        ).to_contain_text(f"{step['steps']} step")
    await browsing.shoot("02-flow-report")
    await page.locator(".funnel-card").scroll_into_view_if_needed()
    await browsing.shoot("03-funnel")

    # The flow filter moves between reports, keeping the range.
    await page.get_by_label("Flow", exact=True).select_option(label="Slow follow-up")
    await expect(page.get_by_role("heading", name="Slow follow-up", exact=True)).to_be_visible()
    assert f"/analytics/{ids['Slow follow-up']}?" in page.url
    await expect(page.get_by_test_id("tile-cancelled").locator(".tile-figure")).to_have_text("100%")
    await expect(_node(page, "pause").get_by_test_id("node-badge")).to_have_text("1 · 100%")
    await expect(_node(page, "done")).to_have_class(_class("step-tone-dim"))

    # The calls' outcomes, per port of the AI call step.
    await page.get_by_label("Flow", exact=True).select_option(label="Call new leads")
    await expect(page.get_by_role("heading", name="Call new leads", exact=True)).to_be_visible()
    called = _get(stack, f"/api/analytics/flows/{ids['Call new leads']}", **_window())
    assert called["call_outcomes"] == [
        {"node_id": "call", "ports": {"answered": 1, "busy": 1, "missed": 2}}
    ]
    bars = page.get_by_role("list", name="Outcomes of call").locator(".bar-row")
    await expect(bars).to_have_text(["answered1 (25%)", "busy1 (25%)", "missed2 (50%)"])
    await expect(page.locator(".call-outcome h3")).to_have_text("call 4 calls")
    await expect(_edge_label(page, "call:missed")).to_have_text("missed: 2")
    await expect(_edge_label(page, "call:voicemail")).to_have_text("voicemail: 0")
    await page.locator(".call-outcome").scroll_into_view_if_needed()
    await browsing.shoot("05-call-outcomes")

    # A flow without runs says so.
    await page.get_by_label("Flow", exact=True).select_option(label="Never run")
    await expect(page.get_by_text("“Never run” has no runs from")).to_be_visible()
    await browsing.shoot("06-flow-without-runs")

    # Back to all flows; a range from before these runs is empty; a reversed one the API refuses.
    await page.get_by_label("Flow", exact=True).select_option(label="All flows")
    await expect(page.get_by_role("heading", name="Analytics", exact=True)).to_be_visible()
    await page.get_by_label("From", exact=True).fill(
        (datetime.now(UTC).date() - timedelta(days=60)).isoformat()
    )
    await page.get_by_label("To", exact=True).fill(
        (datetime.now(UTC).date() - timedelta(days=31)).isoformat()
    )
    await expect(page.get_by_text("No runs from")).to_be_visible()
    await expect(page.get_by_role("button", name="30 days")).to_have_attribute(
        "aria-pressed", "false"
    )
    await browsing.shoot("07-overview-empty")
    await page.get_by_label("From", exact=True).fill(today)
    alert = page.get_by_role("alert")
    await expect(alert).to_contain_text("The figures could not be loaded")
    await expect(alert).to_contain_text("`since` must be before `until`")
    browsing.console.take(r"status of 422")
    await browsing.shoot("08-range-refused")
    await page.get_by_role("button", name="7 days").click()
    await _expect_tiles(page, _get(stack, "/api/analytics/overview", **_window(7)))

    # An unknown flow: the API's own message.
    await page.goto(f"{stack.url}/analytics/no-such-flow")
    alert = page.get_by_role("alert").filter(has_text="The flow's figures could not be loaded")
    await expect(alert).to_contain_text("flow no-such-flow not found")
    await expect(page.get_by_role("heading", level=1)).to_have_text("Flow not found")
    browsing.console.take(r"status of 404", count=2)  # the report and the flow
    await browsing.shoot("09-unknown-flow")

    # A viewer sees the same figures (the pages change nothing).
    await page.get_by_role("button", name="Sign out").click()
    await browsing.sign_in(stack.issue_key("viewer"))
    await page.get_by_role("link", name="Analytics", exact=True).click()
    await _expect_tiles(page, _get(stack, "/api/analytics/overview", **_window()))
    await expect(page.get_by_role("table", name="Per flow").locator("tbody tr")).to_have_count(3)


def _class(name: str) -> re.Pattern[str]:
    """A class among the element's classes, for `to_have_class`."""
    return re.compile(rf"(^|\s){re.escape(name)}(\s|$)")
