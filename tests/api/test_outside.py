"""What a stranger finds from outside: abuse aimed at a victim, forged client addresses, oversized and odd
input, production exposure, and one shape for every error. Each test here failed before its fix."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from api.kit.clock import frozen_at
from api.main import create_app
from api.settings import Settings
from tests.api.helpers import PASSWORD, key, login, make_staff, register, register_investor
from tests.conftest import test_settings

ATTACKER = ("203.0.113.66", 40000)
OWNER = ("198.51.100.7", 40001)


def _client(app: object, address: tuple[str, int]) -> TestClient:
    return TestClient(app, client=address, raise_server_exceptions=False)  # type: ignore[arg-type]


@pytest.fixture
def guarded(database_url: str, tmp_path: Path) -> Iterator[object]:
    """The production limits: 10 logins a minute per address, 5 failures before waits begin."""
    app = create_app(test_settings(database_url, tmp_path, rate_limit_login="10/minute", login_max_failures=5))
    yield app
    app.state.database.dispose()


def test_hammering_an_account_from_one_place_does_not_lock_its_owner_out(guarded: object) -> None:
    with _client(guarded, OWNER) as owner:
        register(owner, "victim", ready=False)
    with _client(guarded, ATTACKER) as attacker, frozen_at(datetime.now(UTC)):
        answers = [
            attacker.post("/auth/token", data={"username": "victim", "password": f"guess-{n}"}) for n in range(1000)
        ]
        right = attacker.post("/auth/token", data={"username": "victim", "password": PASSWORD})
        with _client(guarded, OWNER) as owner:
            assert owner.post("/auth/token", data={"username": "victim", "password": PASSWORD}).status_code == 200
    assert {a.status_code for a in answers} == {401, 429}
    assert right.status_code == 429 and int(right.headers["Retry-After"]) > 0


def test_credential_stuffing_gets_nothing_but_waits(guarded: object) -> None:
    with _client(guarded, OWNER) as owner:
        for name in ("alice1", "alice2", "alice3"):
            register(owner, name, ready=False)
    with _client(guarded, ATTACKER) as attacker:
        codes = [
            attacker.post("/auth/token", data={"username": f"alice{n % 3 + 1}", "password": f"pw-{n}"})
            for n in range(10_000)
        ]
    assert not [c for c in codes if c.status_code == 200]
    limited = [c for c in codes if c.status_code == 429]
    assert len(limited) >= 9_900
    assert all(int(c.headers["Retry-After"]) > 0 for c in limited[:50])


def test_forwarded_for_is_believed_only_from_a_configured_proxy(database_url: str, tmp_path: Path) -> None:
    for proxies, expected in (([], [201] * 3 + [429] * 3), (["127.0.0.1"], [201] * 6)):
        app = create_app(test_settings(database_url, tmp_path, rate_limit_register="3/minute", trusted_proxies=proxies))
        with _client(app, ("127.0.0.1", 5000)) as client:
            codes = [
                client.post(
                    "/investors/register",
                    json={
                        "username": f"xff{len(proxies)}{n}",
                        "email": f"xff{len(proxies)}{n}@example.com",
                        "password": PASSWORD,
                    },
                    headers={"X-Forwarded-For": f"10.9.8.{n}"},
                ).status_code
                for n in range(6)
            ]
        app.state.database.dispose()
        assert codes == expected, proxies


def test_nul_and_overlong_form_fields_are_422(client: TestClient) -> None:
    for form in (
        {"username": "a\x00b", "password": "x"},
        {"username": "a" * 300, "password": "x"},
        {"username": "bella", "password": "p" * 500},
    ):
        response = client.post("/auth/token", data=form)
        assert response.status_code == 422, response.text
        assert response.json()["code"] == "validation_error"


def test_a_body_over_the_cap_is_413_before_it_is_read(client: TestClient) -> None:
    big = b'{"username": "' + b"x" * (2 * 1024 * 1024) + b'"}'
    response = client.post("/users/register", content=big, headers={"content-type": "application/json"})
    assert response.status_code == 413 and response.json()["code"] == "payload_too_large"

    def streamed() -> Iterator[bytes]:  # no Content-Length: counted as it arrives
        for _ in range(40):
            yield b"x" * 64 * 1024

    response = client.post("/users/register", content=streamed(), headers={"content-type": "application/json"})
    assert response.status_code == 413


def test_every_framework_error_has_a_code(client: TestClient) -> None:
    missing = client.get("/no/such/page")
    assert missing.status_code == 404 and missing.json()["code"] == "not_found"
    wrong_method = client.delete("/loans/list")
    assert wrong_method.status_code == 405 and wrong_method.json()["code"] == "method_not_allowed"
    broken_json = client.post("/users/register", content=b"{nope", headers={"content-type": "application/json"})
    assert broken_json.status_code == 422 and broken_json.json()["code"] == "validation_error"


def test_cursors_are_validated_everywhere(client: TestClient) -> None:
    auth = make_staff(client, "ops", "admin")
    for path in ("/notifications", "/loans/list", "/admin/audit-log"):
        response = client.get(path, params={"cursor": "x"}, headers=auth)
        assert response.status_code == 422, (path, response.text)


def test_names_and_addresses_are_unique_whatever_their_case(client: TestClient) -> None:
    register(client, "crash5", ready=False)
    twin = client.post(
        "/users/register",
        json={"username": "CRASH5", "email": "other@example.com", "password": PASSWORD, "role": "borrower"},
    )
    assert twin.status_code == 409 and "username" in twin.json()["detail"]
    same_mail = client.post(
        "/users/register",
        json={"username": "someone", "email": "CRASH5@EXAMPLE.COM", "password": PASSWORD, "role": "borrower"},
    )
    assert same_mail.status_code == 409
    assert client.post("/auth/token", data={"username": "Crash5", "password": PASSWORD}).status_code == 200


def test_every_response_carries_security_headers(client: TestClient) -> None:
    for response in (client.get("/health"), client.get("/no/such/page")):
        assert response.headers["x-content-type-options"] == "nosniff"
        assert response.headers["x-frame-options"] == "DENY"
        assert "frame-ancestors 'none'" in response.headers["content-security-policy"]
        assert "strict-transport-security" not in response.headers  # plain HTTP: HSTS would be a lie


def test_hsts_behind_a_tls_terminating_proxy(database_url: str, tmp_path: Path) -> None:
    app = create_app(test_settings(database_url, tmp_path, trusted_proxies=["127.0.0.1"]))
    with _client(app, ("127.0.0.1", 5000)) as client:
        response = client.get("/health", headers={"X-Forwarded-Proto": "https"})
    app.state.database.dispose()
    assert response.headers["strict-transport-security"].startswith("max-age=")


def test_docs_work_offline(client: TestClient) -> None:
    page = client.get("/docs")
    assert page.status_code == 200 and "/docs-assets/swagger-ui-bundle.js" in page.text
    assert "cdn" not in page.text.lower()
    assert client.get("/docs-assets/swagger-ui-bundle.js").status_code == 200
    redoc = client.get("/redoc")
    assert redoc.status_code == 200 and "/docs-assets/redoc.standalone.js" in redoc.text
    assert "fonts.googleapis" not in redoc.text


def test_production_hides_docs_and_metrics(database_url: str, tmp_path: Path) -> None:
    production = {
        "env": "production",
        "jwt_secret": "a-real-production-secret-of-forty-chars!!",
        "processor_webhook_secret": "a-real-processor-webhook-secret-0987654321",
    }
    app = create_app(test_settings(database_url, tmp_path, **production))
    with _client(app, OWNER) as client:
        for path in ("/docs", "/redoc", "/openapi.json", "/metrics"):
            assert client.get(path).status_code == 404, path
        assert client.get("/health").status_code == 200
    app.state.database.dispose()
    app = create_app(test_settings(database_url, tmp_path, metrics_token="scrape-me-please", **production))
    with _client(app, OWNER) as client:
        assert client.get("/metrics").status_code == 404
        scraped = client.get("/metrics", headers={"Authorization": "Bearer scrape-me-please"})
        assert scraped.status_code == 200 and "peerlend_http_requests_total" in scraped.text
    app.state.database.dispose()


def test_production_refuses_several_workers_counting_in_memory() -> None:
    real = {"jwt_secret": "a-real-production-secret-of-forty-chars!!", "processor_webhook_secret": "r" * 40}
    with pytest.raises(ValueError, match="shared store"):
        Settings(env="production", workers=2, **real)  # type: ignore[arg-type]
    Settings(
        env="production",
        **real,  # type: ignore[arg-type]
        workers=2,
        rate_limit_storage="redis://127.0.0.1:6379",
    )


def test_production_refuses_the_placeholder_processor_webhook_secret() -> None:
    with pytest.raises(ValueError, match="PROCESSOR_WEBHOOK_SECRET"):
        Settings(env="production", jwt_secret="a-real-production-secret-of-forty-chars!!")


def test_an_unverified_investor_still_gets_a_clear_403(client: TestClient) -> None:
    register_investor(client, "uma", ready=False)
    response = client.post("/investors/me/deposits", json={"amount": "10.00"}, headers=login(client, "uma") | key())
    assert response.status_code == 403 and response.json()["code"] == "email_not_verified"
