"""Watching the model on the platform's own loans: pure functions over a frame of scored loans.

The frame (pandas or polars) has one row per loan with some of: the model's inputs (``models.features``
source columns), ``probability_of_default``, ``grade``, ``vintage_month`` (issue month) and ``defaulted``
(1 / 0, null while the outcome is unknown). Missing columns are reported, never guessed.

**Population stability index (PSI)** of every input and of the score, against the training population stored
in the artifact (``metadata["monitoring_reference"]``, built by :func:`reference_bins` at training time):

- bins: the training deciles. Interior edges are the 10 %, 20 %, ..., 90 % quantiles of the training values
  (``inverted_cdf``: each edge is a value that occurs), de-duplicated (a count that is 0 for 60 % of loans gets
  fewer, wider bins); bins are right-closed, ``(-inf, e1], (e1, e2], ..., (e_last, inf)``, plus one bin for
  missing values;
- ``PSI = sum_i (a_i - e_i) * ln(a_i / e_i)`` over the bins, with ``e_i`` the training share and ``a_i`` the
  current share, each floored at :data:`PSI_FLOOR` so an empty bin does not make it infinite;
- reading: below 0.10 stable, 0.10-0.25 worth a look, above :data:`PSI_DRIFT` (0.25) drifted: the asset check
  fails.

**Calibration by grade**: per grade with at least :data:`MIN_LOANS_FOR_CALIBRATION` loans with a known outcome,
the realised number of defaults against the central interval of Binomial(loans, mean predicted PD) at level
``1 - (1 - CALIBRATION_LEVEL) / 7``: a 99 % interval Bonferroni-corrected over the seven grades, so a calibrated
model trips the check in about 1 % of runs rather than 7 %. A count outside it is a *calibration break* (the
check fails). The binomial interval is conservative: with unequal PDs the true distribution (Poisson-binomial)
is narrower.

**AUC by vintage**: ranking quality per issue month with at least :data:`MIN_CLASS_COUNT` defaults and as many
non-defaults.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Final

import numpy as np
import numpy.typing as npt
import pandas as pd
from scipy import stats
from sklearn.metrics import roc_auc_score

from models import features as F
from models.grades import GRADES

PSI_BINS: Final = 10
PSI_FLOOR: Final = 1e-4
PSI_WATCH: Final = 0.10
PSI_DRIFT: Final = 0.25
MIN_ROWS_FOR_PSI: Final = 50  # below this a share moves by 2 points per loan: PSI would be noise
MIN_LOANS_FOR_CALIBRATION: Final = 30
CALIBRATION_LEVEL: Final = 0.99
MIN_CLASS_COUNT: Final = 5

#: Loan statuses of the platform that are an outcome, read as the training label reads LendingClub's ("bad" =
#: charged off, defaulted, or 21-120 days late at the snapshot; everything else issued is "good"), in both of the
#: API's vocabularies (``active``/``late`` before servicing's buckets). ``late_16_30`` straddles the label's
#: 21-day line, so it is no outcome yet rather than a guess either way; so are listed, funded, expired and
#: cancelled loans (never issued).
DEFAULT_STATUSES: Final = frozenset({"charged_off", "late", "late_31_120"})
PERFORMING_STATUSES: Final = frozenset({"active", "current", "grace", "repaid"})

SCORE_COLUMN: Final = "probability_of_default"


def reference_bins(values: npt.ArrayLike) -> dict[str, Any]:
    """The training distribution of one input: decile edges and the share of rows in each bin (see module doc)."""
    v = np.asarray(values, dtype="float64")
    known = v[~np.isnan(v)]
    # inverted_cdf: edges are values that occur, so a count's bins are (.., 0], (0, 1], ... not fractions.
    deciles = np.quantile(known, np.arange(1, PSI_BINS) / PSI_BINS, method="inverted_cdf") if known.size else []
    edges = np.unique(np.asarray(deciles, dtype="float64"))
    return {
        "edges": [float(e) for e in edges],
        "shares": [float(s) for s in _shares(v, edges)],
        "rows": int(v.size),
    }


def _shares(values: npt.NDArray[np.float64], edges: npt.NDArray[np.float64]) -> npt.NDArray[np.float64]:
    """Share per bin: right-closed bins over ``edges``, then the missing bin last."""
    if values.size == 0:
        return np.zeros(len(edges) + 2)
    missing = np.isnan(values)
    bins = np.searchsorted(edges, values[~missing], side="left")  # side=left: a value equal to an edge goes below
    counts = np.bincount(bins, minlength=len(edges) + 1).astype("float64")
    return np.append(counts, missing.sum()) / values.size


def input_bins(reference: Mapping[str, Any], inputs: Mapping[str, float]) -> dict[str, int]:
    """Each input's bin under its reference (the index into ``reference_bins(...)["shares"]``: the right-closed
    decile bins, then the missing bin last), for the inputs the reference knows. Stored per scored loan, these
    let the warehouse measure every input's PSI without the values themselves (income, bureau attributes)
    ever leaving the API: a decile is all the monitoring needs."""
    bins: dict[str, int] = {}
    for name, ref in reference["inputs"].items():
        if name not in inputs:
            continue
        edges = np.asarray(ref["edges"], dtype="float64")
        value = float(inputs[name])
        # the same rule as _shares: searchsorted side=left puts a value equal to an edge in the bin below
        bins[name] = len(edges) + 1 if np.isnan(value) else int(np.searchsorted(edges, value, side="left"))
    return bins


def psi_from_bin_counts(reference: Mapping[str, Any], counts: Mapping[int, int]) -> tuple[int, float]:
    """(rows, PSI) of one input from how many loans fell in each of its reference bins (:func:`input_bins`)."""
    shares = np.zeros(len(reference["shares"]), dtype="float64")
    for index, count in counts.items():
        if not 0 <= int(index) < len(shares):
            raise ValueError(f"bin {index} is outside the reference's {len(shares)} bins")
        shares[int(index)] += count
    rows = int(shares.sum())
    if rows == 0:
        return 0, float("nan")
    return rows, psi_from_shares(reference["shares"], shares / rows)


def bin_counts(rows: Any) -> dict[str, dict[int, int]]:
    """Applications per reference bin, per input, from rows of (input_name, bin_index, applications_count) (the
    warehouse's `fct_model_input_bins`): what `psi_from_bin_counts` and `psi_table` take."""
    frame = _pandas(rows)
    counts: dict[str, dict[int, int]] = {}
    if frame.empty:
        return counts
    grouped = frame.groupby(["input_name", "bin_index"])["applications_count"].sum()
    for (name, index), count in grouped.items():
        counts.setdefault(str(name), {})[int(index)] = int(count)
    return counts


def psi_from_shares(expected: npt.ArrayLike, actual: npt.ArrayLike) -> float:
    e = np.maximum(np.asarray(expected, dtype="float64"), PSI_FLOOR)
    a = np.maximum(np.asarray(actual, dtype="float64"), PSI_FLOOR)
    return float(np.sum((a - e) * np.log(a / e)))


def psi_against(reference: Mapping[str, Any], values: npt.ArrayLike) -> float:
    """PSI of ``values`` against a stored :func:`reference_bins` distribution."""
    edges = np.asarray(reference["edges"], dtype="float64")
    return psi_from_shares(reference["shares"], _shares(np.asarray(values, dtype="float64"), edges))


def psi(expected: npt.ArrayLike, actual: npt.ArrayLike) -> float:
    """PSI of ``actual`` against ``expected`` with ``expected``'s decile bins."""
    return psi_against(reference_bins(expected), actual)


def psi_categorical(expected: npt.ArrayLike, actual: npt.ArrayLike) -> float:
    """PSI over the categories seen in either (e.g. grades)."""
    e = pd.Series(np.asarray(expected, dtype=object)).value_counts(normalize=True)
    a = pd.Series(np.asarray(actual, dtype=object)).value_counts(normalize=True)
    categories = sorted(set(e.index) | set(a.index), key=str)
    return psi_from_shares(e.reindex(categories, fill_value=0.0), a.reindex(categories, fill_value=0.0))


def _pandas(frame: Any) -> pd.DataFrame:
    if isinstance(frame, pd.DataFrame):
        return frame
    import polars as pl

    if isinstance(frame, pl.DataFrame):
        return frame.to_pandas()
    raise TypeError(f"expected a pandas or polars DataFrame, got {type(frame).__name__}")


def _numeric(column: pd.Series) -> npt.NDArray[np.float64]:
    if column.dtype == object:
        column = pd.to_numeric(column)
    return column.to_numpy(dtype="float64", na_value=np.nan)


def _psi_row(name: str, size: int, value: float) -> dict[str, Any]:
    if size < MIN_ROWS_FOR_PSI:
        return {"input": name, "rows": size, "psi": np.nan, "status": "too few rows"}
    status = "drift" if value > PSI_DRIFT else "watch" if value > PSI_WATCH else "stable"
    return {"input": name, "rows": size, "psi": value, "status": status}


def psi_table(
    frame: Any, reference: Mapping[str, Any], bin_counts: Mapping[str, Mapping[int, int]] | None = None
) -> pd.DataFrame:
    """PSI of every model input and of the score, against ``reference`` (an artifact's ``monitoring_reference``):
    from the values when ``frame`` has the column, else from ``bin_counts`` (per input, loans per reference bin:
    what the warehouse keeps of inputs that never leave the API). Columns: input, rows, psi (NaN when absent or
    too few rows), status."""
    df = _pandas(frame)
    counts = bin_counts or {}
    targets: list[tuple[str, Mapping[str, Any]]] = list(reference["inputs"].items())
    targets.append((SCORE_COLUMN, reference["score"]))
    rows = []
    for name, ref in targets:
        if name in df.columns:
            values = _numeric(df[name])
            rows.append(_psi_row(name, int(values.size), psi_against(ref, values) if values.size else np.nan))
        elif counts.get(name):
            rows.append(_psi_row(name, *psi_from_bin_counts(ref, counts[name])))
        else:
            rows.append({"input": name, "rows": 0, "psi": np.nan, "status": "column missing"})
    return pd.DataFrame(rows, columns=["input", "rows", "psi", "status"])


def _with_outcomes(df: pd.DataFrame) -> pd.DataFrame:
    known = df[df["defaulted"].notna()]
    return known.assign(defaulted=known["defaulted"].astype("int64"))


def calibration_by_grade(frame: Any) -> pd.DataFrame:
    """Predicted against realised default per grade, over loans with a known outcome (see module doc)."""
    df = _with_outcomes(_pandas(frame))
    rows = []
    for grade in GRADES:
        group = df[df["grade"] == grade]
        n = len(group)
        defaults = int(group["defaulted"].sum())
        mean_pd = float(group[SCORE_COLUMN].mean()) if n else np.nan
        enough = n >= MIN_LOANS_FOR_CALIBRATION
        if enough:
            tail = (1 - CALIBRATION_LEVEL) / 2 / len(GRADES)
            lower = int(stats.binom.ppf(tail, n, mean_pd))
            upper = int(stats.binom.ppf(1 - tail, n, mean_pd))
            broken = defaults < lower or defaults > upper
        else:
            lower = upper = -1
            broken = False
        rows.append(
            {
                "grade": grade,
                "loans": n,
                "defaults": defaults,
                "mean_predicted": mean_pd,
                "realised_rate": defaults / n if n else np.nan,
                "expected_defaults": mean_pd * n if n else 0.0,
                "interval_low": lower,
                "interval_high": upper,
                "enough_loans": enough,
                "calibration_break": broken,
            }
        )
    return pd.DataFrame(rows)


def auc_by_vintage(frame: Any) -> pd.DataFrame:
    """ROC AUC of the probability of default per vintage month (NaN where too few of either outcome)."""
    df = _with_outcomes(_pandas(frame))
    rows = []
    for vintage, group in df.groupby("vintage_month", sort=True):
        y = group["defaulted"].to_numpy()
        defaults = int(y.sum())
        enough = defaults >= MIN_CLASS_COUNT and len(y) - defaults >= MIN_CLASS_COUNT
        auc = float(roc_auc_score(y, group[SCORE_COLUMN].to_numpy(dtype="float64"))) if enough else np.nan
        rows.append({"vintage_month": str(vintage), "loans": len(y), "defaults": defaults, "auc": auc})
    return pd.DataFrame(rows, columns=["vintage_month", "loans", "defaults", "auc"])


@dataclass
class MonitoringReport:
    """What :func:`monitor` found. ``notes`` says in words what could not be measured and why."""

    rows: int
    rows_with_outcome: int
    missing_columns: list[str]
    psi: pd.DataFrame
    calibration: pd.DataFrame | None
    auc_by_vintage: pd.DataFrame | None
    notes: list[str] = field(default_factory=list)

    @property
    def drifted(self) -> list[str]:
        return self.psi.loc[self.psi["status"] == "drift", "input"].tolist()

    @property
    def calibration_breaks(self) -> list[str]:
        if self.calibration is None:
            return []
        return self.calibration.loc[self.calibration["calibration_break"], "grade"].tolist()

    def to_dict(self) -> dict[str, Any]:
        def records(table: pd.DataFrame | None) -> list[dict[str, Any]] | None:
            if table is None:
                return None
            return [{k: _jsonable(v) for k, v in row.items()} for row in table.to_dict(orient="records")]

        return {
            "rows": self.rows,
            "rows_with_outcome": self.rows_with_outcome,
            "missing_columns": self.missing_columns,
            "psi": records(self.psi),
            "calibration": records(self.calibration),
            "auc_by_vintage": records(self.auc_by_vintage),
            "drifted": self.drifted,
            "calibration_breaks": self.calibration_breaks,
            "notes": self.notes,
        }


def _jsonable(value: Any) -> Any:
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float) and np.isnan(value):
        return None
    return value


NOT_ENOUGH_OUTCOMES: Final = "not enough outcomes yet"


def monitor(
    frame: Any, reference: Mapping[str, Any], bin_counts: Mapping[str, Mapping[int, int]] | None = None
) -> MonitoringReport:
    """PSI of inputs and score, calibration by grade and AUC by vintage, as far as ``frame``'s columns (and, for
    the inputs, ``bin_counts``: see :func:`psi_table`) allow."""
    df = _pandas(frame)
    notes: list[str] = []
    wanted = [*F.SOURCE_COLUMNS, SCORE_COLUMN, "grade", "vintage_month", "defaulted"]
    binned = {name for name, counts in (bin_counts or {}).items() if counts}
    missing = [c for c in wanted if c not in df.columns and c not in binned]
    table = psi_table(df, reference, bin_counts)
    absent_inputs = table.loc[table["status"] == "column missing", "input"].tolist()
    if absent_inputs:
        notes.append(f"PSI not measured for {absent_inputs}: not in the monitored table")
    outcome_columns = {SCORE_COLUMN, "grade", "defaulted"}
    calibration = vintage = None
    with_outcome = 0
    if outcome_columns <= set(df.columns):
        with_outcome = int(df["defaulted"].notna().sum())
        calibration = calibration_by_grade(df)
        if not calibration["enough_loans"].any():
            notes.append(f"{NOT_ENOUGH_OUTCOMES}: no grade has {MIN_LOANS_FOR_CALIBRATION} loans with a known outcome")
        if "vintage_month" in df.columns:
            vintage = auc_by_vintage(df)
            if vintage["auc"].isna().all():
                notes.append(f"{NOT_ENOUGH_OUTCOMES}: no vintage has {MIN_CLASS_COUNT} defaults and non-defaults")
    else:
        notes.append(
            f"{NOT_ENOUGH_OUTCOMES}: calibration and AUC need columns {sorted(outcome_columns - set(df.columns))}"
        )
    return MonitoringReport(
        rows=len(df),
        rows_with_outcome=with_outcome,
        missing_columns=missing,
        psi=table,
        calibration=calibration,
        auc_by_vintage=vintage,
        notes=notes,
    )


def outcome_from_status(status: Any) -> float:
    """1.0 default, 0.0 performing, NaN no outcome yet (see DEFAULT_STATUSES / PERFORMING_STATUSES)."""
    if status in DEFAULT_STATUSES:
        return 1.0
    if status in PERFORMING_STATUSES:
        return 0.0
    return np.nan


#: Date columns a vintage can come from, in order of preference (issue date first).
VINTAGE_SOURCES: Final = ("vintage_month", "issued_at", "disbursed_at", "created_at")


def prepare_loans(frame: Any) -> pd.DataFrame:
    """A warehouse table of loans -> the frame :func:`monitor` reads: ``defaulted`` from ``status`` (see
    :func:`outcome_from_status`) when there is no ``defaulted`` column, and ``vintage_month`` (``YYYY-MM``) from
    the first date column of :data:`VINTAGE_SOURCES` present. Other columns pass through."""
    df = _pandas(frame).copy()
    if "defaulted" not in df.columns and "status" in df.columns:
        df["defaulted"] = df["status"].map(outcome_from_status).astype("float64")
    if "vintage_month" not in df.columns:
        for source in VINTAGE_SOURCES[1:]:
            if source in df.columns:
                dates = pd.to_datetime(df[source], errors="coerce", utc=True)
                df["vintage_month"] = dates.dt.strftime("%Y-%m")
                break
    return df
