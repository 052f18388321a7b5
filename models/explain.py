"""Fast scoring and risk attribution of a fitted, calibrated model, per family.

Serving does not call ``predict_proba`` of the fitted scikit-learn object for the scorecards: their fitted
parameters are read once at load, and the probability becomes one matrix product and a sigmoid, exactly the
arithmetic scikit-learn performs (a test checks the two agree to 1e-12), without its per-call input validation,
which costs more than the model for one application. The same parameters give each feature's additive
contribution, the basis of the reason codes. The boosted model is scored by scikit-learn and explained by SHAP.
"""

from __future__ import annotations

from typing import Any, Protocol

import numpy as np
import numpy.typing as npt
from scipy.special import expit
from sklearn.calibration import CalibratedClassifierCV

from models import features as F
from models.estimators import Family, WoeEncoder

_KNOWN_DIRECTION = np.array([f.risk_direction for f in F.FEATURES])


class Explainer(Protocol):
    def predict(self, X: npt.NDArray[np.float64]) -> npt.NDArray[np.float64]:
        """Calibrated probability of default per row."""
        ...

    def risk_points(
        self, X: npt.NDArray[np.float64]
    ) -> tuple[npt.NDArray[np.float64], npt.NDArray[np.float64], npt.NDArray[np.bool_]]:
        """(probability, per-feature risk points >= 0 in log-odds, whether high values are the risky side)."""
        ...


def _calibration(model: CalibratedClassifierCV) -> tuple[Any, float, float]:
    calibrated = getattr(model, "calibrated_classifiers_", [])
    if not isinstance(model, CalibratedClassifierCV) or len(calibrated) != 1 or len(calibrated[0].calibrators) != 1:
        raise TypeError("expected a binary CalibratedClassifierCV fitted with ensemble=False")
    calibrator = calibrated[0].calibrators[0]
    if not hasattr(calibrator, "a_"):
        raise TypeError("expected a sigmoid (Platt) calibrator")
    # scikit-learn's sigmoid calibration: p = 1 / (1 + exp(a * f + b)), f the estimator's decision function.
    return calibrated[0].estimator, float(calibrator.a_), float(calibrator.b_)


class LinearScorecard:
    """Pipeline[SimpleImputer, StandardScaler, LogisticRegression] + Platt: logit(p) = c + sum_j s_j x_j."""

    def __init__(self, model: CalibratedClassifierCV, reference_low: list[float], reference_high: list[float]):
        pipeline, a, b = _calibration(model)
        steps = pipeline.named_steps
        self.fill = np.asarray(steps["impute"].statistics_, dtype="float64")
        mean = np.asarray(steps["scale"].mean_, dtype="float64")
        scale = np.asarray(steps["scale"].scale_, dtype="float64")
        coef = np.asarray(steps["classifier"].coef_[0], dtype="float64")
        intercept = float(steps["classifier"].intercept_[0])
        # Fold standardisation and calibration into one slope per feature and one constant.
        self.slope = -a * coef / scale
        self.constant = -a * (intercept - float(coef @ (mean / scale))) - b
        # The most favourable risk each feature can contribute within the training range (1st-99th percentile).
        low = self.slope * np.asarray(reference_low, dtype="float64")
        high = self.slope * np.asarray(reference_high, dtype="float64")
        self.best = np.minimum(low, high)
        self.high_raises = self.slope > 0

    def _filled(self, X: npt.NDArray[np.float64]) -> npt.NDArray[np.float64]:
        return np.where(np.isnan(X), self.fill, X)

    def predict(self, X: npt.NDArray[np.float64]) -> npt.NDArray[np.float64]:
        return expit(self._filled(X) @ self.slope + self.constant)

    def risk_points(
        self, X: npt.NDArray[np.float64]
    ) -> tuple[npt.NDArray[np.float64], npt.NDArray[np.float64], npt.NDArray[np.bool_]]:
        contributions = self._filled(X) * self.slope
        p = expit(contributions.sum(axis=1) + self.constant)
        return p, np.maximum(contributions - self.best, 0.0), self.high_raises


class WoeScorecard:
    """Pipeline[WoeEncoder, LogisticRegression] + Platt: logit(p) = c + sum_j s_j woe_j(bin of x_j)."""

    def __init__(self, model: CalibratedClassifierCV):
        pipeline, a, b = _calibration(model)
        encoder: WoeEncoder = pipeline.named_steps["woe"]
        classifier = pipeline.named_steps["classifier"]
        coef = np.asarray(classifier.coef_[0], dtype="float64")
        self.constant = -a * float(classifier.intercept_[0]) - b
        # Points per bin: the scorecard table.
        self.splits = encoder.splits_
        self.bin_points = [-a * coef[j] * encoder.woe_[j] for j in range(len(coef))]
        self.missing_points = -a * coef * encoder.missing_woe_
        self.best = np.array([points.min() for points in self.bin_points])
        self.high_raises = np.array([points[-1] > points[0] for points in self.bin_points])

    def _points(self, X: npt.NDArray[np.float64]) -> npt.NDArray[np.float64]:
        out = np.empty_like(X)
        for j, (splits, points) in enumerate(zip(self.splits, self.bin_points, strict=True)):
            column = X[:, j]
            out[:, j] = np.where(
                np.isnan(column), self.missing_points[j], points[np.searchsorted(splits, column, side="right")]
            )
        return out

    def predict(self, X: npt.NDArray[np.float64]) -> npt.NDArray[np.float64]:
        return expit(self._points(X).sum(axis=1) + self.constant)

    def risk_points(
        self, X: npt.NDArray[np.float64]
    ) -> tuple[npt.NDArray[np.float64], npt.NDArray[np.float64], npt.NDArray[np.bool_]]:
        points = self._points(X)
        return expit(points.sum(axis=1) + self.constant), np.maximum(points - self.best, 0.0), self.high_raises


class BoostedExplainer:
    """HistGradientBoostingClassifier + Platt, explained by SHAP (path-dependent TreeExplainer) on its log-odds.

    The calibrator is a positive rescaling of the log-odds (a < 0), so SHAP values times -a are each feature's
    share of the calibrated log-odds. Only positive shares raised the risk."""

    def __init__(self, model: CalibratedClassifierCV, medians: list[float]):
        import shap

        pipeline, a, _ = _calibration(model)
        self.model = model
        self.scale = -a
        self.shap = shap.TreeExplainer(pipeline.named_steps["classifier"])
        self.medians = np.asarray(medians, dtype="float64")

    def predict(self, X: npt.NDArray[np.float64]) -> npt.NDArray[np.float64]:
        return np.asarray(self.model.predict_proba(X)[:, 1], dtype="float64")

    def risk_points(
        self, X: npt.NDArray[np.float64]
    ) -> tuple[npt.NDArray[np.float64], npt.NDArray[np.float64], npt.NDArray[np.bool_]]:
        values = np.asarray(self.shap.shap_values(X), dtype="float64")
        if values.ndim == 3:  # some shap versions return one matrix per class
            values = values[..., -1]
        # Which side of the training median the value is on says which phrase is true; where credit practice
        # knows the direction (and the model is constrained to it), that direction decides.
        high = np.where(_KNOWN_DIRECTION != 0, _KNOWN_DIRECTION > 0, X > self.medians)
        return self.predict(X), np.maximum(values * self.scale, 0.0), high


def make_explainer(family: Family, model: CalibratedClassifierCV, metadata: dict[str, Any]) -> Explainer:
    reference = metadata["feature_reference"]
    if family == "scorecard":
        return LinearScorecard(model, reference["p01"], reference["p99"])
    if family == "scorecard-woe":
        return WoeScorecard(model)
    if family == "boosted":
        return BoostedExplainer(model, reference["median"])
    raise TypeError(f"unknown model family {family!r}")
