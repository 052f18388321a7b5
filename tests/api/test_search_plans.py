"""Listing search on a large book uses the marketplace indexes (EXPLAIN on PostgreSQL). The book is generated in
SQL from one real loan; PEERLEND_EXPLAIN_BOOK sets its size (default 200,000; 1,000,000 for the issue's figure:
`PEERLEND_EXPLAIN_BOOK=1000000 uv run pytest tests/api/test_search_plans.py`)."""

from __future__ import annotations

import os
from datetime import UTC, datetime
from typing import Any, cast

import pytest
from sqlalchemy import Table, create_engine, text
from sqlalchemy.orm import Session

from api.lending import repository as repo
from api.lending.tables import Loan
from tests import factories

BOOK = int(os.environ.get("PEERLEND_EXPLAIN_BOOK", "200000"))
VARIED = {
    "status": "CASE WHEN g % 50 = 0 THEN 'listed' WHEN g % 3 = 0 THEN 'repaid' ELSE 'current' END",
    "grade": "chr(65 + (g % 7))",
    "interest_rate_bps": "549 + (g % 1900)",
    "amount_cents": "100000 + (g % 1560) * 2500",
    "requested_amount_cents": "100000 + (g % 1560) * 2500",
    "funded_amount_cents": "0",
    "funded_bps": "0",
    "term_months": "CASE WHEN g % 2 = 0 THEN 36 ELSE 60 END",
    "listing_expires_at": "t.listing_expires_at + make_interval(secs => g % 1209600)",
}


def _plan(connection: Any, search: repo.Search, caller: Any) -> str:
    sql = repo.search_sql(caller, search, connection.dialect)
    params = {
        "owner": caller.user_id,
        "status": search.status,
        "grade": search.grade,
        "min_rate": search.min_rate_bps,
        "max_rate": search.max_rate_bps,
        "term": search.term_months,
        "min_funded": search.min_funded_bps,
        "expires_after": search.expires_after,
        "after_key": search.after_key,
        "after_id": search.after_id,
        "page_size": 21,
    }
    rows = connection.exec_driver_sql("EXPLAIN " + sql, {k: v for k, v in params.items() if v is not None})
    return "\n".join(r[0] for r in rows)


def test_listing_search_uses_the_indexes_on_a_large_book(backend: str, database_url: str) -> None:
    if backend != "postgres":
        pytest.skip("EXPLAIN plans are PostgreSQL's")
    engine = create_engine(database_url)
    with Session(engine) as session, session.begin():
        template_id = factories.listing(session).loan_id
        investor = factories.investor(session)
    loans = cast(Table, Loan.__table__)
    columns = [c.name for c in loans.columns if c.name != "loan_id"]
    select = ", ".join(VARIED.get(c, f"t.{c}") for c in columns)
    with engine.begin() as connection:
        connection.execute(
            text(
                f"INSERT INTO loans ({', '.join(columns)}) SELECT {select} "
                f"FROM loans t, generate_series(1, {BOOK}) g WHERE t.loan_id = :id"
            ),
            {"id": template_id},
        )
        connection.execute(text("ANALYZE loans"))
    now = datetime.now(UTC)
    shapes = [
        repo.Search(status="listed", sort="newest"),
        repo.Search(status="listed", grade="C", sort="-rate"),
        repo.Search(status="listed", sort="rate", min_rate_bps=1200),
        repo.Search(status="listed", sort="-funded_pct"),
        repo.Search(status="listed", sort="time_left", expires_after=now),
        repo.Search(status="listed", sort="-amount", after_key=200000, after_id=5000),
        repo.Search(status="listed", sort="grade", term_months=36),
    ]
    with engine.connect() as connection:
        for search in shapes:
            plan = _plan(connection, search, investor)
            assert "Index" in plan and "Seq Scan on loans" not in plan, (search, plan)
    engine.dispose()
