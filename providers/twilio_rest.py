"""Twilio's REST client over our httpx client, and the account settings it needs."""

from __future__ import annotations

import logging
import re

import httpx
from twilio.http import AsyncHttpClient, HttpClient
from twilio.http.response import Response
from twilio.rest import Client

from schemas.flow import FlowDocument, SendAndWaitConfig, WhatsappConfig
from schemas.settings import Settings
from schemas.validation import Problem
from store.references import literal

CONTENT_SID = re.compile(r"HX[0-9a-fA-F]{32}")
"""An approved WhatsApp template's Content SID, as a flow may give it instead of a name."""

_log = logging.getLogger("twilio.flowdeck")


class TwilioNotConfigured(Exception):
    """The twilio provider is chosen, but TWILIO_ACCOUNT_SID or TWILIO_AUTH_TOKEN is missing;
    a retry cannot help."""


class HttpxTwilioClient(AsyncHttpClient):  # type: ignore[misc]
    """The twilio library's async HTTP client over our `httpx.AsyncClient` (pooled, no proxy
    from the environment), with a timeout per request."""

    def __init__(self, http: httpx.AsyncClient, *, timeout: float) -> None:
        super().__init__(_log, True, timeout)
        self._http = http

    async def request(
        self,
        method: str,
        uri: str,
        params: dict[str, object] | None = None,
        data: dict[str, object] | None = None,
        headers: dict[str, str] | None = None,
        auth: tuple[str, str] | None = None,
        timeout: float | None = None,  # noqa: ASYNC109 (twilio's interface)
        allow_redirects: bool = False,
    ) -> Response:
        response = await self._http.request(
            method,
            uri,
            params=params,  # type: ignore[arg-type]
            data=data,
            headers=headers,
            auth=auth,
            timeout=timeout or self.timeout,
            follow_redirects=allow_redirects,
        )
        return Response(response.status_code, response.text, response.headers)


def twilio_client(settings: Settings, http_client: HttpClient) -> Client:
    """The real twilio `Client` from TWILIO_ACCOUNT_SID / TWILIO_AUTH_TOKEN, or
    TwilioNotConfigured."""
    token = settings.twilio_auth_token.get_secret_value() if settings.twilio_auth_token else ""
    if not settings.twilio_account_sid or not token:
        raise TwilioNotConfigured(
            "the twilio provider needs TWILIO_ACCOUNT_SID and TWILIO_AUTH_TOKEN"
        )
    return Client(settings.twilio_account_sid, token, http_client=http_client)


def client_over(settings: Settings, http: httpx.AsyncClient) -> Client:
    """The twilio client whose requests go through `http`, timed out by
    FLOWDECK_TWILIO_TIMEOUT_S; TwilioNotConfigured without credentials."""
    return twilio_client(settings, HttpxTwilioClient(http, timeout=settings.twilio_timeout_s))


def find_content_sid(settings: Settings, template: str) -> str | None:
    """The approved Content SID of a WhatsApp template, given as `HX…` or mapped by name in
    FLOWDECK_TWILIO_CONTENT_SIDS; None when it has none (Twilio would refuse the send)."""
    if CONTENT_SID.fullmatch(template):
        return template
    return settings.twilio_content_sids.get(template)


def templates_without_sid(document: FlowDocument, settings: Settings) -> list[Problem]:
    """WhatsApp templates (of `whatsapp` and `send_and_wait` steps) Twilio would refuse to
    send for want of a Content SID, each at its path; none unless WhatsApp goes through
    Twilio (the sandbox sends anything)."""
    if settings.provider_whatsapp != "twilio":
        return []
    problems = []
    for index, node in enumerate(document.nodes):
        config = node.config
        if isinstance(config, SendAndWaitConfig) and config.channel != "whatsapp":
            continue
        if not isinstance(config, WhatsappConfig | SendAndWaitConfig):
            continue
        template = literal(config.template)
        if template is not None and find_content_sid(settings, template) is None:
            message = (
                f"no Twilio Content SID for the WhatsApp template {template!r}: map the name "
                "in FLOWDECK_TWILIO_CONTENT_SIDS, or give the `HX…` sid as `template`"
            )
            path = f"$.nodes[{index}].config.template"
            problems.append(Problem(path=path, code="no_content_sid", message=message))
    return problems
