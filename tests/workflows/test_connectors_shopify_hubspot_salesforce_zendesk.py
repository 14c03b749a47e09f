"""Shopify, HubSpot, Salesforce and Zendesk steps run by the interpreter on a real Temporal
server: a flow that reads an order, updates the customer in two CRMs (Salesforce refreshing
its expired token on the way) and opens a ticket; each step's 429 retried after the vendor's
`Retry-After` through the activity's real retry policy; a vendor's refusal by the error port.
"""

from __future__ import annotations

from typing import Any

import pytest

from schemas.execution import ExecutionResult
from schemas.settings import Settings
from store.connections import resolve
from store.vault import Vault
from tests.vendors import Answer, VendorServer, vendor_server
from tests.workflows.conftest import Runner
from tests.workflows.connectors import assert_a_429_is_waited_out, connect

SHOPIFY_TOKEN = "shpat_workflowtest0123456789abcdef"
HUBSPOT_TOKEN = "pat-na1-workflow-test-0000-111122223333"
SALESFORCE_TOKEN = "00D5g000004WXYZ!AQ4AQworkflowexpiredtoken0"
SALESFORCE_FRESH = "00D5g000004WXYZ!AQ4AQworkflowfreshtoken000"
ZENDESK_TOKEN = "wOrKfLoWtEsTzEnDeSkApItOkEn0123456789"
ORDER_PATH = "/admin/api/2024-10/orders/450789469.json"
LEAD_PATH = "/services/data/v61.0/sobjects/Lead/"
TOKEN_PATH = "/services/oauth2/token"
SECRETS = (SHOPIFY_TOKEN, HUBSPOT_TOKEN, SALESFORCE_TOKEN, SALESFORCE_FRESH, ZENDESK_TOKEN)


def _connect_all(runner: Runner, vendor: VendorServer) -> None:
    connections: list[tuple[str, str, dict[str, str], dict[str, Any]]] = [
        ("shopify", "api_key", {"api_key": SHOPIFY_TOKEN}, {"base_url": vendor.url}),
        ("hubspot", "bearer", {"token": HUBSPOT_TOKEN}, {"base_url": vendor.url}),
        (
            "salesforce",
            "oauth2",
            {
                "access_token": SALESFORCE_TOKEN,
                "refresh_token": "5Aep861workflowrefreshtoken",
                "client_id": "3MVG9workflowclient",
                "token_url": f"{vendor.url}{TOKEN_PATH}",
            },
            {"instance_url": vendor.url},
        ),
        (
            "zendesk",
            "basic",
            {"username": "agent@example.com", "password": ZENDESK_TOKEN},
            {"base_url": vendor.url},
        ),
    ]
    for integration, auth, secret, settings in connections:
        connect(runner, integration, integration, auth, secret, settings)


def _answer_all(vendor: VendorServer) -> None:
    order = {
        "id": 450789469,
        "name": "#1001",
        "email": "asha@example.com",
        "total_price": "59.00",
        "currency": "EUR",
        "tags": "",
        "note": None,
        "customer": {"id": 207119551},
    }
    vendor.answer("GET", ORDER_PATH, Answer(json={"order": order}))
    vendor.answer(
        "POST", "/crm/v3/objects/contacts/search", Answer(json={"total": 0, "results": []})
    )
    vendor.answer("POST", "/crm/v3/objects/contacts", Answer(status=201, json={"id": "151"}))
    expired = [{"message": "Session expired or invalid", "errorCode": "INVALID_SESSION_ID"}]
    vendor.answer(
        "POST",
        LEAD_PATH,
        Answer(status=401, json=expired),
        Answer(status=201, json={"id": "00Q5g00000AbCdEFGH", "success": True, "errors": []}),
    )
    vendor.answer("POST", TOKEN_PATH, Answer(json={"access_token": SALESFORCE_FRESH}))
    ticket = {"id": 35436, "status": "new", "priority": "normal", "subject": "Order #1001"}
    vendor.answer("POST", "/api/v2/tickets.json", Answer(status=201, json={"ticket": ticket}))


FLOW: dict[str, Any] = {
    "start": "order",
    "nodes": [
        {
            "id": "order",
            "type": "shopify",
            "config": {
                "connection": "shopify",
                "action": "get_order",
                "order_id": "{{ vars.order }}",
            },
            "transitions": {"success": "contact"},
        },
        {
            "id": "contact",
            "type": "hubspot",
            "config": {
                "connection": "hubspot",
                "action": "upsert_contact",
                "email": "{{ steps.order.email }}",
                "properties": {"last_order": "{{ steps.order.name }}"},
            },
            "transitions": {"success": "lead"},
        },
        {
            "id": "lead",
            "type": "salesforce",
            "config": {
                "connection": "salesforce",
                "action": "create",
                "object": "Lead",
                "fields": {
                    "LastName": "{{ contact.name }}",
                    "Company": "Acme",
                    "Email": "{{ steps.order.email }}",
                },
            },
            "transitions": {"success": "ticket"},
        },
        {
            "id": "ticket",
            "type": "zendesk",
            "config": {
                "connection": "zendesk",
                "action": "create_ticket",
                "subject": "Order {{ steps.order.name }}",
                "comment": "HubSpot contact {{ steps.contact.contact_id }}",
                "requester_email": "{{ steps.order.email }}",
            },
            "transitions": {"success": "done"},
        },
        {"id": "done", "type": "end"},
    ],
}


async def test_shopify_hubspot_salesforce_and_zendesk_in_one_flow(runner: Runner) -> None:
    async with vendor_server() as vendor:
        _connect_all(runner, vendor)
        _answer_all(vendor)
        handle = await runner.start(FLOW, variables={"order": "450789469"}, contact={"name": "Rao"})
        result: ExecutionResult = await handle.result()

        assert result.status == "completed", result.reason
        assert runner.path(handle) == [
            ("order", "success", "success"),
            ("contact", "success", "success"),
            ("lead", "success", "success"),
            ("ticket", "success", "success"),
            ("done", "success", None),
        ]
        [contact] = vendor.requests("POST", "/crm/v3/objects/contacts")
        assert contact.json() == {
            "properties": {"last_order": "#1001", "email": "asha@example.com"}
        }
        expired, fresh = vendor.requests("POST", LEAD_PATH)
        assert expired.headers["authorization"] == f"Bearer {SALESFORCE_TOKEN}"
        assert fresh.json() == {"LastName": "Rao", "Company": "Acme", "Email": "asha@example.com"}
        assert fresh.headers["authorization"] == f"Bearer {SALESFORCE_FRESH}"
        [ticket] = vendor.requests("POST", "/api/v2/tickets.json")
        assert ticket.json()["ticket"]["comment"]["body"] == "HubSpot contact 151"
        stored = resolve(
            runner.engine,
            tenant_id=runner.tenant_id,
            name="salesforce",
            integration="salesforce",
            vault=Vault.from_settings(Settings.model_validate({})),
        )
        assert stored.secret["access_token"] == SALESFORCE_FRESH
        timeline = repr([(s.result, s.error) for s in runner.steps(handle)])
        assert all(secret not in timeline for secret in SECRETS)
        await runner.save_history(handle, "connectors_shopify_hubspot_salesforce_zendesk")


RATE_LIMITED_STEPS: dict[str, tuple[dict[str, Any], str, str, Answer]] = {
    "shopify": (
        {"connection": "shopify", "action": "get_order", "order_id": 450789469},
        "GET",
        ORDER_PATH,
        Answer(json={"order": {"id": 450789469, "tags": ""}}),
    ),
    "hubspot": (
        {"connection": "hubspot", "action": "add_note", "contact_id": "151", "note": "hi"},
        "POST",
        "/crm/v3/objects/notes",
        Answer(status=201, json={"id": "9001"}),
    ),
    "salesforce": (
        {"connection": "salesforce", "action": "create", "fields": {"LastName": "Rao"}},
        "POST",
        LEAD_PATH,
        Answer(status=201, json={"id": "00Q5g00000AbCdEFGH", "success": True}),
    ),
    "zendesk": (
        {"connection": "zendesk", "action": "create_ticket", "subject": "s", "comment": "c"},
        "POST",
        "/api/v2/tickets.json",
        Answer(status=201, json={"ticket": {"id": 1, "status": "new"}}),
    ),
}


@pytest.mark.parametrize("step_type", sorted(RATE_LIMITED_STEPS))
async def test_a_429_is_retried_after_the_vendors_retry_after(
    runner: Runner, step_type: str
) -> None:
    config, method, path, success = RATE_LIMITED_STEPS[step_type]
    async with vendor_server() as vendor:
        _connect_all(runner, vendor)
        await assert_a_429_is_waited_out(
            runner,
            vendor,
            step_type=step_type,
            config=config,
            port="success",
            method=method,
            path=path,
            then=[success],
        )


async def test_a_vendor_error_after_its_retries_leaves_by_the_error_port(runner: Runner) -> None:
    async with vendor_server() as vendor:
        _connect_all(runner, vendor)
        path = "/api/v2/tickets/77.json"
        vendor.answer(
            "PUT",
            path,
            Answer(status=500, json={"error": "InternalError"}),
            Answer(status=404, json={"error": "RecordNotFound", "description": "Not found"}),
        )
        flow = {
            "start": "ticket",
            "nodes": [
                {
                    "id": "ticket",
                    "type": "zendesk",
                    "config": {
                        "connection": "zendesk",
                        "action": "update_ticket",
                        "ticket_id": 77,
                        "status": "solved",
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
        assert runner.path(handle)[0] == ("ticket", "failed", "error")
        assert len(vendor.requests("PUT", path)) == 2  # the 500 retried, the 404 not
        step = runner.steps(handle)[0]
        assert step.error == (
            "VendorError: Zendesk refused update_ticket (HTTP 404): RecordNotFound: Not found"
        )
