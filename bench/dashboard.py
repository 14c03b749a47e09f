"""The dashboard in Chromium: what the first load ships, and how soon a list of 200 flows
is usable.

Builds the dashboard (`flowdeck dashboard build`, skipped when up to date), runs `flowdeck
dev` in a temporary directory (its own Temporal dev server, the worker, the API, SQLite),
seeds 200 flows (50 lead flows with priorities, 150 others, 40 published) and
100 completed runs spread over 20 of them, then drives Debian's Chromium:

- JavaScript shipped on the first load: every script the sign-in page and the Flows page
  load, as sent (gzipped) and raw. Target: ≤ 300 KB gzipped.
- Time to a usable flows list: from navigation start to every one of the 200 rows shown
  with its last-7-days figures (no cell still loading), measured in the page
  (`performance.now()`), `--loads` times with a cold HTTP cache (a new browser context,
  signed in) and with a warm one (reloads).
- The builder on a 300-node flow (`--builder-nodes`; an A/B split into 13 rows of 23
  alternating conditions and set steps, crossing rows, laid out automatically on open):
  the time from navigation start to all its nodes drawn and measured, with a cold cache,
  and the frame time while a node is dragged across the fitted canvas (the deltas between
  `requestAnimationFrame` callbacks during a scripted drag of 150 mouse moves; median and
  p99). Targets: 16 ms median, 50 ms p99.

    python -m bench.dashboard [--flows 200] [--loads 10] [--builder-nodes 300] [--only builder]
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import os
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

import httpx
from playwright.async_api import Browser, Page, async_playwright

import dashboard_build
from bench.common import free_port
from store.keys import new_secret

CHROMIUM = "/usr/bin/chromium"
QUICK = {"start": "done", "nodes": [{"id": "done", "type": "end"}]}
USABLE = """(count) => document.querySelectorAll('tr.flow-row').length === count
    && !document.querySelector('td[title="Loading"]')"""


def _start_dev(directory: Path, port: int, key: str) -> subprocess.Popen[bytes]:
    """`flowdeck dev` in `directory`: its own Temporal dev server, worker, API, SQLite."""
    ports = ["--port", str(port), "--temporal-port", str(free_port())]
    command = [str(Path(sys.executable).parent / "flowdeck"), "dev", *ports]
    command += ["--ui-port", str(free_port()), "--host", "127.0.0.1"]
    env = {k: v for k, v in os.environ.items() if k not in {"TEMPORAL_ADDRESS", "DATABASE_URL"}}
    env |= {
        "PYTHONPATH": str(dashboard_build.ROOT),
        "FLOWDECK_ADMIN_KEY": key,
        "FLOWDECK_LOG_LEVEL": "WARNING",
    }
    log = (directory / "dev.log").open("ab")
    return subprocess.Popen(command, cwd=directory, env=env, stdout=log, stderr=log)


def _wait_serving(url: str, process: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise SystemExit(f"flowdeck api exited {process.returncode}")
        try:
            if httpx.get(f"{url}/api/health/live", timeout=2).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.2)
    raise SystemExit("flowdeck api did not answer within 60 s")


def _seed(http: httpx.Client, flows: int) -> None:
    """`flows` flows: a quarter lead flows with priorities, a fifth published; 100 runs."""
    published = []
    for n in range(flows):
        lead = n < flows // 4
        body: dict[str, Any] = {
            "name": f"{'Lead' if lead else 'Flow'} {n:03d} {uuid.uuid4().hex[:4]}",
            "description": "Seeded by bench/dashboard.py",
            "trigger": {"type": "lead_created" if lead else ("manual", "campaign")[n % 2]},
            "definition": QUICK,
        }
        if lead:
            body["priority"] = n + 1
        created = http.post("/api/flows", json=body)
        created.raise_for_status()
        if n % 5 == 0:
            flow_id = created.json()["id"]
            http.post(f"/api/flows/{flow_id}/versions/1/publish").raise_for_status()
            published.append(flow_id)
    runs = [
        http.post(f"/api/flows/{flow_id}/executions", json={"contact": {"name": "bench"}})
        for flow_id in published[:20]
        for _ in range(5)
    ]
    for run in runs:
        run.raise_for_status()
        execution_id = run.json()["id"]
        while http.get(f"/api/executions/{execution_id}").json()["status"] != "completed":
            time.sleep(0.1)


def _big_flow(nodes: int) -> dict[str, Any]:
    """About `nodes` steps: an A/B split into rows of alternating conditions and set steps
    whose `false` crosses to the next row, each row ending in an end step."""
    rows = 13
    layers = max(2, (nodes - 1) // rows)
    when = {"var": "vars.score", "op": "gt", "value": "5"}
    root = {
        "id": "root",
        "type": "ab_split",
        "config": {"variants": [{"port": f"v{r}", "weight": 1} for r in range(rows)]},
        "transitions": {f"v{r}": f"r{r}l1" for r in range(rows)},
    }
    steps: list[dict[str, Any]] = [root]
    for r in range(rows):
        for layer in range(1, layers + 1):
            node_id, following = f"r{r}l{layer}", f"r{r}l{layer + 1}"
            if layer == layers:
                steps.append({"id": node_id, "type": "end"})
            elif layer % 2 == 1:
                crossing = f"r{(r + 1) % rows}l{layer + 1}"
                steps.append(
                    {
                        "id": node_id,
                        "type": "condition",
                        "config": {"when": when},
                        "transitions": {"true": following, "false": crossing},
                    }
                )
            else:
                steps.append(
                    {
                        "id": node_id,
                        "type": "set",
                        "config": {"assign": {"score": str(layer)}},
                        "transitions": {"next": following},
                    }
                )
    return {"start": "root", "nodes": steps}


def _seed_big_flow(http: httpx.Client, definition: dict[str, Any]) -> str:
    created = http.post("/api/flows", json={"name": "Big flow", "definition": definition})
    created.raise_for_status()
    return str(created.json()["id"])


DRAWN = """(count) => {
    const nodes = document.querySelectorAll('.react-flow__node');
    return nodes.length === count && [...nodes].every((n) => n.style.visibility !== 'hidden');
}"""

# The node nearest the canvas's centre, and where it is on the screen.
GRAB = """() => {
    const pane = document.querySelector('.react-flow__pane').getBoundingClientRect();
    const cx = pane.left + pane.width / 2, cy = pane.top + pane.height / 2;
    let best = null;
    for (const node of document.querySelectorAll('.react-flow__node')) {
        const box = node.getBoundingClientRect();
        const x = box.left + box.width / 2, y = box.top + Math.min(12, box.height / 2);
        const d = (x - cx) ** 2 + (y - cy) ** 2;
        if (!best || d < best.d) best = { d, x, y, id: node.dataset.id };
    }
    return best;
}"""

RECORD_FRAMES = """() => {
    window.__frames = [];
    const tick = (t) => {
        window.__frames.push(t);
        if (window.__recording) requestAnimationFrame(tick);
    };
    window.__recording = true;
    requestAnimationFrame(tick);
}"""


async def _builder_open_ms(
    browser: Browser, state: Any, url: str, flow_id: str, nodes: int
) -> float:
    context = await browser.new_context(
        storage_state=state, viewport={"width": 1920, "height": 1080}
    )
    page = await context.new_page()
    await page.goto(f"{url}/flows/{flow_id}", wait_until="commit")
    await page.wait_for_function(DRAWN, arg=nodes, timeout=60_000, polling="raf")
    elapsed = float(await page.evaluate("performance.now()"))
    await context.close()
    return elapsed


async def _drag_frames(
    browser: Browser, state: Any, url: str, flow_id: str, nodes: int
) -> list[float]:
    """Frame times (ms) while one node is dragged 150 moves across the canvas."""
    context = await browser.new_context(
        storage_state=state, viewport={"width": 1920, "height": 1080}
    )
    page = await context.new_page()
    await page.goto(f"{url}/flows/{flow_id}")
    await page.wait_for_function(DRAWN, arg=nodes, timeout=60_000, polling="raf")
    await page.wait_for_timeout(1000)
    grab = await page.evaluate(GRAB)
    x, y = grab["x"], grab["y"]
    where = f"document.querySelector('.react-flow__node[data-id=\"{grab['id']}\"]').style.transform"
    start = await page.evaluate(where)
    await page.mouse.move(x, y)
    await page.mouse.down()
    await page.evaluate(RECORD_FRAMES)
    for step in range(150):
        await page.mouse.move(x + step * 2, y + (step % 40) * 3)
        await page.wait_for_timeout(5)
    frames: list[float] = await page.evaluate(
        "() => { window.__recording = false; return window.__frames; }"
    )
    during = await page.evaluate(where)
    await page.mouse.up()
    await context.close()
    assert during != start, f"the drag did not move node {grab['id']}"
    return [later - earlier for earlier, later in itertools.pairwise(frames)]


def _percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(share * (len(ordered) - 1)))]


async def _measure_builder(url: str, key: str, flow_id: str, nodes: int, loads: int) -> None:
    async with async_playwright() as playwright:
        browser = await playwright.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
        state = await _signed_in_state(browser, url, key)
        opened = [await _builder_open_ms(browser, state, url, flow_id, nodes) for _ in range(loads)]
        frames: list[float] = []
        for _ in range(3):
            frames += await _drag_frames(browser, state, url, flow_id, nodes)
        await browser.close()
    print(f"the builder on a {nodes}-node flow (1920x1080):")
    print(_summary("open, all nodes drawn (cold cache)", opened))
    print(
        f"  dragging a node: {len(frames)} frames, median {statistics.median(frames):.1f} ms, "
        f"p99 {_percentile(frames, 0.99):.1f} ms, max {max(frames):.1f} ms "
        "(targets 16 ms / 50 ms)"
    )


async def _first_load_scripts(browser: Browser, url: str, key: str) -> list[dict[str, Any]]:
    """Every script the sign-in page, then the Flows page after signing in, loaded."""
    context = await browser.new_context()
    page = await context.new_page()
    scripts: list[dict[str, Any]] = []

    async def record(response: Any) -> None:
        if response.request.resource_type == "script":
            sizes = await response.request.sizes()
            raw = len(await response.body())
            scripts.append({"url": response.url, "sent": sizes["responseBodySize"], "raw": raw})

    pending: list[asyncio.Task[None]] = []
    page.on("response", lambda response: pending.append(asyncio.ensure_future(record(response))))
    await page.goto(url + "/")
    await page.get_by_label("API key").fill(key)
    await page.get_by_role("button", name="Sign in").click()
    await page.get_by_role("heading", name="Flows", exact=True).wait_for()
    await asyncio.gather(*pending)
    await context.close()
    return scripts


async def _usable_ms(page: Page, url: str, flows: int, *, reload: bool) -> float:
    if reload:
        await page.reload(wait_until="commit")
    else:
        await page.goto(url + "/flows", wait_until="commit")
    await page.wait_for_function(USABLE, arg=flows, timeout=60_000, polling="raf")
    return float(await page.evaluate("performance.now()"))


async def _signed_in_state(browser: Browser, url: str, key: str) -> Any:
    context = await browser.new_context()
    page = await context.new_page()
    await page.goto(url + "/")
    await page.get_by_label("API key").fill(key)
    await page.get_by_role("button", name="Sign in").click()
    await page.get_by_role("heading", name="Flows", exact=True).wait_for()
    state = await context.storage_state()
    await context.close()
    return state


def _summary(label: str, times_ms: list[float]) -> str:
    ordered = sorted(times_ms)
    return (
        f"  {label}: median {statistics.median(ordered):.0f} ms, "
        f"min {ordered[0]:.0f} ms, max {ordered[-1]:.0f} ms ({len(ordered)} loads)"
    )


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--flows", type=int, default=200)
    parser.add_argument("--loads", type=int, default=10)
    parser.add_argument("--builder-nodes", type=int, default=300)
    parser.add_argument("--only", choices=["list", "builder"], default=None)
    args = parser.parse_args()

    dashboard_build.build()
    big = _big_flow(args.builder_nodes)
    with tempfile.TemporaryDirectory(prefix="flowdeck-bench-dashboard-") as tmp:
        directory, port, key = Path(tmp), free_port(), new_secret()
        url = f"http://127.0.0.1:{port}"
        dev = _start_dev(directory, port, key)
        try:
            _wait_serving(url, dev)
            headers = {"Authorization": f"Bearer {key}"}
            if args.only != "builder":
                with httpx.Client(base_url=url, headers=headers, timeout=30) as http:
                    _seed(http, args.flows)
                await _measure(url, key, args.flows, args.loads)
            if args.only != "list":
                # Made after the list is measured, so the list keeps its `--flows` rows.
                with httpx.Client(base_url=url, headers=headers, timeout=30) as http:
                    big_id = _seed_big_flow(http, big)
                await _measure_builder(url, key, big_id, len(big["nodes"]), args.loads)
        finally:
            dev.terminate()  # flowdeck dev stops the API, the worker and Temporal on SIGTERM
            dev.wait(30)


async def _measure(url: str, key: str, flows: int, loads: int) -> None:
    async with async_playwright() as playwright:
        browser = await playwright.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
        scripts = await _first_load_scripts(browser, url, key)
        sent, raw = sum(s["sent"] for s in scripts), sum(s["raw"] for s in scripts)
        print(f"dashboard bench: Chromium {browser.version}, {os.cpu_count()} cores")
        print(
            f"JavaScript on first load: {len(scripts)} file(s), {sent / 1000:.1f} KB as sent "
            f"(gzip), {raw / 1000:.1f} KB raw (target <= 300 KB gzipped)"
        )
        state = await _signed_in_state(browser, url, key)
        cold = []
        for _ in range(loads):
            context = await browser.new_context(storage_state=state)
            cold.append(await _usable_ms(await context.new_page(), url, flows, reload=False))
            await context.close()
        context = await browser.new_context(storage_state=state)
        page = await context.new_page()
        await _usable_ms(page, url, flows, reload=False)
        warm = [await _usable_ms(page, url, flows, reload=True) for _ in range(loads)]
        await context.close()
        await browser.close()
    print(f"time to a usable flows list ({flows} flows, rows and last 7 days' figures shown):")
    print(_summary("cold cache (new context)", cold))
    print(_summary("warm cache (reload)", warm))


if __name__ == "__main__":
    asyncio.run(main())
