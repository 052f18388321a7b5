"""A small warehouse with exactly the marts' contract, and helpers to point the dashboards at a file.

The story, January to April 2026:
- alice (borrower 1) borrows $5,000.00 at 12.00 % over 12 months (loan 101, grade A, disbursed 2026-01-10,
  three installments paid) and lists $2,500.00 more (loan 102, grade C, $1,000.00 funded, not disbursed);
- bob (borrower 2) borrows $1,200.00 at 9.00 % over 3 months (loan 201, grade B) and repays it;
- ivan (investor 10) holds $3,000.00 of loan 101 and all of loan 201; jane (investor 11) holds $2,000.00 of
  loan 101 and has $1,000.00 committed to loan 102.
Every figure is derived from these loans with integer cents, so the marts agree with each other.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import ROUND_HALF_EVEN, Decimal
from pathlib import Path

import duckdb
import pytest

from api.settings import get_settings
from dashboards.queries import MARTS_SCHEMA

ROOT = Path(__file__).resolve().parents[2]

MONEY = "DECIMAL(18,2)"


def _money_cols(*names: str) -> list[tuple[str, str]]:
    cols: list[tuple[str, str]] = []
    for name in names:
        cols += [(f"{name}_cents", "BIGINT"), (name, MONEY)]
    return cols


# The marts' contract, column by column, in the order of the brief.
MART_DDL: dict[str, list[tuple[str, str]]] = {
    "fct_borrower_loans": [
        ("loan_id", "BIGINT"),
        ("borrower_id", "BIGINT"),
        ("borrower_username", "VARCHAR"),
        ("purpose", "VARCHAR"),
        ("grade", "VARCHAR"),
        ("status", "VARCHAR"),
        ("interest_rate", "DECIMAL(6,2)"),
        ("term_months", "INTEGER"),
        *_money_cols(
            "amount",
            "funded_amount",
            "monthly_payment",
            "principal_repaid",
            "interest_paid",
            "outstanding_principal",
        ),
        ("payments_count", "INTEGER"),
        ("next_due_date", "DATE"),
        ("created_at", "TIMESTAMP"),
        ("disbursed_at", "TIMESTAMP"),
    ],
    "fct_loan_schedule": [
        ("loan_id", "BIGINT"),
        ("borrower_id", "BIGINT"),
        ("installment_number", "INTEGER"),
        ("due_date", "DATE"),
        *_money_cols("payment", "principal", "interest", "balance_after", "paid_principal", "paid_interest"),
        ("is_paid", "BOOLEAN"),
    ],
    "fct_investor_portfolios": [
        ("investor_id", "BIGINT"),
        ("user_id", "BIGINT"),
        ("username", "VARCHAR"),
        *_money_cols(
            "cash",
            "committed",
            "outstanding_principal",
            "principal_received",
            "interest_received",
            "total_invested",
            "portfolio_value",
        ),
        ("notes_count", "INTEGER"),
        ("loans_count", "INTEGER"),
    ],
    "fct_investor_notes": [
        ("investment_id", "BIGINT"),
        ("investor_id", "BIGINT"),
        ("loan_id", "BIGINT"),
        ("grade", "VARCHAR"),
        ("interest_rate", "DECIMAL(6,2)"),
        ("loan_status", "VARCHAR"),
        *_money_cols("amount", "principal_received", "interest_received", "outstanding_principal"),
        ("invested_at", "TIMESTAMP"),
    ],
    "fct_platform_kpis_daily": [
        ("activity_date", "DATE"),
        ("loans_listed", "INTEGER"),
        ("loans_funded", "INTEGER"),
        *_money_cols(
            "originations",
            "repayments",
            "interest_paid",
            "deposits",
            "outstanding_principal",
            "cumulative_originations",
        ),
        ("active_investors", "INTEGER"),
    ],
}


@dataclass(frozen=True)
class Loan:
    loan_id: int
    borrower_id: int
    username: str
    purpose: str
    grade: str
    status: str
    rate: Decimal  # percent a year
    term: int
    amount: int  # cents
    funded: int  # cents
    created: dt.datetime
    disbursed: dt.datetime | None
    paid_installments: int
    owners: tuple[tuple[int, int, int], ...]  # (investment_id, investor_id, cents)


LOANS = (
    Loan(
        101,
        1,
        "alice",
        "debt consolidation",
        "A",
        "active",
        Decimal("12.00"),
        12,
        500_000,
        500_000,
        dt.datetime(2026, 1, 5, 9),
        dt.datetime(2026, 1, 10, 12),
        3,
        ((1001, 10, 300_000), (1003, 11, 200_000)),
    ),
    Loan(
        102,
        1,
        "alice",
        "home improvement",
        "C",
        "listed",
        Decimal("18.50"),
        36,
        250_000,
        100_000,
        dt.datetime(2026, 4, 20, 9),
        None,
        0,
        ((1004, 11, 100_000),),
    ),
    Loan(
        201,
        2,
        "bob",
        "car repair",
        "B",
        "repaid",
        Decimal("9.00"),
        3,
        120_000,
        120_000,
        dt.datetime(2025, 12, 28, 9),
        dt.datetime(2026, 1, 3, 12),
        3,
        ((1002, 10, 120_000),),
    ),
)
INVESTORS = {10: (3, "ivan", 1_234_567), 11: (4, "jane", 50_000)}  # investor_id: (user_id, username, cash)
DEPOSITS = {dt.date(2026, 1, 2): 1_654_567, dt.date(2026, 1, 4): 350_000}
FIRST_DAY, LAST_DAY = dt.date(2026, 1, 1), dt.date(2026, 4, 30)


def _round(x: Decimal) -> int:
    return int(x.quantize(Decimal(1), rounding=ROUND_HALF_EVEN))


def _add_months(day: dt.date, months: int) -> dt.date:
    month = day.month - 1 + months
    return day.replace(year=day.year + month // 12, month=month % 12 + 1)


def monthly_payment(loan: Loan) -> int:
    r = loan.rate / 1200
    return _round(loan.amount * r / (1 - (1 + r) ** -loan.term))


def schedule(loan: Loan) -> list[dict]:
    """Level-payment schedule in cents; the last installment takes the rounding remainder."""
    if loan.disbursed is None:
        return []
    r, balance, pay, rows = loan.rate / 1200, loan.amount, monthly_payment(loan), []
    for n in range(1, loan.term + 1):
        interest = _round(balance * r)
        principal = balance if n == loan.term else pay - interest
        balance -= principal
        paid = n <= loan.paid_installments
        rows.append(
            {
                "n": n,
                "due": _add_months(loan.disbursed.date(), n),
                "principal": principal,
                "interest": interest,
                "payment": principal + interest,
                "balance": balance,
                "paid": paid,
            }
        )
    return rows


def _split(total: int, owners: tuple[tuple[int, int, int], ...], amount: int) -> list[int]:
    """Pro-rata by note size, remainder cents to the first note."""
    parts = [total * cents // amount for _, _, cents in owners]
    parts[0] += total - sum(parts)
    return parts


def _money_values(*cents: int) -> list:
    out: list = []
    for c in cents:
        out += [c, Decimal(c).scaleb(-2)]
    return out


def build_warehouse(path: Path) -> Path:
    """Write the marts to a new DuckDB file at ``path`` and close it."""
    loans, sched, notes, daily = [], [], [], {}
    note_totals: dict[int, dict[str, int]] = {}
    for loan in LOANS:
        rows = schedule(loan)
        paid = [r for r in rows if r["paid"]]
        repaid_p, paid_i = sum(r["principal"] for r in paid), sum(r["interest"] for r in paid)
        unpaid = [r for r in rows if not r["paid"]]
        outstanding = loan.amount - repaid_p if loan.disbursed else 0
        loans.append(
            [
                loan.loan_id,
                loan.borrower_id,
                loan.username,
                loan.purpose,
                loan.grade,
                loan.status,
                loan.rate,
                loan.term,
                *_money_values(loan.amount, loan.funded, monthly_payment(loan), repaid_p, paid_i, outstanding),
                len(paid),
                unpaid[0]["due"] if unpaid else None,
                loan.created,
                loan.disbursed,
            ]
        )
        for r in rows:
            sched.append(
                [
                    loan.loan_id,
                    loan.borrower_id,
                    r["n"],
                    r["due"],
                    *_money_values(
                        r["payment"],
                        r["principal"],
                        r["interest"],
                        r["balance"],
                        r["principal"] if r["paid"] else 0,
                        r["interest"] if r["paid"] else 0,
                    ),
                    r["paid"],
                ]
            )
        ps, is_ = _split(repaid_p, loan.owners, loan.amount), _split(paid_i, loan.owners, loan.amount)
        for (inv_id, investor_id, cents), p, i in zip(loan.owners, ps, is_, strict=True):
            note_out = cents - p if loan.disbursed else 0
            notes.append(
                [
                    inv_id,
                    investor_id,
                    loan.loan_id,
                    loan.grade,
                    loan.rate,
                    loan.status,
                    *_money_values(cents, p, i, note_out),
                    loan.created + dt.timedelta(days=1),
                ]
            )
            t = note_totals.setdefault(investor_id, dict.fromkeys(("inv", "p", "i", "out", "com", "n"), 0))
            t["inv"] += cents
            t["p"] += p
            t["i"] += i
            t["out"] += note_out
            t["com"] += 0 if loan.disbursed else cents
            t["n"] += 1

        # platform events
        def event(day: dt.date) -> dict[str, int]:
            return daily.setdefault(day, dict.fromkeys(("listed", "funded", "orig", "repay", "int"), 0))

        if FIRST_DAY <= loan.created.date() <= LAST_DAY:
            event(loan.created.date())["listed"] += 1
        if loan.disbursed:
            event(loan.disbursed.date())["funded"] += 1
            event(loan.disbursed.date())["orig"] += loan.amount
        for r in paid:
            event(r["due"])["repay"] += r["payment"]
            event(r["due"])["int"] += r["interest"]

    portfolios = []
    for investor_id, (user_id, username, cash) in INVESTORS.items():
        t = note_totals[investor_id]
        loans_count = len({n[2] for n in notes if n[1] == investor_id})
        portfolios.append(
            [
                investor_id,
                user_id,
                username,
                *_money_values(cash, t["com"], t["out"], t["p"], t["i"], t["inv"], cash + t["com"] + t["out"]),
                t["n"],
                loans_count,
            ]
        )

    kpis, outstanding, cumulative, day = [], 0, 0, FIRST_DAY
    while day <= LAST_DAY:
        e = daily.get(day, dict.fromkeys(("listed", "funded", "orig", "repay", "int"), 0))
        outstanding += e["orig"] - (e["repay"] - e["int"])
        cumulative += e["orig"]
        active = 1 if day < dt.date(2026, 1, 4) else 2
        kpis.append(
            [
                day,
                e["listed"],
                e["funded"],
                *_money_values(e["orig"], e["repay"], e["int"], DEPOSITS.get(day, 0), outstanding, cumulative),
                active,
            ]
        )
        day += dt.timedelta(days=1)

    con = duckdb.connect(str(path))
    try:
        for mart, rows in (
            ("fct_borrower_loans", loans),
            ("fct_loan_schedule", sched),
            ("fct_investor_portfolios", portfolios),
            ("fct_investor_notes", notes),
            ("fct_platform_kpis_daily", kpis),
        ):
            cols = MART_DDL[mart]
            con.execute(f"create schema if not exists {MARTS_SCHEMA}")
            con.execute(f"create table {MARTS_SCHEMA}.{mart} ({', '.join(f'{c} {t}' for c, t in cols)})")
            con.executemany(f"insert into {MARTS_SCHEMA}.{mart} values ({', '.join('?' * len(cols))})", rows)
    finally:
        con.close()
    return path


@pytest.fixture(scope="session")
def warehouse_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The small warehouse, built once per session. Tests only read it (``read_only=True``)."""
    return build_warehouse(tmp_path_factory.mktemp("warehouse") / "warehouse.duckdb")


@pytest.fixture
def point_settings_at(monkeypatch: pytest.MonkeyPatch):
    """Call with a path: sets ``PEERLEND_WAREHOUSE_PATH`` and refreshes the cached settings object."""

    def point(path: Path) -> Path:
        monkeypatch.setenv("PEERLEND_WAREHOUSE_PATH", str(path))
        get_settings.cache_clear()
        return path

    yield point
    get_settings.cache_clear()  # monkeypatch restores the env after this teardown; drop settings built from it


@pytest.fixture
def use_warehouse(point_settings_at, warehouse_file: Path) -> Path:
    """The dashboards read the fixture warehouse."""
    return point_settings_at(warehouse_file)


@pytest.fixture(autouse=True)
def _chdir_root(monkeypatch: pytest.MonkeyPatch) -> None:
    # AppTest resolves the app path, and the settings their `.env`, from the working directory.
    monkeypatch.chdir(ROOT)
