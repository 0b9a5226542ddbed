"""Bookkeeping of ``gateway settlements fetch``: which file of which source was already fetched."""

from __future__ import annotations

import datetime

import sqlalchemy as sa
from sqlmodel import Field
from sqlmodel import SQLModel

from gateway.models.base import created_at_field

FETCH_STATUSES = ("accepted", "duplicate_file", "rejected", "empty")


class FetchedFile(SQLModel, table=True):
    """One file a source listed and the gateway downloaded and ingested (whatever the ingest outcome).

    Unique on (source, name): a name is fetched once, unless the source later lists it with another SHA-256
    (a corrected file); then the row is updated to the new content.
    """

    __tablename__ = "fetched_files"
    __table_args__ = (
        sa.UniqueConstraint("source", "name", name="uq_fetched_files_source_name"),
        sa.CheckConstraint(f"status IN {FETCH_STATUSES!r}", name="ck_fetched_files_status"),
    )
    id: int | None = Field(default=None, primary_key=True)
    source: str = Field(max_length=64)
    """The source's ``name`` in the GATEWAY_FETCH_SOURCES file."""
    name: str = Field(max_length=255)
    """The file's name in the source's listing."""
    sha256: str = Field(max_length=64, index=True)
    size: int = Field(sa_column=sa.Column(sa.BigInteger, nullable=False))
    status: str = Field(max_length=16)
    """The ingest outcome: accepted, duplicate_file or rejected; or empty (a DSK pull day without data, not
    ingested; migration 0007)."""
    fetched_at: datetime.datetime = created_at_field()
