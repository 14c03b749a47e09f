"""Aggregations over executions and their steps, in SQL, the same on SQLite and PostgreSQL.

Days are UTC days: times are stored as naive UTC and `date()` exists on both backends (a
string on SQLite, a date on PostgreSQL; both come back as `YYYY-MM-DD`). Test runs are left
out unless asked for. JSON step results are read with SQLAlchemy's JSON index operator,
which both dialects compile (`json_extract` / `->>`).
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.sql.elements import ColumnElement
from sqlmodel import Session, col, func, select

from store.models import Execution, ExecutionStep, Flow

OUTCOMES = ("completed", "failed", "skipped", "cancelled")


@dataclass(frozen=True, kw_only=True)
class Window:
    """Which executions count: the tenant's, created in [since, until), test runs or not; one
    flow's, and of those the runs pinned to one version, when given."""

    tenant_id: str
    since: datetime
    until: datetime
    include_test: bool = False
    flow_id: str | None = None
    version: int | None = None

    def clauses(self) -> list[ColumnElement[bool]]:
        clauses: list[ColumnElement[bool]] = [
            col(Execution.tenant_id) == self.tenant_id,
            col(Execution.created_at) >= self.since,
            col(Execution.created_at) < self.until,
        ]
        if not self.include_test:
            clauses.append(col(Execution.test).is_(False))
        if self.flow_id is not None:
            clauses.append(col(Execution.flow_id) == self.flow_id)
        if self.version is not None:
            clauses.append(col(Execution.version) == self.version)
        return clauses


def _day(value: Any) -> str:
    return value if isinstance(value, str) else value.isoformat()


def _rate(part: int, whole: int) -> float:
    return round(part / whole, 4) if whole else 0.0


def status_totals(counts: dict[str, int]) -> dict[str, Any]:
    """Runs, counts per status and the rates of the terminal outcomes."""
    runs = sum(counts.values())
    return {
        "runs": runs,
        "by_status": dict(sorted(counts.items())),
        "rates": {name: _rate(counts.get(name, 0), runs) for name in OUTCOMES},
    }


def runs_per_day(session: Session, window: Window) -> list[dict[str, Any]]:
    day = func.date(col(Execution.created_at))
    query = (
        select(day, col(Execution.status), func.count())
        .where(*window.clauses())
        .group_by(day, col(Execution.status))
    )
    days: dict[str, dict[str, int]] = defaultdict(dict)
    for bucket, status, count in session.exec(query).all():
        days[_day(bucket)][status] = int(count)
    return [{"day": d, **status_totals(days[d])} for d in sorted(days)]


def totals(session: Session, window: Window) -> dict[str, Any]:
    query = (
        select(col(Execution.status), func.count())
        .where(*window.clauses())
        .group_by(col(Execution.status))
    )
    return status_totals({status: int(count) for status, count in session.exec(query).all()})


def per_flow(session: Session, window: Window) -> list[dict[str, Any]]:
    query = (
        select(col(Execution.flow_id), col(Flow.name), col(Execution.status), func.count())
        .join(Flow, col(Flow.id) == col(Execution.flow_id))
        .where(*window.clauses())
        .group_by(col(Execution.flow_id), col(Flow.name), col(Execution.status))
    )
    flows: dict[str, dict[str, Any]] = {}
    for flow_id, name, status, count in session.exec(query).all():
        entry = flows.setdefault(flow_id, {"flow_id": flow_id, "name": name, "counts": {}})
        entry["counts"][status] = int(count)
    return sorted(
        (
            {"flow_id": e["flow_id"], "name": e["name"], **status_totals(e["counts"])}
            for e in flows.values()
        ),
        key=lambda e: (-e["runs"], e["name"]),
    )


def runs_per_version(session: Session, window: Window) -> list[dict[str, Any]]:
    """How many of the window's runs each version was pinned to (whatever `window.version`)."""
    every_version = replace(window, version=None)
    query = (
        select(col(Execution.version), func.count())
        .where(*every_version.clauses())
        .group_by(col(Execution.version))
        .order_by(col(Execution.version).desc())
    )
    return [{"version": int(v), "runs": int(c)} for v, c in session.exec(query).all()]


def _steps(window: Window) -> Any:
    """Steps joined to the executions of the window."""
    return sa.and_(col(ExecutionStep.execution_id) == col(Execution.id), *window.clauses())


def funnel(session: Session, window: Window) -> list[dict[str, Any]]:
    """How many executions reached each node (at least once)."""
    reached = func.count(sa.distinct(col(ExecutionStep.execution_id)))
    query = (
        select(col(ExecutionStep.node_id), reached)
        .where(_steps(window))
        .group_by(col(ExecutionStep.node_id))
        .order_by(reached.desc(), col(ExecutionStep.node_id))
    )
    return [{"node_id": n, "executions": int(c)} for n, c in session.exec(query).all()]


def edges(session: Session, window: Window) -> list[dict[str, Any]]:
    """How many executions left each node by each port (at least once): counts on the edges."""
    left = func.count(sa.distinct(col(ExecutionStep.execution_id)))
    query = (
        select(col(ExecutionStep.node_id), col(ExecutionStep.port), left)
        .where(_steps(window), col(ExecutionStep.port).is_not(None))
        .group_by(col(ExecutionStep.node_id), col(ExecutionStep.port))
        .order_by(col(ExecutionStep.node_id), col(ExecutionStep.port))
    )
    return [
        {"node_id": n, "port": p, "executions": int(c)} for n, p, c in session.exec(query).all()
    ]


def step_times(session: Session, window: Window) -> list[dict[str, Any]]:
    """Mean and count of finished steps' durations per node."""
    query = (
        select(
            col(ExecutionStep.node_id),
            func.count(col(ExecutionStep.duration_ms)),
            func.avg(col(ExecutionStep.duration_ms)),
        )
        .where(_steps(window), col(ExecutionStep.duration_ms).is_not(None))
        .group_by(col(ExecutionStep.node_id))
        .order_by(col(ExecutionStep.node_id))
    )
    return [
        {"node_id": n, "steps": int(c), "mean_ms": round(float(avg), 1)}
        for n, c, avg in session.exec(query).all()
    ]


def call_outcomes(session: Session, window: Window) -> list[dict[str, Any]]:
    """Finished `ai_call` steps per node and port (answered, missed, busy …)."""
    query = (
        select(col(ExecutionStep.node_id), col(ExecutionStep.port), func.count())
        .where(
            _steps(window),
            col(ExecutionStep.node_type) == "ai_call",
            col(ExecutionStep.port).is_not(None),
        )
        .group_by(col(ExecutionStep.node_id), col(ExecutionStep.port))
    )
    nodes: dict[str, dict[str, int]] = defaultdict(dict)
    for node_id, port, count in session.exec(query).all():
        nodes[node_id][str(port)] = int(count)
    return [{"node_id": n, "ports": dict(sorted(nodes[n].items()))} for n in sorted(nodes)]


def ab_results(session: Session, window: Window) -> list[dict[str, Any]]:
    """Per `ab_split` node and variant: executions that took it, and how many completed."""
    variant = col(ExecutionStep.result)["variant"].as_string()
    executions = func.count(sa.distinct(col(ExecutionStep.execution_id)))
    completed = func.count(
        sa.distinct(
            sa.case(
                (col(Execution.status) == "completed", col(ExecutionStep.execution_id)),
                else_=None,
            )
        )
    )
    query = (
        select(col(ExecutionStep.node_id), variant, executions, completed)
        .where(_steps(window), col(ExecutionStep.node_type) == "ab_split", variant.is_not(None))
        .group_by(col(ExecutionStep.node_id), variant)
    )
    nodes: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for node_id, name, runs, done in session.exec(query).all():
        nodes[node_id].append(
            {
                "variant": name,
                "executions": int(runs),
                "completed": int(done),
                "completion_rate": _rate(int(done), int(runs)),
            }
        )
    return [
        {"node_id": n, "variants": sorted(nodes[n], key=lambda v: str(v["variant"]))}
        for n in sorted(nodes)
    ]


AI_STEP_TYPES = ("ai_generate", "ai_classify")


def ai_usage(session: Session, window: Window, *, per: str = "node") -> list[dict[str, Any]]:
    """Tokens and cost of the AI steps that succeeded, per node (`per="node"`) or per flow
    (`per="flow"`). A cost is the sum of the steps whose connection has prices; `priced_steps`
    says how many those were."""
    result = col(ExecutionStep.result)
    prompt, completion, total = (
        func.coalesce(func.sum(result[("usage", key)].as_integer()), 0)
        for key in ("prompt_tokens", "completion_tokens", "total_tokens")
    )
    cost = result["cost"].as_float()
    key = col(ExecutionStep.node_id) if per == "node" else col(Execution.flow_id)
    # More columns than sqlmodel's `select` types: SQLAlchemy's own.
    query = (
        sa.select(
            key,
            func.count(),
            prompt,
            completion,
            total,
            func.count(cost),
            func.coalesce(func.sum(cost), 0.0),
        )
        .where(
            _steps(window),
            col(ExecutionStep.node_type).in_(AI_STEP_TYPES),
            col(ExecutionStep.status) == "success",
        )
        .group_by(key)
        .order_by(key)
    )
    rows = session.execute(query).all()
    return [
        {
            f"{per}_id": row[0],
            "steps": int(row[1]),
            "prompt_tokens": int(row[2]),
            "completion_tokens": int(row[3]),
            "total_tokens": int(row[4]),
            "priced_steps": int(row[5]),
            "cost": round(float(row[6]), 8),
        }
        for row in rows
    ]
