"""Property-based fuzzing of every operation in the OpenAPI spec (schemathesis): whatever a client
sends, the API answers with a 4xx that says what is wrong or with success, never a 500.

Runs on SQLite (an app built at import, because schemathesis parametrizes at collection time);
the PostgreSQL paths are exercised by the rest of the suite."""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Any

import pytest
import schemathesis
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, settings
from schemathesis.checks import not_a_server_error

from api.main import create_app
from tests.api.helpers import create_loan, deposit, invest, login, make_staff, register, register_investor
from tests.conftest import migrate, test_settings

_workdir = Path(tempfile.mkdtemp(prefix="peerlend-fuzz-"))
_url = f"sqlite:///{_workdir / 'fuzz.db'}"
migrate(_url)
app = create_app(test_settings(_url, _workdir))
schema = schemathesis.openapi.from_asgi("/openapi.json", app)


@pytest.fixture(scope="module")
def fuzz_world() -> dict[str, Any]:
    with TestClient(app) as client:
        register(client, "bella")
        register_investor(client, "ivan")
        bella, ivan = login(client, "bella"), login(client, "ivan")
        deposit(client, ivan, "100000.00")
        loan = create_loan(client, bella, amount="1000.00")
        invest(client, ivan, loan["loan_id"], "1000.00")
        create_loan(client, bella)
        admin = make_staff(client, "ops", "admin")
    return {"borrower": bella, "investor": ivan, "admin": admin}


def _caller(method: str, path: str) -> str:
    if path.startswith(("/admin", "/reports")):
        return "admin"
    if (
        path.startswith("/payments")
        or path.endswith("/payments")
        or (method == "POST" and path in ("/loans", "/loans/create"))
    ):
        return "borrower"
    return "investor"


@schema.parametrize()
@settings(
    max_examples=15,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow, HealthCheck.filter_too_much],
)
def test_no_input_makes_a_server_error(case: Any, fuzz_world: dict[str, Any]) -> None:
    headers = dict(case.headers or {})
    if "Authorization" not in headers:
        headers.update(fuzz_world[_caller(case.method, case.path)])
    response = case.call(headers=headers)
    case.validate_response(response, checks=[not_a_server_error])
