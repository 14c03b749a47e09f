"""The delivery workflow of one outgoing webhook: sends its pending deliveries, in event order
per execution, each retried with backoff for up to a day.

One workflow per webhook (`webhook-<id>`), woken by a signal when the fan-out gives it new
deliveries (signal-with-start), and ending after an idle hour or when the webhook is deleted
or disabled. Deliveries of different executions go side by side ("lanes"); those of one
execution one after the other, so a receiver sees an execution's events in order.
"""

from __future__ import annotations

import asyncio
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
"""Batches before continue-as-new, so the history stays small."""
STORE_TIMEOUT = timedelta(seconds=30)
STORE_RETRY = RetryPolicy(
    initial_interval=timedelta(seconds=1), maximum_interval=timedelta(minutes=1)
)


def _cause(error: ActivityError) -> str:
    cause = error.cause
    return str(cause.message if cause is not None and hasattr(cause, "message") else error)


@workflow.defn(name=WORKFLOW_NAME)
class WebhookDeliveries:
    def __init__(self) -> None:
        self._woken = False
        self._disabled = False

    @workflow.signal
    def wake(self) -> None:
        """New deliveries are waiting."""
        self._woken = True

    @workflow.run
    async def run(self, data: DeliveriesInput) -> None:
        for _ in range(ROUNDS):
            self._woken = False
            batch: PendingBatch = await workflow.execute_activity(
                ACTIVITY_PENDING,
                PendingInput(webhook_id=data.webhook_id),
                result_type=PendingBatch,
                start_to_close_timeout=STORE_TIMEOUT,
                retry_policy=STORE_RETRY,
            )
            if not batch.active:
                return
            if not batch.deliveries:
                try:
                    await workflow.wait_condition(lambda: self._woken, timeout=IDLE)
                except TimeoutError:
                    return  # the next delivery starts the workflow again
                continue
            lanes: dict[str, list[str]] = {}
            for delivery in batch.deliveries:
                lanes.setdefault(delivery.lane, []).append(delivery.id)
            await asyncio.gather(*(self._send_lane(ids, data.plan) for ids in lanes.values()))
            if self._disabled:
                return
        workflow.continue_as_new(data)

    async def _send_lane(self, delivery_ids: list[str], plan: RetryPlan) -> None:
        for delivery_id in delivery_ids:
            if self._disabled:
                return
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
                        delivery_id=delivery_id,
                        error=_cause(error),
                        disable_after=plan.disable_after,
                    ),
                    result_type=GiveUpOutcome,
                    start_to_close_timeout=STORE_TIMEOUT,
                    retry_policy=STORE_RETRY,
                )
                self._disabled = self._disabled or outcome.disabled
