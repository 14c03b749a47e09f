"""The `email` step: the sandbox provider records it in the outbox; `smtp` sends it for real,
or SendGrid when the step names a `sendgrid` connection (`activities.sendgrid`); provider
`sendgrid` sends every email through SendGrid, by the tenant's connection named
FLOWDECK_EMAIL_CONNECTION when the step names none.

Sends are idempotent per step: an SMTP send is looked up in the outbox by the step's key
before sending and recorded after, and its Message-ID is derived from the same key, so a
receiving server or client can also recognise a repeat.
"""

from __future__ import annotations

import asyncio
import hashlib
import smtplib
import ssl
from email.message import EmailMessage
from email.utils import formataddr, getaddresses, parseaddr

from activities import outbox
from activities.sendgrid import send_mail
from activities.step import INVALID_CONFIG, StepContext, handles, parse_config, step_error
from activities.vendor import open_vendor
from schemas import templating
from schemas.execution import ActionOutput
from schemas.flow import EmailConfig
from schemas.settings import Settings
from store.models import OutboxMessage
from store.templates import get_template

SMTP_PERMANENT = "SmtpPermanentError"
SMTP_TEMPORARY = "SmtpTemporaryError"
SMTP_CONNECTION = "SmtpConnectionError"
SMTP_TIMEOUT_S = 30.0
MAX_RECIPIENTS_LENGTH = 320


def _recipients(to: str) -> list[str]:
    addresses = [addr for _name, addr in getaddresses([to]) if addr]
    if not addresses or any("@" not in addr for addr in addresses):
        raise step_error(
            f"not a valid email recipient: {to!r}", type="InvalidRecipient", retryable=False
        )
    if len(to) > MAX_RECIPIENTS_LENGTH:
        raise step_error("too many email recipients", type="InvalidRecipient", retryable=False)
    return addresses


def _sender(settings: Settings, from_name: str | None, from_email: str | None = None) -> str:
    """The From: FLOWDECK_EMAIL_FROM, its address replaced by `from_email` when given (a
    SendGrid connection's verified sender), its name by the step's `from_name`."""
    name, address = parseaddr(settings.email_from)
    address = from_email or address
    if "@" not in address:
        raise step_error(
            "FLOWDECK_EMAIL_FROM is not an email address", type=INVALID_CONFIG, retryable=False
        )
    return formataddr((from_name or name, address))


def message_id_for(key: str, sender: str) -> str:
    """A Message-ID that is the same for every attempt of the step, and reveals nothing."""
    domain = parseaddr(sender)[1].rpartition("@")[2] or "flowdeck.local"
    return f"<{hashlib.sha256(key.encode()).hexdigest()[:32]}@{domain}>"


def _build(config: EmailConfig, *, sender: str, message_id: str) -> EmailMessage:
    message = EmailMessage()
    message["Subject"] = config.subject or ""
    message["From"] = sender
    message["To"] = config.to
    if config.reply_to:
        message["Reply-To"] = config.reply_to
    message["Message-ID"] = message_id
    if config.body:
        # Text first, HTML last: clients show the last part they can render.
        message.set_content(config.body)
        if config.html:
            message.add_alternative(config.html, subtype="html")
    else:
        message.set_content(config.html or "", subtype="html")
    return message


def _checked_message(config: EmailConfig, *, sender: str, message_id: str) -> EmailMessage:
    """The message, or a non-retryable error when a rendered header is malformed."""
    try:
        return _build(config, sender=sender, message_id=message_id)
    except ValueError as exc:
        # e.g. a line break in a subject rendered from contact data (header injection)
        raise step_error(
            f"invalid email header: {exc}", type=INVALID_CONFIG, retryable=False
        ) from None


def _smtp_send(settings: Settings, message: EmailMessage) -> dict[str, tuple[int, bytes]]:
    """Send through the configured server (blocking: runs in a thread)."""
    smtp_class = smtplib.SMTP_SSL if settings.smtp_port == 465 else smtplib.SMTP
    with smtp_class(settings.smtp_host, settings.smtp_port, timeout=SMTP_TIMEOUT_S) as smtp:
        if settings.smtp_starttls and smtp_class is smtplib.SMTP:
            smtp.starttls(context=ssl.create_default_context())
        if settings.smtp_user:
            password = settings.smtp_password.get_secret_value() if settings.smtp_password else ""
            smtp.login(settings.smtp_user, password)
        return smtp.send_message(message)


def _smtp_failure(exc: Exception) -> Exception:
    """Sort an SMTP failure into what a retry may fix (4xx, lost connection) and what not (5xx)."""
    if isinstance(exc, smtplib.SMTPRecipientsRefused):
        codes = [code for code, _text in exc.recipients.values()]
        retryable = any(code < 500 for code in codes)
        refused = ", ".join(
            f"{addr} ({code} {text.decode(errors='replace')})"
            for addr, (code, text) in exc.recipients.items()
        )
        return step_error(
            f"SMTP server refused every recipient: {refused}",
            type=SMTP_TEMPORARY if retryable else SMTP_PERMANENT,
            retryable=retryable,
        )
    if isinstance(exc, smtplib.SMTPResponseException):
        text = (
            exc.smtp_error.decode(errors="replace")
            if isinstance(exc.smtp_error, bytes)
            else str(exc.smtp_error)
        )
        retryable = exc.smtp_code < 500
        return step_error(
            f"SMTP error {exc.smtp_code}: {text}",
            type=SMTP_TEMPORARY if retryable else SMTP_PERMANENT,
            retryable=retryable,
        )
    if isinstance(exc, smtplib.SMTPNotSupportedError):
        return step_error(f"SMTP server: {exc}", type=SMTP_PERMANENT, retryable=False)
    return step_error(
        f"cannot reach the SMTP server: {type(exc).__name__}: {exc}",
        type=SMTP_CONNECTION,
        retryable=True,
    )


def _result(message: OutboxMessage) -> ActionOutput:
    real = message.provider in ("smtp", "sendgrid") and message.provider_id
    message_id = message.provider_id if real else message.id
    return ActionOutput(
        port="sent",
        result={"to": message.to, "message_id": message_id, "provider": message.provider},
    )


def _content(config: EmailConfig, sender: str) -> dict[str, str | None]:
    content = {
        "from": sender,
        "reply_to": config.reply_to,
        "text": config.body,
        "html": config.html,
    }
    if config.connection:
        content["connection"] = config.connection
    return content


async def _with_template(ctx: StepContext, config: EmailConfig) -> EmailConfig:
    """The stored template's subject and bodies, rendered, where the step gives none."""
    name = config.template or ""
    template = await asyncio.to_thread(
        get_template, ctx.engine, tenant_id=ctx.data.tenant_id, channel="email", name=name
    )
    if template is None:
        raise step_error(
            f"no email template named {name!r}", type="TemplateNotFound", retryable=False
        )
    context = {**(ctx.data.context or {}), "contact": ctx.data.contact}
    filled: dict[str, str] = {}
    for key in ("subject", "body", "html"):
        text = getattr(template, key)
        if getattr(config, key) is None and text:
            try:
                filled[key] = templating.render(text, context, autoescape=key == "html")
            except templating.TemplateRenderError as exc:
                raise step_error(
                    f"template {name!r}: {exc}", type="MissingVariable", retryable=False
                ) from None
    merged = config.model_copy(update={**filled, "template": None})
    if not merged.subject or not (merged.body or merged.html):
        raise step_error(
            f"template {name!r} gives no subject or no body", type=INVALID_CONFIG, retryable=False
        )
    return merged


@handles("email")
async def send_email(ctx: StepContext) -> ActionOutput:
    config = parse_config(EmailConfig, ctx)
    if config.template:
        config = await _with_template(ctx, config)
    _recipients(config.to)
    sender = _sender(ctx.settings, config.from_name)
    message_id = message_id_for(ctx.data.idempotency_key, sender)
    # Built in the sandbox too, so a message the sandbox accepts is one SMTP would accept.
    message = _checked_message(config, sender=sender, message_id=message_id)
    if ctx.settings.provider_email == "sandbox":
        stored = await outbox.record_message(
            ctx,
            channel="email",
            provider="sandbox",
            to=config.to,
            subject=config.subject,
            content=_content(config, sender),
        )
        return _result(stored)
    already = await outbox.find_sent(ctx)
    if already is not None:
        ctx.log.info("email.already_sent", outbox_id=already.id)
        return _result(already)
    if config.connection or ctx.settings.provider_email == "sendgrid":
        return await _send_with_sendgrid(ctx, config)
    try:
        refused = await asyncio.to_thread(_smtp_send, ctx.settings, message)
    except (smtplib.SMTPException, OSError) as exc:
        raise _smtp_failure(exc) from None
    if refused:
        ctx.log.warning("email.some_recipients_refused", refused=sorted(refused))
    stored = await outbox.record_message(
        ctx,
        channel="email",
        provider="smtp",
        to=config.to,
        subject=config.subject,
        content=_content(config, sender),
        provider_id=message_id,
    )
    return _result(stored)


async def _send_with_sendgrid(ctx: StepContext, config: EmailConfig) -> ActionOutput:
    """Send through the step's SendGrid connection (else the tenant's default one,
    FLOWDECK_EMAIL_CONNECTION), from its `from_email` when it has one."""
    connection = config.connection or ctx.settings.email_connection
    vendor = await open_vendor(ctx, connection=connection, integration="sendgrid", label="SendGrid")
    sender = _sender(ctx.settings, config.from_name, vendor.settings.get("from_email"))
    # Checked again with the connection's sender: a malformed `from_email` fails here.
    _checked_message(
        config, sender=sender, message_id=message_id_for(ctx.data.idempotency_key, sender)
    )
    provider_id = await send_mail(vendor, config, sender=sender)
    stored = await outbox.record_message(
        ctx,
        channel="email",
        provider="sendgrid",
        to=config.to,
        subject=config.subject,
        content={**_content(config, sender), "connection": connection},
        provider_id=provider_id,
    )
    return _result(stored)
