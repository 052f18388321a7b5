"""Month-end distribution at scale, as SQL set operations on PostgreSQL, next to a plain COPY of as many rows.

    uv run python benchmarks/servicing.py [--loans 100000] [--notes 40]

In a scratch database (created and dropped): LOANS loans with NOTES notes each (outstanding principal per note)
and one month-end payment per loan (principal, interest, late fees). The distribution is the API's rule
(api/servicing/service.py `_distribute`, api/payments/split.py) done for every loan at once:

1. each part of each payment split pro rata to each note's outstanding principal by largest remainder: the
   floor of the exact share, the leftover cents one each to the largest remainders, ties to the older note
   (window functions: SUM and ROW_NUMBER over the loan);
2. the 1 % servicing fee of each payment, rounded half up, split over the notes by their shares the same way;
3. one row per note into `distributions` (a note's outstanding principal is derived from them, as in the API),
   the investors' ledger postings aggregated per investor account, and the balances updated in one statement;
4. a check that every loan's parts add up to its payment exactly (zero rows may come back).

The COPY baseline writes the same number of rows (LOANS x NOTES) into a table of the same shape with COPY FROM
STDIN, in the same run: the floor for "writing that many rows at all".
"""

from __future__ import annotations

import argparse
import io
import os
import time
import uuid
from concurrent.futures import ThreadPoolExecutor

import psycopg

ADMIN_URL = os.environ.get("BENCH_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/test")

SETUP = """
CREATE TABLE notes (investment_id bigint PRIMARY KEY, loan_id bigint NOT NULL, investor_id bigint NOT NULL,
                    outstanding_cents bigint NOT NULL);
CREATE TABLE month_payments (loan_id bigint PRIMARY KEY, principal_cents bigint NOT NULL,
                             interest_cents bigint NOT NULL, fees_cents bigint NOT NULL);
CREATE TABLE distributions (investment_id bigint NOT NULL, loan_id bigint NOT NULL, investor_id bigint NOT NULL,
                            principal_cents bigint NOT NULL, interest_cents bigint NOT NULL,
                            fees_cents bigint NOT NULL, servicing_fee_cents bigint NOT NULL);
CREATE TABLE copied (LIKE distributions);
CREATE TABLE accounts (account_type text NOT NULL, owner_id bigint NOT NULL, balance_cents bigint NOT NULL,
                       PRIMARY KEY (account_type, owner_id));
CREATE TABLE entries (account_type text NOT NULL, owner_id bigint NOT NULL, amount_cents bigint NOT NULL);
"""

FILL = """
INSERT INTO notes SELECT g, (g - 1) / %(notes)s + 1, (g * 7919) %% 20000 + 1, 2500 + (g * 37) %% 100000
FROM generate_series(1, %(loans)s::bigint * %(notes)s) g;
INSERT INTO month_payments
SELECT n.loan_id, (s.total / 30) + n.loan_id %% 97, (s.total / 120) + n.loan_id %% 13, CASE WHEN n.loan_id %% 50 = 0
       THEN 1500 ELSE 0 END
FROM (SELECT loan_id FROM notes GROUP BY loan_id) n JOIN (SELECT loan_id, SUM(outstanding_cents) AS total
      FROM notes GROUP BY loan_id) s USING (loan_id);
INSERT INTO accounts SELECT k, i, 0 FROM generate_series(1, 20000) i,
       (VALUES ('investor_cash'), ('investor_notes'), ('investor_interest_income')) v(k);
INSERT INTO accounts SELECT k, loan_id, 0 FROM month_payments,
       (VALUES ('loan_collections'), ('loan_principal'), ('loan_interest')) v(k);
INSERT INTO accounts VALUES ('platform_servicing_income', 0, 0);
ANALYZE;
"""

# Largest remainder for three parts at once, then the fee over the note's share.
DISTRIBUTE = """
INSERT INTO distributions
WITH base AS (
    SELECT n.investment_id, n.loan_id, n.investor_id, n.outstanding_cents AS w,
           (SUM(n.outstanding_cents) OVER (PARTITION BY n.loan_id))::bigint AS wsum,
           p.principal_cents AS tp, p.interest_cents AS ti, p.fees_cents AS tf
    FROM notes n JOIN month_payments p ON p.loan_id = n.loan_id
    WHERE n.loan_id %% %(parts)s = %(part)s
), shares AS (
    SELECT *, (tp * w) / wsum AS fp, (tp * w) %% wsum AS rp, (ti * w) / wsum AS fi, (ti * w) %% wsum AS ri,
              (tf * w) / wsum AS ff, (tf * w) %% wsum AS rf
    FROM base
), ranked AS (
    SELECT *,
        tp - (SUM(fp) OVER (PARTITION BY loan_id))::bigint AS lp,
        ti - (SUM(fi) OVER (PARTITION BY loan_id))::bigint AS li,
        tf - (SUM(ff) OVER (PARTITION BY loan_id))::bigint AS lf,
        ROW_NUMBER() OVER (PARTITION BY loan_id ORDER BY rp DESC, investment_id) AS kp,
        ROW_NUMBER() OVER (PARTITION BY loan_id ORDER BY ri DESC, investment_id) AS ki,
        ROW_NUMBER() OVER (PARTITION BY loan_id ORDER BY rf DESC, investment_id) AS kf
    FROM shares
), parts AS (
    SELECT investment_id, loan_id, investor_id,
           fp + (kp <= lp)::int AS p, fi + (ki <= li)::int AS i, ff + (kf <= lf)::int AS f
    FROM ranked
), gross AS (
    SELECT *, p + i + f AS g, (SUM(p + i + f) OVER (PARTITION BY loan_id))::bigint AS gsum FROM parts
), fee AS (
    SELECT *, (gsum * %(bps)s + 5000) / 10000 AS tfee FROM gross
), fee_shares AS (
    SELECT *, CASE WHEN gsum = 0 THEN 0 ELSE (tfee * g) / gsum END AS fs,
              CASE WHEN gsum = 0 THEN 0 ELSE (tfee * g) %% gsum END AS rs FROM fee
), fee_ranked AS (
    SELECT *, tfee - (SUM(fs) OVER (PARTITION BY loan_id))::bigint AS ls,
              ROW_NUMBER() OVER (PARTITION BY loan_id ORDER BY rs DESC, investment_id) AS ks FROM fee_shares
)
SELECT investment_id, loan_id, investor_id, p, i, f, fs + (ks <= ls)::int FROM fee_ranked
WHERE p + i + f > 0
"""

# Each batch's postings, one pass over its distributions: per investor, then per account kind.
POST = """
INSERT INTO entries
SELECT v.account_type, d.investor_id, v.amount
FROM (SELECT investor_id, SUM(principal_cents + interest_cents + fees_cents - servicing_fee_cents)::bigint AS cash,
             SUM(principal_cents)::bigint AS principal, SUM(interest_cents + fees_cents)::bigint AS income,
             SUM(servicing_fee_cents)::bigint AS fee
      FROM distributions WHERE loan_id %% %(parts)s = %(part)s GROUP BY investor_id) d
CROSS JOIN LATERAL (VALUES ('investor_cash', -d.cash), ('investor_notes', d.principal),
                           ('investor_interest_income', -d.income)) v(account_type, amount)
UNION ALL
SELECT v.account_type, d.loan_id, v.amount
FROM (SELECT loan_id, SUM(principal_cents + interest_cents + fees_cents)::bigint AS gross,
             SUM(principal_cents)::bigint AS principal, SUM(interest_cents + fees_cents)::bigint AS income
      FROM distributions WHERE loan_id %% %(parts)s = %(part)s GROUP BY loan_id) d
CROSS JOIN LATERAL (VALUES ('loan_collections', d.gross), ('loan_principal', -d.principal),
                           ('loan_interest', d.income)) v(account_type, amount)
UNION ALL
SELECT 'platform_servicing_income', 0, -COALESCE(SUM(servicing_fee_cents), 0)::bigint
FROM distributions WHERE loan_id %% %(parts)s = %(part)s
"""

# The balances, once every batch has posted: one set-based UPDATE (rows locked in account order first).
BALANCES = """
SELECT 1 FROM accounts ORDER BY account_type, owner_id FOR UPDATE;
UPDATE accounts a SET balance_cents = a.balance_cents + e.amount
FROM (SELECT account_type, owner_id, SUM(amount_cents)::bigint AS amount FROM entries GROUP BY 1, 2) e
WHERE e.account_type = a.account_type AND e.owner_id = a.owner_id
"""

CHECK = """
SELECT count(*) FROM month_payments p JOIN (
    SELECT loan_id, SUM(principal_cents) AS p, SUM(interest_cents) AS i, SUM(fees_cents) AS f,
           SUM(servicing_fee_cents) AS s, SUM(principal_cents + interest_cents + fees_cents)::bigint AS g
    FROM distributions GROUP BY loan_id) d USING (loan_id)
WHERE d.p <> p.principal_cents OR d.i <> p.interest_cents OR d.f <> p.fees_cents
   OR d.s <> (d.g * %(bps)s + 5000) / 10000
"""


def run(conn: psycopg.Connection, script: str, params: dict[str, int] | None = None) -> None:
    for statement in script.split(";"):
        if statement.strip():
            conn.execute(statement, params)  # type: ignore[arg-type]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--loans", type=int, default=100_000)
    parser.add_argument("--notes", type=int, default=40)
    parser.add_argument("--fee-bps", type=int, default=100)
    parser.add_argument("--workers", type=int, default=2, help="batches run at once (loan_id modulo), one per core")
    args = parser.parse_args()
    name = f"peerlend_bench_servicing_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(ADMIN_URL, autocommit=True) as admin:
        admin.execute(f'CREATE DATABASE "{name}"')
    try:
        url = ADMIN_URL.rsplit("/", 1)[0] + f"/{name}"
        with psycopg.connect(url) as conn:
            conn.execute("SET work_mem = '256MB'")
            conn.execute(SETUP)
            started = time.perf_counter()
            run(conn, FILL, {"loans": args.loans, "notes": args.notes})
            conn.commit()
            rows = args.loans * args.notes
            print(
                f"set-up: {args.loans:,} loans x {args.notes} notes = {rows:,} notes "
                f"in {time.perf_counter() - started:.1f} s"
            )

            started = time.perf_counter()
            splits = [0.0] * args.workers

            def batch(part: int) -> None:
                # One transaction per batch: its distribution rows and its postings commit together.
                with psycopg.connect(url) as worker:
                    worker.execute("SET work_mem = '256MB'")
                    worker.execute("SET jit = off")
                    params = {"bps": args.fee_bps, "parts": args.workers, "part": part}
                    t0 = time.perf_counter()
                    worker.execute(DISTRIBUTE, params)
                    splits[part] = time.perf_counter() - t0
                    worker.execute(POST, params)
                    worker.commit()

            with ThreadPoolExecutor(args.workers) as pool:
                list(pool.map(batch, range(args.workers)))
            batches_s = time.perf_counter() - started
            run(conn, BALANCES)
            conn.commit()
            total_s = time.perf_counter() - started
            written = conn.execute("SELECT count(*) FROM distributions").fetchone()
            wrong = conn.execute(CHECK, {"bps": args.fee_bps}).fetchone()
            unbalanced = conn.execute("SELECT COALESCE(SUM(balance_cents), 0) FROM accounts").fetchone()
            print(
                f"month-end distribution: {total_s:.1f} s with {args.workers} batches in parallel (split + fee + "
                f"insert {max(splits):.1f} s, batches with postings {batches_s:.1f} s, balances "
                f"{total_s - batches_s:.1f} s); {written[0] if written else 0:,} distribution rows; "
                f"loans whose parts do not add up: {wrong[0] if wrong else '?'}; ledger total "
                f"{unbalanced[0] if unbalanced else '?'} cents"
            )

            buffer = io.BytesIO()
            with conn.cursor().copy("COPY distributions TO STDOUT") as out:
                for chunk in out:
                    buffer.write(chunk)
            buffer.seek(0)
            started = time.perf_counter()
            with conn.cursor().copy("COPY copied FROM STDIN") as into:
                while chunk := buffer.read(1 << 20):
                    into.write(chunk)
            conn.commit()
            copy_s = time.perf_counter() - started
            print(
                f"plain COPY of the same {rows:,} rows: {copy_s:.1f} s; distribution / COPY = {total_s / copy_s:.1f}x"
            )
    finally:
        with psycopg.connect(ADMIN_URL, autocommit=True) as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


if __name__ == "__main__":
    main()
