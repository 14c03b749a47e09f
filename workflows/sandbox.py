"""The sandbox the interpreter runs in: our schemas and Jinja2 pass through it.

Jinja2 imports parts of itself lazily while compiling a template; passed through, those
imports reach the real module instead of tripping the sandbox's late-import check.
"""

from __future__ import annotations

import compileall
from pathlib import Path

from temporalio.worker import UnsandboxedWorkflowRunner, WorkflowRunner
from temporalio.worker.workflow_sandbox import SandboxedWorkflowRunner, SandboxRestrictions

PASSTHROUGH = (
    "schemas",
    "workflows.routing",
    "workflows.state",
    "workflows.contact_rules",
    "workflows.voice",
    "jinja2",
    "markupsafe",
    "pydantic",
    "pydantic_core",
)


def precompile() -> None:
    """Write this package's bytecode once, even under PYTHONDONTWRITEBYTECODE.

    The sandbox imports the workflow module afresh for every execution; without bytecode on
    disk each of those imports compiles the source again, which cost a third of the worker's
    CPU in bench/throughput.py. Nothing happens where the directory is read-only.
    """
    compileall.compile_dir(Path(__file__).parent, quiet=2)


def workflow_runner(*, sandboxed: bool = True) -> WorkflowRunner:
    """Temporal's sandbox with our pass-throughs, or (for speed) no sandbox at all.

    The sandbox re-imports the workflow module for every execution, which cost a third of
    the worker's throughput in bench/throughput.py. The test suite and the replay tests run
    the interpreter sandboxed, so a call the sandbox forbids (a clock, randomness, I/O) in
    the interpreter fails the build; production may then run it unsandboxed.
    """
    if not sandboxed:
        return UnsandboxedWorkflowRunner()
    precompile()
    return SandboxedWorkflowRunner(
        restrictions=SandboxRestrictions.default.with_passthrough_modules(*PASSTHROUGH)
    )
