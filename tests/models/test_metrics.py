"""The figures in metadata.json and the model card are real: recomputed from the committed artifact and data."""

from __future__ import annotations

import json

import numpy as np
import pytest
from sklearn.metrics import brier_score_loss, roc_auc_score

from models import data as D
from models import estimators as E
from models import evaluation as V
from models import features as F
from models import scoring, train


@pytest.fixture(scope="module")
def metadata() -> dict:
    return json.loads((scoring.resolve_model_dir() / scoring.METADATA_FILE).read_text())


def test_held_out_split_is_the_one_the_metadata_describes(held_out: D.Dataset, metadata: dict) -> None:
    assert len(held_out) == metadata["data"]["test_rows"] == 2465
    assert D.index_digest(held_out) == metadata["data"]["test_index_sha256"]
    # the same held-out rows as the first artifact (pd-logit-f5ae090522), so versions compare like for like
    assert metadata["data"]["test_index_sha256"].startswith("5a1c76cd6329524a")


def test_held_out_metrics_match_metadata(scorer: scoring.CreditScorer, held_out: D.Dataset, metadata: dict) -> None:
    p = scorer.predict_features(F.frame_features(held_out.applications))
    y = held_out.defaulted.to_numpy()
    recorded = metadata["metrics"]["held_out"]
    assert roc_auc_score(y, p) == pytest.approx(recorded["auc"], abs=1e-9)
    assert brier_score_loss(y, p) == pytest.approx(recorded["brier"], abs=1e-9)
    assert V.ks_statistic(y, p) == pytest.approx(recorded["ks"], abs=1e-9)
    assert recorded["brier_skill_score"] == pytest.approx(1 - recorded["brier"] / recorded["brier_base_rate"])
    assert recorded["brier_skill_score"] > 0  # beats the base rate
    assert abs(p.mean() - y.mean()) < 0.01  # calibrated on average
    assert recorded["auc"] > 0.63  # where it stands: 0.651 on these rows (the card says so); 0.683 in CV
    assert len(recorded["calibration_table"]) == 10
    assert recorded["auc_95ci_delong"] == V.auc_interval_delong(y, p)  # the card's confidence interval
    assert recorded["auc_95ci_delong"][0] < 0.66 < recorded["auc_95ci_delong"][1]  # the target: not settled
    versus = metadata["metrics"]["held_out_vs_baselines"]["lc_sub_grade"]
    assert versus == V.delong_paired(y, p, D.sub_grade_rank(held_out.lc_sub_grade))


def test_baselines_are_on_the_same_rows(held_out: D.Dataset, metadata: dict) -> None:
    y = held_out.defaulted.to_numpy()
    base = metadata["metrics"]["held_out_baselines"]
    assert roc_auc_score(y, D.sub_grade_rank(held_out.lc_sub_grade)) == pytest.approx(base["lc_sub_grade"]["auc"])
    assert roc_auc_score(y, held_out.lc_int_rate_pct) == pytest.approx(base["lc_interest_rate"]["auc"])


def test_family_choice_follows_the_rule(metadata: dict) -> None:
    cv = metadata["metrics"]["cross_validation"]
    assert set(cv["families"]) == set(E.FAMILIES)
    assert all(len(r["fold_auc"]) == train.CV_FOLDS * train.CV_REPEATS for r in cv["families"].values())
    family, _ = train.choose_family(cv)
    assert family == metadata["model_family"]


def test_training_is_reproducible(
    scorer: scoring.CreditScorer, split: tuple[D.Dataset, D.Dataset], metadata: dict
) -> None:
    """The committed version string is the fingerprint of this code and data, and refitting gives the model."""
    data = D.load_lending_club()
    assert metadata["version"] == f"pd-{metadata['model_family']}-{train.fingerprint(data, train.CV_REPEATS)[:10]}"
    assert metadata["data"]["rows"] == len(data.applications)
    assert metadata["data"]["defaults"] == int(data.defaulted.sum())
    fit_on, check_on = split
    assert metadata["data"]["test_index_sha256"] == D.index_digest(check_on)
    if metadata["model_family"] != "scorecard":
        pytest.skip("refit check kept fast for the scorecard only")
    refit = E.make_model("scorecard", D.SEED).fit(F.frame_features(fit_on.applications), fit_on.defaulted)
    X = F.frame_features(check_on.applications)
    np.testing.assert_allclose(refit.predict_proba(X)[:, 1], scorer.predict_features(X), rtol=1e-9, atol=1e-12)


def test_choose_family_prefers_the_simpler_within_noise() -> None:
    folds = [0.68, 0.70, 0.66, 0.69, 0.67]
    close = {
        "families": {
            "scorecard": {"auc_mean": 0.68, "fold_auc": folds},
            "scorecard-woe": {"auc_mean": 0.6, "fold_auc": [0.6] * 5},
            "boosted": {"auc_mean": 0.681, "fold_auc": [f + 0.001 * (-1) ** i for i, f in enumerate(folds)]},
        }
    }
    assert train.choose_family(close)[0] == "scorecard"
    clear = {"families": {**close["families"], "boosted": {"auc_mean": 0.73, "fold_auc": [f + 0.05 for f in folds]}}}
    assert train.choose_family(clear)[0] == "boosted"


def test_delong_standard_error_is_the_auc_s_sampling_error() -> None:
    """DeLong's AUC equals scikit-learn's (ties count one half) and its SE agrees with a bootstrap's."""
    rng = np.random.default_rng(7)
    y = rng.random(2_500) < 0.05
    p = np.round(rng.normal(size=2_500) + 0.6 * y, 1)  # rounded: ties
    auc, se = V.delong(y, p)
    assert auc == pytest.approx(roc_auc_score(y, p), abs=1e-12)
    boot = [roc_auc_score(y[i], p[i]) for i in (rng.integers(0, len(y), len(y)) for _ in range(300))]
    assert se == pytest.approx(float(np.std(boot)), rel=0.2)
    low, high = V.auc_interval_delong(y, p)
    assert low < auc < high and high - low == pytest.approx(2 * 1.96 * se, abs=2e-4)
    same = V.delong_paired(y, p, p)
    assert same["difference"] == 0 and same["p_two_sided"] == 1.0
    paired = V.delong_paired(y, p, -p)
    assert paired["difference"] == pytest.approx(2 * auc - 1) and paired["p_two_sided"] < 1e-6
