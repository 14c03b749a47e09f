"""Call recordings, each readable only with its campaign's permission (see store/recordings).

A recording the key may not read answers 404, exactly like one that does not exist.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query
from fastapi.responses import FileResponse

from api.bodies.recordings import RecordingOut
from api.deps import SessionDep, SettingsDep, ViewerKey
from api.errors import KEYED, NOT_FOUND
from store import recordings
from store.errors import NotFoundError
from store.recordings import MAX_PAGE, RecordingFilter

router = APIRouter(prefix="/recordings", tags=["recordings"], responses=KEYED)
IdQuery = Annotated[str | None, Query(max_length=64)]


@router.get("")
def list_recordings(
    session: SessionDep,
    key: ViewerKey,
    campaign_id: IdQuery = None,
    execution_id: IdQuery = None,
    flow_id: IdQuery = None,
    limit: Annotated[int, Query(ge=1, le=MAX_PAGE)] = 100,
) -> list[RecordingOut]:
    """The recordings this key may read, newest first."""
    filters = RecordingFilter(campaign_id=campaign_id, execution_id=execution_id, flow_id=flow_id)
    rows = recordings.list_recordings(session, key=key, filters=filters, limit=limit)
    return [RecordingOut.of(r) for r in rows]


@router.get("/{recording_id}", responses=NOT_FOUND)
def read_recording(recording_id: str, session: SessionDep, key: ViewerKey) -> RecordingOut:
    return RecordingOut.of(recordings.get_recording(session, key=key, recording_id=recording_id))


@router.get(
    "/{recording_id}/audio",
    response_class=FileResponse,
    responses={
        200: {"content": {"audio/wav": {}, "audio/mpeg": {}}, "description": "the audio"},
        **NOT_FOUND,
    },
)
def read_recording_audio(
    recording_id: str, session: SessionDep, settings: SettingsDep, key: ViewerKey
) -> FileResponse:
    """The audio file, with its content type."""
    recording = recordings.get_recording(session, key=key, recording_id=recording_id)
    path = recordings.file_of(settings, recording)
    if not path.is_file():
        raise NotFoundError(f"the audio of recording {recording_id} is missing from storage")
    return FileResponse(
        path,
        media_type=recording.content_type,
        filename=path.name,
        content_disposition_type="inline",
    )
