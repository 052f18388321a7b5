"""The book simulator (pipelines.clone) on a small book: the API's reconciliation finds no difference, every
outcome appears, and every issued loan's rows are what the API's servicing would have written (its replay over
the loan's settled payments gives back each payment's waterfall, the late fees, the status and its events, the
installments' paid columns and the servicing snapshot; each distribution is split_pro_rata of the payment less
the servicing or collection fee)."""

from __future__ import annotations

import json
from collections import defaultdict
from datetime import date, datetime, timedelta
from fractions import Fraction
from pathlib import Path

import pytest
import sqlalchemy as sa
from sqlalchemy.orm import Session

from api.kit.money import round_half_up
from api.payments import servicing as sv
from api.payments.split import split_pro_rata
from api.servicing import repository as servicing_repo
from api.settings import Settings
from pipelines import clone

SPEC = clone.CloneSpec(loans=2_000, seed=11, chunk_loans=700)  # three chunks: ids must continue across them
THROUGH = SPEC.as_of - timedelta(days=1)


@pytest.fixture(scope="module")
def book(tmp_path_factory: pytest.TempPathFactory) -> tuple[sa.Engine, clone.Book]:
    path: Path = tmp_path_factory.mktemp("clone") / "book.db"
    url = f"sqlite:///{path}"
    built = clone.build(url, SPEC)
    engine = sa.create_engine(url)
    yield engine, built
    engine.dispose()


def _q(engine: sa.Engine, sql: str) -> list[tuple]:
    with engine.connect() as conn:
        return [tuple(r) for r in conn.execute(sa.text(sql)).all()]


def _day(value: str | date) -> date:
    return value if isinstance(value, date) else date.fromisoformat(value[:10])


def test_the_api_s_reconciliation_finds_no_difference(book: tuple[sa.Engine, clone.Book]) -> None:
    engine, built = book
    with Session(engine) as session:
        assert servicing_repo.ledger_total(session) == 0
        assert servicing_repo.unbalanced_transactions(session) == []
        assert servicing_repo.balances_off_postings(session) == []
        assert servicing_repo.loans_off_notes(session) == []
        assert servicing_repo.loans_off_servicing(session) == []
        assert servicing_repo.processor_cash(session) == servicing_repo.recorded_cash(session)
    counts = dict(
        _q(engine, "select 'loans', count(*) from loans union all select 'entries', count(*) from ledger_entries")
    )
    assert counts["loans"] == SPEC.loans and counts["entries"] == built.rows()["ledger_entries"]
    # ids are unique across chunks (primary keys) and every investor account that posted exists
    assert _q(
        engine,
        "select count(*) from ledger_entries e left join ledger_accounts a using (account_id) "
        "where a.account_id is null",
    ) == [(0,)]


def test_every_outcome_appears(book: tuple[sa.Engine, clone.Book]) -> None:
    engine, _ = book
    one = lambda sql: _q(engine, sql)[0][0]  # noqa: E731
    assert one("select count(*) from payments where prepayment_cents > 0") > 0  # partial and full prepayments
    assert (
        one(
            "select count(*) from loans l join (select loan_id, max(due_date) maturity from installments group by 1) i "
            "using (loan_id) where l.status = 'repaid' and date(l.closed_at) < i.maturity"
        )
        > 0
    )  # paid off before maturity
    assert one("select count(*) from loan_fees") > 0
    assert one("select count(*) from payments where fees_cents > 0") > 0  # late fees paid
    assert one("select count(*) from note_charge_offs") > 0
    assert one("select count(*) from payments where recovery_cents > 0") > 0
    assert one("select count(*) from payments where status = 'returned' and return_code = 'R01'") > 0
    kinds = {k for (k,) in _q(engine, "select distinct kind from ledger_transactions")}
    assert kinds >= {
        "deposit",
        "investment",
        "disbursement",
        "repayment",
        "distribution",
        "payment_return",
        "charge_off",
    }
    events = {e for (e,) in _q(engine, "select distinct event from loan_events")}
    assert events >= {"request", "list", "fund", "issue", "become_delinquent", "cure", "charge_off", "repay", "expire"}
    statuses = {s for (s,) in _q(engine, "select distinct status from loans")}
    assert statuses >= {"current", "grace", "late_16_30", "late_31_120", "charged_off", "repaid", "listed"}
    assert one("select count(*) from loan_servicing") == one(
        "select count(*) from loans where disbursed_at is not null"
    )


def test_each_loan_is_what_the_api_s_servicing_writes(book: tuple[sa.Engine, clone.Book]) -> None:
    engine, _ = book
    settings = Settings()
    rules = sv.Rules(settings.grace_days, settings.late_fee_min_cents, settings.late_fee_bps, settings.charge_off_days)
    by_loan: dict[str, defaultdict[int, list[tuple]]] = {}
    for name, sql in {
        "inst": "select loan_id, number, due_date, payment_cents, principal_cents, interest_cents, "
        "paid_principal_cents, paid_interest_cents, paid_at from installments order by loan_id, number",
        "pay": "select loan_id, payment_id, date, amount_cents, principal_cents, interest_cents, fees_cents, "
        "prepayment_cents, recovery_cents, excess_cents, servicing_fee_cents, status, created_at from payments "
        "order by loan_id, date, payment_id",
        "notes": "select loan_id, investment_id, amount_cents from investments where status = 'issued' "
        "order by loan_id, investment_id",
        "fees": "select loan_id, installment_number, assessed_on, amount_cents from loan_fees order by 1, 2",
        "events": "select loan_id, event, from_status, to_status, details from loan_events "
        "where event in ('become_delinquent', 'cure', 'charge_off', 'repay') order by loan_id, occurred_at, event_id",
        "snap": "select loan_id, as_of, status, days_past_due, principal_cents, interest_cents, fees_cents, "
        "excess_cents, past_due_cents, next_due_date, next_due_cents, payoff_cents, charged_off_on, "
        "charged_off_principal_cents, recovered_cents from loan_servicing",
        "written": "select loan_id, investment_id, principal_cents from note_charge_offs order by 1, 2",
    }.items():
        rows: defaultdict[int, list[tuple]] = defaultdict(list)
        for r in _q(engine, sql):
            rows[r[0]].append(r[1:])
        by_loan[name] = rows
    shares = {
        (r[0], r[1]): r[2:]
        for r in _q(
            engine,
            "select payment_id, investment_id, principal_cents, "
            "interest_cents, fees_cents, recovery_cents, servicing_fee_cents "
            "from payment_distributions",
        )
    }
    loans = _q(
        engine,
        "select loan_id, amount_cents, interest_rate_bps, disbursed_at, status from loans "
        "where disbursed_at is not null",
    )
    assert len(loans) > 1_500
    for loan_id, amount, rate, disbursed_at, status in loans:
        inst = by_loan["inst"][loan_id]
        terms = sv.Terms(amount, rate, _day(disbursed_at), tuple(_day(i[1]) for i in inst), tuple(i[2] for i in inst))
        settled = [p for p in by_loan["pay"][loan_id] if p[10] == "settled"]
        payments = [sv.Payment(f"{p[0]:012d}", _day(p[1]), p[2]) for p in settled]
        result = sv.service(terms, payments, THROUGH, rules)
        got = {f"{p[0]:012d}": p[2:9] for p in settled}
        for a in result.allocations:
            assert got[a.key] == (
                a.amount_cents,
                a.principal_cents,
                a.interest_cents,
                a.fees_cents,
                a.prepayment_cents,
                a.recovery_cents,
                a.excess_cents,
            ), loan_id
        assert status == result.state.status, loan_id
        assert [(f[0], _day(f[1]), f[2]) for f in by_loan["fees"][loan_id]] == [
            (f.installment, f.on, f.amount_cents) for f in result.fees
        ], loan_id
        # the lifecycle's servicing events follow the replay's status changes (a returned payment's loan may see
        # a change later than the replay dates it, when the return is known, but in the same order)
        assert [e[2] for e in by_loan["events"][loan_id]] == [c.status for c in result.changes], loan_id
        for e in by_loan["events"][loan_id]:
            assert set(json.loads(e[3])) == {"as_of", "days_past_due"}
        # the snapshot is the replay as of its day
        (snap,) = by_loan["snap"][loan_id]
        as_of = _day(snap[0])
        at = sv.service(terms, [p for p in payments if p.on <= as_of], as_of, rules)
        s = at.state
        expected = (
            s.status,
            at.days_past_due,
            s.principal_cents,
            s.interest_cents,
            s.fees_cents,
            s.excess_cents,
            at.past_due_cents,
            at.next_due_date,
            at.next_due_cents,
            at.payoff_cents,
            s.charged_off_on,
            s.charged_off_principal_cents,
            s.recovered_cents,
        )
        actual = (*snap[1:7], snap[7], snap[8] and _day(snap[8]), *snap[9:11], snap[11] and _day(snap[11]), *snap[12:])
        assert actual == expected, (loan_id, actual, expected)
        # installments: principal and interest paid so far, oldest first
        left_p = sum(a.principal_cents for a in result.allocations)
        left_i = sum(a.interest_cents for a in result.allocations)
        for i in inst:
            pi, pp = min(left_i, i[4]), min(left_p, i[3])
            left_i, left_p = left_i - pi, left_p - pp
            assert (i[5], i[6]) == (pp, pi), loan_id
            assert (i[7] is not None) == (pp == i[3] and pi == i[4]), loan_id
        # distributions: pro rata to outstanding principal (recoveries: to what was written off), less the fee
        notes = [(n[0], n[1]) for n in by_loan["notes"][loan_id]]
        outstanding = dict(notes)
        written = {w[0]: w[1] for w in by_loan["written"][loan_id]}
        for p in by_loan["pay"][loan_id]:
            payment_id, principal, interest, fees, recovery = p[0], p[3], p[4], p[5], p[7]
            if recovery:
                weights, bps = [written.get(n, 0) for n, _ in notes], settings.collection_fee_bps
            else:
                weights, bps = [max(0, outstanding[n]) for n, _ in notes], settings.servicing_fee_bps
            if sum(weights) == 0:
                weights = [a for _, a in notes]
            parts = [split_pro_rata(x, weights) for x in (principal, interest, fees, recovery)]
            gross = [sum(x) for x in zip(*parts, strict=True)]
            fee = round_half_up(Fraction(sum(gross) * bps, 10_000))
            fee_parts = split_pro_rata(fee, gross) if fee and sum(gross) else [0] * len(gross)
            assert p[9] == fee, (loan_id, payment_id)
            for (n, _), a, b, c, d, f in zip(notes, *parts, fee_parts, strict=True):
                assert shares.get((payment_id, n), (0, 0, 0, 0, 0)) == (a, b, c, d, f), (loan_id, payment_id)
                if p[10] == "settled":
                    outstanding[n] -= a
        if result.state.status == sv.CHARGED_OFF:
            assert sum(written.values()) == result.state.charged_off_principal_cents, loan_id
            assert {n: left for n, left in outstanding.items() if left} == written, loan_id


def test_ids_run_in_time_order_within_a_chunk_and_continue_across_chunks(book: tuple[sa.Engine, clone.Book]) -> None:
    engine, _ = book
    for table, key in (
        ("payments", "payment_id"),
        ("ledger_transactions", "transaction_id"),
        ("loan_events", "event_id"),
    ):
        ((lo, hi, n),) = _q(engine, f"select min({key}), max({key}), count(*) from {table}")
        assert (lo, hi) == (1, n), table
    first_chunk_last = _q(engine, "select max(payment_id) from payments where loan_id <= 700")[0][0]
    assert _q(engine, "select min(payment_id) from payments where loan_id > 700")[0][0] == first_chunk_last + 1
    assert datetime.fromisoformat(_q(engine, "select max(occurred_at) from loan_events")[0][0]) <= datetime.combine(
        SPEC.as_of, datetime.min.time()
    ) + timedelta(hours=18)


def test_a_postgresql_book_reconciles_too() -> None:
    """The same writer on PostgreSQL (COPY through ADBC, foreign keys enforced, identity sequences moved on)."""
    import uuid

    from tests.conftest import POSTGRES_URL

    admin = sa.create_engine(POSTGRES_URL, isolation_level="AUTOCOMMIT")
    name = f"peerlend_clone_{uuid.uuid4().hex[:10]}"
    with admin.connect() as conn:
        conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
    url = sa.engine.make_url(POSTGRES_URL).set(database=name).render_as_string(hide_password=False)
    engine = sa.create_engine(url)
    try:
        clone.build(url, clone.CloneSpec(loans=400, seed=5, chunk_loans=150))
        with Session(engine) as session:
            assert servicing_repo.ledger_total(session) == 0
            assert servicing_repo.unbalanced_transactions(session) == []
            assert servicing_repo.balances_off_postings(session) == []
            assert servicing_repo.loans_off_notes(session) == []
            assert servicing_repo.loans_off_servicing(session) == []
            assert servicing_repo.processor_cash(session) == servicing_repo.recorded_cash(session)
            nxt, top = session.execute(
                sa.text(
                    "select nextval(pg_get_serial_sequence('payments', 'payment_id')), max(payment_id) from payments"
                )
            ).one()
            assert nxt == top + 1
    finally:
        engine.dispose()
        with admin.connect() as conn:
            conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def test_set_balances_updates_only_the_staged_accounts_through_a_keyed_join(tmp_path: Path) -> None:
    """The writer's closing balances: one joined UPDATE that finds each staged account by key (the earlier
    correlated subqueries scanned the unindexed staging table once per account: quadratic at 1M loans)."""
    import polars as pl

    from pipelines.simulator.writer import BALANCES_UPDATE, Writer

    url = f"sqlite:///{tmp_path / 'balances.db'}"
    clone.migrate(url)
    stamp = datetime(2026, 11, 29, 18, 30)
    staged = pl.DataFrame(
        {"account_id": [1, 3], "balance_cents": [12_345, 0], "updated_at": [stamp, stamp]},
        schema={"account_id": pl.Int64, "balance_cents": pl.Int64, "updated_at": pl.Datetime("us")},
    )
    engine = sa.create_engine(url)
    try:
        untouched = _q(engine, "select balance_cents, updated_at from ledger_accounts where account_id = 2")
        with Writer(url) as writer:
            with writer.conn.cursor() as cur:  # the plan: one scan, every other table searched by key
                cur.adbc_ingest("clone_balances", writer.convert("ledger_accounts", staged), temporary=True)
                cur.execute("create unique index clone_balances_account on clone_balances (account_id)")
                cur.execute("explain query plan " + BALANCES_UPDATE)
                plan = [str(row[-1]) for row in cur.fetchall()]
                cur.execute("drop table clone_balances")
            writer._commit()
            assert sum(step.startswith("SCAN") for step in plan) == 1, plan
            writer.set_balances(staged)
        platform = "select account_id, balance_cents, updated_at from ledger_accounts where account_id <= 3 order by 1"
        assert _q(engine, platform) == [
            (1, 12_345, "2026-11-29 18:30:00.000000"),
            (2, *untouched[0]),
            (3, 0, "2026-11-29 18:30:00.000000"),
        ]
    finally:
        engine.dispose()
