"""Shared column helpers: UTC timestamps and the Japan business date."""

from __future__ import annotations

import datetime
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from sqlmodel import Field

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


def created_at_field() -> datetime.datetime:
    return Field(default_factory=utcnow, nullable=False)


def json_field() -> dict:  # type: ignore[type-arg]
    return Field(default_factory=dict, sa_column=sa.Column(sa.JSON, nullable=False))


def text_field(*, nullable: bool = True) -> str | None:
    return Field(default=None, sa_column=sa.Column(sa.Text, nullable=nullable))
