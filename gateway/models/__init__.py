"""The gateway's tables (SQLModel). Import every model module here so the metadata is complete."""

from __future__ import annotations

from sqlmodel import SQLModel

from gateway.models.claims import Claim
from gateway.models.claims import ClaimAdjustment
from gateway.models.claims import Debtor
from gateway.models.claims import DebtorNameIndex
from gateway.models.claims import PrintBatch
from gateway.models.claims import PrintBatchItem
from gateway.models.claims import Slip
from gateway.models.core import ApiToken
from gateway.models.core import AuditEvent
from gateway.models.core import AuditHead
from gateway.models.core import IdempotencyKey
from gateway.models.core import JobRun
from gateway.models.core import LoginThrottle
from gateway.models.core import Meta
from gateway.models.core import StaffSession
from gateway.models.core import User
from gateway.models.fetch import FetchedFile
from gateway.models.recon import AccountingEntry
from gateway.models.recon import ClaimStatusLog
from gateway.models.recon import ExceptionAction
from gateway.models.recon import Payment
from gateway.models.recon import ReconException
from gateway.models.recon import Refund
from gateway.models.recon import Remittance
from gateway.models.settlement import Agent
from gateway.models.settlement import AgentFee
from gateway.models.settlement import ApiClient
from gateway.models.settlement import BankRecord
from gateway.models.settlement import SettlementBatch
from gateway.models.settlement import SettlementFile
from gateway.models.settlement import SettlementRecord
from gateway.models.settlement import UnreconciledRecord
from gateway.models.settlement import UsedSignature

metadata = SQLModel.metadata

__all__ = [
    "AccountingEntry",
    "Agent",
    "AgentFee",
    "ApiClient",
    "ApiToken",
    "AuditEvent",
    "AuditHead",
    "BankRecord",
    "Claim",
    "ClaimAdjustment",
    "ClaimStatusLog",
    "Debtor",
    "DebtorNameIndex",
    "ExceptionAction",
    "FetchedFile",
    "IdempotencyKey",
    "JobRun",
    "LoginThrottle",
    "Meta",
    "Payment",
    "PrintBatch",
    "PrintBatchItem",
    "ReconException",
    "Refund",
    "Remittance",
    "SettlementBatch",
    "SettlementFile",
    "SettlementRecord",
    "Slip",
    "StaffSession",
    "UnreconciledRecord",
    "UsedSignature",
    "User",
    "metadata",
]
