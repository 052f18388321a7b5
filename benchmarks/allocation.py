"""Auto-invest allocation pass: loans and rules per second of the set-based SQL run (api/lending/auto_invest.py,
api/lending/allocation_sql.py) on a fresh database.

    uv run python -m benchmarks.allocation                       # SQLite file in a temp dir, both sizes
    uv run python -m benchmarks.allocation --postgres postgresql+psycopg://postgres@127.0.0.1:5432/test
    uv run python -m benchmarks.allocation --sizes 1000x100

Each size builds its own database through the platform's services (investors with cash and an auto-invest
rule, listings priced and scored), then times one `auto_invest.run` (every round, the allocation log, the
notes and their ledger postings included) and prints listings/s and rules/s (rules x listings considered per
second is the pairs figure).

The machine is shared and noisy, so each size also measures a baseline in the same database right after the run:
the same number of note rows (the run's own notes, copied) written into `investments` by plain multi-row
INSERTs of 1,000 rows each, in a transaction that is rolled back. The database is ANALYZEd after it is built, as
a production database would be by autovacuum. The run's time over the baseline's is the
figure to compare between runs: it is what the placement costs beyond writing the notes at all."""

from __future__ import annotations

import argparse
import tempfile
import time
import uuid
from datetime import UTC, date, datetime
from pathlib import Path

from sqlalchemy import create_engine, text

from api.cash import service as cash_service
from api.identity import repository as identity_repo
from api.identity.caller import Caller
from api.integrations.bureau.base import CONSENT_VERSION, Consent
from api.integrations.processor import jobs as processor_jobs
from api.kit.db import Database
from api.ledger import repository as ledger_repo
from api.ledger.accounts import Owner
from api.lending import auto_invest
from api.lending import service as lending_service
from api.lending.schemas import AutoInvestRules
from api.settings import PROJECT_ROOT, Settings

CONSENT = Consent(given_at=datetime(2026, 12, 1, tzinfo=UTC), text_version=CONSENT_VERSION, ip=None, user_agent=None)
GRADE_SETS = [["A", "B"], ["A", "B", "C"], ["B", "C", "D"], ["C", "D", "E"], ["A", "B", "C", "D", "E", "F", "G"]]


def _migrate(url: str) -> None:
    from alembic import command
    from alembic.config import Config

    config = Config(str(PROJECT_ROOT / "alembic.ini"))
    config.set_main_option("script_location", str(PROJECT_ROOT / "migrations"))
    config.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    command.upgrade(config, "head")


def _caller(user_id: int, username: str, role: str, investor_id: int | None) -> Caller:
    return Caller(
        user_id=user_id,
        username=username,
        email=f"{username}@example.com",
        role=role,
        email_verified=True,
        session_id="bench",
        investor_id=investor_id,
        created_at=datetime.now(UTC),
    )


def build(database: Database, settings: Settings, rules: int, listings: int) -> None:
    with database.transaction() as session:
        for n in range(rules):
            user = identity_repo.add_user(session, f"ai_{n}", f"ai_{n}@example.com", "x", "investor")
            user.email_verified_at = datetime.now(UTC)
            account = identity_repo.add_investor(session, user)
            ledger_repo.open_accounts(session, Owner.INVESTOR, account.investor_id)
            caller = _caller(user.user_id, user.username, "investor", account.investor_id)
            cash_service.deposit(session, caller, (10 + n % 90) * 10_000)
            body = AutoInvestRules.model_validate(
                {
                    "grades": GRADE_SETS[n % len(GRADE_SETS)],
                    "amount_per_note": f"{25 * (1 + n % 2)}.00",
                    "max_per_loan": f"{25 * (2 + n % 4)}.00",
                    "cash_to_keep": f"{5 * (n % 7)}.00",
                }
            )
            auto_invest.save_rules(session, settings, caller, body)
        for n in range(listings):
            user = identity_repo.add_user(session, f"ab_{n}", f"ab_{n}@example.com", "x", "borrower")
            user.email_verified_at = datetime.now(UTC)
            profile = identity_repo.get_or_create_profile(session, user.user_id)
            for field, value in {
                "legal_name": f"Bench Borrower {n}",
                "date_of_birth": date(1960 + n % 40, 1 + n % 12, 1 + n % 28),
                "address_line1": "1 Load Street",
                "city": "Austin",
                "postal_code": f"{78000 + n % 900}",
                "country": "US",
                "phone": "+15125550100",
                "annual_income_cents": (30 + n % 120) * 100_000,
                "employment_status": "employed",
                "employment_length_years": n % 15,
                "housing": "rent",
            }.items():
                setattr(profile, field, value)
            borrower = _caller(user.user_id, user.username, "borrower", None)
            lending_service.create_loan(
                session,
                settings,
                borrower,
                amount_cents=(40 + n % 200) * 2_500,
                rate_bps=None,
                term_months=60,
                purpose="debt consolidation",
                consent=CONSENT,
            )
    # the deposits settle through the processor, as two business days would
    processor_jobs.settle_everything(database, processor_jobs.build_processor(settings, database), settings)


BASELINE_CHUNK = 1_000


def baseline(database: Database, run_id: int) -> float:
    """Seconds to INSERT as many note rows as the run placed (copies of its notes), 1,000 rows a statement,
    rolled back afterwards."""
    with database.transaction(write=False) as session:
        rows = [
            (int(a), int(b), int(c))
            for a, b, c in session.execute(
                text("SELECT loan_id, investor_id, amount_cents FROM allocations WHERE run_id = :run"), {"run": run_id}
            )
        ]
    engine = database.engine
    with engine.connect() as connection:
        transaction = connection.begin()
        now = datetime.now(UTC)
        started = time.perf_counter()
        for start in range(0, len(rows), BASELINE_CHUNK):
            chunk = rows[start : start + BASELINE_CHUNK]
            values = ", ".join(f"(:l{i}, :i{i}, :a{i}, :now, 'committed', 'auto')" for i in range(len(chunk)))
            params: dict[str, object] = {"now": now}
            for i, (loan_id, investor_id, cents) in enumerate(chunk):
                params.update({f"l{i}": loan_id, f"i{i}": investor_id, f"a{i}": cents})
            connection.execute(
                text(
                    "INSERT INTO investments (loan_id, investor_id, amount_cents, created_at, status, source) "
                    f"VALUES {values}"
                ),
                params,
            )
        elapsed = time.perf_counter() - started
        transaction.rollback()
    return elapsed


def measure(url: str, rules: int, listings: int) -> dict[str, float]:
    settings = Settings(env="test", database_url=url)
    database = Database(url)
    started = time.perf_counter()
    build(database, settings, rules, listings)
    built = time.perf_counter() - started
    # A database built a moment ago has no planner statistics yet (autovacuum has not run): PostgreSQL then
    # estimates every table at a row or two and, for instance, scans all 10,000 investors' commitments accounts
    # once per investor instead of looking each up. A production database has them; give this one the same.
    with database.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
        connection.execute(text("ANALYZE"))
    started = time.perf_counter()
    result = auto_invest.run(database, settings, trigger="benchmark", seed=20261202)
    elapsed = time.perf_counter() - started
    base = baseline(database, result.run_id)
    database.dispose()
    return {
        "baseline_s": base,
        "ratio": elapsed / base if base > 0 else float("nan"),
        "build_s": built,
        "run_s": elapsed,
        "notes": result.notes,
        "listings": result.listings,
        "listings_per_s": listings / elapsed,
        "rules_per_s": rules / elapsed,
        "pairs_per_s": rules * listings / elapsed,
    }


def _fresh(postgres: str | None, workdir: Path, label: str) -> tuple[str, object]:
    if not postgres:
        return f"sqlite:///{workdir / f'alloc_{label}.db'}", None
    admin = create_engine(postgres, isolation_level="AUTOCOMMIT")
    name = f"bench_alloc_{uuid.uuid4().hex[:8]}"
    with admin.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    return admin.url.set(database=name).render_as_string(hide_password=False), (admin, name)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--postgres", help="a PostgreSQL URL whose server gets a scratch database per size")
    parser.add_argument("--sizes", default="1000x100,10000x1000", help="rules x listings, comma-separated")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        for size in args.sizes.split(","):
            rules, listings = (int(x) for x in size.split("x"))
            url, cleanup = _fresh(args.postgres, Path(tmp), size)
            try:
                _migrate(url)
                m = measure(url, rules, listings)
            finally:
                if cleanup is not None:
                    admin, name = cleanup  # type: ignore[misc]
                    with admin.connect() as connection:  # type: ignore[attr-defined]
                        connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
            backend = "postgresql" if args.postgres else "sqlite"
            print(
                f"{backend} {rules} rules x {listings} listings: one run {m['run_s']:.2f} s, {m['notes']} notes; "
                f"{m['listings_per_s']:.0f} listings/s, {m['rules_per_s']:.0f} rules/s, "
                f"{m['pairs_per_s']:.0f} rule-listing pairs/s (build {m['build_s']:.0f} s); baseline (plain INSERT "
                f"of {m['notes']} note rows, same run) {m['baseline_s']:.3f} s, run/baseline {m['ratio']:.1f}x",
                flush=True,
            )


if __name__ == "__main__":
    main()
