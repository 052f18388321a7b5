"""Peerlend dashboards: a Streamlit app over the dbt marts in the DuckDB warehouse.

Run it from the project root with
``uv run streamlit run dashboards/app.py --server.headless true --browser.gatherUsageStats false
--server.address 127.0.0.1 --server.port 8501``.
"""
