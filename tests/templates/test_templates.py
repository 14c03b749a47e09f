"""Stored templates: CRUD with Jinja2 checks, uniqueness, preview, missing variables."""

from __future__ import annotations

import httpx
from sqlalchemy.engine import Engine
from sqlmodel import Session

from store.models import Contact
from store.templates import get_template
from tests.api.helpers import TenantKeys

WELCOME = {
    "name": "welcome",
    "channel": "email",
    "subject": "Welcome, {{ contact.name }}",
    "body": "Hi {{ contact.name }}, thanks for asking about {{ vars.product }}.",
    "html": "<p>Hi {{ contact.name }}</p>",
}


async def _create(api: httpx.AsyncClient, tenant: TenantKeys, **body: object) -> httpx.Response:
    return await api.post("/api/templates", json=body, headers=tenant.auth("manager"))


async def test_managers_write_templates_viewers_read_them(
    api: httpx.AsyncClient, tenant: TenantKeys, other_tenant: TenantKeys, engine: Engine
) -> None:
    created = await _create(api, tenant, **WELCOME)
    assert created.status_code == 201, created.text
    template = created.json()
    assert {k: template[k] for k in WELCOME} == WELCOME

    viewer = tenant.auth("viewer")
    listed = await api.get("/api/templates", headers=viewer)
    assert [t["id"] for t in listed.json()] == [template["id"]]
    assert (await api.get("/api/templates", params={"channel": "sms"}, headers=viewer)).json() == []
    read = await api.get(f"/api/templates/{template['id']}", headers=viewer)
    assert read.json()["subject"] == WELCOME["subject"]
    refused = await api.post("/api/templates", json=WELCOME, headers=viewer)
    assert refused.status_code == 403

    updated = await api.patch(
        f"/api/templates/{template['id']}",
        json={"subject": "Hello {{ contact.name }}", "html": None},
        headers=tenant.auth("manager"),
    )
    assert updated.status_code == 200, updated.text
    assert updated.json()["subject"] == "Hello {{ contact.name }}"
    assert updated.json()["html"] is None

    # What the email step will read at run time.
    stored = get_template(engine, tenant_id=tenant.id, channel="email", name="welcome")
    assert stored is not None and stored.subject == "Hello {{ contact.name }}"
    assert get_template(engine, tenant_id=other_tenant.id, channel="email", name="welcome") is None
    assert get_template(engine, tenant_id=tenant.id, channel="sms", name="welcome") is None

    # Another tenant sees nothing of it.
    foreign = other_tenant.auth("admin")
    assert (await api.get("/api/templates", headers=foreign)).json() == []
    assert (await api.get(f"/api/templates/{template['id']}", headers=foreign)).status_code == 404
    gone = await api.delete(f"/api/templates/{template['id']}", headers=foreign)
    assert gone.status_code == 404

    deleted = await api.delete(f"/api/templates/{template['id']}", headers=tenant.auth("manager"))
    assert deleted.status_code == 204
    assert (await api.get(f"/api/templates/{template['id']}", headers=viewer)).status_code == 404


async def test_names_are_unique_per_channel(
    api: httpx.AsyncClient, tenant: TenantKeys, other_tenant: TenantKeys
) -> None:
    assert (await _create(api, tenant, **WELCOME)).status_code == 201
    again = await _create(api, tenant, **WELCOME)
    assert again.status_code == 409
    assert again.json()["error"]["code"] == "conflict"
    sms = await _create(api, tenant, name="welcome", channel="sms", body="Hi {{ contact.name }}")
    assert sms.status_code == 201
    assert (await _create(api, other_tenant, **WELCOME)).status_code == 201
    renamed = await _create(api, tenant, name="other", channel="sms", body="x")
    clash = await api.patch(
        f"/api/templates/{renamed.json()['id']}",
        json={"name": "welcome"},
        headers=tenant.auth("manager"),
    )
    assert clash.status_code == 409


async def test_templates_that_do_not_parse_are_refused_at_their_path(
    api: httpx.AsyncClient, tenant: TenantKeys
) -> None:
    response = await _create(
        api,
        tenant,
        name="broken",
        channel="email",
        subject="Hi {{ contact.name",
        body="{% if x %}no end",
        html="{{ x | no_such_filter }}",
    )
    assert response.status_code == 422
    details = response.json()["error"]["details"]
    assert [d["path"] for d in details] == ["$.subject", "$.body", "$.html"]
    assert all(d["code"] == "template_syntax" for d in details)

    missing = await _create(api, tenant, name="empty", channel="sms")
    assert missing.status_code == 422
    assert [d["path"] for d in missing.json()["error"]["details"]] == ["$.body"]
    bad_channel = await _create(api, tenant, name="x", channel="fax", body="x")
    assert bad_channel.status_code == 422
    assert [d["path"] for d in bad_channel.json()["error"]["details"]] == ["$.channel"]

    created = await _create(api, tenant, name="ok", channel="sms", body="Hi")
    broken = await api.patch(
        f"/api/templates/{created.json()['id']}",
        json={"body": "{{ oops"},
        headers=tenant.auth("manager"),
    )
    assert broken.status_code == 422
    assert [d["path"] for d in broken.json()["error"]["details"]] == ["$.body"]


async def test_preview_renders_for_an_inline_or_a_stored_contact(
    api: httpx.AsyncClient, tenant: TenantKeys, other_tenant: TenantKeys, engine: Engine
) -> None:
    template = (
        await _create(api, tenant, **{**WELCOME, "html": "<p>{{ contact.name }}</p>"})
    ).json()
    url = f"/api/templates/{template['id']}/preview"
    inline = await api.post(
        url,
        json={"contact": {"name": "Asha <A&R>"}, "vars": {"product": "pumps"}},
        headers=tenant.auth("viewer"),
    )
    assert inline.status_code == 200, inline.text
    assert inline.json() == {
        "channel": "email",
        "subject": "Welcome, Asha <A&R>",
        "body": "Hi Asha <A&R>, thanks for asking about pumps.",
        "html": "<p>Asha &lt;A&amp;R&gt;</p>",
    }

    with Session(engine) as session:
        contact = Contact(tenant_id=tenant.id, name="Ravi", phone="+919800000003")
        session.add(contact)
        session.commit()
        contact_id = contact.id
    stored = await api.post(
        url, json={"contact_id": contact_id, "vars": {"product": "valves"}}, headers=tenant.auth()
    )
    assert stored.json()["subject"] == "Welcome, Ravi"
    foreign = await api.post(
        url, json={"contact_id": contact_id}, headers=other_tenant.auth("viewer")
    )
    assert foreign.status_code == 404
    unknown_contact = await api.post(url, json={"contact_id": "nope"}, headers=tenant.auth())
    assert unknown_contact.status_code == 404


async def test_a_missing_variable_is_named_never_shown_raw(
    api: httpx.AsyncClient, tenant: TenantKeys
) -> None:
    template = (await _create(api, tenant, **WELCOME)).json()
    response = await api.post(
        f"/api/templates/{template['id']}/preview",
        json={"contact": {"name": "Asha"}},
        headers=tenant.auth("viewer"),
    )
    assert response.status_code == 422
    error = response.json()["error"]
    assert error["code"] == "missing_variable"
    assert error["details"] == [
        {
            "path": "$.body",
            "code": "missing_variable",
            "message": error["details"][0]["message"],
            "variable": "vars.product",
        }
    ]
    assert "{{" not in error["message"]


async def test_preview_renders_an_editors_unsaved_texts_and_stores_nothing(
    api: httpx.AsyncClient, tenant: TenantKeys
) -> None:
    template = (await _create(api, tenant, **WELCOME)).json()
    url = f"/api/templates/{template['id']}/preview"
    sample = {"contact": {"name": "Asha"}, "vars": {"product": "pumps"}}

    unsaved = await api.post(
        url,
        json={**sample, "texts": {"body": "Hello {{ contact.name }}!", "html": None}},
        headers=tenant.auth("viewer"),
    )

    assert unsaved.status_code == 200, unsaved.text
    assert unsaved.json() == {
        "channel": "email",
        "subject": "Welcome, Asha",
        "body": "Hello Asha!",
        "html": None,
    }
    stored = await api.get(f"/api/templates/{template['id']}", headers=tenant.auth("viewer"))
    assert stored.json()["body"] == WELCOME["body"]

    missing = await api.post(
        url, json={**sample, "texts": {"subject": "Hi {{ vars.city }}"}}, headers=tenant.auth()
    )
    assert missing.status_code == 422
    assert missing.json()["error"]["message"] == "missing variable vars.city"
    assert [d["path"] for d in missing.json()["error"]["details"]] == ["$.subject"]

    broken = await api.post(
        url, json={**sample, "texts": {"body": "Hi {{ contact.name"}}, headers=tenant.auth()
    )
    assert broken.status_code == 422
    assert broken.json()["error"]["code"] == "template_error"
    assert [d["path"] for d in broken.json()["error"]["details"]] == ["$.body"]
    extra = await api.post(url, json={"texts": {"footer": "x"}}, headers=tenant.auth())
    assert extra.status_code == 422
