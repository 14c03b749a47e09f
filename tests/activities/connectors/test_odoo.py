"""The `odoo` step against a local server that speaks Odoo's external API over JSON-RPC
(`/jsonrpc`: `common.authenticate`, then `object.execute_kw`), as Odoo's "External API"
documentation describes it, errors included (HTTP 200 with an `error` member)."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from temporalio.exceptions import ApplicationError

from tests.activities.conftest import Runner, Seed
from tests.activities.connectors.conftest import ALLOW_LOOPBACK, connect
from tests.vendors import Answer, Received, VendorServer

LOGIN = "flowdeck@example.com"
API_KEY = "4f1c0e6b9d2a4c7e8b3f5a6d7c8e9f0a1b2c3d4e"
DB = "acme-prod"
PARTNER = {"id": 7, "name": "Asha Rao", "email": "asha@example.com", "country_id": [104, "India"]}


def _connect(seed: Seed, vendor: VendorServer) -> None:
    connect(
        seed,
        name="odoo",
        integration="odoo",
        auth="basic",
        secret={"username": LOGIN, "password": API_KEY},
        settings={"base_url": vendor.url, "database": DB},
    )


def _result(value: Any) -> Answer:
    return Answer(json={"jsonrpc": "2.0", "id": 1, "result": value})


def _params(request: Received) -> dict[str, Any]:
    body = request.json()
    assert (body["jsonrpc"], body["method"]) == ("2.0", "call")
    params: dict[str, Any] = body["params"]
    return params


async def test_search_read_authenticates_then_reads_the_records(
    runner: Runner, seed: Seed, vendor: VendorServer
) -> None:
    _connect(seed, vendor)
    vendor.answer("POST", "/jsonrpc", _result(2), _result([PARTNER]))
    config = {
        "connection": "odoo",
        "action": "search_read",
        "model": "res.partner",
        "domain": [["email", "=", "asha@example.com"]],
        "fields": ["name", "email", "country_id"],
        "limit": 1,
    }

    output = await runner.perform(seed.action("odoo", config), **ALLOW_LOOPBACK)

    login, search = vendor.requests("POST", "/jsonrpc")
    assert _params(login) == {
        "service": "common",
        "method": "authenticate",
        "args": [DB, LOGIN, API_KEY, {}],
    }
    assert _params(search) == {
        "service": "object",
        "method": "execute_kw",
        "args": [
            DB,
            2,
            API_KEY,
            "res.partner",
            "search_read",
            [[["email", "=", "asha@example.com"]]],
            {"fields": ["name", "email", "country_id"], "limit": 1},
        ],
    }
    assert output.result == {
        "action": "search_read",
        "model": "res.partner",
        "records": [PARTNER],
        "count": 1,
    }


async def test_write_and_create_send_the_values(
    runner: Runner, seed: Seed, vendor: VendorServer
) -> None:
    _connect(seed, vendor)
    vendor.answer("POST", "/jsonrpc", _result(2), _result(True), _result(2), _result(41))
    write = {
        "connection": "odoo",
        "action": "write",
        "model": "crm.lead",
        "ids": "12",  # as a template renders a number into text
        "values": {"stage_id": 4, "description": "Called back"},
    }
    create = {
        "connection": "odoo",
        "action": "create",
        "model": "crm.lead",
        "values": {"name": "Asha Rao", "email_from": "asha@example.com"},
    }

    wrote = await runner.perform(seed.action("odoo", write), **ALLOW_LOOPBACK)
    created = await runner.perform(seed.action("odoo", create, seq=2), **ALLOW_LOOPBACK)

    calls = [_params(r)["args"][3:] for r in vendor.requests("POST", "/jsonrpc")[1::2]]
    assert calls == [
        ["crm.lead", "write", [[12], {"stage_id": 4, "description": "Called back"}], {}],
        ["crm.lead", "create", [{"name": "Asha Rao", "email_from": "asha@example.com"}], {}],
    ]
    assert wrote.result == {"action": "write", "model": "crm.lead", "ids": [12], "written": True}
    assert created.result == {"action": "create", "model": "crm.lead", "id": 41}


async def test_an_odoo_error_in_a_200_fails_the_step_with_its_exception(
    runner: Runner, seed: Seed, vendor: VendorServer
) -> None:
    _connect(seed, vendor)
    error = {
        "jsonrpc": "2.0",
        "id": 1,
        "error": {
            "code": 200,
            "message": "Odoo Server Error",
            "data": {
                "name": "odoo.exceptions.AccessError",
                "debug": "Traceback (most recent call last): ...",
                "message": "You are not allowed to modify 'Lead/Opportunity' (crm.lead) records.",
                "arguments": [],
                "context": {},
            },
        },
    }
    vendor.answer("POST", "/jsonrpc", _result(2), Answer(json=error))
    config = {
        "connection": "odoo",
        "action": "write",
        "model": "crm.lead",
        "ids": [12],
        "values": {"stage_id": 4},
    }

    with pytest.raises(ApplicationError) as raised:
        await runner.perform(seed.action("odoo", config), **ALLOW_LOOPBACK)

    assert raised.value.non_retryable
    assert raised.value.message == (
        "Odoo refused write (HTTP 200): odoo.exceptions.AccessError: "
        "You are not allowed to modify 'Lead/Opportunity' (crm.lead) records."
    )
    assert raised.value.details[0]["code"] == "odoo.exceptions.AccessError"


async def test_a_wrong_password_is_not_retried(
    runner: Runner, seed: Seed, vendor: VendorServer
) -> None:
    _connect(seed, vendor)
    vendor.answer("POST", "/jsonrpc", _result(False))
    config = {"connection": "odoo", "action": "read", "model": "res.partner", "ids": [7]}

    with pytest.raises(ApplicationError) as raised:
        await runner.perform(seed.action("odoo", config), **ALLOW_LOOPBACK)

    assert raised.value.non_retryable
    assert raised.value.message == (
        f"Odoo refused authenticate: wrong login or password for database '{DB}'"
    )
    assert len(vendor.received) == 1


async def test_a_429_and_a_serialization_failure_are_retried(
    runner: Runner, seed: Seed, vendor: VendorServer
) -> None:
    _connect(seed, vendor)
    conflict = {
        "jsonrpc": "2.0",
        "id": 1,
        "error": {
            "code": 200,
            "message": "Odoo Server Error",
            "data": {
                "name": "psycopg2.errors.SerializationFailure",
                "message": "could not serialize access due to concurrent update",
            },
        },
    }
    vendor.answer(
        "POST",
        "/jsonrpc",
        Answer(status=429, text="Too Many Requests", headers={"Retry-After": "2"}),
        _result(2),
        Answer(json=conflict),
    )
    config = {"connection": "odoo", "action": "read", "model": "res.partner", "ids": [7]}

    with pytest.raises(ApplicationError) as limited:
        await runner.perform(seed.action("odoo", config), **ALLOW_LOOPBACK)
    with pytest.raises(ApplicationError) as conflicting:
        await runner.perform(seed.action("odoo", config), attempt=2, **ALLOW_LOOPBACK)

    assert (limited.value.type, limited.value.non_retryable) == ("RateLimited", False)
    assert limited.value.next_retry_delay == timedelta(seconds=2)
    assert not conflicting.value.non_retryable


async def test_ids_that_are_not_record_ids_are_refused_before_any_call(
    runner: Runner, seed: Seed, vendor: VendorServer
) -> None:
    _connect(seed, vendor)
    config = {"connection": "odoo", "action": "read", "model": "res.partner", "ids": "7, Asha"}
    too_many = {**config, "ids": list(range(1, 1002))}

    with pytest.raises(ApplicationError) as raised:
        await runner.perform(seed.action("odoo", config), **ALLOW_LOOPBACK)
    with pytest.raises(ApplicationError) as refused:
        await runner.perform(seed.action("odoo", too_many, seq=2), **ALLOW_LOOPBACK)

    assert (raised.value.type, raised.value.non_retryable) == ("InvalidConfig", True)
    assert raised.value.message == (
        "invalid odoo config: ids: 'Asha' is not a record id (a whole number)"
    )
    assert refused.value.message == (
        "invalid odoo config: ids: at most 1000 records at once, not 1001"
    )
    assert vendor.received == []
