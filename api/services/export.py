"""The executions export as CSV."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator

from sqlalchemy.engine import Engine

from store.executions import ExecutionFilter, iter_executions

CSV_COLUMNS = (
    "id",
    "flow_id",
    "version",
    "status",
    "contact_name",
    "contact_phone",
    "test",
    "created_at",
    "started_at",
    "ended_at",
    "reason",
)


def csv_lines(*, engine: Engine, tenant_id: str, filters: ExecutionFilter) -> Iterator[str]:
    """The export, a header then one line per execution, streamed in short transactions."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(CSV_COLUMNS)
    for execution in iter_executions(engine, tenant_id=tenant_id, filters=filters):
        writer.writerow(
            [
                execution.id,
                execution.flow_id,
                execution.version,
                execution.status,
                execution.contact_name or "",
                execution.contact_phone or "",
                "true" if execution.test else "false",
                execution.created_at.isoformat(),
                execution.started_at.isoformat() if execution.started_at else "",
                execution.ended_at.isoformat() if execution.ended_at else "",
                execution.reason or "",
            ]
        )
        yield buffer.getvalue()
        buffer.seek(0)
        buffer.truncate()
    yield buffer.getvalue()
