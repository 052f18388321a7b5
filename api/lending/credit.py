"""What the app was built with for underwriting: the credit bureau and the pinned credit model (app state,
set by api/main.py at start-up), handed to the loan service by the endpoints."""

from __future__ import annotations

from dataclasses import dataclass

from fastapi import FastAPI, Request

from api.integrations.bureau.base import CreditBureau
from api.integrations.bureau.sandbox import SandboxBureau
from api.lending.scoring import pinned_scorer
from api.settings import Settings
from models.scoring import CreditScorer


@dataclass(frozen=True, slots=True)
class Underwriting:
    bureau: CreditBureau
    scorer: CreditScorer


def build(settings: Settings, bureau: CreditBureau | None = None) -> Underwriting:
    """The bureau named by PEERLEND_CREDIT_BUREAU (the sandbox is the embedded default) and the model version
    pinned for this process's lifetime."""
    return Underwriting(bureau=bureau or SandboxBureau(), scorer=pinned_scorer(settings))


def install(app: FastAPI, settings: Settings, bureau: CreditBureau | None = None) -> None:
    app.state.underwriting = build(settings, bureau)


def credit_of(request: Request) -> tuple[CreditBureau, CreditScorer]:
    underwriting: Underwriting = request.app.state.underwriting
    return underwriting.bureau, underwriting.scorer
