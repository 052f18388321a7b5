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

from models import data as D
from models import evaluation as V
from models import features as F
from models import scoring
from models.train import write_latest_file

#: A candidate must rank better (AUC strictly higher) and not be less accurate beyond noise (Brier at most this
#: much higher) than the current version on the same held-out rows.
BRIER_TOLERANCE: Final = 0.0002


@dataclass(frozen=True)
class Decision:
    publish: bool
    reason: str


def held_out_metrics(version_dir: Path) -> dict[str, Any]:
    """Recompute a loadable version's held-out metrics on the fixed held-out rows."""
    scorer = scoring.load_scorer(version_dir)
    _, test = D.split(D.load_lending_club())
    p = scorer.predict_features(F.frame_features(test.applications))
    metrics = V.evaluate(test.defaulted.to_numpy(), p, seed=D.SEED)
    metrics["test_index_sha256"] = D.index_digest(test)
    return metrics


def current_metrics(artifacts: Path) -> tuple[str | None, dict[str, Any] | None, str]:
    """(version, held-out metrics, how they were obtained) of the version ``artifacts/LATEST`` names.

    A version this code can load is re-evaluated. One it cannot (an older feature set) is compared on the
    metrics its metadata recorded, if they are for the same held-out rows; otherwise there is nothing to beat."""
    try:
        version_dir = scoring.resolve_model_dir(artifacts)
    except scoring.ModelNotAvailable as exc:
        return None, None, f"no current version ({exc})"
    try:
        metrics = held_out_metrics(version_dir)
        return version_dir.name, metrics, "re-evaluated"
    except scoring.ModelNotAvailable as exc:
        try:
            metadata = scoring.read_metadata(version_dir)
        except scoring.ModelNotAvailable:
            return version_dir.name, None, f"current version unusable ({exc})"
        _, test = D.split(D.load_lending_club())
        if metadata.get("data", {}).get("test_index_sha256") != D.index_digest(test):
            return version_dir.name, None, "current version was evaluated on other rows"
        return version_dir.name, metadata.get("metrics", {}).get("held_out"), "recorded (cannot load under this code)"


def decide(
    candidate_version: str,
    candidate: dict[str, Any],
    current_version: str | None,
    current: dict[str, Any] | None,
) -> Decision:
    if current_version == candidate_version:
        return Decision(False, f"{candidate_version} is already the current version (same fingerprint)")
    if current is None:
        return Decision(True, "there is no comparable current version")
    auc_gain = candidate["auc"] - current["auc"]
    brier_change = candidate["brier"] - current["brier"]
    if auc_gain <= 0:
        return Decision(False, f"held-out AUC {candidate['auc']:.4f} does not beat the current {current['auc']:.4f}")
    if brier_change > BRIER_TOLERANCE:
        return Decision(
            False,
            f"held-out AUC improves by {auc_gain:+.4f} but Brier worsens by {brier_change:+.5f} "
            f"(tolerance {BRIER_TOLERANCE})",
        )
    return Decision(True, f"held-out AUC {auc_gain:+.4f}, Brier {brier_change:+.5f} against {current_version}")


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
