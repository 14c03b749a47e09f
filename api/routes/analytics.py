"""Analytics: runs per day, outcome rates, per-flow totals, funnels, A/B results, step times."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Query

from api.bodies.analytics import FlowReport, Overview
from api.bodies.common import VersionNumber
from api.deps import SessionDep, SettingsDep, ViewerKey
from api.errors import KEYED, NOT_FOUND
from api.services import analytics

router = APIRouter(prefix="/analytics", tags=["analytics"], responses=KEYED)
Since = Annotated[datetime | None, Query(description="created at or after (default: 30 days ago)")]
Until = Annotated[datetime | None, Query(description="created before (default: now)")]
IncludeTest = Annotated[bool, Query(description="count test runs too")]
PinnedVersion = Annotated[
    VersionNumber | None, Query(description="only the runs pinned to this version")
]


@router.get("/overview")
def overview(
    session: SessionDep,
    settings: SettingsDep,
    key: ViewerKey,
    since: Since = None,
    until: Until = None,
    include_test: IncludeTest = False,
) -> Overview:
    """Runs per day, counts and rates of each outcome, totals per flow (UTC days)."""
    scope = analytics.window(
        tenant_id=key.tenant_id, since=since, until=until, include_test=include_test
    )
    figures = analytics.overview(session, scope)
    return Overview.model_validate({**figures, "currency": settings.price_currency})


@router.get("/flows/{flow_id}", responses=NOT_FOUND)
def flow_analytics(
    flow_id: str,
    session: SessionDep,
    settings: SettingsDep,
    key: ViewerKey,
    since: Since = None,
    until: Until = None,
    include_test: IncludeTest = False,
    version: PinnedVersion = None,
) -> FlowReport:
    """One flow (or one of its versions): runs per day, rates, per-node funnel and ports taken,
    A/B results, call outcomes, step times, and the runs per version."""
    scope = analytics.window(
        tenant_id=key.tenant_id,
        since=since,
        until=until,
        include_test=include_test,
        flow_id=flow_id,
        version=version,
    )
    figures = analytics.flow_report(session, scope)
    return FlowReport.model_validate({**figures, "currency": settings.price_currency})
