#!/usr/bin/env bash
# The whole platform with demo data on the embedded defaults: builds (or reuses) the demo, then serves
# the API, the platform's worker (listing expiry, auto-invest, email and webhook notices, daily servicing),
# the web app, the Dagster UI and the Dagster daemon (which keeps the warehouse fresh) until Ctrl-C.
# "running" is printed only once all three ports answer.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
bash scripts/build_demo.sh
source scripts/bootstrap.sh >/dev/null
API_PORT="${API_PORT:-8000}"; DASH_PORT="${DASH_PORT:-8501}"; DAGSTER_PORT="${DAGSTER_PORT:-3000}"
pids=()
cleanup() { kill "${pids[@]}" 2>/dev/null || true; wait 2>/dev/null || true; }
trap cleanup EXIT INT TERM
uv run python -m api.serve --host 127.0.0.1 --port "$API_PORT" >data/api.log 2>&1 & pids+=($!)
# The sandbox processor settles the demo's transfers at its next run (a few seconds), not in two business days:
# a demo user who deposits can invest at once. Returns (amounts ending .01/.02/.03) still come back.
export PEERLEND_PROCESSOR_SETTLE_DAYS="${PEERLEND_PROCESSOR_SETTLE_DAYS:-0}"
export PEERLEND_WORKER_JOB_INTERVALS='{"processor": 5, "deliver_outbox": 5, "auto_invest": 60, "expire_listings": 60, "issue_funded": 60, "service_loans": 300, "reconcile": 86400}'
uv run python -m api.worker >data/worker.log 2>&1 & pids+=($!)  # money, expiry, auto-invest, notices, servicing
uv run streamlit run dashboards/server.py --server.headless true --browser.gatherUsageStats false \
  --server.port "$DASH_PORT" --server.address 127.0.0.1 --client.toolbarMode viewer >data/streamlit.log 2>&1 & pids+=($!)
uv run dagster-webserver -m pipelines.definitions -h 127.0.0.1 -p "$DAGSTER_PORT" >data/dagster.log 2>&1 & pids+=($!)
uv run dagster-daemon run -m pipelines.definitions >data/dagster-daemon.log 2>&1 & pids+=($!)
echo "== waiting for the API, the dashboards and Dagster to answer"
wait_for() {  # name url log
  for _ in $(seq 1 240); do
    curl -fsS -o /dev/null "$2" 2>/dev/null && return 0
    for pid in "${pids[@]}"; do kill -0 "$pid" 2>/dev/null || { echo "!! $1 stopped; see $3"; tail -20 "$3"; exit 1; }; done
    sleep 0.5
  done
  echo "!! $1 did not answer within 2 minutes; see $3"; exit 1
}
wait_for "the API" "http://127.0.0.1:$API_PORT/ready" data/api.log
wait_for "the dashboards" "http://127.0.0.1:$DASH_PORT/_stcore/health" data/streamlit.log
wait_for "Dagster" "http://127.0.0.1:$DAGSTER_PORT/server_info" data/dagster.log
cat <<MSG

Peerlend is running on demo data:
  API         http://127.0.0.1:$API_PORT/docs    (OpenAPI: /openapi.json)
  Dashboards  http://127.0.0.1:$DASH_PORT
  Dagster     http://127.0.0.1:$DAGSTER_PORT     (its daemon refreshes the warehouse as the API changes)
Log in as any demo user (borrowers bella, boris, ...; investors ivan, iris, ...; admin) with password
'peerlend-demo-2026'. Logs are in data/*.log. Ctrl-C stops everything.
MSG
wait
