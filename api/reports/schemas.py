"""Reports' response bodies: an investor's portfolio, and de-identified aggregates for analysts."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

from pydantic import BaseModel, Field

from api.kit.schemas import Cents, RateBps
from api.lending.schemas import LoanStatus, NoteStatus


class NotePublic(BaseModel):
    investment_id: int
    loan_id: int
    amount: Cents
    grade: str
    interest_rate: RateBps
    loan_status: LoanStatus
    status: NoteStatus = Field(
        default="issued",
        description="The note's own state: committed to a listing (cancellable while it is listed), issued, "
        "cancelled by the investor, or released when the listing ended unfunded",
    )
    principal_received: Cents
    interest_received: Cents
    outstanding_principal: Cents
    created_at: datetime
    fees_received: Cents = 0
    recoveries_received: Cents = 0
    servicing_fees: Cents = 0
    charged_off: Cents = 0
    nar: Decimal | None = Field(default=None, description="Net annualized return, a fraction (0.0712 = 7.12 %)")
    xirr: Decimal | None = Field(default=None, description="IRR of the note's dated cash flows (pyxirr)")


class PortfolioPublic(BaseModel):
    investor_id: int
    username: str
    cash: Cents
    committed: Cents
    outstanding_principal: Cents
    interest_received: Cents
    principal_received: Cents
    portfolio_value: Cents
    notes: list[NotePublic]
    cash_available: Cents = Field(default=0, description="Spendable: settled cash")
    cash_pending: Cents = Field(default=0, description="In flight at the processor, not spendable")
    fees_received: Cents = Field(default=0, description="Late fees received")
    recoveries_received: Cents = 0
    servicing_fees: Cents = Field(default=0, description="Servicing and collection fees the platform kept")
    charged_off: Cents = Field(default=0, description="Principal written off")
    late_notes: int = 0
    charged_off_notes: int = 0
    nar: Decimal | None = Field(
        default=None,
        description="Net annualized return (LendingClub's, charged-off principal as loss; docs/servicing.md)",
    )
    xirr: Decimal | None = Field(default=None, description="IRR of every dated cash flow of the notes (pyxirr)")


class LoanBookRow(BaseModel):
    status: str
    grade: str
    loans: int
    amount: Cents
    funded_amount: Cents


class BandCount(BaseModel):
    band: str
    borrowers: int


class BorrowerBands(BaseModel):
    by_age: list[BandCount]
    by_income: list[BandCount]


class AnnualSummaryPublic(BaseModel):
    year: int
    interest: Cents
    late_fees: Cents
    recoveries: Cents
    servicing_fees: Cents
    losses: Cents = Field(description="Principal charged off in the year")
    net: Cents = Field(description="interest + late fees + recoveries - servicing fees - losses")
