"""Dagster assets and checks of the credit-risk model (group ``credit_model``).

Training chain: ``credit_model_candidate`` (train into a temporary directory) -> ``credit_model_evaluation``
(held-out metrics of the candidate and of the current version) -> ``credit_model_published`` (copy the candidate
into the artifacts directory and move ``LATEST`` only when it beats the current version; otherwise record why
not). Monitoring: ``credit_model_monitoring`` reads the warehouse's scored loans and its two checks fail (severity
ERROR) on input drift or a calibration break.

The logic lives in ``models.train``, ``models.registry`` and ``models.monitoring``; this module only wires it.
Locations come from the environment: ``PEERLEND_MODEL_DIR`` (default ``<repo>/models/artifacts``) and
``PEERLEND_WAREHOUSE_PATH`` (default ``<repo>/data/warehouse.duckdb``).

No ``from __future__ import annotations`` here: it breaks Dagster's Config and resource parameters.
"""

import os
import shutil
import tempfile
from pathlib import Path
from typing import Any

import dagster as dg
import duckdb

from models import monitoring, registry, scoring
from models import train as model_training

GROUP = "credit_model"
REPO_ROOT = Path(__file__).resolve().parents[3]
WAREHOUSE_ENV = "PEERLEND_WAREHOUSE_PATH"
#: The table of scored loans the monitoring reads. Other marts may replace it; the asset tolerates missing columns.
MONITORING_TABLE = "marts.fct_borrower_loans"
#: Applications per decile bin of every model input (what the warehouse keeps of income and the bureau file).
INPUT_BINS_TABLE = "marts.fct_model_input_bins"


def model_dir() -> Path:
    return scoring.artifacts_dir()


def warehouse_path() -> Path:
    configured = os.environ.get(WAREHOUSE_ENV)
    return Path(configured).expanduser() if configured else REPO_ROOT / "data" / "warehouse.duckdb"


class CandidateConfig(dg.Config):
    cv_repeats: int = model_training.CV_REPEATS
    n_jobs: int = 1
    # Which model families to cross-validate and fit; all by default. Fewer make a quick retrain (tests).
    families: list[str] = list(model_training.E.FAMILIES)


@dg.asset(
    group_name=GROUP,
    description="A freshly trained credit-risk model version (models.train), in a temporary directory.",
)
def credit_model_candidate(context: dg.AssetExecutionContext, config: CandidateConfig) -> dict[str, Any]:
    workdir = Path(tempfile.mkdtemp(prefix="peerlend-credit-candidate-"))
    version_dir = model_training.train(
        workdir,
        write_latest=False,
        cv_repeats=config.cv_repeats,
        n_jobs=config.n_jobs,
        families=tuple(config.families),
        log=context.log.info,
    )
    metadata = scoring.read_metadata(version_dir)
    held_out = metadata["metrics"]["held_out"]
    context.add_output_metadata(
        {
            "version": version_dir.name,
            "model_family": metadata["model_family"],
            "held_out_auc": held_out["auc"],
            "held_out_brier": held_out["brier"],
            "training_seconds": metadata["training_seconds"],
        }
    )
    return {"version": version_dir.name, "path": str(version_dir), "workdir": str(workdir)}


@dg.asset(
    group_name=GROUP,
    description="Held-out metrics of the candidate and of the current version, and whether the candidate is better.",
)
def credit_model_evaluation(
    context: dg.AssetExecutionContext, credit_model_candidate: dict[str, Any]
) -> dict[str, Any]:
    scored = registry.held_out(Path(credit_model_candidate["path"]))
    candidate = scored.metrics
    found = registry.current(model_dir())
    current = found.metrics
    decision = registry.decide(credit_model_candidate["version"], scored, found)
    summary = {
        "candidate_version": credit_model_candidate["version"],
        "candidate": {k: candidate[k] for k in ("auc", "ks", "brier", "brier_skill_score")},
        "current_version": found.version,
        "current": None if current is None else {k: current.get(k) for k in ("auc", "ks", "brier")},
        "current_metrics_source": found.how,
        "auc_gain": None if current is None else registry.auc_gain_test(scored, found),
        "publish": decision.publish,
        "reason": decision.reason,
    }
    context.add_output_metadata(
        {
            "candidate_auc": candidate["auc"],
            "current_auc": None if current is None else float(current["auc"]),
            "publish": decision.publish,
            "reason": decision.reason,
            "comparison": dg.MetadataValue.json(summary),
        }
    )
    return summary


@dg.asset(
    group_name=GROUP,
    description="The published credit-risk model version (artifacts LATEST); moves only when a candidate is better.",
)
def credit_model_published(
    context: dg.AssetExecutionContext,
    credit_model_candidate: dict[str, Any],
    credit_model_evaluation: dict[str, Any],
) -> dg.MaterializeResult:
    artifacts = model_dir()
    try:
        if credit_model_evaluation["publish"]:
            registry.publish(Path(credit_model_candidate["path"]), artifacts)
            context.log.info(f"published {credit_model_candidate['version']}: {credit_model_evaluation['reason']}")
        else:
            context.log.info(f"not published: {credit_model_evaluation['reason']}")
    finally:
        shutil.rmtree(credit_model_candidate["workdir"], ignore_errors=True)
    latest = (
        (artifacts / scoring.LATEST_FILE).read_text().strip() if (artifacts / scoring.LATEST_FILE).exists() else None
    )
    return dg.MaterializeResult(
        metadata={
            "published": credit_model_evaluation["publish"],
            "reason": credit_model_evaluation["reason"],
            "candidate_version": credit_model_candidate["version"],
            "latest_version": latest,
            "model_dir": str(artifacts),
        }
    )


def _input_bin_counts(path: Path, table: str, version: str | None) -> dict[str, dict[int, int]]:
    """Per model input, applications per reference bin among those the published version scored (bins are
    only comparable with the reference of the version that binned them); empty when the mart is absent."""
    frame, _ = _read_loans(path, table)
    if frame is None or version is None or frame.empty:
        return {}
    return monitoring.bin_counts(frame[frame["score_model_version"] == version])


def _read_loans(path: Path, table: str) -> tuple[Any, str | None]:
    """The monitored table as a pandas frame, or (None, why not)."""
    if not path.exists():
        return None, f"warehouse {path} does not exist"
    schema, name = table.split(".", 1)
    with duckdb.connect(str(path), read_only=True) as duck:
        # fetchall, not fetchone: DuckDB 2.0 leaves a half-read result blocking the connection.
        ((found,),) = duck.execute(
            "select count(*) from information_schema.tables where table_schema = ? and table_name = ?",
            [schema, name],
        ).fetchall()
        if not found:
            return None, f"table {table} does not exist in {path}"
        return duck.sql(f"select * from {table}").df(), None


@dg.asset(
    group_name=GROUP,
    # Runs after the mart it reads when both are in one job (the warehouse job selects every asset).
    deps=[dg.AssetKey(MONITORING_TABLE.split(".")), dg.AssetKey(INPUT_BINS_TABLE.split("."))],
    description=(
        f"Monitoring of the published model on the platform's loans ({MONITORING_TABLE}): PSI of every input and "
        "of the score against the training population, calibration by grade, AUC by vintage."
    ),
)
def credit_model_monitoring(context: dg.AssetExecutionContext) -> dict[str, Any]:
    try:
        version_dir = scoring.resolve_model_dir(model_dir())
        reference = scoring.read_metadata(version_dir).get("monitoring_reference")
        version: str | None = version_dir.name
    except scoring.ModelNotAvailable as exc:
        reference, version = None, None
        context.log.warning(f"no published model: {exc}")
    loans, why_not = _read_loans(warehouse_path(), MONITORING_TABLE)
    if loans is None or reference is None:
        note = why_not or "the published model carries no monitoring reference"
        report: dict[str, Any] = {
            "rows": 0,
            "rows_with_outcome": 0,
            "missing_columns": [],
            "psi": [],
            "calibration": None,
            "auc_by_vintage": None,
            "drifted": [],
            "calibration_breaks": [],
            "notes": [f"{monitoring.NOT_ENOUGH_OUTCOMES}: {note}"],
        }
    else:
        bins = _input_bin_counts(warehouse_path(), INPUT_BINS_TABLE, version)
        report = monitoring.monitor(monitoring.prepare_loans(loans), reference, bins).to_dict()
    report["model_version"] = version
    report["table"] = MONITORING_TABLE
    context.add_output_metadata(
        {
            "model_version": version,
            "rows": report["rows"],
            "rows_with_outcome": report["rows_with_outcome"],
            "drifted_inputs": dg.MetadataValue.json(report["drifted"]),
            "calibration_breaks": dg.MetadataValue.json(report["calibration_breaks"]),
            "notes": dg.MetadataValue.json(report["notes"]),
            "psi": dg.MetadataValue.json(report["psi"]),
        }
    )
    return report


def drift_result(report: dict[str, Any]) -> dg.AssetCheckResult:
    measured = {row["input"]: row["psi"] for row in report["psi"] if row["psi"] is not None}
    unmeasured = [row["input"] for row in report["psi"] if row["psi"] is None]
    description = f"PSI above {monitoring.PSI_DRIFT} fails the check"
    if unmeasured:  # a pass says nothing about these: say so where the check is read
        description += f"; {len(unmeasured)} not measured (column missing or too few rows): {', '.join(unmeasured)}"
    return dg.AssetCheckResult(
        passed=not report["drifted"],
        severity=dg.AssetCheckSeverity.ERROR,
        description=description,
        metadata={
            "drifted": dg.MetadataValue.json(report["drifted"]),
            "psi": dg.MetadataValue.json(measured),
            "unmeasured": dg.MetadataValue.json(unmeasured),
            "notes": dg.MetadataValue.json(report["notes"]),
        },
    )


def calibration_result(report: dict[str, Any]) -> dg.AssetCheckResult:
    return dg.AssetCheckResult(
        passed=not report["calibration_breaks"],
        severity=dg.AssetCheckSeverity.ERROR,
        description=(
            f"realised defaults outside the binomial {monitoring.CALIBRATION_LEVEL:.0%} interval (Bonferroni over "
            f"grades) of the predicted PD, in a grade with at least {monitoring.MIN_LOANS_FOR_CALIBRATION} "
            "outcomes, fail the check"
        ),
        metadata={
            "breaks": dg.MetadataValue.json(report["calibration_breaks"]),
            "by_grade": dg.MetadataValue.json(report["calibration"]),
            "notes": dg.MetadataValue.json(report["notes"]),
        },
    )


@dg.asset_check(asset=credit_model_monitoring, description="No model input and not the score has drifted (PSI).")
def credit_model_input_drift(credit_model_monitoring: dict[str, Any]) -> dg.AssetCheckResult:
    return drift_result(credit_model_monitoring)


@dg.asset_check(asset=credit_model_monitoring, description="Realised default agrees with predicted PD per grade.")
def credit_model_calibration(credit_model_monitoring: dict[str, Any]) -> dg.AssetCheckResult:
    return calibration_result(credit_model_monitoring)
