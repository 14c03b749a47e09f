"""Bodies of simulating a sandbox send's or call's outcome."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

CallOutcome = Literal["answered", "missed", "busy", "failed", "voicemail"]


class SimulateBody(BaseModel):
    model_config = ConfigDict(extra="forbid")

    call: CallOutcome | None = None
    reply: str | None = Field(default=None, min_length=1, max_length=1600)

    @model_validator(mode="after")
    def _one(self) -> SimulateBody:
        if (self.call is None) == (self.reply is None):
            raise ValueError("give exactly one of `call` or `reply`")
        return self


class SimulateOut(BaseModel):
    execution_id: str
    signal: str
    sent: dict[str, Any]
