"""HTTPS to a checked address: the TLS server name and certificate check still use the host name."""

from __future__ import annotations

import shutil
import ssl
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest
from pytest_httpserver import HTTPServer
from temporalio.testing import ActivityEnvironment

from activities import FlowActivities
from activities.fetch import Fetcher
from tests.activities.conftest import Seed, make_settings


@pytest.fixture(scope="module")
def certificate(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """A self-signed certificate for the name `localhost` only (not for 127.0.0.1)."""
    openssl = shutil.which("openssl")
    if openssl is None:
        pytest.skip("the openssl command is needed to make a test certificate")
    directory = tmp_path_factory.mktemp("tls")
    key, cert = directory / "key.pem", directory / "cert.pem"
    subprocess.run(
        [
            openssl,
            "req",
            "-x509",
            "-newkey",
            "rsa:2048",
            "-nodes",
            "-days",
            "1",
            "-subj",
            "/CN=localhost",
            "-addext",
            "subjectAltName=DNS:localhost",
            "-keyout",
            str(key),
            "-out",
            str(cert),
        ],
        check=True,
        capture_output=True,
    )
    return key, cert


@pytest.fixture
def https_server(certificate: tuple[Path, Path]) -> Iterator[HTTPServer]:
    key, cert = certificate
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert, key)
    server = HTTPServer(host="127.0.0.1", port=0, ssl_context=context)
    server.start()
    yield server
    server.clear()
    server.stop()


async def test_https_to_an_allowlisted_name_verifies_the_certificate_for_that_name(
    seed: Seed, https_server: HTTPServer, certificate: tuple[Path, Path]
) -> None:
    https_server.expect_request("/secure").respond_with_json({"tls": True})
    trust = ssl.create_default_context(cafile=str(certificate[1]))
    fetcher = Fetcher(ssl_context=trust)
    activities = FlowActivities(
        engine=seed.engine,
        settings=make_settings(FLOWDECK_HTTP_ALLOWLIST="localhost"),
        fetcher=fetcher,
    )
    data = seed.action("http", {"url": f"https://localhost:{https_server.port}/secure"})
    try:
        output = await ActivityEnvironment().run(activities.perform_action, data)
    finally:
        await fetcher.aclose()

    assert output.result == {
        "status": 200,
        "headers": output.result["headers"],
        "body": {"tls": True},
        "truncated": False,
    }
