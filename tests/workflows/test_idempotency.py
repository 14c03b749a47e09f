"""HTTP and CRM steps carry an idempotency key, so a receiver that honours it sees one request
when a retry or a crash sends one twice."""

from __future__ import annotations

from typing import Any

import pytest
from pytest_httpserver import HTTPServer

from tests.workflows.conftest import Runner

END = {"id": "done", "type": "end"}


def _notify(url: str, **config: Any) -> dict[str, Any]:
    return {
        "id": "notify",
        "type": "http",
        "config": {"method": "POST", "url": url, "body": {"n": 1}, **config},
        "transitions": {"success": "done"},
    }


async def test_http_and_crm_steps_send_an_idempotency_key_per_visit(
    runner: Runner, httpserver: HTTPServer
) -> None:
    httpserver.expect_request("/hook").respond_with_json({"ok": True})
    httpserver.expect_request("/rest/crm.lead.update.json").respond_with_json({"result": True})
    flow = {
        "start": "twice",
        "nodes": [
            {
                "id": "twice",
                "type": "loop",
                "config": {"count": 2},
                "transitions": {"body": "notify", "done": "crm"},
            },
            {
                "id": "notify",
                "type": "http",
                "config": {"method": "POST", "url": httpserver.url_for("/hook")},
            },
            {
                "id": "crm",
                "type": "crm_update",
                "config": {
                    "webhook_url": httpserver.url_for("/rest"),
                    "id": "42",
                    "fields": {"STATUS_ID": "IN_PROCESS"},
                },
            },
        ],
    }
    handle = await runner.start(flow)
    await handle.result()
    execution_id = runner.execution(handle).id
    keys = [request.headers.get("Idempotency-Key") for request, _ in httpserver.log]
    assert keys == [f"{execution_id}:notify:1", f"{execution_id}:notify:2", f"{execution_id}:crm:1"]


@pytest.mark.parametrize(
    ("config", "header", "expected"),
    [
        ({"idempotency_header": "X-Request-Id"}, "X-Request-Id", "{id}:notify:1"),
        ({"idempotency_header": None}, "Idempotency-Key", None),
        ({"headers": {"Idempotency-Key": "mine"}}, "Idempotency-Key", "mine"),
    ],
)
async def test_a_step_renames_turns_off_or_sets_its_idempotency_key(
    runner: Runner,
    httpserver: HTTPServer,
    config: dict[str, Any],
    header: str,
    expected: str | None,
) -> None:
    httpserver.expect_request("/hook").respond_with_json({"ok": True})
    flow = {"start": "notify", "nodes": [_notify(httpserver.url_for("/hook"), **config), END]}
    handle = await runner.start(flow)
    await handle.result()
    [(request, _)] = httpserver.log
    execution_id = runner.execution(handle).id
    want = expected.format(id=execution_id) if expected else None
    assert request.headers.get(header) == want
    if config.get("idempotency_header") is None and "headers" not in config:
        assert "Idempotency-Key" not in request.headers


@pytest.mark.parametrize(
    ("config", "header", "expected"),
    [
        ({"idempotency_header": "X-Request-Id"}, "X-Request-Id", "{id}:crm:1"),
        ({"idempotency_header": None}, "Idempotency-Key", None),
    ],
)
async def test_a_crm_update_renames_or_turns_off_its_idempotency_key(
    runner: Runner,
    httpserver: HTTPServer,
    config: dict[str, Any],
    header: str,
    expected: str | None,
) -> None:
    httpserver.expect_request("/rest/crm.lead.update.json").respond_with_json({"result": True})
    crm = {
        "id": "crm",
        "type": "crm_update",
        "config": {
            "webhook_url": httpserver.url_for("/rest"),
            "id": "42",
            "fields": {"STATUS_ID": "IN_PROCESS"},
            **config,
        },
        "transitions": {"success": "done"},
    }
    handle = await runner.start({"start": "crm", "nodes": [crm, END]})
    await handle.result()
    [(request, _)] = httpserver.log
    want = expected.format(id=runner.execution(handle).id) if expected else None
    assert request.headers.get(header) == want
    if expected is None:
        assert "Idempotency-Key" not in request.headers
