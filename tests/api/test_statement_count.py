"""The number of SQL statements one investment costs is part of its speed: this pins it, so it cannot
creep back up unnoticed (it was 19 before the core was reworked). If a change needs more, raise the
figure here on purpose and say why in the commit."""

from __future__ import annotations

from fastapi.testclient import TestClient
from sqlalchemy import event

from tests.api.helpers import create_loan, deposit, invest, login, register, register_investor

# The session check, the idempotency claim, the funding UPDATE (which takes the loan's row lock), the note,
# two account balances, the ledger transaction, its postings and the stored response. SQLite adds its
# explicit BEGIN IMMEDIATE (PostgreSQL's BEGIN and both COMMITs are not cursor statements).
STATEMENTS_PER_INVESTMENT = {"postgres": 9, "sqlite": 10}


def _statements_of(client: TestClient, request: object) -> list[str]:
    seen: list[str] = []
    engine = client.app.state.database.engine  # type: ignore[attr-defined]

    def record(_conn: object, _cursor: object, statement: str, *_: object) -> None:
        seen.append(" ".join(statement.split()[:3]))

    event.listen(engine, "before_cursor_execute", record)
    try:
        request()  # type: ignore[operator]
    finally:
        event.remove(engine, "before_cursor_execute", record)
    return seen


def test_one_investment_costs_a_fixed_number_of_statements(client: TestClient, backend: str) -> None:
    register(client, "bella")
    register_investor(client, "ivan")
    bella, ivan = login(client, "bella"), login(client, "ivan")
    loan_id = create_loan(client, bella)["loan_id"]
    deposit(client, ivan, "5000.00")
    invest(client, ivan, loan_id, "25.00")  # warm: the first request compiles and caches its statements

    responses = []
    statements = _statements_of(client, lambda: responses.append(invest(client, ivan, loan_id, "25.00")))
    assert responses[0].status_code == 201, responses[0].text
    assert len(statements) == STATEMENTS_PER_INVESTMENT[backend], "\n".join(statements)


def test_a_listing_page_costs_two_statements(client: TestClient) -> None:
    register(client, "bella")
    register_investor(client, "ivan")
    for _ in range(3):
        create_loan(client, login(client, "bella"))
    ivan = login(client, "ivan")
    responses = []
    statements = _statements_of(client, lambda: responses.append(client.get("/loans/list", headers=ivan)))
    assert responses[0].status_code == 200 and len(responses[0].json()["items"]) == 3
    reads = [s for s in statements if not s.startswith(("BEGIN", "ROLLBACK", "COMMIT"))]
    assert len(reads) == 2, "\n".join(statements)  # the session check and the page
