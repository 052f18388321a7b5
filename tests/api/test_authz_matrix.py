"""Every endpoint with every role, and with other users' resources (OWASP API1 BOLA, API5
function-level authorization). The expectations come from api/authz.py's table plus the
ownership rules; a route without a sample here fails the test, so new endpoints must join."""

from __future__ import annotations

import itertools
from collections.abc import Callable
from typing import Any

import pytest
from fastapi.routing import APIRoute, iter_route_contexts
from fastapi.testclient import TestClient

from api.authz import POLICY, Permission, declared_permission
from tests.api.helpers import (
    PASSWORD,
    create_loan,
    deposit,
    invest,
    key,
    login,
    make_staff,
    register,
    register_investor,
    tokens,
)

ACTORS = ["anonymous", "bella", "bob", "ursula", "ivan", "iris", "uma", "ops", "ana"]
ROLE = {
    "bella": "borrower",
    "bob": "borrower",
    "ursula": "borrower",
    "ivan": "investor",
    "iris": "investor",
    "uma": "investor",
    "ops": "admin",
    "ana": "analyst",
}
UNVERIFIED = {"ursula", "uma"}
_unique = itertools.count()


def api_routes(client: TestClient) -> list[tuple[str, str, APIRoute]]:
    """(method, path, route) for every API route, prefixes of included routers applied."""
    found = []
    for context in iter_route_contexts(client.app.routes):  # type: ignore[attr-defined]
        route = context.original_route
        if isinstance(route, APIRoute) and context.path is not None:
            found.extend((method, context.path, route) for method in sorted(context.methods or route.methods))
    assert len(found) > 30, "the route walk found too few routes"
    return found


def permission_of(route: APIRoute) -> Permission:
    return declared_permission(route)


Sample = Callable[[dict[str, int]], tuple[str, str, dict[str, Any]]]


def _new_user(role: str) -> dict[str, Any]:
    n = next(_unique)
    return {"username": f"new{n}", "email": f"new{n}@example.com", "password": PASSWORD, "role": role}


SAMPLES: dict[tuple[str, str], Sample] = {
    ("POST", "/users/register"): lambda ids: ("POST", "/users/register", {"json": _new_user("borrower")}),
    ("POST", "/investors/register"): lambda ids: (
        "POST",
        "/investors/register",
        {"json": {k: v for k, v in _new_user("investor").items() if k != "role"}},
    ),
    ("POST", "/auth/token"): lambda ids: ("POST", "/auth/token", {"data": {"username": "bella", "password": PASSWORD}}),
    ("POST", "/auth/refresh"): lambda ids: ("POST", "/auth/refresh", {"json": {"refresh_token": "x" * 43}}),
    ("POST", "/auth/logout"): lambda ids: ("POST", "/auth/logout", {}),
    ("POST", "/auth/verify-email"): lambda ids: ("POST", "/auth/verify-email", {"json": {"token": "y" * 43}}),
    ("GET", "/auth/verify-email"): lambda ids: ("GET", "/auth/verify-email", {"params": {"token": "y" * 43}}),
    ("POST", "/auth/resend-verification"): lambda ids: ("POST", "/auth/resend-verification", {}),
    ("POST", "/auth/password/change"): lambda ids: (
        "POST",
        "/auth/password/change",
        {"json": {"current_password": PASSWORD, "new_password": PASSWORD}},
    ),
    ("POST", "/auth/password/forgot"): lambda ids: (
        "POST",
        "/auth/password/forgot",
        {"json": {"email": "nobody@example.com"}},
    ),
    ("POST", "/auth/password/reset"): lambda ids: (
        "POST",
        "/auth/password/reset",
        {"json": {"token": "z" * 43, "new_password": PASSWORD}},
    ),
    ("GET", "/auth/password/reset"): lambda ids: ("GET", "/auth/password/reset", {"params": {"token": "z" * 43}}),
    ("GET", "/users/me"): lambda ids: ("GET", "/users/me", {}),
    ("PATCH", "/users/me"): lambda ids: ("PATCH", "/users/me", {"json": {"city": "Austin"}}),
    ("GET", "/investors/me/portfolio"): lambda ids: ("GET", "/investors/me/portfolio", {}),
    ("GET", "/investors/me/cash"): lambda ids: ("GET", "/investors/me/cash", {}),
    ("POST", "/loans/{loan_id}/refunds"): lambda ids: ("POST", f"/loans/{ids['active']}/refunds", {"json": {}}),
    ("POST", "/integrations/processor/webhooks"): lambda ids: (
        "POST",
        "/integrations/processor/webhooks",
        {"content": b"{}"},
    ),
    ("POST", "/investors/me/deposits"): lambda ids: ("POST", "/investors/me/deposits", {"json": {"amount": "100.00"}}),
    ("POST", "/investors/me/withdrawals"): lambda ids: (
        "POST",
        "/investors/me/withdrawals",
        {"json": {"amount": "1.00"}},
    ),
    ("POST", "/loans/create"): lambda ids: ("POST", "/loans/create", {"json": _loan_body()}),
    ("POST", "/loans"): lambda ids: ("POST", "/loans", {"json": _loan_body()}),
    ("GET", "/loans/list"): lambda ids: ("GET", "/loans/list", {}),
    ("GET", "/loans"): lambda ids: ("GET", "/loans", {}),
    ("GET", "/loans/{loan_id}"): lambda ids: ("GET", f"/loans/{ids['active']}", {}),
    ("GET", "/loans/{loan_id}/schedule"): lambda ids: ("GET", f"/loans/{ids['active']}/schedule", {}),
    ("GET", "/loans/{loan_id}/payments"): lambda ids: ("GET", f"/loans/{ids['active']}/payments", {}),
    ("POST", "/loans/{loan_id}/investments"): lambda ids: (
        "POST",
        f"/loans/{ids['listed']}/investments",
        {"json": {"amount": "25.00"}},
    ),
    ("POST", "/payments/make"): lambda ids: (
        "POST",
        "/payments/make",
        {"json": {"loan_id": ids["active"], "amount": "1.00"}},
    ),
    ("POST", "/loans/{loan_id}/cancel"): lambda ids: ("POST", f"/loans/{ids['cancellable']}/cancel", {}),
    ("POST", "/admin/loans/expire"): lambda ids: ("POST", "/admin/loans/expire", {}),
    ("GET", "/notifications"): lambda ids: ("GET", "/notifications", {}),
    ("GET", "/admin/ledger/trial-balance"): lambda ids: ("GET", "/admin/ledger/trial-balance", {}),
    ("GET", "/admin/audit-log"): lambda ids: ("GET", "/admin/audit-log", {}),
    ("POST", "/admin/users"): lambda ids: (
        "POST",
        "/admin/users",
        {"json": {**_new_user("analyst"), "role": "analyst"}},
    ),
    ("GET", "/reports/loan-book"): lambda ids: ("GET", "/reports/loan-book", {}),
    ("GET", "/reports/borrowers"): lambda ids: ("GET", "/reports/borrowers", {}),
    # servicing's (api/payments): the same owners as the loan's payments
    ("GET", "/loans/{loan_id}/payoff"): lambda ids: ("GET", f"/loans/{ids['active']}/payoff", {}),
    ("GET", "/loans/{loan_id}/servicing"): lambda ids: ("GET", f"/loans/{ids['active']}/servicing", {}),
    ("GET", "/investors/me/statements/{month}"): lambda ids: ("GET", "/investors/me/statements/2026-11", {}),
    ("GET", "/investors/me/annual-summary/{year}"): lambda ids: ("GET", "/investors/me/annual-summary/2026", {}),
    ("GET", "/loans/rate-card"): lambda ids: ("GET", "/loans/rate-card", {}),
    ("GET", "/loans/{loan_id}/events"): lambda ids: ("GET", f"/loans/{ids['active']}/events", {}),
    ("POST", "/investments/{investment_id}/cancel"): lambda ids: ("POST", "/investments/999999/cancel", {}),
    ("PUT", "/investors/me/auto-invest"): lambda ids: (
        "PUT",
        "/investors/me/auto-invest",
        {"json": {"grades": ["A", "B"], "amount_per_note": "25.00", "max_per_loan": "50.00"}},
    ),
    ("GET", "/investors/me/auto-invest"): lambda ids: ("GET", "/investors/me/auto-invest", {}),
    ("POST", "/investors/me/portfolio-plans"): lambda ids: (
        "POST",
        "/investors/me/portfolio-plans",
        {"json": {"amount": "100.00", "risk_preference": "balanced", "min_loans": 2}},
    ),
    ("GET", "/investors/me/portfolio-plans/{plan_id}"): lambda ids: (
        "GET",
        "/investors/me/portfolio-plans/999999",
        {},
    ),
    ("POST", "/investors/me/portfolio-plans/{plan_id}/place"): lambda ids: (
        "POST",
        "/investors/me/portfolio-plans/999999/place",
        {},
    ),
    ("POST", "/admin/allocations"): lambda ids: ("POST", "/admin/allocations", {}),
    ("GET", "/admin/allocations/{run_id}"): lambda ids: ("GET", "/admin/allocations/999999", {}),
    ("POST", "/notifications/{notification_id}/read"): lambda ids: ("POST", "/notifications/999999/read", {}),
    ("POST", "/webhooks/subscriptions"): lambda ids: (
        "POST",
        "/webhooks/subscriptions",
        {"json": {"url": "http://127.0.0.1:9/hook", "events": ["loan.funded"]}},
    ),
    ("GET", "/webhooks/subscriptions"): lambda ids: ("GET", "/webhooks/subscriptions", {}),
    ("DELETE", "/webhooks/subscriptions/{subscription_id}"): lambda ids: (
        "DELETE",
        "/webhooks/subscriptions/999999",
        {},
    ),
    ("GET", "/health"): lambda ids: ("GET", "/health", {}),
    ("GET", "/ready"): lambda ids: ("GET", "/ready", {}),
    ("GET", "/docs"): lambda ids: ("GET", "/docs", {}),
    ("GET", "/redoc"): lambda ids: ("GET", "/redoc", {}),
    ("GET", "/metrics"): lambda ids: ("GET", "/metrics", {}),
}

# Who may touch the *particular* resource a sample names (bella's active loan, funded by ivan);
# anyone else whose role is allowed gets 404, because the loan's existence is private to them.
OWNERS: dict[tuple[str, str], set[str]] = {
    ("GET", "/loans/{loan_id}"): {"bella", "ivan", "iris", "uma", "ops"},
    ("GET", "/loans/{loan_id}/schedule"): {"bella", "ivan", "ops"},
    ("GET", "/loans/{loan_id}/payments"): {"bella", "ops"},
    ("POST", "/payments/make"): {"bella"},
    ("POST", "/loans/{loan_id}/refunds"): {"bella"},
    ("POST", "/loans/{loan_id}/cancel"): {"bob"},
    ("GET", "/loans/{loan_id}/events"): {"bella", "ivan", "iris", "uma", "ops"},
    ("GET", "/loans/{loan_id}/payoff"): {"bella", "ops"},
    ("GET", "/loans/{loan_id}/servicing"): {"bella", "ops"},
}
# Allowed callers that still get a domain answer which is not about access.
DOMAIN_ANSWERS = {
    ("POST", "/auth/refresh"): {401},  # an unknown refresh token
    ("POST", "/auth/verify-email"): {400},
    ("GET", "/auth/verify-email"): {400},
    ("POST", "/auth/password/reset"): {400},
    ("POST", "/auth/resend-verification"): {409},  # already verified
    ("POST", "/investors/me/withdrawals"): {409},  # no cash
    ("POST", "/loans/{loan_id}/refunds"): {409},  # nothing held for the borrower
    ("POST", "/integrations/processor/webhooks"): {401},  # not signed by the processor
    ("POST", "/loans/{loan_id}/investments"): {409},  # no cash yet for investors who never deposited
    ("POST", "/investments/{investment_id}/cancel"): {404},  # no such commitment
    ("GET", "/investors/me/auto-invest"): {404},  # no rules yet (the PUT runs before it for some actors)
    ("POST", "/investors/me/portfolio-plans"): {409},  # not enough open listings for the plan
    ("GET", "/investors/me/portfolio-plans/{plan_id}"): {404},
    ("POST", "/investors/me/portfolio-plans/{plan_id}/place"): {404},
    ("GET", "/admin/allocations/{run_id}"): {404},
    ("POST", "/notifications/{notification_id}/read"): {404},
    ("DELETE", "/webhooks/subscriptions/{subscription_id}"): {404},
    ("POST", "/webhooks/subscriptions"): {422},
    ("GET", "/investors/me/statements/{month}"): {
        404,
        422,
    },  # servicing's: a month with nothing to state  # private targets are refused unless the setting allows them
}


def _loan_body() -> dict[str, Any]:
    return {"amount": "1000.00", "term_months": 36, "purpose": "matrix", "credit_check_consent": True}


@pytest.fixture
def world(client: TestClient) -> dict[str, Any]:
    for name, role in ROLE.items():
        if role == "borrower":
            register(client, name, ready=name not in UNVERIFIED)
        elif role == "investor":
            register_investor(client, name, ready=name not in UNVERIFIED)
    make_staff(client, "ops", "admin")
    make_staff(client, "ana", "analyst")
    bella, ivan = login(client, "bella"), login(client, "ivan")
    active = create_loan(client, bella, amount="1000.00")["loan_id"]
    deposit(client, ivan, "2000.00")
    assert invest(client, ivan, active, "1000.00").json()["loan_status"] == "funded"
    assert client.get(f"/loans/{active}", headers=ivan).json()["status"] == "current"  # issued after the commit
    made = client.post("/payments/make", json={"loan_id": active, "amount": "5.00"}, headers=bella | key())
    assert made.status_code == 201
    listed = create_loan(client, login(client, "bob"), amount="5000.00")["loan_id"]
    cancellable = create_loan(client, login(client, "bob"), amount="2000.00")["loan_id"]
    return {"ids": {"active": active, "listed": listed, "cancellable": cancellable}}


def _headers(client: TestClient, actor: str, cache: dict[str, dict[str, str]]) -> dict[str, str]:
    if actor == "anonymous":
        return {}
    if actor not in cache:
        cache[actor] = {"Authorization": f"Bearer {tokens(client, actor)['access_token']}"}
    return cache[actor]


def test_every_route_declares_a_permission_and_has_a_sample(client: TestClient) -> None:
    seen = set()
    for method, path, route in api_routes(client):
        permission_of(route)
        assert (method, path) in SAMPLES, f"add {method} {path} to the authorization matrix"
        seen.add((method, path))
    assert seen == set(SAMPLES), f"samples for routes that no longer exist: {set(SAMPLES) - seen}"


def test_authorization_matrix(client: TestClient, world: dict[str, Any]) -> None:
    ids = world["ids"]
    cache: dict[str, dict[str, str]] = {}
    failures = []
    for method, path, route in api_routes(client):
        permission = permission_of(route)
        rule = POLICY[permission]
        if True:
            for actor in ACTORS:
                verb, url, kwargs = SAMPLES[(method, path)](ids)
                headers = dict(_headers(client, actor, cache))
                if verb in ("POST", "PATCH", "PUT"):
                    headers |= key()
                response = client.request(verb, url, headers=headers, **kwargs)
                status = response.status_code
                if (method, path) in {("POST", "/auth/logout"), ("POST", "/auth/password/change")}:
                    cache.pop(actor, None)  # that request ended or rotated the actor's sessions
                expected = _expected(permission, rule.roles, rule.verified, actor, (method, path))
                if not expected(status, response):
                    failures.append(f"{actor:>9} {verb} {url} -> {status} {response.text[:120]}")
    assert not failures, "\n".join(failures)


def _expected(
    permission: Permission, roles: frozenset[str], verified: bool, actor: str, route: tuple[str, str]
) -> Callable[[int, Any], bool]:
    domain = DOMAIN_ANSWERS.get(route, set())
    if permission is Permission.PUBLIC:
        return lambda status, _: status < 500 and status != 403 and (status != 401 or status in domain)
    if actor == "anonymous":
        return lambda status, _: status == 401
    if ROLE[actor] not in roles:
        return lambda status, response: status == 403 and response.json()["code"] == "forbidden"
    if verified and actor in UNVERIFIED:
        return lambda status, response: status == 403 and response.json()["code"] == "email_not_verified"
    owners = OWNERS.get(route)
    if owners is not None and actor not in owners:
        return lambda status, _: status == 404
    return lambda status, _: status < 400 or status in domain


def test_lists_only_show_the_callers_own_things(client: TestClient, world: dict[str, Any]) -> None:
    ids = world["ids"]
    bob = login(client, "bob")
    bobs = {loan["loan_id"] for loan in client.get("/loans/list", headers=bob).json()["items"]}
    assert bobs == {ids["listed"], ids["cancellable"]}
    assert all(n["loan_id"] != ids["active"] for n in client.get("/notifications", headers=bob).json())
    iris = login(client, "iris")
    assert client.get("/investors/me/portfolio", headers=iris).json()["notes"] == []
    ivan_notes = client.get("/investors/me/portfolio", headers=login(client, "ivan")).json()["notes"]
    assert [n["loan_id"] for n in ivan_notes] == [ids["active"]]
