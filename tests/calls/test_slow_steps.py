"""Steps between two voice steps run before the answer; a slow one puts the caller on hold."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import httpx
import pytest
from pytest_httpserver import HTTPServer
from temporalio.worker import Worker
from werkzeug import Request, Response

from callsim import SimulatedCall
from schemas.call import execution_id_for_call
from tests.api.helpers import TenantKeys, wait_for_status
from tests.calls.conftest import Deploy, SaveHistory

LOOKUP_DELAY_S = 1.5


@pytest.fixture
def extra_settings(request: pytest.FixtureRequest) -> dict[str, Any]:
    """A test may add settings with `indirect` parametrisation."""
    added: dict[str, Any] = getattr(request, "param", {})
    return {
        "FLOWDECK_CALL_HOLD_AFTER_S": 0.4,
        "FLOWDECK_HTTP_ALLOWLIST": "127.0.0.1,localhost",
        **added,
    }


def _account_flow(url: str) -> dict[str, Any]:
    return {
        "start": "ask",
        "nodes": [
            {
                "id": "ask",
                "type": "gather",
                "config": {"prompt": "Enter your account number, then hash.", "save_as": "account"},
                "transitions": {"input": "lookup"},
            },
            {
                "id": "lookup",
                "type": "http",
                "config": {
                    "method": "GET",
                    "url": url + "?account={{ vars.account }}",
                    "save_as": "customer",
                },
                "transitions": {"success": "known"},
            },
            {
                "id": "known",
                "type": "condition",
                "config": {"when": {"var": "vars.customer.vip", "op": "eq", "value": True}},
                "transitions": {"true": "vip", "false": "hello"},
            },
            {
                "id": "vip",
                "type": "set",
                "config": {
                    "assign": {"greeting": "Welcome back, our valued {{ vars.customer.name }}."}
                },
                "transitions": {"next": "hello"},
            },
            {
                "id": "hello",
                "type": "say",
                "config": {
                    "text": "{{ vars.greeting | default('Hello ' ~ vars.customer.name ~ '.') }}"
                },
                "transitions": {"next": "bye"},
            },
            {"id": "bye", "type": "hangup"},
        ],
    }


async def test_a_slow_lookup_plays_a_hold_message_and_redirects_until_done(
    api: httpx.AsyncClient,
    tenant: TenantKeys,
    worker: Worker,
    deploy: Deploy,
    phone: Callable[..., SimulatedCall],
    httpserver: HTTPServer,
    save_history: SaveHistory,
) -> None:
    asked: list[str] = []

    def slow_crm(request: Request) -> Response:
        asked.append(request.args["account"])
        time.sleep(LOOKUP_DELAY_S)
        return Response('{"name": "Ann", "vip": true}', content_type="application/json")

    httpserver.expect_request("/customers").respond_with_handler(slow_crm)
    _, number = await deploy(_account_flow(httpserver.url_for("/customers")))
    call = phone(number)
    await call.start()

    done = await call.press("4711")

    assert done.spoken() == ["Welcome back, our valued Ann."] and done.hangs_up
    holds = call.history[1:-1]
    assert holds, "the lookup outlasted the hold time: the caller must have been put on hold"
    assert holds[0].spoken() == ["Please hold."]
    assert all(h.spoken() == [] for h in holds[1:])  # said once, then silence until ready
    redirect = holds[0].first("Redirect")
    assert redirect is not None and "event=hold" in (redirect.text or "")
    assert asked == ["4711"]  # the redirects never ran the lookup again

    execution_id = execution_id_for_call(call.call_sid)
    await wait_for_status(api, tenant, execution_id, "completed")
    await save_history(execution_id, "call_slow_lookup_hold")


@pytest.mark.parametrize(
    "extra_settings",
    # With local steps on, a step inside a call still runs as a regular activity: as a local
    # one it would hold the workflow task, and the caller's answer, until it is done.
    [{"FLOWDECK_LOCAL_ACTIVITY_MAX_S": 0}, {}],
    ids=["regular", "local-steps-on"],
    indirect=True,
)
async def test_what_the_flow_says_before_a_slow_step_is_heard_before_it_runs(
    api: httpx.AsyncClient,
    tenant: TenantKeys,
    worker: Worker,
    deploy: Deploy,
    phone: Callable[..., SimulatedCall],
    httpserver: HTTPServer,
    save_history: SaveHistory,
) -> None:
    started: list[float] = []

    def slow_crm(request: Request) -> Response:
        started.append(time.monotonic())
        time.sleep(LOOKUP_DELAY_S)
        return Response('{"name": "Ann", "vip": false}', content_type="application/json")

    httpserver.expect_request("/customers").respond_with_handler(slow_crm)
    flow = _account_flow(httpserver.url_for("/customers"))
    flow["nodes"][0]["transitions"] = {"input": "moment"}
    flow["nodes"].append(
        {
            "id": "moment",
            "type": "say",
            "config": {"text": "One moment, I am looking up your account."},
            "transitions": {"next": "lookup"},
        }
    )
    _, number = await deploy(flow)
    call = phone(number)
    call.follow_redirects = False
    await call.start()

    pressed = time.monotonic()
    first = await call.press("4711")

    # At once, before the lookup is done: what was said, and a redirect for what follows.
    assert time.monotonic() - pressed < LOOKUP_DELAY_S
    assert first.spoken() == ["One moment, I am looking up your account."]
    assert first.verbs == ["Say", "Redirect"]
    redirect = first.first("Redirect")
    assert redirect is not None and "event=continue" in (redirect.text or "")
    call.follow_redirects = True  # through the holds, if the lookup is still running
    rest = await call.redirect()

    assert rest.spoken()[-1] == "Hello Ann." and rest.hangs_up
    assert len(started) == 1
    execution_id = execution_id_for_call(call.call_sid)
    await wait_for_status(api, tenant, execution_id, "completed")
    await save_history(execution_id, "call_say_before_slow_step")


async def test_a_crm_update_runs_inside_a_call_with_what_the_caller_entered(
    api: httpx.AsyncClient,
    tenant: TenantKeys,
    worker: Worker,
    deploy: Deploy,
    phone: Callable[..., SimulatedCall],
    httpserver: HTTPServer,
) -> None:
    updates: list[dict[str, Any]] = []

    def bitrix(request: Request) -> Response:
        updates.append(request.get_json())
        return Response('{"result": true}', content_type="application/json")

    httpserver.expect_request("/rest/1/abc/crm.lead.update.json").respond_with_handler(bitrix)
    _, number = await deploy(
        {
            "start": "rate",
            "nodes": [
                {
                    "id": "rate",
                    "type": "gather",
                    "config": {"prompt": "Rate us from 1 to 5.", "num_digits": 1},
                    "transitions": {"input": "crm"},
                },
                {
                    "id": "crm",
                    "type": "crm_update",
                    "config": {
                        "webhook_url": httpserver.url_for("/rest/1/abc/"),
                        "entity": "lead",
                        "id": "4711",
                        "fields": {"UF_RATING": "{{ call.digits }}", "PHONE": "{{ call.from }}"},
                    },
                    "transitions": {"success": "thanks", "error": "sorry"},
                },
                {"id": "thanks", "type": "say", "config": {"text": "Thank you."}},
                {"id": "sorry", "type": "say", "config": {"text": "Sorry, we could not save it."}},
            ],
        }
    )
    call = phone(number)
    await call.start()

    done = await call.press("5")

    assert done.spoken() == ["Thank you."] and done.hangs_up
    assert updates == [{"id": "4711", "fields": {"UF_RATING": "5", "PHONE": call.from_}}]
    execution = await wait_for_status(
        api, tenant, execution_id_for_call(call.call_sid), "completed"
    )
    assert [(s["node_id"], s["port"]) for s in execution["steps"]] == [
        ("rate", "input"),
        ("crm", "success"),
        ("thanks", "next"),
    ]
