"""The credit-model assets: the training chain publishes a candidate only when it beats the current version, and
the monitoring checks fail on drift and calibration breaks, pass on loans like the training population, and
report "not enough outcomes yet" on today's mart (which carries no probabilities)."""

from __future__ import annotations

import hashlib
import json
import shutil
from pathlib import Path

import dagster as dg
import duckdb
import numpy as np
import pandas as pd
import pytest

from models import bureau, scoring
from models import data as D
from models import monitoring as M
from pipelines.defs.credit_model import assets as A

CHAIN = [A.credit_model_candidate, A.credit_model_evaluation, A.credit_model_published]
MONITORING = [A.credit_model_monitoring, A.credit_model_input_drift, A.credit_model_calibration]


def test_assets_and_checks_are_in_the_code_location() -> None:
    defs = dg.Definitions.merge(dg.load_defs(defs_root=__import__("pipelines.defs.credit_model", fromlist=["x"])))
    graph = defs.resolve_asset_graph()
    keys = {k.to_user_string() for k in graph.get_all_asset_keys() if graph.get(k).is_materializable}
    assert keys == {
        "credit_model_candidate",
        "credit_model_evaluation",
        "credit_model_published",
        "credit_model_monitoring",
    }
    assert {graph.get(dg.AssetKey(k)).group_name for k in keys} == {"credit_model"}
    monitoring = graph.get(dg.AssetKey("credit_model_monitoring"))
    assert dg.AssetKey(["marts", "fct_borrower_loans"]) in monitoring.parent_keys  # runs after the mart
    assert {k.name for k in graph.asset_check_keys} == {"credit_model_input_drift", "credit_model_calibration"}
    assert A.MONITORING_TABLE == "marts.fct_borrower_loans"


def _old_version(artifacts: Path, auc: float) -> str:
    """A version the current code cannot load (feature set 1, like pd-logit-f5ae090522), with recorded metrics on
    the same held-out rows."""
    version = "pd-logit-old"
    folder = artifacts / version
    folder.mkdir(parents=True)
    (folder / scoring.MODEL_FILE).write_bytes(b"not a model this code can load")
    _, test = D.split(D.load_lending_club())
    metadata = {
        "version": version,
        "model_sha256": hashlib.sha256(b"not a model this code can load").hexdigest(),
        "feature_set_version": 1,
        "data": {"test_index_sha256": D.index_digest(test)},
        "metrics": {"held_out": {"auc": auc, "brier": 0.0495, "ks": 0.1}},
    }
    (folder / scoring.METADATA_FILE).write_text(json.dumps(metadata))
    (artifacts / scoring.LATEST_FILE).write_text(version + "\n")
    return version


def test_chain_publishes_a_better_candidate(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    artifacts = tmp_path / "artifacts"
    _old_version(artifacts, auc=0.535)
    monkeypatch.setenv(scoring.MODEL_DIR_ENV, str(artifacts))
    result = dg.materialize(
        CHAIN,
        # one family, one CV repeat: the chain is what is tested here; tests/models check the full training
        run_config={"ops": {"credit_model_candidate": {"config": {"cv_repeats": 1, "families": ["scorecard"]}}}},
    )
    assert result.success
    evaluation = result.output_for_node("credit_model_evaluation")
    assert evaluation["publish"] and evaluation["current_metrics_source"].startswith("recorded")
    assert evaluation["candidate"]["auc"] > 0.535
    latest = (artifacts / scoring.LATEST_FILE).read_text().strip()
    assert latest == evaluation["candidate_version"] != "pd-logit-old"
    scorer = scoring.load_scorer(artifacts)
    assert scorer.model_version == latest
    published = result.asset_materializations_for_node("credit_model_published")[0].metadata
    assert published["published"].value is True and published["latest_version"].value == latest
    # the temporary training directory is cleaned up
    assert not Path(result.output_for_node("credit_model_candidate")["workdir"]).exists()


def test_candidate_that_does_not_beat_the_current_version_is_not_published(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    artifacts = tmp_path / "artifacts"
    current = scoring.resolve_model_dir(scoring.ARTIFACTS_DIR)
    shutil.copytree(current, artifacts / current.name)
    (artifacts / scoring.LATEST_FILE).write_text(current.name + "\n")
    monkeypatch.setenv(scoring.MODEL_DIR_ENV, str(artifacts))
    # the same model under another version name: equal held-out AUC does not beat it
    workdir = tmp_path / "work"
    shutil.copytree(current, workdir / "pd-scorecard-candidate")
    metadata_file = workdir / "pd-scorecard-candidate" / scoring.METADATA_FILE
    metadata = json.loads(metadata_file.read_text())
    metadata_file.write_text(json.dumps({**metadata, "version": "pd-scorecard-candidate"}))
    candidate = {
        "version": "pd-scorecard-candidate",
        "path": str(workdir / "pd-scorecard-candidate"),
        "workdir": str(workdir),
    }

    evaluation = A.credit_model_evaluation(dg.build_asset_context(), candidate)
    assert not evaluation["publish"] and "does not beat" in evaluation["reason"]
    assert evaluation["current_version"] == current.name and evaluation["current_metrics_source"] == "re-evaluated"
    result = A.credit_model_published(dg.build_asset_context(), candidate, evaluation)
    assert result.metadata["published"] is False and "does not beat" in result.metadata["reason"]
    assert (artifacts / scoring.LATEST_FILE).read_text().strip() == current.name
    assert not (artifacts / "pd-scorecard-candidate").exists()


def _scored_loans(n: int, seed: int, shift: float = 0.0, miscalibrate: float = 1.0) -> pd.DataFrame:
    """A fct_borrower_loans-like table of scored platform loans with outcomes, from real borrowers."""
    frame = bureau.sample_borrowers(n, seed=seed).to_pandas()
    if shift:
        frame["amount_cents"] = (frame["amount_cents"] * (1 + shift)).astype("int64")
    scored = scoring.load_scorer(scoring.ARTIFACTS_DIR).score_batch(frame)
    rng = np.random.default_rng(seed + 1_000)
    p = np.clip(scored["probability_of_default"].to_numpy() * miscalibrate, 0, 1)
    status = np.where(rng.random(n) < p, "charged_off", np.where(rng.random(n) < 0.5, "active", "repaid"))
    status[: n // 20] = "listed"  # not issued yet: no outcome
    return pd.DataFrame(
        {
            "loan_id": np.arange(n),
            "grade": scored["grade"],
            "probability_of_default": scored["probability_of_default"],
            "score_model_version": scored["model_version"],
            "status": status,
            "amount_cents": scored["amount_cents"],
            "term_months": scored["term_months"],
            "revol_util": scored["revol_util"].astype(float),
            "disbursed_at": pd.to_datetime("2026-01-15") + pd.to_timedelta(np.arange(n) % 3 * 31, unit="D"),
        }
    )


def _warehouse(path: Path, table: pd.DataFrame | None) -> Path:
    with duckdb.connect(str(path)) as duck:
        duck.execute("create schema if not exists marts")
        if table is not None:
            duck.register("loans", table)
            duck.execute("create table marts.fct_borrower_loans as select * from loans")
    return path


def _run_monitoring(monkeypatch: pytest.MonkeyPatch, warehouse: Path) -> dict[str, dg.AssetCheckEvaluation]:
    monkeypatch.setenv(A.WAREHOUSE_ENV, str(warehouse))
    monkeypatch.setenv(scoring.MODEL_DIR_ENV, str(scoring.ARTIFACTS_DIR))
    result = dg.materialize(MONITORING, raise_on_error=False)
    assert result.success
    return {e.check_name: e for e in result.get_asset_check_evaluations()}


def test_monitoring_passes_on_loans_like_training(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    checks = _run_monitoring(monkeypatch, _warehouse(tmp_path / "w.duckdb", _scored_loans(6_000, seed=1)))
    assert checks["credit_model_input_drift"].passed
    assert checks["credit_model_calibration"].passed
    assert checks["credit_model_input_drift"].severity == dg.AssetCheckSeverity.ERROR


def test_monitoring_fails_on_drift_and_on_a_calibration_break(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    table = _scored_loans(6_000, seed=2, shift=0.9, miscalibrate=2.5)
    checks = _run_monitoring(monkeypatch, _warehouse(tmp_path / "w.duckdb", table))
    drift, calibration = checks["credit_model_input_drift"], checks["credit_model_calibration"]
    assert not drift.passed and drift.severity == dg.AssetCheckSeverity.ERROR
    assert "amount_cents" in drift.metadata["drifted"].value
    assert not calibration.passed and calibration.severity == dg.AssetCheckSeverity.ERROR
    assert calibration.metadata["breaks"].value


def test_monitoring_of_todays_mart_reports_not_enough_outcomes(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # fct_borrower_loans as the dbt project builds it today: grade and status, no probability of default
    mart = pd.DataFrame(
        {
            "loan_id": [1, 2, 3],
            "grade": ["C", "D", "B"],
            "status": ["active", "listed", "repaid"],
            "amount_cents": [500_000, 1_000_000, 250_000],
            "term_months": [36, 36, 60],
            "created_at": pd.to_datetime(["2026-03-01", "2026-03-02", "2026-03-03"]),
        }
    )
    checks = _run_monitoring(monkeypatch, _warehouse(tmp_path / "w.duckdb", mart))
    assert checks["credit_model_input_drift"].passed and checks["credit_model_calibration"].passed
    # the pass covers amount and term only, and says so: income and bureau attributes are not in the warehouse
    drift = checks["credit_model_input_drift"]
    assert "annual_income_cents" in drift.metadata["unmeasured"].value
    assert "not measured" in str(drift.description) and "revol_util" in str(drift.description)
    notes = checks["credit_model_calibration"].metadata["notes"].value
    assert any(str(n).startswith(M.NOT_ENOUGH_OUTCOMES) for n in notes)

    missing = _run_monitoring(monkeypatch, _warehouse(tmp_path / "empty.duckdb", None))
    assert any("does not exist" in str(n) for n in missing["credit_model_calibration"].metadata["notes"].value)


def _input_bins_mart(frame: pd.DataFrame, version: str) -> pd.DataFrame:
    """fct_model_input_bins as dbt builds it from what the API stores per application (bins, never values)."""
    reference = scoring.read_metadata(scoring.resolve_model_dir(scoring.ARTIFACTS_DIR))["monitoring_reference"]
    rows = [
        {"input_name": name, "bin_index": index}
        for record in frame.to_dict("records")
        for name, index in M.input_bins(
            reference, {k: float(v) for k, v in record.items() if k in reference["inputs"]}
        ).items()
    ]
    counts = pd.DataFrame(rows).value_counts().rename("applications_count").reset_index()
    return counts.assign(score_model_version=version, application_month_date=pd.Timestamp("2026-01-01"))


def test_monitoring_measures_inputs_that_reach_the_warehouse_only_as_bins(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Income never reaches the warehouse: its PSI comes from fct_model_input_bins, and a shifted income is seen."""
    version = scoring.resolve_model_dir(scoring.ARTIFACTS_DIR).name
    applicants = bureau.sample_borrowers(3_000, seed=5).to_pandas()
    steady = _input_bins_mart(applicants, version)
    richer = _input_bins_mart(applicants.assign(annual_income_cents=applicants["annual_income_cents"] * 3), version)
    other_version = steady.assign(score_model_version="pd-older", applications_count=1_000)  # must be ignored
    for bins, drifted in ((steady, False), (pd.concat([richer, other_version]), True)):
        warehouse = _warehouse(tmp_path / f"w-{drifted}.duckdb", _scored_loans(3_000, seed=4))
        with duckdb.connect(str(warehouse)) as duck:
            duck.register("bins", bins)
            duck.execute("create table marts.fct_model_input_bins as select * from bins")
        check = _run_monitoring(monkeypatch, warehouse)["credit_model_input_drift"]
        assert "annual_income_cents" not in check.metadata["unmeasured"].value
        assert check.passed is not drifted
        if drifted:
            assert "annual_income_cents" in check.metadata["drifted"].value
