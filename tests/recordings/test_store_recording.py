"""The `record` step's action: the audio downloaded over real HTTP, stored under its
campaign's directory, one row per recording however often the step is retried."""

from __future__ import annotations

import asyncio
import base64
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import structlog
from sqlalchemy.engine import Engine
from sqlmodel import select
from temporalio.exceptions import ApplicationError

from activities.recordings import store_recording
from activities.step import StepContext
from schemas.execution import ActionInput
from schemas.settings import Settings
from store.db import session_scope
from store.models import Campaign, Execution, ExecutionStep
from tests.activities.conftest import Runner, seed_tenant
from tests.recordings.helpers import (
    ACCOUNT_SID,
    AUTH_TOKEN,
    AudioServer,
    files_under,
    media_path,
    new_recording_sid,
    record_input,
    recordings_of,
    wav_bytes,
)

TWILIO_ENV: dict[str, Any] = {
    "FLOWDECK_PROVIDER_VOICE": "twilio",
    "TWILIO_ACCOUNT_SID": ACCOUNT_SID,
    "TWILIO_AUTH_TOKEN": AUTH_TOKEN,
}


@dataclass
class Call:
    tenant_id: str
    flow_id: str
    execution_id: str
    campaign_id: str | None

    def record(
        self, recording_url: str, recording_sid: str, *, test: bool = False, duration_s: int = 7
    ) -> ActionInput:
        return record_input(
            tenant_id=self.tenant_id,
            flow_id=self.flow_id,
            execution_id=self.execution_id,
            recording_url=recording_url,
            recording_sid=recording_sid,
            test=test,
            duration_s=duration_s,
        )


def call_in_campaign(engine: Engine, *, campaign: bool = True) -> Call:
    """A running execution (a live call), in a campaign of its tenant or in none."""
    seed = seed_tenant(engine)
    campaign_id = None
    with session_scope(engine) as session:
        if campaign:
            row = Campaign(tenant_id=seed.tenant_id, name="Spring launch")
            session.add(row)
            session.flush()
            campaign_id = row.id
        execution = session.get(Execution, seed.execution_id)
        assert execution is not None
        execution.campaign_id = campaign_id
    return Call(seed.tenant_id, seed.flow_id, seed.execution_id, campaign_id)


def stray_files(root: Path) -> list[Path]:
    return [p for p in files_under(root) if p.suffix == ".part"]


async def test_the_audio_lands_under_the_campaign_and_is_recorded(
    runner: Runner, engine: Engine, audio: AudioServer, recordings_root: Path
) -> None:
    call = call_in_campaign(engine)
    sid = new_recording_sid()
    body = wav_bytes(0.5)
    url = audio.serve(sid, body)

    output = await runner.perform(call.record(url, sid, duration_s=12))

    assert output.port == "recorded"
    [row] = recordings_of(engine, sid)
    assert output.result == {
        "recording_id": row.id,
        "duration_s": 12,
        "url": f"/api/recordings/{row.id}/audio",
    }
    stored = recordings_root / call.tenant_id / str(call.campaign_id) / f"{sid}.wav"
    assert stored.read_bytes() == body
    assert row.path == f"{call.tenant_id}/{call.campaign_id}/{sid}.wav"
    assert (row.campaign_id, row.flow_id, row.execution_id) == (
        call.campaign_id,
        call.flow_id,
        call.execution_id,
    )
    assert (row.size_bytes, row.content_type, row.source_url) == (len(body), "audio/x-wav", url)
    # Twilio's form: the RecordingUrl plus `.wav`; no credentials to a host that is not Twilio.
    assert audio.requests == [(f"/2010-04-01/Accounts/{ACCOUNT_SID}/Recordings/{sid}.wav", None)]
    assert stray_files(recordings_root) == []
    with session_scope(engine) as session:
        step = session.exec(
            select(ExecutionStep).where(ExecutionStep.execution_id == call.execution_id)
        ).one()
    assert (step.node_type, step.status, step.port) == ("record", "success", "recorded")
    assert step.result == output.result


async def test_two_attempts_at_once_make_one_row(
    runner: Runner, engine: Engine, audio: AudioServer, recordings_root: Path
) -> None:
    call = call_in_campaign(engine)
    sid = new_recording_sid()
    url = audio.serve(sid)

    def context() -> StepContext:
        return StepContext(
            data=call.record(url, sid),
            engine=engine,
            settings=Settings(FLOWDECK_ENV="test"),
            http=runner.http_client,
            log=structlog.get_logger(),
        )

    # The handler itself, twice at once (an attempt that timed out may still be running when
    # the next one starts).
    first, second = await asyncio.gather(store_recording(context()), store_recording(context()))

    assert first.result == second.result
    assert len(recordings_of(engine, sid)) == 1
    assert len(files_under(recordings_root)) == 1


async def test_a_retried_step_stores_nothing_twice(
    runner: Runner, engine: Engine, audio: AudioServer, recordings_root: Path
) -> None:
    call = call_in_campaign(engine)
    sid = new_recording_sid()
    url = audio.serve(sid)

    first = await runner.perform(call.record(url, sid))
    again = await runner.perform(call.record(url, sid), attempt=2)

    assert again.result == first.result
    assert len(recordings_of(engine, sid)) == 1
    assert len(audio.requests) == 1, "a stored recording is not downloaded again"
    assert len(files_under(recordings_root, "*.wav")) == 1


async def test_a_recording_whose_file_was_lost_is_fetched_again_into_the_same_row(
    runner: Runner, engine: Engine, audio: AudioServer, recordings_root: Path
) -> None:
    call = call_in_campaign(engine)
    sid = new_recording_sid()
    url = audio.serve(sid)
    first = await runner.perform(call.record(url, sid))
    [row] = recordings_of(engine, sid)
    (recordings_root / row.path).unlink()

    again = await runner.perform(call.record(url, sid), attempt=2)

    assert again.result == first.result
    assert (recordings_root / row.path).read_bytes() == wav_bytes()
    assert len(recordings_of(engine, sid)) == 1


async def test_a_call_without_campaign_is_stored_under_no_campaign(
    runner: Runner, engine: Engine, audio: AudioServer, recordings_root: Path
) -> None:
    call = call_in_campaign(engine, campaign=False)
    sid = new_recording_sid()

    await runner.perform(call.record(audio.serve(sid), sid, test=True))

    [row] = recordings_of(engine, sid)
    assert row.campaign_id is None
    assert (recordings_root / call.tenant_id / "no-campaign" / f"{sid}.wav").is_file()


async def test_an_mp3_url_is_fetched_as_given(
    runner: Runner, engine: Engine, audio: AudioServer, recordings_root: Path
) -> None:
    call = call_in_campaign(engine)
    sid = new_recording_sid()
    url = audio.serve(sid, b"ID3-mp3-bytes", content_type="audio/mpeg", extension="mp3")

    await runner.perform(call.record(f"{url}.mp3", sid))

    [row] = recordings_of(engine, sid)
    assert row.path.endswith(f"{sid}.mp3") and row.content_type == "audio/mpeg"
    assert (recordings_root / row.path).read_bytes() == b"ID3-mp3-bytes"


async def test_twilio_recordings_are_fetched_with_the_account_credentials(
    twilio_runner: Runner, engine: Engine, twilio_media: AudioServer
) -> None:
    call = call_in_campaign(engine)
    sid = new_recording_sid()
    twilio_media.serve(sid)
    url = f"https://api.twilio.com/2010-04-01/Accounts/{ACCOUNT_SID}/Recordings/{sid}"

    output = await twilio_runner.perform(call.record(url, sid), **TWILIO_ENV)

    assert output.port == "recorded"
    [(path, authorization)] = twilio_media.requests
    assert path == f"{media_path(sid)}.wav"
    expected = base64.b64encode(f"{ACCOUNT_SID}:{AUTH_TOKEN}".encode()).decode()
    assert authorization == f"Basic {expected}"


async def test_credentials_do_not_follow_a_redirect_to_another_host(
    twilio_runner: Runner,
    engine: Engine,
    twilio_media: AudioServer,
    audio: AudioServer,
    recordings_root: Path,
) -> None:
    """Twilio answers a media request with a redirect to its storage: the audio is fetched
    from there, without the account's credentials."""
    call = call_in_campaign(engine)
    sid = new_recording_sid()
    body = wav_bytes(0.1)
    cdn = audio.serve_at(f"/media/{sid}", body)
    twilio_media.serve(sid, redirect_to=cdn)
    url = f"https://api.twilio.com/2010-04-01/Accounts/{ACCOUNT_SID}/Recordings/{sid}"

    await twilio_runner.perform(call.record(url, sid), **TWILIO_ENV)

    assert twilio_media.requests[0][1] is not None
    assert audio.requests == [(f"/media/{sid}", None)]
    [row] = recordings_of(engine, sid)
    assert (recordings_root / row.path).read_bytes() == body


async def test_real_calls_take_recordings_from_twilio_only(
    runner: Runner, engine: Engine, audio: AudioServer
) -> None:
    call = call_in_campaign(engine)
    sid = new_recording_sid()
    url = audio.serve(sid)

    with pytest.raises(ApplicationError) as refused:
        await runner.perform(call.record(url, sid), **TWILIO_ENV)

    assert refused.value.type == "RecordingRefused" and refused.value.non_retryable
    assert audio.requests == [] and recordings_of(engine, sid) == []
    # A test execution of the same flow uses the sandbox: its URL is taken as it is, and
    # Twilio's credentials do not leave for it.
    await runner.perform(call.record(url, sid, test=True), **TWILIO_ENV)
    assert audio.requests == [(f"{media_path(sid)}.wav", None)]
    assert len(recordings_of(engine, sid)) == 1


@pytest.mark.parametrize(
    ("status", "retryable", "error_type"),
    [
        (404, True, "RecordingUnavailable"),
        (503, True, "RecordingUnavailable"),
        (401, False, "RecordingRefused"),
    ],
)
async def test_a_failed_download_stores_nothing(
    runner: Runner,
    engine: Engine,
    audio: AudioServer,
    recordings_root: Path,
    status: int,
    retryable: bool,
    error_type: str,
) -> None:
    call = call_in_campaign(engine)
    sid = new_recording_sid()

    with pytest.raises(ApplicationError) as failed:
        await runner.perform(call.record(audio.serve(sid, status=status), sid))

    assert failed.value.type == error_type
    assert failed.value.non_retryable is not retryable
    assert str(status) in failed.value.message
    assert recordings_of(engine, sid) == []
    assert files_under(recordings_root) == []


async def test_an_unusable_sid_or_url_is_invalid_config(
    runner: Runner, engine: Engine, audio: AudioServer
) -> None:
    call = call_in_campaign(engine)

    with pytest.raises(ApplicationError) as invalid:
        await runner.perform(call.record(audio.serve("RE1"), "../../etc/passwd"))

    assert invalid.value.type == "InvalidConfig" and invalid.value.non_retryable
    for url in ("ftp://media.example.com/RE1", "http://[::1/RE1"):
        with pytest.raises(ApplicationError) as invalid:
            await runner.perform(call.record(url, new_recording_sid()))
        assert invalid.value.type == "InvalidConfig" and invalid.value.non_retryable
    assert audio.requests == []
