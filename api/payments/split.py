"""Pro-rata splits that are exact to the cent.

Rule (largest remainder, Hamilton's method): each part first gets the floor of its exact share;
the cents left over go one each to the parts with the largest fractional remainders, ties to the
earlier part (the older note). The parts always sum to the total, no part is negative, and a part
whose weight equals the total of a full split gets exactly its weight.
"""

from __future__ import annotations

from collections.abc import Sequence


def split_pro_rata(total_cents: int, weights: Sequence[int]) -> list[int]:
    if total_cents < 0:
        raise ValueError("cannot split a negative amount")
    if not weights:
        raise ValueError("cannot split across no parts")
    if any(w < 0 for w in weights):
        raise ValueError("weights must not be negative")
    weight_sum = sum(weights)
    if weight_sum == 0:
        raise ValueError("weights must not all be zero")
    floors: list[int] = []
    remainders: list[int] = []
    for w in weights:
        share, remainder = divmod(total_cents * w, weight_sum)
        floors.append(share)
        remainders.append(remainder)
    leftover = total_cents - sum(floors)
    by_remainder = sorted(range(len(weights)), key=lambda i: (-remainders[i], i))
    for i in by_remainder[:leftover]:
        floors[i] += 1
    return floors
