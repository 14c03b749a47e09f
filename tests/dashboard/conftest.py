"""Browser tests of the dashboard: Debian's Chromium driven by Playwright against the real
stack, a `flowdeck api` process (its embedded worker, the tests' Temporal dev server, a
SQLite file) serving the dashboard that `flowdeck dashboard build` built.

Playwright never downloads a browser here: it launches `/usr/bin/chromium` (`.ci/run`
installs it with apt). Every page state a test reaches is saved as a screenshot, at 1280x800
and 1920x1080, under `test-results/dashboard/`. Any console error or uncaught exception
fails the test, unless the test expected that very error (a refused key's 401).
"""

from __future__ import annotations

import re
import subprocess
import uuid
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import pytest
from playwright.async_api import Browser, ConsoleMessage, Error, Page, async_playwright
from temporalio.testing import WorkflowEnvironment

import dashboard_build
from store.keys import new_secret
from tests.processes import REPO, ApiProcess, environment, flowdeck_command, free_port

CHROMIUM = Path("/usr/bin/chromium")
SCREENSHOTS = REPO / "test-results" / "dashboard"
VIEWPORTS = ((1280, 800), (1920, 1080))


@pytest.fixture(scope="session")
def dashboard_dist() -> Path:
    """The dashboard, built from this checkout (`./test` has built it already: then this
    only checks that it is up to date)."""
    done = subprocess.run(
        [*flowdeck_command(), "dashboard", "build"],
        env=environment(),
        cwd=REPO,
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 0, f"flowdeck dashboard build failed:\n{done.stdout}{done.stderr}"
    return dashboard_build.DIST


@pytest.fixture(scope="session")
def chromium() -> Path:
    if not CHROMIUM.exists():
        pytest.fail(f"{CHROMIUM} is missing: `apt-get install chromium` (.ci/run does it)")
    return CHROMIUM


@pytest.fixture(scope="session")
async def browser(chromium: Path) -> AsyncIterator[Browser]:
    async with async_playwright() as playwright:
        launched = await playwright.chromium.launch(
            executable_path=str(chromium), args=["--no-sandbox"]
        )
        yield launched
        await launched.close()


@dataclass
class Stack:
    """The running product, and the operator key (admin of the default tenant)."""

    api: ApiProcess
    admin_key: str

    @property
    def url(self) -> str:
        return self.api.base_url

    def client(self, key: str | None = None) -> httpx.Client:
        headers = {"Authorization": f"Bearer {key or self.admin_key}"}
        return httpx.Client(base_url=self.url, headers=headers, timeout=20)

    def issue_key(self, role: str) -> str:
        with self.client() as http:
            created = http.post("/api/keys", json={"name": f"{role} key", "role": role})
            assert created.status_code == 201, created.text
            return str(created.json()["secret"])


@pytest.fixture
def stack_env() -> dict[str, str]:
    """More settings for the stack's `flowdeck api`: a test module overrides this fixture
    (a Twilio auth token, to sign simulated calls' webhooks)."""
    return {}


@pytest.fixture
def stack(
    tmp_path: Path,
    temporal_env: WorkflowEnvironment,
    dashboard_dist: Path,
    stack_env: dict[str, str],
) -> Iterator[Stack]:
    admin_key = new_secret()
    api = ApiProcess.start(
        tmp_path,
        port=free_port(),
        DATABASE_URL=f"sqlite:///{tmp_path / 'flowdeck.db'}",
        TEMPORAL_ADDRESS=temporal_env.client.service_client.config.target_host,
        FLOWDECK_TASK_QUEUE=f"dash-{uuid.uuid4().hex[:10]}",
        FLOWDECK_ADMIN_KEY=admin_key,
        FLOWDECK_DASHBOARD_DIR=str(dashboard_dist),
        FLOWDECK_ENV="test",
        FLOWDECK_LOG_LEVEL="WARNING",
        **stack_env,
    )
    running = Stack(api=api, admin_key=admin_key)
    try:
        api.wait_until_serving()
        yield running
    finally:
        running.api.kill()  # the one serving now: a test may have restarted it


@dataclass
class Console:
    """Every console error and uncaught exception of a page, until a test takes it."""

    errors: list[str] = field(default_factory=list)

    def on_message(self, message: ConsoleMessage) -> None:
        if message.type == "error":
            self.errors.append(f"console error: {message.text} ({message.location})")

    def on_exception(self, error: Error) -> None:
        self.errors.append(f"uncaught: {error}")

    def take(self, pattern: str, count: int = 1) -> None:
        """The test expected exactly `count` errors matching `pattern` (refused requests)."""
        matching = [e for e in self.errors if re.search(pattern, e)]
        assert len(matching) == count, (
            f"expected {count} console errors like {pattern!r}: {self.errors}"
        )
        for error in matching:
            self.errors.remove(error)


@dataclass
class Browsing:
    """A signed-out page of the dashboard, its console, and where screenshots go."""

    page: Page
    console: Console
    stack: Stack
    shots: Path

    async def shoot(self, name: str) -> None:
        """The page as it is now, at each viewport size the dashboard must work at."""
        for width, height in VIEWPORTS:
            await self.page.set_viewport_size({"width": width, "height": height})
            await self.page.screenshot(path=self.shots / f"{name}-{width}x{height}.png")
        await self.page.set_viewport_size({"width": VIEWPORTS[0][0], "height": VIEWPORTS[0][1]})

    async def sign_in(self, key: str) -> None:
        await self.page.goto(self.stack.url + "/")
        await self.page.get_by_label("API key").fill(key)
        await self.page.get_by_role("button", name="Sign in").click()
        await self.page.get_by_role("heading", name="Flows", exact=True).wait_for()


@pytest.fixture
async def browsing(
    browser: Browser, stack: Stack, request: pytest.FixtureRequest
) -> AsyncIterator[Browsing]:
    context = await browser.new_context(
        viewport={"width": VIEWPORTS[0][0], "height": VIEWPORTS[0][1]}, accept_downloads=True
    )
    page = await context.new_page()
    page.set_default_timeout(15_000)
    console = Console()
    page.on("console", console.on_message)
    page.on("pageerror", console.on_exception)
    shots = SCREENSHOTS / request.node.name
    shots.mkdir(parents=True, exist_ok=True)
    yield Browsing(page=page, console=console, stack=stack, shots=shots)
    await context.close()
    assert console.errors == [], "the dashboard logged errors:\n" + "\n".join(console.errors)
