#!/usr/bin/env bash
# The whole test suite on a fresh machine: installs what it needs (uv, the locked environment, Debian's
# chromium, curl and jq), makes sure PostgreSQL and Redis are up, then runs lint, types
# and pytest against SQLite and PostgreSQL.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
source scripts/bootstrap.sh
# Debian packages the tests drive: chromium (browser tests), curl and jq (the README walkthrough test).
missing=()
[ -x /usr/bin/chromium ] || missing+=(chromium chromium-driver)
command -v curl >/dev/null || missing+=(curl)
command -v jq >/dev/null || missing+=(jq)
if [ "${#missing[@]}" -gt 0 ] && [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
  echo "== installing Debian's ${missing[*]}"
  (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null) \
    || echo "!! could not install ${missing[*]}; the tests that need them will say so"
fi
bash scripts/ensure_services.sh
export CI="${CI:-1}"  # tests that need a service fail instead of skipping
echo "== ruff"
uv run ruff check .
uv run ruff format --check .
echo "== mypy (api, models)"
uv run mypy
echo "== pytest"
uv run pytest -n "${PYTEST_WORKERS:-2}" "$@"
