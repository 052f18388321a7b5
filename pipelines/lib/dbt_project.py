"""The one dbt project (`dbt/`) and the manifest dagster-dbt needs before it can load.

`DbtProject.prepare_if_dev()` only parses under `dagster dev`; `dagster asset materialize`, jobs run by
the daemon and tests need `target/manifest.json` too, so it is (re)built here when missing or older than
any file of the project.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

from dagster_dbt import DbtProject

DBT_PROJECT_DIR = Path(__file__).resolve().parents[2] / "dbt"
_SOURCES = ("models", "macros", "tests", "dbt_project.yml", "profiles.yml")


def dbt_executable() -> str:
    """The venv's dbt (next to this Python), so it works without `uv run` putting it on PATH."""
    candidate = Path(sys.executable).parent / "dbt"
    return str(candidate) if candidate.exists() else (shutil.which("dbt") or "dbt")


def _newest_source_mtime(project_dir: Path) -> float:
    newest = 0.0
    for name in _SOURCES:
        path = project_dir / name
        files = [path] if path.is_file() else path.rglob("*") if path.is_dir() else []
        for f in files:
            if f.is_file():
                newest = max(newest, f.stat().st_mtime)
    return newest


def manifest_is_stale(project: DbtProject) -> bool:
    manifest = project.manifest_path
    return not manifest.exists() or manifest.stat().st_mtime < _newest_source_mtime(project.project_dir)


def ensure_manifest(project: DbtProject) -> Path:
    """Run `dbt parse` when the manifest is missing or stale; return its path."""
    if manifest_is_stale(project):
        from pipelines.lib.resources import WORK_PATH_ENV, Warehouse

        # the same profile the pipeline's runs will see, so their partial parse starts from this one
        env = {
            **os.environ,
            "DBT_SEND_ANONYMOUS_USAGE_STATS": "false",
            WORK_PATH_ENV: str(Warehouse().resolved_work_path()),
        }
        subprocess.run(
            [
                dbt_executable(),
                "parse",
                "--quiet",
                "--project-dir",
                str(project.project_dir),
                "--profiles-dir",
                str(project.profiles_dir),
            ],
            cwd=project.project_dir,
            env=env,
            check=True,
        )
    return project.manifest_path


dbt_project = DbtProject(project_dir=DBT_PROJECT_DIR)
