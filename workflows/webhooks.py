"""The delivery workflow of one outgoing webhook: sends its pending deliveries, in event order
per execution, each retried with backoff for up to a day.

One workflow per webhook (`webhook-<id>`), woken by a signal when the fan-out gives it new
deliveries (signal-with-start), and ending after an idle hour or when the webhook is deleted
or disabled. Deliveries of different executions go side by side ("lanes", one task each);
those of one execution one after the other, so a receiver sees an execution's events in
order, and a delivery retried for hours holds back no other execution's.
"""

from __future__ import annotations

import asyncio
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import timedelta

from temporalio import workflow
from temporalio.common import RetryPolicy
from temporalio.exceptions import ActivityError

with workflow.unsafe.imports_passed_through():
    from schemas.webhooks import (
        ACTIVITY_GIVE_UP,
        ACTIVITY_PENDING,
        ACTIVITY_SEND,
        WORKFLOW_NAME,
        DeliveriesInput,
        GiveUpInput,
        GiveUpOutcome,
        PendingBatch,
        PendingInput,
        RetryPlan,
        SendInput,
    )

IDLE = timedelta(hours=1)
ROUNDS = 200
"""Looks at the store before continue-as-new, so the history stays small."""
MAX_QUEUED = 200
"""Deliveries taken from the store and not yet sent, at most."""
STORE_TIMEOUT = timedelta(seconds=30)
STORE_RETRY = RetryPolicy(
    initial_interval=timedelta(seconds=1), maximum_interval=timedelta(minutes=1)
)


def _cause(error: ActivityError) -> str:
    cause = error.cause
    return str(cause.message if cause is not None and hasattr(cause, "message") else error)


@dataclass
class _Lanes:
    """The deliveries taken from the store and not yet sent, in lanes (one per execution)."""

    queues: dict[str, deque[str]] = field(default_factory=dict)
    queued: set[str] = field(default_factory=set)
    tasks: set[asyncio.Task[None]] = field(default_factory=set)

    def full(self) -> bool:
        return len(self.queued) >= MAX_QUEUED


@workflow.defn(name=WORKFLOW_NAME)
class WebhookDeliveries:
    """Takes the webhook's pending deliveries and sends each lane's in order. A lane retrying
    a delivery for hours holds back only its own execution's events, never the others'."""

    def __init__(self) -> None:
        self._woken = False
        self._stopped = False
        self._lanes = _Lanes()

    @workflow.signal
    def wake(self) -> None:
        """New deliveries are waiting."""
        self._woken = True

    @workflow.run
    async def run(self, data: DeliveriesInput) -> None:
        lanes = self._lanes
        for _ in range(ROUNDS):
            self._woken = False
            if not lanes.full():
                await self._take(data)
            if self._stopped:
                break
            if not lanes.queues:
                try:
                    await workflow.wait_condition(lambda: self._woken, timeout=IDLE)
                except TimeoutError:
                    return  # the next delivery starts the workflow again
                continue
            await workflow.wait_condition(self._worth_a_look(was_full=lanes.full()))
        # Finish what was taken, then go on afresh (or stop: deleted or disabled).
        await workflow.wait_condition(lambda: not lanes.queues)
        if not self._stopped:
            workflow.continue_as_new(data)

    def _worth_a_look(self, *, was_full: bool) -> Callable[[], bool]:
        """When to look at the store again: woken, stopped, idle, or room made in full lanes."""
        lanes = self._lanes
        return lambda: (
            self._woken or self._stopped or not lanes.queues or (was_full and not lanes.full())
        )

    async def _take(self, data: DeliveriesInput) -> None:
        lanes = self._lanes
        batch: PendingBatch = await workflow.execute_activity(
            ACTIVITY_PENDING,
            PendingInput(
                webhook_id=data.webhook_id,
                skip=sorted(lanes.queued),
                limit=MAX_QUEUED - len(lanes.queued),
            ),
            result_type=PendingBatch,
            start_to_close_timeout=STORE_TIMEOUT,
            retry_policy=STORE_RETRY,
        )
        if not batch.active:
            self._stopped = True
            return
        for delivery in batch.deliveries:
            if delivery.id in lanes.queued:
                continue
            lanes.queued.add(delivery.id)
            queue = lanes.queues.get(delivery.lane)
            if queue is not None:
                queue.append(delivery.id)  # its lane's task sends it after the others
                continue
            lanes.queues[delivery.lane] = deque([delivery.id])
            task = asyncio.create_task(self._drain(delivery.lane, data.plan))
            lanes.tasks.add(task)
            task.add_done_callback(lanes.tasks.discard)

    async def _drain(self, lane: str, plan: RetryPlan) -> None:
        lanes = self._lanes
        queue = lanes.queues[lane]
        while queue and not self._stopped:
            await self._send(queue[0], plan)
            lanes.queued.discard(queue.popleft())
        for delivery_id in queue:
            lanes.queued.discard(delivery_id)
        del lanes.queues[lane]

    async def _send(self, delivery_id: str, plan: RetryPlan) -> None:
        try:
            await workflow.execute_activity(
                ACTIVITY_SEND,
                SendInput(delivery_id=delivery_id, timeout_s=plan.timeout_s),
                start_to_close_timeout=timedelta(seconds=plan.timeout_s + 10),
                schedule_to_close_timeout=timedelta(seconds=plan.retry_for_s),
                retry_policy=RetryPolicy(
                    initial_interval=timedelta(seconds=plan.initial_s),
                    backoff_coefficient=2.0,
                    maximum_interval=timedelta(seconds=plan.max_interval_s),
                ),
            )
        except ActivityError as error:
            outcome: GiveUpOutcome = await workflow.execute_activity(
                ACTIVITY_GIVE_UP,
                GiveUpInput(
                    delivery_id=delivery_id, error=_cause(error), disable_after=plan.disable_after
                ),
                result_type=GiveUpOutcome,
                start_to_close_timeout=STORE_TIMEOUT,
                retry_policy=STORE_RETRY,
            )
            self._stopped = self._stopped or outcome.disabled
