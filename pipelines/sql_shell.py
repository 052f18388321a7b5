"""A read-only SQL shell on the published warehouse snapshot.

    uv run python -m pipelines.sql_shell                 # interactive; end statements with ;
    uv run python -m pipelines.sql_shell -c "select count(*) from marts.fct_borrower_loans"

Why a Python shell: the project's DuckDB is 2.0 and the newest `duckdb-cli` on PyPI (1.5.6) cannot open a
2.0 file. This uses the duckdb Python API the project already has, opened with read_only=True on the
PUBLISHED file (PEERLEND_WAREHOUSE_PATH, default data/warehouse.duckdb), never on the pipeline's work file,
so a session left open never blocks a pipeline run: the pipeline replaces the published file atomically
and this session keeps reading the snapshot it opened (`.reopen` switches to the newest one).

Dot commands: .tables, .describe <schema.table>, .reopen, .help, .quit. Column and table descriptions are
in duckdb_columns() / duckdb_tables() (`comment`), and in docs/data_dictionary.md.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import duckdb

from api.settings import get_settings

PROMPT, MORE = "peerlend> ", "     ...> "
TABLES_SQL = (
    "select schema_name || '.' || table_name as relation, estimated_size as rows, comment from duckdb_tables() "
    "where schema_name in ('marts', 'intermediate', 'snapshots') union all "
    "select schema_name || '.' || view_name, null, comment from duckdb_views() "
    "where schema_name in ('marts', 'staging', 'intermediate') order by 1"
)


def connect(path: Path) -> duckdb.DuckDBPyConnection:
    if not path.exists():
        raise SystemExit(f"no published warehouse at {path}: run the pipeline first (make pipeline)")
    return duckdb.connect(str(path), read_only=True)


def run(con: duckdb.DuckDBPyConnection, sql: str, out=sys.stdout) -> None:  # noqa: ANN001
    relation = con.sql(sql)
    if relation is not None:  # DuckDB's own box rendering: DECIMAL money stays exact (no pandas floats)
        print(relation, file=out)


def command(con: duckdb.DuckDBPyConnection, line: str, path: Path) -> duckdb.DuckDBPyConnection | None:
    """Handle a dot command; returns the (possibly new) connection, or None to quit."""
    name, _, arg = line.strip().partition(" ")
    if name in (".quit", ".exit"):
        return None
    if name == ".tables":
        for relation, rows, comment in con.execute(TABLES_SQL).fetchall():
            size = f" ({rows} rows)" if rows is not None else ""
            print(f"{relation}{size}: {' '.join((comment or '').split())[:160]}")
    elif name == ".describe":
        schema, _, table = arg.strip().rpartition(".")
        run(
            con,
            "select column_name, data_type, comment from duckdb_columns() "
            f"where table_name = '{table}'"
            + (f" and schema_name = '{schema}'" if schema else "")
            + " order by column_index",
        )
    elif name == ".reopen":
        con.close()
        con = connect(path)
        print(f"reopened {path} (the newest published snapshot)")
    else:
        print(__doc__)
    return con


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="Read-only SQL shell on the published warehouse.")
    parser.add_argument("--path", type=Path, default=None, help="defaults to PEERLEND_WAREHOUSE_PATH")
    parser.add_argument("-c", "--command", help="run one SQL statement and exit")
    args = parser.parse_args(argv)
    path = (args.path or get_settings().warehouse_path).expanduser().resolve()
    con = connect(path)
    try:
        if args.command:
            run(con, args.command)
            return
        print(f"peerlend warehouse {path} (read-only). End statements with ';'. .help for commands.")
        buffer: list[str] = []
        while True:
            try:
                line = input(MORE if buffer else PROMPT)
            except EOFError:
                break
            if not buffer and line.strip().startswith("."):
                con = command(con, line, path)  # type: ignore[assignment]
                if con is None:
                    return
                continue
            buffer.append(line)
            if line.rstrip().endswith(";"):
                try:
                    run(con, "\n".join(buffer))
                except duckdb.Error as exc:
                    print(f"error: {exc}")
                buffer = []
    finally:
        if con is not None:
            con.close()


if __name__ == "__main__":
    main()
