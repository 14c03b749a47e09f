"""Audio served like Twilio serves recordings, and rows the tests start from."""

from __future__ import annotations

import io
import uuid
import wave
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
from pytest_httpserver import HTTPServer
from sqlalchemy.engine import Engine
from sqlmodel import select
from werkzeug import Request, Response

from schemas.execution import ActionInput
from store.db import session_scope
from store.executions import create_execution
from store.models import Recording
from tests.api.helpers import TenantKeys

ACCOUNT_SID = "AC" + "7" * 32
AUTH_TOKEN = "recordings-test-token"


def wav_bytes(seconds: float = 0.25) -> bytes:
    """A real (silent) 8 kHz mono WAV file, as Twilio records calls."""
    buffer = io.BytesIO()
    with wave.open(buffer, "wb") as audio:
        audio.setnchannels(1)
        audio.setsampwidth(2)
        audio.setframerate(8000)
        audio.writeframes(b"\x00\x00" * int(8000 * seconds))
    return buffer.getvalue()


def files_under(root: Path, pattern: str = "*") -> list[Path]:
    return [p for p in root.rglob(pattern) if p.is_file()]


def new_recording_sid() -> str:
    return "RE" + uuid.uuid4().hex


def new_call_sid() -> str:
    return "CA" + uuid.uuid4().hex


def media_path(recording_sid: str) -> str:
    """Twilio's recording resource path (its media is this plus `.wav` or `.mp3`)."""
    return f"/2010-04-01/Accounts/{ACCOUNT_SID}/Recordings/{recording_sid}"


@dataclass
class AudioServer:
    """Serves recordings and remembers the requests it got (path, Authorization header)."""

    server: HTTPServer
    requests: list[tuple[str, str | None]] = field(default_factory=list)

    def serve(
        self,
        recording_sid: str,
        body: bytes | None = None,
        *,
        status: int = 200,
        content_type: str = "audio/x-wav",
        extension: str = "wav",
        redirect_to: str | None = None,
    ) -> str:
        """Serve the recording at Twilio's media path; returns its RecordingUrl (no extension)."""
        payload = wav_bytes() if body is None else body

        def handle(request: Request) -> Response:
            self.requests.append((request.path, request.headers.get("Authorization")))
            if redirect_to is not None:
                return Response(status=302, headers={"Location": redirect_to})
            if status != 200:
                return Response("{}", status=status, content_type="application/json")
            return Response(payload, status=200, content_type=content_type)

        path = f"{media_path(recording_sid)}.{extension}"
        self.server.expect_request(path).respond_with_handler(handle)
        return self.server.url_for(media_path(recording_sid))

    def serve_at(self, path: str, body: bytes) -> str:
        """Serve audio at any path (a CDN a redirect leads to); returns its URL."""

        def handle(request: Request) -> Response:
            self.requests.append((request.path, request.headers.get("Authorization")))
            return Response(body, status=200, content_type="audio/x-wav")

        self.server.expect_request(path).respond_with_handler(handle)
        return self.server.url_for(path)


def record_input(
    *,
    tenant_id: str,
    flow_id: str,
    execution_id: str,
    recording_url: str,
    recording_sid: str,
    seq: int = 3,
    test: bool = False,
    duration_s: int | None = 7,
    call_sid: str | None = None,
) -> ActionInput:
    """The `record` action the interpreter performs after a `<Record>` turn."""
    return ActionInput(
        execution_id=execution_id,
        tenant_id=tenant_id,
        flow_id=flow_id,
        seq=seq,
        node_id="voicemail",
        node_type="record",
        config={
            "recording_url": recording_url,
            "recording_sid": recording_sid,
            "duration_s": duration_s,
            "call_sid": call_sid or new_call_sid(),
        },
        test=test,
        started_at=datetime.now(UTC),
    )


def new_execution(engine: Engine, *, tenant_id: str, flow_id: str, campaign_id: str | None) -> str:
    """An execution row (a call's), as the voice webhook would have created it."""
    with session_scope(engine) as session:
        execution = create_execution(
            session,
            tenant_id=tenant_id,
            flow_id=flow_id,
            version=1,
            contact={"phone": "+15550107777"},
            variables={},
            trigger={"type": "call_incoming"},
            campaign_id=campaign_id,
        )
        return execution.id


def recordings_of(engine: Engine, recording_sid: str) -> list[Recording]:
    with session_scope(engine) as session:
        query = select(Recording).where(Recording.recording_sid == recording_sid)
        return list(session.exec(query).all())


async def make_campaign(
    api: httpx.AsyncClient, tenant: TenantKeys, name: str, **fields: Any
) -> dict[str, Any]:
    response = await api.post(
        "/api/campaigns", json={"name": name, **fields}, headers=tenant.auth("manager")
    )
    assert response.status_code == 201, response.text
    return dict(response.json())


async def make_key(
    api: httpx.AsyncClient, tenant: TenantKeys, *, role: str, campaigns: list[str] | None
) -> dict[str, str]:
    """A key of the tenant limited to `campaigns`; returns its Authorization header."""
    body: dict[str, Any] = {"name": f"{role}-scoped", "role": role, "campaigns": campaigns}
    response = await api.post("/api/keys", json=body, headers=tenant.auth("admin"))
    assert response.status_code == 201, response.text
    assert response.json()["campaigns"] == campaigns
    return {"Authorization": f"Bearer {response.json()['secret']}"}
