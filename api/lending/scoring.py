"""Adapter between loan applications and the credit-risk model in models/.

The API serves one pinned model version for its lifetime: `pinned_scorer(settings)` loads
`model_dir/<model_version>` when PEERLEND_MODEL_VERSION is set, else the version `model_dir/LATEST` names at
start-up, and the app keeps that scorer (api/main.py), so a new LATEST never changes a running API. Each loan
records the version that scored it (`loans.score_model_version`)."""

from __future__ import annotations

from pathlib import Path

from api.identity.tables import UserProfile
from api.settings import Settings
from models.application import BureauFile
from models.features import HOME_OWNERSHIP_VALUES
from models.scoring import CreditScorer, LoanApplication, Score, load_scorer


def pinned_scorer(settings: Settings) -> CreditScorer:
    directory: Path = settings.model_dir / settings.model_version if settings.model_version else settings.model_dir
    return load_scorer(directory)


def score_application(
    scorer: CreditScorer,
    *,
    amount_cents: int,
    term_months: int,
    purpose: str,
    profile: UserProfile | None,
    bureau_file: BureauFile | None,
) -> tuple[Score, dict[str, int]]:
    """The score, and the application's inputs as the scoring version's monitoring bins (stored with the loan)."""
    housing = profile.housing if profile is not None else None
    application = LoanApplication(
        amount_cents=amount_cents,
        term_months=term_months,
        purpose=purpose,
        annual_income_cents=profile.annual_income_cents if profile is not None else None,
        employment_length_years=profile.employment_length_years if profile is not None else None,
        home_ownership=housing if housing in HOME_OWNERSHIP_VALUES else None,
        bureau=bureau_file,
    )
    return scorer.score(application), scorer.input_bins(application)
