from __future__ import annotations

from fractions import Fraction

import pytest
from hypothesis import given
from hypothesis import strategies as st

from api.kit.money import MoneyError, format_cents, format_rate, parse_cents, parse_rate_bps, round_half_up


@pytest.mark.parametrize(
    ("text", "cents"), [("5000.00", 500_000), ("25", 2_500), ("0.01", 1), ("1234.5", 123_450), (" 7.10 ", 710)]
)
def test_parse_cents(text: str, cents: int) -> None:
    assert parse_cents(text) == cents


@pytest.mark.parametrize("bad", ["-1.00", "0", "0.00", "1.001", "abc", "NaN", "Infinity", "", 1.5, True])
def test_parse_cents_refuses(bad: object) -> None:
    with pytest.raises(MoneyError):
        parse_cents(bad)


def test_rates() -> None:
    assert parse_rate_bps("6.00") == 600
    assert format_rate(600) == "6.00"
    with pytest.raises(MoneyError):
        parse_rate_bps("6.005")


def test_round_half_up() -> None:
    assert round_half_up(Fraction(1, 2)) == 1
    assert round_half_up(Fraction(3, 2)) == 2
    assert round_half_up(Fraction(24999, 10000)) == 2
    assert round_half_up(Fraction(-1, 2)) == -1


@given(st.integers(min_value=0, max_value=10**15))
def test_format_parse_round_trip(cents: int) -> None:
    text = format_cents(cents)
    assert text.count(".") == 1 and len(text.split(".")[1]) == 2
    if cents:
        assert parse_cents(text) == cents
