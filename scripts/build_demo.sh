#!/usr/bin/env bash
# Builds the demo on the embedded defaults: the SQLite database migrated and, the first time, seeded
# with months of history through the API; then the pipelines load it into DuckDB and run dbt.
# An existing demo database is kept (new migrations are applied); `make demo-reset` (RESET=1) starts over.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
source scripts/bootstrap.sh
mkdir -p data
if [ "${RESET:-0}" = 1 ]; then
  echo "== RESET=1: removing the demo database, warehouse and mailbox"
  rm -rf data/peerlend.db data/peerlend.db-wal data/peerlend.db-shm data/warehouse*.duckdb* data/.warehouse*.duckdb.retired data/mailbox
fi
fresh=0
[ -f data/peerlend.db ] || fresh=1
echo "== migrating the database (alembic upgrade head)"
uv run alembic upgrade head
if [ "$fresh" = 1 ]; then
  echo "== seeding demo data through the API (progress below; the API's own log: data/seed.log)"
  uv run python -m api.demo >data/seed.log \
    || { tail -40 data/seed.log; echo "!! seeding failed; the whole log is data/seed.log"; exit 1; }
else
  echo "== keeping the existing demo database (make demo-reset starts over)"
fi
echo "== materializing every pipeline asset (extract -> DuckDB -> dbt -> checks)"
uv run dagster asset materialize -m pipelines.definitions --select '*' >data/pipeline.log 2>&1 \
  || { tail -40 data/pipeline.log; echo "!! the pipeline failed; the whole log is data/pipeline.log"; exit 1; }
echo "   done (log: data/pipeline.log)"
