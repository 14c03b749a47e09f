"""Inbound calls walked end to end: a menu, wrong keys, timeouts, a hang-up, retried webhooks."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import httpx
import pytest
from sqlalchemy.engine import Engine
from sqlmodel import func, select
from temporalio.worker import Worker

from callsim import SimulatedCall
from schemas.call import execution_id_for_call
from store.db import session_scope
from store.models import Execution
from tests.api.helpers import TenantKeys, wait_for_status
from tests.calls.conftest import CALLER, Deploy, SaveHistory

SUPPORT_LINE = "+15550102020"
MENU = "Press 1 for sales, 2 for support, 3 for billing."
SORRY = "Sorry, I did not get that."


def _said(text: str, then: str) -> dict[str, Any]:
    return {"type": "say", "config": {"text": text}, "transitions": {"next": then}}


def _digit_is(digit: str) -> dict[str, Any]:
    return {"var": "call.digits", "op": "eq", "value": digit}


MENU_FLOW: dict[str, Any] = {
    "start": "greet",
    "nodes": [
        {"id": "greet", **_said("Welcome to Acme, {{ call.from }}.", "menu")},
        {
            "id": "menu",
            "type": "gather",
            "config": {
                "prompt": MENU,
                "num_digits": 1,
                "timeout_s": 5,
                "max_retries": 1,
                "retry_prompt": SORRY,
                "save_as": "choice",
            },
            "transitions": {"input": "route", "timeout": "bye"},
        },
        {
            "id": "route",
            "type": "split",
            "config": {
                "cases": [
                    {"port": "sales", "when": _digit_is("1")},
                    {"port": "support", "when": _digit_is("2")},
                    {"port": "billing", "when": _digit_is("3")},
                ]
            },
            "transitions": {
                "sales": "to_sales",
                "support": "to_support",
                "billing": "to_billing",
                "else": "menu",
            },
        },
        {"id": "to_sales", **_said("Sales it is.", "done")},
        {"id": "to_billing", **_said("Billing it is.", "done")},
        {"id": "to_support", **_said("Connecting you to support.", "dial")},
        {
            "id": "dial",
            "type": "transfer",
            "config": {"number": SUPPORT_LINE, "timeout_s": 20},
            "transitions": {"connected": "done", "no_answer": "sorry", "failed": "sorry"},
        },
        {"id": "sorry", **_said("Nobody could take your call. Goodbye.", "done")},
        {"id": "bye", **_said("Goodbye.", "done")},
        {"id": "done", "type": "hangup"},
    ],
}

Phone = Callable[..., SimulatedCall]


async def _timeline(
    api: httpx.AsyncClient, tenant: TenantKeys, execution_id: str
) -> list[dict[str, Any]]:
    response = await api.get(f"/api/executions/{execution_id}", headers=tenant.auth("viewer"))
    assert response.status_code == 200, response.text
    return list(response.json()["steps"])


async def test_a_caller_walks_the_menu_presses_a_wrong_key_and_is_transferred(
    api: httpx.AsyncClient,
    tenant: TenantKeys,
    worker: Worker,
    deploy: Deploy,
    phone: Phone,
    save_history: SaveHistory,
) -> None:
    _, number = await deploy(MENU_FLOW)
    call = phone(number)

    first = await call.start()
    assert first.verbs == ["Say", "Gather", "Redirect"]
    assert first.spoken() == [f"Welcome to Acme, {CALLER}.", MENU]
    gather = first.first("Gather")
    assert gather is not None
    assert gather.attrib["numDigits"] == "1" and gather.attrib["timeout"] == "5"
    assert gather.attrib["input"] == "dtmf"

    wrong = await call.press("9")
    assert wrong.verbs == ["Gather", "Redirect"]
    # The apology, then the choices again, both inside the <Gather> (a key interrupts them).
    assert wrong.spoken() == [SORRY, MENU]
    regather = wrong.first("Gather")
    assert regather is not None and len(list(regather.iter("Say"))) == 2

    transfer = await call.press("2")
    assert transfer.spoken() == ["Connecting you to support."]
    dial = transfer.first("Dial")
    assert dial is not None and dial.attrib["timeout"] == "20"
    assert [n.text for n in dial.iter("Number")] == [SUPPORT_LINE]

    end = await call.dial_ends("completed", duration_s=95)
    assert end.verbs == ["Hangup"]

    execution_id = execution_id_for_call(call.call_sid)
    execution = await wait_for_status(api, tenant, execution_id, "completed")
    assert execution["trigger"]["type"] == "call_incoming"
    assert execution["trigger"]["from"] == CALLER and execution["trigger"]["to"] == number
    steps = await _timeline(api, tenant, execution_id)
    walked = [(s["node_id"], s["port"]) for s in steps]
    assert walked == [
        ("greet", "next"),
        ("menu", "input"),
        ("route", "else"),
        ("menu", "input"),
        ("route", "support"),
        ("to_support", "next"),
        ("dial", "connected"),
        ("done", None),
    ]
    assert steps[1]["result"]["digits"] == "9" and steps[3]["result"]["digits"] == "2"
    assert steps[6]["result"]["dial_status"] == "completed"
    assert execution["context"]["vars"]["choice"] == "2"
    await save_history(execution_id, "call_menu_transfer")


async def test_a_silent_caller_is_prompted_again_then_let_go(
    api: httpx.AsyncClient, tenant: TenantKeys, worker: Worker, deploy: Deploy, phone: Phone
) -> None:
    _, number = await deploy(MENU_FLOW)
    call = phone(number)
    await call.start()

    again = await call.silence()
    assert again.spoken() == [SORRY, MENU]
    bye = await call.silence()
    assert bye.spoken() == ["Goodbye."] and bye.hangs_up

    execution_id = execution_id_for_call(call.call_sid)
    await wait_for_status(api, tenant, execution_id, "completed")
    steps = await _timeline(api, tenant, execution_id)
    menu = next(s for s in steps if s["node_id"] == "menu")
    assert menu["port"] == "timeout" and menu["result"] == {"timed_out": True, "attempts": 2}


async def test_a_caller_who_hangs_up_mid_menu_completes_the_execution_with_hangup(
    api: httpx.AsyncClient,
    tenant: TenantKeys,
    worker: Worker,
    deploy: Deploy,
    phone: Phone,
    save_history: SaveHistory,
) -> None:
    _, number = await deploy(MENU_FLOW)
    call = phone(number)
    await call.start()

    response = await call.hang_up(duration_s=12)
    assert response.status_code == 200

    execution_id = execution_id_for_call(call.call_sid)
    execution = await wait_for_status(api, tenant, execution_id, "completed")
    assert execution["reason"] == "hangup"
    steps = await _timeline(api, tenant, execution_id)
    menu = next(s for s in steps if s["node_id"] == "menu")
    assert menu["status"] == "skipped" and menu["skip_reason"] == "the caller hung up"
    hangup = steps[-1]
    assert (hangup["node_type"], hangup["status"]) == ("hangup", "success")
    assert hangup["result"] == {"by": "caller", "call_status": "completed", "duration_s": 12}
    await save_history(execution_id, "call_hangup")


async def test_a_retried_webhook_answers_the_same_and_starts_nothing_twice(
    api: httpx.AsyncClient,
    tenant: TenantKeys,
    worker: Worker,
    deploy: Deploy,
    phone: Phone,
    engine: Engine,
) -> None:
    _, number = await deploy(MENU_FLOW)
    call = phone(number)
    first = await call.start()
    again = await call.start()  # Twilio retried the ring webhook
    assert again.text == first.text

    action = first.first("Gather")
    assert action is not None
    pressed = await call.press("1")
    retried = await call.post(action.attrib["action"], {"Digits": "1"})  # the same turn again
    assert retried.text == pressed.text
    assert pressed.spoken() == ["Sales it is."] and pressed.hangs_up

    execution_id = execution_id_for_call(call.call_sid)
    await wait_for_status(api, tenant, execution_id, "completed")
    with session_scope(engine) as session:
        rows = session.exec(
            select(func.count()).select_from(Execution).where(Execution.tenant_id == tenant.id)
        ).one()
    assert rows == 1
    steps = await _timeline(api, tenant, execution_id)
    assert [s["node_id"] for s in steps].count("menu") == 1


async def test_a_bad_or_missing_signature_gets_403_and_starts_nothing(
    api: httpx.AsyncClient,
    tenant: TenantKeys,
    worker: Worker,
    deploy: Deploy,
    phone: Phone,
    engine: Engine,
) -> None:
    _, number = await deploy(MENU_FLOW)
    forged = phone(number, token="not-the-auth-token")
    url = forged.public_url + "/webhooks/twilio/voice"

    assert (await forged.post(url)).status_code == 403
    assert (await forged.post(url, signature="")).status_code == 403
    turn = forged.public_url + "/webhooks/twilio/voice/turn?execution=x&turn=1&event=input"
    assert (await forged.post(turn, {"Digits": "1"})).status_code == 403

    with session_scope(engine) as session:
        assert session.get(Execution, execution_id_for_call(forged.call_sid)) is None


async def test_a_number_nobody_deployed_to_says_so_and_hangs_up(
    worker: Worker, phone: Phone
) -> None:
    answer = await phone("+15550000001").start()
    assert answer.spoken() == ["The number you have called is not in service. Goodbye."]
    assert answer.hangs_up


SPEECH_FLOW: dict[str, Any] = {
    "start": "ask",
    "nodes": [
        {
            "id": "ask",
            "type": "gather",
            "config": {
                "prompt": "Say sales or support.",
                "input": "dtmf speech",
                "hints": "sales, support",
                "language": "en-GB",
            },
            "transitions": {"input": "route"},
        },
        {
            "id": "route",
            "type": "split",
            "config": {
                "cases": [
                    {"port": "sales", "when": {"var": "call.speech", "op": "eq", "value": "sales"}}
                ]
            },
            "transitions": {"sales": "yes", "else": "no"},
        },
        {"id": "yes", "type": "say", "config": {"text": "Sales, {{ call.speech }}."}},
        {"id": "no", "type": "say", "config": {"text": "Not sales."}},
    ],
}


async def test_speech_is_gathered_and_compared_regardless_of_case_and_punctuation(
    api: httpx.AsyncClient, tenant: TenantKeys, worker: Worker, deploy: Deploy, phone: Phone
) -> None:
    _, number = await deploy(SPEECH_FLOW)
    call = phone(number)
    asked = await call.start()
    gather = asked.first("Gather")
    assert gather is not None
    assert gather.attrib["input"] == "dtmf speech" and gather.attrib["hints"] == "sales, support"
    assert gather.attrib["language"] == "en-GB"

    answer = await call.say("Sales!", confidence=0.87)

    assert answer.spoken() == ["Sales, Sales!."]
    execution_id = execution_id_for_call(call.call_sid)
    execution = await wait_for_status(api, tenant, execution_id, "completed")
    ask = next(s for s in execution["steps"] if s["node_id"] == "ask")
    assert ask["result"]["speech"] == "Sales!" and ask["result"]["confidence"] == 0.87


async def test_a_ring_retried_after_the_call_ended_starts_nothing_and_changes_nothing(
    api: httpx.AsyncClient, tenant: TenantKeys, worker: Worker, deploy: Deploy, phone: Phone
) -> None:
    _, number = await deploy(MENU_FLOW)
    call = phone(number)
    first = await call.start()
    pressed = await call.press("1")  # "Sales it is." and the flow hangs up
    execution_id = execution_id_for_call(call.call_sid)
    done = await wait_for_status(api, tenant, execution_id, "completed")

    # Temporal answers a repeated Update id with its first result, even once the run closed.
    late = await call.start()
    assert late.text == first.text
    assert (await call.press("1")).text == pressed.text
    unknown = await call.post(
        call.public_url
        + f"/webhooks/twilio/voice/turn?execution={execution_id}&turn=2&event=input",
        {"Digits": "5"},
    )
    assert unknown.status_code == 200 and "<Hangup" in unknown.text  # over: nothing to say
    again = await wait_for_status(api, tenant, execution_id, "completed")
    assert again["reason"] == done["reason"] and len(again["steps"]) == len(done["steps"])


async def test_a_gather_that_times_out_leaves_no_earlier_input_in_call_digits(
    api: httpx.AsyncClient, tenant: TenantKeys, worker: Worker, deploy: Deploy, phone: Phone
) -> None:
    _, number = await deploy(
        {
            "start": "first",
            "nodes": [
                {
                    "id": "first",
                    "type": "gather",
                    "config": {"prompt": "Press a key.", "num_digits": 1},
                    "transitions": {"input": "second"},
                },
                {
                    "id": "second",
                    "type": "gather",
                    "config": {"prompt": "Enter your PIN, then star.", "finish_on_key": "*"},
                    "transitions": {"input": "check", "timeout": "check"},
                },
                {
                    "id": "check",
                    "type": "condition",
                    "config": {"when": {"var": "call.digits", "op": "is_empty"}},
                    "transitions": {"true": "nothing", "false": "echo"},
                },
                {"id": "nothing", "type": "say", "config": {"text": "You entered nothing."}},
                {"id": "echo", "type": "say", "config": {"text": "You entered {{ call.digits }}."}},
            ],
        }
    )
    call = phone(number)
    await call.start()
    pin = await call.press("1")
    gather = pin.first("Gather")
    assert gather is not None and gather.attrib["finishOnKey"] == "*"

    done = await call.silence()

    assert done.spoken() == ["You entered nothing."] and done.hangs_up


@pytest.mark.parametrize(("key", "said"), [("1", "Sales it is."), ("3", "Billing it is.")])
async def test_each_menu_choice_leads_where_it_says(
    api: httpx.AsyncClient,
    tenant: TenantKeys,
    worker: Worker,
    deploy: Deploy,
    phone: Phone,
    key: str,
    said: str,
) -> None:
    _, number = await deploy(MENU_FLOW)
    call = phone(number)
    await call.start()

    answer = await call.press(key)

    assert answer.spoken() == [said] and answer.hangs_up
    execution = await wait_for_status(
        api, tenant, execution_id_for_call(call.call_sid), "completed"
    )
    assert execution["context"]["vars"]["choice"] == key
