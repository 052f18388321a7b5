#!/usr/bin/env bash
# The whole test suite on a fresh machine: installs what it needs (uv, the locked environment,
# Debian's chromium for the browser tests), makes sure PostgreSQL is up, then runs lint, types
# and pytest against SQLite and PostgreSQL.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
source scripts/bootstrap.sh
if [ ! -x /usr/bin/chromium ] && [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
  echo "== installing Debian's chromium for the browser tests"
  (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium chromium-driver >/dev/null) \
    || echo "!! could not install chromium; browser tests will say so"
fi
bash scripts/ensure_postgres.sh
echo "== ruff"
uv run ruff check .
uv run ruff format --check .
echo "== mypy (api, models)"
uv run mypy
echo "== pytest"
uv run pytest -n "${PYTEST_WORKERS:-2}" "$@"
