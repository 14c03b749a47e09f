"""What a flow names is checked before it can fail a caller: publishing, rolling back and
deploying answer 422 at the node's path when a transfer's department or agent, a subflow's
flow or version, an email's stored template or a WhatsApp template's Content SID is missing.
A draft is work in progress: saving it never refuses, validating it warns."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from sqlalchemy.engine import Engine
from temporalio.testing import WorkflowEnvironment

from api.main import create_app
from schemas.settings import Settings
from tests.api.helpers import TenantKeys, make_flow, set_flow
from tests.telephony.helpers import register

CONTENT_SID = "HX" + "0123456789abcdef" * 2
NEXT_PORT = {
    "transfer": "no_answer",
    "subflow": "failed",
    "email": "sent",
    "whatsapp": "sent",
    "send_and_wait": "timeout",
}


def chain(*steps: tuple[str, dict[str, Any]]) -> dict[str, Any]:
    """A flow of `(type, config)` steps one after another (node ids s0, s1 …), then the end."""
    nodes = [
        {
            "id": f"s{i}",
            "type": kind,
            "config": config,
            "transitions": {NEXT_PORT[kind]: f"s{i + 1}" if i + 1 < len(steps) else "done"},
        }
        for i, (kind, config) in enumerate(steps)
    ]
    return {"start": "s0", "nodes": [*nodes, {"id": "done", "type": "end"}]}


def transfer(**target: str) -> tuple[str, dict[str, Any]]:
    return "transfer", target


def subflow(flow_id: str, version: int | None = None) -> tuple[str, dict[str, Any]]:
    config: dict[str, Any] = {"flow_id": flow_id}
    if version is not None:
        config["version"] = version
    return "subflow", config


def email(template: str) -> tuple[str, dict[str, Any]]:
    return "email", {"to": "{{ contact.email }}", "template": template}


def whatsapp(template: str) -> tuple[str, dict[str, Any]]:
    return "whatsapp", {"template": template}


def unresolved(response: httpx.Response) -> list[tuple[str, str]]:
    """The (path, code) of each reference a 422 refused."""
    assert response.status_code == 422, response.text
    error = response.json()["error"]
    assert error["code"] == "unresolved_references", error
    return [(d["path"], d["code"]) for d in error["details"]]


async def draft(api: httpx.AsyncClient, tenant: TenantKeys, definition: dict[str, Any]) -> str:
    """A flow whose version 1 is this draft (saving it never refuses); its id."""
    flow = await make_flow(api, tenant, definition, publish=False)
    return str(flow["id"])


async def publish(
    api: httpx.AsyncClient, tenant: TenantKeys, flow_id: str, number: int = 1
) -> httpx.Response:
    return await api.post(
        f"/api/flows/{flow_id}/versions/{number}/publish", headers=tenant.auth("manager")
    )


async def create(
    api: httpx.AsyncClient, tenant: TenantKeys, path: str, **body: Any
) -> dict[str, Any]:
    response = await api.post(path, json=body, headers=tenant.auth("manager"))
    assert response.status_code == 201, response.text
    return dict(response.json())


async def delete(api: httpx.AsyncClient, tenant: TenantKeys, path: str) -> None:
    response = await api.delete(path, headers=tenant.auth("manager"))
    assert response.status_code == 204, response.text


async def test_a_transfer_to_a_department_or_agent_the_tenant_lacks_is_not_published(
    api: httpx.AsyncClient, tenant: TenantKeys, other_tenant: TenantKeys
) -> None:
    # Another tenant's department of that name is not this tenant's.
    await create(api, other_tenant, "/api/departments", name="Sales", queue="sales")
    flow_id = await draft(
        api,
        tenant,
        chain(
            transfer(department="Sales"),
            transfer(agent="Ann"),
            transfer(department="{{ vars.team }}"),  # known at run time only
            transfer(number="+15550100200"),
        ),
    )

    refused = await publish(api, tenant, flow_id)

    assert unresolved(refused) == [
        ("$.definition.nodes[0].config.department", "unknown_department"),
        ("$.definition.nodes[1].config.agent", "unknown_agent"),
    ]
    assert "no department 'Sales' in this tenant" in refused.json()["error"]["message"]
    # Found by name or by id, as routing finds them.
    await create(api, tenant, "/api/departments", name="Sales", queue="sales")
    ann = await create(api, tenant, "/api/agents", name="Ann", phone="+15550100300")
    assert (await publish(api, tenant, flow_id)).status_code == 200
    by_id = await draft(api, tenant, chain(transfer(agent=ann["id"])))
    assert (await publish(api, tenant, by_id)).status_code == 200


async def test_a_subflow_no_run_could_start_is_not_published(
    api: httpx.AsyncClient, tenant: TenantKeys, other_tenant: TenantKeys
) -> None:
    child = await draft(api, tenant, set_flow())
    foreign = await make_flow(api, other_tenant)
    parent = await draft(
        api,
        tenant,
        chain(
            subflow("no-such-flow"),
            subflow(foreign["id"]),
            subflow(child),  # no published version yet
            subflow(child, version=1),  # a draft
            subflow(child, version=9),
            subflow("{{ vars.child }}"),
        ),
    )

    assert unresolved(await publish(api, tenant, parent)) == [
        ("$.definition.nodes[0].config.flow_id", "unknown_flow"),
        ("$.definition.nodes[1].config.flow_id", "unknown_flow"),
        ("$.definition.nodes[2].config.flow_id", "not_published"),
        ("$.definition.nodes[3].config.version", "draft_version"),
        ("$.definition.nodes[4].config.version", "unknown_version"),
    ]
    assert (await publish(api, tenant, child)).status_code == 200
    # A flow may name itself: it runs the version being published.
    fixed = chain(subflow(child), subflow(child, version=1), subflow(parent))
    version = await api.post(
        f"/api/flows/{parent}/versions", json={"definition": fixed}, headers=tenant.auth("manager")
    )
    assert version.status_code == 201, version.text
    assert (await publish(api, tenant, parent, 2)).status_code == 200


async def test_an_email_naming_a_stored_template_the_tenant_lacks_is_not_published(
    api: httpx.AsyncClient, tenant: TenantKeys
) -> None:
    # An SMS template of that name does not fill an email.
    await create(api, tenant, "/api/templates", name="welcome", channel="sms", body="Hi")
    flow_id = await draft(api, tenant, chain(email("welcome"), email("{{ vars.template }}")))

    assert unresolved(await publish(api, tenant, flow_id)) == [
        ("$.definition.nodes[0].config.template", "unknown_template")
    ]
    await create(
        api, tenant, "/api/templates", name="welcome", channel="email", subject="Hi", body="Hello"
    )
    assert (await publish(api, tenant, flow_id)).status_code == 200


@pytest.fixture
async def twilio_api(
    engine: Engine, settings: Settings, temporal_env: WorkflowEnvironment
) -> AsyncIterator[httpx.AsyncClient]:
    """The app with WhatsApp sent through Twilio, one template mapped to its Content SID."""
    twilio = settings.model_copy(
        update={"provider_whatsapp": "twilio", "twilio_content_sids": {"approved": CONTENT_SID}}
    )
    app = create_app(settings=twilio, engine=engine, temporal_client=temporal_env.client)
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://flowdeck.test") as client:
        yield client


async def test_a_whatsapp_template_twilio_has_no_content_sid_for_is_not_published(
    api: httpx.AsyncClient, twilio_api: httpx.AsyncClient, tenant: TenantKeys
) -> None:
    definition = chain(
        whatsapp("approved"),
        whatsapp(CONTENT_SID),  # the sid itself
        whatsapp("never_approved"),
        whatsapp("{{ vars.template }}"),
        ("send_and_wait", {"channel": "whatsapp", "template": "also_unmapped"}),
        ("send_and_wait", {"channel": "sms", "body": "Still there?", "template": "unused"}),
    )
    flow_id = await draft(twilio_api, tenant, definition)

    assert unresolved(await publish(twilio_api, tenant, flow_id)) == [
        ("$.definition.nodes[2].config.template", "no_content_sid"),
        ("$.definition.nodes[4].config.template", "no_content_sid"),
    ]
    # The sandbox sends any template: nothing to refuse there.
    assert (await publish(api, tenant, flow_id)).status_code == 200


async def test_a_rollback_to_a_version_naming_what_is_gone_is_refused(
    api: httpx.AsyncClient, tenant: TenantKeys
) -> None:
    sales = await create(api, tenant, "/api/departments", name="Sales", queue="sales")
    flow = await make_flow(api, tenant, chain(transfer(department="Sales")))
    second = await api.post(
        f"/api/flows/{flow['id']}/versions",
        json={"definition": set_flow()},
        headers=tenant.auth("manager"),
    )
    assert second.status_code == 201, second.text
    assert (await publish(api, tenant, flow["id"], 2)).status_code == 200
    await delete(api, tenant, f"/api/departments/{sales['id']}")

    rollback = f"/api/flows/{flow['id']}/rollback"
    refused = await api.post(rollback, json={"version": 1}, headers=tenant.auth("manager"))

    assert unresolved(refused) == [
        ("$.definition.nodes[0].config.department", "unknown_department")
    ]
    await create(api, tenant, "/api/departments", name="Sales", queue="sales")
    again = await api.post(rollback, json={"version": 1}, headers=tenant.auth("manager"))
    assert again.status_code == 201, again.text


async def test_deploying_checks_the_deployed_version_and_the_fallback_flow(
    api: httpx.AsyncClient, tenant: TenantKeys
) -> None:
    """The first user's menu: a transfer to a department that is gone sent callers to
    voicemail without a word. Publishing checked it once; deploying checks it again."""
    sales = await create(api, tenant, "/api/departments", name="Sales", queue="sales")
    desk = await create(api, tenant, "/api/agents", name="Night desk", phone="+15550100400")
    menu = await make_flow(api, tenant, chain(transfer(department="Sales")), name="Menu")
    closed = await make_flow(api, tenant, chain(transfer(agent="Night desk")), name="Closed")
    number = await register(api, tenant)
    await delete(api, tenant, f"/api/departments/{sales['id']}")
    await delete(api, tenant, f"/api/agents/{desk['id']}")
    body = {"phone_numbers": [number["number"]], "fallback_flow_id": closed["id"]}
    deploy = f"/api/flows/{menu['id']}/deploy"

    refused = await api.post(deploy, json=body, headers=tenant.auth("manager"))

    assert unresolved(refused) == [
        ("$.definition.nodes[0].config.department", "unknown_department"),
        ("$.fallback_flow_id", "unknown_agent"),
    ]
    fallback_message = refused.json()["error"]["details"][1]["message"]
    assert "'Closed', version 1, $.definition.nodes[0].config.agent" in fallback_message
    number_row = await api.get(f"/api/phone-numbers/{number['id']}", headers=tenant.auth())
    assert number_row.json()["deployments"]["production"] is None
    await create(api, tenant, "/api/departments", name="Sales", queue="sales")
    await create(api, tenant, "/api/agents", name="Night desk", phone="+15550100400")
    deployed = await api.post(deploy, json=body, headers=tenant.auth("manager"))
    assert deployed.status_code == 201, deployed.text


async def test_a_draft_naming_what_is_missing_is_saved_and_validates_with_warnings(
    api: httpx.AsyncClient, tenant: TenantKeys
) -> None:
    definition = chain(transfer(department="Sales"), email("welcome"))
    flow_id = await draft(api, tenant, definition)
    updated = await api.put(
        f"/api/flows/{flow_id}/versions/1",
        json={"definition": definition},
        headers=tenant.auth("manager"),
    )
    assert updated.status_code == 200, updated.text

    checked = await api.post(
        "/api/flows/validate",
        json={"definition": definition, "live_call": True},
        headers=tenant.auth("viewer"),
    )

    assert checked.status_code == 200, checked.text
    assert checked.json()["valid"] is True
    warnings = [(w["path"], w["code"], w["severity"]) for w in checked.json()["warnings"]]
    assert [w for w in warnings if w[0].endswith((".department", ".template"))] == [
        ("$.definition.nodes[0].config.department", "unknown_department", "warning"),
        ("$.definition.nodes[1].config.template", "unknown_template", "warning"),
    ]


async def test_a_name_no_database_could_hold_is_missing_not_an_error(
    api: httpx.AsyncClient, tenant: TenantKeys
) -> None:
    """PostgreSQL refuses a NUL in text: asking for such a name must not fail the request."""
    definition = chain(transfer(department="Sa\x00les"), subflow("x\x00"), email("w\x00"))
    checked = await api.post(
        "/api/flows/validate", json={"definition": definition}, headers=tenant.auth("viewer")
    )
    assert checked.status_code == 200, checked.text
    flow_id = await draft(api, tenant, definition)

    assert unresolved(await publish(api, tenant, flow_id)) == [
        ("$.definition.nodes[0].config.department", "unknown_department"),
        ("$.definition.nodes[1].config.flow_id", "unknown_flow"),
        ("$.definition.nodes[2].config.template", "unknown_template"),
    ]
