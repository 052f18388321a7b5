"""Bands that describe a person without identifying them: what analysts and the warehouse see
instead of a birthday or an exact income."""

from __future__ import annotations

from datetime import date

INCOME_BANDS_CENTS = [
    (0, "under 25k"),
    (2_500_000, "25k-50k"),
    (5_000_000, "50k-75k"),
    (7_500_000, "75k-100k"),
    (10_000_000, "100k-150k"),
    (15_000_000, "150k+"),
]
AGE_BANDS = [(0, "under 18"), (18, "18-24"), (25, "25-34"), (35, "35-44"), (45, "45-54"), (55, "55-64"), (65, "65+")]


def age_on(born: date, on: date) -> int:
    return on.year - born.year - ((on.month, on.day) < (born.month, born.day))


def income_band(annual_income_cents: int) -> str:
    label = INCOME_BANDS_CENTS[0][1]
    for floor, name in INCOME_BANDS_CENTS:
        if annual_income_cents >= floor:
            label = name
    return label


def age_band(age: int) -> str:
    label = AGE_BANDS[0][1]
    for floor, name in AGE_BANDS:
        if age >= floor:
            label = name
    return label
