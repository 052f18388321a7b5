"""Load benchmark: the API under 32 concurrent clients against the barest FastAPI endpoints on the same
database, with the same uvicorn workers, driven alternately by Debian's `wrk`.

    uv run python benchmarks/load.py                       # PostgreSQL and SQLite, 1 and 2 workers
    uv run python benchmarks/load.py --backends sqlite --workers 1 --duration 10 --soak 300

For each backend and worker count it starts both servers, then alternates runs (bare, API, bare, API, ...)
so both see the same noise, and prints medians with the ratios the core issue sets:
- investing (POST /loans/{id}/investments, a $25 note, each client on a random listing) / one INSERT;
- investing with every client on the same listing (the hot case) / the spread case;
- GET /loans/list (a page of 20) / a bare SELECT of the same 20 rows;
- p99 latency of investing / p99 of the INSERT.
With --soak it then runs a mixed read/write load for that many seconds on SQLite and reports every
non-2xx answer, and checks the server still answers afterwards.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from sqlalchemy import create_engine, text  # noqa: E402
from sqlalchemy.engine import make_url  # noqa: E402

from api.kit.migrate import upgrade  # noqa: E402
from api.settings import Settings  # noqa: E402
from benchmarks.market import Market, build  # noqa: E402

POSTGRES = os.environ.get("PEERLEND_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test")
CONNECTIONS = 32
THREADS = 2
HOT_NOTES_PER_THREAD = 780
API_PORT, BARE_PORT = 18000, 18001


@dataclass
class Run:
    requests_per_s: float
    p99_ms: float
    non_2xx: int
    requests: int


def _lua_invest(market: Market, hot: bool, run: int = 0, per_run: int = 0) -> str:
    """`run` picks a fresh slice of hot listings for each wrk run (each run's Lua state starts from zero)."""
    loans = market.hot_loans[run * per_run : (run + 1) * per_run] if hot else market.spread_loans
    run_tag = uuid.uuid4().hex[:12]
    return f"""
local tokens = {{{",".join(json.dumps(t) for t in market.investor_tokens)}}}
local loans = {{{",".join(str(i) for i in loans)}}}
local hot = {"true" if hot else "false"}
local counter = 0
-- wrk runs this file once per thread, and math.random is not seeded apart: setup() numbers the threads.
local started = 0
function setup(thread)
  started = started + 1
  thread:set("tid", started)
end
-- Hot: every client on one listing at a time. Each of the {THREADS} threads moves to the next listing after
-- {HOT_NOTES_PER_THREAD} notes, so together they never fill one (1,600 notes of $25 in $40,000) and no request
-- is refused: the measure is contention on one row, not error handling.
function request()
  counter = counter + 1
  local loan = hot and loans[math.floor(counter / {HOT_NOTES_PER_THREAD}) + 1] or loans[math.random(#loans)]
  local headers = {{
    ["Authorization"] = "Bearer " .. tokens[(counter % #tokens) + 1],
    ["Content-Type"] = "application/json",
    ["Idempotency-Key"] = "{run_tag}-" .. tid .. "-" .. counter,
  }}
  return wrk.format("POST", "/loans/" .. loan .. "/investments", headers, '{{"amount":"25.00"}}')
end
"""


def _lua_get(path: str, token: str | None) -> str:
    auth = f'["Authorization"] = "Bearer {token}",' if token else ""
    return f"""
function request()
  return wrk.format("GET", "{path}", {{ {auth} }})
end
"""


def _lua_post(path: str) -> str:
    return f"""
function request()
  return wrk.format("POST", "{path}", {{["Content-Type"] = "application/json"}}, "{{}}")
end
"""


def _lua_soak(market: Market) -> str:
    """Mixed traffic: 50 % investments, 30 % listing pages, 10 % portfolios, 10 % deposits."""
    return f"""
local tokens = {{{",".join(json.dumps(t) for t in market.investor_tokens)}}}
local loans = {{{",".join(str(i) for i in market.spread_loans)}}}
local counter = 0
local started = 0
function setup(thread)
  started = started + 1
  thread:set("tid", started)
end
function request()
  counter = counter + 1
  local token = tokens[(counter % #tokens) + 1]
  local h = {{["Authorization"] = "Bearer " .. token, ["Content-Type"] = "application/json",
             ["Idempotency-Key"] = "{uuid.uuid4().hex[:12]}-" .. tid .. "-" .. counter}}
  local roll = math.random(100)
  if roll <= 50 then
    return wrk.format("POST", "/loans/" .. loans[math.random(#loans)] .. "/investments", h, '{{"amount":"25.00"}}')
  elseif roll <= 80 then
    return wrk.format("GET", "/loans/list?status=listed&limit=20", h)
  elseif roll <= 90 then
    return wrk.format("GET", "/investors/me/portfolio", h)
  end
  return wrk.format("POST", "/investors/me/deposits", h, '{{"amount":"25.00"}}')
end
"""


def wrk(port: int, script: str, seconds: int, tmp: Path) -> Run:
    path = tmp / f"{uuid.uuid4().hex}.lua"
    path.write_text(script)
    out = subprocess.run(
        [
            "wrk",
            f"-t{THREADS}",
            f"-c{CONNECTIONS}",
            f"-d{seconds}s",
            "--latency",
            "--timeout",
            "30s",
            "-s",
            str(path),
            f"http://127.0.0.1:{port}",
        ],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))  # type: ignore[union-attr]
    p99 = re.search(r"99%\s+([\d.]+)(us|ms|s)\b", out)
    scale = {"us": 0.001, "ms": 1.0, "s": 1000.0}
    p99_ms = float(p99.group(1)) * scale[p99.group(2)] if p99 else float("nan")
    non = re.search(r"Non-2xx or 3xx responses:\s+(\d+)", out)
    total = re.search(r"(\d+) requests in", out)
    failed = int(non.group(1)) if non else 0
    requests = int(total.group(1)) if total else 0
    # Only answers that did the work count towards throughput.
    good_rps = rps * (requests - failed) / requests if requests else 0.0
    return Run(good_rps, p99_ms, failed, requests)


def _wait_ready(port: int, path: str = "/health", timeout: float = 60) -> None:
    deadline = time.time() + timeout
    while time.time() < deadline:
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}{path}", timeout=2) as response:
                if response.status < 500:
                    return
        except Exception:  # not up yet
            time.sleep(0.3)
    raise RuntimeError(f"server on port {port} did not answer {path}")


@contextmanager
def server(module: str, port: int, workers: int, env: dict[str, str]) -> Iterator[subprocess.Popen[bytes]]:
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "uvicorn",
            module,
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
            "--workers",
            str(workers),
            "--no-access-log",
            "--no-proxy-headers",
            "--log-level",
            "warning",
        ],
        cwd=ROOT,
        env=os.environ | env,
        start_new_session=True,
    )
    try:
        yield process
    finally:
        os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)


@contextmanager
def database(backend: str, tmp: Path) -> Iterator[str]:
    if backend == "sqlite":
        yield f"sqlite:///{tmp / 'bench.db'}"
        return
    name = f"peerlend_load_{uuid.uuid4().hex[:8]}"
    admin = create_engine(POSTGRES, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield make_url(POSTGRES).set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def _median(runs: list[Run]) -> Run:
    return Run(
        statistics.median(r.requests_per_s for r in runs),
        statistics.median(r.p99_ms for r in runs),
        sum(r.non_2xx for r in runs),
        sum(r.requests for r in runs),
    )


def measure(backend: str, workers: int, seconds: int, rounds: int, soak: int) -> dict[str, Run]:
    tmp = Path(tempfile.mkdtemp(prefix="peerlend-load-"))
    results: dict[str, Run] = {}
    try:
        with database(backend, tmp) as url:
            upgrade(url)
            engine = create_engine(url)
            with engine.begin() as connection:
                serial = "INTEGER PRIMARY KEY AUTOINCREMENT" if backend == "sqlite" else "BIGSERIAL PRIMARY KEY"
                connection.execute(text(f"CREATE TABLE bench_rows (id {serial}, payload TEXT NOT NULL)"))
            engine.dispose()
            env = {
                "PEERLEND_DATABASE_URL": url,
                "PEERLEND_ENV": "development",
                "PEERLEND_MAILBOX_DIR": str(tmp / "mailbox"),
                "PEERLEND_ACCESS_TOKEN_MINUTES": "240",
                "PEERLEND_WORKERS": str(workers),
                "BENCH_DATABASE_URL": url,
            }
            settings = Settings(
                database_url=url, mailbox_dir=tmp / "mailbox", access_token_minutes=240, workers=workers
            )
            # Enough hot listings for each run at up to 1,500 notes a second.
            per_run = seconds * 1500 // (THREADS * HOT_NOTES_PER_THREAD) + 2
            market = build(settings, investors=32, spread_loans=40, hot_loans=per_run * (rounds + 1))
            with (
                server("api.main:app", API_PORT, workers, env),
                server("benchmarks.bare_app:app", BARE_PORT, workers, env),
            ):
                _wait_ready(API_PORT)
                _wait_ready(BARE_PORT, "/bare/select")
                token = market.investor_tokens[0]
                runs: dict[str, list[Run]] = {name: [] for name in ("insert", "invest", "invest_hot", "select", "list")}
                wrk(API_PORT, _lua_get("/loans/list?limit=20", token), 2, tmp)  # warm both servers
                wrk(BARE_PORT, _lua_get("/bare/select", None), 2, tmp)
                for round_ in range(rounds):
                    plans = {
                        "insert": (BARE_PORT, _lua_post("/bare/insert")),
                        "invest": (API_PORT, _lua_invest(market, hot=False)),
                        "invest_hot": (API_PORT, _lua_invest(market, hot=True, run=round_, per_run=per_run)),
                        "select": (BARE_PORT, _lua_get("/bare/select", None)),
                        "list": (API_PORT, _lua_get("/loans/list?limit=20", token)),
                    }
                    for name, (port, script) in plans.items():
                        runs[name].append(wrk(port, script, seconds, tmp))
                results = {name: _median(r) for name, r in runs.items()}
                if soak:
                    results["soak"] = wrk(API_PORT, _lua_soak(market), soak, tmp)
                    _wait_ready(API_PORT, timeout=10)  # still answers after the soak
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return results


def report(backend: str, workers: int, r: dict[str, Run]) -> None:
    inv, hot, ins, lst, sel = r["invest"], r["invest_hot"], r["insert"], r["list"], r["select"]
    print(
        f"{backend:<8} {workers}w  invest {inv.requests_per_s:7.1f}/s  insert {ins.requests_per_s:7.1f}/s  "
        f"ratio {inv.requests_per_s / ins.requests_per_s:4.2f}x (target >= 0.30)   "
        f"p99 {inv.p99_ms:6.1f} ms vs {ins.p99_ms:6.1f} ms = {inv.p99_ms / ins.p99_ms:4.2f}x (target <= 3)"
    )
    print(
        f"{'':<8}     hot one listing {hot.requests_per_s:7.1f}/s = {hot.requests_per_s / inv.requests_per_s:4.2f}x "
        f"spread (target >= 0.40)   list {lst.requests_per_s:7.1f}/s  bare select {sel.requests_per_s:7.1f}/s "
        f"= {lst.requests_per_s / sel.requests_per_s:4.2f}x (target >= 0.50)"
    )
    errors = {name: run.non_2xx for name, run in r.items() if run.non_2xx and name != "soak"}
    print(f"{'':<8}     non-2xx answers: {errors or 'none'} (throughput counts 2xx answers only)")
    if "soak" in r:
        soak = r["soak"]
        print(
            f"{'':<8}     soak {soak.requests} mixed requests at {soak.requests_per_s:.1f}/s: "
            f"{soak.non_2xx} non-2xx; server answered /health afterwards"
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--backends", default="postgres,sqlite")
    parser.add_argument("--workers", default="1,2")
    parser.add_argument("--duration", type=int, default=10, help="seconds per wrk run")
    parser.add_argument("--rounds", type=int, default=3, help="alternating rounds per measurement")
    parser.add_argument("--soak", type=int, default=0, help="seconds of mixed load on SQLite (e.g. 300)")
    args = parser.parse_args()
    if shutil.which("wrk") is None:
        raise SystemExit("needs Debian's wrk: apt-get install -y wrk")
    print(
        f"# load benchmark: {CONNECTIONS} connections, {THREADS} wrk threads, {args.duration}s x {args.rounds} rounds"
    )
    invest_by_backend: dict[tuple[str, int], float] = {}
    for backend in args.backends.split(","):
        for workers in (int(w) for w in args.workers.split(",")):
            soak = args.soak if backend == "sqlite" and workers == int(args.workers.split(",")[0]) else 0
            results = measure(backend, workers, args.duration, args.rounds, soak)
            report(backend, workers, results)
            invest_by_backend[(backend, workers)] = results["invest"].requests_per_s
    for workers in (int(w) for w in args.workers.split(",")):
        if ("sqlite", workers) in invest_by_backend and ("postgres", workers) in invest_by_backend:
            ratio = invest_by_backend[("sqlite", workers)] / invest_by_backend[("postgres", workers)]
            print(f"sqlite / postgres investing, {workers}w: {ratio:4.2f}x (target >= 0.50)")


if __name__ == "__main__":
    main()
