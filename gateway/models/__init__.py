"""The gateway's tables (SQLModel). Import every model module here so the metadata is complete."""

from __future__ import annotations

from sqlmodel import SQLModel

from gateway.models.claims import Claim
from gateway.models.claims import ClaimAdjustment
from gateway.models.claims import Debtor
from gateway.models.claims import PrintBatch
from gateway.models.claims import PrintBatchItem
from gateway.models.claims import Slip
from gateway.models.core import ApiToken
from gateway.models.core import AuditEvent
from gateway.models.core import AuditHead
from gateway.models.core import IdempotencyKey
from gateway.models.core import JobRun
from gateway.models.core import Meta
from gateway.models.core import User

metadata = SQLModel.metadata

__all__ = [
    "ApiToken",
    "AuditEvent",
    "AuditHead",
    "Claim",
    "ClaimAdjustment",
    "Debtor",
    "IdempotencyKey",
    "JobRun",
    "Meta",
    "PrintBatch",
    "PrintBatchItem",
    "Slip",
    "User",
    "metadata",
]
