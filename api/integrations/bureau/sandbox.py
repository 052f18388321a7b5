"""The embedded default bureau: `models.bureau.sandbox_bureau_file`, a real LendingClub file drawn among loans
like the application. It keys on the applicant's identity (name, date of birth, postal code), as a real bureau
matches on identity, so one person gets the same file whichever account or test registers them; the key is a
hash, so the draw never carries the identity itself."""

from __future__ import annotations

import hashlib

from api.integrations.bureau.base import Applicant, BureauResponse, Consent
from models.bureau import sandbox_bureau_file


def identity_key(applicant: Applicant) -> str:
    identity = (
        f"{applicant.legal_name.strip().lower()}|{applicant.date_of_birth.isoformat()}|"
        f"{applicant.postal_code.strip().upper()}"
    )
    return hashlib.sha256(identity.encode()).hexdigest()


class SandboxBureau:
    name = "sandbox"

    def pull(
        self, applicant: Applicant, consent: Consent, *, amount_cents: int, term_months: int, purpose: str
    ) -> BureauResponse:
        del consent  # the sandbox needs none; the caller has recorded it before asking
        bureau_file = sandbox_bureau_file(
            identity_key(applicant),
            amount_cents=amount_cents,
            term_months=term_months,
            annual_income_cents=applicant.annual_income_cents,
            employment_length_years=applicant.employment_length_years,
            housing=applicant.housing,
            purpose=purpose,
        )
        return BureauResponse(bureau=self.name, inquiry="hard", file=bureau_file)
