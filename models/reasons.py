"""Reason codes: the factors that raised a loan's risk the most, in words a borrower understands.

Reasons reach investors and borrowers, so they are fixed phrases in the style of adverse-action notices
(Regulation B's sample reasons): they name a factor, never a figure - no income, no balances, no amounts, not
even a digit (a test enforces it). Each feature has a comparative phrase for each direction ("Use of revolving
credit limits is higher than for most applicants") and a neutral name ("Use of revolving credit limits"). The
comparative phrase is used only when the value is on the risky side of the training median ("most applicants"
are the LendingClub borrowers the model learnt from), so it is true; a value that cost points without being
worse than typical gets the neutral name.

How a factor is measured (the *maximum-points* method of scorecards): for each feature, the risk it added
compared with the most favourable value seen in training (in log-odds of default), so every factor is >= 0 and
only what moved the loan away from the best case counts. The boosted model uses its SHAP values instead.
Selection is vectorised over a batch: at most :data:`MAX_REASONS` factors of at least :data:`MIN_POINTS`, the
largest first, and never none (the largest factor is always given; a loan at the best value of every factor
gets :data:`FALLBACK_REASON`).
"""

from __future__ import annotations

from typing import Final

import numpy as np
import numpy.typing as npt

from models import features as F

MAX_REASONS: Final = 4  # adverse-action notices give up to four key factors
MIN_POINTS: Final = 0.05  # log-odds: below this a factor moved the odds by less than about 5 %

FALLBACK_REASON: Final = "No single factor stood out; the risk is that of similar loans"

#: feature -> (phrase when high values raise the risk and the value is above the training median,
#:             phrase when low values raise it and the value is below the median,
#:             neutral name of the factor, for a value that cost points without being worse than typical).
#: The comparative phrases claim "worse than for most applicants"; the median gate keeps that claim true.
FEATURE_TEXT: Final[dict[str, tuple[str, str, str]]] = {
    "log_amount": (
        "Amount of credit requested is larger than for most applicants",
        "Amount of credit requested is smaller than for most applicants",
        "Amount of credit requested",
    ),
    "term_months": ("Long repayment term", "Short repayment term", "Length of the repayment term"),
    "log_annual_income": (
        "Income is higher than for most applicants",
        "Income is lower than for most applicants",
        "Level of income",
    ),
    "employment_length_years": (
        "Length of employment is longer than for most applicants",
        "Length of employment is shorter than for most applicants",
        "Length of employment",
    ),
    "revol_util": (
        "Use of revolving credit limits is higher than for most applicants",
        "Use of revolving credit limits is lower than for most applicants",
        "Use of revolving credit limits",
    ),
    "all_util": (
        "Balances compared with total credit limits are higher than for most applicants",
        "Balances compared with total credit limits are lower than for most applicants",
        "Balances compared with total credit limits",
    ),
    "inq_last_6mths": (
        "More credit inquiries in the last six months than most applicants",
        "Fewer credit inquiries in the last six months than most applicants",
        "Credit inquiries in the last six months",
    ),
    "inq_fi": (
        "More inquiries for personal-finance credit than most applicants",
        "Fewer inquiries for personal-finance credit than most applicants",
        "Inquiries for personal-finance credit",
    ),
    "open_il_6m": (
        "More active installment loans than most applicants",
        "Fewer active installment loans than most applicants",
        "Number of active installment loans",
    ),
    "open_il_12m": (
        "More installment accounts opened in the last year than most applicants",
        "Fewer installment accounts opened in the last year than most applicants",
        "Installment accounts opened in the last year",
    ),
    "open_il_24m": (
        "More installment accounts opened in the last two years than most applicants",
        "Fewer installment accounts opened in the last two years than most applicants",
        "Installment accounts opened in the last two years",
    ),
    "num_il_tl": (
        "More installment accounts on the credit file than most applicants",
        "Fewer installment accounts on the credit file than most applicants",
        "Number of installment accounts on the credit file",
    ),
    "log_total_bal_il": (
        "Balances owed on installment loans are higher than for most applicants",
        "Balances owed on installment loans are lower than for most applicants",
        "Balances owed on installment loans",
    ),
    "log_total_il_high_credit_limit": (
        "More installment credit taken out than most applicants",
        "Less installment credit taken out than most applicants",
        "Amount of installment credit taken out",
    ),
    "delinq_2yrs": (
        "Delinquency on credit obligations in the last two years",
        "No delinquency on credit obligations in the last two years",
        "Delinquency on credit obligations in the last two years",
    ),
}
AMOUNT_VS_INCOME: Final = "Amount of credit requested is high relative to income"
INCOME_MISSING: Final = "Income was not stated"
EMPLOYMENT_MISSING: Final = "Length of employment was not stated"
BUREAU_MISSING: Final = "Credit bureau information was not available or incomplete"

_K: Final = len(F.MODEL_FEATURES)
_AMOUNT: Final = F.MODEL_FEATURES.index("log_amount")
_INCOME: Final = F.MODEL_FEATURES.index("log_annual_income")
_EMPLOYMENT: Final = F.MODEL_FEATURES.index("employment_length_years")
_BUREAU: Final = np.array([F.MODEL_FEATURES.index(name) for name in F.BUREAU_FEATURES])

#: Reason slots, in column order of :func:`slot_points`: every feature's strong "high" phrase, its strong "low"
#: phrase, its neutral name, then amount-vs-income and the missing-data reasons.
SLOT_TEXTS: Final[tuple[str, ...]] = (
    *(FEATURE_TEXT[name][0] for name in F.MODEL_FEATURES),
    *(FEATURE_TEXT[name][1] for name in F.MODEL_FEATURES),
    *(FEATURE_TEXT[name][2] for name in F.MODEL_FEATURES),
    AMOUNT_VS_INCOME,
    INCOME_MISSING,
    EMPLOYMENT_MISSING,
    BUREAU_MISSING,
)
_SLOT_COMBINED: Final = 3 * _K
_SLOT_INCOME_MISSING: Final = 3 * _K + 1
_SLOT_EMPLOYMENT_MISSING: Final = 3 * _K + 2
_SLOT_BUREAU_MISSING: Final = 3 * _K + 3
N_SLOTS: Final = len(SLOT_TEXTS)


def slot_points(
    features: npt.NDArray[np.float64],
    points: npt.NDArray[np.float64],
    high_raises: npt.NDArray[np.bool_],
    medians: npt.NDArray[np.float64],
) -> npt.NDArray[np.float64]:
    """Per-feature risk points -> per-reason-slot points, ``(n, N_SLOTS)``.

    ``features`` is the feature matrix (NaN = unknown), ``points`` the risk each feature added (>= 0),
    ``high_raises`` (``(k,)`` or ``(n, k)``) whether high values are the risky side, ``medians`` the training
    medians that gate the strong phrases. Unknown inputs are not reasons by themselves: what they cost goes to
    the "was not stated" / "bureau not available" slots."""
    n = features.shape[0]
    missing = np.isnan(features)
    known = np.where(missing, 0.0, points)
    high = np.broadcast_to(high_raises, features.shape)
    with np.errstate(invalid="ignore"):
        strong_high = high & (features > medians)
        strong_low = ~high & (features < medians)
    neutral = ~(strong_high | strong_low)
    out = np.zeros((n, N_SLOTS), dtype="float64")
    out[:, :_K] = np.where(strong_high, known, 0.0)
    out[:, _K : 2 * _K] = np.where(strong_low, known, 0.0)
    out[:, 2 * _K : 3 * _K] = np.where(neutral, known, 0.0)
    # An amount above the median on an income below it, both adding risk, is one story told without either
    # figure. Only then: summing two factors that are each unremarkable would outrank every single factor.
    both = (known[:, _AMOUNT] > 0) & (known[:, _INCOME] > 0) & strong_high[:, _AMOUNT] & strong_low[:, _INCOME]
    out[:, _SLOT_COMBINED] = np.where(both, known[:, _AMOUNT] + known[:, _INCOME], 0.0)
    for offset in (0, _K, 2 * _K):
        out[both, offset + _AMOUNT] = 0.0
        out[both, offset + _INCOME] = 0.0
    out[:, _SLOT_INCOME_MISSING] = np.where(missing[:, _INCOME], points[:, _INCOME], 0.0)
    out[:, _SLOT_EMPLOYMENT_MISSING] = np.where(missing[:, _EMPLOYMENT], points[:, _EMPLOYMENT], 0.0)
    out[:, _SLOT_BUREAU_MISSING] = np.where(missing[:, _BUREAU], points[:, _BUREAU], 0.0).sum(axis=1)
    return out


def select_codes(slot_pts: npt.NDArray[np.float64]) -> tuple[list[tuple[str, ...]], npt.NDArray[np.intp]]:
    """Vectorised selection: ``(distinct reason lists, index of each row's list)``. Per row: up to MAX_REASONS
    slots of at least MIN_POINTS, largest first (ties by slot order); the largest always; never empty."""
    n = slot_pts.shape[0]
    if n == 0:
        return [], np.zeros(0, dtype=np.intp)
    top = np.argpartition(-slot_pts, MAX_REASONS - 1, axis=1)[:, :MAX_REASONS]
    values = np.take_along_axis(slot_pts, top, axis=1)
    order = np.lexsort((top, -values), axis=1)
    top = np.take_along_axis(top, order, axis=1)
    values = np.take_along_axis(values, order, axis=1)
    chosen = values >= MIN_POINTS
    chosen[:, 0] |= values[:, 0] > 0.0  # the largest factor is always a reason, however small
    codes = np.where(chosen, top + 1, 0).astype("int64")  # 0 = no reason in that place
    # Rows share few distinct reason lists: build each list of strings once and index into them.
    base = N_SLOTS + 1
    keys = codes @ (base ** np.arange(MAX_REASONS, dtype="int64"))
    unique_keys, inverse = np.unique(keys, return_inverse=True)
    texts: list[tuple[str, ...]] = []
    for key in unique_keys.tolist():
        row = []
        for _ in range(MAX_REASONS):
            key, code = divmod(key, base)
            if code:
                row.append(SLOT_TEXTS[code - 1])
        texts.append(tuple(row) or (FALLBACK_REASON,))
    return texts, inverse.astype(np.intp)


def select(slot_pts: npt.NDArray[np.float64]) -> list[tuple[str, ...]]:
    """Per row, the reason texts (see :func:`select_codes`)."""
    texts, inverse = select_codes(slot_pts)
    return [texts[i] for i in inverse.tolist()]
