"""Connections: a tenant's named credentials for an integration, which steps name by `connection`.

A connection has an integration (`slack`, `stripe`, …, or `http`: any API an `http` step
calls), an auth kind (how it proves who it is), non-secret `settings` (a base URL, a model)
and a `secret` whose fields the auth kind fixes. The secret is encrypted at rest
(`store.vault`) and never shown again after it is given: answers carry only `secret_hint`,
each field masked.

A step that uses a connection has a `connection: str` field in its config (the connection's
name). Its integration is its declaration's `integration` (`@step(integration=...)`), else
its config's, else the step type's name when that is an integration (an `http` step uses an
`http` connection); `step_integration` says which. Connectors get the decrypted connection from
`store.connections.resolve` as a `ResolvedConnection`.
"""

from __future__ import annotations

import base64
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Literal, get_args
from urllib.parse import unquote, urlsplit

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

Integration = Literal[
    "slack",
    "teams",
    "postgresql",
    "stripe",
    "shopify",
    "hubspot",
    "salesforce",
    "zendesk",
    "jira",
    "sendgrid",
    "odoo",
    "openai",
    "http",
]
INTEGRATIONS: tuple[Integration, ...] = get_args(Integration)

AuthKind = Literal["api_key", "bearer", "basic", "oauth2", "database_url", "webhook_url"]
AUTH_KINDS: tuple[AuthKind, ...] = get_args(AuthKind)

CONNECTION_FIELD = "connection"
"""The config key by which a step names its connection."""


@dataclass(frozen=True)
class AuthFields:
    """The secret fields of an auth kind: those it needs, and those it may have."""

    required: tuple[str, ...]
    optional: tuple[str, ...] = ()

    @property
    def known(self) -> tuple[str, ...]:
        return self.required + self.optional


AUTH_FIELDS: dict[AuthKind, AuthFields] = {
    "api_key": AuthFields(required=("api_key",)),
    "bearer": AuthFields(required=("token",)),
    "basic": AuthFields(required=("username", "password")),
    # A token alone works until it expires; with `refresh_token`, `client_id` and `token_url`
    # (and `client_secret` where the provider wants one) a connector refreshes it and stores
    # the new one (`store.connections.update_secret`). `expires_at`: ISO 8601.
    "oauth2": AuthFields(
        required=("access_token",),
        optional=("refresh_token", "client_id", "client_secret", "token_url", "expires_at"),
    ),
    "database_url": AuthFields(required=("url",)),
    "webhook_url": AuthFields(required=("url",)),
}


class _Settings(BaseModel):
    model_config = ConfigDict(extra="forbid")


def _http_url(value: str | None) -> str | None:
    if value is not None and not value.lower().startswith(("http://", "https://")):
        raise ValueError("the URL must begin with http:// or https://")
    if value is not None and "@" in urlsplit(value).netloc:
        # Settings are shown to every viewer: credentials belong in the secret.
        raise ValueError("a URL in settings may not carry credentials: put them in the secret")
    return value.rstrip("/") if value is not None else None


class NoSettings(_Settings):
    """An integration whose secret says it all (a webhook URL, a database URL)."""


class BaseUrlSettings(_Settings):
    """A vendor's API at a fixed address by default; another (a proxy, a local test server)
    may be given."""

    base_url: str = Field(min_length=1, max_length=2000)

    _url = field_validator("base_url")(_http_url)


class SlackSettings(BaseUrlSettings):
    """Slack's Web API."""

    base_url: str = Field(default="https://slack.com/api", min_length=1, max_length=2000)


class StripeSettings(BaseUrlSettings):
    base_url: str = Field(default="https://api.stripe.com", min_length=1, max_length=2000)


class HubspotSettings(BaseUrlSettings):
    base_url: str = Field(default="https://api.hubapi.com", min_length=1, max_length=2000)


class SendgridSettings(BaseUrlSettings):
    """SendGrid's v3 API; `from_email`: the sender when a step gives none."""

    base_url: str = Field(default="https://api.sendgrid.com", min_length=1, max_length=2000)
    from_email: str | None = Field(default=None, min_length=3, max_length=320)


class ShopifySettings(BaseUrlSettings):
    """The shop's Admin API: `base_url` is `https://<shop>.myshopify.com`."""

    api_version: str = Field(default="2024-10", pattern=r"^\d{4}-\d{2}$")


class SalesforceSettings(_Settings):
    """The org's `instance_url` (`https://<org>.my.salesforce.com`)."""

    instance_url: str = Field(min_length=1, max_length=2000)
    api_version: str = Field(default="v61.0", pattern=r"^v\d+\.\d$")

    _url = field_validator("instance_url")(_http_url)


class ZendeskSettings(BaseUrlSettings):
    """`base_url` is `https://<subdomain>.zendesk.com`."""


class JiraSettings(BaseUrlSettings):
    """`base_url` is the site, `https://<site>.atlassian.net`."""


class OdooSettings(BaseUrlSettings):
    """The Odoo server and its `database`."""

    database: str = Field(min_length=1, max_length=200)


class OpenAISettings(_Settings):
    """Any OpenAI-compatible chat-completions API: `base_url` up to `/v1`, a default `model`."""

    base_url: str = Field(default="https://api.openai.com/v1", min_length=1, max_length=2000)
    model: str | None = Field(default=None, min_length=1, max_length=200)
    price_per_1k_input: float | None = Field(default=None, ge=0, le=1000, allow_inf_nan=False)
    """What 1,000 prompt tokens cost (in FLOWDECK_PRICE_CURRENCY): the AI steps' recorded cost."""
    price_per_1k_output: float | None = Field(default=None, ge=0, le=1000, allow_inf_nan=False)
    """What 1,000 completion tokens cost."""

    _url = field_validator("base_url")(_http_url)


class HttpApiSettings(_Settings):
    """Any HTTP API an `http` step calls: where an `api_key` goes (a bearer or basic secret,
    or an OAuth token, goes in `Authorization`)."""

    api_key_header: str = Field(
        default="X-Api-Key", min_length=1, max_length=100, pattern=r"^[A-Za-z0-9!#$%&'*+.^_`|~-]+$"
    )


@dataclass(frozen=True)
class IntegrationSpec:
    """What a connection of an integration accepts."""

    label: str
    auth: tuple[AuthKind, ...]
    """The auth kinds it accepts, the usual one first."""
    settings: type[_Settings]


INTEGRATION_SPECS: dict[Integration, IntegrationSpec] = {
    "slack": IntegrationSpec("Slack", ("bearer", "webhook_url"), SlackSettings),
    "teams": IntegrationSpec("Microsoft Teams", ("webhook_url",), NoSettings),
    "postgresql": IntegrationSpec("PostgreSQL", ("database_url",), NoSettings),
    "stripe": IntegrationSpec("Stripe", ("api_key",), StripeSettings),
    "shopify": IntegrationSpec("Shopify", ("api_key", "oauth2"), ShopifySettings),
    "hubspot": IntegrationSpec("HubSpot", ("bearer", "oauth2"), HubspotSettings),
    "salesforce": IntegrationSpec("Salesforce", ("oauth2", "bearer"), SalesforceSettings),
    "zendesk": IntegrationSpec("Zendesk", ("basic", "bearer", "oauth2"), ZendeskSettings),
    "jira": IntegrationSpec("Jira", ("basic", "bearer", "oauth2"), JiraSettings),
    "sendgrid": IntegrationSpec("SendGrid", ("api_key",), SendgridSettings),
    "odoo": IntegrationSpec("Odoo", ("basic",), OdooSettings),
    "openai": IntegrationSpec("OpenAI-compatible", ("api_key", "bearer"), OpenAISettings),
    "http": IntegrationSpec("HTTP API", ("bearer", "basic", "api_key", "oauth2"), HttpApiSettings),
}


@dataclass(frozen=True)
class ResolvedConnection:
    """A connection with its secret decrypted, for the connector that uses it. Its `repr`
    leaves the secret out, so a log line or a traceback that shows it reveals nothing."""

    id: str
    tenant_id: str
    name: str
    integration: Integration
    auth: AuthKind
    settings: dict[str, Any]
    """Non-secret, with the integration's defaults filled in (`base_url`, `model`, …)."""
    secret: dict[str, str] = field(repr=False)
    """The auth kind's fields (`AUTH_FIELDS`), decrypted."""


# --- checking what a user gives -----------------------------------------------------------


@dataclass(frozen=True)
class Problem:
    """One thing wrong with a connection, at its path in the request (`$.secret.token`)."""

    path: str
    code: str
    message: str


def auth_problems(integration: Integration, auth: str) -> list[Problem]:
    accepted = INTEGRATION_SPECS[integration].auth
    if auth in accepted:
        return []
    return [
        Problem(
            "$.auth",
            "auth_not_accepted",
            f"a {integration} connection takes auth {' or '.join(accepted)}, not {auth!r}",
        )
    ]


def secret_problems(
    integration: Integration, auth: AuthKind, secret: Mapping[str, Any]
) -> list[Problem]:
    """Missing, unknown, empty or malformed fields of a secret. Messages never quote a value."""
    fields = AUTH_FIELDS[auth]
    problems = [
        Problem(f"$.secret.{name}", "missing", f"auth {auth} needs `{name}` in the secret")
        for name in fields.required
        if name not in secret
    ]
    for name, value in secret.items():
        path = f"$.secret.{name}" if name.isidentifier() else f"$.secret[{name!r}]"
        if name not in fields.known:
            known = ", ".join(fields.known)
            problems.append(
                Problem(path, "unknown_key", f"auth {auth} has no field {name!r} ({known})")
            )
        elif not isinstance(value, str) or not value.strip():
            problems.append(Problem(path, "invalid_value", "must be a non-empty string"))
        elif len(value) > 8192:
            problems.append(Problem(path, "invalid_value", "at most 8192 characters"))
        else:
            problems.extend(_field_problems(integration, auth, name, value, path))
    if auth == "oauth2" and "refresh_token" in secret:
        problems.extend(
            Problem(f"$.secret.{name}", "missing", f"a refresh_token needs `{name}` to refresh")
            for name in ("client_id", "token_url")
            if name not in secret
        )
    return problems


_POSTGRES_SCHEMES = ("postgresql://", "postgres://", "postgresql+psycopg://")


def _field_problems(
    integration: Integration, auth: AuthKind, name: str, value: str, path: str
) -> list[Problem]:
    web = name in ("url", "token_url") and auth != "database_url"
    if web and not value.lower().startswith(("http://", "https://")):
        return [Problem(path, "invalid_value", "the URL must begin with http:// or https://")]
    postgres = auth == "database_url" and integration == "postgresql"
    if postgres and not value.lower().startswith(_POSTGRES_SCHEMES):
        return [Problem(path, "invalid_value", "a PostgreSQL URL begins with postgresql://")]
    if name == "expires_at":
        try:
            datetime.fromisoformat(value)
        except ValueError:
            return [Problem(path, "invalid_value", "an ISO 8601 date and time")]
    return []


_CODES = {"extra_forbidden": "unknown_key", "missing": "missing"}


def settings_problems(integration: Integration, settings: Mapping[str, Any]) -> list[Problem]:
    try:
        INTEGRATION_SPECS[integration].settings.model_validate(dict(settings))
    except ValidationError as error:
        return [
            Problem(
                "$.settings" + "".join(f".{part}" for part in err["loc"]),
                _CODES.get(err["type"], "invalid_value"),
                err["msg"].removeprefix("Value error, "),
            )
            for err in error.errors()
        ]
    return []


def full_settings(integration: Integration, settings: Mapping[str, Any]) -> dict[str, Any]:
    """The settings with the integration's defaults filled in (they must be valid)."""
    model = INTEGRATION_SPECS[integration].settings.model_validate(dict(settings))
    return model.model_dump(exclude_none=True)


MASK = "••••"


def mask(value: str) -> str:
    """What the API shows of a secret field: the last 4 characters of a long value (enough
    to tell two keys apart, as Stripe's dashboard does), nothing of a short one."""
    return MASK + value[-4:] if len(value) >= 20 else MASK


def secret_hint(secret: Mapping[str, str]) -> dict[str, str]:
    return {name: mask(value) for name, value in secret.items()}


# --- steps that use a connection --------------------------------------------------------------


def step_integration(step_type: str, config: BaseModel) -> Integration | None:
    """The integration a step's connection must be of: its declaration's `integration`
    (`@step(integration=...)`), else its config's, else its type when that names an
    integration; None when any will do."""
    from schemas.step import DECLARED  # here: schemas.step may come to import this module

    declared = [getattr(s, "integration", None) for s in DECLARED if s.type == step_type]
    for candidate in [*declared, getattr(config, "integration", None), step_type]:
        if isinstance(candidate, str) and candidate in INTEGRATIONS:
            return candidate
    return None


def auth_headers(connection: ResolvedConnection) -> dict[str, str]:
    """The request headers that present a connection's credentials to an HTTP API: a bearer
    token or an OAuth access token as `Authorization: Bearer`, basic auth as `Authorization:
    Basic` (a Zendesk username gets its `/token`: the password is an API token), an API key in
    its `api_key_header` (`settings`, default `X-Api-Key`)."""
    secret = connection.secret
    match connection.auth:
        case "bearer":
            return {"Authorization": f"Bearer {secret['token']}"}
        case "oauth2":
            return {"Authorization": f"Bearer {secret['access_token']}"}
        case "basic":
            username = secret["username"]
            if connection.integration == "zendesk" and not username.endswith("/token"):
                username += "/token"  # Zendesk's API-token login: `{email}/token:{api_token}`
            pair = f"{username}:{secret['password']}".encode()
            return {"Authorization": "Basic " + base64.b64encode(pair).decode()}
        case "api_key":
            header = str(connection.settings.get("api_key_header") or "X-Api-Key")
            return {header: secret["api_key"]}
        case _:
            return {}


def step_connection(config: BaseModel) -> str | None:
    """The connection a step's config names, if any."""
    value = getattr(config, CONNECTION_FIELD, None)
    return value if isinstance(value, str) and value else None


def secret_values(secret: Mapping[str, str]) -> list[str]:
    """Every string a secret could show up as in a message: its values, and the password of
    a URL among them (a database driver quotes the host and user, and may quote it)."""
    values = []
    for value in secret.values():
        values.append(value)
        try:
            password = urlsplit(value).password
        except ValueError:
            password = None
        if password:
            values.append(unquote(password))
            values.append(password)
    # The longest first, so a value containing another is masked whole.
    return sorted({v for v in values if len(v) >= 4}, key=len, reverse=True)


def redact(text: str, secret: Mapping[str, str]) -> str:
    """`text` with every value of the secret masked."""
    for value in secret_values(secret):
        text = text.replace(value, MASK)
    return text
