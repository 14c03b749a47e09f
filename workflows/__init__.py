"""Deterministic workflow code only: the flow interpreter. No I/O here."""

from workflows.interpreter import FlowExecution
from workflows.sandbox import workflow_runner

__all__ = ["FlowExecution", "workflow_runner"]
