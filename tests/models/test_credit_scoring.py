"""The serving interface: the committed artifact loads, scores, grades monotonically and explains itself."""

from __future__ import annotations

import json
import shutil
from dataclasses import FrozenInstanceError
from decimal import Decimal
from pathlib import Path

import pytest

from models import scoring
from models.scoring import (
    GRADE_UPPER_BOUNDS,
    GRADES,
    CreditScorer,
    LoanApplication,
    ModelNotAvailable,
    Score,
    grade_for_probability,
    load_scorer,
)

RISKY = LoanApplication(
    amount_cents=3_500_000,
    term_months=60,
    interest_rate_bps=1_800,
    purpose="debt_consolidation",
    annual_income_cents=3_000_000,
    employment_length_years=1,
    home_ownership="rent",
    debt_to_income_pct=Decimal("35.5"),
)
SAFE = LoanApplication(
    amount_cents=200_000,
    term_months=36,
    interest_rate_bps=600,
    purpose="car",
    annual_income_cents=20_000_000,
    employment_length_years=10,
    home_ownership="own",
)
MINIMAL = LoanApplication(amount_cents=1_000_000, term_months=36, interest_rate_bps=900, purpose="other")


def test_committed_artifact_loads_and_scores() -> None:
    scorer = load_scorer()
    score = scorer.score(MINIMAL)
    assert isinstance(score, Score)
    assert score.grade in GRADES
    assert 0.0 < score.probability_of_default < 1.0
    latest = (scoring.ARTIFACTS_DIR / scoring.LATEST_FILE).read_text().strip()
    assert score.model_version == latest == scorer.model_version
    assert len(score.model_version) <= 64  # api stores it in String(64)


def test_loader_is_cached_and_accepts_root_or_version_dir() -> None:
    scorer = load_scorer()
    assert load_scorer() is scorer
    assert load_scorer(scoring.ARTIFACTS_DIR) is scorer
    assert load_scorer(scoring.ARTIFACTS_DIR / scorer.model_version) is scorer


def test_committed_artifact_is_small_and_complete() -> None:
    version_dir = scoring.resolve_model_dir()
    names = {p.name for p in version_dir.iterdir()}
    assert {"model.joblib", "metadata.json", "MODEL_CARD.md"} <= names
    assert sum(p.stat().st_size for p in version_dir.iterdir()) < 1_000_000
    metadata = json.loads((version_dir / "metadata.json").read_text())
    for key in ("version", "trained_at", "data", "features", "metrics", "grade_upper_bounds", "sklearn_version"):
        assert key in metadata
    assert metadata["version"] in (version_dir / "MODEL_CARD.md").read_text()


def test_risk_ordering_and_reasons() -> None:
    scorer = load_scorer()
    risky, safe = scorer.score(RISKY), scorer.score(SAFE)
    assert risky.probability_of_default > safe.probability_of_default
    assert GRADES.index(risky.grade) > GRADES.index(safe.grade)
    assert risky.reasons, "a risky application must say why"
    assert "long term (60 months)" in risky.reasons
    assert any("relative to income" in reason for reason in risky.reasons)
    assert len(risky.reasons) <= scoring.MAX_REASONS


def test_reasons_name_only_known_inputs() -> None:
    reasons = (
        load_scorer()
        .score(LoanApplication(amount_cents=3_500_000, term_months=60, interest_rate_bps=900, purpose="other"))
        .reasons
    )
    assert "long term (60 months)" in reasons
    assert not any("income" in r or "employment" in r for r in reasons)  # unknown, imputed: not a reason


def test_interest_rate_does_not_change_the_score() -> None:
    """The borrower chooses the rate on Peerlend; it must not buy a better grade (see the model card)."""
    scorer = load_scorer()
    low = scorer.score(LoanApplication(amount_cents=1_000_000, term_months=36, interest_rate_bps=500, purpose="x"))
    high = scorer.score(LoanApplication(amount_cents=1_000_000, term_months=36, interest_rate_bps=3_000, purpose="x"))
    assert low == high


def test_grade_bands_are_monotone() -> None:
    bounds = [bound for _, bound in GRADE_UPPER_BOUNDS]
    assert bounds == sorted(bounds) and len(set(bounds)) == len(bounds)
    assert GRADES == ("A", "B", "C", "D", "E", "F", "G")
    grid = [i / 10_000 for i in range(10_001)]
    indices = [GRADES.index(grade_for_probability(p)) for p in grid]
    assert indices == sorted(indices)
    assert grade_for_probability(0.0) == "A" and grade_for_probability(1.0) == "G"
    for grade, bound in GRADE_UPPER_BOUNDS:  # upper bounds are exclusive
        assert grade_for_probability(bound) != grade
    with pytest.raises(ValueError):
        grade_for_probability(float("nan"))
    with pytest.raises(ValueError):
        grade_for_probability(1.5)


def test_application_is_frozen_and_validated() -> None:
    with pytest.raises(FrozenInstanceError):
        MINIMAL.amount_cents = 1  # type: ignore[misc]
    with pytest.raises(TypeError):
        LoanApplication(amount_cents=100.0, term_months=36, interest_rate_bps=900, purpose="x")  # type: ignore[arg-type]
    with pytest.raises(ValueError):
        LoanApplication(amount_cents=0, term_months=36, interest_rate_bps=900, purpose="x")
    with pytest.raises(ValueError):
        LoanApplication(amount_cents=100, term_months=36, interest_rate_bps=900, purpose=" ")
    with pytest.raises(ValueError):
        LoanApplication(amount_cents=100, term_months=36, interest_rate_bps=900, purpose="x", home_ownership="boat")
    with pytest.raises(ValueError):
        LoanApplication(
            amount_cents=100, term_months=36, interest_rate_bps=900, purpose="x", debt_to_income_pct=Decimal("NaN")
        )


@pytest.fixture
def artifact_copy(tmp_path: Path) -> Path:
    version_dir = scoring.resolve_model_dir()
    shutil.copytree(version_dir, tmp_path / version_dir.name)
    (tmp_path / "LATEST").write_text(version_dir.name + "\n")
    return tmp_path


def test_missing_artifact_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(ModelNotAvailable, match="models.train"):
        load_scorer(tmp_path)
    (tmp_path / "LATEST").write_text("no-such-version\n")
    with pytest.raises(ModelNotAvailable, match="no-such-version"):
        load_scorer(tmp_path)


def test_copied_artifact_loads(artifact_copy: Path) -> None:
    assert isinstance(load_scorer(artifact_copy), CreditScorer)


def test_corrupt_model_file_is_refused(artifact_copy: Path) -> None:
    model_file = next(artifact_copy.glob("*/model.joblib"))
    model_file.write_bytes(b"version https://git-lfs.github.com/spec/v1\n")
    with pytest.raises(ModelNotAvailable, match="sha256"):
        load_scorer(artifact_copy)


@pytest.mark.parametrize(
    ("key", "value"),
    [
        ("features", ["log_amount"]),
        ("feature_set_version", 999),
        ("sklearn_version", "0.24.2"),
        ("grade_upper_bounds", [["A", 0.5]]),
    ],
)
def test_artifact_built_for_other_code_is_refused(artifact_copy: Path, key: str, value: object) -> None:
    metadata_file = next(artifact_copy.glob("*/metadata.json"))
    metadata = json.loads(metadata_file.read_text())
    metadata[key] = value
    metadata_file.write_text(json.dumps(metadata))
    with pytest.raises(ModelNotAvailable, match="Retrain"):
        load_scorer(artifact_copy)
