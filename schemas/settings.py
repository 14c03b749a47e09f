"""The one settings object: environment variables, the same names in development and production."""

from __future__ import annotations

import ipaddress
import os
import sys
from functools import lru_cache
from pathlib import Path
from typing import Annotated, Literal

from pydantic import Field, SecretStr, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from schemas.steps import Provider, local_types, short_local_types
from schemas.validation import FlowLimits

DATA_DIR = Path(".data")
DASHBOARD_DIST = Path(__file__).resolve().parents[1] / "dashboard" / "dist"
"""Where `flowdeck dashboard build` puts the dashboard, in this checkout."""
DEV_PROCESSES_AUTO_MAX = 2
"""`FLOWDECK_DEV_PROCESSES=auto` runs at most this many: they share one SQLite file (one
writer at a time) and the box with the Temporal dev server; more is a number away."""


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_file=".env", extra="ignore")

    environment: Literal["development", "production", "test"] = Field(
        default="development", alias="FLOWDECK_ENV"
    )
    database_url: str = Field(default=f"sqlite:///{DATA_DIR / 'flowdeck.db'}", alias="DATABASE_URL")
    temporal_address: str | None = Field(default=None, alias="TEMPORAL_ADDRESS")
    temporal_namespace: str = Field(default="default", alias="TEMPORAL_NAMESPACE")
    temporal_tls_cert: str | None = Field(default=None, alias="TEMPORAL_TLS_CERT")
    temporal_tls_key: str | None = Field(default=None, alias="TEMPORAL_TLS_KEY")
    temporal_ui_url: str = Field(default="http://localhost:8233", alias="TEMPORAL_UI_URL")
    task_queue: str = Field(default="flowdeck", alias="FLOWDECK_TASK_QUEUE")

    twilio_account_sid: str | None = Field(default=None, alias="TWILIO_ACCOUNT_SID")
    twilio_auth_token: SecretStr | None = Field(default=None, alias="TWILIO_AUTH_TOKEN")
    smtp_host: str = Field(default="localhost", alias="SMTP_HOST")
    smtp_port: int = Field(default=25, alias="SMTP_PORT")
    smtp_user: str | None = Field(default=None, alias="SMTP_USER")
    smtp_password: SecretStr | None = Field(default=None, alias="SMTP_PASSWORD")
    smtp_starttls: bool = Field(default=False, alias="SMTP_STARTTLS")
    email_from: str = Field(default="Flowdeck <flowdeck@localhost>", alias="FLOWDECK_EMAIL_FROM")
    public_base_url: str = Field(default="http://localhost:8000", alias="PUBLIC_BASE_URL")
    twilio_from_sms: str | None = Field(default=None, alias="FLOWDECK_TWILIO_FROM_SMS")
    """Sender of SMS when a step gives no `from` (E.164)."""
    twilio_from_whatsapp: str | None = Field(default=None, alias="FLOWDECK_TWILIO_FROM_WHATSAPP")
    """Sender of WhatsApp messages when a step gives no `from` (E.164, no `whatsapp:` prefix)."""
    twilio_from_voice: str | None = Field(default=None, alias="FLOWDECK_TWILIO_FROM_VOICE")
    """Caller id of `ai_call` when a step gives no `from` (E.164)."""
    twilio_voice_url: str | None = Field(default=None, alias="FLOWDECK_TWILIO_VOICE_URL")
    """The voice agent's TwiML URL an answered `ai_call` is handed to (`{agent_id}` is filled
    in); required for `ai_call` through Twilio until Flowdeck serves its own voice TwiML."""
    recordings_dir: Path = Field(default=DATA_DIR / "recordings", alias="FLOWDECK_RECORDINGS_DIR")
    """Where call recordings are stored: `<tenant>/<campaign or no-campaign>/<sid>.<ext>`."""
    call_hold_after_s: float = Field(default=8.0, gt=0, le=14, alias="FLOWDECK_CALL_HOLD_AFTER_S")
    """A call's turn not answered within this long gets a hold message and a redirect back
    (Twilio waits 15 s in all for a webhook's answer)."""
    hold_music_url: str | None = Field(default=None, alias="FLOWDECK_HOLD_MUSIC_URL")
    """Audio a caller waiting in a department's queue hears (Twilio plays it in a loop); a
    spoken "please wait" when unset."""
    twilio_content_sids: dict[str, str] = Field(
        default_factory=dict, alias="FLOWDECK_TWILIO_CONTENT_SIDS"
    )
    """WhatsApp template name -> approved Twilio Content SID (`HX…`), as JSON; a step's
    `template` may also be the Content SID itself."""
    twilio_timeout_s: float = Field(default=10.0, gt=0, le=60, alias="FLOWDECK_TWILIO_TIMEOUT_S")
    """One request to Twilio's API; shorter than a step attempt, so attempts never overlap."""
    call_time_limit_s: float = Field(default=15000.0, gt=0, alias="FLOWDECK_CALL_TIME_LIMIT_S")
    """A live call that sent no final status this long after it began is taken as over, as if
    the caller hung up: Twilio ends calls after 4 hours unless told otherwise, and a lost or
    unconfigured status callback would leave its execution waiting for ever."""
    worker_shutdown_grace_s: float = Field(
        default=30.0, ge=0, le=3600, alias="FLOWDECK_WORKER_SHUTDOWN_GRACE_S"
    )
    """A stopping worker (SIGTERM, a rolling deploy) lets its running activities finish this
    long before it cancels them (then Temporal retries them elsewhere)."""
    local_activity_max_s: float = Field(
        default=30.0, ge=0, le=60, alias="FLOWDECK_LOCAL_ACTIVITY_MAX_S"
    )
    """HTTP and CRM steps, and sends on a real provider, whose attempt may take at most this
    long run as local activities (no round trip through the Temporal server; 30 covers a
    step with the default 30 s attempt); 0: never. A local step is not performed twice when
    its workflow task is replayed: the worker keeps its outcome (`activities.performed`),
    and the step stores it before it returns, where a restarted worker looks for it
    (`ActionInput.recheck`)."""
    offer_sweep_s: float = Field(default=30.0, ge=0, alias="FLOWDECK_OFFER_SWEEP_S")
    """How often the API looks for queue offers whose call to the agent was never placed
    (their dispatch died after the claim) and puts their callers back in line; 0: never."""
    offer_grace_s: float = Field(default=120.0, gt=0, alias="FLOWDECK_OFFER_GRACE_S")
    """How old such an offer must be before it is swept: longer than placing a call takes."""

    start_sweep_s: float = Field(default=15.0, ge=0, alias="FLOWDECK_START_SWEEP_S")
    """How often the API looks for executions whose workflow start is unconfirmed (a crash
    between the row's commit and Temporal's answer) and makes it again; 0: never."""
    start_grace_s: float = Field(default=60.0, gt=0, alias="FLOWDECK_START_GRACE_S")
    """How old such an execution must be before its start is made again: longer than a
    start request may take (its RPC timeout is 10 s)."""
    wedged_after_attempts: int = Field(
        default=3, ge=0, le=1000, alias="FLOWDECK_WEDGED_AFTER_ATTEMPTS"
    )
    """An execution whose workflow task has failed this many times in a row (Temporal
    retries it for ever) is terminated and marked failed with the cause; 0: never."""
    index_executions: bool = Field(default=True, alias="FLOWDECK_SEARCH_ATTRIBUTES")
    """Give each execution's workflow Flowdeck's search attributes (`schemas.search_attributes`:
    tenant, flow, version, status, contact phone, campaign, trigger), so the Temporal Web UI
    finds runs by them. The API registers missing ones at start; where it cannot (no right
    to), it says so and starts workflows without them."""
    failpoint: str | None = Field(default=None, alias="FLOWDECK_FAILPOINT")
    """For fault-injection tests only: the named point (`api.failpoints`) at which this
    process kills itself with SIGKILL, as a power cut would. Never set it in production."""

    provider_email: Literal["sandbox", "smtp", "sendgrid"] = Field(
        default="sandbox", alias="FLOWDECK_PROVIDER_EMAIL"
    )
    email_connection: str = Field(
        default="sendgrid", min_length=1, max_length=100, alias="FLOWDECK_EMAIL_CONNECTION"
    )
    """With `FLOWDECK_PROVIDER_EMAIL=sendgrid`: the name of each tenant's `sendgrid`
    connection that an email step naming no connection sends through."""
    provider_sms: Literal["sandbox", "twilio"] = Field(
        default="sandbox", alias="FLOWDECK_PROVIDER_SMS"
    )
    provider_whatsapp: Literal["sandbox", "twilio"] = Field(
        default="sandbox", alias="FLOWDECK_PROVIDER_WHATSAPP"
    )
    provider_voice: Literal["sandbox", "twilio"] = Field(
        default="sandbox", alias="FLOWDECK_PROVIDER_VOICE"
    )

    price_sms: float = Field(default=0.0079, ge=0, alias="FLOWDECK_PRICE_SMS")
    """Estimated cost of one SMS (test mode's cost estimate), in `price_currency`."""
    price_whatsapp: float = Field(default=0.005, ge=0, alias="FLOWDECK_PRICE_WHATSAPP")
    price_email: float = Field(default=0.0001, ge=0, alias="FLOWDECK_PRICE_EMAIL")
    price_voice_per_min: float = Field(default=0.014, ge=0, alias="FLOWDECK_PRICE_VOICE_PER_MIN")
    price_currency: str = Field(default="USD", alias="FLOWDECK_PRICE_CURRENCY")

    http_allowlist: str = Field(default="", alias="FLOWDECK_HTTP_ALLOWLIST")
    """Comma-separated hosts or CIDRs that HTTP and CRM steps may reach although private."""
    webhook_sweep_s: float = Field(default=1.0, ge=0, alias="FLOWDECK_WEBHOOK_SWEEP_S")
    """How often the API offers new events to outgoing webhooks (0: never)."""
    webhook_retry_initial_s: float = Field(
        default=5.0, gt=0, alias="FLOWDECK_WEBHOOK_RETRY_INITIAL_S"
    )
    """The first wait before a failed webhook delivery is tried again (it doubles, to 1 h)."""
    webhook_retry_for_s: float = Field(default=86400.0, gt=0, alias="FLOWDECK_WEBHOOK_RETRY_FOR_S")
    """How long a webhook delivery is retried before it counts as failed."""
    webhook_disable_after: int = Field(default=5, ge=1, alias="FLOWDECK_WEBHOOK_DISABLE_AFTER")
    """Deliveries in a row that failed every retry before the webhook is disabled."""
    webhook_timeout_s: float = Field(default=15.0, gt=0, le=60, alias="FLOWDECK_WEBHOOK_TIMEOUT_S")
    """How long one delivery attempt waits for the receiver's answer."""
    max_nodes: int = Field(default=2000, ge=1, alias="FLOWDECK_MAX_NODES")
    """Most nodes a flow may have. A node is 150-300 bytes of JSON, so 2,000 of them come near
    the definition's size limit; validating 2,000 takes well under a second, and a flow that
    big is better split into subflows anyway (the dashboard is measured at 300 nodes)."""
    max_definition_bytes: int = Field(
        default=512 * 1024, ge=1024, le=1536 * 1024, alias="FLOWDECK_MAX_DEFINITION_BYTES"
    )
    """Most bytes of JSON a flow's definition may have. It travels inside every execution's
    workflow input (with defaults filled in, the contact and the variables), and Temporal
    refuses payloads over 2 MB and gRPC messages over 4 MB: a flow over it would be saved,
    then fail every run."""
    admin_key: SecretStr | None = Field(default=None, alias="FLOWDECK_ADMIN_KEY")
    secret_keys: SecretStr | None = Field(default=None, alias="FLOWDECK_SECRET_KEYS")
    """Comma-separated Fernet keys that encrypt connections' secrets (`store.vault`): the
    first encrypts, every one decrypts (rotation). Required in production; `flowdeck dev`
    generates one into `.data/secret_keys` when unset."""
    key_cache_s: float = Field(default=5.0, ge=0, le=60, alias="FLOWDECK_KEY_CACHE_S")
    """How long the API remembers a live key (no database read to authenticate meanwhile):
    a key revoked through another API process stops working within this long; 0: never."""
    max_body_bytes: int = Field(
        default=1024 * 1024, ge=1024, le=1024 * 1024 * 1024, alias="FLOWDECK_MAX_BODY_BYTES"
    )
    """The largest request body the API reads (Content-Length, or counted as a chunked body
    streams in); a larger one is refused with 413 before the rest of it is read."""
    health_timeout_s: float = Field(default=10.0, gt=0, le=60, alias="FLOWDECK_HEALTH_TIMEOUT_S")
    """How long readiness (`/api/health/ready`) waits for each of the database and Temporal,
    checked at the same time: long enough for a loaded box (a probe's own timeout should be
    longer, or it gives up first)."""
    embedded_worker: bool = Field(default=True, alias="FLOWDECK_EMBEDDED_WORKER")
    dev_processes: Literal["auto"] | Annotated[int, Field(ge=1, le=16)] = Field(
        default="auto", alias="FLOWDECK_DEV_PROCESSES"
    )
    """How many serving processes `flowdeck dev` runs, each the API and a worker on the one
    listening socket: `auto` is one per CPU core this process may use, at most
    `DEV_PROCESSES_AUTO_MAX`. One process runs its Python on one core (the GIL), so on two
    cores a second one took the http scenario of bench.throughput from about 40 runs a
    second to about 50 (bench/README.md)."""
    event_loop: Literal["auto", "uvloop", "asyncio"] = Field(
        default="auto", alias="FLOWDECK_EVENT_LOOP"
    )
    """The event loop `flowdeck dev`, `api` and `worker` run on: `auto` takes uvloop where it
    is installed (it is a dependency on Linux and macOS), else asyncio's own."""
    workflow_sandbox: bool = Field(default=False, alias="FLOWDECK_WORKFLOW_SANDBOX")
    """Run the interpreter inside Temporal's workflow sandbox (the test suite always does)."""
    log_level: str = Field(default="INFO", alias="FLOWDECK_LOG_LEVEL")
    log_json: bool = Field(default=False, alias="FLOWDECK_LOG_JSON")
    dashboard_dir: Path = Field(default=DASHBOARD_DIST, alias="FLOWDECK_DASHBOARD_DIR")
    """The built dashboard the API serves at `/` (`flowdeck dashboard build` writes it)."""

    @field_validator("secret_keys", mode="before")
    @classmethod
    def _blank_is_unset(cls, value: object) -> object:
        return None if isinstance(value, str) and not value.strip() else value

    @model_validator(mode="after")
    def _production_secrets(self) -> Settings:
        if self.environment == "production":
            if self.admin_key is None:
                raise ValueError("FLOWDECK_ADMIN_KEY must be set in production")
            if self.secret_keys is None:
                raise ValueError(
                    "FLOWDECK_SECRET_KEYS must be set in production (it encrypts connections' "
                    "secrets): generate one with `flowdeck connections new-key`"
                )
            if self.database_url.startswith("sqlite"):
                raise ValueError("production needs a PostgreSQL DATABASE_URL")
        return self

    def flow_limits(self) -> FlowLimits:
        """How big a flow may be, as validation checks it."""
        return FlowLimits(max_nodes=self.max_nodes, max_definition_bytes=self.max_definition_bytes)

    def providers(self) -> dict[Provider, str]:
        return {
            "sms": self.provider_sms,
            "whatsapp": self.provider_whatsapp,
            "email": self.provider_email,
            "voice": self.provider_voice,
        }

    def short_local_action_types(self) -> list[str]:
        """Action steps run as local activities when their attempt's timeout is at most
        `local_activity_max_s` (none while it is 0)."""
        if self.local_activity_max_s <= 0:
            return []
        return short_local_types(self.providers())

    def dev_process_count(self) -> int:
        """`FLOWDECK_DEV_PROCESSES` as a number: `auto` is the cores this process may run on
        (its CPU affinity, as a container limits it), at most `DEV_PROCESSES_AUTO_MAX`; one
        off Linux, where the kernel does not spread a shared port's connections."""
        if self.dev_processes != "auto":
            return self.dev_processes
        if sys.platform != "linux":
            return 1
        cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else None
        return max(1, min(cores or os.cpu_count() or 1, DEV_PROCESSES_AUTO_MAX))

    def local_action_types(self) -> list[str]:
        """Action steps quick enough to run as local activities (`schemas.steps.local_types`):
        tags, and sends while their provider is the sandbox."""
        return local_types(self.providers())

    def allowlist(self) -> tuple[list[str], list[ipaddress.IPv4Network | ipaddress.IPv6Network]]:
        """The allow-list split into host names and networks."""
        hosts: list[str] = []
        networks: list[ipaddress.IPv4Network | ipaddress.IPv6Network] = []
        for item in (part.strip() for part in self.http_allowlist.split(",")):
            if not item:
                continue
            try:
                networks.append(ipaddress.ip_network(item, strict=False))
            except ValueError:
                hosts.append(item.lower())
        return hosts, networks


@lru_cache
def get_settings() -> Settings:
    return Settings()
