"""The daily servicing job: for one day, once it is over, every loan in repayment is replayed as of that day and
the replay's decisions are written down (api/servicing/service.py `sync`): installments falling due, grace,
late fees (once per installment: a unique key), delinquency buckets as lifecycle events, charge-off at 120 days
past due with each note's principal written off.

Idempotent and restartable: each loan commits on its own, under its row lock, and a second run of the same day
finds nothing left to change; `servicing_runs` records the day as finished only at the end, so a crashed run
is simply run again. A loan already serviced past the day (a later payment or run) is left alone, so a
backfill of an old date never rewinds a loan. Run by the worker (`service_loans`, for yesterday) and by
`python -m api.cli service --date YYYY-MM-DD`."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, timedelta

import structlog

from api.kit.clock import today, utcnow
from api.kit.db import Database
from api.lending import lifecycle
from api.lending import repository as loans_repo
from api.servicing import repository as repo
from api.servicing import service
from api.settings import Settings

log = structlog.get_logger("peerlend.servicing")


@dataclass
class DayReport:
    day: date
    loans: int = 0
    changes: int = 0
    fees: int = 0
    charge_offs: int = 0
    skipped: int = 0
    already_done: bool = False
    failed: list[int] = field(default_factory=list)

    def counts(self) -> dict[str, int]:
        return {"loans": self.loans, "changes": self.changes, "fees": self.fees, "charge_offs": self.charge_offs}

    def __str__(self) -> str:
        if self.already_done:
            return f"{self.day.isoformat()} already serviced"
        return (
            f"{self.day.isoformat()}: {self.loans} loans, {self.changes} status changes, {self.fees} late fees, "
            f"{self.charge_offs} charge-offs, {self.skipped} skipped, {len(self.failed)} failed"
        )


def service_day(database: Database, day: date, settings: Settings, *, force: bool = False) -> DayReport:
    report = DayReport(day)
    with database.transaction() as session:
        run = repo.run_of(session, day)
        if run is not None and run.finished_at is not None and not force:
            report.already_done = True
            return report
        repo.start_run(session, day, utcnow())
    with database.transaction(write=False) as session:
        loan_ids = repo.loans_in_servicing(session)
    for loan_id in loan_ids:
        try:
            with database.transaction() as session:
                loan = loans_repo.get_loan(session, loan_id, lock=True)
                if loan is None or loan.disbursed_at is None or not lifecycle.accepts_repayment(loan.status):
                    continue
                snap = repo.snapshot(session, loan_id)
                if loan.disbursed_at.date() > day or (snap is not None and snap.as_of > day):
                    report.skipped += 1
                    continue
                counts = service.sync(session, loan, service.replay(session, loan, day, settings), service.SERVICER)
                report.loans += 1
                report.changes += counts["changes"]
                report.fees += counts["fees"]
                report.charge_offs += counts["charge_offs"]
        except Exception as exc:  # one loan's failure must not stop the others; the run stays unfinished
            log.error("servicing_failed", loan_id=loan_id, day=day.isoformat(), exc_info=exc)
            report.failed.append(loan_id)
    if not report.failed:
        with database.transaction() as session:
            repo.finish_run(session, day, utcnow(), report.counts())
    log.info("servicing_day", day=day.isoformat(), **report.counts(), failed=len(report.failed))
    return report


def service_yesterday(database: Database, settings: Settings) -> DayReport:
    """The worker's job: the day that just ended (a day is serviced once its payments are all in)."""
    return service_day(database, today() - timedelta(days=1), settings)
