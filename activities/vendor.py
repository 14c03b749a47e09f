"""What every connector step shares: its connection, its calls to the vendor, its failures.

A connector step names a connection (`config.connection`); `open_vendor` resolves it in the
step's tenant (`store.connections.resolve`, in a thread) and hands back a `Vendor`, through
which the step calls the vendor's API:

- every URL goes through the address guard of HTTP steps (`activities.net.guarded_request`:
  private and loopback addresses refused unless in `FLOWDECK_HTTP_ALLOWLIST`), whether it is a
  base URL from the connection's settings or a webhook URL from its secret;
- a token bucket per connection (`RATES`, per integration) spaces the calls out. It lives in
  the worker process: two workers each allow the full rate;
- a 429 or a 503 is retried, after the delay the vendor's `Retry-After` asks for when it gives
  one (the step's retryable error carries it as Temporal's `next_retry_delay`, so the
  activity's own retry policy waits that long), else after the step's retry policy's delay;
- a vendor's error becomes a step error with the vendor's code and message;
- the connection's secret is scrubbed from every error, log line and result (`Vendor.scrub`).
"""

from __future__ import annotations

import asyncio
import time
import urllib.parse
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from email.utils import parsedate_to_datetime
from typing import Any

from temporalio.exceptions import ApplicationError

from activities.net import FetchedResponse, guarded_request, is_retryable_status
from activities.step import StepContext
from schemas.connections import ResolvedConnection
from store.connections import resolve
from store.errors import ConnectionNotFound
from store.vault import UndecryptableSecret, Vault, VaultNotConfigured

CONNECTION_NOT_FOUND = "ConnectionNotFound"
CONNECTION_UNUSABLE = "ConnectionUnusable"
VENDOR_ERROR = "VendorError"
RATE_LIMITED = "RateLimited"

MASK = "••••"
MAX_RETRY_AFTER_S = 3600.0
"""A longer `Retry-After` is cut to an hour; the step's retries then ask again."""
RETRY_AFTER_STATUSES = frozenset({429, 503})


@dataclass(frozen=True)
class Rate:
    """Calls per second, and how many may go at once before the spacing starts."""

    per_s: float
    burst: int


RATES: dict[str, Rate] = {
    "slack": Rate(per_s=1.0, burst=3),  # chat.postMessage: about one a second per channel
    "teams": Rate(per_s=4.0, burst=4),  # incoming webhooks: four a second
    "stripe": Rate(per_s=25.0, burst=25),  # test mode's limit; live allows 100
    "postgresql": Rate(per_s=20.0, burst=10),  # the customer's database, not ours
    "shopify": Rate(per_s=2.0, burst=20),  # REST's leaky bucket: 40 calls, 2 a second
    "hubspot": Rate(per_s=4.0, burst=4),  # CRM search: 5 a second per account
    "salesforce": Rate(per_s=10.0, burst=10),  # its limits are per day and per org
    "zendesk": Rate(per_s=3.0, burst=5),  # Support API: 200 a minute on the Team plan
}
DEFAULT_RATE = Rate(per_s=10.0, burst=10)


@dataclass
class TokenBucket:
    """`rate.burst` tokens, refilled at `rate.per_s`; a call takes one, or waits for it."""

    rate: Rate
    tokens: float
    updated: float

    def take(self, now: float) -> float:
        """Take a token: the seconds to wait before using it (0: at once). A token not there
        yet is reserved all the same, so callers that arrive together queue up in order."""
        elapsed = max(now - self.updated, 0.0)
        self.tokens = min(float(self.rate.burst), self.tokens + elapsed * self.rate.per_s)
        self.updated = now
        self.tokens -= 1.0
        return 0.0 if self.tokens >= 0 else -self.tokens / self.rate.per_s


@dataclass
class RateLimiter:
    """One token bucket per connection, in this worker process."""

    buckets: dict[str, TokenBucket] = field(default_factory=dict)

    def delay(self, key: str, rate: Rate, now: float) -> float:
        bucket = self.buckets.get(key)
        if bucket is None or bucket.rate != rate:
            bucket = self.buckets[key] = TokenBucket(rate=rate, tokens=rate.burst, updated=now)
        return bucket.take(now)

    async def wait(self, key: str, rate: Rate) -> None:
        delay = self.delay(key, rate, time.monotonic())
        if delay > 0:
            await asyncio.sleep(delay)


LIMITER = RateLimiter()
"""The worker process's buckets."""


def retry_after(headers: Mapping[str, str], *, now: datetime | None = None) -> timedelta | None:
    """The delay a `Retry-After` header asks for (seconds or an HTTP date), at most an hour."""
    value = headers.get("retry-after", "").strip()
    if not value:
        return None
    try:
        seconds = float(value)
    except ValueError:
        try:
            when = parsedate_to_datetime(value)
        except (TypeError, ValueError):
            return None
        if when.tzinfo is None:
            when = when.replace(tzinfo=UTC)
        seconds = (when - (now or datetime.now(UTC))).total_seconds()
    if seconds != seconds:  # NaN
        return None
    return timedelta(seconds=min(max(seconds, 0.0), MAX_RETRY_AFTER_S))


def _looks_like_a_token(piece: str) -> bool:
    """A URL's path segment or query value that may be a credential: long, or longish with
    digits (not a word such as `services` or `webhook`)."""
    return len(piece) >= 16 or (len(piece) >= 8 and any(c.isdigit() for c in piece))


def secret_fragments(secret: Mapping[str, str]) -> list[str]:
    """Every string that would give a secret away: each value, and the parts of a URL that
    carry one (its password, its path's and query's token-like parts), longest first."""
    found: set[str] = set()
    for value in secret.values():
        if len(value) >= 4:
            found.add(value)
        parsed = urllib.parse.urlsplit(value)
        if parsed.scheme and parsed.netloc:
            if parsed.password:
                found.add(parsed.password)
                found.add(urllib.parse.unquote(parsed.password))
            pieces = parsed.path.split("/") + [
                v for _, v in urllib.parse.parse_qsl(parsed.query, keep_blank_values=False)
            ]
            found.update(p for p in pieces if _looks_like_a_token(p))
    return sorted((f for f in found if len(f) >= 4), key=len, reverse=True)


def scrub(value: Any, fragments: Iterable[str]) -> Any:
    """`value` (text, or JSON-like data) with every fragment of a secret masked."""
    fragments = list(fragments)
    if isinstance(value, str):
        for fragment in fragments:
            value = value.replace(fragment, MASK)
        return value
    if isinstance(value, dict):
        return {scrub(k, fragments): scrub(v, fragments) for k, v in value.items()}
    if isinstance(value, list):
        return [scrub(v, fragments) for v in value]
    return value


def vendor_error(
    message: str,
    *,
    retryable: bool,
    details: dict[str, Any],
    type: str = VENDOR_ERROR,
    next_retry_delay: timedelta | None = None,
) -> ApplicationError:
    return ApplicationError(
        message,
        details,
        type=type,
        non_retryable=not retryable,
        next_retry_delay=next_retry_delay,
    )


@dataclass(frozen=True)
class Vendor:
    """A connector step's resolved connection, and the one way it calls the vendor."""

    ctx: StepContext
    connection: ResolvedConnection
    label: str
    """The vendor's name as a user knows it, in errors: `Slack`, `Stripe`."""
    fragments: tuple[str, ...] = field(repr=False)
    """What `scrub` masks: the secret's parts (never shown, like the secret itself)."""

    @property
    def settings(self) -> dict[str, Any]:
        return self.connection.settings

    @property
    def secret(self) -> dict[str, str]:
        return self.connection.secret

    def scrub(self, value: Any) -> Any:
        return scrub(value, self.fragments)

    def failure(
        self,
        operation: str,
        message: str,
        *,
        retryable: bool,
        status: int | None = None,
        code: str | None = None,
        next_retry_delay: timedelta | None = None,
        type: str = VENDOR_ERROR,
    ) -> ApplicationError:
        """A step error naming the vendor and what it was asked, with the secret scrubbed."""
        details = {
            "integration": self.connection.integration,
            "connection": self.connection.name,
            "operation": operation,
            "status": status,
            "code": self.scrub(code) if code else None,
        }
        return vendor_error(
            self.scrub(message),
            retryable=retryable,
            details=details,
            type=type,
            next_retry_delay=next_retry_delay,
        )

    def refused(
        self,
        operation: str,
        response: FetchedResponse,
        code: str | None,
        text: str | None,
        *,
        retryable: bool | None = None,
    ) -> ApplicationError:
        """The vendor said no: `<Vendor> refused <operation> (HTTP n): <code>: <message>`;
        retryable for a 5xx (or 408) unless `retryable` says otherwise."""
        message = f"{self.label} refused {operation} (HTTP {response.status})"
        message += "".join(f": {part}" for part in (code, text) if part)
        if not code and not text:
            message += f": {response.excerpt()}"
        return self.failure(
            operation,
            message,
            retryable=is_retryable_status(response.status) if retryable is None else retryable,
            status=response.status,
            code=code,
        )

    async def request(
        self,
        operation: str,
        *,
        method: str,
        url: str,
        headers: dict[str, str] | None = None,
        json_body: Any = None,
        form: Mapping[str, str] | None = None,
        params: dict[str, str] | None = None,
        timeout_s: float = 15.0,
    ) -> FetchedResponse:
        """One call to the vendor, after the connection's rate limit allows it. A 429 or 503
        raises a retryable error that waits as the vendor's `Retry-After` asks; other
        statuses are the caller's to read."""
        await self.pace()
        request_headers = dict(headers or {})
        content = None
        if form is not None:
            content = urllib.parse.urlencode(form)
            request_headers["Content-Type"] = "application/x-www-form-urlencoded"
        self.ctx.log.info(
            "vendor.call",
            integration=self.connection.integration,
            connection=self.connection.name,
            operation=operation,
        )
        try:
            response = await guarded_request(
                self.ctx,
                method=method,
                url=url,
                timeout_s=timeout_s,
                headers=request_headers,
                params=params,
                json_body=json_body,
                content=content,
            )
        except ApplicationError as exc:
            # The guard's and the transport's own errors, which may quote the URL.
            raise self.failure(
                operation,
                f"{self.label} {operation}: {exc.message}",
                retryable=not exc.non_retryable,
                type=exc.type or VENDOR_ERROR,
            ) from None
        self.ctx.log.info(
            "vendor.answered",
            integration=self.connection.integration,
            operation=operation,
            status=response.status,
        )
        if response.status in RETRY_AFTER_STATUSES:
            raise self.limited(operation, response)
        return response

    def limited(self, operation: str, response: FetchedResponse) -> ApplicationError:
        delay = retry_after(response.headers)
        # Said as the vendor's answer, not as a promise: the step may have no retry left.
        asked = f", Retry-After {delay.total_seconds():g} s" if delay else ""
        what = "is rate limiting" if response.status == 429 else "is unavailable for"
        return self.failure(
            operation,
            f"{self.label} {what} {operation} (HTTP {response.status}{asked})",
            retryable=True,
            status=response.status,
            code="rate_limited" if response.status == 429 else "unavailable",
            next_retry_delay=delay,
            type=RATE_LIMITED,
        )

    async def pace(self) -> None:
        """Wait until the connection's rate limit allows one more call."""
        rate = RATES.get(self.connection.integration, DEFAULT_RATE)
        await LIMITER.wait(self.connection.id, rate)

    def base_url(self, default: str) -> str:
        return str(self.settings.get("base_url") or default).rstrip("/")


async def open_vendor(ctx: StepContext, *, connection: str, integration: str, label: str) -> Vendor:
    """The step's connection, resolved in its tenant; none of that name is a step error that a
    retry cannot fix, naming the connection."""
    try:
        vault = Vault.from_settings(ctx.settings)
        resolved = await asyncio.to_thread(
            resolve,
            ctx.engine,
            tenant_id=ctx.data.tenant_id,
            name=connection,
            integration=integration,
            vault=vault,
        )
    except ConnectionNotFound:
        raise vendor_error(
            f"no {integration} connection named {connection!r} in this tenant "
            "(create it under /api/connections)",
            retryable=False,
            details={"integration": integration, "connection": connection},
            type=CONNECTION_NOT_FOUND,
        ) from None
    except (VaultNotConfigured, UndecryptableSecret) as exc:
        raise vendor_error(
            f"the {integration} connection {connection!r} cannot be read: {exc}",
            retryable=False,
            details={"integration": integration, "connection": connection},
            type=CONNECTION_UNUSABLE,
        ) from None
    return Vendor(
        ctx=ctx,
        connection=resolved,
        label=label,
        fragments=tuple(secret_fragments(resolved.secret)),
    )
