"""Deterministic workflow code only: the flow interpreter. No I/O here."""

from workflows.interpreter import FlowExecution

__all__ = ["FlowExecution"]
