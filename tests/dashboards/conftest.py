"""Fixtures for the web app's tests.

- ``platform``: the demo platform, built once per test run (shared by pytest-xdist workers through a file lock):
  the API's SQLite database seeded by ``api.demo`` through the API, and the warehouse the real pipeline builds
  from it (``tests/dashboards/platform_build.py``). Tests never write these two files; they copy the database.
- ``live_api``: the real API in process (FastAPI's TestClient, an ``httpx2.Client``) on a fresh copy of that
  database, wired into ``dashboards.api_client``; the pages read the platform's warehouse.
- AppTest helpers to sign in and read everything a page rendered.
"""

from __future__ import annotations

import fcntl
import json
import os
import shutil
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
from fastapi.testclient import TestClient
from streamlit.testing.v1 import AppTest

from api.main import create_app
from api.settings import Settings, get_settings
from dashboards import api_client, queries
from dashboards.settings import get_dashboard_settings
from tests.dashboards import platform_build

ROOT = Path(__file__).resolve().parents[2]
APP = str(ROOT / "dashboards" / "app.py")
PASSWORD = platform_build.DEMO_PASSWORD
GENEROUS = "100000/minute"
BUILD_TIMEOUT = 900


@dataclass(frozen=True)
class Platform:
    root: Path
    database: Path  # the seeded API database: a template, copied by every test that runs the API
    warehouse: Path  # the published warehouse built from it
    mailbox: Path
    build: dict[str, Any]

    @property
    def url(self) -> str:
        return f"sqlite:///{self.database}"


def _shared_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    # PEERLEND_TEST_PLATFORM_DIR keeps the built platform between runs (a developer's loop); it is rebuilt when
    # its built.json is missing. Default: once per test run.
    if os.environ.get("PEERLEND_TEST_PLATFORM_DIR"):
        return Path(os.environ["PEERLEND_TEST_PLATFORM_DIR"])
    # Under pytest-xdist every worker has its own basetemp inside one directory per run: build there once.
    base = tmp_path_factory.getbasetemp()
    return (base.parent if os.environ.get("PYTEST_XDIST_WORKER") else base) / "dashboards-platform"


@pytest.fixture(scope="session")
def platform(tmp_path_factory: pytest.TempPathFactory) -> Platform:
    root = _shared_dir(tmp_path_factory)
    root.mkdir(parents=True, exist_ok=True)
    done = root / "built.json"
    with (root / ".lock").open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # one worker builds; the others wait here and reuse it
        if not done.exists():
            log = root / "build.log"
            seeded = platform_build.finish(platform_build.run("seed", "--root", str(root), log=log), log, BUILD_TIMEOUT)
            try:
                built = platform_build.finish(
                    platform_build.run(
                        "pipeline", "--url", str(seeded["url"]), "--warehouse", str(root / "warehouse.duckdb"), log=log
                    ),
                    log,
                    BUILD_TIMEOUT,
                )
            except RuntimeError as error:
                # The pipeline's own tests (tests/pipelines) fail loudly on this; here the API-only pages and the
                # browser story still run, and the warehouse tests fail with the reason (needs_warehouse).
                lines = str(error).splitlines()
                built = {"success": False, "error": next((x for x in lines if "RESULT" in x), lines[0])[:2000]}
            done.write_text(json.dumps({"seed": seeded, "pipeline": built}))
    return Platform(
        root, root / "peerlend.db", root / "warehouse.duckdb", root / "mailbox", json.loads(done.read_text())
    )


def api_settings(database: Path, mailbox: Path, public_base_url: str = "http://127.0.0.1:8501") -> Settings:
    return get_settings().model_copy(
        update={
            "env": "test",
            "database_url": f"sqlite:///{database}",
            "mailbox_dir": mailbox,
            "public_base_url": public_base_url,
            # one test client plays many people from one address; the per-address limits are for strangers
            "rate_limit_login": GENEROUS,
            "rate_limit_register": GENEROUS,
            "rate_limit_token": GENEROUS,
            "rate_limit_resend": GENEROUS,
        }
    )


@dataclass
class LiveApi:
    client: TestClient
    settings: Settings
    database: Path

    def call(self, method: str, path: str, username: str | None = None, **kwargs: Any) -> Any:
        """The API answering a person directly (not through the app): the figures the pages must show."""
        headers = dict(kwargs.pop("headers", {}))
        if username:
            token = self.client.post("/auth/token", data={"username": username, "password": PASSWORD}).json()
            headers["Authorization"] = f"Bearer {token['access_token']}"
        response = self.client.request(method, path, headers=headers, **kwargs)
        assert response.status_code < 400, (method, path, response.status_code, response.text)
        return response.json()


@pytest.fixture
def needs_warehouse(platform: Platform) -> Path:
    """Fail a test that reads the demo warehouse when the pipeline could not build it (and say why)."""
    if not platform.warehouse.exists():
        # A warehouse that fails its own checks is a defect to see, not a reason to test less.
        pytest.fail(f"the pipeline did not build the demo warehouse: {platform.build['pipeline'].get('error')}")
    return platform.warehouse


@pytest.fixture
def use_platform_warehouse(platform: Platform, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("PEERLEND_WAREHOUSE_PATH", str(platform.warehouse))
    get_settings.cache_clear()
    yield platform.warehouse
    get_settings.cache_clear()


@pytest.fixture
def live_api(platform: Platform, tmp_path: Path, use_platform_warehouse: Path) -> Iterator[LiveApi]:
    database = tmp_path / "peerlend.db"
    shutil.copyfile(platform.database, database)
    settings = api_settings(database, tmp_path / "mailbox")
    app = create_app(settings)
    with TestClient(app) as client:
        api_client.use_http_client(client)
        try:
            yield LiveApi(client, settings, database)
        finally:
            api_client.use_http_client(None)
            app.state.database.dispose()


@pytest.fixture(autouse=True)
def _chdir_root(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    # AppTest resolves the app path, and the settings their `.env`, from the working directory.
    monkeypatch.chdir(ROOT)
    get_dashboard_settings.cache_clear()
    yield
    get_dashboard_settings.cache_clear()
    queries.close_connections()


# ------------------------------------------------------------------------------------------------- AppTest


def sign_in(username: str, password: str = PASSWORD, query: dict[str, str] | None = None) -> AppTest:
    """A fresh browser session signed in through the app's sign-in form."""
    at = AppTest.from_file(APP, default_timeout=90)
    for key, value in (query or {}).items():
        at.query_params[key] = value
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    at.text_input(key="sign_in_username").input(username)
    at.text_input(key="sign_in_password").input(password)
    submit = next(b for b in at.button if b.label == "Sign in")
    submit.click().run()
    assert not at.exception, [e.value for e in at.exception]
    assert not at.error, [e.value for e in at.error]
    return at


def open_page(at: AppTest, page: str) -> AppTest:
    at.switch_page(page).run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def metrics(at: AppTest) -> dict[str, str]:
    return {m.label: m.value for m in at.metric}


def _walk(node: Any) -> Iterator[Any]:
    yield node
    for child in getattr(node, "children", {}).values():
        yield from _walk(child)


def rendered(at: AppTest) -> str:
    """Everything the page sent to the browser, as text: every element's message (labels, values, options,
    markdown, metrics), every table's cells and every chart's data rows."""
    parts: list[str] = []
    for node in _walk(at._tree):
        proto = getattr(node, "proto", None)
        if proto is not None and node.type not in ("arrow_data_frame", "vega_lite_chart"):
            parts.append(str(proto))
        if node.type == "arrow_data_frame":
            parts.append(node.value.to_csv(index=False))
        if node.type == "vega_lite_chart":
            parts.append(proto.spec)
            for dataset in chart_rows(node):
                parts.append(dataset.to_csv(index=False))
    return "\n".join(parts)


def chart_rows(node: Any) -> list[pd.DataFrame]:
    """The data rows of one Altair chart element."""
    import pyarrow as pa

    frames = []
    for dataset in node.proto.datasets:
        frames.append(pa.ipc.open_stream(dataset.data.data).read_all().to_pandas())
    if node.proto.data.data:
        frames.append(pa.ipc.open_stream(node.proto.data.data).read_all().to_pandas())
    return frames


def charts(at: AppTest) -> list[Any]:
    return list(at.get("vega_lite_chart"))


def tables(at: AppTest) -> list[pd.DataFrame]:
    return [df.value for df in at.dataframe]


Signer = Callable[..., AppTest]
