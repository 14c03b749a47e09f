"""The dry run of connector steps: what each would call, with which connection, rendered,
and nothing called."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import httpx

from schemas.flow import FlowDocument
from tests.api.helpers import TenantKeys, make_flow
from workflows.dryrun import dry_run

NODES: list[dict[str, Any]] = [
    {
        "id": "notify",
        "type": "slack",
        "config": {"connection": "team-slack", "channel": "C1", "text": "Order {{ vars.order }}"},
        "transitions": {"sent": "lookup"},
    },
    {
        "id": "lookup",
        "type": "postgresql",
        "config": {
            "connection": "shop-db",
            "sql": "SELECT * FROM orders WHERE id = :id",
            "params": {"id": "{{ vars.order }}"},
            "save_as": "orders",
        },
        "transitions": {"success": "refund"},
    },
    {
        "id": "refund",
        "type": "stripe",
        "config": {
            "connection": "stripe-live",
            "action": "create_refund",
            "payment_intent": "pi_123",
            "amount": "500",
        },
        "transitions": {"success": "tell"},
    },
    {
        "id": "tell",
        "type": "teams",
        "config": {"connection": "ops-teams", "title": "Refunded"},
        "transitions": {"sent": "done"},
    },
    {"id": "done", "type": "end"},
]


def test_each_connector_step_shows_its_call_without_making_it() -> None:
    run = dry_run(
        FlowDocument.model_validate({"start": "notify", "nodes": NODES}),
        contact={"name": "Asha"},
        variables={"order": "A-77"},
        trigger={},
        outcomes={},
        start_at=datetime(2030, 5, 6, 5, 0, tzinfo=UTC),
    )

    assert run.ends == "completed"
    assert [(s["node_id"], s["port"], s.get("calls")) for s in run.steps] == [
        (
            "notify",
            "sent",
            {"integration": "slack", "action": "post_message", "connection": "team-slack"},
        ),
        (
            "lookup",
            "success",
            {"integration": "postgresql", "action": "query", "connection": "shop-db"},
        ),
        (
            "refund",
            "success",
            {"integration": "stripe", "action": "create_refund", "connection": "stripe-live"},
        ),
        (
            "tell",
            "sent",
            {"integration": "teams", "action": "post_card", "connection": "ops-teams"},
        ),
        ("done", None, None),
    ]
    assert run.steps[0]["rendered"]["text"] == "Order A-77"
    assert run.steps[1]["rendered"]["params"] == {"id": "A-77"}
    assert all(s.get("simulated") for s in run.steps[:4])


def test_a_variable_given_to_the_dry_run_stands_in_for_a_querys_rows() -> None:
    nodes: list[dict[str, Any]] = [
        NODES[1],
        {
            "id": "refund",
            "type": "stripe",
            "config": {
                "connection": "stripe-live",
                "action": "create_refund",
                "payment_intent": "{{ vars.orders[0].payment_intent }}",
            },
            "transitions": {"success": "done"},
        },
        {"id": "done", "type": "end"},
    ]
    run = dry_run(
        FlowDocument.model_validate({"start": "lookup", "nodes": nodes}),
        contact={},
        variables={"order": "A-77", "orders": [{"payment_intent": "pi_given"}]},
        trigger={},
        outcomes={},
        start_at=datetime(2030, 5, 6, 5, 0, tzinfo=UTC),
    )

    assert run.ends == "completed"
    assert run.steps[1]["rendered"]["payment_intent"] == "pi_given"


async def test_a_draft_naming_a_missing_connection_is_warned_about(
    api: httpx.AsyncClient, tenant: TenantKeys
) -> None:
    """A draft may name a connection the tenant lacks (publishing refuses it): the dry run
    of the draft warns at that step, and calls nothing."""
    flow = await make_flow(
        api,
        tenant,
        {"start": "notify", "nodes": [NODES[0], {"id": "lookup", "type": "end"}]},
        publish=False,
    )

    response = await api.post(
        f"/api/flows/{flow['id']}/test",
        json={"version": 1, "contact": {"name": "Asha"}, "variables": {"order": "A-77"}},
        headers=tenant.auth("manager"),
    )

    assert response.status_code == 200, response.text
    notify = response.json()["steps"][0]
    assert notify["calls"]["connection"] == "team-slack"
    assert notify["warning"] == "no slack connection named 'team-slack' in this tenant"
