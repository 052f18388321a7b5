"""The real app: `streamlit run dashboards/app.py` on a free port, driven in headless Chromium.

Each page is checked only after its own content has rendered (a KPI value and a drawn chart), since the
first paint of a Streamlit page is a skeleton filled over a websocket. Screenshots go to a tmp dir whose
path the test prints (see it with `pytest -s` or in the report of a failure).
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

CHROMIUM = Path("/usr/bin/chromium")
ROOT = Path(__file__).resolve().parents[2]
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"]
TIMEOUT_MS = 30_000

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(
        not CHROMIUM.exists(), reason="needs Debian's chromium: apt-get install -y chromium chromium-driver"
    ),
]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def app_url(warehouse_file: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    port = _free_port()
    log = tmp_path_factory.mktemp("streamlit") / "server.log"
    env = {**os.environ, "PEERLEND_WAREHOUSE_PATH": str(warehouse_file)}
    cmd = [
        sys.executable,
        "-m",
        "streamlit",
        "run",
        "dashboards/app.py",
        "--server.headless",
        "true",
        "--browser.gatherUsageStats",
        "false",
        "--server.address",
        "127.0.0.1",
        "--server.port",
        str(port),
        "--server.fileWatcherType",
        "none",
        "--server.runOnSave",
        "false",
    ]
    with log.open("w") as out:
        server = subprocess.Popen(cmd, cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                with urllib.request.urlopen(f"{url}/_stcore/health", timeout=1) as r:
                    if r.status == 200:
                        break
            except OSError:
                pass
            if server.poll() is not None or time.monotonic() > deadline:
                pytest.fail(f"streamlit did not start (exit {server.poll()}):\n{log.read_text()}")
            time.sleep(0.2)
        yield url
    finally:
        server.terminate()
        try:
            server.wait(timeout=10)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()


@pytest.fixture(scope="module")
def browser_page(app_url: str):
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS, headless=True)
        try:
            # Tall enough for a whole page: Streamlit scrolls inside its own container, so full_page adds nothing.
            page = browser.new_page(viewport={"width": 1400, "height": 1800})
            page.set_default_timeout(TIMEOUT_MS)
            yield page
        finally:
            browser.close()


def _settled(page) -> None:
    """Wait until the script run is over and at least one chart has drawn its canvas or svg."""
    page.wait_for_selector('[data-testid="stApp"][data-test-script-state="notRunning"]')
    page.locator('[data-testid="stVegaLiteChart"]').first.locator("canvas, svg").first.wait_for()


def _metric(page, label: str):
    return page.locator('[data-testid="stMetric"]').filter(has_text=label).locator('[data-testid="stMetricValue"]')


def _choose(page, label: str, option: str) -> None:
    """Pick an option of a selectbox (a react-aria combobox in 1.67: its "Open" button shows the listbox)."""
    box = page.locator('[data-testid="stSelectbox"]').filter(has=page.get_by_label(label, exact=True))
    box.get_by_role("button", name="Open").click()
    page.get_by_role("option", name=option, exact=True).click()


def test_pages_in_chromium(app_url: str, browser_page, tmp_path_factory: pytest.TempPathFactory) -> None:
    from playwright.sync_api import expect

    expect.set_options(timeout=TIMEOUT_MS)  # the first run imports pandas, altair and duckdb in the server
    shots = tmp_path_factory.mktemp("screenshots")
    print(f"\nscreenshots: {shots}")
    page = browser_page
    page.goto(app_url)

    # Borrower (the default page): alice, her loans, the amortization chart.
    expect(_metric(page, "Outstanding principal")).to_have_text("$3,805.42")
    expect(_metric(page, "Next payment")).to_have_text("$444.24")
    expect(page.locator('[data-testid="stMetric"]').filter(has_text="Next payment")).to_contain_text("due 2026-05-10")
    _settled(page)
    expect(page.locator('[data-testid="stVegaLiteChart"]')).to_have_count(1)
    page.screenshot(path=shots / "borrower-alice.png")

    _choose(page, "Borrower", "bob (#2)")
    expect(_metric(page, "Outstanding principal")).to_have_text("$0.00")
    expect(_metric(page, "Installments paid")).to_have_text("3 / 3")
    _settled(page)
    page.screenshot(path=shots / "borrower-bob.png")

    # Investor, reached through the sidebar navigation.
    page.locator('[data-testid="stSidebarNavLink"]').filter(has_text="Investor").click()
    expect(page).to_have_url(f"{app_url}/investor")
    expect(_metric(page, "Cash")).to_have_text("$12,345.67")
    expect(_metric(page, "Portfolio value")).to_have_text("$14,628.92")
    _settled(page)
    page.screenshot(path=shots / "investor-ivan.png")

    _choose(page, "Investor", "jane (#11)")
    expect(_metric(page, "Committed")).to_have_text("$1,000.00")
    _settled(page)
    page.screenshot(path=shots / "investor-jane.png")

    # Platform.
    page.locator('[data-testid="stSidebarNavLink"]').filter(has_text="Platform").click()
    expect(_metric(page, "Originations")).to_have_text("$6,200.00")
    expect(_metric(page, "Outstanding principal")).to_have_text("$3,805.42")
    _settled(page)
    expect(page.locator('[data-testid="stVegaLiteChart"]')).to_have_count(3)
    for chart in page.locator('[data-testid="stVegaLiteChart"]').all():
        chart.locator("canvas, svg").first.wait_for()
    page.screenshot(path=shots / "platform.png")

    page.get_by_role("radio", name="Month").click()
    expect(page.get_by_role("radio", name="Month")).to_have_attribute("aria-checked", "true")
    _settled(page)
    expect(_metric(page, "Originations")).to_have_text("$6,200.00")
    page.screenshot(path=shots / "platform-month.png")

    assert sorted(p.name for p in shots.iterdir()) == [
        "borrower-alice.png",
        "borrower-bob.png",
        "investor-ivan.png",
        "investor-jane.png",
        "platform-month.png",
        "platform.png",
    ]
