"""Every scored application stores its model inputs as the scoring version's decile bins, on SQLite and
PostgreSQL: what lets the warehouse measure the drift of income and the bureau's attributes without them."""

from __future__ import annotations

from fastapi.testclient import TestClient
from sqlalchemy import create_engine, text

from models import monitoring as M
from models import scoring
from tests.api.helpers import SEED_PROFILE, create_loan, login, register


def test_a_scored_application_stores_a_bin_for_every_model_input(client: TestClient, database_url: str) -> None:
    register(client, "bella", profile=SEED_PROFILE)
    loan = create_loan(client, login(client, "bella"))
    version_dir = scoring.resolve_model_dir(scoring.ARTIFACTS_DIR)
    assert loan["score_model_version"] == version_dir.name
    reference = scoring.read_metadata(version_dir)["monitoring_reference"]["inputs"]

    engine = create_engine(database_url)
    with engine.connect() as connection:
        rows = dict(
            connection.execute(
                text("select input_name, bin_index from score_input_bins where loan_id = :loan"),
                {"loan": loan["loan_id"]},
            ).all()
        )
    engine.dispose()
    assert set(rows) == set(reference)  # income, employment and every bureau attribute, not only amount and term
    for name, index in rows.items():
        assert 0 <= index < len(reference[name]["shares"]), name
    # the seed's $5,000 over 36 months, binned as the monitoring bins it
    assert rows["amount_cents"] == M.input_bins({"inputs": reference}, {"amount_cents": 500_000.0})["amount_cents"]
    assert rows["term_months"] == M.input_bins({"inputs": reference}, {"term_months": 36.0})["term_months"]
