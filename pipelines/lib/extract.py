"""Copy the API's tables into the warehouse's `raw` schema, moving columns (Arrow), not rows.

What is copied is an ALLOW-list (`EXTRACT`): a table or column the API gains is not extracted until
someone adds it here, and `tests/pipelines/test_definitions.py` fails until every table and column of
the API's metadata is either extracted or listed, with a reason, in `SKIPPED_TABLES` / `EXCLUDED_COLUMNS`.
Personal data never leaves the source: secrets (password hashes, token hashes, sessions, IPs, login
throttles, the audit log) are not read at all, and `user_profiles` arrives masked: age and income as
bands computed in memory (vectorised in Polars, tested equal to the API's own `api.identity.bands` on
every boundary), never names, birthdays, addresses, phones or employers.

**The path, chosen on purpose: ADBC (adbc-driver-sqlite / adbc-driver-postgresql) into Arrow, Polars for
the column work, DuckDB ingesting the Arrow batches.** Why ADBC and not connectorx, DuckDB's scanners or
SQLAlchemy rows:
- One ADBC connection is one transaction, so every table of a run is read in ONE snapshot (a deferred
  read transaction on SQLite in WAL mode, REPEATABLE READ on PostgreSQL): no ledger entry without its
  transaction, no note on a loan the warehouse has not seen. connectorx opens a connection per query
  (and per partition), so its tables would come from different moments of a live database.
- DuckDB 2.0 has no sqlite/postgres scanner this machine can install (PyPI's stop at 1.5.5).
- Rows through SQLAlchemy/pysqlite cost a Python object per value (the old extractor); ADBC hands over
  Arrow record batches that are streamed (bounded memory at any scale) and never become Python rows.
- The same calls read SQLite (the embedded default) and PostgreSQL; the queries are SQLAlchemy Core on
  `api.db.tables`, compiled for the source's dialect, so there is one code path.
One SQLite quirk is handled here: its driver types a column from the first batch's values, so a column
that starts with NULLs and later holds text fails; each SQLite query therefore begins with a typed
"witness" row (key NULL) that is dropped on arrival.

**Incremental for every table** (`LOAD_MODES`): append-only tables past their primary-key high-water
mark, mutable tables past their `updated_at` watermark (the API sets it on every change). Both re-read
a safety window below the mark — a PostgreSQL transaction can commit a smaller id, or a row stamped
before the mark, after the mark was read — and upsert by primary key, writing only rows that are new or
differ from what the warehouse holds. So a rerun with no change writes nothing (every relation stays
byte-identical), and a rerun after a crash resumes from what each table already holds: each table loads
in its own DuckDB transaction and the marks are read from the data itself, never from a separate
bookkeeping row that could disagree with it. Masks that depend on the date (the age band) also re-read
the whole table once per new extraction date. `full_refresh=True` reloads everything from scratch.
Every run also drops whatever in `raw` the allow-list no longer names.
"""

from __future__ import annotations

import queue
import threading
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any, Literal

import duckdb
import polars as pl
import pyarrow as pa
import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import make_url

from api.db.tables import Base
from api.identity.bands import AGE_BANDS, INCOME_BANDS_CENTS
from api.kit import clock

RAW_SCHEMA = "raw"
# Extraction bookkeeping that the data itself cannot tell: the date the age bands were computed on, per
# table, and the run's `generation`, which counts the runs that changed anything (a no-change run leaves
# it, like everything else, as it was).
STATE_TABLE = "_extract_state"
# One row: the platform day of the last extraction, which dbt builds "as of" (what is late, the current
# month). Data, not a dbt var, so dbt's partial parsing survives from run to run.
AS_OF_TABLE = "extract_as_of"
# Per table: the last probe of the source (see `_probe`) and the generation in which the table last
# changed, so a run skips the tables whose probe is unchanged and dbt rebuilds only what changed tables feed.
TABLES_STATE = "_extract_tables"
# `changed_generation` rows that are not tables: the platform day moved, or the allow-list dropped something.
AS_OF_CHANGE = AS_OF_TABLE
EVERYTHING_CHANGED = "*"
BOOKKEEPING_TABLES = (
    STATE_TABLE,
    AS_OF_TABLE,
    TABLES_STATE,
    "_published_build",
    "_published_marks",
    "_published_stamps",
    "_published_build_id",
)


# ---- masks: vectorised twins of api.identity.bands (tests compare them on every boundary) -------------


def _band(value: pl.Expr, floors: Sequence[tuple[int, str]]) -> pl.Expr:
    """The label of the highest floor <= value, the first label below every floor, null for null."""
    ordered = sorted(floors, reverse=True)
    expr: Any = pl.when(value.is_null()).then(pl.lit(None, dtype=pl.String))
    for floor, label in ordered:
        expr = expr.when(value >= floor).then(pl.lit(label))
    return expr.otherwise(pl.lit(floors[0][1]))


def age_on_expr(born: pl.Expr, on: date) -> pl.Expr:
    """Whole years from `born` to `on` (api.identity.bands.age_on): a 29 February birthday counts on 1 March."""
    before_birthday = (born.dt.month() > on.month) | ((born.dt.month() == on.month) & (born.dt.day() > on.day))
    return pl.lit(on.year, dtype=pl.Int32) - born.dt.year().cast(pl.Int32) - before_birthday.cast(pl.Int32)


def age_band_expr(born: pl.Expr, on: date) -> pl.Expr:
    return _band(age_on_expr(born, on), AGE_BANDS)


def income_band_expr(annual_income_cents: pl.Expr) -> pl.Expr:
    return _band(annual_income_cents, INCOME_BANDS_CENTS)


def _age_band_today(born: pl.Expr) -> pl.Expr:
    """The age band as of the extraction date (the platform's clock); the birthday itself is never stored."""
    return age_band_expr(born, clock.today())


@dataclass(frozen=True)
class Derived:
    """A warehouse column computed in memory from one source column. With `compute` (a Polars expression
    of the source column), the source value is masked: only the result is stored. Without, the column is
    copied under a new name. `as_of_date`: the result depends on the extraction date too."""

    name: str
    source: str
    compute: Callable[[pl.Expr], pl.Expr] | None = None
    sql_type: str | None = None  # the warehouse type of a computed value; a renamed copy keeps its source's
    as_of_date: bool = False


# The allow-list: per extracted table, the warehouse columns of raw.<table>, in order. A plain name is a
# source column copied as is. Nothing else of the source is read. New tables and columns (the servicing
# issue's lifecycle events, fees, charge-offs, recoveries) slot in as entries here plus a LOAD_MODES line.
EXTRACT: dict[str, tuple[str | Derived, ...]] = {
    "users": (
        "user_id",
        "username",
        "role",
        # renamed so no warehouse column is named like an email address
        Derived("verified_at", "email_verified_at"),
        "created_at",
        "updated_at",
    ),
    "investors": ("investor_id", "user_id", "username", "created_at"),
    "loans": (
        "loan_id",
        "borrower_id",
        "amount_cents",
        "interest_rate_bps",
        "term_months",
        "purpose",
        "grade",
        "probability_of_default_ppm",
        "score_model_version",
        "score_reasons",
        "status",
        "funded_amount_cents",
        "monthly_payment_cents",
        "created_at",
        "updated_at",
        "funded_at",
        "disbursed_at",
        "first_due_date",
        "closed_at",
        # the marketplace (issue 8): pricing, the listing window, partial funding
        "requested_amount_cents",
        "funded_bps",
        "rate_card_version",
        "origination_fee_bps",
        "origination_fee_cents",
        "apr_bps",
        "expected_loss_cents",
        "listed_at",
        "listing_expires_at",
        "accepts_partial_funding",
    ),
    "investments": (
        "investment_id",
        "loan_id",
        "investor_id",
        "amount_cents",
        "created_at",
        "status",
        "source",
        "ended_at",
    ),
    "loan_events": (
        "event_id",
        "loan_id",
        "event",
        "from_status",
        "to_status",
        "actor_type",
        "actor_user_id",
        "occurred_at",
    ),
    "credit_pulls": (
        "pull_id",
        "loan_id",
        "user_id",
        "bureau",
        "inquiry",
        "utilization_band",
        "inquiries_6m_band",
        "delinquencies_2y_band",
        "consent_version",
        "consent_given_at",
        "pulled_at",
    ),
    # decile bins only: the inputs themselves (income, the bureau's attributes) never leave the API
    "score_input_bins": ("bin_row_id", "loan_id", "input_name", "bin_index"),
    "auto_invest_rules": (
        "rule_id",
        "investor_id",
        "version",
        "enabled",
        "grade_mask",
        "term_mask",
        "min_pd_ppm",
        "max_pd_ppm",
        "min_rate_bps",
        "max_rate_bps",
        "any_purpose",
        "note_cents",
        "max_per_loan_cents",
        "cash_reserve_cents",
        *(f"mix_{g}_bps" for g in "abcdefg"),
        "created_at",
        "superseded_at",
    ),
    "allocation_runs": (
        "run_id",
        "trigger",
        "actor_user_id",
        "seed",
        "rounds",
        "listings",
        "rules",
        "notes",
        "amount_cents",
        "started_at",
        "finished_at",
    ),
    "allocations": (
        "allocation_id",
        "run_id",
        "round",
        "loan_id",
        "investor_id",
        "rule_id",
        "investment_id",
        "amount_cents",
        "queue_position",
        "priority_ppm",
        "tiebreak",
        "filled_after_cents",
        "capacity_cents",
        "budget_spent_cents",
        "budget_cents",
    ),
    "portfolio_plans": (
        "plan_id",
        "investor_id",
        "amount_cents",
        "risk_preference",
        "min_loans",
        "status",
        "expected_return_bps",
        "expected_loss_cents",
        "created_at",
        "expires_at",
        "placed_at",
    ),
    "outbox_messages": (
        "message_id",
        "channel",
        "event",
        "user_id",
        "loan_id",
        "subscription_id",
        "state",
        "attempts",
        "next_attempt_at",
        "created_at",
        "sent_at",
    ),
    "webhook_subscriptions": ("subscription_id", "user_id", "events", "created_at", "disabled_at"),
    "installments": (
        "installment_id",
        "loan_id",
        "number",
        "due_date",
        "payment_cents",
        "principal_cents",
        "interest_cents",
        "balance_after_cents",
        "paid_principal_cents",
        "paid_interest_cents",
        "paid_at",
        "updated_at",
    ),
    "payments": (
        "payment_id",
        "loan_id",
        "payer_user_id",
        "amount_cents",
        "principal_cents",
        "interest_cents",
        "fees_cents",
        "processor_reference",
        "date",
        "created_at",
        # servicing (issue 9): the rest of the waterfall, and whether the processor returned the payment
        "prepayment_cents",
        "recovery_cents",
        "excess_cents",
        "servicing_fee_cents",
        "status",
        "return_code",
    ),
    "payment_distributions": (
        "distribution_id",
        "payment_id",
        "investment_id",
        "investor_id",
        "principal_cents",
        "interest_cents",
        "fees_cents",
        "recovery_cents",
        "servicing_fee_cents",
    ),
    "loan_fees": ("fee_id", "loan_id", "installment_number", "assessed_on", "amount_cents", "reason", "created_at"),
    "loan_servicing": (
        "loan_id",
        "as_of",
        "status",
        "days_past_due",
        "principal_cents",
        "interest_cents",
        "fees_cents",
        "excess_cents",
        "past_due_cents",
        "next_due_date",
        "next_due_cents",
        "payoff_cents",
        "charged_off_on",
        "charged_off_principal_cents",
        "recovered_cents",
        "updated_at",
    ),
    "note_charge_offs": ("investment_id", "loan_id", "investor_id", "principal_cents", "charged_off_on", "created_at"),
    "cash_transfers": ("transfer_id", "user_id", "direction", "amount_cents", "processor_reference", "created_at"),
    "ledger_accounts": (
        "account_id",
        "account_type",
        "owner_id",
        "investor_id",
        "loan_id",
        "balance_cents",
        "created_at",
        "updated_at",
    ),
    "ledger_transactions": (
        "transaction_id",
        "kind",
        "loan_id",
        "payment_id",
        "transfer_id",
        "investment_id",
        "description",
        "created_at",
    ),
    "ledger_entries": ("entry_id", "transaction_id", "account_id", "amount_cents"),
    "notifications": (
        "notification_id",
        "user_id",
        "kind",
        "loan_id",
        "message",
        "created_at",
        "updated_at",
        "read_at",
    ),
    "user_profiles": (
        "user_id",
        Derived("age_band", "date_of_birth", _age_band_today, "VARCHAR", as_of_date=True),
        Derived("income_band", "annual_income_cents", income_band_expr, "VARCHAR"),
        "employment_status",
        "employment_length_years",
        "housing",
        "risk_preference",
        "country",
        "updated_at",
    ),
}

# Tables never read, with the reason.
SKIPPED_TABLES: dict[str, str] = {
    "idempotency_keys": "stored API responses of money-moving requests: operational, may hold personal data",
    "email_tokens": "secret: hashes of single-use email tokens",
    "auth_sessions": "secret: login sessions and client IPs",
    "refresh_tokens": "secret: refresh-token hashes",
    "audit_log": "personal: IPs, user agents and the changes made to people's records",
    "login_throttles": "security state (failed logins per account and client address), not analytics",
    "scheduled_jobs": "the worker's leases and run times: operational state, not analytics",
    "allocation_claims": "the run's lock on a listing; allocation_runs and allocations carry the same facts",
    "allocation_listings": "replay inputs of an allocation round (composite key): audit data kept by the API",
    "allocation_investors": "replay inputs of an allocation round (composite key): audit data kept by the API",
    "allocation_holdings": "replay inputs of an allocation round (composite key): audit data kept by the API",
    "auto_invest_rule_purposes": "purpose filters of a rule version (composite key); any_purpose is extracted",
    "portfolio_plan_notes": "the proposed notes of a plan (composite key); placed notes are investments",
    "servicing_runs": "the servicing job's run log (keyed by day): operational; its effects are in loan_servicing",
    "processor_transfers": "the processor outbox and each transfer's clearing state: operational; every cent it "
    "moved is in the ledger (processor_in_transit, investor_pending_cash)",
    "processor_events": "webhook deliveries kept for deduplication: operational",
    "sandbox_transfers": "the sandbox processor's own books (an external system's side), not the platform's",
    "sandbox_events": "the sandbox processor's webhook queue (an external system's side), not the platform's",
}

# Columns of extracted tables that are never read, with the reason.
EXCLUDED_COLUMNS: dict[str, dict[str, str]] = {
    "users": {
        "email": "personal",
        "password_hash": "secret",
        "password_changed_at": "security state, not analytics",
    },
    "user_profiles": {
        "legal_name": "personal",
        "address_line1": "personal",
        "address_line2": "personal",
        "city": "personal (location finer than the country)",
        "region": "personal (location finer than the country)",
        "postal_code": "personal",
        "phone": "personal",
        "employer": "personal (identifies a person together with the bands)",
    },
    "notifications": {"dedupe_key": "operational (exactly-once delivery), not analytics"},
    "payments": {"transfer_ref_id": "the processor outbox row of the debit (processor_transfers is not extracted)"},
    "loan_events": {
        "actor_name": "may be a person's username; actor_user_id and actor_type are kept",
        "details": "free-form JSON that may carry personal data (the reason a person typed)",
    },
    "credit_pulls": {
        "bureau_file": "personal and sensitive: the bureau's attributes (only the *_band columns leave the API)",
        "report_id": "personal: the bureau's report identifier",
        "consent_ip": "personal",
        "consent_user_agent": "personal",
    },
    "allocation_runs": {"settings": "configuration snapshot (JSON), not analytics"},
    "outbox_messages": {
        "payload": "personal: the message body (names, amounts, addresses)",
        "dedupe_key": "operational (exactly-once delivery)",
        "lease_until": "worker lease, operational",
        "leased_by": "worker lease, operational",
        "last_error": "may echo a recipient address or a webhook URL",
    },
    "webhook_subscriptions": {
        "secret": "secret: the signing key of the subscriber's webhooks",
        "url": "the subscriber's endpoint, may embed credentials",
    },
}


@dataclass(frozen=True)
class ById:
    """Append-only: rows are only ever inserted (ledger postings are refused UPDATE/DELETE by triggers).

    `reopen`: for tables that have no `updated_at` but whose rows change only until they reach a final
    state (a note `committed` -> issued / cancelled / released, a rule until superseded, an outbox message
    until sent or dead): a predicate on the WAREHOUSE's copy naming the rows that may still change. Those
    ids are re-read on every run, besides the new ids, and upserted; a row in a final state never changes
    again, so nothing is missed (the API's state machines are the contract, `matches_source` the net)."""

    reopen: str | None = None
    kind: Literal["append_only"] = "append_only"


@dataclass(frozen=True)
class ByUpdatedAt:
    """Mutable: the API stamps `column` on every insert and update."""

    column: str = "updated_at"
    kind: Literal["mutable"] = "mutable"


LOAD_MODES: dict[str, ById | ByUpdatedAt] = {
    "users": ByUpdatedAt(),
    "investors": ById(),  # no column of an investor row ever changes after registration
    "loans": ByUpdatedAt(),
    "investments": ById(reopen="status = 'committed'"),  # committed -> issued | cancelled | released
    "installments": ByUpdatedAt(),
    # settled -> returned | superseded: the API writes the status and a `payment_return` (or, for a later
    # payment re-applied after an earlier one's return, `payment_reallocation`) ledger transaction naming the
    # payment in one transaction, so the payments to re-read are exactly those the warehouse still holds as
    # settled although its ledger (loaded first in the same snapshot, see `load_order`) has their reversal
    "payments": ById(
        reopen='status = \'settled\' and payment_id in (select payment_id from "raw"."ledger_transactions" '
        "where kind in ('payment_return', 'payment_reallocation'))"
    ),
    "payment_distributions": ById(),
    "cash_transfers": ById(),
    "ledger_accounts": ByUpdatedAt(),
    "ledger_transactions": ById(),
    "ledger_entries": ById(),
    "notifications": ByUpdatedAt(),
    "user_profiles": ByUpdatedAt(),
    "loan_events": ById(),  # append-only by triggers
    "credit_pulls": ById(),  # one pull per loan, never changed
    "score_input_bins": ById(),  # written once with the loan
    "auto_invest_rules": ById(reopen="superseded_at is null"),  # one immutable version per PUT, then superseded
    "allocation_runs": ById(reopen="finished_at is null"),
    "allocations": ById(reopen="investment_id is null"),  # the note is linked once placed
    "portfolio_plans": ById(reopen="status = 'proposed'"),  # proposed -> placed
    "outbox_messages": ById(reopen="state = 'pending'"),  # pending -> sent | dead
    "webhook_subscriptions": ById(reopen="disabled_at is null"),
    "loan_fees": ById(),  # assessed once, never changed
    "loan_servicing": ByUpdatedAt(),  # one row per loan, rewritten by every servicing run
    # Keyed by the note, whose id says nothing about when it was charged off: watermark on created_at (rows
    # never change after insert).
    "note_charge_offs": ByUpdatedAt("created_at"),
}
APPEND_ONLY_TABLES = tuple(name for name, mode in LOAD_MODES.items() if isinstance(mode, ById))
MUTABLE_TABLES = tuple(name for name, mode in LOAD_MODES.items() if isinstance(mode, ByUpdatedAt))

# The safety windows re-read below each mark (see the module doc). A row stamped more than this before
# the mark and committed after it would be missed; `matches_source` (counts in the same snapshot) and the
# reconciliation checks catch that, and a full refresh repairs it.
LOOKBACK_IDS = 1_000
LOOKBACK_UPDATED = timedelta(minutes=10)
# Rows per DuckDB insert: large enough that per-batch overhead vanishes, small enough to bound memory.
BATCH_ROWS = 1_000_000
# Ids of reopened rows per source query (literal IN lists).
REOPEN_CHUNK = 20_000


def load_order(names: Iterable[str]) -> list[str]:
    """The tables in the order one run loads them: payments after ledger_transactions, whose
    `payment_return` transactions say which settled payments to re-read."""
    ordered = list(names)
    if "payments" in ordered and "ledger_transactions" in ordered:
        ordered.remove("payments")
        ordered.insert(ordered.index("ledger_transactions") + 1, "payments")
    return ordered


def unclassified(tables: Iterable[sa.Table]) -> list[str]:
    """Tables (`name`) and columns (`table.column`) of the API that nobody has decided about yet: neither
    extracted (copied or masked) nor listed in SKIPPED_TABLES / EXCLUDED_COLUMNS. The extractor does not
    read them; a test requires this list to be empty so each one is a conscious decision."""
    out = []
    for table in tables:
        if table.name in SKIPPED_TABLES:
            continue
        if table.name not in EXTRACT:
            out.append(table.name)
            continue
        read = {e.source if isinstance(e, Derived) else e for e in EXTRACT[table.name]}
        decided = read | set(EXCLUDED_COLUMNS.get(table.name, {}))
        out.extend(f"{table.name}.{c.name}" for c in table.columns if c.name not in decided)
    return sorted(out)


def source_tables() -> dict[str, sa.Table]:
    """The extracted (allow-listed) tables, by name, in the order the API's metadata declares them."""
    return {t.name: t for t in Base.metadata.sorted_tables if t.name in EXTRACT}


_POLARS_TYPES: dict[str, pl.DataType] = {
    "BIGINT": pl.Int64(),
    "INTEGER": pl.Int32(),
    "TIMESTAMP": pl.Datetime("us"),  # UTC, naive
    "DATE": pl.Date(),
    "BOOLEAN": pl.Boolean(),
    "VARCHAR": pl.String(),
}


@dataclass(frozen=True)
class WarehouseColumn:
    """One column of raw.<table>: its name and type there, the source column it is read from, and the
    Polars expression that masks the source value in memory (None: copied as is)."""

    name: str
    sql_type: str
    source: sa.Column
    compute: Callable[[pl.Expr], pl.Expr] | None = None
    as_of_date: bool = False

    @property
    def polars_type(self) -> pl.DataType:
        return _POLARS_TYPES[self.sql_type]


def _source_type(column: sa.Column) -> str:
    t = column.type
    while isinstance(t, sa.TypeDecorator):  # e.g. the API's UtcDateTime
        t = t.impl_instance
    if isinstance(t, sa.BigInteger):
        return "BIGINT"
    if isinstance(t, sa.Integer):
        return "INTEGER"
    if isinstance(t, sa.DateTime):
        return "TIMESTAMP"
    if isinstance(t, sa.Date):
        return "DATE"
    if isinstance(t, sa.Boolean):
        return "BOOLEAN"
    if isinstance(t, sa.String | sa.Text):
        return "VARCHAR"
    raise TypeError(f"no warehouse type for {column.table.name}.{column.name} ({t!r})")


def extracted_columns(table: sa.Table) -> list[WarehouseColumn]:
    """The allow-listed warehouse columns of `table` (KeyError if the table is not extracted)."""
    out = []
    for entry in EXTRACT[table.name]:
        if isinstance(entry, Derived):
            source = table.c[entry.source]
            sql_type = entry.sql_type if entry.compute is not None else (entry.sql_type or _source_type(source))
            if sql_type is None:
                raise TypeError(f"{table.name}.{entry.name}: a computed column needs a sql_type")
            out.append(WarehouseColumn(entry.name, sql_type, source, entry.compute, entry.as_of_date))
        else:
            source = table.c[entry]
            out.append(WarehouseColumn(entry, _source_type(source), source))
    return out


def primary_key(table: sa.Table) -> sa.Column:
    (pk,) = table.primary_key.columns
    return pk


# ---- the source: one ADBC connection, one snapshot ----------------------------------------------------


def adbc_uri(sqlalchemy_url: str) -> tuple[str, str]:
    """(dialect name, the ADBC driver's URI) for an API database URL (SQLite or PostgreSQL)."""
    url = make_url(sqlalchemy_url)
    backend = url.get_backend_name()
    if backend == "sqlite":
        database = url.database or ""
        if database in ("", ":memory:"):
            raise ValueError("an in-memory SQLite database cannot be read by another connection")
        # read-only: the extractor can never write to, or create, the API's database
        return "sqlite", f"file:{Path(database).resolve()}?mode=ro"
    if backend == "postgresql":
        return "postgresql", url.set(drivername="postgresql").render_as_string(hide_password=False)
    raise ValueError(f"unsupported source database {backend!r} (SQLite or PostgreSQL)")


class SourceSnapshot:
    """Every read of one extraction run, inside one read transaction of one ADBC connection."""

    def __init__(self, connection: Any, dialect_name: str) -> None:
        self.connection = connection
        self.dialect_name = dialect_name
        self.dialect: sa.Dialect = sqlite.dialect() if dialect_name == "sqlite" else postgresql.dialect()
        self._tables: set[str] | None = None

    def sql(self, query: sa.sql.Select) -> str:
        # Literal binds: the values are our own marks (ints, UTC datetimes), and ADBC's SQLite ('?') and
        # PostgreSQL ('$1') drivers disagree on placeholders.
        return str(query.compile(dialect=self.dialect, compile_kwargs={"literal_binds": True}))

    def has_table(self, name: str) -> bool:
        if self._tables is None:
            kwargs = {"db_schema_filter": "public"} if self.dialect_name == "postgresql" else {}
            objects = self.connection.adbc_get_objects(depth="tables", **kwargs).read_all().to_pylist()
            self._tables = {
                t["table_name"]
                for catalog in objects
                for schema in catalog["catalog_db_schemas"] or []
                for t in schema["db_schema_tables"] or []
            }
        return name in self._tables

    def scalar(self, query: sa.sql.Select) -> Any:
        with self.connection.cursor() as cur:
            cur.execute(self.sql(query))
            rows = cur.fetchall()
        return rows[0][0]

    def batches(self, query: sa.sql.Select, witness: Sequence[str] | None = None) -> Iterator[pa.RecordBatch]:
        """The query's result as Arrow record batches. `witness`: the warehouse SQL type of each selected
        column, to prepend SQLite's typed witness row (key NULL) the caller drops."""
        sql = self.sql(query)
        if witness is not None and self.dialect_name == "sqlite":
            literals = ["null" if i == 0 else _witness_literal(t) for i, t in enumerate(witness)]
            names = [c.name for c in query.selected_columns]
            head = ", ".join(f'{lit} as "{name}"' for lit, name in zip(literals, names, strict=True))
            sql = f"select {head} union all select * from ({sql})"
        with self.connection.cursor() as cur:
            if self.dialect_name == "sqlite":
                cur.adbc_statement.set_options(**{"adbc.sqlite.query.batch_rows": "65536"})
            cur.execute(sql)
            yield from cur.fetch_record_batch()


def _rows(source: SourceSnapshot, query: sa.sql.Select) -> list[tuple[Any, ...]]:
    with source.connection.cursor() as cur:
        cur.execute(source.sql(query))
        return [tuple(r) for r in cur.fetchall()]


def _witness_literal(sql_type: str) -> str:
    return "0" if sql_type in ("BIGINT", "INTEGER", "BOOLEAN") else "''"


@contextmanager
def open_snapshot(sqlalchemy_url: str) -> Iterator[SourceSnapshot | None]:
    """A read snapshot of the API's database, or None when an SQLite file does not exist yet (a fresh
    clone: there is nothing to read, and the extractor must not create it)."""
    dialect_name, uri = adbc_uri(sqlalchemy_url)
    if dialect_name == "sqlite":
        import adbc_driver_sqlite.dbapi as driver

        if not Path(uri.removeprefix("file:").split("?", 1)[0]).exists():
            yield None
            return
        connection = driver.connect(uri)
    else:
        import adbc_driver_postgresql.dbapi as driver  # type: ignore[no-redef]

        connection = driver.connect(uri)
        connection.adbc_connection.set_options(
            **{"adbc.connection.transaction.isolation_level": "adbc.connection.transaction.isolation.repeatable_read"}
        )
        with connection.cursor() as cur:  # the transaction's first statement: it never writes
            cur.execute("set transaction read only")
    try:
        # autocommit is off: the first read opens the transaction every later read shares
        yield SourceSnapshot(connection, dialect_name)
    finally:
        try:
            connection.rollback()
        finally:
            connection.close()


# ---- the warehouse side -----------------------------------------------------------------------------


def _ddl(table: sa.Table) -> str:
    cols = ", ".join(f'"{c.name}" {c.sql_type}' for c in extracted_columns(table))
    return f'"{RAW_SCHEMA}"."{table.name}" ({cols})'


def _warehouse_columns(duck: duckdb.DuckDBPyConnection, table_name: str) -> list[str]:
    return [
        r[0]
        for r in duck.execute(
            "select column_name from information_schema.columns where table_schema = ? and table_name = ? "
            "order by ordinal_position",
            [RAW_SCHEMA, table_name],
        ).fetchall()
    ]


def _ensure_table(duck: duckdb.DuckDBPyConnection, table: sa.Table) -> bool:
    """Create raw.<table>, or add the columns the allow-list gained. True when columns were added (their
    values for rows already loaded are unknown, so the table is then re-read whole)."""
    existing = _warehouse_columns(duck, table.name)
    if not existing:
        duck.execute(f"create table {_ddl(table)}")
        return False
    added = False
    for column in extracted_columns(table):
        if column.name not in existing:
            duck.execute(f'alter table "{RAW_SCHEMA}"."{table.name}" add column "{column.name}" {column.sql_type}')
            added = True
    return added


def _ensure_state(duck: duckdb.DuckDBPyConnection) -> None:
    duck.execute(f'create schema if not exists "{RAW_SCHEMA}"')
    duck.execute(
        f'create table if not exists "{RAW_SCHEMA}"."{STATE_TABLE}" '
        "(table_name VARCHAR, masked_as_of DATE, generation BIGINT)"
    )
    duck.execute(
        f'create table if not exists "{RAW_SCHEMA}"."{TABLES_STATE}" '
        "(table_name VARCHAR, probe VARCHAR, changed_generation BIGINT)"
    )


def _stored_probe(duck: duckdb.DuckDBPyConnection, table_name: str) -> str | None:
    rows = duck.execute(
        f'select probe from "{RAW_SCHEMA}"."{TABLES_STATE}" where table_name = ?', [table_name]
    ).fetchall()
    return rows[0][0] if rows else None


def _store_probe(duck: duckdb.DuckDBPyConnection, table_name: str, probe: str) -> None:
    if _stored_probe(duck, table_name) == probe:
        return  # a no-change run writes nothing
    rows = duck.execute(f'select count(*) from "{RAW_SCHEMA}"."{TABLES_STATE}" where table_name = ?', [table_name])
    if rows.fetchall()[0][0]:
        duck.execute(f'update "{RAW_SCHEMA}"."{TABLES_STATE}" set probe = ? where table_name = ?', [probe, table_name])
    else:
        duck.execute(
            f'insert into "{RAW_SCHEMA}"."{TABLES_STATE}" (table_name, probe) values (?, ?)', [table_name, probe]
        )


def changed_since(duck: duckdb.DuckDBPyConnection, built: int | None) -> list[str] | None:
    """The tables (and AS_OF_CHANGE) that changed after extract generation `built`, or None when that
    cannot be told (no build yet, or EVERYTHING_CHANGED): then everything must be rebuilt."""
    exists = duck.execute(
        "select count(*) from information_schema.tables where table_schema = ? and table_name = ?",
        [RAW_SCHEMA, TABLES_STATE],
    ).fetchall()[0][0]
    if built is None or not exists:
        return None
    rows = duck.execute(
        f'select table_name from "{RAW_SCHEMA}"."{TABLES_STATE}" where changed_generation > ? order by 1', [built]
    ).fetchall()
    names = [r[0] for r in rows]
    return None if EVERYTHING_CHANGED in names else names


def _time_sum(dialect_name: str, column: sa.Column) -> Any:
    """A deterministic number that moves whenever any of the timestamps summed moves (SQLite stores them as
    text, PostgreSQL as timestamps). Only ever compared with the same expression over the same source."""
    if dialect_name == "sqlite":
        return sa.func.total(sa.func.julianday(column))
    return sa.func.sum(sa.extract("epoch", column))


def _probe(source: SourceSnapshot, table: sa.Table, column: sa.Column, floor: datetime) -> tuple[int, str]:
    """(rows, a fingerprint of the rows stamped at or after `floor`: their count, newest stamp and the sum
    of their stamps): aggregates of the source table, no row read. Equal fingerprints at the same floor
    mean no row was inserted or re-stamped inside the window since the last run.

    Two queries, not one: the window's aggregates are a range of the stamp's index (every watermark column
    is indexed), the table's count(*) the smallest index; in one statement SQLite scans the whole table
    for both."""
    window = sa.select(sa.func.count(), sa.func.max(column), _time_sum(source.dialect_name, column)).where(
        column >= floor
    )
    with source.connection.cursor() as cur:
        cur.execute(source.sql(sa.select(sa.func.count()).select_from(table)))
        ((rows,),) = cur.fetchall()
        cur.execute(source.sql(window.select_from(table)))
        ((windowed, newest, stamps),) = cur.fetchall()
    return int(rows), repr((floor.isoformat(), str(newest), int(windowed or 0), str(stamps)))


def extracted_on(duck: duckdb.DuckDBPyConnection) -> date | None:
    """The platform day of the last run (raw.extract_as_of), None before the first."""
    exists = duck.execute(
        "select count(*) from information_schema.tables where table_schema = ? and table_name = ?",
        [RAW_SCHEMA, AS_OF_TABLE],
    ).fetchall()[0][0]
    if not exists:
        return None
    rows = duck.execute(f'select max(as_of_date) from "{RAW_SCHEMA}"."{AS_OF_TABLE}"').fetchall()
    return rows[0][0] if rows else None


def record_run(duck: duckdb.DuckDBPyConnection, changed_rows: int, changed_tables: Sequence[str] = ()) -> int:
    """After a run: keep `raw.extract_as_of` at the platform day and bump the generation when the run
    changed anything (rows, or the day); the tables that changed (EVERYTHING_CHANGED for a change dbt cannot
    trace to a table) and AS_OF_CHANGE when the day moved are stamped with it. Returns the generation
    (what the warehouse's content is)."""
    _ensure_state(duck)
    duck.execute(f'create table if not exists "{RAW_SCHEMA}"."{AS_OF_TABLE}" (as_of_date DATE)')
    today = clock.today()
    rows = duck.execute(f'select as_of_date from "{RAW_SCHEMA}"."{AS_OF_TABLE}"').fetchall()
    day_changed = [r[0] for r in rows] != [today]
    if day_changed:
        duck.execute(f'delete from "{RAW_SCHEMA}"."{AS_OF_TABLE}"')
        duck.execute(f'insert into "{RAW_SCHEMA}"."{AS_OF_TABLE}" values (?)', [today])
    generation = _masked_as_of_raw(duck, "*generation")
    current = 0 if generation is None else int(generation)
    if changed_rows or day_changed or generation is None:
        current += 1
        duck.execute(f'delete from "{RAW_SCHEMA}"."{STATE_TABLE}" where table_name = ?', ["*generation"])
        duck.execute(
            f'insert into "{RAW_SCHEMA}"."{STATE_TABLE}" (table_name, generation) values (?, ?)',
            ["*generation", current],
        )
        stamped = [*changed_tables, *([AS_OF_CHANGE] if day_changed else [])]
        if generation is None:
            stamped.append(EVERYTHING_CHANGED)
        for name in dict.fromkeys(stamped):
            updated = duck.execute(
                f'update "{RAW_SCHEMA}"."{TABLES_STATE}" set changed_generation = ? where table_name = ? returning 1',
                [current, name],
            ).fetchall()
            if not updated:
                duck.execute(
                    f'insert into "{RAW_SCHEMA}"."{TABLES_STATE}" (table_name, changed_generation) values (?, ?)',
                    [name, current],
                )
    return current


def generation(duck: duckdb.DuckDBPyConnection) -> int | None:
    """The generation of the raw data in this warehouse (None before the first run)."""
    exists = duck.execute(
        "select count(*) from information_schema.tables where table_schema = ? and table_name = ?",
        [RAW_SCHEMA, STATE_TABLE],
    ).fetchall()[0][0]
    if not exists:
        return None
    value = _masked_as_of_raw(duck, "*generation")
    return None if value is None else int(value)


def _masked_as_of_raw(duck: duckdb.DuckDBPyConnection, table_name: str) -> Any:
    rows = duck.execute(
        f'select generation from "{RAW_SCHEMA}"."{STATE_TABLE}" where table_name = ?', [table_name]
    ).fetchall()
    return rows[0][0] if rows else None


def _masked_as_of(duck: duckdb.DuckDBPyConnection, table_name: str) -> date | None:
    rows = duck.execute(
        f'select masked_as_of from "{RAW_SCHEMA}"."{STATE_TABLE}" where table_name = ?', [table_name]
    ).fetchall()
    return rows[0][0] if rows else None


def _set_masked_as_of(duck: duckdb.DuckDBPyConnection, table_name: str, day: date) -> None:
    duck.execute(f'delete from "{RAW_SCHEMA}"."{STATE_TABLE}" where table_name = ?', [table_name])
    duck.execute(
        f'insert into "{RAW_SCHEMA}"."{STATE_TABLE}" (table_name, masked_as_of) values (?, ?)', [table_name, day]
    )


def drop_unlisted(duck: duckdb.DuckDBPyConnection, *, dry: bool = False) -> list[str]:
    """Drop every table, view and column of `raw` that the allow-list does not name, e.g. one copied by
    an older version of this extractor or since moved to SKIPPED_TABLES / EXCLUDED_COLUMNS. Returns
    what was dropped (`table` or `table.column`); `dry`: what would be, dropping nothing."""
    dropped: list[str] = []
    relations = duck.execute(
        "select table_name, table_type from information_schema.tables where table_schema = ?", [RAW_SCHEMA]
    ).fetchall()
    for name, kind in relations:
        if name in BOOKKEEPING_TABLES:
            continue
        if name not in EXTRACT:
            if not dry:
                duck.execute(f'drop {"view" if kind == "VIEW" else "table"} "{RAW_SCHEMA}"."{name}"')
            dropped.append(name)
            continue
        allowed = {e.name if isinstance(e, Derived) else e for e in EXTRACT[name]}
        for column in _warehouse_columns(duck, name):
            if column not in allowed:
                if not dry:
                    duck.execute(f'alter table "{RAW_SCHEMA}"."{name}" drop column "{column}"')
                dropped.append(f"{name}.{column}")
    return dropped


def _normalise(series: pl.Series, column: WarehouseColumn) -> pl.Series:
    """Whatever the driver delivered (SQLite: text dates and timestamps; PostgreSQL: timestamptz) as the
    warehouse type: timestamps naive UTC, dates as dates, integers at their width."""
    target = column.polars_type
    dtype = series.dtype
    if isinstance(target, pl.Datetime):
        if dtype == pl.String:
            # SQLAlchemy writes `YYYY-MM-DD HH:MM:SS.ffffff`, SQLite's CURRENT_TIMESTAMP the same without
            # the fraction; %.f accepts both
            return series.str.to_datetime("%Y-%m-%d %H:%M:%S%.f", time_unit="us", strict=True)
        if isinstance(dtype, pl.Datetime) and dtype.time_zone is not None:
            return series.dt.convert_time_zone("UTC").dt.replace_time_zone(None).dt.cast_time_unit("us")
    if isinstance(target, pl.Date) and dtype == pl.String:
        return series.str.slice(0, 10).str.to_date("%Y-%m-%d", strict=True)
    return series.cast(target, strict=True)


def _source_expr_type(column: WarehouseColumn) -> WarehouseColumn:
    """The column as the source holds it (for a masked column: its source's type, before masking)."""
    if column.compute is None:
        return column
    return WarehouseColumn(column.source.name, _source_type(column.source), column.source)


def _to_frame(batch: pa.RecordBatch | pa.Table, columns: Sequence[WarehouseColumn], pk_label: str) -> pl.DataFrame:
    """Arrow from the driver -> the warehouse batch. Masked source values exist only here, in memory."""
    frame = pl.from_arrow(batch)
    assert isinstance(frame, pl.DataFrame)
    frame = frame.filter(pl.col(pk_label).is_not_null())  # SQLite's witness row
    values = pl.DataFrame(
        [_normalise(frame.get_column(f"c{i}"), _source_expr_type(c)).alias(f"c{i}") for i, c in enumerate(columns)]
    )
    return values.select(
        (c.compute(pl.col(f"c{i}")).cast(c.polars_type) if c.compute is not None else pl.col(f"c{i}")).alias(c.name)
        for i, c in enumerate(columns)
    )


class _Failed:
    def __init__(self, error: BaseException) -> None:
        self.error = error


def _prefetched(items: Iterable[Any], depth: int = 2) -> Iterator[Any]:
    """`items` produced on a second thread while the caller consumes them: reading the source (ADBC) and
    shaping batches (Polars) overlap with DuckDB's inserts — all three release the GIL, and there are two
    cores. Errors on either side stop both."""
    box: queue.Queue[Any] = queue.Queue(maxsize=depth)
    done, stop = object(), threading.Event()

    def produce() -> None:
        try:
            for item in items:
                while not stop.is_set():
                    try:
                        box.put(item, timeout=0.1)
                        break
                    except queue.Full:
                        continue
                if stop.is_set():
                    return
        except BaseException as exc:  # handed to the consumer, raised there
            box.put(_Failed(exc))
        box.put(done)

    worker = threading.Thread(target=produce, name="extract-prefetch", daemon=True)
    worker.start()
    try:
        while True:
            item = box.get()
            if item is done:
                break
            if isinstance(item, _Failed):
                raise item.error
            yield item
    finally:
        stop.set()
        while worker.is_alive():  # unblock a producer waiting on a full queue, then let it end
            try:
                box.get_nowait()
            except queue.Empty:
                worker.join(timeout=0.1)


def _rebatch(batches: Iterable[pa.RecordBatch], rows: int) -> Iterator[pa.Table]:
    pending: list[pa.RecordBatch] = []
    count = 0
    for batch in batches:
        pending.append(batch)
        count += batch.num_rows
        if count >= rows:
            yield pa.Table.from_batches(pending)
            pending, count = [], 0
    if pending:
        yield pa.Table.from_batches(pending)


@dataclass(frozen=True)
class LoadResult:
    table: str
    mode: str  # "incremental" | "full_refresh"
    rows_read: int
    rows_inserted: int  # new rows
    rows_updated: int  # rows replaced by a newer version
    high_water_mark: str | None  # the id or updated_at mark after the load
    warehouse_rows: int
    # all rows of the source table in the run's snapshot; for an insert-only table after the platform day's first
    # run, the warehouse's rows at or below the window's floor plus the source's past it (see load_table)
    source_rows: int
    seconds: float = 0.0
    # the table was (or, in a dry run, would be) read whole: new, widened, a full refresh or the day's masking
    whole: bool = False

    @property
    def matches_source(self) -> bool:
        return self.warehouse_rows == self.source_rows


def load_table(
    source: SourceSnapshot | None,
    duck: duckdb.DuckDBPyConnection,
    table: sa.Table,
    *,
    full_refresh: bool = False,
    batch_rows: int = BATCH_ROWS,
    dry: bool = False,
) -> LoadResult:
    """Load one table into raw.<table> in one DuckDB transaction and count it against the source
    (in the same snapshot the rows were read in).

    `dry`: write nothing (`duck` may be read-only, e.g. the published snapshot) and report what the load
    would do: rows it would insert or update, or `whole` when it would read the table whole (without
    reading it)."""
    if dry and full_refresh:
        raise ValueError("a dry run of a full refresh would only say: everything")
    started = time.perf_counter()
    columns = extracted_columns(table)
    pk = primary_key(table)
    if pk.name not in {c.name for c in columns}:
        raise ValueError(f"{table.name}: the primary key {pk.name} must be extracted under its own name")
    pk_index = next(i for i, c in enumerate(columns) if c.name == pk.name)
    if pk_index != 0:
        raise ValueError(f"{table.name}: the primary key must be the first extracted column")
    mode = LOAD_MODES[table.name]
    target = f'"{RAW_SCHEMA}"."{table.name}"'
    present = source is not None and source.has_table(table.name)
    today = clock.today()
    dated = any(c.as_of_date for c in columns)
    col_list = ", ".join(f'"{c.name}"' for c in columns)
    # Only the allow-listed source columns are read, one per warehouse column (labelled, so a source
    # column feeding two warehouse columns is read twice rather than merged).
    select_cols = [c.source.label(f"c{i}") for i, c in enumerate(columns)]

    if dry:
        if not _has_state(duck) or _warehouse_missing_columns(duck, table):
            return _would_read_whole(table, started)
    else:
        duck.execute(f'create schema if not exists "{RAW_SCHEMA}"')
        _ensure_state(duck)
    duck.execute("begin transaction")
    try:
        if full_refresh:
            duck.execute(f"create or replace table {_ddl(table)}")
            widened = False
        else:
            widened = False if dry else _ensure_table(duck, table)
        ((count_before,),) = duck.execute(f"select count(*) from {target}").fetchall()
        remasked = dated and _masked_as_of(duck, table.name) != today
        whole = full_refresh or widened or count_before == 0 or remasked
        if dry and remasked:  # every row's masked values are computed again: the table is rewritten
            duck.execute("rollback")
            return _would_read_whole(table, started)
        query = sa.select(*select_cols).order_by(pk)
        queries = [query]
        probe: str | None = None
        source_rows: int | None = None
        if not whole and present:
            assert source is not None
            if isinstance(mode, ById):
                ((hwm, held),) = duck.execute(f'select max("{pk.name}"), count(*) from {target}').fetchall()
                floor = max(int(hwm) - LOOKBACK_IDS, 0)
                if mode.reopen is None and extracted_on(duck) == today:
                    # Immutable rows, and this platform day's first run counted the whole table already: count
                    # only the window past the floor, in the source (a range of its primary key: no scan of the
                    # table, whose count(*) reads every page on SQLite), and take the rows at or below the floor
                    # as held. They never change (the API refuses UPDATE and DELETE on the ledger; the other
                    # tables are insert-only), and the day's first run, which counts every row, would catch a
                    # row that went missing.
                    ((newest,),) = _rows(source, sa.select(sa.func.max(pk)).select_from(table))
                    ((windowed,),) = _rows(source, sa.select(sa.func.count()).select_from(table).where(pk > floor))
                    ((held_below,),) = duck.execute(
                        f'select count(*) from {target} where "{pk.name}" <= ?', [floor]
                    ).fetchall()
                    source_rows = int(held_below) + int(windowed)
                else:
                    ((newest, source_rows),) = _rows(
                        source, sa.select(sa.func.max(pk), sa.func.count()).select_from(table)
                    )
                # Append-only: the same newest id and the same count mean the same rows (the warehouse's
                # ids are a subset of the source's), so nothing past the mark is read at all.
                unchanged = newest is not None and int(newest) == int(hwm) and int(source_rows) == int(held)
                queries = [] if unchanged else [query.where(pk > floor)]
                if mode.reopen is not None:
                    reopened = [
                        r[0]
                        for r in duck.execute(
                            f'select "{pk.name}" from {target} '
                            f"where ({mode.reopen.format(table=target)}) "
                            f'and "{pk.name}" <= ? order by 1',
                            [floor if not unchanged else int(hwm)],
                        ).fetchall()
                    ]
                    queries += [
                        sa.select(*select_cols).where(pk.in_(reopened[i : i + REOPEN_CHUNK])).order_by(pk)
                        for i in range(0, len(reopened), REOPEN_CHUNK)
                    ]
            else:
                ((hwm, held),) = duck.execute(f'select max("{mode.column}"), count(*) from {target}').fetchall()
                # The window starts below the warehouse's newest stamp, but never above the platform's clock:
                # a row stamped in the future would otherwise lift the mark past changes made before it.
                now = clock.utcnow().astimezone(UTC).replace(tzinfo=None)
                floor = (min(hwm, now) - LOOKBACK_UPDATED).replace(tzinfo=UTC)
                source_rows, probe = _probe(source, table, table.c[mode.column], floor)
                unchanged = probe == _stored_probe(duck, table.name) and source_rows == int(held)
                queries = [] if unchanged else [query.where(table.c[mode.column] >= floor)]

        rows_read = rows_inserted = rows_updated = 0
        if present:
            assert source is not None
            witness = [_source_expr_type(c).sql_type for c in columns]
            frames = (
                _to_frame(arrow, columns, "c0")
                for q in queries
                for arrow in _rebatch(source.batches(q, witness), batch_rows)
            )
            for frame in _prefetched(frames):
                rows_read += frame.height
                if frame.height == 0:
                    continue
                duck.register("batch", frame.to_arrow())
                try:
                    if dry:
                        inserted, updated = _would_upsert(duck, target, col_list, pk.name)
                        rows_inserted += inserted
                        rows_updated += updated
                    elif full_refresh or count_before == 0:  # nothing to compare against: a plain insert
                        duck.execute(f"insert into {target} ({col_list}) select {col_list} from batch")
                        rows_inserted += frame.height
                    else:
                        inserted, updated = _upsert(duck, target, col_list, pk.name)
                        rows_inserted += inserted
                        rows_updated += updated
                finally:
                    duck.unregister("batch")
        if dry:
            pass  # nothing is stamped or probed again: the dry run only counts
        elif dated and present and (whole or _masked_as_of(duck, table.name) is None):
            _set_masked_as_of(duck, table.name, today)
        if isinstance(mode, ByUpdatedAt) and present and source is not None and not dry:
            if probe is None:  # a whole read: probe now, for the next run's comparison
                ((wh_newest,),) = duck.execute(f'select max("{mode.column}") from {target}').fetchall()
                if wh_newest is not None:
                    now = clock.utcnow().astimezone(UTC).replace(tzinfo=None)
                    floor = (min(wh_newest, now) - LOOKBACK_UPDATED).replace(tzinfo=UTC)
                    source_rows, probe = _probe(source, table, table.c[mode.column], floor)
            elif rows_inserted or rows_updated:
                # the mark moved, so the next run's window starts elsewhere: probe that window now
                ((wh_newest,),) = duck.execute(f'select max("{mode.column}") from {target}').fetchall()
                now = clock.utcnow().astimezone(UTC).replace(tzinfo=None)
                floor = (min(wh_newest, now) - LOOKBACK_UPDATED).replace(tzinfo=UTC)
                source_rows, probe = _probe(source, table, table.c[mode.column], floor)
            if probe is not None:
                _store_probe(duck, table.name, probe)

        mark_column = pk.name if isinstance(mode, ById) else mode.column
        ((new_hwm, warehouse_rows),) = duck.execute(f'select max("{mark_column}"), count(*) from {target}').fetchall()
        duck.execute("rollback" if dry else "commit")
    except BaseException:
        duck.execute("rollback")
        raise

    if source_rows is None:
        source_rows = int(source.scalar(sa.select(sa.func.count()).select_from(table))) if present and source else 0
    return LoadResult(
        table=table.name,
        mode="full_refresh" if full_refresh else "incremental",
        rows_read=rows_read,
        rows_inserted=rows_inserted,
        rows_updated=rows_updated,
        high_water_mark=None if new_hwm is None else str(new_hwm),
        warehouse_rows=int(warehouse_rows),
        source_rows=int(source_rows),
        seconds=time.perf_counter() - started,
        # a dry run returned above when the copy would be rewritten; reading an empty copy whole is a count
        whole=whole and not dry,
    )


def _has_state(duck: duckdb.DuckDBPyConnection) -> bool:
    ((count,),) = duck.execute(
        "select count(*) from information_schema.tables where table_schema = ? and table_name in (?, ?)",
        [RAW_SCHEMA, STATE_TABLE, TABLES_STATE],
    ).fetchall()
    return int(count) == 2


def _warehouse_missing_columns(duck: duckdb.DuckDBPyConnection, table: sa.Table) -> bool:
    """Whether raw.<table> is missing, or lacks a column the allow-list names (a load would create or widen it)."""
    existing = set(_warehouse_columns(duck, table.name))
    return not existing or any(c.name not in existing for c in extracted_columns(table))


def _would_read_whole(table: sa.Table, started: float) -> LoadResult:
    return LoadResult(
        table=table.name,
        mode="incremental",
        rows_read=0,
        rows_inserted=0,
        rows_updated=0,
        high_water_mark=None,
        warehouse_rows=0,
        source_rows=0,
        seconds=time.perf_counter() - started,
        whole=True,
    )


def _would_upsert(duck: duckdb.DuckDBPyConnection, target: str, col_list: str, pk: str) -> tuple[int, int]:
    """What `_upsert` would write for `batch`, writing nothing: (new rows, rows that differ)."""
    ((changed, updated),) = duck.execute(
        f"""
        with held as (
            select {col_list} from {target} where "{pk}" in (select "{pk}" from batch)
        ),
        changed as (
            select {col_list} from batch except select {col_list} from held
        )
        select count(*), count(*) filter (where "{pk}" in (select "{pk}" from held)) from changed
        """
    ).fetchall()
    return int(changed) - int(updated), int(updated)


def _upsert(duck: duckdb.DuckDBPyConnection, target: str, col_list: str, pk: str) -> tuple[int, int]:
    """Write the rows of `batch` that are new or differ from the warehouse's version; (inserted, updated).
    Unchanged rows (the safety window's re-reads) are not touched, so a no-change run writes nothing."""
    duck.execute(
        f"create or replace temp table changed as select {col_list} from batch "
        f'except select {col_list} from {target} where "{pk}" in (select "{pk}" from batch)'
    )
    ((changed,),) = duck.execute("select count(*) from changed").fetchall()
    if not changed:
        duck.execute("drop table changed")
        return 0, 0
    ((updated,),) = duck.execute(
        f'select count(*) from {target} where "{pk}" in (select "{pk}" from changed)'
    ).fetchall()
    if updated:
        duck.execute(f'delete from {target} where "{pk}" in (select "{pk}" from changed)')
    duck.execute(f'insert into {target} ({col_list}) select {col_list} from changed order by "{pk}"')
    duck.execute("drop table changed")
    return int(changed) - int(updated), int(updated)


@dataclass(frozen=True)
class LedgerWindow:
    """What changed in the raw ledger since a published build that passed the ledger checks over every row:
    postings with `entry_id > entry_floor` (its mark less LOOKBACK_IDS: a PostgreSQL id can commit late) and
    accounts stamped at or after `stamp_floor` (its newest stamp less LOOKBACK_UPDATED). Postings never
    change, so a transaction or an account with neither still holds what that build checked; the extract
    cannot have added anything outside the window either (it reads only past the same lookbacks)."""

    entry_floor: int
    stamp_floor: datetime


def unbalanced_ledger(duck: duckdb.DuckDBPyConnection, window: LedgerWindow | None = None) -> tuple[int, int]:
    """(ledger total in cents, number of transactions whose postings do not sum to zero) in raw; with a
    `window`, only the transactions holding a posting inside it are summed per transaction (the total is
    always over every posting: one column sum)."""
    ((total,),) = duck.execute(f'select coalesce(sum(amount_cents), 0) from "{RAW_SCHEMA}".ledger_entries').fetchall()
    touched = (
        ""
        if window is None
        else f'where transaction_id in (select transaction_id from "{RAW_SCHEMA}".ledger_entries '
        f"where entry_id > {int(window.entry_floor)})"
    )
    ((bad,),) = duck.execute(
        f'select count(*) from (select transaction_id from "{RAW_SCHEMA}".ledger_entries {touched} '
        "group by transaction_id having sum(amount_cents) <> 0)"
    ).fetchall()
    return int(total), int(bad)


def accounts_off_postings(
    duck: duckdb.DuckDBPyConnection, window: LedgerWindow | None = None
) -> tuple[int, list[dict[str, int]]]:
    """(accounts checked, the first accounts whose stored balance differs from the sum of their postings);
    with a `window`, only the accounts with a posting or a stored balance inside it."""
    if window is None:
        rows = duck.execute(
            f"""
            with postings as (
                select account_id, sum(amount_cents) as posted_cents
                from "{RAW_SCHEMA}".ledger_entries group by account_id
            )
            select a.account_id, a.balance_cents, coalesce(p.posted_cents, 0)
            from "{RAW_SCHEMA}".ledger_accounts as a
            full outer join postings as p on a.account_id = p.account_id
            where a.account_id is null or a.balance_cents is distinct from coalesce(p.posted_cents, 0)
            order by 1 limit 50
            """
        ).fetchall()
        ((checked,),) = duck.execute(f'select count(*) from "{RAW_SCHEMA}".ledger_accounts').fetchall()
    else:
        touched = f"""
            touched as (
                select account_id from "{RAW_SCHEMA}".ledger_entries where entry_id > {int(window.entry_floor)}
                union
                select account_id from "{RAW_SCHEMA}".ledger_accounts where updated_at >= ?
            )"""
        postings = f"""
            postings as (
                select account_id, sum(amount_cents) as posted_cents
                from "{RAW_SCHEMA}".ledger_entries
                where account_id in (select account_id from touched) group by account_id
            )"""
        rows = duck.execute(
            f"""
            with {touched}, {postings}
            select t.account_id, a.balance_cents, coalesce(p.posted_cents, 0)
            from touched as t
            left join "{RAW_SCHEMA}".ledger_accounts as a on t.account_id = a.account_id
            left join postings as p on t.account_id = p.account_id
            where a.account_id is null or a.balance_cents is distinct from coalesce(p.posted_cents, 0)
            order by 1 limit 50
            """,
            [window.stamp_floor],
        ).fetchall()
        ((checked,),) = duck.execute(f"with {touched} select count(*) from touched", [window.stamp_floor]).fetchall()
    return int(checked), [{"account_id": r[0], "balance_cents": r[1], "posted_cents": int(r[2])} for r in rows]
