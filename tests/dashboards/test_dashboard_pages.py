"""Every page through streamlit.testing.v1.AppTest (in process, no browser), signed in through the app's own form
against the real API (in process, on a copy of the demo database) and the warehouse the pipeline built from it.

Figures are compared with what the API answers the same person directly, and with the marts."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from api.demo import DEMO_PASSWORD
from dashboards import statuses
from dashboards.formatting import money
from tests.dashboards.conftest import APP, LiveApi, metrics, open_page, rendered, sign_in, tables
from tests.dashboards.platform_build import DEMO_PASSWORD as BUILD_PASSWORD

BORROWER_PAGES = ["app_pages/borrower_apply.py", "app_pages/borrower_pay.py"]
INVESTOR_PAGES = [
    "app_pages/investor_browse.py",
    "app_pages/investor_notes.py",
    "app_pages/investor_cash.py",
    "app_pages/investor_automation.py",
]
PLATFORM_PAGES = ["app_pages/platform_credit.py", "app_pages/platform_models.py", "app_pages/platform_ledger.py"]
ACCOUNT_PAGES = ["app_pages/notifications.py", "app_pages/account.py"]


def test_the_demo_password_is_the_apis() -> None:
    assert BUILD_PASSWORD == DEMO_PASSWORD


def test_signed_out_the_app_offers_only_sign_in_and_registration(use_platform_warehouse: object) -> None:
    at = AppTest.from_file(APP, default_timeout=60).run()
    assert not at.exception
    assert at.title[0].value == "Sign in to Peerlend"
    assert not at.metric and not at.dataframe  # nothing of anybody's data before signing in


def test_a_wrong_password_shows_the_apis_message(live_api: LiveApi) -> None:
    at = AppTest.from_file(APP, default_timeout=60).run()
    at.text_input(key="sign_in_username").input("ivan")
    at.text_input(key="sign_in_password").input("not the password at all")
    next(b for b in at.button if b.label == "Sign in").click().run()
    assert not at.exception
    assert [e.value for e in at.error] == ["Incorrect username or password"] or at.error, "no error shown"
    assert "Traceback" not in rendered(at)
    assert at.title[0].value == "Sign in to Peerlend"


def test_borrower_pages_show_the_borrowers_own_loans(live_api: LiveApi) -> None:
    at = sign_in("bella")
    assert at.title[0].value == "My loans"
    loans = live_api.call("GET", "/loans/list", "bella", params={"limit": 100})["items"]
    assert loans, "bella has loans in the demo"
    balance = Decimal(0)
    for loan in loans:
        # loans being repaid, and repaid ones (charged-off loans are the collections team's, not in the balance)
        if statuses.in_repayment(loan["status"]) or loan["status"] == "repaid":
            schedule = live_api.call("GET", f"/loans/{loan['loan_id']}/schedule", "bella")
            balance += Decimal(schedule["outstanding_principal"])
    assert metrics(at)["Total balance"] == money(balance)
    assert metrics(at)["Loans"] == str(len(loans))
    assert sorted(tables(at)[0]["Loan"]) == sorted(f"#{loan['loan_id']}" for loan in loans)
    for page in [*BORROWER_PAGES, *ACCOUNT_PAGES]:
        open_page(at, page)
        assert "Traceback" not in rendered(at)


def test_investor_pages_agree_with_the_api(live_api: LiveApi, needs_warehouse: Path) -> None:
    at = sign_in("ivan")
    assert at.title[0].value == "Portfolio"
    portfolio = live_api.call("GET", "/investors/me/portfolio", "ivan")
    shown = metrics(at)
    assert shown["Cash"] == money(portfolio["cash"])
    assert shown["Account value"] == money(portfolio["portfolio_value"])
    assert shown["Outstanding principal"] == money(portfolio["outstanding_principal"])
    invested = sum(
        (
            Decimal(n["amount"])
            for n in portfolio["notes"]
            if n["loan_status"] not in ("listed", "funded", "expired", "cancelled", "requested")
        ),
        Decimal(0),
    )
    assert shown["Invested in issued loans"] == money(invested)  # not committed money, not refunded notes
    at = open_page(at, "app_pages/investor_notes.py")
    notes = tables(at)[0]
    assert sorted(notes["Note"]) == sorted(f"#{n['investment_id']}" for n in portfolio["notes"])
    for page in [*INVESTOR_PAGES, *ACCOUNT_PAGES]:
        open_page(at, page)
        assert "Traceback" not in rendered(at)


def test_platform_pages_for_staff(live_api: LiveApi, needs_warehouse: Path) -> None:
    at = sign_in("admin")
    assert at.title[0].value == "Platform overview"
    assert "Originations" in metrics(at)
    for page in PLATFORM_PAGES:
        open_page(at, page)
        assert "Traceback" not in rendered(at)
        if page.endswith("platform_models.py"):
            # the demo's applications were scored through the API, so their inputs reached the warehouse as bins
            text = rendered(at)
            assert "Drift of every model input" in text
            assert "annual_income_cents" in text or "Too few applications scored by the published model" in text
    assert any("Reconciled" in s.value for s in at.success), [e.value for e in at.error]


@pytest.mark.parametrize("page", ["app_pages/investor_portfolio.py", "app_pages/platform_overview.py"])
def test_a_borrower_cannot_open_other_audiences_pages(live_api: LiveApi, page: str) -> None:
    at = sign_in("boris")
    # the page is not in a borrower's navigation at all: there is nothing to switch to
    with pytest.raises(ValueError, match="Could not find a navigation page"):
        at.switch_page(page)
    assert at.title[0].value == "My loans"


def test_one_investor_never_sees_anothers_notes(live_api: LiveApi, needs_warehouse: Path) -> None:
    """ivan signs in; iris's investor and user ids are tried as URL parameters and every investor page is
    rendered. No note id of iris's (that ivan does not also hold) appears anywhere, in a widget, a table or a
    chart's data, and the figures stay ivan's even after iris's own session filled the caches."""
    iris = live_api.call("GET", "/investors/me/portfolio", "iris")
    ivan = live_api.call("GET", "/investors/me/portfolio", "ivan")
    theirs = {f"#{n['investment_id']}" for n in iris["notes"]}
    assert theirs

    # iris first, so every cached query holds her rows when ivan comes
    at_iris = sign_in("iris")
    for page in INVESTOR_PAGES:
        open_page(at_iris, page)

    query = {"investor_id": str(iris["investor_id"]), "user_id": str(iris["investor_id"]), "username": "iris"}
    at = sign_in("ivan", query=query)
    assert metrics(at)["Cash"] == money(ivan["cash"])
    for page in ["app_pages/investor_portfolio.py", *INVESTOR_PAGES]:
        open_page(at, page)
        text = rendered(at)
        assert "iris" not in text
        for df in tables(at):
            if "Note" in df.columns:
                assert not set(df["Note"]) & theirs, page
    at = open_page(at, "app_pages/investor_notes.py")
    assert sorted(tables(at)[0]["Note"]) == sorted(f"#{n['investment_id']}" for n in ivan["notes"])


def test_a_payment_sent_twice_with_the_same_key_pays_once(live_api: LiveApi) -> None:
    from dashboards.api_client import ApiClient

    client = ApiClient(http=live_api.client)
    client.login("bella", DEMO_PASSWORD)
    loan = next(loan for loan in client.all_loans() if statuses.in_repayment(loan["status"]))
    schedule = client.schedule(loan["loan_id"])
    due = next(i for i in schedule["installments"] if i["status"] != "paid")
    first = client.pay(loan["loan_id"], due["payment"], "double-click-key")
    second = client.pay(loan["loan_id"], due["payment"], "double-click-key")
    assert second["payment_id"] == first["payment_id"]
    assert len([p for p in client.payments(loan["loan_id"]) if p["payment_id"] == first["payment_id"]]) == 1


def test_an_investor_cancels_a_commitment_from_the_portfolio(live_api: LiveApi) -> None:
    listed = live_api.call("GET", "/loans/list", "ivan", params={"status": "listed", "limit": 50})
    loan = next(loan for loan in listed["items"] if Decimal(loan["amount"]) - Decimal(loan["funded_amount"]) >= 50)
    note = live_api.call(
        "POST",
        f"/loans/{loan['loan_id']}/investments",
        "ivan",
        json={"amount": "25.00"},
        headers={"Idempotency-Key": "commit-then-cancel"},
    )
    before = live_api.call("GET", "/investors/me/portfolio", "ivan")

    at = sign_in("ivan")
    button = at.button(key=f"cancel_commitment_{note['investment_id']}")
    assert button.label == "Cancel commitment"
    button.click().run()
    assert not at.exception, [e.value for e in at.exception]

    after = live_api.call("GET", "/investors/me/portfolio", "ivan")
    assert Decimal(after["cash"]) == Decimal(before["cash"]) + 25
    assert Decimal(after["committed"]) == Decimal(before["committed"]) - 25
    assert all(n["status"] == "cancelled" for n in after["notes"] if n["investment_id"] == note["investment_id"])
    # the page no longer offers to cancel it: it shows the receipt, then nothing once the session forgets
    assert f"cancel_commitment_{note['investment_id']}" not in {b.key for b in at.button}
