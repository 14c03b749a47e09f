"""Analytics: the window a request asks for, and the aggregations of `store.analytics`."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from sqlmodel import Session

from store import analytics
from store.analytics import Window
from store.errors import InvalidInputError
from store.flows import get_flow
from store.models import utcnow

DEFAULT_DAYS = 30


def window(
    *,
    tenant_id: str,
    since: datetime | None,
    until: datetime | None,
    include_test: bool,
    flow_id: str | None = None,
    version: int | None = None,
) -> Window:
    """[since, until): the last 30 days by default; times without a zone are UTC."""
    until = _utc(until) or utcnow()
    since = _utc(since) or until - timedelta(days=DEFAULT_DAYS)
    if since >= until:
        raise InvalidInputError(
            "`since` must be before `until`",
            details=[
                {"path": "$.query.since", "code": "invalid_value", "message": "after `until`"}
            ],
        )
    return Window(
        tenant_id=tenant_id,
        since=since,
        until=until,
        include_test=include_test,
        flow_id=flow_id,
        version=version,
    )


def _utc(moment: datetime | None) -> datetime | None:
    if moment is None or moment.tzinfo is not None:
        return moment
    return moment.replace(tzinfo=UTC)


def _frame(scope: Window) -> dict[str, Any]:
    return {
        "since": scope.since.isoformat(),
        "until": scope.until.isoformat(),
        "include_test": scope.include_test,
    }


def overview(session: Session, scope: Window) -> dict[str, Any]:
    return {
        **_frame(scope),
        **analytics.totals(session, scope),
        "per_day": analytics.runs_per_day(session, scope),
        "flows": analytics.per_flow(session, scope),
        "ai_usage": analytics.ai_usage(session, scope, per="flow"),
    }


def flow_report(session: Session, scope: Window) -> dict[str, Any]:
    assert scope.flow_id is not None
    flow = get_flow(session, tenant_id=scope.tenant_id, flow_id=scope.flow_id)
    return {
        **_frame(scope),
        "flow_id": flow.id,
        "name": flow.name,
        "version": scope.version,
        "versions": analytics.runs_per_version(session, scope),
        **analytics.totals(session, scope),
        "per_day": analytics.runs_per_day(session, scope),
        "funnel": analytics.funnel(session, scope),
        "edges": analytics.edges(session, scope),
        "ab_results": analytics.ab_results(session, scope),
        "call_outcomes": analytics.call_outcomes(session, scope),
        "step_times": analytics.step_times(session, scope),
        "ai_usage": analytics.ai_usage(session, scope, per="node"),
    }
