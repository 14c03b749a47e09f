"""A stopped worker (SIGTERM, as a rolling deploy sends it) lets its running activities
finish (FLOWDECK_WORKER_SHUTDOWN_GRACE_S) instead of cancelling them, so a step under way is
not sent again by the worker that takes over."""

from __future__ import annotations

import asyncio
import signal
import threading
import time

import httpx
from pytest_httpserver import HTTPServer
from sqlalchemy.engine import Engine
from temporalio.testing import WorkflowEnvironment
from werkzeug import Request, Response

from schemas.settings import Settings
from tests.api.helpers import TenantKeys, make_flow, run, wait_for_status
from tests.processes import environment, flowdeck_command
from worker import build_worker

SLOW_S = 2.0


async def test_a_sigtermed_worker_finishes_its_running_step_and_it_is_not_sent_again(
    api: httpx.AsyncClient,
    tenant: TenantKeys,
    engine: Engine,
    database_url: str,
    settings: Settings,
    temporal_env: WorkflowEnvironment,
    httpserver: HTTPServer,
) -> None:
    arrived = threading.Event()
    calls: list[str] = []

    def slow(request: Request) -> Response:
        calls.append(request.headers.get("Idempotency-Key", ""))
        arrived.set()
        time.sleep(SLOW_S)  # the step is under way when the worker is told to stop
        return Response('{"ok": true}', content_type="application/json")

    httpserver.expect_request("/slow").respond_with_handler(slow)
    flow = await make_flow(
        api,
        tenant,
        {
            "start": "post",
            "nodes": [
                {
                    "id": "post",
                    "type": "http",
                    "config": {"method": "POST", "url": httpserver.url_for("/slow")},
                    "transitions": {"success": "done"},
                },
                {"id": "done", "type": "end"},
            ],
        },
    )
    target = temporal_env.client.service_client.config.target_host
    worker = await asyncio.create_subprocess_exec(
        *flowdeck_command(),
        "worker",
        env=environment(
            DATABASE_URL=database_url,
            TEMPORAL_ADDRESS=target,
            FLOWDECK_TASK_QUEUE=settings.task_queue,
            FLOWDECK_HTTP_ALLOWLIST="127.0.0.1,localhost",
            FLOWDECK_ENV="test",
            FLOWDECK_LOG_LEVEL="WARNING",
        ),
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
    )
    try:
        started = await run(api, tenant, flow["id"])
        assert await asyncio.to_thread(arrived.wait, 60), "the step's request never came"
        worker.send_signal(signal.SIGTERM)
        output, _ = await asyncio.wait_for(worker.communicate(), 60)
    finally:
        if worker.returncode is None:
            worker.kill()
    assert worker.returncode == 0, output.decode(errors="replace")

    # Another worker takes the run over: the step's result had reached Temporal, so the
    # run goes on from it, and the slow request was sent once.
    loopback = settings.model_copy(update={"http_allowlist": "127.0.0.1,localhost"})
    async with build_worker(temporal_env.client, engine=engine, settings=loopback):
        done = await wait_for_status(api, tenant, started["id"], "completed", within_s=60)
    [step] = [s for s in done["steps"] if s["node_id"] == "post"]
    assert (step["status"], step["attempt"]) == ("success", 1)
    assert calls == [f"{started['id']}:post:1"]
