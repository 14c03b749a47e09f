"""The dry run of the Jira and Odoo steps and of an email sent through SendGrid: what each
would call, with which connection, rendered, and nothing called."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from schemas.flow import FlowDocument
from workflows.dryrun import dry_run

NODES: list[dict[str, Any]] = [
    {
        "id": "find",
        "type": "odoo",
        "config": {
            "connection": "odoo",
            "action": "search_read",
            "model": "res.partner",
            "domain": [["email", "=", "{{ contact.email }}"]],
            "save_as": "partners",
        },
        "transitions": {"success": "ticket"},
    },
    {
        "id": "ticket",
        "type": "jira",
        "config": {
            "connection": "support-jira",
            "action": "create_issue",
            "project": "SUP",
            "summary": "Call back {{ vars.partners[0].name }}",
        },
        "transitions": {"success": "mail"},
    },
    {
        "id": "mail",
        "type": "email",
        "config": {
            "connection": "sendgrid",
            "to": "{{ contact.email }}",
            "subject": "Hello",
            "body": "We will call you back.",
        },
        "transitions": {"sent": "plain"},
    },
    {
        "id": "plain",
        "type": "email",
        "config": {"to": "{{ contact.email }}", "subject": "Hello", "body": "Again."},
        "transitions": {"sent": "done"},
    },
    {"id": "done", "type": "end"},
]


def test_each_step_shows_its_call_and_a_given_variable_stands_in_for_the_records() -> None:
    run = dry_run(
        FlowDocument.model_validate({"start": "find", "nodes": NODES}),
        contact={"email": "asha@example.com"},
        variables={"partners": [{"name": "Asha Rao"}]},
        trigger={},
        outcomes={},
        start_at=datetime(2030, 5, 6, 5, 0, tzinfo=UTC),
    )

    assert run.ends == "completed"
    assert [(s["node_id"], s["port"], s.get("calls")) for s in run.steps] == [
        (
            "find",
            "success",
            {"integration": "odoo", "action": "search_read", "connection": "odoo"},
        ),
        (
            "ticket",
            "success",
            {"integration": "jira", "action": "create_issue", "connection": "support-jira"},
        ),
        ("mail", "sent", {"integration": "sendgrid", "action": None, "connection": "sendgrid"}),
        ("plain", "sent", None),  # the deployment's provider: nothing to name
        ("done", None, None),
    ]
    assert run.steps[0]["rendered"]["domain"] == [["email", "=", "asha@example.com"]]
    assert run.steps[1]["rendered"]["summary"] == "Call back Asha Rao"
    assert run.usage.email == 2  # a SendGrid email is still an email in the estimate
