"""What one run reports (a value object, not an exception)."""

from __future__ import annotations

from dataclasses import dataclass
from dataclasses import field
from typing import Any


@dataclass
class RunResult:
    """What one run changed (a rerun with nothing new reports zeros)."""

    matched: int = 0
    confirmed: int = 0
    cancelled: int = 0
    exceptions_opened: int = 0
    by_kind: dict[str, int] = field(default_factory=dict)
    remittances_matched: int = 0
    as_of: str = ""

    def as_json(self) -> dict[str, Any]:
        return {
            "matched": self.matched,
            "confirmed": self.confirmed,
            "cancelled": self.cancelled,
            "exceptions_opened": self.exceptions_opened,
            "by_kind": dict(sorted(self.by_kind.items())),
            "remittances_matched": self.remittances_matched,
            "as_of": self.as_of,
        }
