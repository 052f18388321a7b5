from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from api.payments.split import split_pro_rata


def test_leftover_cent_goes_to_the_largest_remainder_then_the_older_note() -> None:
    assert split_pro_rata(12711, [250000, 250000]) == [6356, 6355]
    assert split_pro_rata(100, [1, 1, 1]) == [34, 33, 33]
    assert split_pro_rata(10, [3, 7]) == [3, 7]


def test_refuses_nonsense() -> None:
    with pytest.raises(ValueError):
        split_pro_rata(-1, [1])
    with pytest.raises(ValueError):
        split_pro_rata(1, [])
    with pytest.raises(ValueError):
        split_pro_rata(1, [0, 0])


@given(
    st.integers(min_value=0, max_value=10**9),
    st.lists(st.integers(min_value=0, max_value=10**7), min_size=1, max_size=60).filter(lambda w: sum(w) > 0),
)
def test_parts_sum_to_the_total_and_stay_within_a_cent_of_the_exact_share(total: int, weights: list[int]) -> None:
    parts = split_pro_rata(total, weights)
    assert sum(parts) == total
    weight_sum = sum(weights)
    for part, weight in zip(parts, weights, strict=True):
        assert part >= 0
        exact = total * weight / weight_sum
        assert abs(part - exact) < 1 + 1e-9
        if weight == 0:
            assert part == 0


@given(st.lists(st.integers(min_value=1, max_value=10**7), min_size=1, max_size=40))
def test_a_full_split_returns_each_weight_exactly(weights: list[int]) -> None:
    assert split_pro_rata(sum(weights), weights) == weights
