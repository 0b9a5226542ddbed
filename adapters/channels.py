"""The channels through which an agent takes a payment (コンビニ本部コード / 収納機関コード), as data.

``data/channels.csv`` lists each code with its Japanese name, its kind (``store``, ``app``, ``card``,
``bank``, ``postal``) and, where the agent's own files spell it differently, that spelling. It holds the
spec's table (spec/settlement-formats.md) and the codes of DSK's published list the spec lacks (530 PayB,
680 クレジットカード集信代行(自治体専用), 750 J-Coin, 810 LINE Pay, 830 楽天銀行, 840 銀行Pay, 890 MMK設置店).
A code that is not in the table is still read and stored: reconciliation raises ``unexpected_channel`` for a
channel the office has not enabled for the agent, known or not.

>>> CHANNELS["0820"].name, CHANNELS["0680"].kind, name_of("0911"), name_of("0999")
('PayPay', 'card', '郵便振替(窓口)', None)
>>> CHANNELS["0010"].agent_name
'セブン－イレブン'
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from importlib import resources

KINDS = ("store", "app", "card", "bank", "postal")


@dataclass(frozen=True, slots=True)
class Channel:
    code: str
    """Four digits, as the gateway stores it (a file's three-digit code gets a leading zero)."""
    name: str
    kind: str
    agent_name: str
    """The name as agents' files write it (column 9 of a DSK row); the name when the table gives none."""


def _load() -> dict[str, Channel]:
    text = resources.files("adapters").joinpath("data/channels.csv").read_text(encoding="utf-8")
    table: dict[str, Channel] = {}
    for line_no, row in enumerate(csv.DictReader(io.StringIO(text)), start=2):
        code, name, kind = row["code"], row["name"].strip(), row["kind"]
        if not (len(code) == 4 and code.isascii() and code.isdigit()) or code in table:
            raise ValueError(f"adapters/data/channels.csv line {line_no} field code: {code!r}")
        if not name or kind not in KINDS:
            raise ValueError(f"adapters/data/channels.csv line {line_no} field {'kind' if name else 'name'}")
        table[code] = Channel(code, name, kind, row["agent_name"].strip() or name)
    return table


CHANNELS: dict[str, Channel] = _load()


def name_of(code: str) -> str | None:
    """The Japanese name of a four-digit channel code; ``None`` for a code the table does not know."""
    channel = CHANNELS.get(code)
    return channel.name if channel else None


__all__ = ["CHANNELS", "KINDS", "Channel", "name_of"]
