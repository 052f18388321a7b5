"""The serving interface of the credit-risk model. Stable: later models keep it.

    from models.scoring import LoanApplication, load_scorer
    from models.bureau import sandbox_bureau_file

    scorer = load_scorer()  # the artifact named by models/artifacts/LATEST, cached
    app = LoanApplication(amount_cents=500_000, term_months=36, purpose="debt_consolidation",
                          annual_income_cents=6_800_000, employment_length_years=5, home_ownership="rent",
                          bureau=sandbox_bureau_file("borrower-42", amount_cents=500_000, term_months=36,
                                                     annual_income_cents=6_800_000))
    score = scorer.score(app)
    score.grade, score.probability_of_default, score.reasons, score.model_version

    scorer.score_batch(frame)  # pandas or polars application frame in, the same kind out

``load_scorer`` raises :class:`ModelNotAvailable` when no usable artifact exists; it never falls back to a
default grade. Grades and their bounds live in :mod:`models.grades` (re-exported here).
"""

from __future__ import annotations

import hashlib
import json
import os
import threading
from pathlib import Path
from typing import Any, Final

import joblib
import numpy as np
import numpy.typing as npt
import pandas as pd
import sklearn

from models import features as F
from models import monitoring as M
from models import reasons as R
from models.application import (
    HOME_OWNERSHIP_VALUES,
    MAX_RATE_BPS,
    MAX_TERM_MONTHS,
    BureauFile,
    LoanApplication,
    Score,
)
from models.estimators import FAMILIES
from models.explain import Explainer, make_explainer
from models.grades import GRADE_PD_BOUNDS, GRADE_UPPER_BOUNDS, GRADES, grade_for_probability, grade_indices

__all__ = [
    "ARTIFACTS_DIR",
    "GRADES",
    "GRADE_PD_BOUNDS",
    "GRADE_UPPER_BOUNDS",
    "HOME_OWNERSHIP_VALUES",
    "MAX_RATE_BPS",
    "MAX_TERM_MONTHS",
    "MAX_REASONS",
    "OUTPUT_COLUMNS",
    "BureauFile",
    "CreditScorer",
    "LoanApplication",
    "ModelNotAvailable",
    "Score",
    "artifacts_dir",
    "clear_cache",
    "grade_for_probability",
    "load_scorer",
    "resolve_model_dir",
]

ARTIFACTS_DIR: Final = Path(__file__).resolve().parent / "artifacts"
MODEL_DIR_ENV: Final = "PEERLEND_MODEL_DIR"
LATEST_FILE: Final = "LATEST"
MODEL_FILE: Final = "model.joblib"
METADATA_FILE: Final = "metadata.json"
CARD_FILE: Final = "MODEL_CARD.md"
MAX_REASONS: Final = R.MAX_REASONS

#: Columns score_batch adds to its output, in order.
OUTPUT_COLUMNS: Final = ("probability_of_default", "grade", "reasons", "model_version")


class ModelNotAvailable(RuntimeError):
    """No usable credit-risk artifact: missing, corrupt, or built for other code. Retrain with
    ``uv run python -m models.train``."""


class CreditScorer:
    """A loaded artifact. Thread-safe for scoring (it only reads the fitted model)."""

    def __init__(self, model: Any, metadata: dict[str, Any]) -> None:
        family = metadata.get("model_family")
        if family not in FAMILIES:
            raise TypeError(f"unknown model family {family!r}")
        self._model = model
        self.metadata = metadata
        self.model_family: str = family
        self.model_version: str = metadata["version"]
        self._explainer: Explainer = make_explainer(family, model, metadata)
        self._medians = np.asarray(metadata["feature_reference"]["median"], dtype="float64")

    @property
    def estimator(self) -> Any:
        """The fitted scikit-learn estimator (``predict_proba`` over ``models.features`` matrices)."""
        return self._model

    def score(self, app: LoanApplication) -> Score:
        """Score one application (grade, calibrated probability of default, reasons)."""
        if not isinstance(app, LoanApplication):
            raise TypeError(f"expected a LoanApplication, got {type(app).__name__}")
        probability, texts, inverse = self._score_matrix(F.application_features(app))
        p = float(probability[0])
        return Score(
            grade=grade_for_probability(p),
            probability_of_default=p,
            reasons=texts[int(inverse[0])],
            model_version=self.model_version,
        )

    def input_bins(self, app: LoanApplication) -> dict[str, int]:
        """The application's inputs as this version's monitoring bins (``models.monitoring.input_bins``): what the
        platform stores per scored loan so drift can be measured without the values. Empty for an artifact
        without a monitoring reference."""
        reference = self.metadata.get("monitoring_reference")
        if not reference:
            return {}
        inputs = {name: float(values[0]) for name, values in F.application_inputs(app).items()}
        return M.input_bins(reference, inputs)

    def score_batch(self, frame: Any) -> Any:
        """Score an application frame (``models.features.APPLICATION_COLUMNS``; the model reads the numeric
        ones, nulls meaning unknown). pandas in -> pandas out (index kept), polars in -> polars out: the input's
        columns plus ``OUTPUT_COLUMNS`` (``reasons`` a list of strings per row)."""
        X = F.frame_features(frame)
        probability, texts, inverse = self._score_matrix(X)
        grades = _GRADE_ARRAY[grade_indices(probability)]
        if isinstance(frame, pd.DataFrame):
            out = frame.copy()
            out["probability_of_default"] = probability
            out["grade"] = grades
            # One list object per row (not shared), so a caller editing one row's reasons edits only that row.
            out["reasons"] = pd.Series([list(texts[i]) for i in inverse.tolist()], index=frame.index, dtype=object)
            out["model_version"] = self.model_version
            return out
        import polars as pl

        # Building a list column from Python lists costs ~30 us a row in polars; gathering the few distinct
        # reason lists by index is vectorised.
        distinct = pl.Series("reasons", [list(t) for t in texts], dtype=pl.List(pl.String))
        return frame.with_columns(
            pl.Series("probability_of_default", probability, dtype=pl.Float64),
            pl.Series("grade", grades, dtype=pl.String),
            distinct.gather(inverse),
            pl.lit(self.model_version, dtype=pl.String).alias("model_version"),
        )

    def predict_features(self, X: npt.NDArray[np.float64]) -> npt.NDArray[np.float64]:
        """Probability of default for a feature matrix (no reasons): evaluation and monitoring use this."""
        return _clip(self._explainer.predict(np.asarray(X, dtype="float64")))

    def _score_matrix(
        self, X: npt.NDArray[np.float64]
    ) -> tuple[npt.NDArray[np.float64], list[tuple[str, ...]], npt.NDArray[np.intp]]:
        probability, points, high_raises = self._explainer.risk_points(X)
        texts, inverse = R.select_codes(R.slot_points(X, points, high_raises, self._medians))
        return _clip(probability), texts, inverse


_GRADE_ARRAY: Final = np.asarray(GRADES, dtype=object)


def _clip(probability: npt.NDArray[np.float64]) -> npt.NDArray[np.float64]:
    # A probability of exactly 0 or 1 would be a claim of certainty no credit model can make.
    return np.clip(probability, 1e-6, 1 - 1e-6)


def artifacts_dir() -> Path:
    """The artifacts root: ``$PEERLEND_MODEL_DIR`` if set, else the committed ``models/artifacts``."""
    configured = os.environ.get(MODEL_DIR_ENV)
    return Path(configured) if configured else ARTIFACTS_DIR


def resolve_model_dir(model_dir: Path | None = None) -> Path:
    """The version directory to load: ``model_dir`` itself if it holds a model, else the version its
    ``LATEST`` file names; ``None`` means :func:`artifacts_dir`."""
    base = Path(model_dir) if model_dir is not None else artifacts_dir()
    if (base / MODEL_FILE).is_file():
        return base.resolve()
    latest = base / LATEST_FILE
    if not latest.is_file():
        raise ModelNotAvailable(
            f"no credit-risk model in {base}: neither {MODEL_FILE} nor {LATEST_FILE} found; "
            "train one with `uv run python -m models.train`"
        )
    version = latest.read_text(encoding="utf-8").strip()
    if not version or "/" in version or "\\" in version or version.startswith("."):
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


def read_metadata(version_dir: Path) -> dict[str, Any]:
    try:
        metadata = json.loads((version_dir / METADATA_FILE).read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise ModelNotAvailable(f"cannot read {version_dir / METADATA_FILE}: {exc}") from exc
    if not isinstance(metadata, dict):
        raise ModelNotAvailable(f"{version_dir / METADATA_FILE} is not a JSON object")
    return metadata


def _load(version_dir: Path) -> CreditScorer:
    metadata = read_metadata(version_dir)
    model_bytes = (version_dir / MODEL_FILE).read_bytes()
    digest = hashlib.sha256(model_bytes).hexdigest()
    if digest != metadata.get("model_sha256"):
        raise ModelNotAvailable(
            f"{version_dir / MODEL_FILE} does not match the sha256 in its metadata (a Git LFS pointer, "
            "a partial copy, or a file from another version?)"
        )
    check_compatible(metadata, version_dir)
    try:
        model = joblib.load(version_dir / MODEL_FILE)  # trusted: a committed artifact whose hash was checked
        return CreditScorer(model, metadata)
    except Exception as exc:  # any unpickling or structure failure is "no usable model"
        raise ModelNotAvailable(f"cannot load {version_dir / MODEL_FILE}: {exc!r}") from exc


def check_compatible(metadata: dict[str, Any], version_dir: Path) -> None:
    """Refuse an artifact built for other code: feature set, features, scikit-learn minor version, grades."""
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
        problems.append("grade bounds differ from models.grades.GRADE_UPPER_BOUNDS (per-grade tables are stale)")
    if problems:
        raise ModelNotAvailable(
            f"artifact {version_dir} does not fit this code: {'; '.join(problems)}. "
            "Retrain with `uv run python -m models.train`."
        )
