"""The flow builder in a real browser against the real stack: a flow drawn from nothing on
the canvas (palette, ports, side panel, problems, undo and redo, auto-layout), saved as you
go and found again after a reload exactly as the API stored it; a viewer sees the canvas
and nothing to edit."""

from __future__ import annotations

import json
from typing import Any

import pytest
from playwright.async_api import expect

from tests.dashboard.conftest import Browsing, Stack
from tests.processes import REPO

pytestmark = pytest.mark.timeout(300)

LEAD_EXAMPLE = REPO / "examples" / "lead_engagement.json"


def _create(stack: Stack, body: dict[str, Any]) -> str:
    with stack.client() as http:
        created = http.post("/api/flows", json=body)
        assert created.status_code == 201, created.text
        return str(created.json()["id"])


async def test_an_example_is_drawn_with_its_ports(browsing: Browsing) -> None:
    page, stack = browsing.page, browsing.stack
    flow_id = _create(stack, json.loads(LEAD_EXAMPLE.read_text()))
    await browsing.sign_in(stack.admin_key)
    await page.goto(f"{stack.url}/flows/{flow_id}")
    await expect(page.locator(".step-node")).to_have_count(6)
    await browsing.shoot("01-example-drawn")
