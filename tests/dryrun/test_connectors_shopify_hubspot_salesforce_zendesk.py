"""The dry run of the Shopify, HubSpot, Salesforce and Zendesk steps: what each would call,
with which connection, its config rendered, and nothing called."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from schemas.flow import FlowDocument
from workflows.dryrun import dry_run

NODES: list[dict[str, Any]] = [
    {
        "id": "order",
        "type": "shopify",
        "config": {
            "connection": "shop",
            "action": "add_tags",
            "order_id": "{{ vars.order }}",
            "tags": ["refund-{{ vars.reason }}"],
        },
        "transitions": {"success": "contact"},
    },
    {
        "id": "contact",
        "type": "hubspot",
        "config": {
            "connection": "crm",
            "action": "upsert_contact",
            "email": "{{ contact.email }}",
            "properties": {"score": "{{ vars.score }}"},
        },
        "transitions": {"success": "lead"},
    },
    {
        "id": "lead",
        "type": "salesforce",
        "config": {
            "connection": "sfdc",
            "action": "upsert",
            "object": "Contact",
            "external_id_field": "External_Id__c",
            "external_id": "{{ contact.id }}",
            "fields": {"LastName": "{{ contact.name }}"},
        },
        "transitions": {"success": "ticket"},
    },
    {
        "id": "ticket",
        "type": "zendesk",
        "config": {
            "connection": "support",
            "action": "create_ticket",
            "subject": "Refund for {{ vars.order }}",
            "comment": "Reason: {{ vars.reason }}",
        },
        "transitions": {"success": "done"},
    },
    {"id": "done", "type": "end"},
]


def test_each_step_shows_its_call_rendered_without_making_it() -> None:
    run = dry_run(
        FlowDocument.model_validate({"start": "order", "nodes": NODES}),
        contact={"id": "c-9", "name": "Rao", "email": "asha@example.com"},
        variables={"order": "450789469", "reason": "late", "score": 42},
        trigger={},
        outcomes={},
        start_at=datetime(2030, 5, 6, 5, 0, tzinfo=UTC),
    )

    assert run.ends == "completed"
    assert [(s["node_id"], s["port"], s.get("calls")) for s in run.steps] == [
        (
            "order",
            "success",
            {"integration": "shopify", "action": "add_tags", "connection": "shop"},
        ),
        (
            "contact",
            "success",
            {"integration": "hubspot", "action": "upsert_contact", "connection": "crm"},
        ),
        (
            "lead",
            "success",
            {"integration": "salesforce", "action": "upsert", "connection": "sfdc"},
        ),
        (
            "ticket",
            "success",
            {"integration": "zendesk", "action": "create_ticket", "connection": "support"},
        ),
        ("done", None, None),
    ]
    assert run.steps[0]["rendered"]["tags"] == ["refund-late"]
    assert run.steps[1]["rendered"]["properties"] == {"score": 42}  # a native field
    assert run.steps[2]["rendered"]["external_id"] == "c-9"
    assert run.steps[3]["rendered"]["subject"] == "Refund for 450789469"
    assert all(s.get("simulated") for s in run.steps[:4])
