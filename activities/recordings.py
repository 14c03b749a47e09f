"""Storing a call's recording: the `record` step's action, after Twilio's `<Record>` turn.

The interpreter hands over what Twilio posted (`recording_url`, `recording_sid`, `duration_s`,
`call_sid`). The audio is downloaded (`<RecordingUrl>.wav`, Twilio's form, unless the URL
already names `.wav` or `.mp3`), written atomically under the campaign's directory (a temp
file, fsync, rename), and a `Recording` row is inserted with the execution's campaign and
flow. Idempotent by recording sid: a retried step finds the row and downloads nothing.

Where the audio may come from: with real Twilio calls (voice provider `twilio`, not a test
execution) only `https://api.twilio.com/...`; sandbox calls and test executions take the URL
that served them, whatever it is. Twilio's credentials (HTTP basic auth) go only to
`https://api.twilio.com`, never elsewhere, and are dropped on a redirect to another host.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import tempfile
from pathlib import Path

import httpx
from pydantic import BaseModel, ConfigDict, Field

from activities.step import (
    EXECUTION_NOT_FOUND,
    INVALID_CONFIG,
    StepContext,
    handles,
    parse_config,
    step_error,
)
from schemas.execution import ActionOutput
from schemas.settings import Settings
from store import recordings
from store.db import session_scope
from store.models import Execution, Recording

TWILIO_HOST = "api.twilio.com"
TWILIO_MEDIA = f"https://{TWILIO_HOST}/"
MAX_BYTES = 200 * 1024 * 1024
"""An hour of 8 kHz 16-bit WAV is about 58 MB; anything far beyond is not a call recording."""
CHUNK_BYTES = 64 * 1024
CONTENT_TYPES = {"wav": "audio/wav", "mp3": "audio/mpeg"}
RECORDING_UNAVAILABLE = "RecordingUnavailable"
RECORDING_REFUSED = "RecordingRefused"


class StoreRecordingConfig(BaseModel):
    """What the interpreter passes after a `<Record>` turn; other keys of the step are ignored."""

    model_config = ConfigDict(extra="ignore")

    recording_url: str = Field(min_length=1, max_length=2000)
    recording_sid: str = Field(pattern=recordings.SAFE_SID.pattern)
    duration_s: int | None = Field(default=None, ge=0)
    call_sid: str = Field(min_length=1, max_length=64)


def media_url(recording_url: str) -> tuple[str, str]:
    """The URL to download and the file extension it yields."""
    path = httpx.URL(recording_url).path.lower()
    for extension in CONTENT_TYPES:
        if path.endswith(f".{extension}"):
            return recording_url, extension
    return f"{recording_url}.wav", "wav"


def _is_twilio(url: str) -> bool:
    parsed = httpx.URL(url)
    return (parsed.scheme, parsed.host, parsed.port, parsed.userinfo) == (
        "https",
        TWILIO_HOST,
        None,
        b"",
    )


def _check_source(ctx: StepContext, url: str) -> None:
    if not url.startswith(("https://", "http://")):
        raise step_error(
            f"recording_url is not an http(s) URL: {url!r}", type=INVALID_CONFIG, retryable=False
        )
    real_call = ctx.settings.provider_voice == "twilio" and not ctx.data.test
    if real_call and not _is_twilio(url):
        raise step_error(
            f"a recording is downloaded only from {TWILIO_MEDIA}, not {url!r}",
            type=RECORDING_REFUSED,
            retryable=False,
        )


def _auth(settings: Settings, url: str) -> httpx.BasicAuth | None:
    if not _is_twilio(url) or not settings.twilio_account_sid or not settings.twilio_auth_token:
        return None
    return httpx.BasicAuth(
        settings.twilio_account_sid, settings.twilio_auth_token.get_secret_value()
    )


def _execution(ctx: StepContext) -> Execution:
    with session_scope(ctx.engine) as session:
        execution = session.get(Execution, ctx.data.execution_id)
    if execution is None or execution.tenant_id != ctx.data.tenant_id:
        raise step_error(
            f"execution {ctx.data.execution_id} not found",
            type=EXECUTION_NOT_FOUND,
            retryable=False,
        )
    return execution


def _failed_download(status: int, url: str) -> Exception:
    # Twilio may answer 404 for a moment right after the call: worth retrying. Refused
    # credentials and other 4xx will not change.
    retryable = status == 404 or status in (408, 429) or status >= 500
    return step_error(
        f"downloading the recording from {url} answered {status}",
        type=RECORDING_UNAVAILABLE if retryable else RECORDING_REFUSED,
        retryable=retryable,
        details={"status": status},
    )


async def _stream_into(ctx: StepContext, url: str, handle: int) -> tuple[int, str | None]:
    size = 0
    try:
        async with ctx.http.stream(
            "GET", url, auth=_auth(ctx.settings, url), follow_redirects=True
        ) as response:
            if response.status_code != 200:
                raise _failed_download(response.status_code, url)
            async for chunk in response.aiter_bytes(CHUNK_BYTES):
                size += len(chunk)
                if size > MAX_BYTES:
                    raise step_error(
                        f"the recording is larger than {MAX_BYTES // (1024 * 1024)} MB",
                        type=RECORDING_REFUSED,
                        retryable=False,
                    )
                os.write(handle, chunk)
            return size, response.headers.get("content-type")
    except httpx.HTTPError as exc:
        raise step_error(
            f"downloading the recording from {url} failed: {exc}",
            type=RECORDING_UNAVAILABLE,
            retryable=True,
        ) from exc


async def _download(ctx: StepContext, url: str, target: Path) -> tuple[int, str | None]:
    """Stream the audio into `target` atomically (temp file, fsync, rename): a reader never
    sees half a file. Returns its size and content type."""
    target.parent.mkdir(parents=True, exist_ok=True)
    handle, name = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.", suffix=".part")
    temporary = Path(name)
    try:
        try:
            size, content_type = await _stream_into(ctx, url, handle)
            await asyncio.to_thread(os.fsync, handle)
        finally:
            os.close(handle)
        os.replace(temporary, target)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(temporary)
        raise
    return size, content_type


def _content_type(header: str | None, extension: str) -> str:
    media_type = (header or "").split(";")[0].strip().lower()
    return media_type if media_type.startswith("audio/") else CONTENT_TYPES[extension]


def _output(recording: Recording) -> ActionOutput:
    return ActionOutput(
        port="recorded",
        result={
            "recording_id": recording.id,
            "duration_s": recording.duration_s,
            "url": f"/api/recordings/{recording.id}/audio",
        },
    )


@handles("record")
async def store_recording(ctx: StepContext) -> ActionOutput:
    """Download the call's recording into its campaign's directory and record it."""
    config = parse_config(StoreRecordingConfig, ctx)
    try:
        url, extension = media_url(config.recording_url)
        _check_source(ctx, url)
    except httpx.InvalidURL as exc:
        raise step_error(
            f"recording_url is not a URL: {exc}", type=INVALID_CONFIG, retryable=False
        ) from None
    root = recordings.recordings_dir(ctx.settings)
    existing = await asyncio.to_thread(
        recordings.find_by_sid, ctx.engine, recording_sid=config.recording_sid
    )
    if existing is not None:
        if existing.tenant_id != ctx.data.tenant_id or existing.execution_id != (
            ctx.data.execution_id
        ):
            raise step_error(
                f"recording {config.recording_sid} belongs to another execution",
                type=RECORDING_REFUSED,
                retryable=False,
            )
        if (root / existing.path).is_file():
            ctx.log.info("recording.already_stored", recording_id=existing.id)
            return _output(existing)
        # The row outlived its file: fetch the audio again, keep the row.
        await _download(ctx, url, root / existing.path)
        return _output(existing)

    execution = await asyncio.to_thread(_execution, ctx)
    path = recordings.relative_path(
        tenant_id=execution.tenant_id,
        campaign_id=execution.campaign_id,
        recording_sid=config.recording_sid,
        extension=extension,
    )
    size, header = await _download(ctx, url, root / path)
    row = Recording(
        tenant_id=execution.tenant_id,
        campaign_id=execution.campaign_id,
        flow_id=execution.flow_id,
        execution_id=execution.id,
        call_sid=config.call_sid,
        recording_sid=config.recording_sid,
        duration_s=config.duration_s,
        content_type=_content_type(header, extension),
        size_bytes=size,
        path=path,
        source_url=config.recording_url,
    )
    stored = await asyncio.to_thread(recordings.add_recording, ctx.engine, row)
    ctx.log.info(
        "recording.stored",
        recording_id=stored.id,
        campaign_id=stored.campaign_id,
        size_bytes=stored.size_bytes,
    )
    return _output(stored)
