#!/usr/bin/env bash
# The whole platform with demo data on the embedded defaults: builds the demo, then serves the API,
# the dashboards and the Dagster UI until Ctrl-C.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
bash scripts/build_demo.sh
source scripts/bootstrap.sh >/dev/null
API_PORT="${API_PORT:-8000}"; DASH_PORT="${DASH_PORT:-8501}"; DAGSTER_PORT="${DAGSTER_PORT:-3000}"
pids=()
cleanup() { kill "${pids[@]}" 2>/dev/null || true; wait 2>/dev/null || true; }
trap cleanup EXIT INT TERM
uv run uvicorn api.main:app --host 127.0.0.1 --port "$API_PORT" --log-level warning & pids+=($!)
uv run streamlit run dashboards/app.py --server.headless true --browser.gatherUsageStats false \
  --server.port "$DASH_PORT" --server.address 127.0.0.1 --client.toolbarMode viewer >data/streamlit.log 2>&1 & pids+=($!)
uv run dagster-webserver -m pipelines.definitions -h 127.0.0.1 -p "$DAGSTER_PORT" >data/dagster.log 2>&1 & pids+=($!)
cat <<MSG

Peerlend is running on demo data:
  API         http://127.0.0.1:$API_PORT/docs    (OpenAPI: /openapi.json)
  Dashboards  http://127.0.0.1:$DASH_PORT
  Dagster     http://127.0.0.1:$DAGSTER_PORT
Log in as any demo user (borrowers bella, boris, ...; investors ivan, iris, ...; admin) with password
'peerlend-demo-2026'. Ctrl-C stops everything.
MSG
wait
