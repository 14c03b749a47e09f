"""Named points where a fault-injection test makes this process die, as a power cut would.

`FLOWDECK_FAILPOINT=<name>` (a test setting, never set in production) kills the process with
SIGKILL the first time it reaches that point: no handler, no cleanup, no answer sent. The
points sit where a crash would leave work half-done (a row committed, its workflow not yet
started), so the tests can prove that recovery finishes it.
"""

from __future__ import annotations

import os
import signal

from schemas.settings import Settings

POINTS = frozenset({"run.after_commit", "run.after_start"})


def failpoint(settings: Settings, name: str) -> None:
    """Die here if this is the armed point."""
    assert name in POINTS, name
    if settings.failpoint == name:
        os.kill(os.getpid(), signal.SIGKILL)
