"""The Jira and Odoo steps and an email sent through SendGrid, run by the interpreter on a
real Temporal server against a local vendor server: a flow that finds the contact in Odoo,
opens a Jira issue and comments on it, updates the Odoo record and emails the contact; and
each one's 429 waited out as its `Retry-After` asks, through the activity's real retry policy.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest
from sqlalchemy.engine import Engine
from temporalio.testing import WorkflowEnvironment

from schemas.execution import ExecutionResult
from schemas.settings import Settings
from tests.vendors import Answer, VendorServer, vendor_server
from tests.workflows.conftest import Runner
from tests.workflows.connectors import assert_a_429_is_waited_out, connect
from worker import build_worker

JIRA_TOKEN = "ATATT3xFfGF0workflowtesttoken0000"
ODOO_KEY = "0a1b2c3d4e5f60718293a4b5c6d7e8f9workflow"
SENDGRID_KEY = "SG.workflowtestkey000000.abcdefghijklmnopqrstuvwxyz012345"


@pytest.fixture
async def sending_runner(
    temporal_env: WorkflowEnvironment, engine: Engine, task_queue: str, tenant_id: str
) -> AsyncIterator[Runner]:
    """A worker whose email provider is real (not the sandbox), so SendGrid is called."""
    settings = Settings.model_validate(
        {
            "FLOWDECK_HTTP_ALLOWLIST": "127.0.0.1,localhost",
            "FLOWDECK_ENV": "test",
            "FLOWDECK_PROVIDER_EMAIL": "smtp",
        }
    )
    worker = build_worker(
        temporal_env.client, engine=engine, settings=settings, task_queue=task_queue
    )
    async with worker:
        yield Runner(
            client=temporal_env.client, engine=engine, task_queue=task_queue, tenant_id=tenant_id
        )


def _connect_all(runner: Runner, vendor: VendorServer) -> None:
    for name, integration, auth, secret, settings in [
        (
            "jira",
            "jira",
            "basic",
            {"username": "ops@example.com", "password": JIRA_TOKEN},
            {"base_url": vendor.url},
        ),
        (
            "odoo",
            "odoo",
            "basic",
            {"username": "flowdeck", "password": ODOO_KEY},
            {"base_url": vendor.url, "database": "acme"},
        ),
        (
            "sendgrid",
            "sendgrid",
            "api_key",
            {"api_key": SENDGRID_KEY},
            {"base_url": vendor.url, "from_email": "support@acme.example"},
        ),
    ]:
        connect(runner, name, integration, auth, secret, settings)


def _rpc(value: Any) -> Answer:
    return Answer(json={"jsonrpc": "2.0", "id": 1, "result": value})


FLOW: dict[str, Any] = {
    "start": "find",
    "nodes": [
        {
            "id": "find",
            "type": "odoo",
            "config": {
                "connection": "odoo",
                "action": "search_read",
                "model": "res.partner",
                "domain": [["email", "=", "{{ contact.email }}"]],
                "fields": ["name"],
                "save_as": "partners",
            },
            "transitions": {"success": "ticket"},
        },
        {
            "id": "ticket",
            "type": "jira",
            "config": {
                "connection": "jira",
                "action": "create_issue",
                "project": "SUP",
                "summary": "Call back {{ vars.partners[0].name }}",
                "description": "Partner {{ vars.partners[0].id }} asked for a call.",
            },
            "transitions": {"success": "note"},
        },
        {
            "id": "note",
            "type": "jira",
            "config": {
                "connection": "jira",
                "action": "add_comment",
                "issue": "{{ steps.ticket.key }}",
                "comment": "Opened by Flowdeck.",
            },
            "transitions": {"success": "mark"},
        },
        {
            "id": "mark",
            "type": "odoo",
            "config": {
                "connection": "odoo",
                "action": "write",
                "model": "res.partner",
                "ids": "{{ vars.partners[0].id }}",
                "values": {"comment": "Jira {{ steps.ticket.key }}"},
            },
            "transitions": {"success": "mail"},
        },
        {
            "id": "mail",
            "type": "email",
            "config": {
                "connection": "sendgrid",
                "to": "{{ contact.email }}",
                "subject": "We will call you back",
                "body": "Your request is {{ steps.ticket.key }}.",
            },
            "transitions": {"sent": "done"},
        },
        {"id": "done", "type": "end"},
    ],
}


async def test_odoo_jira_and_sendgrid_in_one_flow(sending_runner: Runner) -> None:
    runner = sending_runner
    async with vendor_server() as vendor:
        _connect_all(runner, vendor)
        vendor.answer(
            "POST",
            "/jsonrpc",
            _rpc(2),
            _rpc([{"id": 7, "name": "Asha Rao"}]),
            _rpc(2),
            _rpc(True),
        )
        vendor.answer(
            "POST", "/rest/api/3/issue", Answer(status=201, json={"id": "10002", "key": "SUP-42"})
        )
        vendor.answer(
            "POST", "/rest/api/3/issue/SUP-42/comment", Answer(status=201, json={"id": "10000"})
        )
        vendor.answer("POST", "/v3/mail/send", Answer(status=202, headers={"X-Message-Id": "m-1"}))

        handle = await runner.start(FLOW, contact={"email": "asha@example.com"})
        result: ExecutionResult = await handle.result()

        assert result.status == "completed", result.reason
        assert runner.path(handle) == [
            ("find", "success", "success"),
            ("ticket", "success", "success"),
            ("note", "success", "success"),
            ("mark", "success", "success"),
            ("mail", "success", "sent"),
            ("done", "success", None),
        ]
        assert result.vars["partners"] == [{"id": 7, "name": "Asha Rao"}]
        [issue] = vendor.requests("POST", "/rest/api/3/issue")
        assert issue.json()["fields"]["summary"] == "Call back Asha Rao"
        write = vendor.requests("POST", "/jsonrpc")[3].json()["params"]["args"]
        assert write[3:] == ["res.partner", "write", [[7], {"comment": "Jira SUP-42"}], {}]
        [mail] = vendor.requests("POST", "/v3/mail/send")
        assert mail.json()["content"] == [
            {"type": "text/plain", "value": "Your request is SUP-42."}
        ]
        steps = runner.steps(handle)
        assert steps[4].result == {
            "to": "asha@example.com",
            "message_id": "m-1",
            "provider": "sendgrid",
        }
        for secret in (JIRA_TOKEN, ODOO_KEY, SENDGRID_KEY):
            assert all(secret not in str(s.result) + str(s.error) for s in steps)
        await runner.save_history(handle, "connectors_odoo_jira_sendgrid")


RATE_LIMITED_STEPS: dict[str, tuple[str, dict[str, Any], str, str, list[Answer]]] = {
    "jira": (
        "jira",
        {"connection": "jira", "action": "add_comment", "issue": "SUP-1", "comment": "hi"},
        "success",
        "/rest/api/3/issue/SUP-1/comment",
        [Answer(status=201, json={"id": "1"})],
    ),
    "odoo": (
        "odoo",
        {"connection": "odoo", "action": "read", "model": "res.partner", "ids": [7]},
        "success",
        "/jsonrpc",
        [_rpc(2), _rpc([{"id": 7}])],
    ),
    "sendgrid": (
        "email",
        {"connection": "sendgrid", "to": "asha@example.com", "subject": "Hi", "body": "Hi"},
        "sent",
        "/v3/mail/send",
        [Answer(status=202, headers={"X-Message-Id": "m-2"})],
    ),
}


@pytest.mark.parametrize("vendor_name", sorted(RATE_LIMITED_STEPS))
async def test_a_429_is_retried_after_the_vendors_retry_after(
    sending_runner: Runner, vendor_name: str
) -> None:
    step_type, config, port, path, success = RATE_LIMITED_STEPS[vendor_name]
    async with vendor_server() as vendor:
        _connect_all(sending_runner, vendor)
        await assert_a_429_is_waited_out(
            sending_runner,
            vendor,
            step_type=step_type,
            config=config,
            port=port,
            method="POST",
            path=path,
            then=success,
        )


async def test_a_vendor_error_is_retried_then_leaves_by_the_error_port(
    sending_runner: Runner,
) -> None:
    runner = sending_runner
    async with vendor_server() as vendor:
        _connect_all(runner, vendor)
        vendor.answer(
            "POST",
            "/rest/api/3/issue",
            Answer(status=500, json={"errorMessages": ["Internal server error"]}),
            Answer(
                status=400,
                json={"errorMessages": [], "errors": {"project": "valid project is required"}},
            ),
        )
        flow = {
            "start": "ticket",
            "nodes": [
                {
                    "id": "ticket",
                    "type": "jira",
                    "config": {
                        "connection": "jira",
                        "action": "create_issue",
                        "project": "NOPE",
                        "summary": "x",
                    },
                    "retry": {"max_attempts": 3, "delay_s": 0.1},
                    "transitions": {"success": "done", "error": "done"},
                },
                {"id": "done", "type": "end"},
            ],
        }
        handle = await runner.start(flow)
        result: ExecutionResult = await handle.result()

        assert result.status == "completed", result.reason
        assert len(vendor.requests("POST", "/rest/api/3/issue")) == 2  # the 400 is not retried
        ticket = runner.steps(handle)[0]
        assert (ticket.status, ticket.port) == ("failed", "error")
        assert ticket.error == (
            "VendorError: Jira refused create_issue (HTTP 400): project: valid project is required"
        )
