"""The sandbox bureau: pure, deterministic, real LendingClub files that co-vary with the declared fields; and
simulated borrowers whose outcomes are the real ones of the files they carry."""

from __future__ import annotations

import time
from dataclasses import fields
from decimal import Decimal

import numpy as np
import polars as pl
import pytest

from models import bureau
from models import data as D
from models.application import BUREAU_FIELDS, COUNT_FIELDS, MONEY_FIELDS, PERCENT_FIELDS, BureauFile

DECLARED = {"amount_cents": 500_000, "term_months": 36, "annual_income_cents": 6_800_000, "employment_length_years": 5}


def _row_id(file: BureauFile) -> int:
    return int(file.report_id.removeprefix("sandbox-lc-"))


def test_pull_is_deterministic_and_keyed() -> None:
    first = bureau.sandbox_bureau_file("applicant-1", housing="rent", purpose="car", **DECLARED)
    assert first == bureau.sandbox_bureau_file("applicant-1", housing="own", purpose="other", **DECLARED)
    others = {bureau.sandbox_bureau_file(f"applicant-{i}", **DECLARED).report_id for i in range(200)}
    assert len(others) > 50  # different applicants, different files (from a cell of loans like theirs)


def test_file_is_a_real_lending_club_row_with_typed_fields() -> None:
    file = bureau.sandbox_bureau_file("applicant-7", **DECLARED)
    rows = D.modeldata_rows()
    row = rows.loc[_row_id(file)]
    assert file.revol_util == Decimal(str(row["revol_util"])) and isinstance(file.revol_util, Decimal)
    assert file.all_util == Decimal(str(row["all_util"]))
    assert file.total_bal_il_cents == int(row["total_bal_il"]) * 100
    assert file.inq_last_6mths == int(row["inq_last_6mths"])
    assert {f.name for f in fields(BureauFile)} == {"report_id", *BUREAU_FIELDS}
    for name in COUNT_FIELDS + MONEY_FIELDS:
        value = getattr(file, name)
        assert value is None or (isinstance(value, int) and not isinstance(value, bool))
    for name in PERCENT_FIELDS:
        assert getattr(file, name) is None or isinstance(getattr(file, name), Decimal)


def test_files_come_from_loans_like_the_application() -> None:
    """Same term and income band: declared and bureau fields co-vary as LendingClub's did."""
    rows = D.modeldata_rows()
    for income, term in ((3_500_000, 36), (15_000_000, 60)):
        for i in range(40):
            file = bureau.sandbox_bureau_file(
                f"k{i}", amount_cents=1_000_000, term_months=term, annual_income_cents=income
            )
            row = rows.loc[_row_id(file)]
            assert row["term"] == f"term_{term}"
            band = bureau._band(income / 100, bureau.INCOME_EDGES)
            assert bureau._band(float(row["annual_inc"]), bureau.INCOME_EDGES) == band
    # installment balances rise with income, as in the data
    low = [
        bureau.sandbox_bureau_file(f"a{i}", amount_cents=500_000, term_months=36, annual_income_cents=2_500_000)
        for i in range(300)
    ]
    high = [
        bureau.sandbox_bureau_file(f"a{i}", amount_cents=500_000, term_months=36, annual_income_cents=25_000_000)
        for i in range(300)
    ]
    assert np.median([f.total_il_high_credit_limit_cents for f in high]) > 2 * np.median(
        [f.total_il_high_credit_limit_cents for f in low]
    )


def test_unknown_income_and_odd_terms_still_get_a_file() -> None:
    assert bureau.sandbox_bureau_file("x", amount_cents=100, term_months=12).report_id.startswith("sandbox-lc-")
    assert bureau.sandbox_bureau_file("x", amount_cents=10**12, term_months=600, annual_income_cents=0)
    with pytest.raises(ValueError):
        bureau.sandbox_bureau_file("", amount_cents=100, term_months=36)


def test_pull_is_fast_after_warm_up() -> None:
    bureau.warm_up()
    times = []
    for i in range(500):
        start = time.perf_counter()
        bureau.sandbox_bureau_file(f"speed-{i}", **DECLARED)
        times.append(time.perf_counter() - start)
    assert float(np.median(times)) < 0.001


def test_sample_borrowers_is_reproducible_and_joint() -> None:
    a = bureau.sample_borrowers(500, seed=42)
    assert a.equals(bureau.sample_borrowers(500, seed=42))
    assert not a.equals(bureau.sample_borrowers(500, seed=43))
    assert a.columns == list(bureau.SAMPLE_COLUMNS)
    assert a.schema["defaulted"] == pl.Boolean and a.schema["lc_int_rate_bps"] == pl.Int64
    assert isinstance(a.schema["revol_util"], pl.Decimal) and a.schema["total_bal_il_cents"] == pl.Int64
    rows = D.modeldata_rows()
    for record in a.head(50).iter_rows(named=True):
        real = rows.loc[record["lc_row"]]
        assert record["defaulted"] == (real["Class"] == "bad")  # the outcome of the file they carry
        assert record["lc_sub_grade"] == real["sub_grade"]
        assert record["lc_int_rate_bps"] == round(real["int_rate"] * 100)
        assert record["amount_cents"] == real["funded_amnt"] * 100
        assert record["inq_fi"] == real["inq_fi"]
        assert record["home_ownership"] in ("rent", "own", "mortgage") and record["purpose"]
    assert bureau.sample_borrowers(0, seed=1).height == 0


def test_simulated_default_rate_and_grades_agree_with_the_data() -> None:
    sample = bureau.sample_borrowers(20_000, seed=5)
    assert sample["defaulted"].mean() == pytest.approx(517 / 9857, abs=0.006)
    by_grade = (
        sample.group_by(pl.col("lc_sub_grade").str.slice(0, 1)).agg(pl.col("defaulted").mean()).sort("lc_sub_grade")
    )
    rates = by_grade["defaulted"].to_list()
    assert rates[0] < rates[2] < rates[4]  # A < C < E at LendingClub: files and outcomes travel together


def test_held_out_population_excludes_training_rows() -> None:
    _, test = D.split(D.load_lending_club())
    sample = bureau.sample_borrowers(1_000, seed=9, population="held_out")
    assert set(sample["lc_row"].to_list()) <= set(test.applications.index)
    with pytest.raises(ValueError):
        bureau.sample_borrowers(1, seed=1, population="everyone")  # type: ignore[arg-type]
