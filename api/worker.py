"""The product's scheduler: a small process that runs the platform's due jobs.

    uv run python -m api.worker            # run until SIGTERM / Ctrl-C
    uv run python -m api.worker --once     # run whatever is due now, then exit (cron, tests)
    uv run python -m api.worker --jobs deliver_outbox,expire_listings

Jobs (intervals in PEERLEND_WORKER_JOB_INTERVALS, seconds):
- `processor`: money through the payment processor: queued transfers submitted from the outbox, the sandbox's
  settlements and returns falling due, its webhooks delivered (api/integrations/processor/jobs.py);
- `deliver_outbox`: email and webhook notices (api/notifications/outbox.py);
- `auto_invest`: allocate new listings to investors' auto-invest rules (api/lending/auto_invest.py);
- `expire_listings`: end listings whose time is up: partial issuance or release (api/lending/listings.py);
- `issue_funded`: the sweeper, issuing any funded loan a crash left unissued (api/lending/issuance.py);
- `service_loans`: the daily servicing run for the day that just ended (api/servicing/daily.py; a no-op once
  that day is done, so its interval only bounds how soon after midnight it runs);
- `reconcile`: ledger, notes and processor settlement reconciled; differences are logged as errors
  (api/servicing/reconcile.py).

The schedule lives in the database (`scheduled_jobs`: when each job is next due), so it survives restarts: a
job that fell due while no worker ran runs as soon as one starts. A worker takes a due job by leasing its row
with one conditional UPDATE, so two workers never run the same job at once, and a worker that dies mid-job
loses its lease after JOB_LEASE and another takes over. Every job is idempotent and also safe against a second
process on its own (row locks, SKIP LOCKED on PostgreSQL, claims with unique keys), so the lease is about not
doing work twice, not about correctness.
"""

from __future__ import annotations

import argparse
import signal
import threading
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, cast

import structlog
from sqlalchemy import Table, or_, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from api.integrations.email.mailer import Mailer, build_mailer
from api.integrations.processor.base import PaymentProcessor
from api.integrations.processor.jobs import build_processor
from api.integrations.webhooks.client import HttpWebhookSender, WebhookSender
from api.kit.clock import utcnow
from api.kit.db import Database
from api.kit.log_config import configure_logging
from api.notifications.outbox import deliver_due, worker_name
from api.notifications.tables import ScheduledJob
from api.settings import Settings, get_settings

log = structlog.get_logger("peerlend.worker")
JOBS_TABLE = cast(Table, ScheduledJob.__table__)
JOB_LEASE = timedelta(minutes=10)
JOB_NAMES = (
    "processor",
    "deliver_outbox",
    "auto_invest",
    "expire_listings",
    "issue_funded",
    "service_loans",
    "reconcile",
)


@dataclass
class Worker:
    settings: Settings
    database: Database
    processor: PaymentProcessor
    mailer: Mailer
    sender: WebhookSender
    name: str

    @classmethod
    def build(cls, settings: Settings, **overrides: Any) -> Worker:
        values: dict[str, Any] = {
            "settings": settings,
            "database": Database(settings.database_url),
            "processor": None,
            "mailer": build_mailer(settings),
            "sender": HttpWebhookSender(
                allow_private=settings.webhook_allow_private_targets,
                require_https=settings.env == "production",
                timeout=settings.webhook_timeout_seconds,
            ),
            "name": worker_name(),
        }
        values.update(overrides)
        if values["processor"] is None:
            values["processor"] = build_processor(settings, values["database"])
        return cls(**values)

    def jobs(self) -> dict[str, Callable[[], str]]:
        from api.lending import auto_invest, issuance, listings

        def deliver() -> str:
            report = deliver_due(self.database, self.settings, self.mailer, self.sender, worker=self.name)
            return f"sent {report.sent}, failed {report.failed} ({report.dead} dead)"

        def allocate() -> str:
            done = auto_invest.run(self.database, self.settings, trigger="worker")
            return f"run {done.run_id}: {done.listings} listings, {done.notes} notes"

        def expire() -> str:
            report = listings.expire_due(self.database, self.settings)
            return f"expired {len(report.expired)}, funded partially {len(report.funded_partially)}"

        def sweep() -> str:
            return f"issued {len(issuance.issue_all_funded(self.database))}"

        def service_loans() -> str:
            from api.servicing import daily

            return str(daily.service_yesterday(self.database, self.settings))

        def reconcile() -> str:
            from api.servicing.reconcile import reconcile as run_reconciliation

            found = run_reconciliation(self.database, self.processor)
            if not found.ok:
                log.error("reconciliation_differences", differences=found.differences[:50])
            return "no differences" if found.ok else f"{len(found.differences)} difference(s)"

        def move_money() -> str:
            from api.integrations.processor import jobs as processor_jobs

            return str(processor_jobs.run(self.database, self.processor, self.settings))

        return {
            "processor": move_money,
            "deliver_outbox": deliver,
            "auto_invest": allocate,
            "expire_listings": expire,
            "issue_funded": sweep,
            "service_loans": service_loans,
            "reconcile": reconcile,
        }

    def interval(self, job: str) -> timedelta:
        return timedelta(seconds=self.settings.worker_job_intervals.get(job, 60))

    def ensure_schedule(self, names: tuple[str, ...] = JOB_NAMES) -> None:
        now = utcnow()
        with self.database.transaction() as session:
            insert = pg_insert if self.database.dialect == "postgresql" else sqlite_insert
            session.execute(
                insert(JOBS_TABLE).on_conflict_do_nothing(),
                [{"name": name, "next_run_at": now, "runs": 0} for name in names],
            )

    def _claim(self, job: str, now: datetime) -> bool:
        with self.database.transaction() as session:
            result: Any = session.execute(
                update(JOBS_TABLE)
                .where(
                    JOBS_TABLE.c.name == job,
                    JOBS_TABLE.c.next_run_at <= now,
                    or_(JOBS_TABLE.c.lease_until.is_(None), JOBS_TABLE.c.lease_until < now),
                )
                .values(lease_until=now + JOB_LEASE, leased_by=self.name, last_started_at=now)
            )
            return bool(result.rowcount)

    def _finish(self, job: str, outcome: str) -> None:
        now = utcnow()
        with self.database.transaction() as session:
            session.execute(
                update(JOBS_TABLE)
                .where(JOBS_TABLE.c.name == job, JOBS_TABLE.c.leased_by == self.name)
                .values(
                    lease_until=None,
                    leased_by=None,
                    next_run_at=now + self.interval(job),
                    last_finished_at=now,
                    last_outcome=outcome[:300],
                    runs=JOBS_TABLE.c.runs + 1,
                )
            )

    def run_due(self, names: tuple[str, ...] = JOB_NAMES, *, force: bool = False) -> dict[str, str]:
        """Run every job in `names` that is due (all of them with `force`); returns each outcome."""
        self.ensure_schedule(names)
        jobs = self.jobs()
        outcomes = {}
        for job in names:
            now = utcnow()
            if force:
                with self.database.transaction() as session:
                    session.execute(update(JOBS_TABLE).where(JOBS_TABLE.c.name == job).values(next_run_at=now))
            if not self._claim(job, now):
                continue
            try:
                outcome = jobs[job]()
            except Exception as exc:  # a failed run is retried at its next interval; the loop goes on
                outcome = f"failed: {type(exc).__name__}: {exc}"
                log.error("job_failed", job=job, exc_info=exc)
            self._finish(job, outcome)
            outcomes[job] = outcome
            log.info("job_ran", job=job, outcome=outcome)
        return outcomes

    def schedule(self) -> list[Any]:
        with self.database.transaction(write=False) as session:
            return list(session.execute(select(JOBS_TABLE).order_by(JOBS_TABLE.c.name)).all())

    def loop(self, stop: threading.Event, names: tuple[str, ...] = JOB_NAMES) -> None:
        log.info("worker_started", worker=self.name, jobs=list(names))
        while not stop.is_set():
            self.run_due(names)
            stop.wait(self.settings.worker_poll_seconds)
        log.info("worker_stopped", worker=self.name)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m api.worker", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--once", action="store_true", help="run the due jobs once and exit")
    parser.add_argument("--force", action="store_true", help="with --once: run the jobs even if not due yet")
    parser.add_argument("--jobs", default=",".join(JOB_NAMES), help=f"comma-separated subset of {','.join(JOB_NAMES)}")
    args = parser.parse_args(argv)
    names = tuple(n.strip() for n in args.jobs.split(",") if n.strip())
    unknown = sorted(set(names) - set(JOB_NAMES))
    if unknown:
        parser.error(f"unknown job(s): {', '.join(unknown)}")
    settings = get_settings()
    configure_logging(settings.log_json)
    worker = Worker.build(settings)
    try:
        if args.once:
            for job, outcome in worker.run_due(names, force=args.force).items():
                print(f"{job}: {outcome}")
            return 0
        stop = threading.Event()
        for signum in (signal.SIGTERM, signal.SIGINT):
            signal.signal(signum, lambda *_: stop.set())
        worker.loop(stop, names)
        return 0
    finally:
        worker.database.dispose()


if __name__ == "__main__":
    raise SystemExit(main())
