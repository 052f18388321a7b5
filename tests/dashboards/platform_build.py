"""The demo platform the web app's tests run on: the API's database seeded by ``api.demo`` (through the API
itself) and the warehouse the real pipeline builds from it (extract, dbt, checks, publication).

    python -m tests.dashboards.platform_build seed --root DIR [--months N]
    python -m tests.dashboards.platform_build pipeline --url sqlite:////abs/peerlend.db --warehouse /abs/w.duckdb

Each step runs in its own process (Dagster and dbt keep process-wide state, and the browser test runs the
pipeline again in the background while it clicks). Nothing is mocked: the figures the tests compare come from the
API's own domain code and from the marts the pages read.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
DEMO_PASSWORD = "peerlend-demo-2026"  # api.demo.DEMO_PASSWORD, read back in a test so the two cannot drift


def seed(root: Path, months: int) -> dict[str, object]:
    from api.demo import seed as demo_seed
    from api.kit.migrate import upgrade

    _consent_to_credit_checks()
    root.mkdir(parents=True, exist_ok=True)
    db = root / "peerlend.db"
    url = f"sqlite:///{db}"
    started = time.perf_counter()
    upgrade(url)
    counts = demo_seed(url, quiet=True, months=months, mailbox_dir=root / "mailbox")
    return {"url": url, "counts": counts, "seconds": round(time.perf_counter() - started, 1)}


def _consent_to_credit_checks() -> None:
    """Bridge while the marketplace release lands (issue 8): ``POST /loans/create`` now requires
    ``credit_check_consent: true`` and refuses rates below the grade's floor, and ``api.demo`` does not send the
    consent yet. Until it does, the seed's loan requests consent and leave the rate to the grade (as a borrower
    who ticks the box and takes the offered rate would). A no-op once the demo sends the consent itself, and
    against an API whose ``LoanCreate`` has no such field."""
    from api import demo
    from api.lending.schemas import LoanCreate

    if "credit_check_consent" not in LoanCreate.model_fields or getattr(demo.Demo.call, "_consents", False):
        return
    original = demo.Demo.call

    def call(self, method, path, who=None, money=False, **kwargs):  # type: ignore[no-untyped-def]
        body = kwargs.get("json")
        if method == "POST" and path in ("/loans", "/loans/create") and isinstance(body, dict):
            if "credit_check_consent" not in body:
                body = {k: v for k, v in body.items() if k != "interest_rate"}
                kwargs["json"] = {**body, "credit_check_consent": True}
        return original(self, method, path, who, money, **kwargs)

    call._consents = True  # type: ignore[attr-defined]
    demo.Demo.call = call  # type: ignore[method-assign]


def pipeline(url: str, warehouse: Path) -> dict[str, object]:
    """Every warehouse asset and check (not the credit-model group, which trains models), as
    ``benchmarks/warehouse.py`` runs it, with the platform's clock at the real now."""
    import dagster as dg

    from pipelines.definitions import defs
    from pipelines.lib.resources import SourceDatabase, Warehouse

    resources = dict(defs.resources or {})
    resources["source"] = SourceDatabase(url=url)
    resources["warehouse"] = Warehouse(path=str(warehouse))
    started = time.perf_counter()
    with dg.DagsterInstance.ephemeral() as instance:
        result = dg.materialize(
            [*defs.assets, *defs.asset_checks],  # type: ignore[list-item]
            resources=resources,
            instance=instance,
            raise_on_error=False,
            selection=dg.AssetSelection.all() - dg.AssetSelection.groups("credit_model"),
        )
    failed = [
        f"{e.asset_key.to_user_string()}:{e.check_name}" for e in result.get_asset_check_evaluations() if not e.passed
    ]
    return {
        "success": bool(result.success),
        "failed_checks": failed,
        "seconds": round(time.perf_counter() - started, 1),
        "at": datetime.now(UTC).isoformat(),
    }


def run(*args: str, log: Path) -> subprocess.Popen[bytes]:
    """Start a step in a subprocess (returns at once; ``.wait()`` for it); its output goes to ``log``."""
    env = {**os.environ, "DBT_SEND_ANONYMOUS_USAGE_STATS": "false", "PYTHONUNBUFFERED": "1"}
    with log.open("ab") as out:
        return subprocess.Popen(
            [sys.executable, "-m", "tests.dashboards.platform_build", *args],
            cwd=ROOT,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
        )


def finish(process: subprocess.Popen[bytes], log: Path, timeout: float) -> dict[str, object]:
    """Wait for a step and return the JSON line it printed last; fail with the log's tail otherwise."""
    try:
        code = process.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        process.kill()
        raise RuntimeError(f"{process.args} did not finish in {timeout} s; see {log}") from None
    lines = log.read_text(errors="replace").strip().splitlines()
    result = next((json.loads(line[7:]) for line in reversed(lines) if line.startswith("RESULT ")), None)
    if code != 0 or result is None or result.get("success") is False:
        raise RuntimeError(f"{process.args} failed ({code}); last lines of {log}:\n" + "\n".join(lines[-40:]))
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="step", required=True)
    s = sub.add_parser("seed")
    s.add_argument("--root", type=Path, required=True)
    s.add_argument("--months", type=int, default=None)
    p = sub.add_parser("pipeline")
    p.add_argument("--url", required=True)
    p.add_argument("--warehouse", type=Path, required=True)
    args = parser.parse_args()
    if args.step == "seed":
        from api.demo import MONTHS_OF_HISTORY

        result = seed(args.root, args.months or MONTHS_OF_HISTORY)
    else:
        result = pipeline(args.url, args.warehouse)
    print("RESULT " + json.dumps(result), flush=True)


if __name__ == "__main__":
    main()
