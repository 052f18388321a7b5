"""The candidate model families, as scikit-learn estimators over the feature matrix of :mod:`models.features`.

- ``scorecard``: logistic regression on the standardised (clipped, log-transformed) features. Unknown values
  are filled with the training mean, which in a linear model is exactly the average contribution: an unknown
  field counts as average (the median would count a skewed count such as inquiries as the best value).
- ``scorecard-woe``: logistic regression on weight-of-evidence bins (``optbinning`` finds monotone bins).
- ``boosted``: ``HistGradientBoostingClassifier`` constrained to be monotone wherever the direction is known.

Each is wrapped in ``CalibratedClassifierCV(method="sigmoid", ensemble=False)``: one estimator fitted on all
training rows and a Platt calibrator fitted on its out-of-fold scores. Sigmoid rather than isotonic because
517 bad loans are too few for a step function (it made ties that cost AUC), and a sigmoid of the log-odds keeps
the scorecard additive, so its reason codes are exact.

This module is imported when an artifact is unpickled, so it must stay importable under the same name.
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from typing import Any, Final, Literal

import numpy as np
import numpy.typing as npt
from sklearn.base import BaseEstimator, TransformerMixin
from sklearn.calibration import CalibratedClassifierCV
from sklearn.ensemble import HistGradientBoostingClassifier
from sklearn.impute import SimpleImputer
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import StratifiedKFold
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import StandardScaler

from models import features as F

Family = Literal["scorecard", "scorecard-woe", "boosted"]
#: Simplest first: when two families are within noise of each other, the earlier one is chosen.
FAMILIES: Final[tuple[Family, ...]] = ("scorecard", "scorecard-woe", "boosted")

CALIBRATION_FOLDS: Final = 5

# Chosen by repeated stratified CV on the training rows during development (C in 0.01-1, all within 0.002 AUC;
# strong shrinkage because 388 training defaults spread over 15 features).
SCORECARD_PARAMS: Final = {"C": 0.03, "max_iter": 2000}
WOE_PARAMS: Final = {"C": 0.1, "max_iter": 2000, "min_bin_size": 0.05, "max_n_prebins": 20}
# Shallow trees, few of them, large leaves: deeper or longer boosting overfitted in CV (AUC 0.651-0.66).
BOOSTED_PARAMS: Final = {
    "learning_rate": 0.05,
    "max_iter": 100,
    "max_depth": 2,
    "min_samples_leaf": 50,
    "l2_regularization": 1.0,
}


class WoeEncoder(TransformerMixin, BaseEstimator):
    """Replaces each column by the weight of evidence of its bin, ln(share of goods / share of bads), with
    monotone bins found by ``optbinning.OptimalBinning``. NaN gets the WOE of the training rows with NaN (0,
    i.e. average, when training had none).

    ``optbinning`` is used to *find* the bins only; transforming is a ``searchsorted`` over the stored splits, so
    scoring does not depend on optbinning's (slower) transform."""

    def __init__(
        self, trends: Sequence[str] = (), min_bin_size: float = 0.05, max_n_prebins: int = 20, random_state: int = 0
    ) -> None:
        self.trends = trends
        self.min_bin_size = min_bin_size
        self.max_n_prebins = max_n_prebins
        self.random_state = random_state

    def fit(self, X: npt.ArrayLike, y: npt.ArrayLike) -> WoeEncoder:
        from optbinning import OptimalBinning

        values = np.asarray(X, dtype="float64")
        target = np.asarray(y)
        trends = list(self.trends) or ["auto_asc_desc"] * values.shape[1]
        self.splits_: list[npt.NDArray[np.float64]] = []
        self.woe_: list[npt.NDArray[np.float64]] = []
        self.missing_woe_ = np.zeros(values.shape[1])
        for j in range(values.shape[1]):
            binning = OptimalBinning(
                name=f"x{j}",
                dtype="numerical",
                monotonic_trend=trends[j],
                min_bin_size=self.min_bin_size,
                max_n_prebins=self.max_n_prebins,
            )
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                binning.fit(values[:, j], target)
            splits = np.asarray(binning.splits, dtype="float64")
            table = binning.binning_table.build()
            woe = table["WoE"].to_numpy()
            self.splits_.append(splits)
            self.woe_.append(np.asarray(woe[: len(splits) + 1], dtype="float64"))
            self.missing_woe_[j] = float(table.loc[table["Bin"] == "Missing", "WoE"].iloc[0])
        self.n_features_in_ = values.shape[1]
        return self

    def transform(self, X: npt.ArrayLike) -> npt.NDArray[np.float64]:
        values = np.asarray(X, dtype="float64")
        out = np.empty_like(values)
        for j in range(values.shape[1]):
            column = values[:, j]
            bins = np.searchsorted(self.splits_[j], column, side="right")
            out[:, j] = np.where(np.isnan(column), self.missing_woe_[j], self.woe_[j][bins])
        return out


def woe_trend(feature: F.Feature) -> str:
    # optbinning's trend is of the *event rate*: a feature that raises risk has an ascending bad rate.
    return {1: "ascending", -1: "descending", 0: "auto_asc_desc"}[feature.risk_direction]


def make_estimator(family: Family) -> Pipeline:
    """The uncalibrated estimator of a family (what cross-validation ranks)."""
    if family == "scorecard":
        return Pipeline(
            [
                ("impute", SimpleImputer(strategy="mean")),
                ("scale", StandardScaler()),
                ("classifier", LogisticRegression(**SCORECARD_PARAMS)),
            ]
        )
    if family == "scorecard-woe":
        return Pipeline(
            [
                (
                    "woe",
                    WoeEncoder(
                        trends=tuple(woe_trend(f) for f in F.FEATURES),
                        min_bin_size=float(WOE_PARAMS["min_bin_size"]),
                        max_n_prebins=int(WOE_PARAMS["max_n_prebins"]),
                    ),
                ),
                ("classifier", LogisticRegression(C=WOE_PARAMS["C"], max_iter=int(WOE_PARAMS["max_iter"]))),
            ]
        )
    if family == "boosted":
        return Pipeline(
            [
                (
                    "classifier",
                    HistGradientBoostingClassifier(
                        **BOOSTED_PARAMS,
                        monotonic_cst=[f.risk_direction for f in F.FEATURES],
                        early_stopping=False,
                        random_state=0,
                    ),
                )
            ]
        )
    raise ValueError(f"unknown model family {family!r}")


def make_model(family: Family, seed: int) -> CalibratedClassifierCV:
    return CalibratedClassifierCV(
        make_estimator(family),
        method="sigmoid",
        cv=StratifiedKFold(CALIBRATION_FOLDS, shuffle=True, random_state=seed),
        ensemble=False,
    )


def hyperparameters(family: Family) -> dict[str, Any]:
    table: dict[str, dict[str, Any]] = {
        "scorecard": dict(SCORECARD_PARAMS),
        "scorecard-woe": dict(WOE_PARAMS),
        "boosted": {**BOOSTED_PARAMS, "monotonic_cst": [f.risk_direction for f in F.FEATURES]},
    }
    params = table[family]
    params.update({"calibration": "sigmoid", "calibration_folds": CALIBRATION_FOLDS})
    return params


def describe(family: Family) -> str:
    return {
        "scorecard": "CalibratedClassifierCV(Pipeline[SimpleImputer(mean), StandardScaler, LogisticRegression], "
        "method=sigmoid, ensemble=False)",
        "scorecard-woe": "CalibratedClassifierCV(Pipeline[WoeEncoder(optbinning monotone bins), "
        "LogisticRegression], method=sigmoid, ensemble=False)",
        "boosted": "CalibratedClassifierCV(HistGradientBoostingClassifier(monotonic_cst), method=sigmoid, "
        "ensemble=False)",
    }[family]
