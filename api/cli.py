"""Operator commands.

uv run python -m api.cli create-admin --username ops --email ops@example.com
    creates the first admin (staff cannot self-register); the password comes from
    PEERLEND_ADMIN_PASSWORD or is asked for without echo. The address counts as verified.
uv run python -m api.cli expire-listings
    ends listings whose time is up: partial issuance, or expiry returning committed cash (the worker,
    `python -m api.worker`, runs this on its schedule).
uv run python -m api.cli issue-funded
    issues every fully funded loan a crash left between funding and issuance.
uv run python -m api.cli service [--date YYYY-MM-DD] [--force]
    services every loan as of the end of that day (default yesterday): dues, grace, late fees, delinquency
    buckets, charge-off (idempotent; the worker runs it daily; use it for backfills).
uv run python -m api.cli reconcile
    proves the ledger sums to zero, loan principal = sum over notes, processor settlement = ledger cash;
    prints every difference and exits 1 on any.
uv run python -m api.cli processor [--settle-all]
    the worker's `processor` job once: submit queued transfers, let the sandbox settle and return what is due,
    deliver its webhooks; `--settle-all` first settles every pending sandbox transfer today (demos).
uv run python -m api.cli processor-report
    prints the processor's settlement report, one line per transfer.
uv run python -m api.cli return-payment --payment-id N --code R01
    the sandbox returns the payment's debit (R01, R02, R03, R10), and the return is delivered at once: the
    payment, its distribution and its settlement reversed exactly, the loan re-serviced.
uv run python -m api.cli check-ledger
    proves the books: every transaction balances and every account's balance equals its postings.
"""

from __future__ import annotations

import argparse
import getpass
import os
import sys
from datetime import date, timedelta

from api.identity import service as users_service
from api.identity.audit import ClientInfo
from api.integrations.processor.jobs import build_processor
from api.kit.clock import today, utcnow
from api.kit.db import Database
from api.kit.errors import PeerlendError
from api.kit.money import format_cents
from api.ledger import repository as ledger_repo
from api.lending import issuance
from api.lending import listings as listings_service
from api.settings import get_settings


def create_admin(database: Database, username: str, email: str, password: str) -> int:
    with database.transaction() as session:
        user, _, _ = users_service.register_user(
            session,
            get_settings(),
            username=username,
            email=email,
            password=password,
            role="admin",
            client=ClientInfo(ip=None, user_agent="api.cli"),
        )
        user.email_verified_at = utcnow()
        return user.user_id


def check_ledger(database: Database) -> int:
    with database.transaction(write=False) as session:
        unbalanced = ledger_repo.unbalanced_transactions(session)
        mismatches = ledger_repo.balance_mismatches(session)
        total = sum(b for _, b in ledger_repo.trial_balance(session))
    for transaction_id in unbalanced:
        print(f"unbalanced transaction {transaction_id}")
    for account, stored, summed in mismatches:
        print(f"{account}: stored balance {stored} != sum of postings {summed}")
    if total != 0:
        print(f"accounts sum to {total} cents, not zero")
    if unbalanced or mismatches or total:
        return 1
    print("ledger sound: every transaction balances, every balance equals its postings, the books sum to zero")
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m api.cli", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    commands = parser.add_subparsers(dest="command", required=True)
    admin = commands.add_parser("create-admin", help="create an admin account")
    admin.add_argument("--username", required=True)
    admin.add_argument("--email", required=True)
    commands.add_parser("expire-listings", help="expire stale listings and return committed cash")
    commands.add_parser("issue-funded", help="issue fully funded loans left unissued")
    commands.add_parser("check-ledger", help="prove the ledger balances and balances equal postings")
    serve_day = commands.add_parser("service", help="service every loan as of the end of a day (default yesterday)")
    serve_day.add_argument("--date", type=date.fromisoformat, default=None, help="YYYY-MM-DD, a day that is over")
    serve_day.add_argument("--force", action="store_true", help="run again even if the day is marked done")
    commands.add_parser("reconcile", help="reconcile ledger, notes and processor settlement; exit 1 on differences")
    returned = commands.add_parser("return-payment", help="apply a processor return (R01, R02, ...) to a payment")
    returned.add_argument("--payment-id", type=int, required=True)
    returned.add_argument("--code", required=True, help="the ACH return code, e.g. R01")
    moving = commands.add_parser("processor", help="submit queued transfers, settle and return what is due")
    moving.add_argument("--settle-all", action="store_true", help="sandbox: settle every pending transfer today")
    commands.add_parser("processor-report", help="print the processor's settlement report")
    args = parser.parse_args(argv)
    database = Database(get_settings().database_url)
    processor = build_processor(get_settings(), database)
    try:
        if args.command == "expire-listings":
            report = listings_service.expire_due(database, get_settings())
            print(
                f"expired {len(report.expired)} listing(s): {report.expired}; funded partially "
                f"{len(report.funded_partially)}: {report.funded_partially}"
            )
            return 0
        if args.command == "issue-funded":
            issued = issuance.issue_all_funded(database)
            print(f"issued {len(issued)} loan(s): {issued}")
            return 0
        if args.command == "check-ledger":
            return check_ledger(database)
        if args.command == "service":
            from api.servicing import daily

            day = args.date or (today() - timedelta(days=1))
            if day >= today():
                print(f"error: {day.isoformat()} is not over yet; service a past day", file=sys.stderr)
                return 2
            outcome = daily.service_day(database, day, get_settings(), force=args.force)
            print(outcome)
            return 1 if outcome.failed else 0
        if args.command == "return-payment":
            from api.integrations.processor import jobs
            from api.integrations.processor.tables import ProcessorTransfer
            from api.payments.tables import Payment

            with database.transaction(write=False) as session:
                payment = session.get(Payment, args.payment_id)
                transfer = session.get(ProcessorTransfer, payment.transfer_ref_id) if payment else None
                reference = transfer.client_reference if transfer else None
            if reference is None:
                print(f"error: payment {args.payment_id} has no processor debit to return", file=sys.stderr)
                return 2
            try:
                processor.force_return(reference, args.code, on=today())
            except ValueError as exc:
                print(f"error: {exc}", file=sys.stderr)
                return 2
            print(jobs.run(database, processor, get_settings()))
            with database.transaction(write=False) as session:
                done = session.get(Payment, args.payment_id)
                print(f"payment {args.payment_id} is {done.status if done else 'missing'}")
            return 0
        if args.command == "processor":
            from api.integrations.processor import jobs

            print(jobs.run(database, processor, get_settings(), settle_all_now=args.settle_all))
            return 0
        if args.command == "processor-report":
            for line in processor.settlement_report():
                print(
                    f"{line.reference} {line.client_reference} {line.direction:7} "
                    f"{format_cents(line.amount_cents):>12} {line.status:8} {line.settled_on or '':10} "
                    f"{line.return_code or ''}"
                )
            return 0
        if args.command == "reconcile":
            from api.servicing.reconcile import reconcile

            found = reconcile(database, processor)
            for difference in found.differences:
                print(difference)
            print("reconciled: no differences" if found.ok else f"{len(found.differences)} difference(s)")
            return 0 if found.ok else 1
        password = os.environ.get("PEERLEND_ADMIN_PASSWORD") or getpass.getpass("Password for the new admin: ")
        try:
            user_id = create_admin(database, args.username, args.email, password)
        except PeerlendError as exc:
            print(f"error: {exc.detail}", file=sys.stderr)
            return 2
        print(f"created admin {args.username} (user_id {user_id})")
        return 0
    finally:
        database.dispose()


if __name__ == "__main__":
    raise SystemExit(main())
