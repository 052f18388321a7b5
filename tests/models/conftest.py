"""Shared fixtures of the credit-model tests: the committed scorer, the held-out rows, the seed's loan."""

from __future__ import annotations

import pytest

from models import bureau
from models import data as D
from models.scoring import CreditScorer, LoanApplication, load_scorer

# The story's borrower: $5,000 over 36 months, $68,000 a year, employed 5 years, renting, consolidating debt.
SEED_DECLARED = {
    "amount_cents": 500_000,
    "term_months": 36,
    "annual_income_cents": 6_800_000,
    "employment_length_years": 5,
}


def seed_application(key: str = "seed-borrower") -> LoanApplication:
    file = bureau.sandbox_bureau_file(key, housing="rent", purpose="debt_consolidation", **SEED_DECLARED)
    return LoanApplication(purpose="debt_consolidation", home_ownership="rent", bureau=file, **SEED_DECLARED)


@pytest.fixture(scope="session")
def scorer() -> CreditScorer:
    return load_scorer()


@pytest.fixture(scope="session")
def split() -> tuple[D.Dataset, D.Dataset]:
    return D.split(D.load_lending_club())


@pytest.fixture(scope="session")
def held_out(split: tuple[D.Dataset, D.Dataset]) -> D.Dataset:
    return split[1]
