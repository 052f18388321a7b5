#!/usr/bin/env bash
# Installs uv if missing, then the locked environment (.venv). Sourced by the other scripts.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
export PATH="$HOME/.local/bin:$PATH"
if ! command -v uv >/dev/null 2>&1; then
  echo "== installing uv (pip takes minutes to resolve this stack; uv seconds)"
  python3 -m pip install --quiet --user uv 2>/dev/null || python3 -m pip install --quiet uv
fi
echo "== installing the locked environment (uv sync --frozen)"
uv sync --frozen --quiet
# No network but the package registries: keep every tool from phoning home.
export DBT_SEND_ANONYMOUS_USAGE_STATS=false
export DO_NOT_TRACK=1
export STREAMLIT_BROWSER_GATHER_USAGE_STATS=false
export DAGSTER_HOME="${DAGSTER_HOME:-$PWD/data/dagster_home}"
mkdir -p "$DAGSTER_HOME"
[ -f "$DAGSTER_HOME/dagster.yaml" ] || cp pipelines/dagster.yaml "$DAGSTER_HOME/dagster.yaml"
