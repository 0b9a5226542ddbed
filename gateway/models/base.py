"""Shared column helpers: UTC timestamps and the Japan business date."""

from __future__ import annotations

import datetime
from typing import Any
from typing import cast
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from sqlmodel import Field
from sqlmodel import SQLModel

JST = ZoneInfo("Asia/Tokyo")
UTC = datetime.UTC


def utcnow() -> datetime.datetime:
    """The current instant, aware, in UTC (never the machine's local time)."""
    return datetime.datetime.now(UTC)


def japan_date(at: datetime.datetime) -> datetime.date:
    """The Asia/Tokyo calendar date of an aware instant."""
    if at.utcoffset() is None:
        raise ValueError("japan_date needs an aware datetime")
    return at.astimezone(JST).date()


# The field helpers declare the attribute's type, not Field's (untyped) return value, so models stay typed.
def created_at_field() -> datetime.datetime:
    return cast(datetime.datetime, Field(default_factory=utcnow, nullable=False))


def json_field() -> dict[str, Any]:
    return cast(dict[str, Any], Field(default_factory=dict, sa_column=sa.Column(sa.JSON, nullable=False)))


def text_field(*, nullable: bool = True) -> str | None:
    return cast(str | None, Field(default=None, sa_column=sa.Column(sa.Text, nullable=nullable)))


def table_of(model: type[SQLModel]) -> sa.Table:
    """The Core table of a table model (SQLModel sets ``__table__`` without declaring it to type checkers)."""
    table: sa.Table = cast(Any, model).__table__
    return table
