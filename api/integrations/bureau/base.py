"""The credit-bureau integration: one pull per loan application, with the applicant's consent.

`CreditBureau.pull` takes who the applicant is (`Applicant`: identity for matching, declared figures) and the
consent they gave, and returns a `BureauFile` (models.application) plus the bureau's name. The embedded
default is the sandbox (api/integrations/bureau/sandbox.py), deterministic per identity. A real bureau plugs in
behind the same protocol; docs/credit_model.md ("What a real bureau integration needs") lists what it must do:
permissible purpose and consent (FCRA 604), soft vs hard inquiries, identity matching with no-hit and thin-file
answers, attribute mapping to BureauFile's definitions, adverse-action reasons, retention and idempotent pulls.

A bureau file is personal data. It is stored with the application (table `credit_pulls`, column
`bureau_file`), never logged, never shown to investors, and the warehouse may read only its bands
(`credit_pulls.*_band` columns; see docs/marketplace.md).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import Protocol

from models.application import BureauFile

#: The authorisation text the applicant accepts (versioned: the version is stored with each consent).
CONSENT_VERSION = "2026-12-fcra-604a3a"
CONSENT_TEXT = (
    "I authorise Peerlend to obtain my consumer credit report from a credit bureau for this loan application "
    "(a hard inquiry) and to use it to decide whether to list my loan and at what rate."
)


@dataclass(frozen=True, slots=True)
class Consent:
    """The applicant's written (electronic) authorisation for one pull: when, from where, which text."""

    given_at: datetime
    text_version: str
    ip: str | None
    user_agent: str | None


@dataclass(frozen=True, slots=True)
class Applicant:
    user_id: int
    legal_name: str
    date_of_birth: date
    postal_code: str
    country: str
    annual_income_cents: int | None
    employment_length_years: int | None
    housing: str | None


@dataclass(frozen=True, slots=True)
class BureauResponse:
    bureau: str  # which bureau answered ("sandbox", "experian", ...)
    inquiry: str  # "hard" for an application
    file: BureauFile


class CreditBureau(Protocol):
    name: str

    def pull(
        self, applicant: Applicant, consent: Consent, *, amount_cents: int, term_months: int, purpose: str
    ) -> BureauResponse:
        """One hard inquiry for one application (callers pull once per application and store the answer)."""
        ...
