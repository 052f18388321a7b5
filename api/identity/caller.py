"""Who is calling: the signed-in user as a value, read once per request with their session.

Services take a `Caller`, never a role string to compare: ownership questions ("may this caller see that
loan?") are answered by the caller's properties and by the scoped queries of each domain's repository."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from api.kit.errors import NotFound

BORROWER, INVESTOR, ADMIN, ANALYST = "borrower", "investor", "admin", "analyst"


@dataclass(frozen=True, slots=True)
class Caller:
    user_id: int
    username: str
    email: str
    role: str
    email_verified: bool
    session_id: str
    investor_id: int | None
    created_at: datetime

    @property
    def is_borrower(self) -> bool:
        return self.role == BORROWER

    @property
    def is_investor(self) -> bool:
        return self.role == INVESTOR

    @property
    def is_staff(self) -> bool:
        return self.role in (ADMIN, ANALYST)

    def investor(self) -> int:
        """The caller's investor account id; only investors have one."""
        if self.investor_id is None:
            raise NotFound("no investor account for this user")
        return self.investor_id

    def owns_borrower_side(self, borrower_id: int) -> bool:
        return self.is_borrower and borrower_id == self.user_id
