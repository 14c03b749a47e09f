"""Schemathesis over the whole API, as a client sees it: what `/openapi.json` declares is what
the app answers, and no input a client can send is a 5xx.

The real app under uvicorn (its own event loop and Temporal client, as in production), a real
database (both backends) and the real Temporal dev server, with a tenant's admin key on every
request and Twilio's webhooks signed as Twilio signs them, so both get past their doors. Its
task queue has no worker: an execution schemathesis manages to start waits there, and is
terminated when the run ends.
"""

from __future__ import annotations

import threading
import uuid
import zlib
from collections.abc import AsyncIterator, Iterable, Iterator
from typing import Any
from urllib.parse import parse_qsl, urlsplit

import pytest
import requests
import schemathesis
import sqlalchemy as sa
import uvicorn
from hypothesis import HealthCheck, Phase, given, seed, settings
from pydantic import SecretStr
from schemathesis import GenerationMode
from schemathesis.core.parameters import ParameterLocation
from schemathesis.schemas import APIOperation
from schemathesis.specs.openapi.schemas import OpenApiSchema
from sqlalchemy.engine import Engine
from starlette.datastructures import FormData
from temporalio.client import Client
from temporalio.service import RPCError, RPCStatusCode
from temporalio.testing import WorkflowEnvironment
from twilio.request_validator import RequestValidator

from api.main import create_app
from schemas.settings import Settings
from store.models import Execution
from tests.api.helpers import TenantKeys, insert_execution, set_flow

TWILIO_TOKEN = "schemathesis-token"
CHECKS = [
    schemathesis.checks.not_a_server_error,
    schemathesis.checks.status_code_conformance,
    schemathesis.checks.content_type_conformance,
    schemathesis.checks.response_headers_conformance,
    schemathesis.checks.response_schema_conformance,
]
"""A 5xx, or an answer (status, content type, headers, body) the description does not declare."""


class TwilioSignature(requests.auth.AuthBase):
    """Signs requests to the webhooks as Twilio does: the public URL and the form fields."""

    def __init__(self, public_base_url: str) -> None:
        self.public_base_url = public_base_url.rstrip("/")
        self.validator = RequestValidator(TWILIO_TOKEN)

    def __call__(self, request: requests.PreparedRequest) -> requests.PreparedRequest:
        url = urlsplit(request.url or "")
        if url.path.startswith("/webhooks/twilio/"):
            body = request.body or ""
            text = body.decode("utf-8", "replace") if isinstance(body, bytes) else body
            form = FormData(parse_qsl(text, keep_blank_values=True))
            signed = self.public_base_url + url.path + (f"?{url.query}" if url.query else "")
            request.headers["X-Twilio-Signature"] = self.validator.compute_signature(signed, form)
        return request


@pytest.fixture
def served(settings: Settings, engine: Engine) -> Iterator[str]:
    """The app under uvicorn in a thread of its own; its base URL."""
    app_settings = settings.model_copy(
        update={"twilio_auth_token": SecretStr(TWILIO_TOKEN), "offer_sweep_s": 0.0}
    )
    app = create_app(settings=app_settings, engine=engine)
    server = uvicorn.Server(
        uvicorn.Config(app, host="127.0.0.1", port=0, log_level="warning", lifespan="on")
    )
    thread = threading.Thread(target=server.run, name="schemathesis-api", daemon=True)
    thread.start()
    started = threading.Event()
    while thread.is_alive() and not started.wait(0.05):
        if server.started:
            started.set()
    assert server.started, "uvicorn did not start"
    port = server.servers[0].sockets[0].getsockname()[1]
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join()


@pytest.fixture
async def no_workflow_left(
    engine: Engine, tenant: TenantKeys, temporal_env: WorkflowEnvironment
) -> AsyncIterator[None]:
    """After the run: every workflow its executions started is terminated."""
    yield
    await _terminate_workflows(engine, tenant.id, temporal_env.client)


async def _terminate_workflows(engine: Engine, tenant_id: str, client: Client) -> None:
    with engine.connect() as connection:
        rows = connection.execute(
            sa.select(Execution.workflow_id).where(Execution.tenant_id == tenant_id)  # type: ignore[arg-type]
        ).all()
    for (workflow_id,) in rows:
        try:
            await client.get_workflow_handle(workflow_id).terminate("schemathesis run ended")
        except RPCError as exc:  # never started, or ended already
            if exc.status != RPCStatusCode.NOT_FOUND:
                raise


@pytest.fixture
def api_schema(served: str, settings: Settings, no_workflow_left: None) -> OpenApiSchema:
    # As long as the calls' own timeout below: a busy CI box once took over schemathesis's
    # default 10 s to answer this first request (the same document comes in 0.5 s here).
    return schemathesis.openapi.from_url(f"{served}/openapi.json", timeout=30)


@pytest.fixture
def http(served: str, settings: Settings, tenant: TenantKeys) -> Iterator[requests.Session]:
    with requests.Session() as session:
        session.headers.update(tenant.auth("admin"))
        session.auth = TwilioSignature(settings.public_base_url)
        yield session


EXCLUDED = {
    # Endless by design for a key that may read it: tested in test_events.py.
    ("GET", "/api/events/stream"),
}
EXAMPLES = 10
"""Generated cases per operation and mode, besides schemathesis's coverage cases; valid
input with real path ids gets more (`REAL_ID_EXAMPLES`): it is what reaches the database."""
REAL_ID_EXAMPLES = 25


class Seeds:
    """Real resources of the tenant, made afresh for each operation (one may delete its own),
    so that path ids also reach past the 404 to what the route does with a body."""

    def __init__(self, base_url: str, http: requests.Session, engine: Engine, tenant_id: str):
        self.base_url = base_url
        self.http = http
        self.engine = engine
        self.tenant_id = tenant_id

    def _post(self, path: str, body: dict[str, Any]) -> dict[str, Any]:
        response = self.http.post(self.base_url + path, json=body, timeout=30)
        assert response.status_code in (200, 201), (path, response.text)
        return dict(response.json())

    def _flow(self) -> str:
        flow = self._post(
            "/api/flows", {"name": f"seed {uuid.uuid4().hex}", "definition": set_flow()}
        )
        self._post(f"/api/flows/{flow['id']}/versions/1/publish", {})
        self._post(f"/api/flows/{flow['id']}/versions", {"definition": set_flow(2)})
        return str(flow["id"])

    def _number(self) -> str:
        return "+1555" + str(uuid.uuid4().int)[:7]

    def for_path(self, names: Iterable[str]) -> dict[str, Any]:
        """Ids for the path parameters, each of a resource made now."""
        made: dict[str, Any] = {}
        for name in names:
            match name:
                case "flow_id":
                    made[name] = self._flow()
                case "execution_id":
                    flow_id = made.get("flow_id") or self._flow()
                    made[name] = insert_execution(self.engine, self.tenant_id, flow_id)
                case "contact_id":
                    made[name] = self._post("/api/contacts", {"phone": self._number()})["id"]
                case "template_id":
                    body = {"name": uuid.uuid4().hex, "channel": "sms", "body": "Hi {{ name }}"}
                    made[name] = self._post("/api/templates", body)["id"]
                case "campaign_id":
                    made[name] = self._post("/api/campaigns", {"name": uuid.uuid4().hex})["id"]
                case "phone_number_id":
                    made[name] = self._post("/api/phone-numbers", {"number": self._number()})["id"]
                case "department_id":
                    body = {"name": uuid.uuid4().hex, "queue": "sales"}
                    made[name] = self._post("/api/departments", body)["id"]
                case "agent_id":
                    body = {"name": uuid.uuid4().hex, "phone": self._number()}
                    made[name] = self._post("/api/agents", body)["id"]
                case "connection_id":
                    body = {
                        "name": uuid.uuid4().hex,
                        "integration": "jira",  # no test call: nothing leaves the machine
                        "auth": "bearer",
                        "settings": {"base_url": "https://jira.example.com"},
                        "secret": {"token": "schemathesis-token"},
                    }
                    made[name] = self._post("/api/connections", body)["id"]
                case "key_id":
                    body = {"name": uuid.uuid4().hex, "role": "viewer"}
                    made[name] = self._post("/api/keys", body)["id"]
                case "number" | "a" | "b":
                    made[name] = 1
        return made


def _exercise(
    operation: APIOperation,
    mode: GenerationMode,
    http: requests.Session,
    path_parameters: dict[str, Any] | None = None,
    examples: int = EXAMPLES,
) -> None:
    strategy = operation.as_strategy(generation_mode=mode, path_parameters=path_parameters)

    # A seed of its own per operation and mode, the same every run: a finding reproduces.
    @seed(zlib.crc32(f"{operation.label} {mode.value} {bool(path_parameters)}".encode()))
    @given(case=strategy)
    @settings(
        max_examples=examples,
        deadline=None,
        database=None,
        phases=[Phase.explicit, Phase.generate],
        suppress_health_check=list(HealthCheck),
    )
    def run(case: schemathesis.Case) -> None:
        case.call_and_validate(session=http, checks=CHECKS, timeout=30)

    run()


def _coverage(
    schema: OpenApiSchema,
    operation: APIOperation,
    http: requests.Session,
    real_ids: dict[str, Any],
) -> list[str]:
    """Schemathesis's coverage cases (each boundary and each kind of wrong value, one at a
    time), valid path ids replaced by real ones; the problems of the first few that fail."""
    problems: list[str] = []
    cases = schema.iter_coverage_cases(
        operation,
        generation_modes=list(GenerationMode),
        generation_config=schema.config.generation_for(operation=operation),
    )
    for case in cases:
        path = case.meta.components.get(ParameterLocation.PATH) if case.meta else None
        if real_ids and path is not None and path.mode is GenerationMode.POSITIVE:
            case.path_parameters = {**case.path_parameters, **real_ids}
        try:
            case.call_and_validate(session=http, checks=CHECKS, timeout=30)
        except (Exception, BaseExceptionGroup) as exc:
            problems.append(f"{operation.label} (coverage): {exc}")
            if len(problems) == 3:
                break
    return problems


def _takes_input(operation: APIOperation) -> bool:
    return bool(operation.path_parameters or operation.query or operation.body)


@pytest.mark.timeout(900)
def test_every_route_answers_as_declared(
    api_schema: OpenApiSchema,
    http: requests.Session,
    served: str,
    engine: Engine,
    tenant: TenantKeys,
) -> None:
    seeds = Seeds(served, http, engine, tenant.id)
    failures: list[str] = []
    operations = [result.ok() for result in api_schema.get_all_operations()]
    assert len(operations) > 80
    for operation in operations:
        if (operation.method.upper(), operation.path) in EXCLUDED:
            continue
        names = [p.name for p in operation.path_parameters]
        failures += _coverage(api_schema, operation, http, seeds.for_path(names))
        runs: list[tuple[str, GenerationMode, dict[str, Any] | None, int]] = []
        if names:
            real_ids = seeds.for_path(names)
            runs.append(("positive, real ids", GenerationMode.POSITIVE, real_ids, REAL_ID_EXAMPLES))
        runs.append(
            ("positive", GenerationMode.POSITIVE, None, EXAMPLES if names else REAL_ID_EXAMPLES)
        )
        if _takes_input(operation):
            runs.append(("negative", GenerationMode.NEGATIVE, None, EXAMPLES))
        for label, mode, path_parameters, examples in runs:
            try:
                _exercise(operation, mode, http, path_parameters, examples)
            except (Exception, BaseExceptionGroup) as exc:  # every operation's, not the first
                failures.append(f"{operation.label} ({label}): {exc}")
    assert not failures, f"{len(failures)} failing:\n\n" + "\n\n".join(failures)
