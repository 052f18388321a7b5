"""Property: every valid application gets a grade A..G and a probability strictly between 0 and 1."""

from __future__ import annotations

from decimal import Decimal

from hypothesis import given, settings
from hypothesis import strategies as st

from models import features as F
from models.scoring import GRADES, MAX_RATE_BPS, MAX_TERM_MONTHS, LoanApplication, grade_for_probability, load_scorer

applications = st.builds(
    LoanApplication,
    amount_cents=st.integers(min_value=1, max_value=10**13),
    term_months=st.integers(min_value=1, max_value=MAX_TERM_MONTHS),
    interest_rate_bps=st.integers(min_value=0, max_value=MAX_RATE_BPS),
    purpose=st.text(min_size=1, max_size=30).filter(lambda s: s.strip() != ""),
    annual_income_cents=st.none() | st.integers(min_value=0, max_value=10**13),
    employment_length_years=st.none() | st.integers(min_value=0, max_value=80),
    home_ownership=st.none() | st.sampled_from(F.HOME_OWNERSHIP_VALUES),
    debt_to_income_pct=st.none() | st.decimals(min_value=Decimal(0), max_value=Decimal(1000), places=2),
)


@settings(max_examples=150, deadline=None)
@given(app=applications)
def test_any_valid_application_gets_a_grade_and_a_probability(app: LoanApplication) -> None:
    score = load_scorer().score(app)
    assert score.grade in GRADES
    assert 0.0 < score.probability_of_default < 1.0
    assert score.grade == grade_for_probability(score.probability_of_default)
    assert all(isinstance(reason, str) and reason for reason in score.reasons)


@given(st.floats(0, 1), st.floats(0, 1))
def test_grade_is_monotone_in_probability(p: float, q: float) -> None:
    low, high = sorted((p, q))
    assert GRADES.index(grade_for_probability(low)) <= GRADES.index(grade_for_probability(high))
