"""The `salesforce` step against a local server that speaks Salesforce's REST API (sObject
create, update, upsert by external id; its `[{"errorCode", "message"}]` errors) and its OAuth
token endpoint (`grant_type=refresh_token`), as Salesforce's reference shows them."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from temporalio.exceptions import ApplicationError

from schemas.settings import Settings
from store.connections import resolve, update_secret
from store.vault import Vault
from tests.activities.conftest import Runner, Seed
from tests.activities.connectors.conftest import ALLOW_LOOPBACK, connect
from tests.vendors import Answer, VendorServer

OLD_TOKEN = "00D5g000004ABCD!AQ4AQexpiredaccesstoken0123456789"
NEW_TOKEN = "00D5g000004ABCD!AQ4AQfreshaccesstoken98765432100"
REFRESH = "5Aep861TSESvWeug_xvFHRBTTbf_YrTWgEyjBJrefreshtoken"
CLIENT_SECRET = "E1F2A3B4C5D6E7F8connectedappsecret"
SOBJECTS = "/services/data/v61.0/sobjects"
TOKEN_PATH = "/services/oauth2/token"
LEAD_ID = "00Q5g00000AbCdEFGH"
FIELDS = {"LastName": "Rao", "FirstName": "Asha", "Company": "Acme", "Email": "asha@example.com"}
EXPIRED = [{"message": "Session expired or invalid", "errorCode": "INVALID_SESSION_ID"}]


def _connect(seed: Seed, vendor: VendorServer, **secret: str) -> None:
    connect(
        seed,
        name="sfdc",
        integration="salesforce",
        auth="oauth2",
        secret={
            "access_token": OLD_TOKEN,
            "refresh_token": REFRESH,
            "client_id": "3MVG9connectedappclientid",
            "client_secret": CLIENT_SECRET,
            "token_url": f"{vendor.url}{TOKEN_PATH}",
            **secret,
        },
        settings={"instance_url": vendor.url},
    )


def _stored_token(seed: Seed) -> str:
    vault = Vault.from_settings(Settings.model_validate({}))
    connection = resolve(
        seed.engine, tenant_id=seed.tenant_id, name="sfdc", integration="salesforce", vault=vault
    )
    return connection.secret["access_token"]


async def test_create_posts_the_lead(runner: Runner, seed: Seed, vendor: VendorServer) -> None:
    _connect(seed, vendor)
    vendor.answer(
        "POST",
        f"{SOBJECTS}/Lead/",
        Answer(status=201, json={"id": LEAD_ID, "success": True, "errors": []}),
    )
    config = {"connection": "sfdc", "action": "create", "object": "Lead", "fields": FIELDS}

    output = await runner.perform(seed.action("salesforce", config), **ALLOW_LOOPBACK)

    [request] = vendor.requests("POST", f"{SOBJECTS}/Lead/")
    assert request.headers["authorization"] == f"Bearer {OLD_TOKEN}"
    assert request.json() == FIELDS
    assert output.result == {"action": "create", "object": "Lead", "id": LEAD_ID, "created": True}


async def test_update_patches_by_id_and_upsert_by_external_id(
    runner: Runner, seed: Seed, vendor: VendorServer
) -> None:
    _connect(seed, vendor)
    vendor.answer("PATCH", f"{SOBJECTS}/Contact/003AAAAAAAAAAAAAAA", Answer(status=204))
    upsert_path = f"{SOBJECTS}/Contact/External_Id__c/crm-42"
    vendor.answer(
        "PATCH",
        upsert_path,
        Answer(json={"id": "003BBBBBBBBBBBBBBB", "success": True, "errors": [], "created": False}),
    )
    update = {
        "connection": "sfdc",
        "action": "update",
        "object": "Contact",
        "record_id": "003AAAAAAAAAAAAAAA",
        "fields": {"Phone": "+15550001111"},
    }
    upsert = {
        "connection": "sfdc",
        "action": "upsert",
        "object": "Contact",
        "external_id_field": "External_Id__c",
        "external_id": "crm-42",
        "fields": {"LastName": "Rao"},
    }

    updated = await runner.perform(seed.action("salesforce", update), **ALLOW_LOOPBACK)
    upserted = await runner.perform(seed.action("salesforce", upsert, seq=2), **ALLOW_LOOPBACK)

    [patch] = vendor.requests("PATCH", f"{SOBJECTS}/Contact/003AAAAAAAAAAAAAAA")
    assert patch.json() == {"Phone": "+15550001111"}
    assert updated.result == {
        "action": "update",
        "object": "Contact",
        "id": "003AAAAAAAAAAAAAAA",
        "created": False,
    }
    [put] = vendor.requests("PATCH", upsert_path)
    assert put.json() == {"LastName": "Rao"}
    assert upserted.result["id"] == "003BBBBBBBBBBBBBBB" and upserted.result["created"] is False


async def test_an_expired_session_is_refreshed_stored_and_the_call_made_again(
    runner: Runner, seed: Seed, vendor: VendorServer
) -> None:
    _connect(seed, vendor)
    path = f"{SOBJECTS}/Lead/"
    vendor.answer(
        "POST",
        path,
        Answer(status=401, json=EXPIRED),
        Answer(status=201, json={"id": LEAD_ID, "success": True, "errors": []}),
    )
    token = {
        "access_token": NEW_TOKEN,
        "instance_url": vendor.url,
        "id": "https://login.salesforce.com/id/00D5g000004ABCD/0055g00000XYZ",
        "token_type": "Bearer",
        "issued_at": "1733390000000",
        "signature": "fVHMdzPNZEvaKIaIF4HzB2tyyEpuS1s8zhnRyyQZ6Jk=",
    }
    vendor.answer("POST", TOKEN_PATH, Answer(json=token))
    config = {"connection": "sfdc", "action": "create", "object": "Lead", "fields": FIELDS}

    output = await runner.perform(seed.action("salesforce", config), **ALLOW_LOOPBACK)

    first, second = vendor.requests("POST", path)
    assert first.headers["authorization"] == f"Bearer {OLD_TOKEN}"
    assert second.headers["authorization"] == f"Bearer {NEW_TOKEN}"
    [refresh] = vendor.requests("POST", TOKEN_PATH)
    assert refresh.headers["content-type"] == "application/x-www-form-urlencoded"
    assert refresh.form() == {
        "grant_type": "refresh_token",
        "refresh_token": REFRESH,
        "client_id": "3MVG9connectedappclientid",
        "client_secret": CLIENT_SECRET,
    }
    assert output.result["id"] == LEAD_ID
    assert NEW_TOKEN not in str(output.result)
    assert _stored_token(seed) == NEW_TOKEN  # the next step starts with the new token


async def test_a_refused_refresh_fails_the_step_without_a_retry(
    runner: Runner, seed: Seed, vendor: VendorServer
) -> None:
    _connect(seed, vendor)
    vendor.answer("POST", f"{SOBJECTS}/Lead/", Answer(status=401, json=EXPIRED))
    revoked = {"error": "invalid_grant", "error_description": "expired access/refresh token"}
    vendor.answer("POST", TOKEN_PATH, Answer(status=400, json=revoked))
    config = {"connection": "sfdc", "action": "create", "object": "Lead", "fields": FIELDS}

    with pytest.raises(ApplicationError) as raised:
        await runner.perform(seed.action("salesforce", config), **ALLOW_LOOPBACK)

    assert raised.value.non_retryable
    assert raised.value.message == (
        "Salesforce refused the token refresh (HTTP 400): invalid_grant: "
        "expired access/refresh token"
    )
    assert len(vendor.requests("POST", f"{SOBJECTS}/Lead/")) == 1
    assert _stored_token(seed) == OLD_TOKEN
    step = seed.step(1)
    assert step is not None
    assert all(s not in (step.error or "") for s in (OLD_TOKEN, REFRESH, CLIENT_SECRET))


async def test_without_a_refresh_token_an_expired_session_is_the_steps_error(
    runner: Runner, seed: Seed, vendor: VendorServer
) -> None:
    connect(
        seed,
        name="sfdc",
        integration="salesforce",
        auth="bearer",
        secret={"token": OLD_TOKEN},
        settings={"instance_url": vendor.url},
    )
    vendor.answer("POST", f"{SOBJECTS}/Lead/", Answer(status=401, json=EXPIRED))
    config = {"connection": "sfdc", "action": "create", "object": "Lead", "fields": FIELDS}

    with pytest.raises(ApplicationError) as raised:
        await runner.perform(seed.action("salesforce", config), **ALLOW_LOOPBACK)

    assert raised.value.non_retryable
    assert raised.value.message == (
        "Salesforce refused create (HTTP 401): INVALID_SESSION_ID: Session expired or invalid"
    )
    assert vendor.requests("POST", TOKEN_PATH) == []


async def test_salesforces_error_is_the_steps_error(
    runner: Runner, seed: Seed, vendor: VendorServer
) -> None:
    _connect(seed, vendor)
    missing: list[dict[str, Any]] = [
        {
            "message": "Required fields are missing: [Company]",
            "errorCode": "REQUIRED_FIELD_MISSING",
            "fields": ["Company"],
        }
    ]
    vendor.answer("POST", f"{SOBJECTS}/Lead/", Answer(status=400, json=missing))
    config = {
        "connection": "sfdc",
        "action": "create",
        "object": "Lead",
        "fields": {"LastName": "Rao"},
    }

    with pytest.raises(ApplicationError) as raised:
        await runner.perform(seed.action("salesforce", config), **ALLOW_LOOPBACK)

    assert raised.value.non_retryable
    assert raised.value.message == (
        "Salesforce refused create (HTTP 400): REQUIRED_FIELD_MISSING: "
        "Required fields are missing: [Company]"
    )
    assert raised.value.details[0]["code"] == "REQUIRED_FIELD_MISSING"


async def test_an_unavailable_answer_waits_for_its_retry_after_and_a_500_is_retried(
    runner: Runner, seed: Seed, vendor: VendorServer
) -> None:
    """Salesforce documents 503 for an org that is overloaded or in maintenance; the runtime
    treats it as a 429, waiting as `Retry-After` asks."""
    _connect(seed, vendor)
    vendor.answer("POST", f"{SOBJECTS}/Lead/", Answer(status=503, headers={"Retry-After": "5"}))
    config = {"connection": "sfdc", "action": "create", "object": "Lead", "fields": FIELDS}
    with pytest.raises(ApplicationError) as raised:
        await runner.perform(seed.action("salesforce", config), **ALLOW_LOOPBACK)
    assert (raised.value.type, raised.value.non_retryable) == ("RateLimited", False)
    assert raised.value.next_retry_delay == timedelta(seconds=5)

    unknown = [{"message": "An unexpected error occurred.", "errorCode": "UNKNOWN_EXCEPTION"}]
    vendor.answer("POST", f"{SOBJECTS}/Contact/", Answer(status=500, json=unknown))
    contact = {**config, "object": "Contact"}
    with pytest.raises(ApplicationError) as raised:
        await runner.perform(seed.action("salesforce", contact, seq=2), **ALLOW_LOOPBACK)
    assert not raised.value.non_retryable


async def test_a_bad_record_id_is_refused_before_any_call(
    runner: Runner, seed: Seed, vendor: VendorServer
) -> None:
    _connect(seed, vendor)
    config = {
        "connection": "sfdc",
        "action": "update",
        "object": "Lead",
        "record_id": "../../query",
        "fields": {"Status": "Working"},
    }
    with pytest.raises(ApplicationError) as raised:
        await runner.perform(seed.action("salesforce", config), **ALLOW_LOOPBACK)
    assert (raised.value.type, raised.value.non_retryable) == ("InvalidConfig", True)
    assert vendor.received == []


async def test_a_token_endpoint_that_fails_on_its_side_is_retried(
    runner: Runner, seed: Seed, vendor: VendorServer
) -> None:
    _connect(seed, vendor)
    vendor.answer("POST", f"{SOBJECTS}/Lead/", Answer(status=401, json=EXPIRED))
    vendor.answer("POST", TOKEN_PATH, Answer(status=500, text="Internal Server Error"))
    config = {"connection": "sfdc", "action": "create", "object": "Lead", "fields": FIELDS}

    with pytest.raises(ApplicationError) as raised:
        await runner.perform(seed.action("salesforce", config), **ALLOW_LOOPBACK)

    assert not raised.value.non_retryable
    assert raised.value.message.startswith("Salesforce refused the token refresh (HTTP 500)")
    assert _stored_token(seed) == OLD_TOKEN


async def test_an_external_id_that_would_climb_the_path_is_refused(
    runner: Runner, seed: Seed, vendor: VendorServer
) -> None:
    _connect(seed, vendor)
    config = {
        "connection": "sfdc",
        "action": "upsert",
        "object": "Lead",
        "external_id_field": "External_Id__c",
        "external_id": "..",
        "fields": {"LastName": "Rao"},
    }
    with pytest.raises(ApplicationError) as raised:
        await runner.perform(seed.action("salesforce", config), **ALLOW_LOOPBACK)
    assert (raised.value.type, raised.value.non_retryable) == ("InvalidConfig", True)
    assert vendor.received == []


async def test_a_token_another_step_refreshed_meanwhile_is_used_without_refreshing_again(
    runner: Runner, seed: Seed, vendor: VendorServer
) -> None:
    """With refresh-token rotation, a second refresh with the old refresh token would be
    refused: the step first looks whether the stored token changed since it began."""
    _connect(seed, vendor)
    vault = Vault.from_settings(Settings.model_validate({}))

    def another_step_refreshes() -> None:
        connection = resolve(
            seed.engine,
            tenant_id=seed.tenant_id,
            name="sfdc",
            integration="salesforce",
            vault=vault,
        )
        update_secret(
            seed.engine,
            tenant_id=seed.tenant_id,
            connection_id=connection.id,
            changes={"access_token": NEW_TOKEN, "refresh_token": "5Aep861rotatedrefreshtoken"},
            vault=vault,
        )

    path = f"{SOBJECTS}/Lead/"
    vendor.answer(
        "POST",
        path,
        Answer(status=401, json=EXPIRED, effect=another_step_refreshes),
        Answer(status=201, json={"id": LEAD_ID, "success": True, "errors": []}),
    )
    revoked = {"error": "invalid_grant", "error_description": "expired access/refresh token"}
    vendor.answer("POST", TOKEN_PATH, Answer(status=400, json=revoked))
    config = {"connection": "sfdc", "action": "create", "object": "Lead", "fields": FIELDS}

    output = await runner.perform(seed.action("salesforce", config), **ALLOW_LOOPBACK)

    assert output.result["id"] == LEAD_ID
    assert vendor.requests("POST", TOKEN_PATH) == []
    assert vendor.requests("POST", path)[1].headers["authorization"] == f"Bearer {NEW_TOKEN}"
