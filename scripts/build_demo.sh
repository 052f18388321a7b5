#!/usr/bin/env bash
# Builds the demo from nothing on the embedded defaults: a fresh SQLite database migrated and seeded
# with months of history through the API, then the pipelines load it into DuckDB and run dbt.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
source scripts/bootstrap.sh
mkdir -p data
rm -rf data/peerlend.db data/peerlend.db-wal data/peerlend.db-shm data/warehouse.duckdb data/warehouse.duckdb.wal data/mailbox
echo "== migrating the database (alembic upgrade head)"
uv run alembic upgrade head
echo "== seeding demo data through the API"
uv run python -m api.demo
echo "== materializing every pipeline asset (extract -> DuckDB -> dbt -> checks)"
uv run dagster asset materialize -m pipelines.definitions --select '*'
