"""The `email` step: the sandbox outbox, and real delivery to an aiosmtpd SMTP server."""

from __future__ import annotations

from email import message_from_bytes, policy
from email.message import EmailMessage
from typing import Any

import pytest
from temporalio.exceptions import ApplicationError

from tests.activities.conftest import Runner, Seed, SmtpServer, free_port

EMAIL = {
    "to": "asha@example.com",
    "subject": "Hello Asha",
    "body": "Thanks for your enquiry.",
    "html": "<p>Thanks for your <b>enquiry</b>.</p>",
}


def received(server: SmtpServer) -> list[EmailMessage]:
    return [
        message_from_bytes(envelope.content, policy=policy.default)
        for envelope in server.handler.messages
    ]


async def test_sandbox_records_the_email_in_the_outbox(runner: Runner, seed: Seed) -> None:
    output = await runner.perform(seed.action("email", {**EMAIL, "from_name": "Acme Sales"}))

    assert output.port == "sent"
    [message] = seed.outbox()
    assert output.result == {
        "to": "asha@example.com",
        "message_id": message.id,
        "provider": "sandbox",
    }
    assert (message.channel, message.provider, message.to) == (
        "email",
        "sandbox",
        "asha@example.com",
    )
    assert message.subject == "Hello Asha"
    assert message.content is not None
    assert message.content["text"] == EMAIL["body"]
    assert message.content["html"] == EMAIL["html"]
    assert message.content["from"] == "Acme Sales <flowdeck@localhost>"
    assert message.node_id == "email_1"
    step = seed.step(1)
    assert step is not None and (step.status, step.port) == ("success", "sent")


async def test_sandbox_email_twice_is_recorded_once(runner: Runner, seed: Seed) -> None:
    data = seed.action("email", EMAIL)

    first = await runner.perform(data)
    second = await runner.perform(data, attempt=2)

    assert first == second
    assert len(seed.outbox()) == 1


async def test_smtp_delivers_text_and_html(
    runner: Runner, seed: Seed, smtp_server: SmtpServer
) -> None:
    data = seed.action(
        "email", {**EMAIL, "from_name": "Priya at Acme", "reply_to": "priya@acme.test"}
    )

    output = await runner.perform(data, **smtp_server.settings_env())

    [envelope] = smtp_server.handler.messages
    assert envelope.mail_from == "sales@acme.test"
    assert envelope.rcpt_tos == ["asha@example.com"]
    [message] = received(smtp_server)
    assert message["Subject"] == "Hello Asha"
    assert message["To"] == "asha@example.com"
    assert message["From"] == "Priya at Acme <sales@acme.test>"
    assert message["Reply-To"] == "priya@acme.test"
    assert message.get_content_type() == "multipart/alternative"
    text = message.get_body(preferencelist=("plain",))
    html = message.get_body(preferencelist=("html",))
    assert text is not None and text.get_content().strip() == EMAIL["body"]
    assert html is not None and html.get_content().strip() == EMAIL["html"]
    assert output.port == "sent"
    assert output.result == {
        "to": "asha@example.com",
        "message_id": message["Message-ID"],
        "provider": "smtp",
    }
    assert message["Message-ID"].endswith("@acme.test>")
    [stored] = seed.outbox()
    assert (stored.provider, stored.status, stored.provider_id) == (
        "smtp",
        "sent",
        message["Message-ID"],
    )


async def test_smtp_text_only_email_is_plain(
    runner: Runner, seed: Seed, smtp_server: SmtpServer
) -> None:
    config = {"to": "asha@example.com", "subject": "Plain", "body": "Just text."}

    await runner.perform(seed.action("email", config), **smtp_server.settings_env())

    [message] = received(smtp_server)
    assert message.get_content_type() == "text/plain"
    assert message.get_content().strip() == "Just text."


async def test_smtp_email_twice_is_sent_once(
    runner: Runner, seed: Seed, smtp_server: SmtpServer
) -> None:
    data = seed.action("email", EMAIL)

    first = await runner.perform(data, **smtp_server.settings_env())
    second = await runner.perform(data, attempt=2, **smtp_server.settings_env())

    assert len(smtp_server.handler.messages) == 1
    assert first == second
    assert len(seed.outbox()) == 1


async def test_different_steps_send_different_emails(
    runner: Runner, seed: Seed, smtp_server: SmtpServer
) -> None:
    first = await runner.perform(seed.action("email", EMAIL, seq=1), **smtp_server.settings_env())
    second = await runner.perform(seed.action("email", EMAIL, seq=2), **smtp_server.settings_env())

    assert len(smtp_server.handler.messages) == 2
    assert first.result["message_id"] != second.result["message_id"]


async def test_recipient_refused_permanently_is_not_retryable(
    runner: Runner, seed: Seed, smtp_server: SmtpServer
) -> None:
    smtp_server.handler.refuse_rcpt["gone@example.com"] = "550 5.1.1 No such user"

    with pytest.raises(ApplicationError) as caught:
        await runner.perform(
            seed.action("email", {**EMAIL, "to": "gone@example.com"}), **smtp_server.settings_env()
        )

    assert caught.value.type == "SmtpPermanentError"
    assert caught.value.non_retryable
    assert "550" in caught.value.message and "No such user" in caught.value.message
    assert seed.outbox() == []


async def test_temporary_rejection_is_retryable(
    runner: Runner, seed: Seed, smtp_server: SmtpServer
) -> None:
    smtp_server.handler.data_reply = "451 4.3.0 Try again later"

    with pytest.raises(ApplicationError) as caught:
        await runner.perform(seed.action("email", EMAIL), **smtp_server.settings_env())

    assert caught.value.type == "SmtpTemporaryError"
    assert not caught.value.non_retryable
    assert seed.outbox() == []  # not sent, so a retry will send it


async def test_permanent_data_rejection_is_not_retryable(
    runner: Runner, seed: Seed, smtp_server: SmtpServer
) -> None:
    smtp_server.handler.data_reply = "554 5.7.1 Message rejected as spam"

    with pytest.raises(ApplicationError) as caught:
        await runner.perform(seed.action("email", EMAIL), **smtp_server.settings_env())

    assert caught.value.non_retryable
    assert "554" in caught.value.message


async def test_unreachable_smtp_server_is_retryable(runner: Runner, seed: Seed) -> None:
    env: dict[str, Any] = {
        "FLOWDECK_PROVIDER_EMAIL": "smtp",
        "SMTP_HOST": "127.0.0.1",
        "SMTP_PORT": free_port(),
    }

    with pytest.raises(ApplicationError) as caught:
        await runner.perform(seed.action("email", EMAIL), **env)

    assert caught.value.type == "SmtpConnectionError"
    assert not caught.value.non_retryable


@pytest.mark.parametrize("provider", ["sandbox", "smtp"])
async def test_an_unknown_stored_template_fails_without_sending(
    runner: Runner, seed: Seed, provider: str
) -> None:
    with pytest.raises(ApplicationError) as caught:
        await runner.perform(
            seed.action("email", {"to": "asha@example.com", "template": "welcome"}),
            FLOWDECK_PROVIDER_EMAIL=provider,
        )

    assert caught.value.message == "no email template named 'welcome'"
    assert caught.value.non_retryable
    assert seed.outbox() == []


@pytest.mark.parametrize("to", ["", "not-an-address"])
async def test_invalid_recipient_is_not_retryable(runner: Runner, seed: Seed, to: str) -> None:
    with pytest.raises(ApplicationError) as caught:
        await runner.perform(seed.action("email", {**EMAIL, "to": to}))

    assert caught.value.type == "InvalidRecipient"
    assert caught.value.non_retryable
    assert seed.outbox() == []


async def test_html_only_email_is_html(runner: Runner, seed: Seed, smtp_server: SmtpServer) -> None:
    config = {"to": "asha@example.com", "subject": "Rich", "html": "<h1>Hi</h1>"}

    await runner.perform(seed.action("email", config), **smtp_server.settings_env())

    [message] = received(smtp_server)
    assert message.get_content_type() == "text/html"
    assert message.get_content().strip() == "<h1>Hi</h1>"


@pytest.mark.parametrize("provider", ["sandbox", "smtp"])
async def test_line_breaks_in_a_header_are_refused(
    runner: Runner, seed: Seed, smtp_server: SmtpServer, provider: str
) -> None:
    # A subject rendered from contact data must not smuggle in extra headers.
    config = {**EMAIL, "subject": "Hi\nBcc: victim@example.com"}
    env = {**smtp_server.settings_env(), "FLOWDECK_PROVIDER_EMAIL": provider}

    with pytest.raises(ApplicationError) as caught:
        await runner.perform(seed.action("email", config), **env)

    assert caught.value.type == "InvalidConfig"
    assert caught.value.non_retryable
    assert smtp_server.handler.messages == []
    assert seed.outbox() == []
