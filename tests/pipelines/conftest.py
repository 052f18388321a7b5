"""Fixtures for the pipeline tests: a tiny, consistent transactional database (SQLite, in a tmp dir)
built from the API's own schema and ledger posting builders, and the env that points the settings,
the warehouse and Dagster at tmp paths."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime
from decimal import ROUND_HALF_EVEN, Decimal
from pathlib import Path

import pytest
import sqlalchemy as sa
from sqlalchemy.orm import Session

from api.db import tables as t
from api.domain import ledger
from api.settings import PROJECT_ROOT, get_settings

LOAN_AMOUNT_CENTS = 500_000  # the design's story: $5,000 at 6 % over 36 months
LOAN_RATE_BPS = 600
LOAN_TERM = 36

# Personal data of the story's people: in the source only. The pipeline tests scan the whole warehouse
# for every one of these values.
BORROWER_PROFILE = {
    "legal_name": "Isabella Quintavalle",
    "date_of_birth": date(1991, 7, 15),
    "address_line1": "17 Via Nascosta",
    "address_line2": "Apt 4B",
    "city": "Springfield",
    "region": "Oregon",
    "postal_code": "97477",
    "country": "US",
    "phone": "+15415550199",
    "annual_income_cents": 6_500_000,  # 50k-75k
    "employment_status": "employed",
    "employer": "Hushhush Widgets LLC",
    "employment_length_years": 6,
    "housing": "rent",
}
INVESTOR_PROFILE = {
    "legal_name": "Ivan Leapdayson",
    "date_of_birth": date(1960, 2, 29),
    "address_line1": "1 Quiet Lane",
    "city": "Portland",
    "postal_code": "97201",
    "country": "US",
    "phone": "+15035550111",
    "annual_income_cents": 20_000_000,  # 150k+
    "employment_status": "retired",
    "employer": "Formerly Secretive Corp",
    "risk_preference": "balanced",
}
SECOND_MONTH_INCOME_CENTS = 8_000_000  # the borrower's raise in the second month: 75k-100k


def at(*args: int) -> datetime:
    """A UTC timestamp (the API's timestamps are timezone-aware UTC)."""
    return datetime(*args, tzinfo=UTC)


def create_schema(url: str) -> None:
    """The schema as the Alembic migrations build it (the source of truth); `create_all` only where
    there are no migrations yet."""
    if (PROJECT_ROOT / "migrations").is_dir() and (PROJECT_ROOT / "alembic.ini").is_file():
        from alembic import command
        from alembic.config import Config

        config = Config(str(PROJECT_ROOT / "alembic.ini"))
        config.set_main_option("script_location", str(PROJECT_ROOT / "migrations"))
        config.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
        command.upgrade(config, "head")
    else:
        engine = sa.create_engine(url)
        t.Base.metadata.create_all(engine)
        engine.dispose()


def amortization(principal: int, rate_bps: int, months: int) -> list[tuple[int, int, int, int]]:
    """(payment, principal, interest, balance_after) per month; interest rounded half-even, the last
    installment takes the remaining balance so the principal parts sum to the loan amount."""
    r = Decimal(rate_bps) / Decimal(120_000)
    payment = int((principal * r / (1 - (1 + r) ** -months)).quantize(Decimal(1), ROUND_HALF_EVEN))
    rows, balance = [], principal
    for n in range(1, months + 1):
        interest = int((balance * r).quantize(Decimal(1), ROUND_HALF_EVEN))
        part = balance if n == months else payment - interest
        balance -= part
        rows.append((part + interest, part, interest, balance))
    return rows


def split(total: int, weights: list[int]) -> list[int]:
    """Split `total` pro rata to `weights`; floor each part, then give the remainder cents to the
    largest fractional parts (ties to the earlier note), so the parts sum to the whole."""
    whole = sum(weights)
    parts = [total * w // whole for w in weights]
    order = sorted(range(len(weights)), key=lambda i: (-(total * weights[i] % whole), i))
    for i in order[: total - sum(parts)]:
        parts[i] += 1
    return parts


class Books:
    """Posts balanced ledger transactions with the API's posting builders."""

    def __init__(self, session: Session) -> None:
        self.session = session
        self.accounts: dict[str, int] = {}

    def account_id(self, code: str) -> int:
        if code not in self.accounts:
            account_type = ledger.account_type_of(code)
            owner = int(code.split(":", 1)[1]) if ":" in code else None
            row = t.LedgerAccount(
                code=code,
                account_type=account_type,
                investor_id=owner if account_type.startswith("investor_") else None,
                loan_id=owner if account_type.startswith("loan_") else None,
                created_at=at(2026, 3, 1),
            )
            self.session.add(row)
            self.session.flush()
            self.accounts[code] = row.account_id
        return self.accounts[code]

    def post(self, kind: str, postings: list[ledger.Posting], when: datetime, **refs: int) -> None:
        txn = t.LedgerTransaction(kind=kind, description=kind, created_at=when, **refs)
        self.session.add(txn)
        self.session.flush()
        for p in postings:
            self.session.add(
                t.LedgerEntry(
                    transaction_id=txn.transaction_id,
                    account_id=self.account_id(p.account_code),
                    amount_cents=p.amount_cents,
                )
            )
        self.session.flush()


@dataclass
class Story:
    """The source database and the ids the tests refer to."""

    url: str
    borrower_id: int
    profileless_borrower_id: int
    loan_id: int
    listed_loan_id: int
    investor_ids: tuple[int, int]
    investment_ids: tuple[int, int]
    notes: list[tuple[int, int, int]]  # (investment_id, investor_id, amount) of the funded loan
    profiles: dict[int, dict[str, object]]  # user_id -> the personal profile in the source

    def engine(self) -> sa.Engine:
        return sa.create_engine(self.url)


def repay(session: Session, books: Books, story: Story, number: int, when: datetime) -> None:
    """The borrower pays installment `number` in full; the payment is distributed to the notes."""
    inst = session.execute(
        sa.select(t.Installment).where(t.Installment.loan_id == story.loan_id, t.Installment.number == number)
    ).scalar_one()
    loan = session.get(t.Loan, story.loan_id)
    assert loan is not None
    payment = t.Payment(
        loan_id=story.loan_id,
        payer_user_id=loan.borrower_id,
        amount_cents=inst.payment_cents,
        principal_cents=inst.principal_cents,
        interest_cents=inst.interest_cents,
        fees_cents=0,
        processor_reference=f"pay-{number}",
        date=when.date(),
        created_at=when,
    )
    session.add(payment)
    session.flush()
    books.post(
        "repayment",
        ledger.repayment(story.loan_id, payment.amount_cents),
        when,
        loan_id=story.loan_id,
        payment_id=payment.payment_id,
    )
    weights = [amount for _, _, amount in story.notes]
    principal_parts = split(payment.principal_cents, weights)
    interest_parts = split(payment.interest_cents, weights)
    shares = []
    for (investment_id, investor_id, _), p, i in zip(story.notes, principal_parts, interest_parts, strict=True):
        session.add(
            t.PaymentDistribution(
                payment_id=payment.payment_id,
                investment_id=investment_id,
                investor_id=investor_id,
                principal_cents=p,
                interest_cents=i,
            )
        )
        shares.append((investor_id, p, i))
    books.post(
        "distribution",
        ledger.distribution(story.loan_id, shares),
        when,
        loan_id=story.loan_id,
        payment_id=payment.payment_id,
    )
    inst.paid_principal_cents = inst.principal_cents
    inst.paid_interest_cents = inst.interest_cents
    inst.paid_at = when
    session.add(
        t.Notification(
            user_id=loan.borrower_id,
            kind="payment_received",
            loan_id=story.loan_id,
            message=f"Payment {number} received",
            created_at=when,
        )
    )
    session.flush()


def deposit(session: Session, books: Books, investor_id: int, amount: int, when: datetime) -> None:
    investor = session.get(t.Investor, investor_id)
    assert investor is not None
    transfer = t.CashTransfer(
        user_id=investor.user_id,
        direction="deposit",
        amount_cents=amount,
        processor_reference=f"dep-{investor_id}-{amount}",
        created_at=when,
    )
    session.add(transfer)
    session.flush()
    books.post("deposit", ledger.deposit(investor_id, amount), when, transfer_id=transfer.transfer_id)


def build_story(url: str) -> Story:
    """A borrower with a full profile (name, birthday, address, phone, employer), a second borrower
    without one, two investors who deposit (one with a profile), a $5,000 loan at 6 % fully funded by them (60/40),
    disbursed on 2026-03-04 with its 36-month schedule, and the first installment repaid and
    distributed on 2026-04-04. A second loan is listed and partly funded (a commitment)."""
    create_schema(url)
    engine = sa.create_engine(url)
    with Session(engine) as s, s.begin():
        day = at(2026, 3, 1, 9, 0)
        borrower = t.User(
            username="bella", email="bella@example.com", password_hash="x", role="borrower", created_at=day
        )
        u1 = t.User(username="ivan", email="ivan@example.com", password_hash="x", role="investor", created_at=day)
        u2 = t.User(username="iris", email="iris@example.com", password_hash="x", role="investor", created_at=day)
        # a second borrower who never filled in a profile (and has no loans)
        bo = t.User(username="bo", email="bo@example.com", password_hash="x", role="borrower", created_at=day)
        s.add_all([borrower, u1, u2, bo])
        s.flush()
        s.add_all(
            [
                t.UserProfile(user_id=borrower.user_id, updated_at=day, **BORROWER_PROFILE),
                t.UserProfile(user_id=u1.user_id, updated_at=day, **INVESTOR_PROFILE),
            ]
        )
        i1 = t.Investor(user_id=u1.user_id, username="ivan", created_at=day)
        i2 = t.Investor(user_id=u2.user_id, username="iris", created_at=day)
        s.add_all([i1, i2])
        s.flush()
        books = Books(s)
        deposit(s, books, i1.investor_id, 400_000, at(2026, 3, 1, 10))
        deposit(s, books, i2.investor_id, 300_000, at(2026, 3, 1, 11))

        schedule = amortization(LOAN_AMOUNT_CENTS, LOAN_RATE_BPS, LOAN_TERM)
        loan = t.Loan(
            borrower_id=borrower.user_id,
            amount_cents=LOAN_AMOUNT_CENTS,
            interest_rate_bps=LOAN_RATE_BPS,
            term_months=LOAN_TERM,
            purpose="debt consolidation",
            grade="B",
            probability_of_default_ppm=42_000,
            score_model_version="test",
            status="active",
            funded_amount_cents=LOAN_AMOUNT_CENTS,
            monthly_payment_cents=schedule[0][0],
            created_at=at(2026, 3, 2, 9),
            funded_at=at(2026, 3, 3, 15),
            disbursed_at=at(2026, 3, 4, 12),
            first_due_date=date(2026, 4, 4),
        )
        s.add(loan)
        s.flush()
        notes = []
        for investor, amount, hour in ((i1, 300_000, 10), (i2, 200_000, 14)):
            inv = t.Investment(
                loan_id=loan.loan_id,
                investor_id=investor.investor_id,
                amount_cents=amount,
                created_at=at(2026, 3, 3, hour),
            )
            s.add(inv)
            s.flush()
            books.post(
                "investment",
                ledger.investment(investor.investor_id, amount),
                inv.created_at,
                loan_id=loan.loan_id,
                investment_id=inv.investment_id,
            )
            notes.append((inv.investment_id, investor.investor_id, amount))
        s.add(
            t.Notification(
                user_id=borrower.user_id,
                kind="loan_funded",
                loan_id=loan.loan_id,
                message="Your loan is fully funded",
                created_at=at(2026, 3, 3, 15),
            )
        )
        books.post(
            "disbursement",
            ledger.disbursement(loan.loan_id, [(i, a) for _, i, a in notes]),
            at(2026, 3, 4, 12),
            loan_id=loan.loan_id,
        )
        s.add(
            t.CashTransfer(
                user_id=borrower.user_id,
                direction="disbursement",
                amount_cents=LOAN_AMOUNT_CENTS,
                processor_reference="disb-1",
                created_at=at(2026, 3, 4, 12),
            )
        )
        for n, (payment, principal, interest, balance) in enumerate(schedule, start=1):
            due = date(2026 + (2 + n) // 12, (2 + n) % 12 + 1, 4)
            s.add(
                t.Installment(
                    loan_id=loan.loan_id,
                    number=n,
                    due_date=due,
                    payment_cents=payment,
                    principal_cents=principal,
                    interest_cents=interest,
                    balance_after_cents=balance,
                    paid_principal_cents=0,
                    paid_interest_cents=0,
                )
            )

        listed = t.Loan(
            borrower_id=borrower.user_id,
            amount_cents=200_000,
            interest_rate_bps=1250,
            term_months=24,
            purpose="car",
            grade="D",
            probability_of_default_ppm=120_000,
            score_model_version="test",
            status="listed",
            funded_amount_cents=50_000,
            monthly_payment_cents=9_461,
            created_at=at(2026, 3, 5, 9),
        )
        s.add(listed)
        s.flush()
        commit = t.Investment(
            loan_id=listed.loan_id, investor_id=i2.investor_id, amount_cents=50_000, created_at=at(2026, 3, 6, 9)
        )
        s.add(commit)
        s.flush()
        books.post(
            "investment",
            ledger.investment(i2.investor_id, 50_000),
            commit.created_at,
            loan_id=listed.loan_id,
            investment_id=commit.investment_id,
        )

        story = Story(
            url=url,
            borrower_id=borrower.user_id,
            profileless_borrower_id=bo.user_id,
            loan_id=loan.loan_id,
            listed_loan_id=listed.loan_id,
            investor_ids=(i1.investor_id, i2.investor_id),
            investment_ids=(notes[0][0], notes[1][0]),
            notes=notes,
            profiles={borrower.user_id: BORROWER_PROFILE, u1.user_id: INVESTOR_PROFILE},
        )
        repay(s, books, story, 1, at(2026, 4, 4, 8))
    engine.dispose()
    return story


def _add_second_month(story: Story) -> None:
    """More activity for the incremental run: installment 2 repaid and distributed, one more deposit,
    and the borrower reports a higher income."""
    engine = story.engine()
    with Session(engine) as s, s.begin():
        profile = s.get(t.UserProfile, story.borrower_id)
        assert profile is not None
        profile.annual_income_cents = SECOND_MONTH_INCOME_CENTS
        profile.updated_at = at(2026, 5, 5, 9)
        books = Books(s)
        books.accounts = {a.code: a.account_id for a in s.execute(sa.select(t.LedgerAccount)).scalars()}
        repay(s, books, story, 2, at(2026, 5, 4, 8))
        deposit(s, books, story.investor_ids[0], 10_000, at(2026, 5, 5, 10))
    engine.dispose()


@pytest.fixture(scope="module")
def pipeline_env(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Path, Story]]:
    """Env pointing the settings, the warehouse and Dagster at a tmp dir holding the story's database."""
    root = tmp_path_factory.mktemp("pipeline")
    dagster_home = root / "dagster_home"
    dagster_home.mkdir()
    (dagster_home / "dagster.yaml").write_text("telemetry:\n  enabled: false\n")
    url = f"sqlite:///{root / 'peerlend.db'}"
    story = build_story(url)
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("PEERLEND_DATABASE_URL", url)
        mp.setenv("PEERLEND_WAREHOUSE_PATH", str(root / "warehouse.duckdb"))
        mp.setenv("DAGSTER_HOME", str(dagster_home))
        mp.setenv("DBT_SEND_ANONYMOUS_USAGE_STATS", "false")
        get_settings.cache_clear()
        yield root, story
    get_settings.cache_clear()


@pytest.fixture
def add_second_month() -> Callable[[Story], None]:
    """Insert the second month's activity into the story's source database."""
    return _add_second_month


@pytest.fixture
def story_builder() -> Callable[[str], Story]:
    """Build the story's database at a SQLAlchemy URL (schema by the migrations)."""
    return build_story
