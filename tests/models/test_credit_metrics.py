"""The metrics in metadata.json are real: recomputed here from the committed artifact and the same data."""

from __future__ import annotations

import json

import numpy as np
import pytest
from sklearn.metrics import brier_score_loss, roc_auc_score

from models import features as F
from models import scoring, train


@pytest.fixture(scope="module")
def held_out() -> train.Dataset:
    return train.split(train.load_lending_club())[1]


@pytest.fixture(scope="module")
def metadata() -> dict:
    return json.loads((scoring.resolve_model_dir() / scoring.METADATA_FILE).read_text())


def predict(data: train.Dataset) -> np.ndarray:
    model = scoring.load_scorer()._model
    return model.predict_proba(F.build_features(data.applications))[:, 1]


def test_held_out_split_is_the_one_the_metadata_describes(held_out: train.Dataset, metadata: dict) -> None:
    assert len(held_out.defaulted) == metadata["data"]["test_rows"]
    assert train.test_index_digest(held_out) == metadata["data"]["test_index_sha256"]


def test_held_out_metrics_match_metadata(held_out: train.Dataset, metadata: dict) -> None:
    p = predict(held_out)
    y = held_out.defaulted.to_numpy()
    recorded = metadata["metrics"]["held_out"]
    auc = roc_auc_score(y, p)
    assert auc == pytest.approx(recorded["auc"], abs=1e-6)
    assert brier_score_loss(y, p) == pytest.approx(recorded["brier"], abs=1e-6)
    # Better than chance, and calibrated on average. (The model is weak by design - no bureau data, no rate -
    # so the bar is "above chance", not a strong AUC; the model card gives the numbers.)
    assert auc > 0.52
    assert abs(p.mean() - y.mean()) < 0.01


def test_a_small_sample_agrees_with_the_full_evaluation(held_out: train.Dataset, metadata: dict) -> None:
    sample = held_out.applications.sample(n=1_000, random_state=7).index
    p = predict(train.Dataset(held_out.applications.loc[sample], held_out.defaulted.loc[sample]))
    auc = roc_auc_score(held_out.defaulted.loc[sample], p)
    assert auc == pytest.approx(metadata["metrics"]["held_out"]["auc"], abs=0.06)
    assert auc > 0.5


def test_training_is_reproducible(metadata: dict) -> None:
    """Refitting with the committed code and seed gives the committed model and version."""
    data = train.load_lending_club()
    assert metadata["version"].endswith(train.fingerprint(data)[:10])
    fit_on, check_on = train.split(data)
    refit = train.make_model().fit(F.build_features(fit_on.applications), fit_on.defaulted)
    features = F.build_features(check_on.applications)
    committed = scoring.load_scorer()._model.predict_proba(features)[:, 1]
    np.testing.assert_allclose(refit.predict_proba(features)[:, 1], committed, rtol=1e-9, atol=1e-12)
