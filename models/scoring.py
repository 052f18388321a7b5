"""The serving interface of the credit-risk model. Stable: later models keep it.

    from models.scoring import LoanApplication, load_scorer

    scorer = load_scorer()  # the artifact named by models/artifacts/LATEST, cached
    score = scorer.score(LoanApplication(amount_cents=1_000_000, term_months=36, interest_rate_bps=900,
                                         purpose="debt_consolidation"))
    score.grade, score.probability_of_default, score.reasons, score.model_version

``load_scorer`` raises :class:`ModelNotAvailable` when no usable artifact exists; it never falls back to a
default grade.
"""

from __future__ import annotations

import bisect
import hashlib
import json
import math
import threading
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any, Final

import joblib
import numpy as np
import sklearn

# The artifact's classes, imported here so that unpickling it does not pay for their import.
from sklearn.calibration import CalibratedClassifierCV
from sklearn.impute import SimpleImputer
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import StandardScaler

from models import features as F

ARTIFACTS_DIR: Final = Path(__file__).resolve().parent / "artifacts"
LATEST_FILE: Final = "LATEST"
MODEL_FILE: Final = "model.joblib"
METADATA_FILE: Final = "metadata.json"

#: Grade bands: the grade is the first letter whose upper bound (exclusive) is above the probability of
#: default; anything at or above the last bound is "G". Absolute probabilities, not quantiles, so a grade
#: keeps its meaning across model versions. The bounds increase, so the grade is monotone in the probability
#: of default. "Default" means the training label: charged off, defaulted or 21-120 days late (see the
#: model card).
GRADE_UPPER_BOUNDS: Final[tuple[tuple[str, float], ...]] = (
    ("A", 0.030),
    ("B", 0.040),
    ("C", 0.050),
    ("D", 0.065),
    ("E", 0.085),
    ("F", 0.110),
)
GRADES: Final = tuple(grade for grade, _ in GRADE_UPPER_BOUNDS) + ("G",)
_BOUNDS: Final = [bound for _, bound in GRADE_UPPER_BOUNDS]

#: Reasons are the features whose contribution to the log-odds of default, relative to the average training
#: loan, is at least this large; at most MAX_REASONS of them, largest first.
REASON_MIN_LOGIT: Final = 0.02
MAX_REASONS: Final = 3

MAX_TERM_MONTHS: Final = 600
MAX_RATE_BPS: Final = 10_000


class ModelNotAvailable(RuntimeError):
    """No usable credit-risk artifact: missing, corrupt, or built for other code. Retrain with
    ``uv run python -m models.train``."""


@dataclass(frozen=True)
class LoanApplication:
    """What is known about a loan request when it is created. Money in integer cents, rates in basis points
    (600 = 6.00 %). The borrower fields come from profiles later; ``None`` means not known."""

    amount_cents: int
    term_months: int
    interest_rate_bps: int
    purpose: str
    annual_income_cents: int | None = None
    employment_length_years: int | None = None
    home_ownership: str | None = None  # "rent" / "own" / "mortgage"
    debt_to_income_pct: Decimal | None = None  # Decimal("17.5") = 17.5 %

    def __post_init__(self) -> None:
        _require_int("amount_cents", self.amount_cents, minimum=1)
        _require_int("term_months", self.term_months, minimum=1, maximum=MAX_TERM_MONTHS)
        _require_int("interest_rate_bps", self.interest_rate_bps, minimum=0, maximum=MAX_RATE_BPS)
        if not isinstance(self.purpose, str) or not self.purpose.strip():
            raise ValueError("purpose must be a non-empty string")
        if self.annual_income_cents is not None:
            _require_int("annual_income_cents", self.annual_income_cents, minimum=0)
        if self.employment_length_years is not None:
            _require_int("employment_length_years", self.employment_length_years, minimum=0, maximum=80)
        if self.home_ownership is not None and self.home_ownership not in F.HOME_OWNERSHIP_VALUES:
            raise ValueError(f"home_ownership must be one of {F.HOME_OWNERSHIP_VALUES} or None")
        if self.debt_to_income_pct is not None:
            dti = self.debt_to_income_pct
            if not isinstance(dti, Decimal) or not dti.is_finite() or dti < 0:
                raise ValueError("debt_to_income_pct must be a finite, non-negative Decimal or None")


@dataclass(frozen=True)
class Score:
    grade: str  # one letter, A (safest) .. G
    probability_of_default: float  # calibrated, in (0, 1)
    reasons: tuple[str, ...]  # the factors pushing risk up most, largest first; may be empty for safe loans
    model_version: str


def grade_for_probability(probability_of_default: float) -> str:
    """Map a probability of default to a grade with GRADE_UPPER_BOUNDS (monotone non-decreasing)."""
    if not 0.0 <= probability_of_default <= 1.0 or math.isnan(probability_of_default):
        raise ValueError(f"probability of default out of [0, 1]: {probability_of_default!r}")
    return GRADES[bisect.bisect_right(_BOUNDS, probability_of_default)]


class CreditScorer:
    """A loaded artifact. Thread-safe for scoring (it only reads the fitted model)."""

    def __init__(self, model: CalibratedClassifierCV, metadata: dict[str, Any]) -> None:
        self._model = model
        self.metadata = metadata
        self.model_version: str = metadata["version"]
        # The calibrated model is one Pipeline (imputer, scaler, logistic regression) plus a monotone sigmoid
        # calibrator, so the pipeline's per-feature log-odds contributions rank the reasons.
        calibrated = getattr(model, "calibrated_classifiers_", [])
        if not isinstance(model, CalibratedClassifierCV) or len(calibrated) != 1:
            raise TypeError("expected a CalibratedClassifierCV fitted with ensemble=False")
        pipeline = calibrated[0].estimator
        steps = getattr(pipeline, "named_steps", {})
        if not (
            isinstance(pipeline, Pipeline)
            and isinstance(steps.get("impute"), SimpleImputer)
            and isinstance(steps.get("scale"), StandardScaler)
            and isinstance(steps.get("classifier"), LogisticRegression)
        ):
            raise TypeError("expected Pipeline[impute: SimpleImputer, scale: StandardScaler, classifier: LR]")
        self._fill = np.asarray(steps["impute"].statistics_, dtype="float64")
        self._mean = np.asarray(steps["scale"].mean_, dtype="float64")
        self._scale = np.asarray(steps["scale"].scale_, dtype="float64")
        self._coefficients = np.asarray(steps["classifier"].coef_[0], dtype="float64")

    def score(self, app: LoanApplication) -> Score:
        raw = F.applications_to_frame([app])
        features = F.build_features(raw)
        probability = float(self._model.predict_proba(features)[0, 1])
        return Score(
            grade=grade_for_probability(probability),
            probability_of_default=probability,
            reasons=self._reasons(app, features),
            model_version=self.model_version,
        )

    def _reasons(self, app: LoanApplication, features: Any) -> tuple[str, ...]:
        values = features.to_numpy(dtype="float64")[0]
        standardized = (np.where(np.isnan(values), self._fill, values) - self._mean) / self._scale
        contribution = dict(zip(F.MODEL_FEATURES, standardized * self._coefficients, strict=True))
        above_average = dict(zip(F.MODEL_FEATURES, standardized > 0, strict=True))
        known = {name for name, value in zip(F.MODEL_FEATURES, values, strict=True) if not math.isnan(value)}
        # Unknown inputs are imputed with the training median: they are not reasons.
        ranked = [(float(contribution[name]), name) for name in F.MODEL_FEATURES if name in known]
        # A large amount and a low income both pushing risk up are one story: ln(amount / income).
        amount, income = contribution.get("log_amount", 0.0), contribution.get("log_annual_income", 0.0)
        texts: list[tuple[float, str]] = []
        if {"log_amount", "log_annual_income"} <= known and amount > 0 and income > 0:
            # Reasons are shown to investors: they name the factor, never the borrower's income.
            texts.append((amount + income, "high amount relative to income"))
            ranked = [(c, name) for c, name in ranked if name not in ("log_amount", "log_annual_income")]
        texts.extend((c, _REASON_TEXT[name](app, bool(above_average[name]))) for c, name in ranked)
        texts = [(c, text) for c, text in texts if c >= REASON_MIN_LOGIT]  # small effects are noise
        texts.sort(key=lambda item: -item[0])
        return tuple(text for _, text in texts[:MAX_REASONS])


def _dollars(cents: int | None) -> str:
    return f"${(cents or 0) / 100:,.0f}"


def _years(years: int | None) -> str:
    return "1 year" if years == 1 else f"{years} years"


# Reason text for a feature, given whether the application's value is above the training average. Both
# directions exist so that a reason always says truthfully which way the model read the value.
_REASON_TEXT: Final[dict[str, Callable[[LoanApplication, bool], str]]] = {
    "log_amount": lambda app, high: (
        f"large loan amount ({_dollars(app.amount_cents)})"
        if high
        else f"small loan amount ({_dollars(app.amount_cents)})"
    ),
    "term_months": lambda app, high: (
        f"long term ({app.term_months} months)" if high else f"short term ({app.term_months} months)"
    ),
    # Income is personal data and reasons reach investors: no figures.
    "log_annual_income": lambda app, high: "high annual income" if high else "low annual income",
    "employment_length_years": lambda app, high: (
        f"long employment history ({_years(app.employment_length_years)})"
        if high
        else f"short employment history ({_years(app.employment_length_years)})"
    ),
}


def resolve_model_dir(model_dir: Path | None = None) -> Path:
    """The version directory to load: ``model_dir`` itself if it holds a model, else the version its
    ``LATEST`` file names; ``None`` means the committed ``models/artifacts``."""
    base = Path(model_dir) if model_dir is not None else ARTIFACTS_DIR
    if (base / MODEL_FILE).is_file():
        return base.resolve()
    latest = base / LATEST_FILE
    if not latest.is_file():
        raise ModelNotAvailable(
            f"no credit-risk model in {base}: neither {MODEL_FILE} nor {LATEST_FILE} found; "
            "train one with `uv run python -m models.train`"
        )
    version = latest.read_text(encoding="utf-8").strip()
    if not version or "/" in version or version.startswith("."):
        raise ModelNotAvailable(f"{latest} does not name a model version: {version!r}")
    version_dir = base / version
    if not (version_dir / MODEL_FILE).is_file():
        raise ModelNotAvailable(f"{latest} names {version!r} but {version_dir / MODEL_FILE} does not exist")
    return version_dir.resolve()


_cache: dict[Path, CreditScorer] = {}
_cache_lock = threading.Lock()


def load_scorer(model_dir: Path | None = None) -> CreditScorer:
    """Load (once per directory, then cached) the versioned artifact. ``model_dir`` may be an artifacts root
    with a ``LATEST`` file or one version directory. Raises :class:`ModelNotAvailable` if it cannot."""
    version_dir = resolve_model_dir(model_dir)
    with _cache_lock:
        scorer = _cache.get(version_dir)
        if scorer is None:
            scorer = _load(version_dir)
            _cache[version_dir] = scorer
        return scorer


def clear_cache() -> None:
    """Forget loaded artifacts (for tests and after retraining in a running process)."""
    with _cache_lock:
        _cache.clear()


def _load(version_dir: Path) -> CreditScorer:
    try:
        metadata = json.loads((version_dir / METADATA_FILE).read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise ModelNotAvailable(f"cannot read {version_dir / METADATA_FILE}: {exc}") from exc
    model_bytes = (version_dir / MODEL_FILE).read_bytes()
    digest = hashlib.sha256(model_bytes).hexdigest()
    if digest != metadata.get("model_sha256"):
        raise ModelNotAvailable(
            f"{version_dir / MODEL_FILE} does not match the sha256 in its metadata (a Git LFS pointer, "
            "a partial copy, or a file from another version?)"
        )
    _check_compatible(metadata, version_dir)
    try:
        model = joblib.load(version_dir / MODEL_FILE)  # trusted: a committed artifact whose hash was checked
        return CreditScorer(model, metadata)
    except Exception as exc:  # any unpickling or structure failure is "no usable model"
        raise ModelNotAvailable(f"cannot load {version_dir / MODEL_FILE}: {exc!r}") from exc


def _check_compatible(metadata: dict[str, Any], version_dir: Path) -> None:
    problems = []
    if metadata.get("feature_set_version") != F.FEATURE_SET_VERSION:
        problems.append(f"feature set version {metadata.get('feature_set_version')} != code's {F.FEATURE_SET_VERSION}")
    if tuple(metadata.get("features", ())) != F.MODEL_FEATURES:
        problems.append(f"features {metadata.get('features')} != code's {list(F.MODEL_FEATURES)}")
    trained = str(metadata.get("sklearn_version", "")).split(".")[:2]
    if trained != sklearn.__version__.split(".")[:2]:
        problems.append(f"trained with scikit-learn {metadata.get('sklearn_version')}, running {sklearn.__version__}")
    bands = [tuple(band) for band in metadata.get("grade_upper_bounds", ())]
    if bands != list(GRADE_UPPER_BOUNDS):
        problems.append("grade bands differ from GRADE_UPPER_BOUNDS (the model card's per-grade table is stale)")
    if problems:
        raise ModelNotAvailable(
            f"artifact {version_dir} does not fit this code: {'; '.join(problems)}. "
            "Retrain with `uv run python -m models.train`."
        )


def _require_int(name: str, value: object, *, minimum: int, maximum: int | None = None) -> None:
    if not isinstance(value, int) or isinstance(value, bool):
        raise TypeError(f"{name} must be an int, got {type(value).__name__}")
    if value < minimum or (maximum is not None and value > maximum):
        raise ValueError(f"{name} out of range [{minimum}, {maximum if maximum is not None else '...'}]: {value}")
