"""Pure rules about the contact that the interpreter applies: Do-Not-Call, call outcomes.

Passed through the sandbox (see workflows/sandbox.py); no I/O, no state.
"""

from __future__ import annotations

from typing import Any

from schemas.execution import CallStatusSignal
from schemas.steps import CONTACT_STEPS
from schemas.triggers import DNC_REASON, is_dnc

__all__ = ["CONTACT_STEPS", "DNC_REASON", "call_port", "is_dnc", "reaches_contact"]


def _address(value: Any) -> str:
    text = str(value or "").strip().lower()
    return text.removeprefix("whatsapp:")


def reaches_contact(config: dict[str, Any], contact: dict[str, Any]) -> bool:
    """Whether a rendered channel step is addressed to the contact (not, say, to sales)."""
    to = _address(config.get("to"))
    own = {_address(contact.get("phone")), _address(contact.get("email"))} - {""}
    return bool(to) and any(address in own for address in (part.strip() for part in to.split(",")))


def answered_port(answered_by: str | None) -> str:
    """An answered call's port: `voicemail` when machine detection says a machine (or fax)
    picked up, else `answered`."""
    answered_by = (answered_by or "").lower()
    if answered_by.startswith("machine") or answered_by == "fax":
        return "voicemail"
    return "answered"


def call_port(signal: CallStatusSignal) -> str | None:
    """The `ai_call` port a call status decides, or None while the call is undecided."""
    if signal.status in ("in-progress", "completed"):
        return answered_port(signal.answered_by)
    return {
        "busy": "busy",
        "no-answer": "missed",
        "failed": "failed",
        "canceled": "failed",
    }.get(signal.status)
