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

    python -m bench.dashboard [--flows 200] [--loads 10]
"""

from __future__ import annotations

import argparse
import asyncio
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
    args = parser.parse_args()

    dashboard_build.build()
    with tempfile.TemporaryDirectory(prefix="flowdeck-bench-dashboard-") as tmp:
        directory, port, key = Path(tmp), free_port(), new_secret()
        url = f"http://127.0.0.1:{port}"
        dev = _start_dev(directory, port, key)
        try:
            _wait_serving(url, dev)
            with httpx.Client(
                base_url=url, headers={"Authorization": f"Bearer {key}"}, timeout=30
            ) as http:
                _seed(http, args.flows)
            await _measure(url, key, args.flows, args.loads)
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
