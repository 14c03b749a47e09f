"""Bodies of the health probes."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel

Check = Literal["ok", "error"]


class Liveness(BaseModel):
    status: Literal["ok"] = "ok"


class Readiness(BaseModel):
    """Each dependency: `ok`, or `error` when it did not answer within
    `FLOWDECK_HEALTH_TIMEOUT_S`."""

    database: Check
    temporal: Check
