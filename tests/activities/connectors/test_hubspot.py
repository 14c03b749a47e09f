"""The `hubspot` step against a local server that speaks HubSpot's CRM v3 objects API: the
contacts search (`filterGroups`), create and update (`{"properties": {...}}`), notes with an
association to a contact, and HubSpot's error answers, as its reference shows them."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from temporalio.exceptions import ApplicationError

from schemas.settings import Settings
from store.connections import resolve
from store.vault import Vault
from tests.activities.conftest import Runner, Seed
from tests.activities.connectors.conftest import ALLOW_LOOPBACK, connect
from tests.vendors import Answer, VendorServer

TOKEN = "pat-na1-11111111-2222-3333-4444-555555555555"
SEARCH = "/crm/v3/objects/contacts/search"
CONTACTS = "/crm/v3/objects/contacts"
NOTES = "/crm/v3/objects/notes"
NOTHING: dict[str, Any] = {"total": 0, "results": []}


def _found(contact_id: str) -> dict[str, Any]:
    contact = {
        "id": contact_id,
        "properties": {"email": "asha@example.com", "hs_object_id": contact_id},
        "createdAt": "2026-11-01T10:00:00.000Z",
        "updatedAt": "2026-11-01T10:00:00.000Z",
        "archived": False,
    }
    return {"total": 1, "results": [contact]}


def _connect(seed: Seed, vendor: VendorServer) -> None:
    connect(
        seed,
        name="crm",
        integration="hubspot",
        auth="bearer",
        secret={"token": TOKEN},
        settings={"base_url": vendor.url},
    )


UPSERT = {
    "connection": "crm",
    "action": "upsert_contact",
    "email": "asha@example.com",
    "properties": {"firstname": "Asha", "lifecyclestage": "lead", "score": 42, "vip": True},
}
PROPERTIES = {
    "email": "asha@example.com",
    "firstname": "Asha",
    "lifecyclestage": "lead",
    "score": "42",
    "vip": "true",
}


async def test_a_contact_not_found_by_email_is_created(
    runner: Runner, seed: Seed, vendor: VendorServer
) -> None:
    _connect(seed, vendor)
    vendor.answer("POST", SEARCH, Answer(json=NOTHING))
    vendor.answer("POST", CONTACTS, Answer(status=201, json={"id": "151", "properties": {}}))

    output = await runner.perform(seed.action("hubspot", UPSERT), **ALLOW_LOOPBACK)

    [search] = vendor.requests("POST", SEARCH)
    assert search.headers["authorization"] == f"Bearer {TOKEN}"
    assert search.json() == {
        "filterGroups": [
            {"filters": [{"propertyName": "email", "operator": "EQ", "value": "asha@example.com"}]}
        ],
        "properties": ["email"],
        "limit": 1,
    }
    [create] = vendor.requests("POST", CONTACTS)
    assert create.json() == {"properties": PROPERTIES}
    assert output.result == {
        "action": "upsert_contact",
        "contact_id": "151",
        "created": True,
        "email": "asha@example.com",
    }


async def test_a_contact_found_by_email_is_updated(
    runner: Runner, seed: Seed, vendor: VendorServer
) -> None:
    _connect(seed, vendor)
    vendor.answer("POST", SEARCH, Answer(json=_found("512")))
    vendor.answer("PATCH", f"{CONTACTS}/512", Answer(json={"id": "512", "properties": {}}))

    output = await runner.perform(seed.action("hubspot", UPSERT), **ALLOW_LOOPBACK)

    [update] = vendor.requests("PATCH", f"{CONTACTS}/512")
    assert update.headers["authorization"] == f"Bearer {TOKEN}"
    assert update.json() == {"properties": PROPERTIES}
    assert vendor.requests("POST", CONTACTS) == []
    assert output.result["contact_id"] == "512" and output.result["created"] is False


async def test_a_create_that_conflicts_updates_the_existing_contact(
    runner: Runner, seed: Seed, vendor: VendorServer
) -> None:
    """A first attempt created the contact, its answer was lost, and search does not see it
    yet: HubSpot's 409 names it, and the retry updates it instead of failing."""
    _connect(seed, vendor)
    vendor.answer("POST", SEARCH, Answer(json=NOTHING))
    conflict = {
        "status": "error",
        "message": "Contact already exists. Existing ID: 777",
        "correlationId": "5c7ad1a4-aaaa-bbbb-cccc-4b1e3b2d7f10",
        "category": "CONFLICT",
    }
    vendor.answer("POST", CONTACTS, Answer(status=409, json=conflict))
    vendor.answer("PATCH", f"{CONTACTS}/777", Answer(json={"id": "777", "properties": {}}))

    output = await runner.perform(seed.action("hubspot", UPSERT), **ALLOW_LOOPBACK)

    assert len(vendor.requests("PATCH", f"{CONTACTS}/777")) == 1
    assert output.result["contact_id"] == "777" and output.result["created"] is False


async def test_a_note_is_made_with_its_association_to_the_contact(
    runner: Runner, seed: Seed, vendor: VendorServer
) -> None:
    _connect(seed, vendor)
    vendor.answer("POST", SEARCH, Answer(json=_found("512")))
    vendor.answer("POST", NOTES, Answer(status=201, json={"id": "9001", "properties": {}}))
    config = {
        "connection": "crm",
        "action": "add_note",
        "email": "asha@example.com",
        "note": "Asked for a refund",
    }

    output = await runner.perform(seed.action("hubspot", config), **ALLOW_LOOPBACK)

    [note] = vendor.requests("POST", NOTES)
    body = note.json()
    assert note.headers["authorization"] == f"Bearer {TOKEN}"
    assert body["properties"]["hs_note_body"] == "Asked for a refund"
    datetime.fromisoformat(body["properties"]["hs_timestamp"])
    assert body["associations"] == [
        {
            "to": {"id": "512"},
            "types": [{"associationCategory": "HUBSPOT_DEFINED", "associationTypeId": 202}],
        }
    ]
    assert output.result == {"action": "add_note", "note_id": "9001", "contact_id": "512"}


async def test_hubspots_error_is_the_steps_error(
    runner: Runner, seed: Seed, vendor: VendorServer
) -> None:
    _connect(seed, vendor)
    vendor.answer("POST", SEARCH, Answer(json=_found("512")))
    invalid = {
        "status": "error",
        "message": 'Property values were not valid: "lifecyclestage" was not one of the allowed '
        "options",
        "correlationId": "aeb5f871-7f07-4993-9211-075dc63e7cbf",
        "category": "VALIDATION_ERROR",
    }
    vendor.answer("PATCH", f"{CONTACTS}/512", Answer(status=400, json=invalid))

    with pytest.raises(ApplicationError) as raised:
        await runner.perform(seed.action("hubspot", UPSERT), **ALLOW_LOOPBACK)

    assert raised.value.non_retryable
    assert raised.value.message == (
        "HubSpot refused update_contact (HTTP 400): VALIDATION_ERROR: Property values were not "
        'valid: "lifecyclestage" was not one of the allowed options'
    )
    assert raised.value.details[0]["code"] == "VALIDATION_ERROR"


async def test_a_note_for_an_unknown_email_fails_without_retrying(
    runner: Runner, seed: Seed, vendor: VendorServer
) -> None:
    _connect(seed, vendor)
    vendor.answer("POST", SEARCH, Answer(json=NOTHING))
    config = {"connection": "crm", "action": "add_note", "email": "nobody@example.com", "note": "x"}

    with pytest.raises(ApplicationError) as raised:
        await runner.perform(seed.action("hubspot", config), **ALLOW_LOOPBACK)

    assert raised.value.non_retryable
    assert raised.value.message == "HubSpot has no contact with email 'nobody@example.com'"
    assert vendor.requests("POST", NOTES) == []


async def test_a_429_is_retried_after_its_retry_after_and_a_5xx_is_retried(
    runner: Runner, seed: Seed, vendor: VendorServer
) -> None:
    _connect(seed, vendor)
    limited = {
        "status": "error",
        "message": "You have reached your secondly limit.",
        "errorType": "RATE_LIMIT",
        "correlationId": "c033cdaa-2c40-4a64-ae48-b4cec88dad24",
        "policyName": "SECONDLY",
    }
    vendor.answer("POST", SEARCH, Answer(status=429, json=limited, headers={"Retry-After": "1"}))
    with pytest.raises(ApplicationError) as raised:
        await runner.perform(seed.action("hubspot", UPSERT), **ALLOW_LOOPBACK)
    assert (raised.value.type, raised.value.non_retryable) == ("RateLimited", False)
    assert raised.value.next_retry_delay == timedelta(seconds=1)

    vendor.answer("POST", NOTES, Answer(status=502, text="Bad Gateway"))
    note = {"connection": "crm", "action": "add_note", "contact_id": "512", "note": "x"}
    with pytest.raises(ApplicationError) as raised:
        await runner.perform(seed.action("hubspot", note, seq=2), **ALLOW_LOOPBACK)
    assert not raised.value.non_retryable
    assert TOKEN not in raised.value.message


async def test_an_expired_oauth_token_is_refreshed_once_and_kept_for_the_steps_next_calls(
    runner: Runner, seed: Seed, vendor: VendorServer
) -> None:
    """HubSpot's OAuth access tokens last 30 minutes: its 401 `EXPIRED_AUTHENTICATION` has the
    step refresh at the connection's token URL (HubSpot's `/oauth/v1/token`)."""
    old, new = "CJSP5qf1KhICAQEYs-gDIIGOBii1hQIyGQAf3xBKexpiredtoken", "CKqR7freshaccesstoken0001"
    connect(
        seed,
        name="crm",
        integration="hubspot",
        auth="oauth2",
        secret={
            "access_token": old,
            "refresh_token": "6f18f21e-a743-4509-b7fd-1a5e632fffa1",
            "client_id": "5fc6e6b5-1a9e-4f0c-b8f4-hubspotclient",
            "client_secret": "7c3ce02c-0f0c-4c9f-9700-hubspotsecret",
            "token_url": f"{vendor.url}/oauth/v1/token",
        },
        settings={"base_url": vendor.url},
    )
    expired = {
        "status": "error",
        "message": "The OAuth token used to make this call expired 2 minute(s) ago.",
        "correlationId": "2a1e3a76-7d9e-4bb5-8a7c-3c7c1a7d7b10",
        "category": "EXPIRED_AUTHENTICATION",
    }
    vendor.answer("POST", SEARCH, Answer(status=401, json=expired), Answer(json=NOTHING))
    vendor.answer("POST", CONTACTS, Answer(status=201, json={"id": "151", "properties": {}}))
    token = {
        "token_type": "bearer",
        "refresh_token": "6f18f21e-a743-4509-b7fd-1a5e632fffa1",
        "access_token": new,
        "expires_in": 1800,
    }
    vendor.answer("POST", "/oauth/v1/token", Answer(json=token))

    output = await runner.perform(seed.action("hubspot", UPSERT), **ALLOW_LOOPBACK)

    first, second = vendor.requests("POST", SEARCH)
    [create] = vendor.requests("POST", CONTACTS)
    assert first.headers["authorization"] == f"Bearer {old}"
    assert second.headers["authorization"] == create.headers["authorization"] == f"Bearer {new}"
    [refresh] = vendor.requests("POST", "/oauth/v1/token")
    assert refresh.form() == {
        "grant_type": "refresh_token",
        "refresh_token": "6f18f21e-a743-4509-b7fd-1a5e632fffa1",
        "client_id": "5fc6e6b5-1a9e-4f0c-b8f4-hubspotclient",
        "client_secret": "7c3ce02c-0f0c-4c9f-9700-hubspotsecret",
    }
    assert output.result["contact_id"] == "151"
    stored = resolve(
        seed.engine,
        tenant_id=seed.tenant_id,
        name="crm",
        integration="hubspot",
        vault=Vault.from_settings(Settings.model_validate({})),
    )
    assert stored.secret["access_token"] == new
    lasts = datetime.fromisoformat(stored.secret["expires_at"]) - datetime.now(UTC)
    assert timedelta(minutes=25) < lasts <= timedelta(minutes=30)
