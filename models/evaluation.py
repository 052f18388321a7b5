"""Metrics of a probability-of-default model on labelled loans, reported the same way for every candidate.

- ROC AUC (ranking) with a bootstrap 95 % interval, and KS (the largest gap between the cumulative score
  distributions of bad and good loans, the credit industry's separation figure);
- Brier score and Brier skill score, ``1 - Brier / Brier(base rate)``, where the reference forecasts the
  evaluated rows' own default rate for everyone (the best constant forecast on those rows, so a BSS > 0 means
  the model beats any single number);
- calibration: a 10-bin table (deciles of the predicted probability) of mean predicted against observed, with
  each bin's binomial 95 % interval, and the same by grade.
"""

from __future__ import annotations

from typing import Any, Final

import numpy as np
import numpy.typing as npt
from scipy import stats
from sklearn.metrics import brier_score_loss, log_loss, roc_auc_score, roc_curve

from models.grades import GRADES, grade_indices

BOOTSTRAP_ROUNDS: Final = 400
CALIBRATION_BINS: Final = 10


def ks_statistic(y: npt.ArrayLike, p: npt.ArrayLike) -> float:
    fpr, tpr, _ = roc_curve(np.asarray(y), np.asarray(p))
    return float(np.max(tpr - fpr))


def auc_interval(y: npt.NDArray[Any], p: npt.NDArray[Any], seed: int) -> list[float]:
    rng = np.random.default_rng(seed)
    boot = []
    for _ in range(BOOTSTRAP_ROUNDS):
        i = rng.integers(0, len(y), len(y))
        if y[i].min() != y[i].max():
            boot.append(roc_auc_score(y[i], p[i]))
    return [round(float(np.quantile(boot, 0.025)), 4), round(float(np.quantile(boot, 0.975)), 4)]


def delong(y: npt.ArrayLike, p: npt.ArrayLike) -> tuple[float, float]:
    """ROC AUC and its DeLong standard error (DeLong, DeLong & Clarke-Pearson 1988, Biometrics 44), from the
    placement values: exact for ties (they count one half), no resampling."""
    # placement of each positive among the negatives (and vice versa), ties counting one half
    v10, v01 = _placements(np.asarray(y).astype(bool), np.asarray(p, dtype="float64"))
    var = float(v10.var(ddof=1) / len(v10) + v01.var(ddof=1) / len(v01))
    return float(v10.mean()), float(np.sqrt(var))


def _placements(y: npt.NDArray[np.bool_], s: npt.NDArray[np.float64]) -> tuple[Any, Any]:
    pos, neg = s[y], s[~y]
    neg_sorted, pos_sorted = np.sort(neg), np.sort(pos)
    v10 = (np.searchsorted(neg_sorted, pos, "left") + np.searchsorted(neg_sorted, pos, "right")) / (2 * len(neg))
    v01 = 1 - (np.searchsorted(pos_sorted, neg, "left") + np.searchsorted(pos_sorted, neg, "right")) / (2 * len(pos))
    return v10, v01


def delong_paired(y: npt.ArrayLike, p: npt.ArrayLike, q: npt.ArrayLike) -> dict[str, float]:
    """AUC(p) - AUC(q) on the same rows with DeLong's paired standard error and two-sided p-value."""
    target = np.asarray(y).astype(bool)
    a10, a01 = _placements(target, np.asarray(p, dtype="float64"))
    b10, b01 = _placements(target, np.asarray(q, dtype="float64"))
    d10, d01 = a10 - b10, a01 - b01
    diff = float(d10.mean())
    se = float(np.sqrt(d10.var(ddof=1) / len(d10) + d01.var(ddof=1) / len(d01)))
    return {"difference": diff, "se": se, "p_two_sided": float(2 * stats.norm.sf(abs(diff) / se)) if se else 1.0}


def auc_interval_delong(y: npt.ArrayLike, p: npt.ArrayLike, level: float = 0.95) -> list[float]:
    auc, se = delong(y, p)
    z = float(stats.norm.ppf(0.5 + level / 2))
    return [round(max(0.0, auc - z * se), 4), round(min(1.0, auc + z * se), 4)]


def _interval(defaults: int, rows: int) -> list[float | None]:
    """Clopper-Pearson 95 % interval of an observed rate."""
    if rows == 0:
        return [None, None]
    low = 0.0 if defaults == 0 else float(stats.beta.ppf(0.025, defaults, rows - defaults + 1))
    high = 1.0 if defaults == rows else float(stats.beta.ppf(0.975, defaults + 1, rows - defaults))
    return [round(low, 5), round(high, 5)]


def _row(label: str, key: str, y: npt.NDArray[Any], p: npt.NDArray[Any], total: int) -> dict[str, Any]:
    rows = len(y)
    defaults = int(y.sum())
    return {
        key: label,
        "rows": rows,
        "share": round(rows / total, 5) if total else None,
        "defaults": defaults,
        "mean_predicted": round(float(p.mean()), 5) if rows else None,
        "observed_rate": round(float(y.mean()), 5) if rows else None,
        "observed_95ci": _interval(defaults, rows),
    }


def calibration_table(y: npt.NDArray[Any], p: npt.NDArray[Any]) -> list[dict[str, Any]]:
    """Ten bins of equal size by predicted probability (ties broken by row order)."""
    order = np.argsort(p, kind="stable")
    bins = np.array_split(order, CALIBRATION_BINS)
    return [_row(str(b + 1), "bin", y[idx], p[idx], len(y)) for b, idx in enumerate(bins)]


def by_grade(y: npt.NDArray[Any], p: npt.NDArray[Any]) -> list[dict[str, Any]]:
    g = grade_indices(p)
    return [_row(grade, "grade", y[g == i], p[g == i], len(y)) for i, grade in enumerate(GRADES)]


def evaluate(y: npt.ArrayLike, p: npt.ArrayLike, *, seed: int) -> dict[str, Any]:
    y = np.asarray(y, dtype="int64")
    p = np.asarray(p, dtype="float64")
    base_rate = float(y.mean())
    brier = float(brier_score_loss(y, p))
    brier_base = float(brier_score_loss(y, np.full(len(y), base_rate)))
    return {
        "rows": len(y),
        "defaults": int(y.sum()),
        "base_rate": round(base_rate, 5),
        "auc": float(roc_auc_score(y, p)),
        "auc_95ci_bootstrap": auc_interval(y, p, seed),
        "auc_se_delong": delong(y, p)[1],
        "auc_95ci_delong": auc_interval_delong(y, p),
        "ks": ks_statistic(y, p),
        "brier": brier,
        "brier_base_rate": brier_base,
        "brier_skill_score": 1.0 - brier / brier_base,
        "log_loss": float(log_loss(y, p)),
        "mean_predicted": float(p.mean()),
        "predicted_range": [float(p.min()), float(p.max())],
        "calibration_table": calibration_table(y, p),
        "by_grade": by_grade(y, p),
    }


def ranking_baseline(y: npt.ArrayLike, score: npt.ArrayLike, *, seed: int) -> dict[str, Any]:
    """AUC and KS of an ordinal score (LendingClub's sub-grade, its interest rate) on the same rows."""
    y = np.asarray(y, dtype="int64")
    s = np.asarray(score, dtype="float64")
    return {
        "auc": float(roc_auc_score(y, s)),
        "auc_95ci_bootstrap": auc_interval(y, s, seed),
        "auc_95ci_delong": auc_interval_delong(y, s),
        "ks": ks_statistic(y, s),
    }


def grade_trend(by_grade_rows: list[dict[str, Any]]) -> dict[str, Any]:
    """Does observed default rise with grade? Strict monotonicity over grades with loans, plus the
    Cochran-Armitage trend test (one-sided: risk rising with grade) for a noise-aware answer."""
    used = [r for r in by_grade_rows if r["rows"]]
    rates = [r["observed_rate"] for r in used]
    reversals = [
        f"{a['grade']}>{b['grade']}"
        for a, b in zip(used, used[1:], strict=False)
        if b["observed_rate"] < a["observed_rate"]
    ]
    scores = np.array([GRADES.index(r["grade"]) for r in used], dtype="float64")
    n = np.array([r["rows"] for r in used], dtype="float64")
    d = np.array([r["defaults"] for r in used], dtype="float64")
    total_n, total_d = n.sum(), d.sum()
    pbar = total_d / total_n
    t = float((scores * (d - n * pbar)).sum())
    var = pbar * (1 - pbar) * float((n * scores**2).sum() - (n * scores).sum() ** 2 / total_n)
    z = t / np.sqrt(var) if var > 0 else 0.0
    return {
        "strictly_increasing": rates == sorted(rates) and len(set(rates)) == len(rates),
        "non_decreasing": rates == sorted(rates),
        "reversals": reversals,
        "cochran_armitage_z": float(z),
        "cochran_armitage_p_one_sided": float(stats.norm.sf(z)),
    }
