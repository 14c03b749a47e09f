"""Builds the Temporal client and worker: the interpreter workflow and its activities."""

from __future__ import annotations

from pathlib import Path

import httpx
from sqlalchemy.engine import Engine
from temporalio.client import Client, TLSConfig
from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.worker import Worker

from activities.flow_activities import FlowActivities
from schemas.settings import Settings
from workflows import FlowExecution
from workflows.sandbox import workflow_runner


async def connect(settings: Settings, address: str | None = None) -> Client:
    """A client with the pydantic data converter (and TLS when configured)."""
    tls: TLSConfig | bool = False
    if settings.temporal_tls_cert and settings.temporal_tls_key:
        tls = TLSConfig(
            client_cert=Path(settings.temporal_tls_cert).read_bytes(),  # noqa: ASYNC240
            client_private_key=Path(settings.temporal_tls_key).read_bytes(),  # noqa: ASYNC240
        )
    return await Client.connect(
        address or settings.temporal_address or "localhost:7233",
        namespace=settings.temporal_namespace,
        data_converter=pydantic_data_converter,
        tls=tls,
    )


def build_worker(
    client: Client,
    *,
    engine: Engine,
    settings: Settings,
    task_queue: str | None = None,
    http_client: httpx.AsyncClient | None = None,
) -> Worker:
    """The worker for one task queue, with activities bound to this engine and these settings."""
    activities = FlowActivities(engine=engine, settings=settings, http_client=http_client)
    return Worker(
        client,
        task_queue=task_queue or settings.task_queue,
        workflows=[FlowExecution],
        workflow_runner=workflow_runner(),
        activities=activities.all(),
        max_concurrent_activities=200,
        max_concurrent_workflow_tasks=200,
    )
