"""Operator commands.

uv run python -m api.cli create-admin --username ops --email ops@example.com
    creates the first admin (staff cannot self-register); the password comes from
    PEERLEND_ADMIN_PASSWORD or is asked for without echo. The address counts as verified.
"""

from __future__ import annotations

import argparse
import getpass
import os
import sys

from api.clock import utcnow
from api.db.session import build_engine, build_sessionmaker
from api.errors import PeerlendError
from api.services import listings as listings_service
from api.services import users as users_service
from api.services.audit import ClientInfo
from api.settings import get_settings


def create_admin(username: str, email: str, password: str) -> int:
    settings = get_settings()
    engine = build_engine(settings.database_url)
    session = build_sessionmaker(engine)()
    try:
        with session.begin():
            user, _ = users_service.register_user(
                session,
                settings,
                username=username,
                email=email,
                password=password,
                role="admin",
                client=ClientInfo(ip=None, user_agent="api.cli"),
            )
            user.email_verified_at = utcnow()
            user_id = user.user_id
    finally:
        session.close()
        engine.dispose()
    return user_id


def expire_listings() -> list[int]:
    settings = get_settings()
    engine = build_engine(settings.database_url)
    session = build_sessionmaker(engine)()
    try:
        with session.begin():
            return listings_service.expire_stale(session, settings)
    finally:
        session.close()
        engine.dispose()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m api.cli", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    commands = parser.add_subparsers(dest="command", required=True)
    admin = commands.add_parser("create-admin", help="create an admin account")
    admin.add_argument("--username", required=True)
    admin.add_argument("--email", required=True)
    commands.add_parser("expire-listings", help="expire stale listings and return committed cash")
    args = parser.parse_args(argv)
    if args.command == "expire-listings":
        expired = expire_listings()
        print(f"expired {len(expired)} listing(s): {expired}")
        return 0
    password = os.environ.get("PEERLEND_ADMIN_PASSWORD") or getpass.getpass("Password for the new admin: ")
    try:
        user_id = create_admin(args.username, args.email, password)
    except PeerlendError as exc:
        print(f"error: {exc.detail}", file=sys.stderr)
        return 2
    print(f"created admin {args.username} (user_id {user_id})")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
