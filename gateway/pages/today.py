"""What each role's start page 「今日」 shows (one function per role; the template picks the panels)."""

from __future__ import annotations

from typing import Any

from gateway.context import Actor
from gateway.context import Context


def for_role(c: Context, actor: Actor) -> dict[str, Any]:
    """The panels of ``actor``'s start page."""
    return {}
