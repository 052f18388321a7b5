"""Fixtures for the pipeline tests: a small, consistent transactional database built through the API
itself (FastAPI's TestClient, the clock frozen day by day, like tests/api/helpers.py and api.demo), so every
row, schedule, split and posting comes from the API's own domain code; and the env that points the
settings, the warehouse and Dagster at tmp paths.

Expected figures in the tests are computed with the same domain functions (api.payments.schedule.amortize,
api.payments.split.split_pro_rata), never with hand-written money maths."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from fastapi.testclient import TestClient

from api.integrations.email.mailer import read_mailbox, token_from
from api.kit.clock import frozen_at
from api.main import create_app
from api.payments.schedule import PlannedInstallment, amortize
from api.payments.split import split_pro_rata
from api.settings import PROJECT_ROOT, Settings, get_settings

PASSWORD = "correct-horse-battery-staple"
LOAN_AMOUNT = "5000.00"  # the design's story: $5,000 at 6 % over 36 months
LOAN_AMOUNT_CENTS = 500_000
LOAN_RATE_BPS = 600
LOAN_TERM = 36
NOTES = (("ivan", "3000.00", 300_000), ("iris", "2000.00", 200_000))  # 60 / 40

# Personal data of the story's people: in the source only. The pipeline tests scan the whole warehouse
# for every one of these values.
BORROWER_PROFILE: dict[str, Any] = {
    "legal_name": "Isabella Quintavalle",
    "date_of_birth": date(1991, 7, 15),
    "address_line1": "17 Via Nascosta",
    "address_line2": "Apt 4B",
    "city": "Springfield",
    "region": "Oregon",
    "postal_code": "97477",
    "country": "US",
    "phone": "+15415550199",
    "annual_income": "65000.00",  # 50k-75k
    "employment_status": "employed",
    "employer": "Hushhush Widgets LLC",
    "employment_length_years": 6,
    "housing": "rent",
}
INVESTOR_PROFILE: dict[str, Any] = {
    "legal_name": "Ivan Leapdayson",
    "date_of_birth": date(1960, 2, 29),
    "address_line1": "1 Quiet Lane",
    "city": "Portland",
    "postal_code": "97201",
    "country": "US",
    "phone": "+15035550111",
    "annual_income": "200000.00",  # 150k+
    "employment_status": "retired",
    "employer": "Formerly Secretive Corp",
    "risk_preference": "balanced",
}
SECOND_MONTH_INCOME = "80000.00"  # the borrower's raise in the second month: 75k-100k


def at(*args: int) -> datetime:
    """A UTC timestamp (the API's timestamps are timezone-aware UTC)."""
    return datetime(*args, tzinfo=UTC)


def create_schema(url: str) -> None:
    """The schema as the Alembic migrations build it (the source of truth)."""
    from alembic import command
    from alembic.config import Config

    config = Config(str(PROJECT_ROOT / "alembic.ini"))
    config.set_main_option("script_location", str(PROJECT_ROOT / "migrations"))
    config.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    command.upgrade(config, "head")


def _json(profile: dict[str, Any]) -> dict[str, Any]:
    return {k: v.isoformat() if isinstance(v, date) else v for k, v in profile.items()}


@dataclass
class Story:
    """The source database, the API that writes it, and the ids the tests refer to."""

    url: str
    mailbox: Path
    borrower_id: int = 0
    profileless_borrower_id: int = 0
    loan_id: int = 0
    listed_loan_id: int = 0
    investor_ids: tuple[int, int] = (0, 0)
    investment_ids: tuple[int, int] = (0, 0)
    disbursed_on: date = date(2026, 3, 3)
    profiles: dict[int, dict[str, Any]] = field(default_factory=dict)  # user_id -> personal profile
    _tokens: dict[str, str] = field(default_factory=dict, repr=False)

    def engine(self) -> sa.Engine:
        return sa.create_engine(self.url)

    def schedule(self) -> list[PlannedInstallment]:
        """The funded loan's schedule, by the API's own amortization."""
        return amortize(LOAN_AMOUNT_CENTS, LOAN_RATE_BPS, LOAN_TERM, self.disbursed_on)

    def note_shares(self, number: int) -> list[tuple[int, int]]:
        """(principal, interest) each note (ivan, iris) receives from installment `number`, by the API's split."""
        inst = self.schedule()[number - 1]
        weights = [cents for _, _, cents in NOTES]
        return list(
            zip(
                split_pro_rata(inst.principal_cents, weights),
                split_pro_rata(inst.interest_cents, weights),
                strict=True,
            )
        )

    # ---- the API, as its users call it
    def settings(self) -> Settings:
        return Settings(
            env="test",
            database_url=self.url,
            mailbox_dir=self.mailbox,
            rate_limit_login="100000/minute",
            rate_limit_register="100000/minute",
            rate_limit_token="100000/minute",
            login_max_failures=1000,
        )

    def call(self, client: TestClient, method: str, path: str, who: str | None = None, **kwargs: Any) -> Any:
        headers = {"Authorization": f"Bearer {self._tokens[who]}"} if who else {}
        if method != "GET":
            headers["Idempotency-Key"] = uuid.uuid4().hex
        response = client.request(method, path, headers=headers, **kwargs)
        assert response.status_code < 400, f"{method} {path}: {response.status_code} {response.text}"
        return response.json()

    def login(self, client: TestClient, username: str) -> None:
        data = {"username": username, "password": PASSWORD}
        self._tokens[username] = self.call(client, "POST", "/auth/token", data=data)["access_token"]

    def register(self, client: TestClient, username: str, role: str) -> dict[str, Any]:
        body = {"username": username, "email": f"{username}@example.com", "password": PASSWORD}
        if role == "investor":
            user = self.call(client, "POST", "/investors/register", json=body)
        else:
            user = self.call(client, "POST", "/users/register", json=body | {"role": role})
        message = read_mailbox(self.mailbox, f"{username}@example.com")[-1]
        self.call(client, "POST", "/auth/verify-email", json={"token": token_from(message)})
        self.login(client, username)
        return user

    @contextmanager
    def on(self, moment: datetime) -> Iterator[TestClient]:
        app = create_app(self.settings())
        try:
            with frozen_at(moment), TestClient(app) as client:
                for name in list(self._tokens):  # sessions last minutes, the story months
                    self.login(client, name)
                yield client
        finally:
            app.state.database.dispose()

    def move_money(self, moment: datetime, *, settle_all_now: bool = False, returning: str | None = None) -> None:
        """The worker's processor job at `moment`: queued transfers submitted, what is due settled (two
        business days after submission in the sandbox), its webhooks delivered. `settle_all_now` is the
        sandbox's "simulate processing" (everything pending settles); `returning` is a transfer's reference
        the processor returns R01 at `moment`."""
        from api.integrations.processor import jobs

        app = create_app(self.settings())
        try:
            with frozen_at(moment), TestClient(app):
                state = app.state
                jobs.run(state.database, state.processor, state.settings, settle_all_now=settle_all_now)
                if returning:
                    state.processor.force_return(returning, "R01", on=moment.date())
                    jobs.run(state.database, state.processor, state.settings)
        finally:
            app.state.database.dispose()

    def create_loan(self, client: TestClient, body: dict[str, Any]) -> Any:
        """POST /loans/create as the borrower, with whatever consents the API's loan form asks for."""
        fields = client.app.openapi()["components"]["schemas"]["LoanCreate"]["properties"]  # type: ignore[attr-defined]
        consent = {"credit_check_consent": True} if "credit_check_consent" in fields else {}
        return self.call(client, "POST", "/loans/create", "bella", json=body | consent)

    def pay_next(self, moment: datetime) -> dict[str, Any]:
        """The borrower pays the funded loan's next installment in full."""
        with self.on(moment) as client:
            schedule = self.call(client, "GET", f"/loans/{self.loan_id}/schedule", "bella")
            due = next(i for i in schedule["installments"] if i["status"] != "paid")
            return self.call(
                client, "POST", "/payments/make", "bella", json={"loan_id": self.loan_id, "amount": due["payment"]}
            )


def build_story(url: str, root: Path) -> Story:
    """A borrower with a full profile (name, birthday, address, phone, employer), a second borrower
    without one, two investors who deposit (one with a profile), a $5,000 loan at 6 % over 36 months
    fully funded by them (60/40) and so issued on 2026-03-03 with its schedule, and the first installment
    repaid and distributed on 2026-04-03. A second loan is listed and partly funded (a commitment)."""
    create_schema(url)
    story = Story(url=url, mailbox=root / "mailbox")
    with story.on(at(2026, 3, 1, 9)) as client:
        bella = story.register(client, "bella", "borrower")
        story.call(client, "PATCH", "/users/me", "bella", json=_json(BORROWER_PROFILE))
        # a second borrower who never fills in a profile (and has no loans)
        bo = story.register(client, "bob", "borrower")
        ivan = story.register(client, "ivan", "investor")
        iris = story.register(client, "iris", "investor")
        story.call(client, "PATCH", "/users/me", "ivan", json=_json(INVESTOR_PROFILE))
    with story.on(at(2026, 3, 1, 10)) as client:
        story.call(client, "POST", "/investors/me/deposits", "ivan", json={"amount": "4000.00"})
    with story.on(at(2026, 3, 1, 11)) as client:
        story.call(client, "POST", "/investors/me/deposits", "iris", json={"amount": "3000.00"})
    story.move_money(at(2026, 3, 1, 12))  # submitted on Sunday: settled two business days later
    story.move_money(at(2026, 3, 3, 9))
    with story.on(at(2026, 3, 2, 9)) as client:
        loan = story.create_loan(
            client,
            {
                "amount": LOAN_AMOUNT,
                "interest_rate": "6.00",
                "term_months": LOAN_TERM,
                "purpose": "debt consolidation",
            },
        )
    investments = []
    for (name, amount, _), hour in zip(NOTES, (10, 14), strict=True):
        with story.on(at(2026, 3, 3, hour)) as client:
            note = story.call(client, "POST", f"/loans/{loan['loan_id']}/investments", name, json={"amount": amount})
            investments.append(note["investment_id"])
    with story.on(at(2026, 3, 5, 9)) as client:
        listed = story.create_loan(
            client, {"amount": "2000.00", "interest_rate": "12.50", "term_months": 24, "purpose": "car"}
        )
    with story.on(at(2026, 3, 6, 9)) as client:
        story.call(client, "POST", f"/loans/{listed['loan_id']}/investments", "iris", json={"amount": "500.00"})
        portfolio = story.call(client, "GET", "/investors/me/portfolio", "iris")
    with story.on(at(2026, 3, 6, 9)) as client:
        ivan_portfolio = story.call(client, "GET", "/investors/me/portfolio", "ivan")

    story.borrower_id = bella["user_id"]
    story.profileless_borrower_id = bo["user_id"]
    story.loan_id = loan["loan_id"]
    story.listed_loan_id = listed["loan_id"]
    story.investor_ids = (ivan_portfolio["investor_id"], portfolio["investor_id"])
    story.investment_ids = (investments[0], investments[1])
    story.profiles = {bella["user_id"]: BORROWER_PROFILE, ivan["user_id"]: INVESTOR_PROFILE}
    assert iris["user_id"] != ivan["user_id"]
    story.move_money(at(2026, 3, 6, 12))  # the disbursement is submitted, and settles on the 10th
    story.pay_next(at(2026, 4, 3, 8))
    # the disbursement settles, and the debit too (the sandbox's "simulate processing": it would take to the 7th)
    story.move_money(at(2026, 4, 3, 12), settle_all_now=True)
    return story


def add_second_month_to(story: Story) -> None:
    """More activity for the incremental run: installment 2 repaid and distributed, one more deposit,
    and the borrower reports a higher income."""
    story.pay_next(at(2026, 5, 3, 8))
    with story.on(at(2026, 5, 5, 9)) as client:
        story.call(client, "PATCH", "/users/me", "bella", json={"annual_income": SECOND_MONTH_INCOME})
    with story.on(at(2026, 5, 5, 10)) as client:
        story.call(client, "POST", "/investors/me/deposits", "ivan", json={"amount": "100.00"})
    story.move_money(at(2026, 5, 5, 12), settle_all_now=True)


@pytest.fixture(scope="module")
def pipeline_env(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Path, Story]]:
    """Env pointing the settings, the warehouse and Dagster at a tmp dir holding the story's database."""
    root = tmp_path_factory.mktemp("pipeline")
    dagster_home = root / "dagster_home"
    dagster_home.mkdir()
    (dagster_home / "dagster.yaml").write_text("telemetry:\n  enabled: false\n")
    url = f"sqlite:///{root / 'peerlend.db'}"
    story = build_story(url, root)
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("PEERLEND_DATABASE_URL", url)
        mp.setenv("PEERLEND_WAREHOUSE_PATH", str(root / "warehouse.duckdb"))
        mp.delenv("PEERLEND_WAREHOUSE_WORK_PATH", raising=False)
        mp.setenv("DAGSTER_HOME", str(dagster_home))
        mp.setenv("DBT_SEND_ANONYMOUS_USAGE_STATS", "false")
        get_settings.cache_clear()
        yield root, story
    get_settings.cache_clear()


@pytest.fixture
def add_second_month() -> Callable[[Story], None]:
    """Insert the second month's activity into the story's source database."""
    return add_second_month_to


@pytest.fixture
def story_builder() -> Callable[[str, Path], Story]:
    """Build the story's database at a SQLAlchemy URL (schema by the migrations)."""
    return build_story
