"""Demo data: months of platform history, played through the HTTP API in-process.

    uv run python -m api.demo            # seeds the database named by PEERLEND_DATABASE_URL

Deterministic (fixed seed). Every user's password is DEMO_PASSWORD. The clock is moved month by
month so the warehouse and dashboards have a history to show."""

from __future__ import annotations

import argparse
import random
import sys
import uuid
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

from fastapi.testclient import TestClient

from api.identity import service as users_service
from api.identity.audit import ClientInfo
from api.integrations.email.mailer import read_mailbox, token_from
from api.integrations.processor import jobs as processor_jobs
from api.kit.clock import frozen_at
from api.main import create_app
from api.settings import Settings, get_settings

DEMO_PASSWORD = "peerlend-demo-2026"
DEMO_DOMAIN = "demo.peerlend.com"
SURNAMES = ["Rivera", "Okafor", "Nguyen", "Schmidt", "Haddad", "Kowalski", "Tanaka", "Moreau"]
STREETS = ["Oak Street", "Maple Avenue", "Elm Road", "Harbor Lane", "Cedar Court"]
RISK_PREFERENCES = ["conservative", "balanced", "aggressive"]
BORROWERS = ["bella", "boris", "bianca", "bruno", "beatrix", "basil", "brenda", "bert"]
INVESTORS = ["ivan", "iris", "igor", "ines", "isaac"]
PURPOSES = ["debt consolidation", "home improvement", "car", "medical", "small business", "wedding", "moving"]
# Two investors automate: ivan buys the safer grades in small notes, iris anything up to D with a target mix.
AUTO_INVEST = {
    "ivan": {"grades": ["A", "B", "C"], "amount_per_note": "25.00", "max_per_loan": "100.00", "cash_to_keep": "200.00"},
    "iris": {
        "grades": ["A", "B", "C", "D"],
        "amount_per_note": "50.00",
        "max_per_loan": "150.00",
        "target_mix": {"A": "25.00", "B": "35.00", "C": "25.00", "D": "15.00"},
    },
}
MONTHS_OF_HISTORY = 9


class Demo:
    def __init__(self, client: TestClient, rng: random.Random) -> None:
        self.client = client
        self.rng = rng
        self.tokens: dict[str, dict[str, str]] = {}
        self.investors = INVESTORS

    def call(self, method: str, path: str, who: str | None = None, money: bool = False, **kwargs: Any) -> Any:
        headers = dict(self.tokens[who]) if who else {}
        if money:
            headers["Idempotency-Key"] = uuid.uuid4().hex
        response = self.client.request(method, path, headers=headers, **kwargs)
        if response.status_code >= 400:
            raise RuntimeError(f"{method} {path} as {who}: {response.status_code} {response.text}")
        return response.json()

    def verify(self, mailbox: Path, username: str) -> None:
        """Open the verification email in the local mailbox and follow its link, as a user would."""
        message = read_mailbox(mailbox, f"{username}@{DEMO_DOMAIN}")[-1]
        self.call("POST", "/auth/verify-email", json={"token": token_from(message)})

    def login(self, username: str) -> None:
        data = {"username": username, "password": DEMO_PASSWORD}
        token = self.call("POST", "/auth/token", data=data)["access_token"]
        self.tokens[username] = {"Authorization": f"Bearer {token}"}


def seed(
    database_url: str | None = None,
    quiet: bool = False,
    months: int = MONTHS_OF_HISTORY,
    mailbox_dir: Path | None = None,
) -> dict[str, int]:
    settings = get_settings()
    overrides: dict[str, Any] = {
        # one client registers and logs in a whole cast; the public limits are for strangers
        "rate_limit_register": "10000/minute",
        "rate_limit_login": "10000/minute",
        "rate_limit_token": "10000/minute",
    }
    if database_url:
        overrides["database_url"] = database_url
    if mailbox_dir:
        overrides["mailbox_dir"] = mailbox_dir
    settings = settings.model_copy(update=overrides)
    app = create_app(settings)
    rng = random.Random(20261125)
    # The last seeded moment must lie in the past: anything stamped after the real now would sit above the
    # warehouse's update watermark and hide the first real changes a user makes after the seed.
    start = datetime.now(UTC).replace(second=0, microsecond=0) - timedelta(days=30 * months, hours=1)
    say = (lambda *_: None) if quiet else (lambda *a: print(*a, file=sys.stderr, flush=True))
    counts = {"loans": 0, "investments": 0, "payments": 0, "cancelled": 0, "auto_invested": 0, "plan_notes": 0}
    with TestClient(app) as client, frozen_at(start):
        demo = Demo(client, rng)
        for name in BORROWERS:
            demo.call("POST", "/users/register", json=_user(name, "borrower"))
            demo.login(name)
            demo.verify(settings.mailbox_dir, name)
            demo.call("PATCH", "/users/me", name, json=_borrower_profile(name, rng))
        for name in INVESTORS:
            demo.call("POST", "/investors/register", json=_user(name, None))
            demo.login(name)
            demo.verify(settings.mailbox_dir, name)
            demo.call("PATCH", "/users/me", name, json={"risk_preference": rng.choice(RISK_PREFERENCES)})
        _create_admin(app, settings)
        demo.login("admin")
        for name, rules in AUTO_INVEST.items():
            demo.call("PUT", "/investors/me/auto-invest", name, json=rules)
        say(f"registered {len(BORROWERS)} borrowers, {len(INVESTORS)} investors and admin 'admin'")

    active: list[tuple[str, int]] = []
    for month in range(months + 1):
        day = start + timedelta(days=30 * month)
        with TestClient(app) as client, frozen_at(day):
            demo.client = client
            for name in [*BORROWERS, *INVESTORS, "admin"]:  # sessions last weeks, not the months replayed here
                demo.login(name)
            for name in INVESTORS:
                amount = Decimal(rng.randrange(20, 80) * 100)
                demo.call("POST", "/investors/me/deposits", name, money=True, json={"amount": f"{amount:.2f}"})
            # The sandbox processor settles every pending transfer (its "simulate processing"): the deposits,
            # and last month's payments and disbursements. The last month's stay pending, as they would be.
            processor_jobs.settle_everything(app.state.database, app.state.processor, settings)
            for borrower, loan_id in list(active):
                # What servicing says is owed now: the next installment with any arrears, plus late fees.
                servicing = demo.call("GET", f"/loans/{loan_id}/servicing", borrower)
                owed = Decimal(servicing["next_due"]) + Decimal(servicing["fees"])
                if owed <= 0 or rng.random() < 0.08:  # now and then a borrower skips a month
                    continue
                paid = demo.call(
                    "POST", "/payments/make", borrower, money=True, json={"loan_id": loan_id, "amount": f"{owed:.2f}"}
                )
                counts["payments"] += 1
                if paid["loan_status"] == "repaid":
                    active.remove((borrower, loan_id))
            new_loans = []
            for borrower in rng.sample(BORROWERS, k=rng.randint(2, 3)):
                loan = _apply(demo, borrower)
                counts["loans"] += 1
                new_loans.append((borrower, loan))
            # auto-invest takes its notes first (the worker does this on its schedule; the demo runs it now)
            run = demo.call("POST", "/admin/allocations", "admin")
            counts["auto_invested"] += run["notes"]
            last_month = month == months
            if last_month:
                _place_a_plan(demo, counts)
            for borrower, loan in new_loans:
                counts["investments"] += _fund(demo, loan, partial=last_month)
                if not last_month:
                    active.append((borrower, loan["loan_id"]))
            if last_month and new_loans:
                # one borrower changes their mind: the listing is cancelled and its notes refunded
                borrower, loan = new_loans[0]
                demo.call("POST", f"/loans/{loan['loan_id']}/cancel", borrower, money=True)
                counts["cancelled"] = 1
        say(f"month {month + 1}/{months + 1} ({day:%Y-%m}): {len(active)} active loans")
    say(f"seeded {counts['loans']} loans, {counts['investments']} investments, {counts['payments']} payments")
    app.state.database.dispose()
    return counts


def _apply(demo: Demo, borrower: str) -> dict[str, Any]:
    """A loan application with consent to the credit check, priced at the grade's rate from the rate card (no
    `interest_rate`: one below the grade's floor would be refused); a term whose APR with the origination fee
    would pass the cap gets a longer one."""
    body: dict[str, Any] = {
        "amount": f"{demo.rng.randrange(40, 480) * 25}.00",
        "term_months": demo.rng.choice([12, 24, 36, 36, 60]),
        "purpose": demo.rng.choice(PURPOSES),
        "credit_check_consent": True,
    }
    for term in (body["term_months"], 36, 60):
        body["term_months"] = term
        response = demo.client.post("/loans/create", json=body, headers=demo.tokens[borrower])
        if response.status_code == 201:
            loan: dict[str, Any] = response.json()
            break
        if response.status_code != 422:
            raise RuntimeError(f"POST /loans/create as {borrower}: {response.status_code} {response.text}")
    else:
        raise RuntimeError(f"no term prices {borrower}'s loan under the APR cap: {response.text}")
    return loan


def _place_a_plan(demo: Demo, counts: dict[str, int]) -> None:
    """igor builds a diversified portfolio in one request: propose, then place it (all notes or none)."""
    plan = demo.client.post(
        "/investors/me/portfolio-plans",
        json={"amount": "500.00", "risk_preference": "balanced", "min_loans": 4},
        headers=demo.tokens["igor"],
    )
    if plan.status_code != 201:  # too few open listings this month: the demo goes on without a plan
        return
    placed = demo.call("POST", f"/investors/me/portfolio-plans/{plan.json()['plan_id']}/place", "igor", money=True)
    counts["plan_notes"] = len(placed["notes"])


def _user(name: str, role: str | None) -> dict[str, str]:
    body = {"username": name, "email": f"{name}@{DEMO_DOMAIN}", "password": DEMO_PASSWORD}
    if role:
        body["role"] = role
    return body


def _create_admin(app: Any, settings: Settings) -> None:
    with app.state.database.transaction() as session:
        admin, _, _ = users_service.register_user(
            session,
            settings,
            username="admin",
            email=f"admin@{DEMO_DOMAIN}",
            password=DEMO_PASSWORD,
            role="admin",
            client=ClientInfo(ip=None, user_agent="api.demo"),
        )
        admin.email_verified_at = admin.created_at


def _borrower_profile(name: str, rng: random.Random) -> dict[str, Any]:
    return {
        "legal_name": f"{name.capitalize()} {rng.choice(SURNAMES)}",
        "date_of_birth": f"{rng.randint(1958, 2002)}-{rng.randint(1, 12):02d}-{rng.randint(1, 28):02d}",
        "address_line1": f"{rng.randint(1, 999)} {rng.choice(STREETS)}",
        "city": rng.choice(["Austin", "Denver", "Portland", "Columbus", "Raleigh"]),
        "postal_code": f"{rng.randint(10000, 99999)}",
        "country": "US",
        "phone": f"+1555{rng.randint(1000000, 9999999)}",
        "annual_income": f"{rng.randrange(28, 160) * 1000}.00",
        "employment_status": rng.choice(["employed", "employed", "self_employed"]),
        "employment_length_years": rng.randint(0, 20),
        "housing": rng.choice(["rent", "own", "mortgage"]),
    }


def _fund(demo: Demo, loan: dict[str, Any], partial: bool) -> int:
    """Investors buy notes in 25.00 steps until the loan is full (or, for the newest listings,
    about half full, so the demo keeps open listings)."""
    now = demo.call("GET", f"/loans/{loan['loan_id']}", demo.investors[0])  # after auto-invest's notes
    amount, funded = Decimal(now["amount"]), Decimal(now["funded_amount"])
    target = amount - funded if not partial else max(Decimal(0), (amount / 2 // 25) * 25 - funded)
    invested = Decimal(0)
    count = 0
    investors = demo.rng.sample(INVESTORS, k=len(INVESTORS))
    for i, name in enumerate(investors):
        left = target - invested
        if left <= 0:
            break
        share = left if i == len(investors) - 1 else min(left, Decimal(demo.rng.randrange(4, 100) * 25))
        portfolio = demo.call("GET", "/investors/me/portfolio", name)
        share = min(share, (Decimal(portfolio["cash"]) // 25) * 25)
        if share <= 0:
            continue
        demo.call("POST", f"/loans/{loan['loan_id']}/investments", name, money=True, json={"amount": f"{share:.2f}"})
        invested += share
        count += 1
    if invested < target:
        # top up whoever has cash left so every historical loan funds
        for name in investors:
            left = target - invested
            if left <= 0:
                break
            cash = Decimal(demo.call("GET", "/investors/me/portfolio", name)["cash"])
            share = min(left, (cash // 25) * 25)
            if share > 0:
                demo.call(
                    "POST", f"/loans/{loan['loan_id']}/investments", name, money=True, json={"amount": f"{share:.2f}"}
                )
                invested += share
                count += 1
    return count


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--database-url", help="defaults to PEERLEND_DATABASE_URL")
    args = parser.parse_args()
    seed(args.database_url)


if __name__ == "__main__":
    main()
