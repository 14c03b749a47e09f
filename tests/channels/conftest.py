"""A fake Twilio REST API on a real local HTTP server, and the real twilio client routed to it.

The twilio library builds every request itself (`https://api.twilio.com/2010-04-01/…`) and
hands it to the provider's `HttpClient` (`HttpxTwilioClient`); the httpx client under it (the
worker's, in production) is here one whose hook sends requests for api.twilio.com to the
local server instead, which checks each against Twilio's OpenAPI description and answers
like Twilio.
"""

from __future__ import annotations

import base64
import dataclasses
import itertools
import re
import threading
import time
import uuid
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email.utils import format_datetime
from typing import Any

import httpx
import pytest
import structlog
from pytest_httpserver import HTTPServer
from sqlalchemy.engine import Engine
from temporalio.testing import WorkflowEnvironment
from werkzeug import Request, Response

from activities.step import StepContext
from schemas.execution import ActionInput
from schemas.settings import Settings
from tests.activities.conftest import Runner, Seed, seed_tenant
from tests.api.conftest import api, make_tenant, other_tenant, tenant, worker
from tests.channels.contract import problems

__all__ = ["api", "make_tenant", "other_tenant", "tenant", "worker"]  # fixtures, re-exported

ACCOUNT_SID = "AC" + "1" * 32
AUTH_TOKEN = "twilio-test-auth-token"
PUBLIC_URL = "https://flowdeck.example.com"
FROM_SMS = "+15550001111"
FROM_WHATSAPP = "+15550002222"
FROM_VOICE = "+15550003333"
CONTENT_SID = "HX" + "a" * 32
VOICE_AGENT_URL = "https://agents.example.com/twiml/{agent_id}"

TWILIO_ENV: dict[str, Any] = {
    "FLOWDECK_ENV": "test",
    "TWILIO_ACCOUNT_SID": ACCOUNT_SID,
    "TWILIO_AUTH_TOKEN": AUTH_TOKEN,
    "PUBLIC_BASE_URL": PUBLIC_URL,
    "FLOWDECK_PROVIDER_SMS": "twilio",
    "FLOWDECK_PROVIDER_WHATSAPP": "twilio",
    "FLOWDECK_PROVIDER_VOICE": "twilio",
    "FLOWDECK_TWILIO_FROM_SMS": FROM_SMS,
    "FLOWDECK_TWILIO_FROM_WHATSAPP": FROM_WHATSAPP,
    "FLOWDECK_TWILIO_FROM_VOICE": FROM_VOICE,
    "FLOWDECK_TWILIO_CONTENT_SIDS": {"lead_followup": CONTENT_SID},
    "FLOWDECK_TWILIO_VOICE_URL": VOICE_AGENT_URL,
}


def _rfc2822(moment: datetime) -> str:
    return format_datetime(moment.astimezone(UTC), usegmt=True)


@dataclass
class Seen:
    method: str
    path: str
    form: dict[str, list[str]]
    query: dict[str, list[str]]


@dataclass
class FakeTwilio:
    """Twilio's Messages and Calls resources, kept in memory; every request is checked.

    `fail_after_accept`: the next create is stored, then answered with `500` or, with
    "hang", not answered before the client gives up.
    """

    base_url: str
    requests: list[Seen] = field(default_factory=list)
    violations: list[str] = field(default_factory=list)
    messages: list[dict[str, Any]] = field(default_factory=list)
    calls: list[dict[str, Any]] = field(default_factory=list)
    fail_after_accept: str | None = None
    refuse_next: tuple[int, int, str] | None = None
    hang_s: float = 2.0
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def handle(self, request: Request) -> Response:
        form = {k: request.form.getlist(k) for k in request.form}
        query = {k: request.args.getlist(k) for k in request.args}
        with self._lock:
            self.requests.append(Seen(request.method, request.path, form, query))
            self.violations.extend(problems(request.method, request.path, form, query))
        expected = "Basic " + base64.b64encode(f"{ACCOUNT_SID}:{AUTH_TOKEN}".encode()).decode()
        if request.headers.get("Authorization") != expected:
            return self._error(401, 20003, "Authenticate")
        match = re.fullmatch(r"/2010-04-01/Accounts/([^/]+)/(Messages|Calls)\.json", request.path)
        if match is None or match.group(1) != ACCOUNT_SID:
            return self._error(404, 20404, "The requested resource was not found")
        kind = match.group(2)
        if request.method == "GET":
            return self._list(kind, query)
        if self.refuse_next is not None:
            status, code, message = self.refuse_next
            self.refuse_next = None
            return self._error(status, code, message)
        resource = self._create(kind, form)
        failure, self.fail_after_accept = self.fail_after_accept, None
        if failure == "500":
            return self._error(500, 20500, "Internal Server Error")
        if failure == "hang":
            time.sleep(self.hang_s)
        return self._json(201, resource)

    def _create(self, kind: str, form: dict[str, list[str]]) -> dict[str, Any]:
        one = {k: v[0] for k, v in form.items()}
        now = _rfc2822(datetime.now(UTC))
        prefix = "SM" if kind == "Messages" else "CA"
        sid = prefix + uuid.uuid4().hex  # unique like Twilio's, across tests
        resource: dict[str, Any] = {
            "sid": sid,
            "account_sid": ACCOUNT_SID,
            "to": one.get("To"),
            "from": one.get("From"),
            "status": "queued",
            "date_created": now,
            "date_updated": now,
            "api_version": "2010-04-01",
            "uri": f"/2010-04-01/Accounts/{ACCOUNT_SID}/{kind}/{sid}.json",
            "form": form,
        }
        if kind == "Messages":
            resource.update(body=one.get("Body", "Rendered template"), direction="outbound-api")
            self.messages.append(resource)
        else:
            resource.update(direction="outbound-api")
            self.calls.append(resource)
        return resource

    def _list(self, kind: str, query: dict[str, list[str]]) -> Response:
        items = self.messages if kind == "Messages" else self.calls
        wanted = {k: v[0] for k, v in query.items() if k in ("To", "From")}
        found = [
            {k: v for k, v in item.items() if k != "form"}
            for item in reversed(items)
            if all(item.get(k.lower()) == v for k, v in wanted.items())
        ]
        page_size = int(query.get("PageSize", ["50"])[0])
        uri = f"/2010-04-01/Accounts/{ACCOUNT_SID}/{kind}.json"
        return self._json(
            200,
            {
                kind.lower(): found[:page_size],
                "page": 0,
                "page_size": page_size,
                "start": 0,
                "end": max(0, min(len(found), page_size) - 1),
                "uri": uri,
                "first_page_uri": uri,
                "next_page_uri": None,
                "previous_page_uri": None,
            },
        )

    @staticmethod
    def _json(status: int, body: dict[str, Any]) -> Response:
        import json

        return Response(json.dumps(body), status=status, content_type="application/json")

    def _error(self, status: int, code: int, message: str) -> Response:
        return self._json(
            status,
            {"code": code, "message": message, "more_info": "", "status": status},
        )


def routed_to(fake: FakeTwilio) -> httpx.AsyncClient:
    """An httpx client (as the worker's) whose requests to api.twilio.com reach the fake.

    The twilio library builds each request; the provider's `HttpxTwilioClient` (a twilio
    `HttpClient`) hands it to this client, whose hook only changes where it is sent.
    """
    local = httpx.URL(fake.base_url)

    async def to_fake(request: httpx.Request) -> None:
        if request.url.host == "api.twilio.com":
            request.url = request.url.copy_with(
                scheme=local.scheme, host=local.host, port=local.port
            )

    return httpx.AsyncClient(trust_env=False, event_hooks={"request": [to_fake]})


@pytest.fixture(scope="session")
def _twilio_server() -> Iterator[HTTPServer]:
    server = HTTPServer(host="127.0.0.1", port=0, threaded=True)
    server.start()
    yield server
    server.stop()


@pytest.fixture
def fake_twilio(_twilio_server: HTTPServer) -> Iterator[FakeTwilio]:
    _twilio_server.clear()
    fake = FakeTwilio(base_url=_twilio_server.url_for("").rstrip("/"))
    _twilio_server.expect_request(re.compile(r"^/2010-04-01/.*")).respond_with_handler(fake.handle)
    yield fake
    _twilio_server.clear()


def channel_settings(**env: Any) -> Settings:
    return Settings.model_validate({**TWILIO_ENV, **env})


@dataclass
class Steps:
    """Runs channel step handlers as an activity attempt would, against the fake Twilio."""

    engine: Engine
    seed: Seed
    http: httpx.AsyncClient
    fake: FakeTwilio
    seq: Iterator[int] = field(default_factory=lambda: itertools.count(1))

    def context(
        self,
        node_type: str,
        config: dict[str, Any],
        *,
        seq: int | None = None,
        **env: Any,
    ) -> StepContext:
        data: ActionInput = self.seed.action(
            node_type, config, seq=seq if seq is not None else next(self.seq)
        )
        return StepContext(
            data=data,
            engine=self.engine,
            settings=channel_settings(**env),
            http=self.http,
            log=structlog.get_logger("tests.channels"),
        )

    def again(self, ctx: StepContext) -> StepContext:
        """The same step's next attempt (a fresh context, the same idempotency key)."""
        return dataclasses.replace(ctx, deferred=[])


@pytest.fixture
async def steps(engine: Engine, fake_twilio: FakeTwilio) -> AsyncIterator[Steps]:
    seed = seed_tenant(engine, contact={"name": "Asha", "phone": "+919800000001"})
    async with routed_to(fake_twilio) as http:
        yield Steps(engine=engine, seed=seed, http=http, fake=fake_twilio)


@pytest.fixture
async def runner(engine: Engine) -> AsyncIterator[Runner]:
    async with httpx.AsyncClient(trust_env=False) as client:
        yield Runner(engine, client)


@pytest.fixture
def seed(engine: Engine) -> Seed:
    return seed_tenant(engine, contact={"name": "Asha", "phone": "+919800000001"})


@pytest.fixture
def settings(task_queue: str, temporal_env: WorkflowEnvironment) -> Settings:
    """The API's and worker's settings: sandbox channels, Twilio's token for the webhooks."""
    return Settings(
        FLOWDECK_ENV="test",
        TEMPORAL_ADDRESS=temporal_env.client.service_client.config.target_host,
        FLOWDECK_TASK_QUEUE=task_queue,
        TWILIO_ACCOUNT_SID=ACCOUNT_SID,
        TWILIO_AUTH_TOKEN=AUTH_TOKEN,
        PUBLIC_BASE_URL=PUBLIC_URL,
    )


def unique_phone() -> str:
    return "+1555" + str(uuid.uuid4().int)[:7]
