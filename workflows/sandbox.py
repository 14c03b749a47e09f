"""The sandbox the interpreter runs in: our schemas and Jinja2 pass through it.

Jinja2 imports parts of itself lazily while compiling a template; passed through, those
imports reach the real module instead of tripping the sandbox's late-import check.
"""

from __future__ import annotations

from temporalio.worker.workflow_sandbox import SandboxedWorkflowRunner, SandboxRestrictions

PASSTHROUGH = ("schemas", "jinja2", "markupsafe", "pydantic", "pydantic_core")


def workflow_runner() -> SandboxedWorkflowRunner:
    return SandboxedWorkflowRunner(
        restrictions=SandboxRestrictions.default.with_passthrough_modules(*PASSTHROUGH)
    )
