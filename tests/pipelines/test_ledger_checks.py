"""The raw ledger checks over everything and over what changed since a published build (LedgerWindow): the
window sees every fault a new posting or a newly stamped account can bring, and nothing below it."""

from datetime import datetime

import duckdb
import pytest

from pipelines.lib.extract import LedgerWindow, accounts_off_postings, unbalanced_ledger

OLD = datetime(2026, 7, 1, 12)
NEW = datetime(2026, 7, 2, 12)
# what a published build saw: postings up to id 4, accounts stamped up to OLD
WINDOW = LedgerWindow(entry_floor=4, stamp_floor=datetime(2026, 7, 1, 18))


@pytest.fixture
def duck() -> duckdb.DuckDBPyConnection:
    con = duckdb.connect()
    con.execute("create schema raw")
    con.execute(
        "create table raw.ledger_entries (entry_id bigint, transaction_id bigint, account_id bigint, "
        "amount_cents bigint)"
    )
    con.execute("create table raw.ledger_accounts (account_id bigint, balance_cents bigint, updated_at timestamp)")
    # two balanced transactions the published build checked: 1 -> 2 and 3 -> 4
    con.execute("insert into raw.ledger_entries values (1, 1, 1, 500), (2, 1, 2, -500), (3, 2, 3, 70), (4, 2, 4, -70)")
    con.execute("insert into raw.ledger_accounts values (1, 500, ?), (2, -500, ?), (3, 70, ?), (4, -70, ?)", [OLD] * 4)
    return con


def test_a_clean_ledger_passes_both_ways(duck: duckdb.DuckDBPyConnection) -> None:
    duck.execute("insert into raw.ledger_entries values (5, 3, 1, 25), (6, 3, 3, -25)")
    duck.execute(
        "update raw.ledger_accounts set balance_cents = balance_cents + 25, updated_at = ? where account_id = 1", [NEW]
    )
    duck.execute(
        "update raw.ledger_accounts set balance_cents = balance_cents - 25, updated_at = ? where account_id = 3", [NEW]
    )
    assert unbalanced_ledger(duck) == (0, 0)
    assert unbalanced_ledger(duck, WINDOW) == (0, 0)
    assert accounts_off_postings(duck) == (4, [])
    # only the two accounts the new transaction touched are read
    assert accounts_off_postings(duck, WINDOW) == (2, [])


def test_a_new_unbalanced_transaction_is_caught_in_the_window(duck: duckdb.DuckDBPyConnection) -> None:
    duck.execute("insert into raw.ledger_entries values (5, 3, 1, 25), (6, 3, 3, -24)")
    assert unbalanced_ledger(duck, WINDOW) == (1, 1)
    assert unbalanced_ledger(duck) == (1, 1)


def test_a_late_posting_to_an_old_transaction_is_caught(duck: duckdb.DuckDBPyConnection) -> None:
    # a posting past the mark that belongs to a transaction the published build saw balanced
    duck.execute("insert into raw.ledger_entries values (5, 1, 2, -1)")
    assert unbalanced_ledger(duck, WINDOW)[1] == 1


def test_a_new_posting_without_its_balance_is_caught(duck: duckdb.DuckDBPyConnection) -> None:
    duck.execute("insert into raw.ledger_entries values (5, 3, 1, 25), (6, 3, 3, -25)")
    checked, off = accounts_off_postings(duck, WINDOW)
    assert checked == 2
    assert off == [
        {"account_id": 1, "balance_cents": 500, "posted_cents": 525},
        {"account_id": 3, "balance_cents": 70, "posted_cents": 45},
    ]


def test_a_balance_moved_without_a_posting_is_caught(duck: duckdb.DuckDBPyConnection) -> None:
    duck.execute("update raw.ledger_accounts set balance_cents = 501, updated_at = ? where account_id = 1", [NEW])
    assert accounts_off_postings(duck, WINDOW) == (1, [{"account_id": 1, "balance_cents": 501, "posted_cents": 500}])


def test_a_posting_to_an_account_the_warehouse_lacks_is_caught(duck: duckdb.DuckDBPyConnection) -> None:
    duck.execute("insert into raw.ledger_entries values (5, 3, 9, 25), (6, 3, 3, -25)")
    _, off = accounts_off_postings(duck, WINDOW)
    assert {"account_id": 9, "balance_cents": None, "posted_cents": 25} in off


def test_the_window_leaves_what_the_published_build_checked(duck: duckdb.DuckDBPyConnection) -> None:
    """A fault below the window (which the published build would have failed on) is the full check's: the
    platform day's first run runs it."""
    duck.execute("update raw.ledger_accounts set balance_cents = 499 where account_id = 1")
    assert accounts_off_postings(duck, WINDOW) == (0, [])
    assert accounts_off_postings(duck)[1] == [{"account_id": 1, "balance_cents": 499, "posted_cents": 500}]
