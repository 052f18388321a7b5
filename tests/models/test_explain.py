"""The serving path of every model family agrees with the fitted scikit-learn estimator, and its risk points
explain it: the chosen family is decided at training time, so the other two must work as well."""

from __future__ import annotations

import numpy as np
import pytest

from models import data as D
from models import estimators as E
from models import features as F
from models import train
from models.explain import make_explainer


@pytest.mark.parametrize("family", E.FAMILIES)
def test_family_explainer_matches_estimator(family: E.Family, split: tuple[D.Dataset, D.Dataset]) -> None:
    fit_on, check_on = split
    X = F.frame_features(fit_on.applications)[:3_000]
    y = fit_on.defaulted.to_numpy()[:3_000]
    model = E.make_model(family, D.SEED).fit(X, y)
    explainer = make_explainer(family, model, {"feature_reference": train.feature_reference(X)})
    Xt = F.frame_features(check_on.applications)[:400]
    Xt[::5, 4:] = np.nan  # and with unknown bureau attributes
    p, points, high = explainer.risk_points(Xt)
    np.testing.assert_allclose(p, model.predict_proba(Xt)[:, 1], atol=1e-12)
    np.testing.assert_allclose(explainer.predict(Xt), p, atol=1e-12)
    assert points.shape == Xt.shape and (points >= 0).all()
    assert np.broadcast_to(high, Xt.shape).shape == Xt.shape
    if family == "boosted":
        # SHAP values add up to the boosted model's log-odds
        values = np.asarray(explainer.shap.shap_values(Xt[:20]))  # type: ignore[attr-defined]
        raw = model.calibrated_classifiers_[0].estimator.decision_function(Xt[:20])
        np.testing.assert_allclose(values.sum(axis=1) + explainer.shap.expected_value, raw, atol=1e-6)  # type: ignore[attr-defined]
