"""The one Dagster code location: `dagster ... -m pipelines.definitions`.

Everything lives in `pipelines/defs/` (assets, checks, resources, job, schedule) and is loaded from there;
steps run in-process by default (one DuckDB writer, and a subprocess per step costs ~1 s on 2 cores).
"""

import warnings

import dagster as dg

import pipelines.defs


def _load() -> dg.Definitions:
    with warnings.catch_warnings():
        # `load_defs` warns it is deprecated in favour of `load_from_defs_folder`, which needs a `dg`
        # project file (dg.toml / [tool.dg]) this repository does not have; it works in 1.13.
        warnings.simplefilter("ignore", DeprecationWarning)
        loaded = dg.load_defs(defs_root=pipelines.defs)
    return dg.Definitions.merge(loaded, dg.Definitions(executor=dg.in_process_executor))


defs = _load()
