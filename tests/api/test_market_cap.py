"""The per-investor cap per loan (PEERLEND_MAX_INVESTMENT_PER_LOAN_CENTS) over HTTP: an investment that takes an
investor past the cap in one loan is refused with a 409 that names the cap; reaching it exactly is accepted;
and the cap is the setting's, not a constant."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

from fastapi.testclient import TestClient

from api.main import create_app
from tests import factories
from tests.api.helpers import invest
from tests.conftest import test_settings


def _client(database_url: str, tmp_path: Path, cap_cents: int) -> Iterator[TestClient]:
    app = create_app(test_settings(database_url, tmp_path, max_investment_per_loan_cents=cap_cents))
    with TestClient(app, raise_server_exceptions=False) as client:
        yield client
    app.state.database.dispose()


def _investor_and_loan(client: TestClient) -> tuple[dict[str, str], int]:
    database = client.app.state.database  # type: ignore[attr-defined]
    with database.transaction() as session:
        investor = factories.investor(session, cash_cents=500_000)
        loan_id = int(factories.listing(session, amount_cents=500_000).loan_id)
    token = client.post("/auth/token", data={"username": investor.username, "password": factories.PASSWORD})
    assert token.status_code == 200, token.text
    return {"Authorization": f"Bearer {token.json()['access_token']}"}, loan_id


def test_investing_past_the_cap_is_refused_and_names_it(database_url: str, tmp_path: Path) -> None:
    for client in _client(database_url, tmp_path, cap_cents=50_000):
        auth, loan_id = _investor_and_loan(client)
        assert invest(client, auth, loan_id, "300.00").status_code == 201
        at_cap = invest(client, auth, loan_id, "200.00")
        assert at_cap.status_code == 201, at_cap.text  # $500.00 in the loan: exactly the cap
        over = invest(client, auth, loan_id, "25.00")
        assert over.status_code == 409, over.text
        detail = over.json()["detail"]
        assert "at most 500.00" in detail and "500.00 in loan" in detail, detail
        assert over.json()["code"] != "internal"
        portfolio = client.get("/investors/me/portfolio", headers=auth).json()
        assert (portfolio["cash"], portfolio["committed"]) == ("4500.00", "500.00")  # the refusal moved nothing

        auth, loan_id = _investor_and_loan(client)
        at_once = invest(client, auth, loan_id, "525.00")
        assert at_once.status_code == 409 and "at most 500.00" in at_once.json()["detail"], at_once.text
        assert invest(client, auth, loan_id, "500.00").status_code == 201


def test_the_cap_is_a_setting(database_url: str, tmp_path: Path) -> None:
    for client in _client(database_url, tmp_path, cap_cents=100_000):
        auth, loan_id = _investor_and_loan(client)
        assert invest(client, auth, loan_id, "525.00").status_code == 201  # over the other test's cap
        assert invest(client, auth, loan_id, "475.00").status_code == 201
        over = invest(client, auth, loan_id, "25.00")
        assert over.status_code == 409 and "at most 1000.00" in over.json()["detail"], over.text
