"""Lending limits: the one home of what a loan request and a note may be."""

from __future__ import annotations

from typing import Final

MIN_LOAN_CENTS: Final = 100_000  # $1,000
MAX_LOAN_CENTS: Final = 4_000_000  # $40,000
MIN_RATE_BPS: Final = 100  # 1.00 %
MAX_RATE_BPS: Final = 3_600  # 36.00 %
TERMS_MONTHS: Final = (12, 24, 36, 48, 60)
PPM: Final = 1_000_000  # probabilities of default are stored in parts per million
