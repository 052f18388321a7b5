"""Peerlend benchmarks. Prints figures as ratios against baselines measured in the same run, since
the machines are shared and noisy.

    uv run python benchmarks/run.py            # or: make bench

1. Schedule maths: `api.payments.schedule.amortize` (exact rationals, 36 months) against
   numpy-financial computing the same payment/interest/principal arrays in floats.
2. Pro-rata split: `split_pro_rata` over 200 notes against a naive float `round()` split.
3. API on SQLite and PostgreSQL: one investment (auth, row locks, ledger posting, idempotency claim)
   against `GET /health` (one round trip to the same database), requests per second and the ratio.
"""

from __future__ import annotations

import os
import statistics
import sys
import tempfile
import time
import uuid
from collections.abc import Callable
from datetime import date
from pathlib import Path

import numpy as np
import numpy_financial as npf

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from api.payments.split import split_pro_rata  # noqa: E402
from api.payments.schedule import amortize  # noqa: E402


def best_of(fn: Callable[[], object], repeat: int = 5, number: int = 200) -> float:
    """Seconds per call, the best of `repeat` rounds of `number` calls."""
    rounds = []
    for _ in range(repeat):
        start = time.perf_counter()
        for _ in range(number):
            fn()
        rounds.append((time.perf_counter() - start) / number)
    return min(rounds)


def bench_schedule() -> None:
    def numpy_schedule() -> object:
        rate, n, pv = 0.06 / 12, 36, 5000.0
        periods = np.arange(1, n + 1)
        return npf.pmt(rate, n, pv), npf.ipmt(rate, periods, n, pv), npf.ppmt(rate, periods, n, pv)

    ours = best_of(lambda: amortize(500_000, 600, 36, date(2026, 1, 1)))
    base = best_of(numpy_schedule)
    print(
        f"schedule 36 months   peerlend {ours * 1e6:8.1f} us   numpy-financial {base * 1e6:8.1f} us"
        f"   ratio {ours / base:5.2f}x"
    )


def bench_split() -> None:
    weights = [2500 * (1 + i % 7) for i in range(200)]
    total = 123_457

    def naive() -> list[int]:
        s = sum(weights)
        return [round(total * w / s) for w in weights]

    ours = best_of(lambda: split_pro_rata(total, weights))
    base = best_of(naive)
    print(
        f"split over 200 notes peerlend {ours * 1e6:8.1f} us   naive float     {base * 1e6:8.1f} us"
        f"   ratio {ours / base:5.2f}x   (naive loses {total - sum(naive())} cents)"
    )


def bench_api(label: str, url: str, tmp: Path) -> None:
    from fastapi.testclient import TestClient

    from api.main import create_app
    from tests.api.helpers import create_loan, deposit, login, register, register_investor
    from tests.conftest import migrate, test_settings

    migrate(url)
    app = create_app(test_settings(url, tmp))
    with TestClient(app) as client:
        register(client, "bench_b")  # verified, with a complete profile
        b = login(client, "bench_b")
        register_investor(client, "bench_i")
        i = login(client, "bench_i")
        deposit(client, i, "1000000.00")
        loan_ids = [create_loan(client, b, amount="40000.00", rate="7.00")["loan_id"] for _ in range(4)]
        counter = iter(range(10**9))

        def invest() -> None:
            n = next(counter)
            r = client.post(
                f"/loans/{loan_ids[n % 4]}/investments",
                json={"amount": "25.00"},
                headers=i | {"Idempotency-Key": uuid.uuid4().hex},
            )
            assert r.status_code == 201, r.text

        def health() -> None:
            assert client.get("/health").status_code == 200

        samples_invest = [best_of(invest, repeat=1, number=50) for _ in range(3)]
        samples_health = [best_of(health, repeat=1, number=50) for _ in range(3)]
    app.state.engine.dispose()
    inv, hl = statistics.median(samples_invest), statistics.median(samples_health)
    print(
        f"api {label:<8} investment {1 / inv:7.1f} req/s   health {1 / hl:7.1f} req/s"
        f"   investment costs {inv / hl:5.2f}x a health check"
    )


def main() -> None:
    print(f"# peerlend benchmarks, python {sys.version.split()[0]}, {os.cpu_count()} cpus")
    bench_schedule()
    bench_split()
    with tempfile.TemporaryDirectory() as tmp:
        bench_api("sqlite", f"sqlite:///{tmp}/bench.db", Path(tmp))
    pg = os.environ.get("PEERLEND_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test")
    if pg:
        from sqlalchemy import create_engine, text
        from sqlalchemy.engine import make_url

        name = f"peerlend_bench_{uuid.uuid4().hex[:8]}"
        admin = create_engine(pg, isolation_level="AUTOCOMMIT")
        with admin.connect() as c:
            c.execute(text(f'CREATE DATABASE "{name}"'))
        try:
            with tempfile.TemporaryDirectory() as tmp:
                bench_api("postgres", make_url(pg).set(database=name).render_as_string(hide_password=False), Path(tmp))
        finally:
            with admin.connect() as c:
                c.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


if __name__ == "__main__":
    main()
