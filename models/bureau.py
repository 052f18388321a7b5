"""A sandbox credit bureau drawn from real LendingClub files, and real borrowers for the book simulator.

**Sandbox pulls** (:func:`sandbox_bureau_file`): a pure, deterministic function of the applicant key and the
declared fields. It returns the bureau attributes of one *real* ``modeldata::lending_club`` loan, chosen by a
hash of the key among loans like the application: same term, same income band, same amount-to-income band and
same employment-length band. Where that cell holds fewer than :data:`MIN_CELL_ROWS` loans the last condition is
dropped, then the next, so a file always comes back. Declared and bureau fields therefore co-vary as they did
at LendingClub (higher incomes carry larger installment balances, and so on). Housing and purpose do not
condition the draw: modeldata does not record them.

The same key with the same declared fields always gets the same file; a borrower who declares a different
income may get another one. A real bureau keys on identity only (see docs/credit_model.md for what a real
integration needs).

**Simulated borrowers** (:func:`sample_borrowers`): real loans drawn jointly - declared fields, bureau file,
the real outcome, LendingClub's sub-grade and rate - so a simulated borrower defaults like the real one whose
file they carry. modeldata lacks purpose, home ownership and DTI; those three come from a *donor*: a real
``openintro::loans_full_schema`` loan (Q1 2018) with the same term, income band and amount band, chosen by a
hash of the LendingClub row. They are plausible, not observed jointly with the outcome (the model does not
read them). No post-origination openintro field is read (``models.data.OPENINTRO_COLUMNS``).

Data are loaded once per process; after the first call a pull costs microseconds.
"""

from __future__ import annotations

import functools
import hashlib
from dataclasses import dataclass
from decimal import Decimal
from typing import Any, Final, Literal

import numpy as np
import numpy.typing as npt
import pandas as pd
import polars as pl

from models import data as D
from models import features as F
from models.application import BUREAU_FIELDS, PERCENT_FIELDS, BureauFile

__all__ = [
    "BUREAU_FIELDS",
    "BureauFile",
    "MIN_CELL_ROWS",
    "SAMPLE_COLUMNS",
    "sample_borrowers",
    "sandbox_bureau_file",
    "warm_up",
]

MIN_CELL_ROWS: Final = 30
# Income bands (dollars a year) and amount / income bands: LendingClub's income quantiles, roughly, rounded.
INCOME_EDGES: Final = (30_000, 45_000, 60_000, 75_000, 90_000, 110_000, 140_000, 200_000)
AMOUNT_TO_INCOME_EDGES: Final = (0.10, 0.20, 0.30)
EMPLOYMENT_EDGES: Final = (2, 10)  # <2 years, 2-9, 10+
AMOUNT_EDGES: Final = (5_000, 10_000, 15_000, 20_000, 25_000, 30_000)  # dollars, for the openintro donor
_UNKNOWN: Final = -1

#: Columns of :func:`sample_borrowers`, in order.
SAMPLE_COLUMNS: Final = (
    "lc_row",
    *F.DECLARED_COLUMNS,
    *BUREAU_FIELDS,
    "defaulted",
    "lc_sub_grade",
    "lc_int_rate_bps",
)


def _band(value: float | None, edges: tuple[float, ...]) -> int:
    if value is None or np.isnan(value):
        return _UNKNOWN
    return int(np.searchsorted(np.asarray(edges, dtype="float64"), value, side="right"))


def _term_band(term_months: float) -> int:
    return 36 if term_months <= 48 else 60  # LendingClub lent over 36 or 60 months only


def _cell_keys(term: int, income: int, lti: int, employment: int) -> tuple[tuple[int, ...], ...]:
    """From the finest cell to the coarsest."""
    return ((term, income, lti, employment), (term, income, lti), (term, income), (term,), ())


@dataclass(frozen=True)
class _Pool:
    files: tuple[BureauFile, ...]
    cells: dict[tuple[int, ...], npt.NDArray[np.intp]]


def _file_from_row(row_id: object, row: dict[str, Any]) -> BureauFile:
    values: dict[str, Any] = {}
    for name in BUREAU_FIELDS:
        value = row[name]
        if value is None or (not isinstance(value, Decimal) and pd.isna(value)):
            values[name] = None
        elif name in PERCENT_FIELDS:
            values[name] = value if isinstance(value, Decimal) else Decimal(str(value))
        else:
            values[name] = int(value)
    return BureauFile(report_id=f"sandbox-lc-{row_id}", **values)


def _bands(frame: pd.DataFrame) -> tuple[npt.NDArray[Any], ...]:
    term = np.array([_term_band(t) for t in frame["term_months"].to_numpy(dtype="float64")])
    income = frame["annual_income_cents"].to_numpy(dtype="float64", na_value=np.nan) / 100
    amount = frame["amount_cents"].to_numpy(dtype="float64") / 100
    employment = frame["employment_length_years"].to_numpy(dtype="float64", na_value=np.nan)
    income_band = np.array([_band(v, INCOME_EDGES) for v in income])
    with np.errstate(divide="ignore", invalid="ignore"):
        lti = np.where(income > 0, amount / income, np.nan)
    lti_band = np.array([_band(v, AMOUNT_TO_INCOME_EDGES) for v in lti])
    employment_band = np.array([_band(v, EMPLOYMENT_EDGES) for v in employment])
    return term, income_band, lti_band, employment_band


def _cells(bands: tuple[npt.NDArray[Any], ...]) -> dict[tuple[int, ...], npt.NDArray[np.intp]]:
    """Positions of the rows in every cell of every level, kept only where the cell is big enough."""
    members: dict[tuple[int, ...], list[int]] = {}
    for position, (t, i, l_, e) in enumerate(zip(*bands, strict=True)):
        for key in _cell_keys(int(t), int(i), int(l_), int(e)):
            members.setdefault(key, []).append(position)
    return {key: np.array(rows, dtype=np.intp) for key, rows in members.items() if len(rows) >= MIN_CELL_ROWS}


@functools.cache
def _pool() -> _Pool:
    frame = D.load_lending_club().applications.sort_index()
    records = frame[list(BUREAU_FIELDS)].astype(object).to_dict(orient="records")
    files = tuple(_file_from_row(row_id, row) for row_id, row in zip(frame.index, records, strict=True))
    return _Pool(files=files, cells=_cells(_bands(frame)))


def warm_up() -> None:
    """Load the data now (the first pull otherwise pays about a second for it)."""
    _pool()
    _sample_table()


def _pick(key: str, salt: str, candidates: npt.NDArray[np.intp]) -> int:
    digest = hashlib.sha256(f"{salt}\x1f{key}".encode()).digest()
    return int(candidates[int.from_bytes(digest[:8], "big") % len(candidates)])


def sandbox_bureau_file(
    applicant_key: str,
    *,
    amount_cents: int,
    term_months: int,
    annual_income_cents: int | None = None,
    employment_length_years: int | None = None,
    housing: str | None = None,
    purpose: str | None = None,
) -> BureauFile:
    """The sandbox bureau file of an applicant: a real LendingClub file among loans like the declared ones.

    Deterministic (same key and declared fields, same file) and pure. ``housing`` and ``purpose`` are accepted
    because a bureau request carries them, but do not condition the draw (see the module doc)."""
    if not isinstance(applicant_key, str) or not applicant_key:
        raise ValueError("applicant_key must be a non-empty string")
    if amount_cents <= 0 or term_months <= 0:
        raise ValueError("amount_cents and term_months must be positive")
    del housing, purpose
    pool = _pool()
    income = None if annual_income_cents is None else annual_income_cents / 100
    lti = None if not income else amount_cents / 100 / income
    employment = None if employment_length_years is None else float(employment_length_years)
    keys = _cell_keys(
        _term_band(term_months),
        _band(income, INCOME_EDGES),
        _band(lti, AMOUNT_TO_INCOME_EDGES) if income is not None else _UNKNOWN,
        _band(employment, EMPLOYMENT_EDGES),
    )
    for key in keys:
        candidates = pool.cells.get(key)
        # An unknown band is a cell of its own only if it is big enough; otherwise coarser cells answer.
        if candidates is not None:
            return pool.files[_pick(applicant_key, repr(key), candidates)]
    raise AssertionError("the coarsest cell holds every row")  # pragma: no cover


@functools.cache
def _donors() -> pd.DataFrame:
    """For every modeldata row (sorted by id), the openintro row lending it purpose, home ownership and DTI."""
    lc = D.load_lending_club().applications.sort_index()
    oi = D.openintro_declared_rows().sort_index()
    oi_term = np.array([_term_band(t) for t in oi["term"].to_numpy(dtype="float64")])
    oi_income = np.array([_band(v, INCOME_EDGES) for v in oi["annual_income"].to_numpy(dtype="float64")])
    oi_amount = np.array([_band(v, AMOUNT_EDGES) for v in oi["loan_amount"].to_numpy(dtype="float64")])
    cells: dict[tuple[int, ...], list[int]] = {}
    for position, (t, i, a) in enumerate(zip(oi_term, oi_income, oi_amount, strict=True)):
        for key in ((int(t), int(i), int(a)), (int(t), int(i)), (int(t),), ()):
            cells.setdefault(key, []).append(position)
    usable = {k: np.array(v, dtype=np.intp) for k, v in cells.items() if len(v) >= MIN_CELL_ROWS}
    lc_term = [_term_band(t) for t in lc["term_months"].to_numpy(dtype="float64")]
    lc_income = [_band(v, INCOME_EDGES) for v in lc["annual_income_cents"].to_numpy(dtype="float64") / 100]
    lc_amount = [_band(v, AMOUNT_EDGES) for v in lc["amount_cents"].to_numpy(dtype="float64") / 100]
    picks = []
    for row_id, t, i, a in zip(lc.index, lc_term, lc_income, lc_amount, strict=True):
        for key in ((t, i, a), (t, i), (t,), ()):
            if key in usable:
                picks.append(_pick(str(row_id), "openintro-donor" + repr(key), usable[key]))
                break
    donor = oi.iloc[picks]
    dti = [None if pd.isna(v) else Decimal(str(v)) for v in donor["debt_to_income"]]
    return pd.DataFrame(
        {
            "purpose": donor["loan_purpose"].astype(str).to_numpy(),
            "home_ownership": donor["homeownership"].astype(str).str.lower().to_numpy(),
            "debt_to_income_pct": pd.Series(dti, dtype=object).to_numpy(),
        },
        index=lc.index,
    )


@functools.cache
def _sample_table() -> pl.DataFrame:
    data = D.load_lending_club()
    frame = data.applications.sort_index()
    donors = _donors()
    columns: dict[str, pl.Series] = {"lc_row": pl.Series("lc_row", frame.index.to_numpy(), dtype=pl.Int64)}
    for name in F.DECLARED_COLUMNS:
        source = donors[name] if name in donors.columns else frame[name]
        values = source.astype(object).where(source.notna(), None).tolist()
        columns[name] = pl.Series(name, values, dtype=_polars_type(name), strict=False)
    for name in BUREAU_FIELDS:
        values = frame[name].astype(object).where(frame[name].notna(), None).tolist()
        columns[name] = pl.Series(name, values, dtype=_polars_type(name), strict=False)
    y = data.defaulted.loc[frame.index]
    columns["defaulted"] = pl.Series("defaulted", y.to_numpy().astype(bool))
    columns["lc_sub_grade"] = pl.Series("lc_sub_grade", data.lc_sub_grade.loc[frame.index].tolist(), dtype=pl.String)
    rate_bps = (data.lc_int_rate_pct.loc[frame.index] * 100).round().astype("int64")
    columns["lc_int_rate_bps"] = pl.Series("lc_int_rate_bps", rate_bps.to_numpy(), dtype=pl.Int64)
    return pl.DataFrame([columns[name] for name in SAMPLE_COLUMNS])


def _polars_type(name: str) -> Any:
    if name in ("purpose", "home_ownership"):
        return pl.String
    if name in PERCENT_FIELDS or name == "debt_to_income_pct":
        return pl.Decimal(precision=10, scale=2)
    return pl.Int64


def sample_borrowers(n: int, seed: int, *, population: Literal["all", "held_out"] = "all") -> pl.DataFrame:
    """``n`` simulated borrowers drawn with replacement from real LendingClub loans, reproducibly for a seed.

    One row per borrower (columns :data:`SAMPLE_COLUMNS`): the real loan's declared fields (purpose, home
    ownership and DTI from an openintro donor, see the module doc), its bureau attributes (BureauFile's names
    and units), its real outcome ``defaulted``, LendingClub's ``lc_sub_grade`` and ``lc_int_rate_bps``. The
    frame can go straight into ``CreditScorer.score_batch``.

    ``population="held_out"`` draws only from the loans the model was not trained on, for simulations that
    score borrowers with the model and must not flatter it."""
    if n < 0:
        raise ValueError("n must be >= 0")
    table = _sample_table()
    if population == "held_out":
        _, test = D.split(D.load_lending_club())
        table = table.filter(pl.col("lc_row").is_in(sorted(test.applications.index.tolist())))
    elif population != "all":
        raise ValueError(f"population must be 'all' or 'held_out', not {population!r}")
    positions = np.random.default_rng(seed).integers(0, table.height, size=n)
    return table[positions]
