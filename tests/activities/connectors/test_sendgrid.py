"""The `email` step through a SendGrid connection, against a local server that speaks
SendGrid's v3 Mail Send API (`POST /v3/mail/send`: 202 and `X-Message-Id`; errors as
`{"errors": [{"message", "field"}]}`), as its API reference documents it."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from jsonschema import Draft202012Validator
from temporalio.exceptions import ApplicationError

from tests.activities.conftest import Runner, Seed
from tests.activities.connectors.conftest import ALLOW_LOOPBACK, connect
from tests.vendors import Answer, VendorServer

API_KEY = "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"
SEND = "/v3/mail/send"
SENDING: dict[str, Any] = {"FLOWDECK_PROVIDER_EMAIL": "smtp", **ALLOW_LOOPBACK}
"""A real email provider: a step naming a connection sends through SendGrid, not SMTP."""
MAIL_FIELDS = {"personalizations", "from", "reply_to", "subject", "content"}
"""Members of the Mail Send body (a subset of SendGrid's reference) that the step sends."""
_ADDRESS = {
    "type": "object",
    "required": ["email"],
    "properties": {"email": {"type": "string", "format": "email"}, "name": {"type": "string"}},
}
_TEXT = {"type": "string", "minLength": 1}
MAIL_SEND = Draft202012Validator(
    {
        "type": "object",
        "required": ["personalizations", "from", "subject", "content"],
        "properties": {
            "personalizations": {
                "type": "array",
                "maxItems": 1000,
                "items": {
                    "type": "object",
                    "required": ["to"],
                    "properties": {"to": {"type": "array", "items": _ADDRESS}, "subject": _TEXT},
                },
            },
            "from": _ADDRESS,
            "reply_to": _ADDRESS,
            "subject": _TEXT,
            "content": {
                "type": "array",
                "items": {
                    "type": "object",
                    "required": ["type", "value"],
                    "properties": {"type": _TEXT, "value": _TEXT},
                },
            },
        },
    },
    format_checker=Draft202012Validator.FORMAT_CHECKER,
)
"""The members of a Mail Send body the step sends, with what SendGrid's API reference says
each needs (required members, an `email` in every address, non-empty content), written here
(not a copy of SendGrid's OpenAPI file: nothing fetched is committed)."""


def _connect(seed: Seed, vendor: VendorServer, **settings: str) -> None:
    connect(
        seed,
        name="sendgrid",
        integration="sendgrid",
        auth="api_key",
        secret={"api_key": API_KEY},
        settings={"base_url": vendor.url, **settings},
    )


EMAIL = {
    "connection": "sendgrid",
    "to": "Asha Rao <asha@example.com>",
    "subject": "Your refund",
    "body": "We refunded 5 EUR.",
    "html": "<p>We refunded <b>5 EUR</b>.</p>",
    "from_name": "Acme Support",
    "reply_to": "help@acme.example",
}


async def test_an_email_is_sent_with_sendgrid_and_its_message_id_kept(
    runner: Runner, seed: Seed, vendor: VendorServer
) -> None:
    _connect(seed, vendor, from_email="support@acme.example")
    vendor.answer(
        "POST", SEND, Answer(status=202, headers={"X-Message-Id": "W86EgYT6SQKk0lRflfLRsA"})
    )

    output = await runner.perform(seed.action("email", EMAIL), **SENDING)
    again = await runner.perform(seed.action("email", EMAIL), attempt=2, **SENDING)

    [request] = vendor.requests("POST", SEND)  # the retry found the first send
    assert request.headers["authorization"] == f"Bearer {API_KEY}"
    assert request.json() == {
        "personalizations": [{"to": [{"email": "asha@example.com", "name": "Asha Rao"}]}],
        "from": {"email": "support@acme.example", "name": "Acme Support"},
        "reply_to": {"email": "help@acme.example"},
        "subject": "Your refund",
        "content": [
            {"type": "text/plain", "value": "We refunded 5 EUR."},
            {"type": "text/html", "value": "<p>We refunded <b>5 EUR</b>.</p>"},
        ],
    }
    assert set(request.json()) <= MAIL_FIELDS
    assert [e.message for e in MAIL_SEND.iter_errors(request.json())] == []
    expected = {
        "to": "Asha Rao <asha@example.com>",
        "message_id": "W86EgYT6SQKk0lRflfLRsA",
        "provider": "sendgrid",
    }
    assert output.port == "sent" and output.result == again.result == expected
    [stored] = seed.outbox()
    assert (stored.provider, stored.content["connection"]) == ("sendgrid", "sendgrid")


async def test_the_sandbox_records_the_email_and_calls_nothing(
    runner: Runner, seed: Seed, vendor: VendorServer
) -> None:
    _connect(seed, vendor)

    output = await runner.perform(seed.action("email", EMAIL), **ALLOW_LOOPBACK)

    assert vendor.received == []
    assert output.result["provider"] == "sandbox"
    step = seed.step(1)
    assert step is not None and step.status == "success"


async def test_sendgrids_errors_are_the_steps_error_without_the_key(
    runner: Runner, seed: Seed, vendor: VendorServer
) -> None:
    _connect(seed, vendor)
    refusal = {
        "errors": [
            {
                "message": "The from address does not match a verified Sender Identity.",
                "field": "from",
                "help": "https://sendgrid.com/docs/for-developers/sending-email/sender-identity/",
            }
        ]
    }
    unauthorized = {
        "errors": [{"message": f"The provided authorization grant is invalid {API_KEY}"}]
    }
    vendor.answer(
        "POST", SEND, Answer(status=403, json=refusal), Answer(status=401, json=unauthorized)
    )

    with pytest.raises(ApplicationError) as forbidden:
        await runner.perform(seed.action("email", EMAIL), **SENDING)
    with pytest.raises(ApplicationError) as refused:
        await runner.perform(seed.action("email", EMAIL, seq=2), **SENDING)

    assert forbidden.value.non_retryable
    assert forbidden.value.message == (
        "SendGrid refused mail.send (HTTP 403): from: The from address does not match a "
        "verified Sender Identity."
    )
    assert refused.value.message == (
        "SendGrid refused mail.send (HTTP 401): The provided authorization grant is invalid ••••"
    )
    assert seed.outbox() == []


async def test_a_429_waits_for_retry_after_and_a_5xx_is_retried(
    runner: Runner, seed: Seed, vendor: VendorServer
) -> None:
    _connect(seed, vendor)
    vendor.answer(
        "POST",
        SEND,
        Answer(
            status=429,
            json={"errors": [{"message": "too many requests"}]},
            headers={"Retry-After": "60"},
        ),
        Answer(status=500, json={"errors": [{"message": "internal error"}]}),
    )

    with pytest.raises(ApplicationError) as limited:
        await runner.perform(seed.action("email", EMAIL), **SENDING)
    with pytest.raises(ApplicationError) as failing:
        await runner.perform(seed.action("email", EMAIL), attempt=2, **SENDING)

    assert (limited.value.type, limited.value.non_retryable) == ("RateLimited", False)
    assert limited.value.next_retry_delay == timedelta(seconds=60)
    assert not failing.value.non_retryable


async def test_a_missing_sendgrid_connection_fails_the_step_once(
    runner: Runner, seed: Seed
) -> None:
    config = {**EMAIL, "connection": "no-such-sendgrid"}

    with pytest.raises(ApplicationError) as raised:
        await runner.perform(seed.action("email", config), **SENDING)

    assert (raised.value.type, raised.value.non_retryable) == ("ConnectionNotFound", True)
    assert raised.value.message == (
        "no sendgrid connection named 'no-such-sendgrid' in this tenant "
        "(create it under /api/connections)"
    )


async def test_provider_sendgrid_sends_an_email_naming_no_connection_by_the_default_one(
    runner: Runner, seed: Seed, vendor: VendorServer
) -> None:
    """FLOWDECK_PROVIDER_EMAIL=sendgrid: every email goes through SendGrid; one that names no
    connection uses the tenant's connection named FLOWDECK_EMAIL_CONNECTION (`sendgrid`)."""
    _connect(seed, vendor)
    vendor.answer("POST", SEND, Answer(status=202, headers={"X-Message-Id": "default-1"}))
    plain = {key: value for key, value in EMAIL.items() if key != "connection"}
    provider: dict[str, Any] = {"FLOWDECK_PROVIDER_EMAIL": "sendgrid", **ALLOW_LOOPBACK}

    output = await runner.perform(seed.action("email", plain), **provider)
    with pytest.raises(ApplicationError) as raised:
        await runner.perform(
            seed.action("email", plain, seq=2), FLOWDECK_EMAIL_CONNECTION="mailer", **provider
        )

    assert output.result["provider"] == "sendgrid"
    [request] = vendor.requests("POST", SEND)
    assert request.headers["authorization"] == f"Bearer {API_KEY}"
    assert raised.value.type == "ConnectionNotFound"
    assert "no sendgrid connection named 'mailer'" in raised.value.message


async def test_a_header_with_a_line_break_is_refused_before_sendgrid_is_called(
    runner: Runner, seed: Seed, vendor: VendorServer
) -> None:
    _connect(seed, vendor)
    injected = {**EMAIL, "subject": "Hello\nBcc: everyone@example.com"}

    with pytest.raises(ApplicationError) as raised:
        await runner.perform(seed.action("email", injected), **SENDING)

    assert (raised.value.type, raised.value.non_retryable) == ("InvalidConfig", True)
    assert vendor.received == []
