"""Test-only crash points: ``GATEWAY_CRASH_AT=<name>`` makes the process kill itself (SIGKILL, no cleanup, no
rollback) when it reaches ``crash_point(<name>)``, so the crash tests (tests/security/test_crash.py) can stop
an ingest or a reconciliation run at an exact step and check that the rerun stores every record once.

Unset (always, outside those tests) a crash point costs one comparison: the variable is read once at import.
"""

from __future__ import annotations

import os
import signal

_CRASH_AT = os.environ.get("GATEWAY_CRASH_AT") or None


def crash_point(name: str) -> None:
    """Die here, at once, if this process was started with ``GATEWAY_CRASH_AT=name``."""
    if _CRASH_AT is not None and name == _CRASH_AT:
        os.kill(os.getpid(), signal.SIGKILL)
