"""Bodies of connections: a tenant's named credentials, the secret never shown again."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from schemas.connections import AuthKind, Integration

_CREDENTIAL_FIELDS = (
    "The auth kind's fields (api_key: `api_key`; bearer: `token`; basic: `username`, "
    "`password`; oauth2: `access_token` and, to refresh it, `refresh_token`, `client_id`, "
    "`client_secret`, `token_url`, `expires_at`; database_url and webhook_url: `url`). "
    "Encrypted at rest and never returned: answers show each field masked."
)
_SETTINGS = (
    "Non-secret settings of the integration (`base_url`, `model`, `instance_url`, `database`…); "
    "its defaults are filled in"
)

Secret = dict[str, str]


class ConnectionCreate(BaseModel):
    """A connection: steps name it by `name` in their config's `connection`."""

    model_config = ConfigDict(extra="forbid")

    name: str = Field(min_length=1, max_length=100, pattern=r"^[A-Za-z0-9][A-Za-z0-9_.\-]*$")
    """Unique in the tenant: letters, digits, `_`, `.`, `-`."""
    integration: Integration
    auth: AuthKind
    settings: dict[str, Any] = Field(default_factory=dict, description=_SETTINGS)
    secret: Secret = Field(max_length=10, description=_CREDENTIAL_FIELDS)


class ConnectionUpdate(BaseModel):
    """Only what is given changes: new `settings` replace the old ones whole; a new `secret`
    replaces the old one whole (with `auth` when the auth kind changes). The name and the
    integration stay: flows name the connection by them."""

    model_config = ConfigDict(extra="forbid")

    auth: AuthKind | None = None
    settings: dict[str, Any] | None = Field(default=None, description=_SETTINGS)
    secret: Secret | None = Field(default=None, max_length=10, description=_CREDENTIAL_FIELDS)

    @model_validator(mode="after")
    def _no_nulls(self) -> ConnectionUpdate:
        for name in ("auth", "settings", "secret"):
            if name in self.model_fields_set and getattr(self, name) is None:
                raise ValueError(f"`{name}` cannot be null")
        return self


class ConnectionOut(BaseModel):
    id: str
    name: str
    integration: str
    auth: str
    settings: dict[str, Any]
    secret: dict[str, str]
    """Each secret field masked: `••••` and, for a value of 20 characters or more, its last
    4 (to tell two keys apart); the secret itself is never returned."""
    created_at: datetime
    updated_at: datetime


class ConnectionTestResult(BaseModel):
    """What a cheap authenticated call with the connection answered."""

    outcome: Literal["ok", "failed", "not_available"]
    """`ok`: the service accepted the credentials; `failed`: it did not, or could not be
    reached (`message` says which); `not_available`: no test for this integration yet."""
    message: str
    latency_ms: int | None = None


class AuthKindOut(BaseModel):
    """An auth kind an integration accepts, and the fields of its secret."""

    kind: AuthKind
    required: list[str] = Field(description="secret fields it needs")
    optional: list[str] = Field(description="secret fields it may have")


class SettingOut(BaseModel):
    """A non-secret setting of an integration's connections."""

    name: str
    type: Literal["string", "number"]
    required: bool
    default: str | float | None = Field(description="filled in when not given; null: none")


class IntegrationOut(BaseModel):
    """What a connection of an integration takes: a form can be drawn from it."""

    integration: Integration
    label: str
    auth: list[AuthKindOut] = Field(description="the auth kinds it accepts, the usual first")
    settings: list[SettingOut]
