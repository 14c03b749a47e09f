"""What every request and response body shares: strictness, bounds, phone numbers."""

from __future__ import annotations

from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field

from schemas.triggers import E164

INT32_MAX = 2**31 - 1
"""The largest value of an INTEGER column on PostgreSQL (version numbers, counters)."""
VersionNumber = Annotated[int, Field(ge=1, le=INT32_MAX)]
"""A flow's version number, as its column can hold it: larger ones are 422, not a 500."""


class RequestBody(BaseModel):
    """A request body: an unknown key is a 422 at its path, not silently dropped."""

    model_config = ConfigDict(extra="forbid")


class ResponseBody(BaseModel):
    """A response body, read from a store row's attributes."""

    model_config = ConfigDict(from_attributes=True)


def check_e164(value: str | None) -> str | None:
    """For field validators: a phone number in E.164, or None."""
    if value is not None and not E164.match(value):
        raise ValueError("not an E.164 phone number (`+` then 7 to 15 digits)")
    return value
