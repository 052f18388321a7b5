"""Every table of the transactional schema, gathered for Alembic, the warehouse's allow-list and tests.
Each domain owns its tables in its own `tables.py`."""

from __future__ import annotations

from api.cash.tables import CashTransfer
from api.db.base import Base, BigId, UtcDateTime
from api.idempotency.tables import IdempotencyRecord
from api.identity.tables import (
    AuditEntry,
    AuthSession,
    EmailToken,
    Investor,
    LoginThrottle,
    RefreshToken,
    User,
    UserProfile,
)
from api.integrations.processor.sandbox_tables import SandboxEvent, SandboxTransfer
from api.integrations.processor.tables import ProcessorEvent, ProcessorTransfer
from api.ledger.tables import LedgerAccount, LedgerEntry, LedgerTransaction
from api.lending.tables import (
    Allocation,
    AllocationClaim,
    AllocationHolding,
    AllocationInvestor,
    AllocationListing,
    AllocationRun,
    AutoInvestRule,
    AutoInvestRulePurpose,
    CreditPull,
    Investment,
    Loan,
    LoanEventRow,
    PortfolioPlan,
    PortfolioPlanNote,
)
from api.notifications.tables import Notification, OutboxMessage, ScheduledJob, WebhookSubscription
from api.payments.tables import Installment, Payment, PaymentDistribution
from api.servicing.tables import LoanFee, LoanServicingState, NoteChargeOff, ServicingRun

__all__ = [
    "Allocation",
    "AllocationClaim",
    "AllocationHolding",
    "AllocationInvestor",
    "AllocationListing",
    "AllocationRun",
    "AuditEntry",
    "AutoInvestRule",
    "AutoInvestRulePurpose",
    "CreditPull",
    "AuthSession",
    "Base",
    "BigId",
    "CashTransfer",
    "EmailToken",
    "IdempotencyRecord",
    "Installment",
    "Investment",
    "Investor",
    "LedgerAccount",
    "LedgerEntry",
    "LedgerTransaction",
    "Loan",
    "LoanEventRow",
    "LoanFee",
    "LoanServicingState",
    "LoginThrottle",
    "NoteChargeOff",
    "Notification",
    "OutboxMessage",
    "Payment",
    "PaymentDistribution",
    "PortfolioPlan",
    "PortfolioPlanNote",
    "ProcessorEvent",
    "ProcessorTransfer",
    "RefreshToken",
    "SandboxEvent",
    "SandboxTransfer",
    "ScheduledJob",
    "ServicingRun",
    "User",
    "UserProfile",
    "UtcDateTime",
    "WebhookSubscription",
]
