"""Regressions for defects found in review: lost lockout counts under concurrency, unlimited
password guessing through password change, 500s on odd input, unlogged tracebacks, and incomes
leaking through score reasons."""

from __future__ import annotations

from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import text

from api.integrations.processor import jobs as processor_jobs
from api.integrations.processor.base import TransferRequest
from api.integrations.processor.sandbox import SandboxProcessor
from api.kit.clock import frozen_at
from api.main import create_app
from tests.api.helpers import PASSWORD, create_loan, email_of, key, login, register, register_investor
from tests.conftest import test_settings


@pytest.fixture
def lockout_client(database_url: str, tmp_path: Path) -> Iterator[TestClient]:
    app = create_app(test_settings(database_url, tmp_path, login_max_failures=5))
    with TestClient(app, raise_server_exceptions=False) as client:
        yield client
    app.state.database.dispose()


def test_parallel_wrong_guesses_are_judged_one_by_one(lockout_client: TestClient) -> None:
    register(lockout_client, "bella", ready=False)
    guess = {"username": "bella", "password": "not-the-password-1"}
    with frozen_at(datetime.now(UTC)), ThreadPoolExecutor(max_workers=10) as pool:
        codes = list(pool.map(lambda _: lockout_client.post("/auth/token", data=guess).status_code, range(20)))
        assert set(codes) <= {401, 429} and codes.count(401) == 5
        right = {"username": "bella", "password": PASSWORD}
        assert lockout_client.post("/auth/token", data=right).status_code == 429


def test_guessing_the_current_password_counts_towards_lockout(lockout_client: TestClient) -> None:
    register(lockout_client, "bella", ready=False)
    auth = login(lockout_client, "bella")
    wrong = {"current_password": "guess-guess-guess", "new_password": "a fresh long passphrase"}
    with frozen_at(datetime.now(UTC) + timedelta(seconds=1)):
        codes = [lockout_client.post("/auth/password/change", json=wrong, headers=auth).status_code for _ in range(6)]
        assert codes[:5] == [401] * 5 and codes[5] == 429
        right = {"current_password": PASSWORD, "new_password": "a fresh long passphrase"}
        assert lockout_client.post("/auth/password/change", json=right, headers=auth).status_code == 429


@pytest.mark.parametrize("amount", ["1e30", "1E+400", 10**30, "1_000.00", "\uff12\uff15.00", "NaN", "-0.00"])
def test_odd_amounts_are_422_not_500(client: TestClient, amount: object) -> None:
    register_investor(client, "ivan")
    response = client.post("/investors/me/deposits", json={"amount": amount}, headers=login(client, "ivan") | key())
    assert response.status_code == 422, response.text


def test_odd_ids_cursors_and_text_are_4xx(client: TestClient) -> None:
    register(client, "bella")
    auth = login(client, "bella")
    assert client.get("/loans/list", params={"cursor": "\u00b9"}, headers=auth).status_code == 422
    assert client.get(f"/loans/{2**64}/schedule", headers=auth).status_code == 422
    too_big = client.post("/payments/make", json={"loan_id": 2**63, "amount": "1.00"}, headers=auth | key())
    assert too_big.status_code == 422
    nul = client.post(
        "/loans/create",
        json={"amount": "5000.00", "term_months": 36, "purpose": "car\x00", "credit_check_consent": True},
        headers=auth,
    )
    assert nul.status_code == 422 and "NUL" in nul.json()["detail"]
    assert client.patch("/users/me", json={"city": "Aus\x00tin"}, headers=auth).status_code == 422


def test_concurrent_registrations_of_one_name_give_one_account(client: TestClient) -> None:
    body = {"username": "bella", "email": email_of("bella"), "password": PASSWORD, "role": "borrower"}
    with ThreadPoolExecutor(max_workers=6) as pool:
        codes = sorted(pool.map(lambda _: client.post("/users/register", json=body).status_code, range(6)))
    assert codes == [201, 409, 409, 409, 409, 409]


def test_unexpected_errors_are_500_with_a_logged_traceback(
    database_url: str, tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    from api.cash import service as cash_service

    def explode(*args: object, **kwargs: object) -> None:
        raise RuntimeError("cash service exploded")

    app = create_app(test_settings(database_url, tmp_path))
    with TestClient(app, raise_server_exceptions=False) as client:
        register_investor(client, "ivan")
        auth = login(client, "ivan")
        monkeypatch.setattr(cash_service, "deposit", explode)
        response = client.post("/investors/me/deposits", json={"amount": "10.00"}, headers=auth | key())
        assert response.status_code == 500 and response.json()["code"] == "internal"
        assert client.get("/investors/me/portfolio", headers=auth).json()["cash"] == "0.00"
    app.state.database.dispose()
    logged = capsys.readouterr().out
    assert "Traceback" in logged and "cash service exploded" in logged and PASSWORD not in logged


def test_score_reasons_never_show_the_borrowers_income(client: TestClient) -> None:
    register(client, "bella")
    auth = login(client, "bella")
    client.patch("/users/me", json={"annual_income": "23456.00"}, headers=auth)
    loan = create_loan(client, auth, amount="35000.00", term=60)
    assert loan["score_reasons"], "a large, long loan on a low income should come with reasons"
    text = " ".join(loan["score_reasons"])
    assert "23,456" not in text and "23456" not in text and "% of annual income" not in text


def test_a_retry_after_a_failure_past_the_processor_does_not_move_money_twice(
    database_url: str, tmp_path: Path
) -> None:
    settings = test_settings(database_url, tmp_path)
    app = create_app(settings)

    class DropsTheFirstAnswer(SandboxProcessor):
        """The processor takes the transfer, then our side fails before committing (a lost connection)."""

        failed = False

        def submit(self, request: TransferRequest) -> str:
            reference = super().submit(request)
            if not self.failed:
                self.failed = True
                raise ConnectionError("connection to the database lost")
            return reference

    with TestClient(app, raise_server_exceptions=False) as client:
        processor = DropsTheFirstAnswer(
            app.state.database, settle_days=2, webhook_secret=settings.processor_webhook_secret.get_secret_value()
        )
        register_investor(client, "ivan")
        auth = login(client, "ivan")
        made = client.post("/investors/me/deposits", json={"amount": "500.00"}, headers=auth | key())
        assert made.status_code == 201, made.text
        assert made.json()["status"] == "pending" and made.json()["pending_cash"] == "500.00"
        first = processor_jobs.run(app.state.database, processor, settings)
        assert (first.submitted, first.failed) == (0, 1)
        second = processor_jobs.run(app.state.database, processor, settings, settle_all_now=True)
        assert second.submitted == 1
        processor_jobs.run(app.state.database, processor, settings, settle_all_now=True)
        cash = client.get("/investors/me/cash", headers=auth).json()
        assert (cash["available"], cash["pending"]) == ("500.00", "0.00")
        assert [t["status"] for t in cash["transfers"]] == ["settled"]
        with app.state.database.transaction(write=False) as session:
            moved = session.execute(text("SELECT direction, amount_cents FROM sandbox_transfers")).all()
    app.state.database.dispose()
    assert [tuple(m) for m in moved] == [("collect", 50_000)]  # one transfer at the processor, not two


def test_a_crash_before_commit_leaves_neither_the_transfer_nor_its_ledger_entry(
    database_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from api.ledger import repository as ledger_repo

    app = create_app(test_settings(database_url, tmp_path))
    with TestClient(app, raise_server_exceptions=False) as client:
        register_investor(client, "ivan")
        auth = login(client, "ivan")

        def crash(*args: object, **kwargs: object) -> int:
            raise ConnectionError("the database went away mid-request")

        monkeypatch.setattr(ledger_repo, "post", crash)
        failed = client.post("/investors/me/deposits", json={"amount": "70.00"}, headers=auth | key())
        assert failed.status_code >= 500
        monkeypatch.undo()
        with app.state.database.transaction(write=False) as session:
            queued = session.execute(text("SELECT count(*) FROM processor_transfers")).scalar_one()
            transfers = session.execute(text("SELECT count(*) FROM cash_transfers")).scalar_one()
        assert (queued, transfers) == (0, 0)
        assert client.get("/investors/me/cash", headers=auth).json()["pending"] == "0.00"
    app.state.database.dispose()
