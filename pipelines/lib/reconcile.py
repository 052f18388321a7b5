"""The warehouse reconciled with the API's database, to the cent.

The source is read in one snapshot (ADBC, like the extractor) and compared with the warehouse's work file
at the warehouse's ledger high-water mark `H` (the largest entry id it holds; the ledger is append-only,
so the source's entries up to `H` are exactly what the warehouse should hold):

- the number of source entries up to `H` equals the warehouse's;
- every source account's balance as of `H` — its stored `balance_cents` (kept by the API with every
  posting) less the source's postings after `H` — equals the warehouse's sum of postings for that account
  (marts.fct_ledger_account_balances), and these balances sum to zero (the ledger balances);
- every investor's cash, committed, outstanding principal and interest received in
  marts.fct_investor_portfolios equal that investor's accounts as of `H`, on their normal (credit) side.

This costs one pass over the accounts and the postings after `H`, never a pass over the whole ledger, so
it runs on every incremental load at any scale.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import duckdb
import polars as pl
import sqlalchemy as sa

from api.db.tables import LedgerAccount, LedgerEntry
from pipelines.lib.extract import SourceSnapshot

# The investor accounts and the mart column each one's (credit-side) balance is shown in.
INVESTOR_ACCOUNT_COLUMNS = {
    "investor_cash": "cash_cents",
    "investor_commitments": "committed_cents",
    "investor_notes": "outstanding_principal_cents",
    "investor_interest_income": "interest_received_cents",
}
ACCOUNT_MART = "marts.fct_ledger_account_balances"
INVESTOR_MART = "marts.fct_investor_portfolios"


@dataclass
class Reconciliation:
    high_water_mark: int | None = None
    source_entries: int = 0
    warehouse_entries: int = 0
    source_total_cents: int = 0
    accounts_checked: int = 0
    account_mismatches: list[dict[str, Any]] = field(default_factory=list)
    investors_checked: int = 0
    investor_mismatches: list[dict[str, Any]] = field(default_factory=list)
    # {account kind: (accounts, balance as of the mark)} in the source, from the same read of every account
    source_kinds: dict[str, tuple[int, int]] = field(default_factory=dict)

    @property
    def ledger_passed(self) -> bool:
        return (
            self.source_entries == self.warehouse_entries
            and self.source_total_cents == 0
            and not self.account_mismatches
        )

    @property
    def investors_passed(self) -> bool:
        return self.source_entries == self.warehouse_entries and not self.investor_mismatches


def _frame(source: SourceSnapshot, query: sa.sql.Select) -> pl.DataFrame:
    batches = list(source.batches(query))
    if not batches:
        return pl.DataFrame()
    frame = pl.from_arrow(batches)
    assert isinstance(frame, pl.DataFrame)
    return frame


def entries_up_to(source: SourceSnapshot, mark: int) -> int:
    """The source's ledger entries with an id up to `mark`: all entries less those past it. Counted that way
    because `count(*) ... where entry_id <= mark` walks the table itself on SQLite (a rowid range: every page
    of the ledger), while count(*) reads its smallest index and the entries past the mark are a short range."""
    e = LedgerEntry.__table__
    total = int(source.scalar(sa.select(sa.func.count()).select_from(e)))
    later = int(source.scalar(sa.select(sa.func.count()).select_from(e).where(e.c.entry_id > mark)))
    return total - later


def _past_mark_frame(source: SourceSnapshot, mark: int, query: sa.sql.Select) -> pl.DataFrame:
    """`query` (over ledger entries) restricted to the entries past the mark, read as a closed id range; empty
    when there are none. Closed because with `entry_id > mark` alone SQLite walks the whole ledger by its
    account index to group the sums (5 s at 1M loans for the 20,000 entries of a run); bounded by the newest id
    it reads just that range (0.01 s)."""
    e = LedgerEntry.__table__
    newest = source.scalar(sa.select(sa.func.max(e.c.entry_id)))
    if newest is None or int(newest) <= mark:
        return pl.DataFrame()
    return _frame(source, query.where(e.c.entry_id.between(mark + 1, int(newest))))


def source_balances_at(source: SourceSnapshot | None, high_water_mark: int | None) -> tuple[int, pl.DataFrame]:
    """(source entries up to the mark, every source account with its balance as of the mark):
    columns account_id, account_type, owner_id, balance_cents."""
    empty = pl.DataFrame(
        schema={"account_id": pl.Int64, "account_type": pl.String, "owner_id": pl.Int64, "balance_cents": pl.Int64}
    )
    if source is None or not source.has_table(LedgerAccount.__tablename__):
        return 0, empty
    a, e = LedgerAccount.__table__, LedgerEntry.__table__
    mark = high_water_mark if high_water_mark is not None else 0
    entries = entries_up_to(source, mark)
    accounts = _frame(source, sa.select(a.c.account_id, a.c.account_type, a.c.owner_id, a.c.balance_cents))
    later = _past_mark_frame(
        source,
        mark,
        sa.select(e.c.account_id, sa.func.sum(e.c.amount_cents).label("later_cents")).group_by(e.c.account_id),
    )
    if accounts.is_empty():
        return entries, empty
    accounts = accounts.with_columns(pl.col("account_id", "owner_id", "balance_cents").cast(pl.Int64))
    if not later.is_empty():
        later = later.with_columns(pl.col("account_id", "later_cents").cast(pl.Int64))
        accounts = accounts.join(later, on="account_id", how="left").with_columns(
            (pl.col("balance_cents") - pl.col("later_cents").fill_null(0)).alias("balance_cents")
        )
    return entries, accounts.select("account_id", "account_type", "owner_id", "balance_cents")


@dataclass(frozen=True)
class SourceRead:
    """The source's side of a reconciliation at one warehouse mark: its entries up to the mark and every
    account's balance as of it (source_balances_at). Read ahead, in its own snapshot, while dbt builds:
    the comparison at the same mark is the same whichever consistent snapshot it was read in."""

    high_water_mark: int | None
    entries: int
    accounts: pl.DataFrame


def warehouse_mark(duck: duckdb.DuckDBPyConnection) -> int | None:
    """The warehouse's ledger high-water mark: its largest entry id (None when it holds none)."""
    ((hwm,),) = duck.execute("select max(entry_id) from raw.ledger_entries").fetchall()
    return None if hwm is None else int(hwm)


def read_source(source: SourceSnapshot | None, high_water_mark: int | None) -> SourceRead:
    return SourceRead(high_water_mark, *source_balances_at(source, high_water_mark))


def reconcile(
    source: SourceSnapshot | None, duck: duckdb.DuckDBPyConnection, *, ahead: SourceRead | None = None
) -> Reconciliation:
    """The comparison (see the module doc). `ahead`, the source read earlier at the warehouse's mark, is
    used when the mark is still the same; otherwise the source is read now."""
    out = Reconciliation()
    ((hwm, wh_entries),) = duck.execute("select max(entry_id), count(*) from raw.ledger_entries").fetchall()
    out.high_water_mark = None if hwm is None else int(hwm)
    out.warehouse_entries = int(wh_entries)
    if ahead is None or ahead.high_water_mark != out.high_water_mark:
        ahead = read_source(source, out.high_water_mark)
    out.source_entries, accounts = ahead.entries, ahead.accounts
    out.source_total_cents = int(accounts["balance_cents"].sum() or 0)
    out.source_kinds = {
        str(r["account_type"]): (int(r["accounts"]), int(r["balance_cents"]))
        for r in accounts.group_by("account_type")
        .agg(pl.len().alias("accounts"), pl.col("balance_cents").sum())
        .iter_rows(named=True)
    }

    warehouse = pl.from_arrow(duck.sql(f"select account_id, posted_balance_cents from {ACCOUNT_MART}").to_arrow_table())
    assert isinstance(warehouse, pl.DataFrame)
    both = accounts.join(warehouse.cast({"account_id": pl.Int64}), on="account_id", how="full", coalesce=True)
    # an account the API created after the cut holds nothing as of the mark
    diff = both.filter(
        pl.col("balance_cents").fill_null(0) != pl.col("posted_balance_cents").cast(pl.Int64).fill_null(0)
    ).sort("account_id")
    out.accounts_checked = both.height
    out.account_mismatches = [
        {
            "account_id": r["account_id"],
            "source_cents": r["balance_cents"],
            "warehouse_cents": r["posted_balance_cents"],
        }
        for r in diff.head(20).iter_rows(named=True)
    ] + ([{"more": diff.height - 20}] if diff.height > 20 else [])

    columns = list(INVESTOR_ACCOUNT_COLUMNS.values())
    expected = (
        accounts.filter(pl.col("account_type").is_in(list(INVESTOR_ACCOUNT_COLUMNS)))
        .with_columns(pl.col("account_type").replace_strict(INVESTOR_ACCOUNT_COLUMNS).alias("column"))
        .group_by("owner_id")
        .agg(
            [
                # credit-normal: the investor's money is -balance
                (-pl.col("balance_cents").filter(pl.col("column") == c).sum()).alias(c)
                for c in columns
            ]
        )
        .rename({"owner_id": "investor_id"})
    )
    mart = pl.from_arrow(duck.sql(f"select investor_id, {', '.join(columns)} from {INVESTOR_MART}").to_arrow_table())
    assert isinstance(mart, pl.DataFrame)
    mart = mart.cast(dict.fromkeys(["investor_id", *columns], pl.Int64))
    joined = expected.join(mart, on="investor_id", how="full", coalesce=True, suffix="_warehouse")
    # an investor registered after the cut has no row in the mart and holds nothing as of the mark
    mismatch = pl.any_horizontal(pl.col(c).fill_null(0) != pl.col(f"{c}_warehouse").fill_null(0) for c in columns)
    bad = joined.filter(mismatch).sort("investor_id")
    out.investors_checked = mart.height
    out.investor_mismatches = [
        {
            "investor_id": r["investor_id"],
            "source": {c: r[c] for c in columns},
            "warehouse": {c: r[f"{c}_warehouse"] for c in columns},
        }
        for r in bad.head(20).iter_rows(named=True)
    ]
    return out


# ---- totals: cheap enough for every run, the no-change ones included ------------------------------------

# Outstanding principal as the marts show it, and the ledger account kind that holds it (debit-normal for a
# loan's principal, credit-normal for an investor's notes).
OUTSTANDING_MARTS = {
    "loan_principal": ("marts.fct_borrower_loans", 1),
    "investor_notes": ("marts.fct_investor_notes", -1),
}


@dataclass
class Totals:
    """Per ledger account kind: accounts and balance as of the warehouse's high-water mark, in the source
    and in the warehouse; and outstanding principal in the marts against the kind that holds it."""

    high_water_mark: int | None = None
    source_entries: int = 0
    warehouse_entries: int = 0
    kinds_checked: int = 0
    kind_mismatches: list[dict[str, Any]] = field(default_factory=list)
    outstanding: dict[str, dict[str, int]] = field(default_factory=dict)

    @property
    def passed(self) -> bool:
        return (
            self.source_entries == self.warehouse_entries
            and not self.kind_mismatches
            and all(v["source_cents"] == v["warehouse_cents"] for v in self.outstanding.values())
        )

    def metadata(self) -> dict[str, Any]:
        return {
            "high_water_mark": self.high_water_mark,
            "source_entries": self.source_entries,
            "warehouse_entries": self.warehouse_entries,
            "kinds_checked": self.kinds_checked,
            "kind_mismatches": self.kind_mismatches,
            "outstanding_principal": self.outstanding,
        }


def source_totals_at(
    source: SourceSnapshot | None, high_water_mark: int | None
) -> tuple[int, dict[str, tuple[int, int]]]:
    """(source entries up to the mark, {account kind: (accounts, balance as of the mark)}), grouped in the
    source database: two small aggregates, whatever the size of the ledger."""
    if source is None or not source.has_table(LedgerAccount.__tablename__):
        return 0, {}
    a, e = LedgerAccount.__table__, LedgerEntry.__table__
    mark = high_water_mark if high_water_mark is not None else 0
    entries = entries_up_to(source, mark)
    kinds = _frame(
        source,
        sa.select(
            a.c.account_type,
            sa.func.count().label("accounts"),
            sa.func.coalesce(sa.func.sum(a.c.balance_cents), 0).label("balance_cents"),
        ).group_by(a.c.account_type),
    )
    later = _past_mark_frame(
        source,
        mark,
        sa.select(a.c.account_type, sa.func.sum(e.c.amount_cents).label("later_cents"))
        .select_from(e.join(a, a.c.account_id == e.c.account_id))
        .group_by(a.c.account_type),
    )
    after = {str(r["account_type"]): int(r["later_cents"]) for r in later.iter_rows(named=True)} if later.height else {}
    out = {
        str(r["account_type"]): (int(r["accounts"]), int(r["balance_cents"]) - after.get(str(r["account_type"]), 0))
        for r in kinds.iter_rows(named=True)
    }
    return entries, out


def reconcile_totals(
    source: SourceSnapshot | None, duck: duckdb.DuckDBPyConnection, read: Reconciliation | None = None
) -> Totals:
    """The ledger's totals per account kind and the outstanding principal, source against warehouse, as of
    the warehouse's ledger high-water mark. An account the API opened after the mark holds nothing as of it,
    so its kind's balance still matches; its count is compared only for accounts the warehouse could know.

    `read`: a `reconcile` of the same snapshot and warehouse, whose read of every source account already
    holds the source's side (grouping the accounts again in SQLite takes 1.7 s at 1M loans)."""
    out = Totals()
    ((hwm, wh_entries),) = duck.execute("select max(entry_id), count(*) from raw.ledger_entries").fetchall()
    out.high_water_mark = None if hwm is None else int(hwm)
    out.warehouse_entries = int(wh_entries)
    if read is not None and read.high_water_mark == out.high_water_mark and read.source_kinds:
        out.source_entries, source_kinds = read.source_entries, read.source_kinds
    else:
        out.source_entries, source_kinds = source_totals_at(source, out.high_water_mark)
    rows = duck.execute(
        f"select account_type, count(*), coalesce(sum(posted_balance_cents), 0) from {ACCOUNT_MART} group by 1"
    ).fetchall()
    warehouse_kinds = {str(k): (int(n), int(b)) for k, n, b in rows}
    raw_accounts = dict(duck.execute("select account_type, count(*) from raw.ledger_accounts group by 1").fetchall())
    for kind in sorted(set(source_kinds) | set(warehouse_kinds)):
        src_n, src_b = source_kinds.get(kind, (0, 0))
        wh_n, wh_b = warehouse_kinds.get(kind, (0, 0))
        # the mart has one row per extracted account: it must hold every one the raw copy holds
        if src_b != wh_b or wh_n != int(raw_accounts.get(kind, 0)) or wh_n > src_n:
            out.kind_mismatches.append(
                {
                    "kind": kind,
                    "source": {"accounts": src_n, "cents": src_b},
                    "warehouse": {"accounts": wh_n, "cents": wh_b},
                }
            )
    out.kinds_checked = len(set(source_kinds) | set(warehouse_kinds))
    for kind, (mart, sign) in OUTSTANDING_MARTS.items():
        ((total,),) = duck.execute(f"select coalesce(sum(outstanding_principal_cents), 0) from {mart}").fetchall()
        out.outstanding[kind] = {
            "source_cents": sign * source_kinds.get(kind, (0, 0))[1],
            "warehouse_cents": int(total),
        }
    return out
