"""Who may do what: the one place that decides. Every endpoint declares one Permission through
`api.deps.require`; tests walk every route against this table.

A rule names the roles allowed, whether the email must be verified, and (for documentation and
the authorization tests) what ownership the service layer enforces on the resource. Resources the
caller may not see are reported as 404, so their existence stays private."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import Any

BORROWER, INVESTOR, ADMIN, ANALYST = "borrower", "investor", "admin", "analyst"
ALL_ROLES = frozenset({BORROWER, INVESTOR, ADMIN, ANALYST})


class Permission(StrEnum):
    PUBLIC = "public"
    PROFILE_OWN = "profile:own"
    NOTIFICATIONS_OWN = "notifications:own"
    SESSION_OWN = "session:own"
    LOAN_CREATE = "loan:create"
    LOAN_LIST = "loan:list"
    LOAN_READ = "loan:read"
    LOAN_SCHEDULE = "loan:schedule"
    LOAN_PAYMENTS = "loan:payments"
    LOAN_CANCEL = "loan:cancel"
    LISTINGS_EXPIRE = "listings:expire"
    INVEST = "investment:create"
    CASH_MOVE = "cash:move"
    PORTFOLIO_OWN = "portfolio:own"
    PAYMENT_MAKE = "payment:make"
    LEDGER_READ = "ledger:read"
    AUDIT_READ = "audit:read"
    STAFF_MANAGE = "staff:manage"
    REPORTS_READ = "reports:read"
    AUTO_INVEST = "auto-invest:own"
    ALLOCATIONS_RUN = "allocations:run"
    ALLOCATIONS_READ = "allocations:read"
    WEBHOOKS_OWN = "webhooks:own"


@dataclass(frozen=True)
class Rule:
    roles: frozenset[str]
    verified: bool = False
    ownership: str = "none"


POLICY: dict[Permission, Rule] = {
    Permission.PUBLIC: Rule(frozenset()),
    Permission.PROFILE_OWN: Rule(ALL_ROLES, ownership="self"),
    Permission.NOTIFICATIONS_OWN: Rule(ALL_ROLES, ownership="self"),
    Permission.SESSION_OWN: Rule(ALL_ROLES, ownership="self"),
    Permission.LOAN_CREATE: Rule(frozenset({BORROWER}), verified=True, ownership="self; adult with a complete profile"),
    Permission.LOAN_LIST: Rule(frozenset({BORROWER, INVESTOR, ADMIN}), ownership="borrowers see their own"),
    Permission.LOAN_READ: Rule(frozenset({BORROWER, INVESTOR, ADMIN}), ownership="borrowers: own loans"),
    Permission.LOAN_SCHEDULE: Rule(
        frozenset({BORROWER, INVESTOR, ADMIN}), ownership="borrower of the loan or a note holder"
    ),
    Permission.LOAN_PAYMENTS: Rule(frozenset({BORROWER, ADMIN}), ownership="borrower of the loan"),
    Permission.LOAN_CANCEL: Rule(frozenset({BORROWER}), ownership="borrower of the loan, while listed"),
    Permission.LISTINGS_EXPIRE: Rule(frozenset({ADMIN})),
    Permission.INVEST: Rule(frozenset({INVESTOR}), verified=True, ownership="self; own notes and plans"),
    Permission.CASH_MOVE: Rule(frozenset({INVESTOR}), verified=True, ownership="self"),
    Permission.PORTFOLIO_OWN: Rule(frozenset({INVESTOR}), ownership="self; own portfolio plans"),
    Permission.PAYMENT_MAKE: Rule(frozenset({BORROWER}), verified=True, ownership="borrower of the loan"),
    Permission.LEDGER_READ: Rule(frozenset({ADMIN})),
    Permission.AUDIT_READ: Rule(frozenset({ADMIN})),
    Permission.STAFF_MANAGE: Rule(frozenset({ADMIN})),
    Permission.REPORTS_READ: Rule(frozenset({ADMIN, ANALYST})),
    Permission.AUTO_INVEST: Rule(frozenset({INVESTOR}), verified=True, ownership="self"),
    Permission.ALLOCATIONS_RUN: Rule(frozenset({ADMIN})),
    Permission.ALLOCATIONS_READ: Rule(frozenset({ADMIN, ANALYST})),
    Permission.WEBHOOKS_OWN: Rule(frozenset({BORROWER, INVESTOR}), verified=True, ownership="self"),
}


def declared_permission(route: Any) -> Permission:
    """The one Permission a FastAPI route declares through its dependencies."""
    found: set[Permission] = set()
    stack = [route.dependant]
    while stack:
        dependant = stack.pop()
        permission = getattr(dependant.call, "permission", None)
        if isinstance(permission, Permission):
            found.add(permission)
        stack.extend(dependant.dependencies)
    if len(found) != 1:
        raise LookupError(f"{route.path} must declare exactly one permission, found {sorted(found) or 'none'}")
    return found.pop()


class Denied(Exception):
    def __init__(self, reason: str, unverified: bool = False) -> None:
        super().__init__(reason)
        self.reason = reason
        self.unverified = unverified


def check_role(permission: Permission, role: str) -> None:
    """Raise Denied unless a user of `role` may use `permission`."""
    rule = POLICY[permission]
    if permission is Permission.PUBLIC:
        return
    if role not in rule.roles:
        allowed = " or ".join(sorted(rule.roles))
        raise Denied(f"this action is for {allowed} accounts; you are logged in as {_article(role)} {role}")


def check_verified(permission: Permission, email_verified: bool) -> None:
    """Raise Denied when the permission needs a verified email address the user does not have."""
    if POLICY[permission].verified and not email_verified:
        raise Denied(
            "verify your email address first: follow the link we emailed you "
            "(POST /auth/resend-verification sends a new one)",
            unverified=True,
        )


def check(permission: Permission, role: str, email_verified: bool) -> None:
    """Raise Denied unless a user of `role`, verified or not, may use `permission`."""
    check_role(permission, role)
    check_verified(permission, email_verified)


def _article(role: str) -> str:
    return "an" if role[0] in "aeiou" else "a"
