"""Bodies of call recordings."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel

from store.models import Recording


class RecordingOut(BaseModel):
    id: str
    campaign_id: str | None
    flow_id: str
    execution_id: str
    call_sid: str
    recording_sid: str
    duration_s: int | None
    content_type: str
    size_bytes: int
    source_url: str
    """Where the audio was downloaded from (Twilio's recording URL)."""
    url: str
    """The audio through this API."""
    created_at: datetime

    @classmethod
    def of(cls, recording: Recording) -> RecordingOut:
        fields = recording.model_dump(exclude={"tenant_id", "path"})
        return cls(**fields, url=f"/api/recordings/{recording.id}/audio")
