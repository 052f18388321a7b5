"""dbt in the pipeline's own process (dbt-core's programmatic `dbtRunner`), its results as the same Dagster
events dagster-dbt's `DbtCliResource.cli(...).stream()` yields.

Why not the subprocess dagster-dbt starts: on this project's 2-core machine a dbt process that builds one
view took 11-12 s wall, most of it starting Python and importing dbt (~7 s) before any SQL ran, plus the
adapter dagster-dbt builds in the parent process for column metadata we do not use. In-process, dbt's
modules are imported once per Dagster step process (dagster-dbt has already imported most of them) and
nothing else is started.

What stays dagster-dbt's: the selection (`get_updated_cli_invocation_params_for_context`: what the asset and
check selection of the step means as dbt `--select` / `--exclude` / indirect selection) and the translation
of each node's result into `Output` / `AssetCheckResult` (`DbtCoreCliEventMessage.to_default_asset_events`),
fed with the same structured log records the CLI prints with `--log-format json` (`msg_to_dict` is what
dbt's JSON logger writes). So dbt tests still arrive as asset checks, exactly as before.

dbt's global state (flags, the adapter registry, the event logger) is per invocation and reset by dbt
itself; the DuckDB adapter closes its connection when the invocation releases it, so the warehouse file is
free for the reconciliation that follows. One invocation at a time per process (`_LOCK`).
"""

from __future__ import annotations

import os
import re
import threading
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import dagster as dg
from dagster_dbt import DagsterDbtTranslator, DbtProject
from dagster_dbt.asset_utils import extract_runtime_selection_from_args, get_updated_cli_invocation_params_for_context
from dagster_dbt.core.dbt_cli_event import DbtCoreCliEventMessage

_LOCK = threading.Lock()
_ANSI = re.compile(r"\x1b\[[0-9;]*m")  # dbt colours its console messages


class DbtInProcessError(dg.Failure):
    pass


def _close_duckdb() -> None:
    """Make sure no DuckDB handle of dbt's outlives the invocation: the pipeline opens the same file next,
    and DuckDB refuses a second open of one file with a different configuration in one process."""
    try:
        from dbt.adapters.duckdb.connections import DuckDBConnectionManager
    except ImportError:  # another adapter: nothing of DuckDB's to close
        return
    env = DuckDBConnectionManager._ENV
    if env is not None:
        close = getattr(env, "close", None)
        if close is not None:
            close()
    DuckDBConnectionManager.close_all_connections()


def build(
    args: Sequence[str],
    *,
    context: dg.AssetExecutionContext,
    project: DbtProject,
    translator: DagsterDbtTranslator,
    target_path: Path,
    profiles_dir: str | None = None,
) -> Iterator[Any]:
    """Run `dbt <args>` in this process for the step's selection and yield its Dagster events (one Output
    per model or snapshot built, one AssetCheckResult per test run). Raises DbtInProcessError after the
    events when dbt failed (a test failing included), like `DbtCliResource.cli(..., raise_on_error=True)`."""
    from dbt.cli.main import dbtRunner
    from dbt_common.events.base_types import EventLevel, EventMsg
    from dbt_common.events.functions import msg_to_dict

    cleaned, runtime_selects, runtime_excludes = extract_runtime_selection_from_args(args)
    params = get_updated_cli_invocation_params_for_context(
        context=context,
        manifest={},
        dagster_dbt_translator=translator,
        runtime_selects=runtime_selects,
        runtime_excludes=runtime_excludes,
    )
    project_dir = Path(params.dbt_project.project_dir if params.dbt_project else project.project_dir)
    argv = [
        *cleaned,
        *params.selection_args,
        "--project-dir",
        str(project_dir),
        "--profiles-dir",
        str(profiles_dir or project.profiles_dir or project_dir),
        "--target-path",
        str(target_path),
        "--log-path",
        str(target_path),
    ]
    if params.indirect_selection:
        argv += ["--indirect-selection", params.indirect_selection]

    records: list[dict[str, Any]] = []
    errors: list[str] = []
    # Only node results become Dagster events; everything else dbt logs goes to its own stdout logger.
    wanted = {"LogSeedResult", "LogModelResult", "LogSnapshotResult", "LogTestResult"}

    def collect(msg: EventMsg) -> None:  # called on dbt's worker threads
        name = msg.info.name
        if name in wanted or msg.info.level == EventLevel.ERROR:
            record = msg_to_dict(msg)
            if msg.info.level == EventLevel.ERROR:
                errors.append(_ANSI.sub("", msg.info.msg))
            if name in wanted:
                records.append(record)

    os.environ.setdefault("DBT_SEND_ANONYMOUS_USAGE_STATS", "false")
    with _LOCK:
        try:
            result = dbtRunner(callbacks=[collect]).invoke(argv)
        finally:
            _close_duckdb()
    context.log.info(f"dbt {' '.join(cleaned)} in process: {len(records)} node results")
    for record in records:
        event = DbtCoreCliEventMessage(raw_event=record, event_history_metadata={})
        yield from event.to_default_asset_events(
            manifest=params.manifest,
            dagster_dbt_translator=params.dagster_dbt_translator,
            context=context,
            target_path=target_path,
            project=params.dbt_project,
        )
    if not result.success:
        detail = "\n".join(errors[-20:]) or repr(result.exception)
        raise DbtInProcessError(
            description=f"dbt {' '.join(cleaned)} failed (in process); see {target_path / 'dbt.log'}:\n{detail}"
        )
