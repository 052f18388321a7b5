"""The worker the demo starts (`python -m api.worker`): its schedule lives in the database, so a new worker
process (a restart) picks up where the last one left off; a job runs once per interval however many workers
ask; and the expiry job ends a listing exactly once."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

from fastapi.testclient import TestClient

from api.kit.clock import frozen_at
from api.worker import Worker
from tests.api.helpers import SEED_PROFILE, create_loan, deposit, invest, login, register, register_investor
from tests.conftest import test_settings

JOBS = ("expire_listings", "auto_invest", "deliver_outbox", "issue_funded")


def test_the_worker_expires_listings_once_and_its_schedule_survives_restarts(
    client: TestClient, database_url: str, tmp_path: Path
) -> None:
    register(client, "bella", profile=SEED_PROFILE)
    register_investor(client, "ivan")
    bella, ivan = login(client, "bella"), login(client, "ivan")
    deposit(client, ivan, "1000.00")
    loan_id = create_loan(client, bella)["loan_id"]
    assert invest(client, ivan, loan_id, "400.00").status_code == 201
    settings = test_settings(database_url, tmp_path)
    first = Worker.build(settings, name="worker-1")
    outcomes = first.run_due(JOBS)
    assert set(outcomes) == set(JOBS) and outcomes["expire_listings"] == "expired 0, funded partially 0"
    first.database.dispose()
    restarted = Worker.build(settings, name="worker-2")  # a new process: nothing is due yet
    assert restarted.run_due(JOBS) == {}
    later = datetime.now(UTC) + timedelta(days=15)
    with frozen_at(later):
        done = restarted.run_due(("expire_listings",))
        assert done == {"expire_listings": "expired 1, funded partially 0"}
        assert restarted.run_due(("expire_listings",)) == {}  # not due again until its interval has passed
    with frozen_at(later + timedelta(hours=1)):
        assert restarted.run_due(("expire_listings",)) == {"expire_listings": "expired 0, funded partially 0"}
        runs = {row.name: row.runs for row in restarted.schedule()}
        bella, ivan = login(client, "bella"), login(client, "ivan")
        assert client.get(f"/loans/{loan_id}", headers=bella).json()["status"] == "expired"
        assert client.get("/investors/me/portfolio", headers=ivan).json()["cash"] == "1000.00"
    assert runs["expire_listings"] == 3 and runs["auto_invest"] == 1
    restarted.database.dispose()
