"""When the database goes away the API says so (503 with Retry-After, code `unavailable`), writes
nothing half-way, and recovers by itself when it comes back. PostgreSQL only: the test terminates every
backend connection of its database while requests are running."""

from __future__ import annotations

import threading
import time

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from tests.api.helpers import create_loan, deposit, invest, login, register, register_investor


def _kill_backends(url: str, stop: threading.Event) -> int:
    database = make_url(url).database
    admin = create_engine(make_url(url).set(database="postgres"), isolation_level="AUTOCOMMIT")
    killed = 0
    with admin.connect() as connection:
        while not stop.is_set():
            killed += connection.execute(
                text(
                    "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
                    "WHERE datname = :d AND pid <> pg_backend_pid()"
                ),
                {"d": database},
            ).scalar_one()
            time.sleep(0.05)
    admin.dispose()
    return killed


def test_losing_the_database_is_503_and_recovers(client: TestClient, backend: str, database_url: str) -> None:
    if backend != "postgres":
        pytest.skip("terminating backends needs PostgreSQL")
    register(client, "bella")
    register_investor(client, "ivan")
    bella, ivan = login(client, "bella"), login(client, "ivan")
    loan_id = create_loan(client, bella)["loan_id"]
    deposit(client, ivan, "5000.00")

    stop = threading.Event()
    killer = threading.Thread(target=_kill_backends, args=(database_url, stop))
    killer.start()
    answers = []
    try:
        deadline = time.time() + 3
        # stop well before the $5,000 loan fills: the investment after recovery must still find it listed
        while time.time() < deadline and sum(1 for a in answers if a.status_code == 201) < 150:
            answers.append(invest(client, ivan, loan_id, "25.00"))
            answers.append(client.get("/health"))
    finally:
        stop.set()
        killer.join()

    statuses = {a.status_code for a in answers}
    assert 500 not in statuses, [a.text for a in answers if a.status_code == 500][:3]
    unavailable = [a for a in answers if a.status_code == 503]
    assert unavailable, "the outage was never seen"
    assert all(a.json()["code"] == "unavailable" and int(a.headers["Retry-After"]) > 0 for a in unavailable)

    # Recovered by itself (a probe may meet one connection killed before the pool learnt of the outage),
    # and every 201 moved exactly its 25.00.
    deadline = time.time() + 10
    while client.get("/health").status_code != 200:
        assert time.time() < deadline, "the API did not recover"
        time.sleep(0.2)
    after = invest(client, ivan, loan_id, "25.00")
    assert after.status_code == 201, after.text
    made = sum(1 for a in answers if a.status_code == 201) + 1
    portfolio = client.get("/investors/me/portfolio", headers=ivan).json()
    assert portfolio["committed"] == f"{25 * made}.00"
    assert portfolio["cash"] == f"{5000 - 25 * made}.00"
    admin_trial = client.get("/loans/list", headers=ivan).json()["items"][0]
    assert admin_trial["funded_amount"] == f"{25 * made}.00"
