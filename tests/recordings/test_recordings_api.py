"""Recordings through the API: each readable only with its campaign's permission.

A key scoped to some campaigns sees only their recordings; one with no campaign is seen only
by admin keys and unscoped keys. Whatever a key may not read answers 404, like another
tenant's recording, so its existence is not revealed.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import httpx
from sqlalchemy.engine import Engine

from tests.activities.conftest import Runner
from tests.api.helpers import TenantKeys, make_flow
from tests.recordings.helpers import (
    AudioServer,
    files_under,
    make_campaign,
    make_key,
    new_execution,
    new_recording_sid,
    record_input,
    wav_bytes,
)


@dataclass
class Stored:
    """One tenant's recordings: in campaign A, in campaign B, and in none."""

    campaign_a: str
    campaign_b: str
    flow_id: str
    ids: dict[str, str]
    """`a`, `b`, `none` -> recording id."""
    executions: dict[str, str]
    audio: dict[str, bytes]


async def store_three(
    api: httpx.AsyncClient, tenant: TenantKeys, runner: Runner, engine: Engine, audio: AudioServer
) -> Stored:
    a = await make_campaign(api, tenant, "Spring launch")
    b = await make_campaign(api, tenant, "Renewals")
    flow = await make_flow(api, tenant, name="Voicemail line")
    ids: dict[str, str] = {}
    executions: dict[str, str] = {}
    payloads: dict[str, bytes] = {}
    for label, campaign_id in (("a", a["id"]), ("b", b["id"]), ("none", None)):
        execution_id = new_execution(
            engine, tenant_id=tenant.id, flow_id=flow["id"], campaign_id=campaign_id
        )
        sid = new_recording_sid()
        payloads[label] = wav_bytes(0.1 + 0.1 * len(ids))
        output = await runner.perform(
            record_input(
                tenant_id=tenant.id,
                flow_id=flow["id"],
                execution_id=execution_id,
                recording_url=audio.serve(sid, payloads[label]),
                recording_sid=sid,
            )
        )
        ids[label] = output.result["recording_id"]
        executions[label] = execution_id
    return Stored(a["id"], b["id"], flow["id"], ids, executions, payloads)


async def listed(api: httpx.AsyncClient, headers: dict[str, str], query: str = "") -> set[str]:
    response = await api.get(f"/api/recordings{query}", headers=headers)
    assert response.status_code == 200, response.text
    return {r["id"] for r in response.json()}


async def test_each_key_sees_the_recordings_of_its_campaigns(
    api: httpx.AsyncClient, tenant: TenantKeys, runner: Runner, engine: Engine, audio: AudioServer
) -> None:
    stored = await store_three(api, tenant, runner, engine, audio)
    ids = stored.ids
    only_a = await make_key(api, tenant, role="viewer", campaigns=[stored.campaign_a])
    no_campaign = await make_key(api, tenant, role="manager", campaigns=[])

    assert await listed(api, tenant.auth("admin")) == set(ids.values())
    assert await listed(api, tenant.auth("viewer")) == set(ids.values())  # unscoped
    assert await listed(api, only_a) == {ids["a"]}
    assert await listed(api, no_campaign) == set()

    for label, recording_id in ids.items():
        for headers, allowed in (
            (tenant.auth("admin"), True),
            (tenant.auth("agent"), True),
            (only_a, label == "a"),
            (no_campaign, False),
        ):
            meta = await api.get(f"/api/recordings/{recording_id}", headers=headers)
            sound = await api.get(f"/api/recordings/{recording_id}/audio", headers=headers)
            expected = 200 if allowed else 404
            assert (meta.status_code, sound.status_code) == (expected, expected), (label, meta.text)
            if not allowed:
                # Word for word what a recording that never existed answers.
                assert meta.json()["error"] == {
                    "code": "not_found",
                    "message": f"recording {recording_id} not found",
                    "details": [],
                }
    never = await api.get("/api/recordings/never-was", headers=only_a)
    assert never.json()["error"]["message"] == "recording never-was not found"


async def test_a_recording_reads_as_metadata_and_as_audio(
    api: httpx.AsyncClient, tenant: TenantKeys, runner: Runner, engine: Engine, audio: AudioServer
) -> None:
    stored = await store_three(api, tenant, runner, engine, audio)
    recording_id = stored.ids["a"]

    meta = await api.get(f"/api/recordings/{recording_id}", headers=tenant.auth("viewer"))
    sound = await api.get(f"/api/recordings/{recording_id}/audio", headers=tenant.auth("viewer"))

    assert meta.status_code == 200, meta.text
    body = meta.json()
    assert body["campaign_id"] == stored.campaign_a
    assert body["flow_id"] == stored.flow_id
    assert body["execution_id"] == stored.executions["a"]
    assert body["recording_sid"].startswith("RE") and body["call_sid"].startswith("CA")
    assert body["duration_s"] == 7 and body["size_bytes"] == len(stored.audio["a"])
    assert body["url"] == f"/api/recordings/{recording_id}/audio"
    assert "path" not in body and "tenant_id" not in body
    assert sound.status_code == 200
    assert sound.headers["content-type"] == "audio/x-wav"
    assert sound.headers["content-disposition"].startswith("inline")
    assert sound.content == stored.audio["a"]


async def test_recordings_filter_by_campaign_execution_and_flow(
    api: httpx.AsyncClient, tenant: TenantKeys, runner: Runner, engine: Engine, audio: AudioServer
) -> None:
    stored = await store_three(api, tenant, runner, engine, audio)
    ids = stored.ids
    admin = tenant.auth("admin")
    only_a = await make_key(api, tenant, role="viewer", campaigns=[stored.campaign_a])

    assert await listed(api, admin, f"?campaign_id={stored.campaign_b}") == {ids["b"]}
    assert await listed(api, admin, f"?execution_id={stored.executions['none']}") == {ids["none"]}
    assert await listed(api, admin, f"?flow_id={stored.flow_id}") == set(ids.values())
    assert await listed(api, admin, "?flow_id=another") == set()
    assert await listed(api, only_a, f"?campaign_id={stored.campaign_b}") == set()
    newest_first = await api.get("/api/recordings?limit=2", headers=admin)
    assert [r["id"] for r in newest_first.json()] == [ids["none"], ids["b"]]


async def test_another_tenant_sees_none_of_them(
    api: httpx.AsyncClient,
    tenant: TenantKeys,
    make_tenant: Callable[[], TenantKeys],
    runner: Runner,
    engine: Engine,
    audio: AudioServer,
) -> None:
    stored = await store_three(api, tenant, runner, engine, audio)
    other = make_tenant()

    assert await listed(api, other.auth("admin")) == set()
    assert await listed(api, other.auth("admin"), f"?campaign_id={stored.campaign_a}") == set()
    for recording_id in stored.ids.values():
        for path in (f"/api/recordings/{recording_id}", f"/api/recordings/{recording_id}/audio"):
            response = await api.get(path, headers=other.auth("admin"))
            assert response.status_code == 404, response.text


async def test_audio_missing_from_storage_is_404_not_500(
    api: httpx.AsyncClient,
    tenant: TenantKeys,
    runner: Runner,
    engine: Engine,
    audio: AudioServer,
    recordings_root: Path,
) -> None:
    stored = await store_three(api, tenant, runner, engine, audio)
    for path in files_under(recordings_root, "*.wav"):
        path.unlink()

    response = await api.get(f"/api/recordings/{stored.ids['a']}/audio", headers=tenant.auth())

    assert response.status_code == 404
    assert "missing" in response.json()["error"]["message"]
