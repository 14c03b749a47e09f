"""Builds the Temporal worker: the interpreter workflow and its activities, with their clients."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import timedelta

import httpx
from sqlalchemy.engine import Engine
from temporalio.client import Client
from temporalio.worker import Interceptor, Worker

from activities.flow_activities import FlowActivities
from activities.webhooks import WebhookActivities
from schemas.settings import Settings
from workflows import FlowExecution
from workflows.sandbox import workflow_runner
from workflows.scheduled import ScheduledFlowStart
from workflows.webhooks import WebhookDeliveries


def build_worker(
    client: Client,
    *,
    engine: Engine,
    settings: Settings,
    task_queue: str | None = None,
    http_client: httpx.AsyncClient | None = None,
    shutdown_grace_s: float = 0.0,
    interceptors: Sequence[Interceptor] = (),
) -> Worker:
    """The worker for one task queue, with activities bound to this engine and these settings.
    `shutdown_grace_s`: how long a stopping worker lets its running activities finish before
    it cancels them (the CLI passes FLOWDECK_WORKER_SHUTDOWN_GRACE_S). `interceptors`: the
    SDK's worker interceptors (tracing, or a test's fault injection)."""
    activities = FlowActivities(engine=engine, settings=settings, http_client=http_client)
    webhooks = WebhookActivities(engine=engine, settings=settings)
    return Worker(
        client,
        task_queue=task_queue or settings.task_queue,
        workflows=[FlowExecution, ScheduledFlowStart, WebhookDeliveries],
        workflow_runner=workflow_runner(sandboxed=settings.workflow_sandbox),
        activities=[*activities.all(), *webhooks.all()],
        max_concurrent_activities=200,
        max_concurrent_workflow_tasks=200,
        graceful_shutdown_timeout=timedelta(seconds=shutdown_grace_s),
        interceptors=interceptors,
    )
