"""The baselines the load benchmark compares Peerlend with: the barest FastAPI endpoints that touch the
same database the same way (one INSERT in a write transaction; one SELECT of a page of loans in a read
transaction), through the same engine settings and transaction owner, under the same uvicorn.

    BENCH_DATABASE_URL=... uvicorn benchmarks.bare_app:app
"""

from __future__ import annotations

import os
from typing import Any

from fastapi import FastAPI
from sqlalchemy import text

from api.kit.db import Database

database = Database(os.environ["BENCH_DATABASE_URL"])
app = FastAPI(openapi_url=None, docs_url=None, redoc_url=None)


@app.post("/bare/insert", status_code=201)
def insert_one() -> dict[str, bool]:
    with database.transaction(write=True) as session:
        session.execute(text("INSERT INTO bench_rows (payload) VALUES (:payload)"), {"payload": "x" * 32})
    return {"ok": True}


@app.get("/bare/select")
def select_page() -> list[dict[str, Any]]:
    with database.transaction(write=False) as session:
        rows = session.execute(
            text(
                "SELECT loan_id, borrower_id, amount_cents, interest_rate_bps, term_months, purpose, status, grade, "
                "funded_amount_cents, created_at FROM loans ORDER BY loan_id DESC LIMIT 20"
            )
        ).mappings()
        return [dict(row) for row in rows]
