"""The `tag` step: add and remove tags on the execution's contact.

Tags compare case-insensitively (`dnc` and `DNC` are one tag) and keep the case they were
first given. Until the contacts table exists they live in the execution's `contact.tags`.
"""

from __future__ import annotations

import asyncio

from sqlalchemy.engine import Engine
from sqlmodel import select

from activities.step import EXECUTION_NOT_FOUND, StepContext, handles, parse_config, step_error
from schemas.execution import ActionOutput
from schemas.flow import TagConfig
from store.db import session_scope
from store.models import Execution


def apply_tags(current: list[str], *, add: list[str], remove: list[str]) -> list[str]:
    """Removals first, then additions, so a tag both removed and added ends up present."""
    removed = {tag.strip().casefold() for tag in remove}
    kept = [tag for tag in current if tag.strip().casefold() not in removed]
    tags: list[str] = []
    seen: set[str] = set()
    for tag in (t.strip() for t in (*kept, *add)):
        if tag and tag.casefold() not in seen:
            seen.add(tag.casefold())
            tags.append(tag)
    return tags


def _current_tags(contact: dict[str, object]) -> list[str]:
    tags = contact.get("tags")
    if isinstance(tags, str):  # "vip, DNC" from a CSV import or a form
        return [t for t in tags.split(",") if t.strip()]
    if isinstance(tags, list):
        return [str(t) for t in tags]
    return []


def _update_tags(
    engine: Engine, *, execution_id: str, tenant_id: str, config: TagConfig
) -> list[str]:
    with session_scope(engine) as session:
        # FOR UPDATE on PostgreSQL: parallel branches tagging the same contact do not lose writes.
        execution = session.exec(
            select(Execution).where(Execution.id == execution_id).with_for_update()
        ).first()
        if execution is None or execution.tenant_id != tenant_id:
            raise step_error(
                f"execution {execution_id} not found", type=EXECUTION_NOT_FOUND, retryable=False
            )
        contact = dict(execution.contact or {})
        tags = apply_tags(_current_tags(contact), add=config.add, remove=config.remove)
        contact["tags"] = tags
        # A new dict, so SQLAlchemy sees the JSON column change.
        execution.contact = contact
        session.add(execution)
        return tags


@handles("tag")
async def perform_tag(ctx: StepContext) -> ActionOutput:
    config = parse_config(TagConfig, ctx)
    tags = await asyncio.to_thread(
        _update_tags,
        ctx.engine,
        execution_id=ctx.data.execution_id,
        tenant_id=ctx.data.tenant_id,
        config=config,
    )
    ctx.log.info("contact.tagged", added=len(config.add), removed=len(config.remove))
    return ActionOutput(port="next", result={"tags": tags})
