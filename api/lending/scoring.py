"""Adapter between loans and the credit-risk model in models/."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

from api.identity.tables import UserProfile
from models.features import HOME_OWNERSHIP_VALUES
from models.scoring import CreditScorer, LoanApplication, Score, load_scorer


@lru_cache(maxsize=4)
def scorer_from(model_dir: Path) -> CreditScorer:
    return load_scorer(model_dir)


def score_request(
    model_dir: Path,
    *,
    amount_cents: int,
    rate_bps: int,
    term_months: int,
    purpose: str,
    profile: UserProfile | None = None,
) -> Score:
    housing = profile.housing if profile is not None else None
    application = LoanApplication(
        amount_cents=amount_cents,
        term_months=term_months,
        interest_rate_bps=rate_bps,
        purpose=purpose,
        annual_income_cents=profile.annual_income_cents if profile is not None else None,
        employment_length_years=profile.employment_length_years if profile is not None else None,
        home_ownership=housing if housing in HOME_OWNERSHIP_VALUES else None,
    )
    return scorer_from(model_dir).score(application)
