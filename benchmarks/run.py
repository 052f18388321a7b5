"""Peerlend benchmarks. Prints figures as ratios against baselines measured in the same run, since
the machines are shared and noisy.

    uv run python benchmarks/run.py            # or: make bench

1. Schedule maths: `api.payments.schedule.amortize` (exact rationals, 36 months) against
   numpy-financial computing the same payment/interest/principal arrays in floats.
2. Pro-rata split: `split_pro_rata` over 200 notes against a naive float `round()` split.
The API under load (against bare endpoints on the same database) is benchmarks/load.py.
"""

from __future__ import annotations

import os
import sys
import time
from collections.abc import Callable
from datetime import date
from pathlib import Path

import numpy as np
import numpy_financial as npf

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from api.payments.schedule import amortize  # noqa: E402
from api.payments.split import split_pro_rata  # noqa: E402


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


def main() -> None:
    print(f"# peerlend benchmarks, python {sys.version.split()[0]}, {os.cpu_count()} cpus")
    bench_schedule()
    bench_split()


if __name__ == "__main__":
    main()
