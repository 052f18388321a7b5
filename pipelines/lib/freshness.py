"""Cheap change detection on the API's database: one indexed max() per extracted table.

The fingerprint changes whenever a row is inserted (a larger id) or updated (a later `updated_at`), and
when the platform's day changes (the age bands and what is "late" depend on the date). A sensor compares
it with the previous one to decide whether the warehouse is stale.
"""

from __future__ import annotations

import hashlib
import json

import sqlalchemy as sa

from api.kit import clock
from pipelines.lib.extract import LOAD_MODES, ById, open_snapshot, primary_key, source_tables


def source_fingerprint(sqlalchemy_url: str) -> str:
    marks: dict[str, str | None] = {"as_of_date": clock.today().isoformat()}
    with open_snapshot(sqlalchemy_url) as snap:
        if snap is not None:
            for name, table in source_tables().items():
                if not snap.has_table(name):
                    marks[name] = None
                    continue
                mode = LOAD_MODES[name]
                column = primary_key(table) if isinstance(mode, ById) else table.c[mode.column]
                # both marks: an insert into a mutable table moves the id even if its clock went back
                query = sa.select(sa.func.max(primary_key(table)), sa.func.max(column), sa.func.count())
                with snap.connection.cursor() as cur:
                    cur.execute(snap.sql(query.select_from(table)))
                    marks[name] = json.dumps([str(v) for v in cur.fetchall()[0]])
    return hashlib.sha256(json.dumps(marks, sort_keys=True).encode()).hexdigest()[:16]
