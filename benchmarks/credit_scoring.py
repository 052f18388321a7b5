"""Credit-scoring speed: one application, and a batch of 100,000.

    uv run python benchmarks/credit_scoring.py [--rows 100000] [--single 3000]

Prints, for the committed artifact (models/artifacts/LATEST):

1. single-application scoring, ``CreditScorer.score`` (features, probability, grade, reasons): p50 / p99 latency,
   and the same-run baseline of the fitted scikit-learn estimator's ``predict_proba`` on that one feature row;
2. batch scoring, ``CreditScorer.score_batch`` on a polars and on a pandas frame of real LendingClub borrowers
   (``models.bureau.sample_borrowers``): rows per second, every row with grade and reasons, against the
   estimator's raw ``predict_proba`` on the same rows' feature matrix (built beforehand, so the baseline is
   the model arithmetic alone);
3. a sandbox bureau pull (``models.bureau.sandbox_bureau_file``) after warm-up.

The machine is shared: ratios to the same-run baselines are the comparable figures; absolute numbers move with
load. Batch figures are the best of a few rounds.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from models import bureau  # noqa: E402
from models import features as F  # noqa: E402
from models.scoring import LoanApplication, load_scorer  # noqa: E402


def latencies(fn: Callable[[], object], calls: int) -> list[float]:
    out = []
    for _ in range(calls):
        start = time.perf_counter_ns()
        fn()
        out.append((time.perf_counter_ns() - start) / 1e3)  # microseconds
    return out


def best_seconds(fn: Callable[[], object], rounds: int = 3) -> float:
    times = []
    for _ in range(rounds):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return min(times)


def pct(values: list[float], q: float) -> float:
    return float(np.percentile(values, q))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--single", type=int, default=3_000, help="single-score calls to time")
    args = parser.parse_args(argv)

    scorer = load_scorer()
    bureau.warm_up()
    file = bureau.sandbox_bureau_file(
        "benchmark-seed-borrower",
        amount_cents=500_000,
        term_months=36,
        annual_income_cents=6_800_000,
        employment_length_years=5,
        housing="rent",
        purpose="debt_consolidation",
    )
    app = LoanApplication(
        amount_cents=500_000,
        term_months=36,
        purpose="debt_consolidation",
        annual_income_cents=6_800_000,
        employment_length_years=5,
        home_ownership="rent",
        bureau=file,
    )
    print(f"model {scorer.model_version} ({scorer.model_family})")

    row = F.application_features(app)
    for _ in range(200):  # warm-up
        scorer.score(app)
        scorer.estimator.predict_proba(row)
    ours = latencies(lambda: scorer.score(app), args.single)
    raw = latencies(lambda: scorer.estimator.predict_proba(row), args.single)
    print(
        f"single score        p50 {pct(ours, 50):8.1f} us   p99 {pct(ours, 99):8.1f} us   "
        f"(raw predict_proba p50 {pct(raw, 50):8.1f} us; ratio {pct(ours, 50) / pct(raw, 50):5.2f}x)"
    )

    frame = bureau.sample_borrowers(args.rows, seed=7)
    pandas_frame = frame.to_pandas()
    X = F.frame_features(frame)
    scorer.score_batch(frame.head(1000))
    raw_s = best_seconds(lambda: scorer.estimator.predict_proba(X))
    for name, data in (("polars", frame), ("pandas", pandas_frame)):
        seconds = best_seconds(lambda data=data: scorer.score_batch(data))
        print(
            f"batch {name:6s} {args.rows:,} rows  {args.rows / seconds:12,.0f} rows/s   "
            f"(raw predict_proba {args.rows / raw_s:12,.0f} rows/s; ratio {seconds / raw_s:5.1f}x the time)"
        )
    scored = scorer.score_batch(frame)
    assert scored["reasons"].list.len().min() >= 1, "every scored row carries a reason"

    keys = [f"applicant-{i}" for i in range(args.single)]
    pulls = [
        latencies(
            lambda key=key: bureau.sandbox_bureau_file(
                key, amount_cents=500_000, term_months=36, annual_income_cents=6_800_000
            ),
            1,
        )[0]
        for key in keys
    ]
    print(f"sandbox bureau pull p50 {statistics.median(pulls):8.1f} us   p99 {pct(pulls, 99):8.1f} us")
    return 0


if __name__ == "__main__":
    sys.exit(main())
