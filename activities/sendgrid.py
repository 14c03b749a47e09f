"""SendGrid, the `email` step's provider beside SMTP: a step naming a `sendgrid` connection
sends with SendGrid's v3 Mail Send API.

`POST {base_url}/v3/mail/send` with `Authorization: Bearer <API key>` and the message as
`{"personalizations": [{"to": [...]}], "from", "reply_to", "subject", "content": [text/plain,
then text/html]}` answers 202 with an empty body and the message's id in `X-Message-Id`.
Its errors are `{"errors": [{"message", "field", "help"}]}`. SendGrid takes no idempotency
key: the email step's outbox record (looked up before sending) keeps a retry from sending twice.
"""

from __future__ import annotations

from email.utils import getaddresses, parseaddr
from typing import Any

from activities.vendor import Vendor
from schemas.flow import EmailConfig

DEFAULT_BASE_URL = "https://api.sendgrid.com"
OPERATION = "mail.send"


def _address(text: str) -> dict[str, str]:
    name, address = parseaddr(text)
    return {"email": address, "name": name} if name else {"email": address}


def mail_body(config: EmailConfig, *, sender: str) -> dict[str, Any]:
    """The v3 Mail Send request of a rendered email step."""
    recipients = [
        {"email": address, "name": name} if name else {"email": address}
        for name, address in getaddresses([config.to])
        if address
    ]
    content = []
    if config.body:
        content.append({"type": "text/plain", "value": config.body})  # text first, as required
    if config.html:
        content.append({"type": "text/html", "value": config.html})
    body: dict[str, Any] = {
        "personalizations": [{"to": recipients}],
        "from": _address(sender),
        "subject": config.subject or "",
        "content": content,
    }
    if config.reply_to:
        body["reply_to"] = _address(config.reply_to)
    return body


def _refusal(answer: Any) -> str | None:
    errors = answer.get("errors") if isinstance(answer, dict) else None
    if not isinstance(errors, list):
        return None
    messages = []
    for error in errors:
        if isinstance(error, dict) and error.get("message"):
            field = error.get("field")
            messages.append(f"{field}: {error['message']}" if field else str(error["message"]))
    return "; ".join(messages) or None


async def send_mail(vendor: Vendor, config: EmailConfig, *, sender: str) -> str | None:
    """Send the message; SendGrid's id of it (`X-Message-Id`)."""
    response = await vendor.request(
        OPERATION,
        method="POST",
        url=f"{vendor.base_url(DEFAULT_BASE_URL)}/v3/mail/send",
        headers={"Authorization": f"Bearer {vendor.secret['api_key']}"},
        json_body=mail_body(config, sender=sender),
    )
    if response.status >= 300:
        raise vendor.refused(OPERATION, response, None, _refusal(response.json_or_text()))
    return response.headers.get("x-message-id") or None
