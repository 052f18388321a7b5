"""Versions in an artifacts directory: evaluate a candidate against the current version on the held-out rows,
and publish it only when it is better.

The Dagster assets in ``pipelines/defs/credit_model`` are thin wrappers around these functions, so the rule is
testable without Dagster and the CLI (``python -m models.train``) and the pipeline agree on what "better" means.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final

import numpy as np
import numpy.typing as npt
from scipy import stats

from models import data as D
from models import evaluation as V
from models import features as F
from models import scoring
from models.train import write_latest_file

#: A candidate must rank better than the current version by more than noise: on the same held-out rows, DeLong's
#: paired test of the AUC difference must be one-sided significant at this level. A strictly higher AUC alone is
#: not enough: with ~100 defaults in the held-out set, a retrain on another seed moves the AUC by +-0.01.
SIGNIFICANCE: Final = 0.05
#: ... and not be less accurate beyond noise (Brier at most this much higher).
BRIER_TOLERANCE: Final = 0.0002


@dataclass(frozen=True)
class Decision:
    publish: bool
    reason: str


@dataclass(frozen=True)
class HeldOut:
    """A version's held-out predictions (for paired comparisons) and the metrics computed from them."""

    defaulted: npt.NDArray[np.int64]
    predicted: npt.NDArray[np.float64]
    metrics: dict[str, Any]


def held_out(version_dir: Path) -> HeldOut:
    """Score a loadable version on the fixed held-out rows."""
    scorer = scoring.load_scorer(version_dir)
    _, test = D.split(D.load_lending_club())
    y = test.defaulted.to_numpy().astype("int64")
    p = np.asarray(scorer.predict_features(F.frame_features(test.applications)), dtype="float64")
    metrics = V.evaluate(y, p, seed=D.SEED)
    metrics["test_index_sha256"] = D.index_digest(test)
    return HeldOut(y, p, metrics)


@dataclass(frozen=True)
class Current:
    version: str | None
    metrics: dict[str, Any] | None
    how: str
    #: Present when the current version could be re-scored here, so the comparison can be paired.
    scored: HeldOut | None = None


def current(artifacts: Path) -> Current:
    """The version ``artifacts/LATEST`` names, with its held-out metrics and how they were obtained.

    A version this code can load is re-scored. One it cannot (an older feature set) is compared on the
    metrics its metadata recorded, if they are for the same held-out rows; otherwise there is nothing to beat."""
    try:
        version_dir = scoring.resolve_model_dir(artifacts)
    except scoring.ModelNotAvailable as exc:
        return Current(None, None, f"no current version ({exc})")
    try:
        scored = held_out(version_dir)
        return Current(version_dir.name, scored.metrics, "re-evaluated", scored)
    except scoring.ModelNotAvailable as exc:
        try:
            metadata = scoring.read_metadata(version_dir)
        except scoring.ModelNotAvailable:
            return Current(version_dir.name, None, f"current version unusable ({exc})")
        _, test = D.split(D.load_lending_club())
        if metadata.get("data", {}).get("test_index_sha256") != D.index_digest(test):
            return Current(version_dir.name, None, "current version was evaluated on other rows")
        return Current(
            version_dir.name, metadata.get("metrics", {}).get("held_out"), "recorded (cannot load under this code)"
        )


def auc_gain_test(candidate: HeldOut, current_version: Current) -> dict[str, Any]:
    """How sure we are that the candidate ranks better: paired DeLong on the same rows when the current version
    could be re-scored; otherwise, against its recorded AUC as a fixed number, the candidate's own DeLong
    standard error (unpaired, so more conservative)."""
    assert current_version.metrics is not None
    if current_version.scored is not None:
        paired = V.delong_paired(candidate.defaulted, candidate.predicted, current_version.scored.predicted)
        diff, se, test = paired["difference"], paired["se"], "paired DeLong"
    else:
        _, se = V.delong(candidate.defaulted, candidate.predicted)
        diff, test = float(candidate.metrics["auc"]) - float(current_version.metrics["auc"]), "DeLong vs recorded AUC"
    p_one_sided = float(stats.norm.sf(diff / se)) if se > 0 else (0.0 if diff > 0 else 1.0)
    return {"difference": diff, "se": se, "p_one_sided": p_one_sided, "test": test}


def decide(candidate_version: str, candidate: HeldOut, current_version: Current) -> Decision:
    if current_version.version == candidate_version:
        return Decision(False, f"{candidate_version} is already the current version (same fingerprint)")
    current_metrics = current_version.metrics
    if current_metrics is None:
        return Decision(True, "there is no comparable current version")
    auc, current_auc = candidate.metrics["auc"], current_metrics["auc"]
    gain = auc_gain_test(candidate, current_version)
    if gain["difference"] <= 0:
        return Decision(False, f"held-out AUC {auc:.4f} does not beat the current {current_auc:.4f}")
    if gain["p_one_sided"] >= SIGNIFICANCE:
        return Decision(
            False,
            f"held-out AUC {auc:.4f} against the current {current_auc:.4f} ({gain['difference']:+.4f}) does not beat "
            f"it beyond noise: one-sided p = {gain['p_one_sided']:.3f} by {gain['test']}, needs < {SIGNIFICANCE}",
        )
    brier_change = candidate.metrics["brier"] - current_metrics["brier"]
    if brier_change > BRIER_TOLERANCE:
        return Decision(
            False,
            f"held-out AUC improves by {gain['difference']:+.4f} but Brier worsens by {brier_change:+.5f} "
            f"(tolerance {BRIER_TOLERANCE})",
        )
    return Decision(
        True,
        f"held-out AUC {gain['difference']:+.4f} (one-sided p = {gain['p_one_sided']:.3g}, {gain['test']}), "
        f"Brier {brier_change:+.5f} against {current_version.version}",
    )


def publish(candidate_dir: Path, artifacts: Path) -> Path:
    """Copy a version directory into ``artifacts`` (staged, then moved) and point ``LATEST`` at it."""
    scoring.load_scorer(candidate_dir)  # refuse to publish what the loader would refuse (hash, compatibility)
    artifacts.mkdir(parents=True, exist_ok=True)
    version = candidate_dir.name
    with tempfile.TemporaryDirectory(dir=artifacts, prefix=".publish-") as tmp:
        staged = Path(tmp) / version
        shutil.copytree(candidate_dir, staged)
        final = artifacts / version
        if final.exists():
            shutil.rmtree(final)
        os.replace(staged, final)
    write_latest_file(artifacts, version)
    scoring.clear_cache()
    return final
