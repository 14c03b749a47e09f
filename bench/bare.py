"""The baseline: a bare workflow running N no-op activities, on the same server and worker."""

from __future__ import annotations

from datetime import timedelta

from temporalio import activity, workflow


@activity.defn(name="bench_noop")
async def noop(step: int) -> int:
    return step


@workflow.defn(name="BenchBare")
class BareWorkflow:
    @workflow.run
    async def run(self, steps: int) -> int:
        total = 0
        for step in range(steps):
            total += await workflow.execute_activity(
                "bench_noop", step, result_type=int, start_to_close_timeout=timedelta(seconds=30)
            )
        return total


@workflow.defn(name="BenchBareLocal")
class BareLocalWorkflow:
    @workflow.run
    async def run(self, steps: int) -> int:
        total = 0
        for step in range(steps):
            total += await workflow.execute_local_activity(
                "bench_noop", step, result_type=int, start_to_close_timeout=timedelta(seconds=30)
            )
        return total
