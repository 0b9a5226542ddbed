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
from gateway.models.fetch import FetchedFile
from gateway.models.settlement import Agent
from gateway.models.settlement import AgentFee
from gateway.models.settlement import ApiClient
from gateway.models.settlement import BankRecord
from gateway.models.settlement import SettlementBatch
from gateway.models.settlement import SettlementFile
from gateway.models.settlement import SettlementRecord
from gateway.models.settlement import UsedSignature

metadata = SQLModel.metadata

__all__ = [
    "Agent",
    "AgentFee",
    "ApiClient",
    "ApiToken",
    "AuditEvent",
    "AuditHead",
    "BankRecord",
    "Claim",
    "ClaimAdjustment",
    "Debtor",
    "FetchedFile",
    "IdempotencyKey",
    "JobRun",
    "Meta",
    "PrintBatch",
    "PrintBatchItem",
    "SettlementBatch",
    "SettlementFile",
    "SettlementRecord",
    "Slip",
    "UsedSignature",
    "User",
    "metadata",
]
