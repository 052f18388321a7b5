"""The improvement study (models.selection) sees the training rows only, uses the same folds as models.train, and
its statistics and feature changes do what they say."""

from __future__ import annotations

import json

import numpy as np
import pytest

from models import data as D
from models import features as F
from models import scoring
from models import selection as S


@pytest.fixture(scope="module")
def rows() -> S.TrainingRows:
    return S.training_rows()


def test_study_sees_no_held_out_row(rows: S.TrainingRows, split: tuple[D.Dataset, D.Dataset]) -> None:
    train, held_out = split
    assert len(rows.y) == len(train) == 7_392 and int(rows.y.sum()) == 388
    assert not set(rows.index) & set(held_out.applications.index)
    assert rows.index.equals(train.applications.index)
    # and it reads application-time inputs only
    assert not set(rows.raw) & F.LEAKAGE_COLUMNS


def test_incumbent_folds_are_the_ones_training_recorded(rows: S.TrainingRows) -> None:
    """The study's first repeat is models.train's first repeat: the published scorecard scores the same there."""
    metadata = json.loads((scoring.resolve_model_dir() / scoring.METADATA_FILE).read_text())
    recorded = metadata["metrics"]["cross_validation"]["families"]["scorecard"]["fold_auc"][: S.FOLDS]
    incumbent = next(c for c in S.CANDIDATES if c.name == S.INCUMBENT)
    aucs = S.fold_aucs(incumbent.estimator, rows.X, rows.y, S.folds(rows.y, repeats=1))
    np.testing.assert_allclose(aucs, recorded, atol=1e-5)


def test_feature_changes_add_replace_and_drop(rows: S.TrainingRows) -> None:
    k = rows.X.shape[1]
    assert S.apply_changes(rows, ()).shape == rows.X.shape
    assert S.apply_changes(rows, ("add employment not stated",)).shape[1] == k + 1
    assert S.apply_changes(rows, ("employment length -> not-stated indicator",)).shape[1] == k
    assert S.apply_changes(rows, ("drop open_il_6m",)).shape[1] == k - 1
    changed = S.apply_changes(rows, ("amount: log -> identity",))
    np.testing.assert_allclose(np.exp(rows.X[:, 0]), changed[:, 0], rtol=1e-9)
    for name in S.CHANGES:  # every change builds a finite column for every training row (NaN only where stated)
        X = S.apply_changes(rows, (name,))
        assert X.shape[0] == len(rows.y) and not np.isinf(X).any(), name
    assert set(S.SEARCH_MENU) <= set(S.CHANGES) and set(S.BEST_COMBINATION) <= set(S.SEARCH_MENU)


def test_corrected_standard_error_and_acceptance_rule() -> None:
    diff = np.array([0.004, -0.001, 0.003, 0.002, 0.0, 0.005, -0.002, 0.003, 0.001, 0.002])
    stats = S.paired(diff)
    assert stats["mean"] == pytest.approx(diff.mean())
    assert stats["se_naive"] == pytest.approx(diff.std(ddof=1) / np.sqrt(10))
    # 5-fold CV: n_test / n_train = 1/4, so the corrected SE is sqrt(1/10 + 1/4) / sqrt(1/10) = 1.87 times larger
    assert stats["se_corrected"] / stats["se_naive"] == pytest.approx(np.sqrt((0.1 + 0.25) / 0.1))
    incumbent = {"name": S.INCUMBENT, "vs_incumbent": {"p_one_sided": 0.0}}
    assert not S.accepted(incumbent)
    assert S.accepted({"name": "x", "vs_incumbent": {"p_one_sided": 0.01}})
    assert not S.accepted({"name": "x", "vs_incumbent": {"p_one_sided": 0.2}})


def test_holm_adjustment_and_the_amended_rule() -> None:
    assert S.holm([0.01, 0.04, 0.03, 0.005]) == pytest.approx([0.03, 0.06, 0.06, 0.02])
    assert S.holm([]) == []
    results = [
        {
            "name": S.INCUMBENT,
            "adoptable": True,
            "searched": False,
            "auc_mean": 0.68,
            "vs_incumbent": {"p_one_sided": 0.5},
        },
        {"name": "a", "adoptable": True, "searched": False, "auc_mean": 0.69, "vs_incumbent": {"p_one_sided": 0.01}},
        {"name": "b", "adoptable": True, "searched": False, "auc_mean": 0.70, "vs_incumbent": {"p_one_sided": 0.03}},
        {"name": "c", "adoptable": False, "searched": False, "auc_mean": 0.71, "vs_incumbent": {"p_one_sided": 0.0}},
        {"name": "d", "adoptable": True, "searched": True, "auc_mean": 0.72, "vs_incumbent": {"p_one_sided": 0.001}},
    ]
    S.add_holm(results)
    adjusted = {r["name"]: r["vs_incumbent"]["p_holm"] for r in results}
    assert adjusted[S.INCUMBENT] is None and adjusted["c"] is None  # outside the family
    assert adjusted == {S.INCUMBENT: None, "a": pytest.approx(0.02), "b": pytest.approx(0.03), "c": None, "d": 0.003}
    # b passes alone (0.03) and after Holm (0.03); c is never adoptable; d needs the nested check too
    failing_nested = {"gain": {"p_one_sided": 0.4}}
    assert S.decide(results, failing_nested) == ["b", "a"]
    assert S.decide(results, {"gain": {"p_one_sided": 0.01}}) == ["d", "b", "a"]
    assert S.decide(results, None) == ["b", "a"]


def test_nested_check_searches_every_adoptable_change() -> None:
    assert set(S.NESTED_MENU) == set(S.CHANGES) - S.WRONG_SIGN
    assert set(S.SEARCH_MENU) < set(S.NESTED_MENU)
    wrong = [c for c in S.CANDIDATES if not c.adoptable]
    assert [c.changes for c in wrong] == [tuple(S.WRONG_SIGN)]


def test_recorded_study_is_complete_and_its_decision_follows_the_rule() -> None:
    """models/selection_results.json is the committed run: every candidate on 25 folds, the incumbent's first 15
    folds are the ones models.train recorded, and the recorded decision is what the rule gives."""
    record = json.loads(S.RESULTS_FILE.read_text(encoding="utf-8"))
    assert record["complete"] and record["rows"] == {"train": 7_392, "train_defaults": 388}
    names = [r["name"] for r in record["candidates"]]
    assert names == [c.name for c in S.CANDIDATES]
    assert all(len(r["fold_auc"]) == S.FOLDS * S.REPEATS for r in record["candidates"])
    metadata = json.loads((scoring.resolve_model_dir() / scoring.METADATA_FILE).read_text())
    recorded = metadata["metrics"]["cross_validation"]["families"]["scorecard"]["fold_auc"]
    np.testing.assert_allclose(record["candidates"][0]["fold_auc"][: len(recorded)], recorded, atol=1e-5)
    assert len(record["nested"]["folds"]) == S.FOLDS * S.NESTED_OUTER_REPEATS
    assert record["accepted"] == S.decide(record["candidates"], record["nested"])
