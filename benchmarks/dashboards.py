"""The web app's warehouse work per page, timed: every query a page runs (``dashboards/queries.py``), as the page
runs it with its default filters, cold (empty cache, fresh connection) and warm (the per-user cache).

    uv run python benchmarks/dashboards.py                                  # the warehouse in the settings
    uv run python benchmarks/dashboards.py --warehouse data/bench/warehouse-1000000.duckdb
    uv run python benchmarks/dashboards.py --loans 1000000                  # data/bench/warehouse-<N>.duckdb,
                                                                            # cloned and built if missing

``--loans N`` reuses ``data/bench/warehouse-N.duckdb`` when present (``benchmarks/warehouse.py --keep`` leaves
it there); otherwise it clones N loans with ``pipelines.clone`` (reusing ``data/bench/clone-N-notes10-30.db``)
and runs the pipeline once. The borrower pages read only the API (a borrower's loans, schedules and payments), so
they have no warehouse work to time here; the investor pages are timed for the investor holding the most notes, the
platform pages for staff. The target: every page's warehouse work under one second, cold.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import logging
import os
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
logging.getLogger("streamlit").setLevel(logging.ERROR)


def _build(loans: int, directory: Path) -> Path:
    published = (directory / f"warehouse-{loans}.duckdb").resolve()
    if published.exists():
        return published
    directory.mkdir(parents=True, exist_ok=True)
    from pipelines.clone import CloneSpec

    # the name benchmarks/warehouse.py caches a clone of the default book under
    source = (directory / f"clone-{loans}-notes{CloneSpec.min_notes}-{CloneSpec.max_notes}.db").resolve()
    if not source.exists():
        started = time.perf_counter()
        subprocess.run(
            [sys.executable, "-m", "pipelines.clone", "--loans", str(loans), "--url", f"sqlite:///{source}"],
            cwd=ROOT,
            check=True,
        )
        print(f"cloned {loans:,} loans in {time.perf_counter() - started:.0f} s", file=sys.stderr)
    sys.path.insert(0, str(ROOT / "benchmarks"))
    import warehouse as bench  # benchmarks/warehouse.py: the same pipeline run, at the same platform clock

    result = bench.run_pipeline(f"sqlite:///{source}", published, bench.AS_OF)
    print(f"built the warehouse in {result.get('seconds')} s", file=sys.stderr)
    return published


def _pages(queries: Any, wh: Any, investor: Any, staff: Any) -> dict[str, list[tuple[str, Callable[[], Any]]]]:
    today = dt.date.today()
    three_years = today - dt.timedelta(days=3 * 365)
    months = queries.platform_months(wh, staff)
    last = sorted(months["month_date"])[-12:] if not months.empty else [None]
    start, end = last[0], last[-1]
    common = [("check_warehouse", lambda: queries.check_warehouse(wh)), ("as_of", lambda: queries.as_of(wh))]
    return {
        "investor: Portfolio": common
        + [
            (f"allocation by {by}", lambda by=by: queries.investor_allocation(wh, investor, by))
            for by in ("grade", "term", "purpose")
        ]
        + [("NAR vs platform", lambda: queries.investor_nar_vs_platform(wh, investor))],
        "investor: Notes and cash flows": common
        + [
            ("notes", lambda: queries.investor_notes(wh, investor, (), (), three_years, today)),
            ("cash flows", lambda: queries.investor_cash_flows(wh, investor)),
        ],
        "investor: Cash and statements": common
        + [("month activity", lambda: queries.investor_month_activity(wh, investor, today.replace(day=1)))],
        "platform: Overview": common + [("platform months", lambda: queries.platform_months(wh, staff))],
        "platform: Funding and credit": common
        + [
            ("platform months", lambda: queries.platform_months(wh, staff)),
            ("funding velocity", lambda: queries.funding_velocity(wh, staff, (), start, end)),
            ("loan states", lambda: queries.loan_states(wh, staff, (), start, end)),
            ("roll rates", lambda: queries.roll_rates(wh, staff, start, end)),
            ("vintage curves", lambda: queries.vintage_curves(wh, staff, (), start, end)),
        ],
        "platform: Model monitoring": common
        + [
            ("model by vintage", lambda: queries.model_by_vintage(wh, staff)),
            ("calibration", lambda: queries.calibration(wh, staff)),
        ],
        "platform: Ledger": common + [("ledger reconciliation", lambda: queries.ledger_reconciliation(wh, staff))],
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--warehouse", type=Path, help="a published warehouse file (default: the settings')")
    parser.add_argument("--loans", type=int, help="use (or clone and build) data/bench/warehouse-<N>.duckdb")
    parser.add_argument("--dir", type=Path, default=ROOT / "data" / "bench")
    parser.add_argument("--repeat", type=int, default=3, help="cold runs per page (the best is reported)")
    parser.add_argument("--json", type=Path, help="also write the timings here")
    args = parser.parse_args()
    if args.loans:
        args.warehouse = _build(args.loans, args.dir)
    if args.warehouse:
        os.environ["PEERLEND_WAREHOUSE_PATH"] = str(args.warehouse.resolve())

    import streamlit as st

    from api.settings import get_settings
    from dashboards import queries

    get_settings.cache_clear()
    wh = queries.current_warehouse()
    problem = queries.check_warehouse(wh)
    if problem is not None:
        raise SystemExit(f"{wh.path}: {problem.kind} {problem.detail}")
    con = queries._connection(wh)
    loans = con.execute(f"select count(*) from {queries._table('fct_borrower_loans')}").fetchall()[0][0]
    top = con.execute(
        f"select n.investor_id, p.user_id, count(*) from {queries._table('fct_investor_notes')} n "
        f"join {queries._table('fct_investor_portfolios')} p using (investor_id) group by 1, 2 order by 3 desc limit 1"
    ).fetchall()[0]
    investor = queries.InvestorScope(int(top[0]), int(top[1]))
    staff = queries.StaffScope(0, "analyst")
    print(f"warehouse {wh.path}: {loans:,} loans; investor #{investor.investor_id} holds {top[2]:,} notes")

    report: dict[str, Any] = {"warehouse": wh.path, "loans": loans, "investor_notes": top[2], "pages": {}}
    print(f"{'page':34} {'cold s':>8} {'warm s':>8}   slowest query (cold)")
    for name, steps in _pages(queries, wh, investor, staff).items():
        colds: list[tuple[float, dict[str, float]]] = []
        for _ in range(args.repeat):
            st.cache_data.clear()
            queries.close_connections()  # cold: a fresh read-only connection too
            per: dict[str, float] = {}
            started = time.perf_counter()
            for label, step in steps:
                t = time.perf_counter()
                step()
                per[label] = per.get(label, 0.0) + time.perf_counter() - t
            colds.append((time.perf_counter() - started, per))
        cold, per = min(colds, key=lambda c: c[0])
        started = time.perf_counter()
        for _, step in steps:
            step()
        warm = time.perf_counter() - started
        slowest = max(per.items(), key=lambda kv: kv[1])
        report["pages"][name] = {"cold_seconds": round(cold, 3), "warm_seconds": round(warm, 4), "queries": per}
        print(f"{name:34} {cold:8.3f} {warm:8.4f}   {slowest[0]} {slowest[1]:.3f} s")
    worst = max(p["cold_seconds"] for p in report["pages"].values())
    print(f"slowest page, cold: {worst:.3f} s ({'under' if worst < 1 else 'OVER'} the 1 s target)")
    if args.json:
        args.json.write_text(json.dumps(report, indent=2, default=str))


if __name__ == "__main__":
    main()
