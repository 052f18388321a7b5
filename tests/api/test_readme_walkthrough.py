"""The README's walkthrough, pasted into a shell against a live server, works: the block is read from
README.md itself, so a stale walkthrough fails here."""

from __future__ import annotations

import json
import os
import re
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from decimal import Decimal
from pathlib import Path

import pytest

from api.settings import PROJECT_ROOT
from tests.conftest import migrate


def _walkthrough() -> str:
    readme = (PROJECT_ROOT / "README.md").read_text()
    section = readme.split("## The seed story through the API", 1)[1]
    match = re.search(r"```bash\n(.*?)```", section, re.S)
    assert match, "the README lost its walkthrough block"
    return match.group(1)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def test_the_readme_walkthrough_runs_as_pasted(tmp_path: Path) -> None:
    for tool in ("curl", "jq"):
        if shutil.which(tool) is None:
            if os.environ.get("CI"):
                raise AssertionError(f"{tool} is missing: the test command installs it")
            pytest.skip(f"the walkthrough needs {tool}")
    url = f"sqlite:///{tmp_path / 'walkthrough.db'}"
    migrate(url)
    port = _free_port()
    base = f"http://127.0.0.1:{port}"
    env = os.environ | {
        "PEERLEND_DATABASE_URL": url,
        "PEERLEND_MAILBOX_DIR": str(tmp_path / "data" / "mailbox"),
        "PEERLEND_PUBLIC_BASE_URL": base,
        "PEERLEND_ENV": "development",
    }
    server = subprocess.Popen(
        [sys.executable, "-m", "api.serve", "--port", str(port)],
        cwd=PROJECT_ROOT,
        env=env,
    )
    # the worker moves the money, as `make demo` runs it: its sandbox processor settling at once
    worker = subprocess.Popen(
        [sys.executable, "-m", "api.worker", "--jobs", "processor,issue_funded,deliver_outbox"],
        cwd=PROJECT_ROOT,
        env=env
        | {
            "PEERLEND_PROCESSOR_SETTLE_DAYS": "0",
            "PEERLEND_WORKER_JOB_INTERVALS": json.dumps({"processor": 1, "issue_funded": 5, "deliver_outbox": 5}),
        },
    )
    try:
        deadline = time.time() + 90
        while True:
            try:
                urllib.request.urlopen(f"{base}/health", timeout=1)
                break
            except OSError:
                assert server.poll() is None, "the API did not start"
                assert time.time() < deadline, "the API did not answer within 90 s"
                time.sleep(0.3)
        done = subprocess.run(
            ["bash", "-e", "-o", "pipefail", "-c", _walkthrough()],
            cwd=tmp_path,
            env=env | {"API": base},
            capture_output=True,
            text=True,
            timeout=120,
        )
    finally:
        for process in (server, worker):
            process.terminate()
            process.wait(timeout=20)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    portfolio = json.loads(done.stdout.strip().splitlines()[-1])
    assert portfolio["username"] == "omar" and len(portfolio["notes"]) == 1
    assert portfolio["notes"][0]["loan_status"] == "current"
    # Paid on the funding day, the installment is all principal (interest accrues by the day), less the fee.
    assert portfolio["notes"][0]["interest_received"] == "0.00"
    assert Decimal(portfolio["notes"][0]["principal_received"]) > 0
