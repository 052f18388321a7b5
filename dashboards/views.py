"""Pieces of pages that show API objects (a loan, its decision, its schedule, payments), shared by the pages.

They turn the API's JSON into tables and tiles with every amount formatted by ``dashboards.formatting``; charts
get integer cents (``charts.py`` divides by 100 for plotting only).
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Sequence
from decimal import Decimal
from typing import Any

import pandas as pd
import streamlit as st

from dashboards import statuses, ui
from dashboards.api_client import Installment, Loan, Note, Payment, Schedule
from dashboards.formatting import cents_to_decimal, day, moment, money, percent, share, to_decimal


def to_cents(value: str | Decimal | None) -> int:
    """An API money string as integer cents, for charts and sums (exact: the API sends two decimals)."""
    amount = to_decimal(value)
    return 0 if amount is None else int((amount * 100).to_integral_value())


def funded_share(loan: Loan) -> Decimal:
    if loan.get("funded_pct") is not None:  # the marketplace release sends it, in percent
        return (to_decimal(loan.get("funded_pct")) or Decimal(0)) / 100
    amount = to_decimal(loan.get("amount")) or Decimal(0)
    funded = to_decimal(loan.get("funded_amount")) or Decimal(0)
    return funded / amount if amount else Decimal(0)


def reasons(loan: Loan) -> list[str]:
    found = loan.get("reasons") or loan.get("score_reasons") or []  # type: ignore[misc]
    return [str(r if not isinstance(r, dict) else r.get("text") or r.get("reason") or r) for r in found]


def rate_floor(card: dict[str, Any] | None, grade: str | None) -> str | None:
    """The grade's lowest rate on the API's rate card (``GET /loans/rate-card``), when there is one."""
    for terms in (card or {}).get("grades") or []:
        if terms.get("grade") == grade:
            return terms.get("base_rate")
    return None


def decision(loan: Loan, floor: str | None = None) -> None:
    """The credit decision on a loan request: grade, rate and its floor, fee, APR, expected loss, reasons."""
    extra: dict[str, Any] = dict(loan)
    if floor is not None:
        extra["rate_floor"] = floor
    tiles = [
        ui.Kpi("Grade", str(loan.get("grade") or "—"), "A is the safest grade, G the riskiest."),
        ui.Kpi(
            "Interest rate",
            percent(loan.get("interest_rate")),
            "The annual rate you pay on the balance.",
            f"floor for grade {loan.get('grade')}: {percent(extra['rate_floor'])}" if extra.get("rate_floor") else None,
        ),
        ui.Kpi("Probability of default", share(loan.get("probability_of_default"), 2), "The credit model's estimate."),
    ]
    if extra.get("origination_fee") is not None:
        tiles.append(
            ui.Kpi(
                "Origination fee",
                money(extra["origination_fee"]),
                "Deducted from the amount paid out to you.",
                f"you receive {money(extra['disbursed_amount'])}" if extra.get("disbursed_amount") else None,
            )
        )
    if extra.get("apr") is not None:
        tiles.append(ui.Kpi("APR", percent(extra["apr"]), "Annual percentage rate: interest and fee together."))
    if extra.get("expected_loss") is not None:
        tiles.append(ui.Kpi("Expected loss", money(extra["expected_loss"]), "Amount x probability of default x LGD."))
    tiles.append(
        ui.Kpi("Monthly payment", money(loan.get("monthly_payment")), f"over {loan.get('term_months')} months")
    )
    ui.kpis(tiles, per_row=4)
    if extra.get("origination_fee") is None or extra.get("apr") is None:
        st.caption("Origination fee, rate floor and APR appear here once the API's pricing is live.")
    found = reasons(loan)
    if found:
        st.markdown("**Why this grade**")
        st.markdown("\n".join(f"- {r}" for r in found))


def funding_progress(loan: Loan, listing_days: int = 14) -> None:
    """How far the listing is funded, and how long it has left."""
    funded = funded_share(loan)
    st.progress(
        min(int(funded * 100), 100),  # a progress bar's position in percent
        text=f"{share(funded, 0)} funded: {money(loan.get('funded_amount'))} of {money(loan.get('amount'))}"
        f" ({money(loan.get('remaining_amount'))} to go)",
    )
    extra: dict[str, Any] = dict(loan)
    if extra.get("listing_expires_at") and statuses.is_open_for_investment(loan.get("status")):
        seconds = extra.get("seconds_left")
        left = f"{int(seconds) // 86400} days {int(seconds) % 86400 // 3600} hours, " if seconds is not None else ""
        st.caption(f"Time left: {left}until {moment(extra['listing_expires_at'])}")
    elif loan.get("created_at") and statuses.is_open_for_investment(loan.get("status")):
        created = dt.datetime.fromisoformat(str(loan["created_at"]))
        ends = created + dt.timedelta(days=listing_days)
        st.caption(f"The listing stays open until about {moment(ends)} ({listing_days} days after it was listed).")


def loans_table(loans: Sequence[Loan], outstanding: dict[int, str] | None = None) -> pd.DataFrame:
    outstanding = outstanding or {}
    return pd.DataFrame(
        {
            "Loan": [f"#{loan['loan_id']}" for loan in loans],
            "Purpose": [loan.get("purpose") for loan in loans],
            "Status": [statuses.label(loan.get("status")) for loan in loans],
            "Grade": [loan.get("grade") for loan in loans],
            "Rate": [percent(loan.get("interest_rate")) for loan in loans],
            "Term": [f"{loan.get('term_months')} mo" for loan in loans],
            "Amount": [money(loan.get("amount")) for loan in loans],
            "Funded": [share(funded_share(loan), 0) for loan in loans],
            "Monthly payment": [money(loan.get("monthly_payment")) for loan in loans],
            "Balance": [money(outstanding.get(int(loan["loan_id"]))) for loan in loans],
            "Listed on": [day(loan.get("created_at")) for loan in loans],
        }
    )


LOAN_TABLE_CONFIG = dict.fromkeys(("Rate", "Term", "Amount", "Funded", "Monthly payment", "Balance"), "right")


def owed(installment: Installment) -> Decimal:
    """What is left to pay on an installment."""
    paid = (to_decimal(installment["paid_principal"]) or Decimal(0)) + (
        to_decimal(installment["paid_interest"]) or Decimal(0)
    )
    return (to_decimal(installment["payment"]) or Decimal(0)) - paid


def next_installment(schedule: Schedule) -> Installment | None:
    return next((i for i in schedule["installments"] if i["status"] != "paid"), None)


def schedule_frame(schedule: Schedule) -> pd.DataFrame:
    """The schedule as the chart wants it: integer cents and an ``is_paid`` flag per installment."""
    rows = schedule["installments"]
    return pd.DataFrame(
        {
            "installment_number": [i["number"] for i in rows],
            "due_date": [i["due_date"] for i in rows],
            "principal_cents": [to_cents(i["principal"]) for i in rows],
            "interest_cents": [to_cents(i["interest"]) for i in rows],
            "balance_after_cents": [to_cents(i["balance_after"]) for i in rows],
            "is_paid": [i["status"] == "paid" for i in rows],
        }
    )


def schedule_table(schedule: Schedule, today: dt.date | None = None) -> pd.DataFrame:
    today = today or dt.date.today()
    state = {"paid": "Paid", "partial": "Part paid", "due": "Upcoming"}
    rows = schedule["installments"]
    return pd.DataFrame(
        {
            "#": [i["number"] for i in rows],
            "Due": [i["due_date"] for i in rows],
            "Payment": [money(i["payment"]) for i in rows],
            "Principal": [money(i["principal"]) for i in rows],
            "Interest": [money(i["interest"]) for i in rows],
            "Paid": [
                money((to_decimal(i["paid_principal"]) or 0) + (to_decimal(i["paid_interest"]) or 0)) for i in rows
            ],
            "Balance after": [money(i["balance_after"]) for i in rows],
            "State": [
                "Past due"
                if i["status"] != "paid" and dt.date.fromisoformat(i["due_date"]) < today
                else state[i["status"]]
                for i in rows
            ],
        }
    )


SCHEDULE_TABLE_CONFIG = dict.fromkeys(("Payment", "Principal", "Interest", "Paid", "Balance after"), "right")


def payments_table(payments: Sequence[Payment]) -> pd.DataFrame:
    """Payments made, with the late fees in them and the API's reason for each fee when it gives one."""
    rows: list[dict[str, Any]] = []
    for p in payments:
        extra: dict[str, Any] = dict(p)
        fee_reasons = extra.get("fee_reasons") or extra.get("late_fee_reasons") or []
        rows.append(
            {
                "Date": day(p.get("date")),
                "Amount": money(p.get("amount")),
                "Principal": money(p.get("principal")),
                "Interest": money(p.get("interest")),
                "Fees": money(p.get("fees")),
                "Fee reason": "; ".join(str(r) for r in fee_reasons)
                if fee_reasons
                else ("—" if to_cents(p.get("fees")) == 0 else "late fee"),
                "Balance after": money(p.get("outstanding_principal")),
                "Reference": p.get("processor_reference"),
            }
        )
    return pd.DataFrame(rows)


PAYMENTS_TABLE_CONFIG = dict.fromkeys(("Amount", "Principal", "Interest", "Fees", "Balance after"), "right")


def is_open_commitment(note: Note) -> bool:
    """A note the investor can still take back: committed to a listing that is still raising funds. An API that
    does not send the note's own status is read by its loan's, which cannot tell a cancelled note apart, so
    there a cancel may be refused with the API's 409 (shown as it is)."""
    return note.get("status", "committed") == "committed" and statuses.is_open_for_investment(note["loan_status"])


def total(values: Sequence[str | None]) -> Decimal:
    return sum((to_decimal(v) or Decimal(0) for v in values), Decimal(0))


def cents_total(values: Sequence[int]) -> Decimal:
    return cents_to_decimal(sum(int(v) for v in values))


MONEY_TEXT = re.compile(r"^-?\d+\.\d{2}$")


def text(value: Any) -> str:
    """A value of an API object we show generically: money strings as money, the rest as they are."""
    if isinstance(value, str) and MONEY_TEXT.match(value):
        return money(value)
    return "—" if value is None else str(value)


def input_drift(wh: Any, staff: Any) -> pd.DataFrame:
    """PSI of every input of the published model (``models.monitoring.psi_table``) from the warehouse's bins;
    empty when no application the published model scored has reached it."""
    from dashboards import queries
    from models import monitoring, scoring

    none = pd.DataFrame(columns=["input", "rows", "psi", "status"])
    try:
        version_dir = scoring.resolve_model_dir()
    except scoring.ModelNotAvailable:
        return none
    reference = scoring.read_metadata(version_dir).get("monitoring_reference")
    rows = queries.model_input_bins(wh, staff, version_dir.name)
    if not reference or rows.empty:
        return none
    table = monitoring.psi_table(pd.DataFrame(), reference, monitoring.bin_counts(rows))
    return table[table["input"].isin(list(reference["inputs"]))].reset_index(drop=True)
