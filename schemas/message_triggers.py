"""The `message_received` trigger: its shape, and whether an inbound message matches it.

`{"type": "message_received", "channel": "sms", "to": "+15550001111", "keywords": ["price"],
"regex": "order\\s+#?\\d+"}`: an inbound SMS or WhatsApp that answers no waiting
`send_and_wait` starts the flow when every given key holds:

- `channel` (`sms` or `whatsapp`): the channel it came by; absent, either.
- `to`: the number (E.164) it was sent to; absent, any of the tenant's numbers.
- `keywords`: one of them is a word of the body, anywhere in it (case-insensitive, words
  compared whole: `price` matches "PRICE please" and "the price?", not "priceless"); a
  keyword of several words matches them in a row.
- `regex`: searches the body, with the conditions' safe-regex rules (`schemas.evaluate`: RE2,
  refused at validation when RE2 cannot run it).

Neither `keywords` nor `regex`: any message. Pure functions, like `schemas.triggers`.
"""

from __future__ import annotations

import re
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from schemas.conditions import Comparison
from schemas.evaluate import RegexError, evaluate, regex_error
from schemas.triggers import E164

MESSAGE_RECEIVED = "message_received"
OPT_OUT_WORDS = frozenset({"stop", "stopall", "unsubscribe", "cancel", "end", "quit", "optout"})
"""Twilio's opt-out keywords: a message that is only one of them starts no flow (the carrier
and Twilio handle the opt-out itself)."""
_WORD = re.compile(r"\w+")


def words(text: str) -> list[str]:
    return [w.casefold() for w in _WORD.findall(text)]


class MessageTrigger(BaseModel):
    """A `message_received` trigger as a flow stores it."""

    model_config = ConfigDict(extra="forbid")

    type: Literal["message_received"]
    channel: Literal["sms", "whatsapp"] | None = None
    to: str | None = Field(default=None, pattern=E164.pattern)
    keywords: list[str] | None = Field(default=None, min_length=1, max_length=100)
    regex: str | None = Field(default=None, min_length=1, max_length=1000)

    @field_validator("keywords")
    @classmethod
    def _keywords_have_words(cls, value: list[str] | None) -> list[str] | None:
        for keyword in value or []:
            if not words(keyword) or len(keyword) > 200:
                raise ValueError(f"keyword {keyword!r} has no word, or is over 200 characters")
        return value

    @field_validator("regex")
    @classmethod
    def _regex_runs(cls, value: str | None) -> str | None:
        reason = regex_error(value) if value is not None else None
        if reason is not None:
            raise ValueError(f"the regex cannot be used: {reason}")
        return value


def is_opt_out(body: str) -> bool:
    """Whether the message is only an opt-out keyword (`STOP`, `unsubscribe` …)."""
    return body.strip().casefold() in OPT_OUT_WORDS


def _has_phrase(body: list[str], phrase: list[str]) -> bool:
    size = len(phrase)
    return any(body[i : i + size] == phrase for i in range(len(body) - size + 1))


def judge(trigger: MessageTrigger, *, channel: str, to: str, body: str) -> tuple[bool, str]:
    """Whether the message matches the trigger, and why (not)."""
    if trigger.channel is not None and trigger.channel != channel:
        return False, f"channel is {channel}, not {trigger.channel}"
    if trigger.to is not None and trigger.to != to:
        return False, f"sent to {to}, not {trigger.to}"
    reasons = []
    if trigger.keywords is not None:
        said = words(body)
        found = [k for k in trigger.keywords if _has_phrase(said, words(k))]
        if not found:
            return False, "no keyword in the message"
        reasons.append(f"keyword {found[0]!r}")
    if trigger.regex is not None:
        try:
            held = evaluate(Comparison(var="body", op="regex", value=trigger.regex), {"body": body})
        except RegexError as exc:
            return False, str(exc)
        if not held:
            return False, "the regex does not match"
        reasons.append("the regex")
    return True, "matched " + (" and ".join(reasons) if reasons else "any message")


def trigger_data(
    *, contact_id: str, body: str, sender: str, to: str, channel: str, message_sid: str | None
) -> dict[str, Any]:
    """A run's `trigger.*`: `trigger.message.body` and the rest of the message."""
    message = {
        "body": body,
        "from": sender,
        "to": to,
        "channel": channel,
        "message_sid": message_sid,
    }
    return {"type": MESSAGE_RECEIVED, "contact_id": contact_id, "message": message}
