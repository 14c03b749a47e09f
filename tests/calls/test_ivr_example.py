"""The `ivr_menu` example, deployed as it is and called as Twilio would call it.

Its CRM lookup goes to a loopback server; its departments are Sales (Asha) and Support (Dan,
who has no billing skill, and Bo, who has it).
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest
from pytest_httpserver import HTTPServer
from temporalio.worker import Worker
from werkzeug import Request, Response

from callsim import SimulatedCall
from schemas.call import execution_id_for_call
from tests.api.helpers import TenantKeys, wait_for_status
from tests.calls.conftest import CALLER, Deploy
from tests.calls.test_transfer import offers_to
from tests.examples import load_example, relocate

ASHA = "+15550107070"
DAN = "+15550108080"
BO = "+15550109090"
MENU = "For sales, press 1 or say sales. For support, press 2 or say support."
SORRY = "Sorry, I did not get that."
AUDIO = b"RIFF....WAVEfmt " + bytes(range(64)) * 8

Phone = Callable[..., SimulatedCall]


@pytest.fixture
def extra_settings(tmp_path: Path) -> dict[str, Any]:
    return {
        "FLOWDECK_HTTP_ALLOWLIST": "127.0.0.1,localhost",
        "FLOWDECK_RECORDINGS_DIR": str(tmp_path / "recordings"),
    }


async def _post(api: httpx.AsyncClient, tenant: TenantKeys, path: str, **body: Any) -> Any:
    response = await api.post(path, json=body, headers=tenant.auth("manager"))
    assert response.status_code == 201, response.text
    return response.json()


@pytest.fixture
async def staff(api: httpx.AsyncClient, tenant: TenantKeys) -> dict[str, Any]:
    """Sales (Asha, available) and Support (Dan available without billing, Bo offline)."""
    sales = await _post(api, tenant, "/api/departments", name="sales", queue="sales")
    support = await _post(api, tenant, "/api/departments", name="support", queue="support")
    agents = {
        name: await _post(
            api, tenant, "/api/agents", name=name, phone=phone, department_ids=[dept["id"]], **extra
        )
        for name, phone, dept, extra in (
            ("Asha", ASHA, sales, {}),
            ("Dan", DAN, support, {"skills": ["returns"]}),
            ("Bo", BO, support, {"skills": ["billing", "returns"]}),
        )
    }
    for name in ("Asha", "Dan"):
        response = await api.patch(
            f"/api/agents/{agents[name]['id']}",
            json={"status": "available"},
            headers=tenant.auth("manager"),
        )
        assert response.status_code == 200, response.text
    return {"sales": sales, "support": support, **agents}


@pytest.fixture
def crm(httpserver: HTTPServer) -> list[dict[str, list[str]]]:
    """The CRM's customer lookup; each request's query is kept."""
    lookups: list[dict[str, list[str]]] = []

    def lookup(request: Request) -> Response:
        lookups.append(parse_qs(urlsplit(request.url).query))
        if request.args.get("phone") == CALLER:
            return Response('{"name": "Meera", "tier": "gold"}', content_type="application/json")
        return Response('{"error": "unknown customer"}', status=404)

    httpserver.expect_request("/api/customers").respond_with_handler(lookup)
    return lookups


@pytest.fixture
def ivr_menu(httpserver: HTTPServer) -> dict[str, Any]:
    example = load_example("ivr_menu")
    assert example["trigger"] == {"type": "call_incoming"}
    crm_base = httpserver.url_for("/api/customers")
    definition = relocate(example["definition"], "https://crm.example.com/api/customers", crm_base)
    return definition


async def _walked(
    api: httpx.AsyncClient, tenant: TenantKeys, call: SimulatedCall
) -> tuple[dict[str, Any], list[tuple[str, str | None]]]:
    execution = await wait_for_status(
        api, tenant, execution_id_for_call(call.call_sid), "completed"
    )
    return execution, [(s["node_id"], s["port"]) for s in execution["steps"]]


@pytest.mark.parametrize(
    ("caller", "lookup_port"), [(CALLER, "success"), ("+15550100001", "error")]
)
async def test_a_caller_who_says_sales_is_looked_up_and_put_through_to_sales(
    api: httpx.AsyncClient,
    tenant: TenantKeys,
    worker: Worker,
    deploy: Deploy,
    phone: Phone,
    staff: dict[str, Any],
    crm: list[dict[str, list[str]]],
    ivr_menu: dict[str, Any],
    caller: str,
    lookup_port: str,
) -> None:
    _, number = await deploy(ivr_menu, name="Main line")
    call = phone(number, from_=caller)

    greeting = await call.start()
    assert greeting.spoken() == ["Thank you for calling Acme.", MENU]
    hello = greeting.first("Say")
    assert hello is not None
    assert (hello.attrib["voice"], hello.attrib["language"]) == ("Polly.Joanna", "en-US")
    gather = greeting.first("Gather")
    assert gather is not None
    assert (gather.attrib["input"], gather.attrib["timeout"]) == ("dtmf speech", "6")

    dialling = await call.say("I'd like to talk to Sales, please.")
    dial = dialling.first("Dial")
    assert dial is not None, dialling.text
    assert [n.text for n in dial.iter("Number")] == [ASHA] and dial.attrib["timeout"] == "25"
    # The lookup ran before the answer, with the caller's number in its query.
    assert crm == [{"phone": [caller]}]

    done = await call.dial_ends("completed", duration_s=180)
    assert done.hangs_up

    execution, walked = await _walked(api, tenant, call)
    assert walked == [
        ("hello", "next"),
        ("menu", "input"),
        ("route", "sales"),
        ("lookup", lookup_port),
        ("to_sales", "connected"),
        ("bye", None),
    ]
    assert execution["context"]["vars"]["choice"] == "I'd like to talk to Sales, please."
    transfer = next(s for s in execution["steps"] if s["node_id"] == "to_sales")
    assert transfer["result"]["agent_name"] == "Asha"
    if lookup_port == "success":
        assert execution["context"]["vars"]["customer"]["tier"] == "gold"


async def test_support_with_billing_skips_an_agent_without_it_and_queues_for_one_with_it(
    api: httpx.AsyncClient,
    tenant: TenantKeys,
    worker: Worker,
    deploy: Deploy,
    phone: Phone,
    staff: dict[str, Any],
    ivr_menu: dict[str, Any],
) -> None:
    _, number = await deploy(ivr_menu, name="Main line")
    call = phone(number)
    await call.start()

    wrong = await call.press("7")
    assert wrong.spoken() == [SORRY, MENU]

    queued = await call.press("2")
    assert queued.spoken() == [
        "All agents of support are busy. Please hold, and you will be connected."
        " You are number 1 in the queue."
    ]
    enqueue = queued.first("Enqueue")
    assert enqueue is not None and enqueue.text
    assert await offers_to(api, tenant, DAN) == []  # available, but without the billing skill

    bo = await api.patch(
        f"/api/agents/{staff['Bo']['id']}",
        json={"status": "available"},
        headers=tenant.auth("manager"),
    )
    assert bo.json()["status"] == "busy"  # offered the waiting caller at once
    [offer] = await offers_to(api, tenant, BO)
    assert f"<Dial><Queue>{enqueue.text}</Queue></Dial>" in offer["content"]["twiml"]

    done = await call.queue_ends("bridged", queue_time_s=30)
    assert done.hangs_up
    execution, walked = await _walked(api, tenant, call)
    assert walked == [
        ("hello", "next"),
        ("menu", "input"),
        ("route", "else"),
        ("menu", "input"),
        ("route", "support"),
        ("to_support", "connected"),
        ("bye", None),
    ]
    transfer = next(s for s in execution["steps"] if s["node_id"] == "to_support")
    assert transfer["result"]["agent_name"] == "Bo"


async def test_a_silent_caller_is_asked_three_times_then_leaves_a_voicemail(
    api: httpx.AsyncClient,
    tenant: TenantKeys,
    worker: Worker,
    deploy: Deploy,
    phone: Phone,
    staff: dict[str, Any],
    ivr_menu: dict[str, Any],
    httpserver: HTTPServer,
) -> None:
    httpserver.expect_request("/Recordings/RE0042.wav").respond_with_data(
        AUDIO, content_type="audio/x-wav"
    )
    _, number = await deploy(ivr_menu, name="Main line")
    call = phone(number)
    await call.start()

    assert (await call.silence()).spoken() == [SORRY, MENU]
    assert (await call.silence()).spoken() == [SORRY, MENU]
    voicemail = await call.silence()  # max_retries 2: the third silence is the timeout
    assert voicemail.spoken() == ["Please leave a message after the tone."]
    record = voicemail.first("Record")
    assert record is not None and record.attrib["maxLength"] == "120"

    done = await call.record(httpserver.url_for("/Recordings/RE0042"), 21, "RE0042")
    assert done.hangs_up

    execution, walked = await _walked(api, tenant, call)
    assert walked == [
        ("hello", "next"),
        ("menu", "timeout"),
        ("voicemail", "recorded"),
        ("bye", None),
    ]
    listed = await api.get(
        "/api/recordings",
        params={"execution_id": execution["id"]},
        headers=tenant.auth("viewer"),
    )
    [recording] = listed.json()
    assert recording["duration_s"] == 21
