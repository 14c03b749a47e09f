"""Call recordings: the rows, where their files live, and who may read them.

Files live under the recordings directory as `<tenant>/<campaign or no-campaign>/<sid>.<ext>`;
the row keeps that relative path. A key reads a recording when it is an admin key, when its
`campaign_ids` is null (every campaign), or when the recording's campaign is in that list; a
recording without a campaign is readable by admin keys and keys with null `campaign_ids` only.
Everything else looks as if it did not exist (404), as does another tenant's.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy.engine import Engine
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select
from sqlmodel.sql.expression import SelectOfScalar

from schemas.settings import Settings
from store.db import session_scope
from store.errors import NotFoundError
from store.models import ApiKey, Recording

NO_CAMPAIGN = "no-campaign"
"""The directory of recordings whose execution belongs to no campaign."""
SAFE_SID = re.compile(r"^[A-Za-z0-9_-]{1,64}$")
"""A recording sid is used as a file name: letters, digits, `_` and `-` only."""
MAX_PAGE = 500


def recordings_dir(settings: Settings) -> Path:
    """Where recordings are stored (`FLOWDECK_RECORDINGS_DIR`, default `.data/recordings`)."""
    return Path(settings.recordings_dir)


def relative_path(
    *, tenant_id: str, campaign_id: str | None, recording_sid: str, extension: str
) -> str:
    """The file's path under the recordings directory."""
    if not SAFE_SID.match(recording_sid):
        raise ValueError(f"not a usable recording sid: {recording_sid!r}")
    return f"{tenant_id}/{campaign_id or NO_CAMPAIGN}/{recording_sid}.{extension}"


def file_of(settings: Settings, recording: Recording) -> Path:
    """The recording's file; a stored path that would leave the directory is refused."""
    root = recordings_dir(settings).resolve()
    path = (root / recording.path).resolve()
    if not path.is_relative_to(root):
        raise NotFoundError(f"recording {recording.id} has no audio")
    return path


def find_by_sid(engine: Engine, *, recording_sid: str) -> Recording | None:
    with session_scope(engine) as session:
        return session.exec(
            select(Recording).where(Recording.recording_sid == recording_sid)
        ).first()


def add_recording(engine: Engine, recording: Recording) -> Recording:
    """Insert the row, or return the one already stored under its recording sid (a retried
    step, or two attempts at once): never two rows for one recording."""
    try:
        with session_scope(engine) as session:
            session.add(recording)
        return recording
    except IntegrityError:
        existing = find_by_sid(engine, recording_sid=recording.recording_sid)
        if existing is None:
            raise
        return existing


# --- reading, with the key's campaign permission ----------------------------------------


@dataclass(frozen=True)
class RecordingFilter:
    campaign_id: str | None = None
    execution_id: str | None = None
    flow_id: str | None = None


def campaign_scope(key: ApiKey) -> list[str] | None:
    """The campaigns whose recordings the key reads; None: every recording."""
    if key.role == "admin" or key.campaign_ids is None:
        return None
    return list(key.campaign_ids)


def _readable(key: ApiKey) -> SelectOfScalar[Recording]:
    query = select(Recording).where(Recording.tenant_id == key.tenant_id)
    scope = campaign_scope(key)
    if scope is not None:
        # IN never matches NULL: a recording without a campaign stays hidden here.
        query = query.where(col(Recording.campaign_id).in_(scope))
    return query


def list_recordings(
    session: Session, *, key: ApiKey, filters: RecordingFilter, limit: int = 100
) -> list[Recording]:
    """The recordings the key may read, newest first."""
    query = _readable(key)
    if filters.campaign_id is not None:
        query = query.where(col(Recording.campaign_id) == filters.campaign_id)
    if filters.execution_id is not None:
        query = query.where(col(Recording.execution_id) == filters.execution_id)
    if filters.flow_id is not None:
        query = query.where(col(Recording.flow_id) == filters.flow_id)
    query = query.order_by(col(Recording.created_at).desc(), col(Recording.id).desc())
    return list(session.exec(query.limit(min(limit, MAX_PAGE))).all())


def get_recording(session: Session, *, key: ApiKey, recording_id: str) -> Recording:
    """The recording if the key may read it; 404 otherwise, whether or not it exists."""
    recording = session.exec(_readable(key).where(Recording.id == recording_id)).first()
    if recording is None:
        raise NotFoundError(f"recording {recording_id} not found")
    return recording
