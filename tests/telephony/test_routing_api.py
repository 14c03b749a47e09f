"""Routing from the API: `POST /api/departments/route`, agents set available, the queue view.

Sandbox mode records the TwiML in the outbox; Twilio mode goes through the real twilio
library to the fake Twilio REST server, which checks each request against Twilio's contract.
"""

from __future__ import annotations

import json
import re
import xml.etree.ElementTree as ET
from collections.abc import AsyncIterator, Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

import httpx
import pytest
from pytest_httpserver import HTTPServer
from sqlalchemy.engine import Engine
from temporalio.testing import WorkflowEnvironment
from werkzeug import Request, Response

from api.main import create_app
from api.services.routing import TwilioHttp, get_twilio_http
from schemas.call import execution_id_for_call
from schemas.settings import Settings
from store.db import session_scope
from store.models import ExecutionStep
from tests.api.helpers import TenantKeys
from tests.channels.conftest import ACCOUNT_SID, TWILIO_ENV, FakeTwilio, _twilio_server, routed_to
from tests.channels.contract import problems
from tests.telephony.helpers import create, paths
from tests.telephony.test_routing import _execution, call_sid, make_centre

__all__ = ["_twilio_server"]  # fixture, used here

BASE = "http://localhost:8000"  # PUBLIC_BASE_URL's default


def queue_offer(queue: str) -> str:
    """What an agent offered a waiting caller is called with: dial that caller's queue."""
    return (
        '<?xml version="1.0" encoding="UTF-8"?>'
        f"<Response><Dial><Queue>{queue}</Queue></Dial></Response>"
    )


@dataclass
class FakeTwilioCalls(FakeTwilio):
    """The fake Twilio, also answering `POST /Calls/{sid}.json` (redirecting a live call)."""

    updates: list[tuple[str, dict[str, list[str]]]] = field(default_factory=list)
    missing: set[str] = field(default_factory=set)

    def handle(self, request: Request) -> Response:
        match = re.fullmatch(
            rf"/2010-04-01/Accounts/{ACCOUNT_SID}/Calls/(CA[0-9a-f]{{32}})\.json", request.path
        )
        if match is None or request.method != "POST":
            return super().handle(request)
        form = {k: request.form.getlist(k) for k in request.form}
        self.violations.extend(problems(request.method, request.path, form, {}))
        sid = match.group(1)
        if sid in self.missing:
            return self._error(404, 20404, f"The requested resource {request.path} was not found")
        self.updates.append((sid, form))
        body = {"sid": sid, "account_sid": ACCOUNT_SID, "status": "in-progress"}
        return Response(json.dumps(body), status=200, content_type="application/json")


@pytest.fixture
def fake(_twilio_server: HTTPServer) -> Iterator[FakeTwilioCalls]:
    _twilio_server.clear()
    fake = FakeTwilioCalls(base_url=_twilio_server.url_for("").rstrip("/"))
    _twilio_server.expect_request(re.compile(r"^/2010-04-01/.*")).respond_with_handler(fake.handle)
    yield fake
    _twilio_server.clear()


ApiFactory = Callable[..., Any]


@pytest.fixture
async def make_api(
    engine: Engine, task_queue: str, temporal_env: WorkflowEnvironment, fake: FakeTwilioCalls
) -> AsyncIterator[ApiFactory]:
    """The app in sandbox mode, or (`twilio=True`) with voice through the fake Twilio."""
    async with routed_to(fake) as routed:
        clients: list[httpx.AsyncClient] = []

        async def make(*, twilio: bool = False, **extra: Any) -> httpx.AsyncClient:
            env: dict[str, Any] = {
                "FLOWDECK_ENV": "test",
                "TEMPORAL_ADDRESS": temporal_env.client.service_client.config.target_host,
                "FLOWDECK_TASK_QUEUE": task_queue,
                **(TWILIO_ENV if twilio else {}),
                **extra,
            }
            app = create_app(
                settings=Settings.model_validate(env),
                engine=engine,
                temporal_client=temporal_env.client,
            )
            app.dependency_overrides[get_twilio_http] = lambda: TwilioHttp(routed)
            client = httpx.AsyncClient(
                transport=httpx.ASGITransport(app=app), base_url="http://flowdeck.test"
            )
            clients.append(client)
            return client

        yield make
        for client in clients:
            await client.aclose()


async def _outbox(api: httpx.AsyncClient, tenant: TenantKeys) -> list[dict[str, Any]]:
    response = await api.get("/api/outbox", headers=tenant.auth("viewer"))
    assert response.status_code == 200, response.text
    body = response.json()
    return list(body["items"] if isinstance(body, dict) else body)


async def _route(
    api: httpx.AsyncClient, tenant: TenantKeys, department: str, **body: Any
) -> httpx.Response:
    body = {"call_sid": body.pop("call_sid", None) or call_sid(), "department": department, **body}
    return await api.post("/api/departments/route", json=body, headers=tenant.auth("manager"))


async def test_a_call_routed_to_a_free_agent_is_dialled(
    make_api: ApiFactory, tenant: TenantKeys
) -> None:
    api = await make_api()
    sales = await create(
        api, tenant, "/api/departments", name="Sales", queue="sales", phone_number="+15550100000"
    )
    agent = await create(
        api, tenant, "/api/agents", name="Asha", phone="+15550100001",
        department_ids=[sales["id"]], status="available",
    )  # fmt: skip
    sid = call_sid()

    routed = await _route(api, tenant, "Sales", call_sid=sid)

    assert routed.status_code == 200, routed.text
    body = routed.json()
    assert body["status"] == "dialing"
    assert body["agent"] == {
        "id": agent["id"],
        "name": "Asha",
        "phone": "+15550100001",
        "client_identity": None,
    }
    read = await api.get(f"/api/agents/{agent['id']}", headers=tenant.auth("viewer"))
    assert read.json()["status"] == "busy"
    [redirect] = await _outbox(api, tenant)
    assert redirect["channel"] == "voice" and redirect["to"] == sid
    assert redirect["content"]["purpose"] == "route_call"
    [dial] = ET.fromstring(redirect["content"]["twiml"])
    assert (dial.tag, dial.attrib, [(n.tag, n.text) for n in dial]) == (
        "Dial",
        {
            "action": f"{BASE}/webhooks/twilio/voice/routed"
            f"?entry={body['queue_entry_id']}&agent={agent['id']}",
            "method": "POST",
            "callerId": "+15550100000",
            "timeout": "30",
        },
        [("Number", "+15550100001")],
    )


async def test_with_nobody_free_calls_queue_by_priority_with_their_path(
    make_api: ApiFactory, tenant: TenantKeys, engine: Engine
) -> None:
    api = await make_api()
    sales = await create(api, tenant, "/api/departments", name="Sales", queue="sales")
    sid = call_sid()
    execution = _execution(make_centre(engine, tenant.id), execution_id=execution_id_for_call(sid))
    with session_scope(engine) as session:
        for seq, node in enumerate(["welcome", "menu"], start=1):
            session.add(
                ExecutionStep(
                    execution_id=execution.id, tenant_id=tenant.id, seq=seq,
                    node_id=node, node_type="gather", status="success",
                )
            )  # fmt: skip

    first = await _route(api, tenant, sales["id"], call_sid=sid, context={"crm_id": 7})
    urgent_sid = call_sid()
    urgent = await _route(api, tenant, "Sales", call_sid=urgent_sid, priority=1, skills=["vip"])

    assert first.status_code == 200, first.text
    assert (first.json()["status"], first.json()["queue"], first.json()["position"]) == (
        "queued",
        f"fd-{sales['id']}-p5",
        1,
    )
    # Another priority and skills: another Twilio queue, so Twilio's order is ours.
    assert urgent.json()["queue"].startswith(f"fd-{sales['id']}-p1-")
    assert first.json()["execution_id"] == execution.id
    assert urgent.json()["position"] == 1
    queue = await api.get(f"/api/departments/{sales['id']}/queue", headers=tenant.auth("viewer"))
    assert queue.status_code == 200, queue.text
    entries = queue.json()
    assert [(e["position"], e["call_sid"], e["priority"]) for e in entries] == [
        (1, urgent_sid, 1),
        (2, sid, 5),
    ]
    assert entries[0]["skills"] == ["vip"]
    assert entries[1]["context"] == {"crm_id": 7, "path": ["welcome", "menu"]}
    assert entries[1]["execution_id"] == execution.id
    assert all(e["waited_s"] >= 0 for e in entries)
    outbox = await _outbox(api, tenant)
    assert len(outbox) == 2
    twiml = {m["to"]: m["content"]["twiml"] for m in outbox}
    for to, routed in ((sid, first), (urgent_sid, urgent)):
        [enqueue] = ET.fromstring(twiml[to])
        assert (enqueue.tag, enqueue.text, enqueue.attrib) == (
            "Enqueue",
            routed.json()["queue"],
            {
                "action": f"{BASE}/webhooks/twilio/voice/routed"
                f"?entry={routed.json()['queue_entry_id']}",
                "method": "POST",
                "waitUrl": f"{BASE}/webhooks/twilio/voice/wait",
                "waitUrlMethod": "POST",
            },
        )


async def test_an_agent_set_available_is_offered_the_next_caller(
    make_api: ApiFactory, tenant: TenantKeys
) -> None:
    api = await make_api()
    sales = await create(
        api, tenant, "/api/departments", name="Sales", queue="sales", phone_number="+15550100000"
    )
    agent = await create(
        api, tenant, "/api/agents", name="Asha", phone="+15550100001",
        department_ids=[sales["id"]], skills=["hindi"],
    )  # fmt: skip
    waiting = await _route(api, tenant, "Sales", skills=["hindi"])
    assert waiting.json()["status"] == "queued"

    patched = await api.patch(
        f"/api/agents/{agent['id']}", json={"status": "available"}, headers=tenant.auth("manager")
    )

    assert patched.status_code == 200, patched.text
    assert patched.json()["status"] == "busy"  # the caller was offered to it at once
    offers = [m for m in await _outbox(api, tenant) if m["content"]["purpose"] == "queue_offer"]
    assert len(offers) == 1
    assert offers[0]["to"] == "+15550100001"
    assert offers[0]["content"]["twiml"] == queue_offer(waiting.json()["queue"])
    assert offers[0]["content"]["from"] == "+15550100000"
    queue = await api.get(f"/api/departments/{sales['id']}/queue", headers=tenant.auth("viewer"))
    assert queue.json() == []

    # Free again with nobody waiting: simply available.
    again = await api.patch(
        f"/api/agents/{agent['id']}", json={"status": "available"}, headers=tenant.auth("manager")
    )
    assert again.json()["status"] == "available"


async def test_an_agent_created_available_or_given_the_skill_is_offered_the_waiting_caller(
    make_api: ApiFactory, tenant: TenantKeys
) -> None:
    api = await make_api()
    sales = await create(api, tenant, "/api/departments", name="Sales", queue="sales")
    first = await _route(api, tenant, "Sales")
    needs_hindi = await _route(api, tenant, "Sales", skills=["hindi"])
    assert (first.json()["status"], needs_hindi.json()["status"]) == ("queued", "queued")

    asha = await create(
        api, tenant, "/api/agents", name="Asha", phone="+15550100011",
        department_ids=[sales["id"]], status="available",
    )  # fmt: skip
    assert asha["status"] == "busy"  # offered the first caller on creation
    bo = await create(
        api, tenant, "/api/agents", name="Bo", phone="+15550100012",
        department_ids=[sales["id"]], status="available",
    )  # fmt: skip
    assert bo["status"] == "available"  # the one waiting caller needs Hindi

    manager = tenant.auth("manager")
    renamed = await api.patch(f"/api/agents/{bo['id']}", json={"name": "Bo K"}, headers=manager)
    assert renamed.json()["status"] == "available"
    skilled = await api.patch(
        f"/api/agents/{bo['id']}", json={"skills": ["Hindi"]}, headers=manager
    )

    assert skilled.status_code == 200, skilled.text
    assert skilled.json()["status"] == "busy"
    offers = [m for m in await _outbox(api, tenant) if m["content"]["purpose"] == "queue_offer"]
    assert sorted(m["to"] for m in offers) == ["+15550100011", "+15550100012"]
    queue = await api.get(f"/api/departments/{sales['id']}/queue", headers=tenant.auth("viewer"))
    assert queue.json() == []


async def test_through_twilio_the_live_call_is_redirected_and_the_agent_called(
    make_api: ApiFactory, tenant: TenantKeys, fake: FakeTwilioCalls
) -> None:
    api = await make_api(twilio=True)
    sales = await create(api, tenant, "/api/departments", name="Sales", queue="sales")
    agent = await create(
        api, tenant, "/api/agents", name="Web", client_identity="web-1",
        department_ids=[sales["id"]], status="available",
    )  # fmt: skip
    dialled, queued = call_sid(), call_sid()

    assert (await _route(api, tenant, "Sales", call_sid=dialled)).json()["status"] == "dialing"
    assert (await _route(api, tenant, "Sales", call_sid=queued)).json()["status"] == "queued"
    freed = await api.patch(
        f"/api/agents/{agent['id']}", json={"status": "available"}, headers=tenant.auth("manager")
    )

    assert fake.violations == []
    twiml = {sid: ET.fromstring(form["Twiml"][0]) for sid, form in fake.updates}
    assert [(v.tag, [(n.tag, n.text) for n in v]) for v in twiml[dialled]] == [
        ("Dial", [("Client", "web-1")])
    ]
    assert [(v.tag, v.text) for v in twiml[queued]] == [("Enqueue", f"fd-{sales['id']}-p5")]
    [offer] = fake.calls
    assert (offer["to"], offer["from"]) == (
        "client:web-1",
        TWILIO_ENV["FLOWDECK_TWILIO_FROM_VOICE"],
    )
    assert offer["form"]["Twiml"] == [queue_offer(f"fd-{sales['id']}-p5")]
    assert freed.json()["status"] == "busy"


async def test_a_call_twilio_does_not_know_is_409_and_frees_the_agent(
    make_api: ApiFactory, tenant: TenantKeys, fake: FakeTwilioCalls
) -> None:
    api = await make_api(twilio=True)
    sales = await create(api, tenant, "/api/departments", name="Sales", queue="sales")
    agent = await create(
        api, tenant, "/api/agents", name="Asha", phone="+15550100001",
        department_ids=[sales["id"]], status="available",
    )  # fmt: skip
    sid = call_sid()
    fake.missing.add(sid)

    routed = await _route(api, tenant, "Sales", call_sid=sid)

    assert routed.status_code == 409, routed.text
    assert "Twilio refused to redirect call" in routed.json()["error"]["message"]
    read = await api.get(f"/api/agents/{agent['id']}", headers=tenant.auth("viewer"))
    assert read.json()["status"] == "available"


async def test_twilio_without_credentials_is_503_and_frees_the_agent(
    make_api: ApiFactory, tenant: TenantKeys, fake: FakeTwilioCalls
) -> None:
    api = await make_api(twilio=True, TWILIO_AUTH_TOKEN="")
    sales = await create(api, tenant, "/api/departments", name="Sales", queue="sales")
    agent = await create(
        api, tenant, "/api/agents", name="Asha", phone="+15550100001",
        department_ids=[sales["id"]], status="available",
    )  # fmt: skip

    routed = await _route(api, tenant, "Sales")

    assert routed.status_code == 503, routed.text
    assert "TWILIO_AUTH_TOKEN" in routed.json()["error"]["message"]
    read = await api.get(f"/api/agents/{agent['id']}", headers=tenant.auth("viewer"))
    assert read.json()["status"] == "available"
    assert fake.requests == []


async def test_bad_bodies_are_422_at_their_paths(make_api: ApiFactory, tenant: TenantKeys) -> None:
    api = await make_api()
    bad = await api.post(
        "/api/departments/route",
        json={"call_sid": "nope", "priority": -1, "skills": [""], "context": [], "extra": 1},
        headers=tenant.auth("manager"),
    )
    assert paths(bad) == [
        "$.call_sid",
        "$.context",
        "$.department",
        "$.extra",
        "$.priority",
        "$.skills[0]",
    ]


async def test_other_tenants_departments_are_404(
    make_api: ApiFactory, tenant: TenantKeys, other_tenant: TenantKeys
) -> None:
    api = await make_api()
    theirs = await create(api, other_tenant, "/api/departments", name="Theirs", queue="q")
    for department in (theirs["id"], "Theirs", "Nowhere"):
        routed = await _route(api, tenant, department)
        assert routed.status_code == 404, routed.text
        assert f"no department '{department}'" in routed.json()["error"]["message"]
    queue = await api.get(f"/api/departments/{theirs['id']}/queue", headers=tenant.auth("viewer"))
    assert queue.status_code == 404
    assert await _outbox(api, tenant) == []


async def test_viewers_cannot_route_calls(make_api: ApiFactory, tenant: TenantKeys) -> None:
    api = await make_api()
    response = await api.post(
        "/api/departments/route",
        json={"call_sid": call_sid(), "department": "Sales"},
        headers=tenant.auth("viewer"),
    )
    assert response.status_code == 403
