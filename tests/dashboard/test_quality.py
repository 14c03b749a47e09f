"""The dashboard's quality pass (issue 13, item 8), page by page in a real browser against the
real stack, with real data created through the API so that no page is empty:

- keyboard only (Tab, Shift+Tab, Enter, Space, Escape): the tab order starts at the skip
  link, then the top bar and the navigation, then the page; every element that takes the
  focus is on screen, not hidden under something else, and shows a focus indicator (an
  outline or a ring, read from its computed style); Shift+Tab walks the same order back;
- the main actions work from the keyboard: a contact created, a switch flipped, dialogs
  opened with Enter and closed with Escape, the focus back on the button that opened them;
- an accessibility check written here (no axe in the project): every form field has a
  label, every button and link an accessible name, every image an alt, no id twice;
- text contrast (WCAG AA) measured against each text's real background;
- a viewer walks the same pages and reaches no edit control;
- while the API's answers are held back, every page says what it is loading; with the API
  gone, every page says so in the API client's own words and offers to try again (never a
  blank page); with the API back, Try again shows the page.
"""

from __future__ import annotations

import asyncio
import os
import re
import time
from pathlib import Path
from typing import Any

import httpx
import pytest
from playwright.async_api import Page, Route, expect

from tests.dashboard.conftest import VIEWPORTS, Browsing, Stack
from tests.processes import ApiProcess

pytestmark = pytest.mark.timeout(420)

NARROW, WIDE = VIEWPORTS

# The navigation's pages, in its order, each with its heading.
NAV_PAGES = (
    ("Flows", "/flows", "Flows"),
    ("Executions", "/executions", "Executions"),
    ("Analytics", "/analytics", "Analytics"),
    ("Calls & people", "/calls", "Calls & people"),
    ("Contacts", "/contacts", "Contacts"),
    ("Templates", "/templates", "Templates"),
    ("Connections", "/connections", "Connections"),
    ("Outbox", "/outbox", "Outbox"),
    ("Keys", "/keys", "Keys"),
    ("Campaigns", "/campaigns", "Campaigns"),
)

QUICK_FLOW: dict[str, Any] = {
    "name": "Quick follow-up",
    "description": "Ends at once: a flow whose runs complete.",
    "trigger": {"type": "manual"},
    "definition": {"start": "done", "nodes": [{"id": "done", "type": "end"}]},
}
ASK_FLOW: dict[str, Any] = {
    "name": "Ask by SMS",
    "trigger": {"type": "manual"},
    "definition": {
        "start": "ask",
        "nodes": [
            {
                "id": "ask",
                "type": "send_and_wait",
                "config": {"channel": "sms", "body": "Shall we call you, {{ contact.name }}?"},
                "transitions": {"reply": "done", "timeout": "done"},
            },
            {"id": "done", "type": "end"},
        ],
    },
}

# What the focused element is and how it looks: read in the page.
FOCUSED = """() => {
  const el = document.activeElement;
  if (!el || el === document.body || el === document.documentElement) return null;
  const style = getComputedStyle(el);
  const r = el.getBoundingClientRect();
  const x = Math.min(Math.max(r.left + r.width / 2, 0), innerWidth - 1);
  const y = Math.min(Math.max(r.top + r.height / 2, 0), innerHeight - 1);
  const hit = document.elementFromPoint(x, y);
  const label = (el.getAttribute("aria-label") || el.innerText || el.value ||
                 el.getAttribute("placeholder") || el.getAttribute("title") || "").trim();
  const transparent = (color) => color === "transparent" || /rgba\\(.*,\\s*0\\)$/.test(color);
  const outline = style.outlineStyle !== "none" && parseFloat(style.outlineWidth) >= 2 &&
                  !transparent(style.outlineColor);
  const ring = style.boxShadow !== "none" && !/^rgba\\([^)]*,\\s*0\\)/.test(style.boxShadow);
  return {
    what: `${el.tagName.toLowerCase()}${el.id ? "#" + el.id : ""} "${label.slice(0, 40)}"`,
    tag: el.tagName.toLowerCase(),
    label: label.slice(0, 80),
    indicator: outline || ring,
    style: `outline ${style.outlineStyle} ${style.outlineWidth} ${style.outlineColor}; ` +
           `box-shadow ${style.boxShadow}`,
    size: r.width > 0 && r.height > 0,
    inView: r.bottom > 0 && r.right > 0 && r.top < innerHeight && r.left < innerWidth,
    onTop: hit !== null && (el.contains(hit) || hit.contains(el) ||
           (el.labels && [...el.labels].some((l) => l.contains(hit)))),
    topmost: hit ? `${hit.tagName.toLowerCase()}.${hit.className}` : "nothing",
  };
}"""

# An accessibility check of the page as it is: what a screen reader would miss.
A11Y_PROBLEMS = """() => {
  const problems = [];
  const text = (el) => (el ? (el.innerText || el.textContent || "").trim() : "");
  const nameOf = (el) => {
    const by = el.getAttribute("aria-labelledby");
    if (by) return by.split(/\\s+/).map((id) => text(document.getElementById(id))).join(" ").trim();
    const aria = (el.getAttribute("aria-label") || "").trim();
    if (aria) return aria;
    if (el.labels && el.labels.length) return [...el.labels].map(text).join(" ").trim();
    const own = text(el) ||
      [...el.querySelectorAll("img[alt], svg title")].map((x) => x.alt || x.textContent).join(" ");
    return (own || el.getAttribute("title") || "").trim();
  };
  const shown = (el) => el.getClientRects().length > 0 || el.closest("dialog[open]");
  const describe = (el) => el.outerHTML.slice(0, 120);
  for (const el of document.querySelectorAll("input:not([type=hidden]), select, textarea")) {
    if (!shown(el)) continue;
    const labelled = el.getAttribute("aria-labelledby") || el.getAttribute("aria-label") ||
      (el.labels && el.labels.length) || el.getAttribute("title");
    if (!labelled || !nameOf(el)) problems.push(`field without a label: ${describe(el)}`);
  }
  const named = "button, a[href], [role=button], [role=link], [role=switch], [role=tab], " +
    "[role=checkbox], [role=menuitem], [role=option], summary";
  for (const el of document.querySelectorAll(named)) {
    if (shown(el) && !nameOf(el)) problems.push(`control without a name: ${describe(el)}`);
  }
  for (const img of document.querySelectorAll("img")) {
    if (!img.hasAttribute("alt")) problems.push(`image without alt: ${describe(img)}`);
  }
  for (const dialog of document.querySelectorAll("dialog[open], [role=dialog]")) {
    if (!nameOf(dialog)) problems.push(`dialog without a name: ${describe(dialog)}`);
  }
  const seen = new Map();
  for (const el of document.querySelectorAll("[id]")) {
    if (el.closest("svg")) continue;
    seen.set(el.id, (seen.get(el.id) || 0) + 1);
  }
  for (const [id, count] of seen) if (count > 1) problems.push(`id "${id}" used ${count} times`);
  const h1 = document.querySelectorAll("main h1");
  if (h1.length !== 1) problems.push(`${h1.length} h1 headings in main`);
  return problems;
}"""

# Text whose colour is too close to its background's (WCAG AA: 4.5:1, 3:1 for large text).
# Disabled controls, and what is faded on purpose (opacity), are exempt, as WCAG has it.
LOW_CONTRAST = """() => {
  const rgba = (c) => (c.match(/[\\d.]+/g) || [0, 0, 0, 0]).map(Number).concat([1]).slice(0, 4);
  const lum = ([r, g, b]) => {
    const f = (v) => { v /= 255; return v <= 0.03928 ? v / 12.92 : ((v + 0.055) / 1.055) ** 2.4; };
    return 0.2126 * f(r) + 0.7152 * f(g) + 0.0722 * f(b);
  };
  const over = (top, bottom) => {
    const a = top[3];
    return [0, 1, 2].map((i) => top[i] * a + bottom[i] * (1 - a)).concat([1]);
  };
  const background = (el) => {
    const layers = [];
    for (let n = el; n; n = n.parentElement) {
      const bg = rgba(getComputedStyle(n).backgroundColor);
      if (bg[3] > 0) layers.push(bg);
      if (bg[3] >= 1) break;
    }
    return layers.reverse().reduce((acc, layer) => over(layer, acc), [255, 255, 255, 1]);
  };
  const faded = (el) => {
    for (let n = el; n; n = n.parentElement) {
      if (parseFloat(getComputedStyle(n).opacity) < 1) return true;
      if (n.matches(":disabled, [aria-disabled=true]")) return true;
    }
    return false;
  };
  const problems = [];
  const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
  const checked = new Set();
  for (let t = walker.nextNode(); t; t = walker.nextNode()) {
    const el = t.parentElement;
    if (!el || checked.has(el) || !t.textContent.trim()) continue;
    checked.add(el);
    if (el.closest("svg, .visually-hidden, option, [aria-hidden=true]")) continue;
    const r = el.getBoundingClientRect();
    if (r.width === 0 || r.height === 0 || faded(el)) continue;
    const style = getComputedStyle(el);
    if (style.visibility === "hidden") continue;
    const bg = background(el);
    const fg = over(rgba(style.color), bg);
    const [hi, lo] = [lum(fg), lum(bg)].sort((a, b) => b - a);
    const ratio = (hi + 0.05) / (lo + 0.05);
    const size = parseFloat(style.fontSize);
    const large = size >= 24 || (size >= 18.66 && Number(style.fontWeight) >= 700);
    if (ratio < (large ? 3 : 4.5))
      problems.push(`${ratio.toFixed(2)}:1 "${t.textContent.trim().slice(0, 30)}" ` +
                    `(${style.color} on rgb(${bg.slice(0, 3).map(Math.round)}), ${el.className})`);
  }
  return problems;
}"""


def _ok(response: httpx.Response, status: int = 200) -> Any:
    assert response.status_code == status, response.text
    return response.json() if response.content else None


def _until(http: httpx.Client, execution_id: str, status: str) -> None:
    deadline = time.monotonic() + 60
    while (now := http.get(f"/api/executions/{execution_id}").json()["status"]) != status:
        assert time.monotonic() < deadline, f"execution {execution_id} still {now}"
        time.sleep(0.2)


def _seed(stack: Stack) -> dict[str, str]:
    """Something on every page: flows with runs (one waiting on a reply), contacts, a
    template, a campaign, a department with an agent, a phone number, a second key."""
    with stack.client() as http:
        quick = _ok(http.post("/api/flows", json=QUICK_FLOW), 201)["id"]
        _ok(http.post(f"/api/flows/{quick}/versions/1/publish"))
        runs = [
            _ok(
                http.post(f"/api/flows/{quick}/executions", json={"contact": {"name": f"c{n}"}}),
                201,
            )["id"]
            for n in range(2)
        ]
        for run in runs:
            _until(http, run, "completed")
        ask = _ok(http.post("/api/flows", json=ASK_FLOW), 201)["id"]
        _ok(http.post(f"/api/flows/{ask}/versions/1/publish"))
        waiting = _ok(
            http.post(
                f"/api/flows/{ask}/executions",
                json={"contact": {"name": "Ravi Kumar", "phone": "+919812345602"}},
            ),
            201,
        )["id"]
        _until(http, waiting, "waiting")
        for contact in (
            {"name": "Asha Patel", "phone": "+919812345601", "tags": ["vip"]},
            {"name": "Meera Shah", "email": "meera@example.com"},
        ):
            _ok(http.post("/api/contacts", json=contact), 201)
        _ok(
            http.post(
                "/api/templates",
                json={"name": "hello", "channel": "sms", "body": "Hi {{ contact.name }}"},
            ),
            201,
        )
        _ok(http.post("/api/campaigns", json={"name": "Spring push"}), 201)
        sales = _ok(http.post("/api/departments", json={"name": "Sales", "queue": "sales"}), 201)
        agent = _ok(
            http.post(
                "/api/agents",
                json={"name": "Asha", "phone": "+15550107070", "department_ids": [sales["id"]]},
            ),
            201,
        )["id"]
        _ok(http.post("/api/phone-numbers", json={"number": "+15550123400", "label": "Main"}), 201)
        _ok(http.post("/api/keys", json={"name": "CRM sync", "role": "manager"}), 201)
    return {"flow": quick, "agent": agent}


async def _focused(page: Page) -> dict[str, Any] | None:
    return await page.evaluate(FOCUSED)  # type: ignore[no-any-return]


async def _open(browsing: Browsing, path: str, heading: str) -> None:
    page = browsing.page
    await page.goto(browsing.stack.url + path)
    await expect(page.get_by_role("heading", level=1, name=heading, exact=True)).to_be_visible()
    await expect(page.locator(".spinner")).to_have_count(0)  # loaded: no spinner left
    if path == "/outbox":  # which sends still wait is asked after the list: its controls too
        await expect(page.get_by_text("waiting for a reply", exact=True)).to_be_visible()


async def _fits(page: Page, what: str) -> None:
    """No sideways scrolling of the whole page: what is wider scrolls in its own frame."""
    width = await page.evaluate("[document.documentElement.scrollWidth, innerWidth]")
    assert width[0] <= width[1], f"{what} is {width[0]} px wide in a {width[1]} px window"


async def _walk(page: Page, steps: int = 160) -> list[dict[str, Any]]:
    """Tab from the top of the page until the focus leaves it (or `steps` presses), each
    focused element checked on the way."""
    seen: list[dict[str, Any]] = []
    for _ in range(steps):
        await page.keyboard.press("Tab")
        focused = await _focused(page)
        if focused is None or (seen and focused["label"] == "Skip to content"):
            break
        assert focused["size"] and focused["inView"], f"focused but off screen: {focused}"
        assert focused["onTop"], f"focused but covered by {focused['topmost']}: {focused}"
        assert focused["indicator"], f"no visible focus indicator: {focused}"
        seen.append(focused)
    return seen


async def test_every_page_is_walked_by_keyboard_with_a_visible_focus(browsing: Browsing) -> None:
    page, stack = browsing.page, browsing.stack
    ids = _seed(stack)
    await browsing.sign_in(stack.admin_key)

    for label, path, heading in NAV_PAGES:
        await _open(browsing, path, heading)
        assert await page.evaluate(A11Y_PROBLEMS) == [], f"{label}: accessibility problems"
        assert await page.evaluate(LOW_CONTRAST) == [], f"{label}: text hard to read"

        # The first Tab lands on the skip link, shown on screen; Enter moves to the page.
        await page.keyboard.press("Tab")
        skip = await _focused(page)
        assert skip is not None and skip["label"] == "Skip to content", skip
        assert skip["inView"] and skip["indicator"], skip
        await page.keyboard.press("Enter")
        assert await page.evaluate("document.activeElement.id") == "main"
        await page.keyboard.press("Tab")
        first_in_page = await _focused(page)
        assert first_in_page is not None
        assert await page.evaluate(
            "document.getElementById('main').contains(document.activeElement)"
        )

        # From the top: the skip link, the top bar, the navigation in its order, the page.
        await _open(browsing, path, heading)  # the focus starts from the top again
        await page.keyboard.press("Tab")  # the skip link
        walked = await _walk(page)
        labels = [f["label"] for f in walked]
        assert labels[0] == "Sign out", labels[:3]
        nav = [name for name, _, _ in NAV_PAGES]
        assert labels[1 : 1 + len(nav)] == nav, labels[: 1 + len(nav)]
        assert labels[1 + len(nav)] == first_in_page["label"], (labels, first_in_page)
        assert len(walked) > 1 + len(nav), f"{label}: nothing to reach on the page"
        if label == "Flows":
            await browsing.shoot("01-flows-focus-at-the-end")

        await _fits(page, label)

        # The same walk on a wide screen reaches the same elements, each on screen and ringed.
        await page.set_viewport_size({"width": WIDE[0], "height": WIDE[1]})
        await _open(browsing, path, heading)
        await _fits(page, f"{label} at {WIDE}")
        await page.keyboard.press("Tab")
        assert [f["label"] for f in await _walk(page)] == labels, f"{label} at {WIDE}"
        await page.set_viewport_size({"width": NARROW[0], "height": NARROW[1]})

        # Shift+Tab walks the same order back.
        await _open(browsing, path, heading)
        await page.keyboard.press("Tab")
        forward = [(await _focused(page) or {}).get("what")]
        for _ in range(min(len(walked), 12)):
            await page.keyboard.press("Tab")
            forward.append((await _focused(page) or {}).get("what"))
        backward = [forward[-1]]
        for _ in range(len(forward) - 1):
            await page.keyboard.press("Shift+Tab")
            focused = await _focused(page)
            assert focused is not None and focused["indicator"], focused
            backward.append(focused["what"])
        assert backward == forward[::-1], f"{label}: Shift+Tab order {backward} vs {forward}"

    # Pages opened from others: a flow's report (its funnel on the canvas), an agent's page;
    # the navigation shows where each belongs.
    for path, heading, expected, section in (
        (f"/analytics/{ids['flow']}", "Quick follow-up", "Show the figures", "Analytics"),
        (f"/agents/{ids['agent']}", "Asha", "Status of Asha", "Calls & people"),
    ):
        for width, height in (NARROW, WIDE):
            await page.set_viewport_size({"width": width, "height": height})
            await _open(browsing, path, heading)
            sidebar = page.get_by_role("navigation", name="Main")
            await expect(sidebar.locator(".nav-link.active")).to_have_text(section)
            await _fits(page, path)
            assert await page.evaluate(A11Y_PROBLEMS) == [], f"{path}: accessibility problems"
            assert await page.evaluate(LOW_CONTRAST) == [], f"{path}: text hard to read"
            await page.keyboard.press("Tab")
            labels = [f["label"] for f in await _walk(page)]
            assert expected in labels, (path, labels)
        await page.set_viewport_size({"width": NARROW[0], "height": NARROW[1]})


async def test_main_actions_work_by_keyboard_and_dialogs_give_the_focus_back(
    browsing: Browsing,
) -> None:
    page, stack = browsing.page, browsing.stack
    _seed(stack)
    await browsing.sign_in(stack.admin_key)

    async def tab_to(name: str, limit: int = 120) -> None:
        for _ in range(limit):
            await page.keyboard.press("Tab")
            focused = await _focused(page)
            if focused is not None and focused["label"] == name:
                assert focused["indicator"], focused
                return
        raise AssertionError(f"{name!r} is not reachable by Tab")

    # Each page's dialog: Enter opens it, the focus is inside, Escape closes it and the focus
    # is back on the button that opened it.
    for path, heading, opener, dialog_name in (
        ("/flows", "Flows", "New flow", "New flow"),
        ("/contacts", "Contacts", "New contact", "New contact"),
        ("/keys", "Keys", "New key", "New API key"),
        ("/campaigns", "Campaigns", "New campaign", "New campaign"),
        ("/calls", "Calls & people", "New department", "New department"),
        ("/calls", "Calls & people", "New agent", "New agent"),
        ("/calls", "Calls & people", "New number", "New phone number"),
        ("/contacts", "Contacts", "Edit Asha Patel", "Edit Asha Patel"),
        ("/keys", "Keys", "Revoke CRM sync", re.compile("Revoke")),
        ("/campaigns", "Campaigns", "Delete Spring push", re.compile("Delete")),
    ):
        await _open(browsing, path, heading)
        await tab_to(opener)
        await page.keyboard.press("Enter")
        dialog = page.get_by_role("dialog", name=dialog_name)
        await expect(dialog).to_be_visible()
        assert await dialog.evaluate("(d) => d.contains(document.activeElement)"), opener
        assert await page.evaluate(A11Y_PROBLEMS) == [], f"{dialog_name}: accessibility"
        assert await page.evaluate(LOW_CONTRAST) == [], f"{dialog_name}: text hard to read"
        assert await dialog.evaluate("(d) => d.scrollWidth <= d.clientWidth"), dialog_name
        box = await dialog.bounding_box()
        assert box is not None and box["y"] >= 0 and box["y"] + box["height"] <= NARROW[1]
        # Focus stays in the dialog: Tab past its last control wraps inside it (or to the
        # browser's own controls), never onto the page behind.
        for _ in range(25):
            await page.keyboard.press("Tab")
            inside = await dialog.evaluate(
                "(d) => d.contains(document.activeElement)"
                " || document.activeElement === document.body"
            )
            assert inside, f"{dialog_name}: Tab left the dialog"
        await page.keyboard.press("Escape")
        await expect(dialog).to_have_count(0)
        focused = await _focused(page)
        assert focused is not None and focused["label"] == opener, (opener, focused)
        assert focused["indicator"], focused

    # A contact created with the keyboard alone.
    await _open(browsing, "/contacts", "Contacts")
    await tab_to("New contact")
    await page.keyboard.press("Enter")
    dialog = page.get_by_role("dialog", name="New contact")
    await expect(dialog).to_be_visible()
    await expect(dialog.get_by_label("Name")).to_be_focused()
    await page.keyboard.type("Kiran Rao")
    while (
        await page.evaluate(
            "document.activeElement.getAttribute('aria-label') || "
            "document.activeElement.labels?.[0]?.innerText"
        )
        != "Phone"
    ):
        await page.keyboard.press("Tab")
    await page.keyboard.type("+919812345699")
    await page.keyboard.press("Enter")
    await expect(dialog).to_have_count(0)
    await expect(page.locator("tr.contact-row").filter(has_text="Kiran Rao")).to_be_visible()
    focused = await _focused(page)
    assert focused is not None and focused["indicator"], focused
    await expect(page.get_by_text("Kiran Rao", exact=False).first).to_be_visible()
    assert await page.evaluate(LOW_CONTRAST) == [], "the contact created: text hard to read"
    await browsing.shoot("02-contact-created-by-keyboard")
    with stack.client() as http:
        listed = _ok(http.get("/api/contacts", params={"q": "Kiran"}))["items"]
    assert [(c["name"], c["phone"]) for c in listed] == [("Kiran Rao", "+919812345699")]

    # A flow disabled with Space on its switch, the change stored.
    await _open(browsing, "/flows", "Flows")
    switch = page.get_by_role("switch", name=re.compile("Quick follow-up"))
    await expect(switch).to_have_attribute("aria-checked", "true")
    for _ in range(80):
        await page.keyboard.press("Tab")
        if await switch.evaluate("(s) => s === document.activeElement"):
            break
    await page.keyboard.press("Space")
    await expect(switch).to_have_attribute("aria-checked", "false")
    with stack.client() as http:
        flows = {f["name"]: f for f in _ok(http.get("/api/flows"))}
    assert flows["Quick follow-up"]["enabled"] is False


def _environment_of(api: ApiProcess) -> dict[str, str]:
    """What `api` was started with beyond this process's own environment (its database, its
    Temporal task queue, its admin key), to start it again the same."""
    raw = Path(f"/proc/{api.process.pid}/environ").read_bytes().decode()
    env = dict(item.split("=", 1) for item in raw.split("\0") if "=" in item)
    return {k: v for k, v in env.items() if os.environ.get(k) != v}


async def _every_page_says_the_api_is_gone(browsing: Browsing) -> None:
    page = browsing.page
    for label, _path, heading in NAV_PAGES:
        await page.get_by_role("navigation", name="Main").get_by_role("link", name=label).click()
        main = page.locator("main")
        await expect(main.get_by_role("heading", level=1, name=heading, exact=True)).to_be_visible()
        # The page's own error, with a retry (Executions also tells that its flow names are
        # missing; Calls & people has one per section).
        retry = page.get_by_role("button", name="Try again")
        error = main.get_by_role("alert").filter(has=retry).first
        await expect(error).to_contain_text("Cannot reach the Flowdeck API")
        await expect(error.get_by_role("button", name="Try again")).to_be_visible()
        assert (await main.inner_text()).strip() != ""
        assert await page.evaluate(LOW_CONTRAST) == [], f"{label}: text hard to read"
        await browsing.shoot(f"03-api-gone-{label.split()[0].lower()}")


async def test_every_page_says_so_when_the_api_is_gone_and_recovers_on_try_again(
    browsing: Browsing,
) -> None:
    page, stack = browsing.page, browsing.stack
    _seed(stack)
    await browsing.sign_in(stack.admin_key)
    # Every page visited once: its code is in the browser, as for someone who used it.
    for label, _path, heading in NAV_PAGES:
        await page.get_by_role("navigation", name="Main").get_by_role("link", name=label).click()
        await expect(page.get_by_role("heading", level=1, name=heading, exact=True)).to_be_visible()

    environ = _environment_of(stack.api)
    stack.api.kill()
    try:
        await _every_page_says_the_api_is_gone(browsing)
    finally:  # the refused requests, expected, are no errors of the dashboard
        browsing.console.errors[:] = [
            e for e in browsing.console.errors if "net::ERR_CONNECTION_" not in e
        ]

    # The API back: Try again, by keyboard, shows the page.
    stack.api = ApiProcess.start(stack.api.directory, port=stack.api.port, **environ)
    stack.api.wait_until_serving()
    retry = page.locator("main").get_by_role("button", name="Try again").first
    await retry.focus()
    await page.keyboard.press("Enter")
    await expect(page.locator("tr.campaign-row").filter(has_text="Spring push")).to_be_visible()
    await expect(page.locator("main").get_by_role("alert")).to_have_count(0)


async def test_a_viewer_walks_every_page_by_keyboard_and_finds_no_edit_control(
    browsing: Browsing,
) -> None:
    page, stack = browsing.page, browsing.stack
    _seed(stack)
    await browsing.sign_in(stack.issue_key("viewer"))
    edits = re.compile(r"^(New |Edit |Delete |Revoke |Import|Duplicate |Deploy )")
    for label, path, heading in NAV_PAGES:
        await _open(browsing, path, heading)
        assert await page.evaluate(A11Y_PROBLEMS) == [], f"{label}: accessibility problems"
        assert await page.evaluate(LOW_CONTRAST) == [], f"{label}: text hard to read"
        await page.keyboard.press("Tab")
        walked = [f["label"] for f in await _walk(page)]
        nav = [name for name, _, _ in NAV_PAGES]
        assert walked[: 1 + len(nav)] == ["Sign out", *nav], walked
        assert not [w for w in walked if edits.match(w)], f"{label}: edit controls {walked}"
    await browsing.shoot("04-viewer-campaigns")


async def test_every_page_shows_that_it_is_loading_while_the_api_answers(
    browsing: Browsing,
) -> None:
    """The API's answers held back (not changed: each goes on as it came once let through):
    every page says what it is loading, never a blank page, then shows its data."""
    page, stack = browsing.page, browsing.stack
    _seed(stack)
    await browsing.sign_in(stack.admin_key)
    await page.get_by_role("link", name="Campaigns").click()  # away from Flows, to come back
    await expect(page.get_by_role("heading", level=1, name="Campaigns")).to_be_visible()
    release = asyncio.Event()

    async def held(route: Route) -> None:
        if "/api/session" not in route.request.url:
            await release.wait()
        await route.continue_()

    await page.route("**/api/**", held)
    for label, _path, heading in NAV_PAGES:
        release.clear()
        await page.get_by_role("navigation", name="Main").get_by_role("link", name=label).click()
        main = page.locator("main")
        loading = main.get_by_role("status").filter(has=page.locator(".spinner")).first
        await expect(loading).to_be_visible()
        await expect(loading).to_contain_text(re.compile(r"Loading .+…"))
        await expect(main.get_by_role("heading", level=1, name=heading, exact=True)).to_be_visible()
        if label == "Contacts":
            await browsing.shoot("05-contacts-loading")
        release.set()
        await expect(main.locator(".spinner")).to_have_count(0)
        await expect(main.get_by_role("alert")).to_have_count(0)
