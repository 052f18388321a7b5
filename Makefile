.PHONY: demo demo-reset demo-data api dashboards pipeline sql export test lint docs bench bench-load

demo:        ## the whole platform on demo data: API, pipelines, dashboards, Dagster UI
	bash scripts/run_demo.sh

demo-reset:  ## start the demo over: a new database, warehouse and mailbox, then serve
	RESET=1 bash scripts/run_demo.sh

demo-data:   ## build (or refresh) the demo database and warehouse only
	bash scripts/build_demo.sh

api:         ## the API alone on the configured database
	uv run alembic upgrade head && uv run python -m api.serve --port 8000

pipeline:    ## materialize every pipeline asset into the warehouse
	bash -c 'source scripts/bootstrap.sh && uv run dagster asset materialize -m pipelines.definitions --select "*"'

sql:         ## a read-only SQL shell on the published warehouse
	uv run python -m pipelines.sql_shell

export:      ## the open loan-level data set (Parquet + data dictionary) in data/export/
	uv run python -m pipelines.export_loans --out data/export/

dashboards:  ## the Streamlit dashboards over the warehouse
	uv run streamlit run dashboards/server.py --server.headless true --browser.gatherUsageStats false --server.address 127.0.0.1 --client.toolbarMode viewer

test:        ## the whole test suite (installs what it needs)
	bash scripts/test.sh

lint:
	uv run ruff check . && uv run mypy

docs:        ## regenerate docs/openapi.json and docs/schema.sql
	uv run python -m api.docs_export

bench:       ## micro-benchmarks: schedule maths, pro-rata splits, credit scoring
	uv run python benchmarks/run.py && uv run python benchmarks/credit_scoring.py

bench-load:  ## the API under load against bare endpoints, PostgreSQL and SQLite, 1 and 2 workers, SQLite soak
	uv run python benchmarks/load.py --soak 300
