"""Fixtures for running the activities for real: seeded rows, local HTTP and SMTP servers."""

from __future__ import annotations

import dataclasses
import socket
import uuid
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import httpx
import pytest
from aiosmtpd.controller import Controller
from pytest_httpserver import HTTPServer
from sqlalchemy.engine import Engine
from sqlmodel import select
from temporalio.testing import ActivityEnvironment

from activities import FlowActivities
from schemas.execution import ActionInput, StepRecord
from schemas.settings import Settings
from store.db import session_scope
from store.models import Event, Execution, ExecutionStep, Flow, FlowVersion, OutboxMessage, Tenant

DEFINITION: dict[str, Any] = {
    "start": "hello",
    "nodes": [
        {
            "id": "hello",
            "type": "tag",
            "config": {"add": ["child"]},
            "transitions": {"next": "done"},
        },
        {"id": "done", "type": "end"},
    ],
}


def make_settings(**env: Any) -> Settings:
    """Settings as the worker would read them from these environment variables."""
    return Settings.model_validate(env)


@dataclass
class Seed:
    """A tenant with one published flow and one running execution of it."""

    engine: Engine
    tenant_id: str
    flow_id: str
    execution_id: str
    contact: dict[str, Any] = field(default_factory=dict)

    def action(
        self,
        node_type: str,
        config: dict[str, Any],
        *,
        seq: int = 1,
        node_id: str | None = None,
        records: list[StepRecord] | None = None,
    ) -> ActionInput:
        return ActionInput(
            execution_id=self.execution_id,
            tenant_id=self.tenant_id,
            flow_id=self.flow_id,
            seq=seq,
            node_id=node_id or f"{node_type}_{seq}",
            node_type=node_type,
            config=config,
            contact=self.contact,
            started_at=datetime.now(UTC),
            records=records or [],
        )

    def step(self, seq: int = 1) -> ExecutionStep | None:
        with session_scope(self.engine) as session:
            return session.exec(
                select(ExecutionStep).where(
                    ExecutionStep.execution_id == self.execution_id, ExecutionStep.seq == seq
                )
            ).first()

    def execution(self) -> Execution:
        with session_scope(self.engine) as session:
            execution = session.get(Execution, self.execution_id)
            assert execution is not None
            return execution

    def event_types(self) -> list[str]:
        with session_scope(self.engine) as session:
            events = session.exec(
                select(Event).where(Event.execution_id == self.execution_id).order_by(Event.id)  # type: ignore[arg-type]
            ).all()
            return [e.type for e in events]

    def outbox(self) -> list[OutboxMessage]:
        with session_scope(self.engine) as session:
            return list(
                session.exec(
                    select(OutboxMessage).where(OutboxMessage.execution_id == self.execution_id)
                ).all()
            )


def seed_tenant(engine: Engine, *, contact: dict[str, Any] | None = None, **flow: Any) -> Seed:
    contact = contact if contact is not None else {"name": "Asha", "email": "asha@example.com"}
    with session_scope(engine) as session:
        tenant = Tenant(name=f"tenant-{uuid.uuid4().hex[:6]}")
        session.add(tenant)
        session.flush()
        row = Flow(tenant_id=tenant.id, name="Main", published_version=1, **flow)
        session.add(row)
        session.flush()
        session.add(
            FlowVersion(
                flow_id=row.id,
                tenant_id=tenant.id,
                number=1,
                status="published",
                definition=DEFINITION,
            )
        )
        execution = Execution(
            tenant_id=tenant.id,
            flow_id=row.id,
            version=1,
            workflow_id="exec-test",
            contact=contact,
        )
        session.add(execution)
        session.flush()
        return Seed(
            engine=engine,
            tenant_id=tenant.id,
            flow_id=row.id,
            execution_id=execution.id,
            contact=contact,
        )


@pytest.fixture
def seed(engine: Engine) -> Seed:
    return seed_tenant(engine)


class Runner:
    """Runs activities the way a worker would, with a real activity context."""

    def __init__(self, engine: Engine, http_client: httpx.AsyncClient) -> None:
        self.engine = engine
        self.http_client = http_client

    def activities(self, **env: Any) -> FlowActivities:
        return FlowActivities(
            engine=self.engine, settings=make_settings(**env), http_client=self.http_client
        )

    async def perform(self, data: ActionInput, *, attempt: int = 1, **env: Any) -> Any:
        environment = ActivityEnvironment()
        environment.info = dataclasses.replace(environment.info, attempt=attempt)
        return await environment.run(self.activities(**env).perform_action, data)


@pytest.fixture
async def runner(engine: Engine) -> AsyncIterator[Runner]:
    async with httpx.AsyncClient(trust_env=False) as client:
        yield Runner(engine, client)


@pytest.fixture(scope="session")
def _shared_http_server() -> Iterator[HTTPServer]:
    # One server for the session: stopping one takes half a second.
    server = HTTPServer(host="127.0.0.1", port=0, threaded=True)
    server.start()
    yield server
    server.stop()


@pytest.fixture
def http_server(_shared_http_server: HTTPServer) -> Iterator[HTTPServer]:
    """A real HTTP server on 127.0.0.1 (threaded, so a slow handler blocks nothing else)."""
    _shared_http_server.clear()
    yield _shared_http_server
    _shared_http_server.clear()


class CollectingHandler:
    """An SMTP handler that keeps what it receives, refusing what tests ask it to."""

    def __init__(self) -> None:
        self.messages: list[Any] = []
        self.refuse_rcpt: dict[str, str] = {}
        self.data_reply: str | None = None

    async def handle_RCPT(
        self, server: Any, session: Any, envelope: Any, address: str, rcpt_options: list[str]
    ) -> str:
        if address in self.refuse_rcpt:
            return self.refuse_rcpt[address]
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        if self.data_reply is not None:
            return self.data_reply
        self.messages.append(envelope)
        return "250 Message accepted for delivery"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class SmtpServer:
    handler: CollectingHandler
    port: int

    def settings_env(self) -> dict[str, Any]:
        return {
            "FLOWDECK_PROVIDER_EMAIL": "smtp",
            "SMTP_HOST": "127.0.0.1",
            "SMTP_PORT": self.port,
            "FLOWDECK_EMAIL_FROM": "Acme Sales <sales@acme.test>",
        }


@pytest.fixture
def smtp_server() -> Iterator[SmtpServer]:
    """A real SMTP server (aiosmtpd) on 127.0.0.1."""
    handler = CollectingHandler()
    controller = Controller(handler, hostname="127.0.0.1", port=free_port())
    controller.start()
    yield SmtpServer(handler=handler, port=controller.port)
    controller.stop()
