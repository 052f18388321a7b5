"""The one settings object. Every value comes from a `PEERLEND_`-prefixed environment variable
(or `.env`); README.md lists them."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Literal

from pydantic import Field, SecretStr, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

PROJECT_ROOT = Path(__file__).resolve().parent.parent
DEFAULT_DATA_DIR = PROJECT_ROOT / "data"
_DEV_SECRET = "dev-only-insecure-secret-change-me-0123456789"
_DEV_WEBHOOK_SECRET = "dev-only-processor-webhook-secret-0123456789"


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="PEERLEND_", env_file=".env", extra="ignore")

    env: Literal["development", "test", "production"] = "development"
    database_url: str = Field(
        default=f"sqlite:///{DEFAULT_DATA_DIR / 'peerlend.db'}",
        description="SQLAlchemy URL of the transactional database (SQLite or postgresql+psycopg).",
    )
    warehouse_path: Path = Field(
        default=DEFAULT_DATA_DIR / "warehouse.duckdb", description="DuckDB file the pipelines write."
    )
    jwt_secret: SecretStr = SecretStr(_DEV_SECRET)
    access_token_minutes: int = Field(default=15, ge=1, le=24 * 60)
    refresh_token_days: int = Field(default=14, ge=1, le=90)
    public_base_url: str = Field(
        default="http://127.0.0.1:8000", description="Base of the links in emails (verification, reset)."
    )
    # Email: real SMTP when smtp_host is set; otherwise messages are written to mailbox_dir.
    smtp_host: str | None = None
    smtp_port: int = 25
    smtp_starttls: bool = False
    smtp_username: str | None = None
    smtp_password: SecretStr | None = None
    mail_from: str = "Peerlend <no-reply@peerlend.example>"
    mailbox_dir: Path = Field(default=DEFAULT_DATA_DIR / "mailbox")
    verification_token_hours: int = Field(default=24, ge=1)
    reset_token_minutes: int = Field(default=30, ge=5)
    # Passwords and login throttling.
    min_password_length: int = Field(default=10, ge=8)
    min_password_score: int = Field(default=3, ge=0, le=4, description="zxcvbn score a password must reach")
    login_max_failures: int = Field(
        default=5, ge=1, description="failed logins from one address before that address must wait"
    )
    lockout_minutes: int = Field(default=15, ge=1, description="longest wait imposed on one (account, address)")
    # Rate limits (the `limits` library's notation), per client address.
    rate_limit_storage: str = Field(default="memory://", description="e.g. redis://127.0.0.1:6379 in production")
    rate_limit_namespace: str = Field(default="peerlend", description="prefix of the counters in a shared store")
    rate_limit_login: str = "10/minute"
    rate_limit_register: str = "5/minute"
    rate_limit_token: str = "30/minute"
    rate_limit_resend: str = "3/hour"
    investment_step_cents: int = Field(default=2500, description="Notes are bought in multiples of this.")
    listing_days: int = Field(default=14, ge=1, description="How long a loan stays listed before it expires.")
    model_dir: Path = Field(
        default=PROJECT_ROOT / "models" / "artifacts", description="Where credit-risk model artifacts live."
    )
    log_json: bool = False
    # Serving and the outside world.
    workers: int = Field(default=1, ge=1, le=64, description="uvicorn worker processes (python -m api.serve)")
    threads: int = Field(default=16, ge=1, le=200, description="request threads per worker")
    trusted_proxies: list[str] = Field(
        default_factory=list,
        description="Addresses or CIDR blocks of reverse proxies whose X-Forwarded-For/-Proto are believed; "
        "empty (the default) trusts none, so clients cannot pick their own address",
    )
    max_body_bytes: int = Field(default=1024 * 1024, ge=1024, description="Larger request bodies get 413 unread")
    docs_enabled: bool | None = Field(
        default=None, description="Serve /docs, /redoc and /openapi.json; default on, off in production"
    )
    metrics_token: SecretStr | None = Field(
        default=None, description="Bearer token for GET /metrics; required in production, else /metrics is off"
    )

    # The marketplace (docs/marketplace.md).
    model_version: str | None = Field(
        default=None,
        description="Credit model version to serve (a directory under model_dir); default: the one LATEST names "
        "at start-up. Either way the API pins one version for its lifetime and records it on every loan.",
    )
    credit_bureau: Literal["sandbox"] = Field(default="sandbox", description="Which CreditBureau pulls files.")
    partial_funding_threshold_pct: int = Field(
        default=70,
        ge=1,
        le=100,
        description="At expiry, a listing funded to this share is issued if its borrower accepted partial funding",
    )
    max_investment_per_loan_cents: int = Field(
        default=1_000_000, ge=2500, description="The most one investor may commit to one loan, in cents"
    )
    auto_invest_max_share_pct: int = Field(
        default=80,
        ge=0,
        le=100,
        description="Automated investors may fill at most this share of a listing; the "
        "rest is held back for investors who choose notes themselves",
    )
    auto_invest_rounds: int = Field(default=3, ge=1, le=10, description="Set-based rounds per auto-invest run")
    plan_max_loan_share_pct: int = Field(
        default=10, ge=1, le=100, description="A portfolio plan puts at most this share of its amount in one loan"
    )
    plan_valid_minutes: int = Field(default=30, ge=1, description="How long a proposed portfolio plan can be placed")
    webhook_allow_private_targets: bool = Field(
        default=False,
        description="Allow webhook URLs on private, loopback or link-local addresses (tests and local demos only)",
    )
    webhook_timeout_seconds: float = Field(default=5.0, gt=0, le=30)
    outbox_max_attempts: int = Field(default=8, ge=1, le=30, description="Deliveries tried before a notice is dead")
    outbox_retry_base_seconds: int = Field(
        default=30, ge=1, description="First retry delay; it doubles with each failed attempt (capped at 6 hours)"
    )
    worker_poll_seconds: float = Field(default=1.0, gt=0, le=60, description="How often the worker looks for due jobs")
    worker_job_intervals: dict[str, int] = Field(
        default_factory=lambda: {
            "deliver_outbox": 5,
            "auto_invest": 60,
            "expire_listings": 60,
            "issue_funded": 60,
            "service_loans": 300,
            "processor": 30,
            # whole-table scans: once a day
            "reconcile": 86_400,
        },
        description="Seconds between runs of each worker job",
    )

    # Servicing (docs/servicing.md).
    servicing_fee_bps: int = Field(
        default=100, ge=0, le=10_000, description="Platform servicing fee, taken from the note holders' share"
    )
    collection_fee_bps: int = Field(
        default=1_800, ge=0, le=10_000, description="Collection fee kept from recoveries after charge-off"
    )
    grace_days: int = Field(default=15, ge=0, le=60, description="Days after a due date before a late fee")
    late_fee_min_cents: int = Field(default=1_500, ge=0, description="Late fee floor, in cents")
    late_fee_bps: int = Field(default=500, ge=0, le=10_000, description="Late fee as a share of what is unpaid")
    charge_off_days: int = Field(default=120, ge=30, le=365, description="Days past due at which a loan is charged off")

    # The payment processor (docs/servicing.md, "Money through the processor").
    processor_settle_days: int = Field(
        default=2, ge=0, le=10, description="Business days the sandbox processor takes to settle a transfer"
    )
    processor_webhook_secret: SecretStr = SecretStr(_DEV_WEBHOOK_SECRET)
    processor_webhook_tolerance_seconds: int = Field(
        default=300, ge=10, le=3_600, description="Webhooks signed longer ago than this are refused as replays"
    )
    processor_webhook_url: str | None = Field(
        default=None,
        description="Where the sandbox delivers its webhooks over HTTP; unset, it hands them to the API's own "
        "webhook handler in-process (the embedded default)",
    )

    @property
    def serve_docs(self) -> bool:
        return self.docs_enabled if self.docs_enabled is not None else self.env != "production"

    @model_validator(mode="after")
    def _refuse_placeholder_secret_in_production(self) -> Settings:
        if self.env == "production" and self.jwt_secret.get_secret_value() == _DEV_SECRET:
            raise ValueError("PEERLEND_JWT_SECRET must be set to a real secret in production")
        if self.env == "production" and self.processor_webhook_secret.get_secret_value() == _DEV_WEBHOOK_SECRET:
            raise ValueError("PEERLEND_PROCESSOR_WEBHOOK_SECRET must be set to a real secret in production")
        if len(self.jwt_secret.get_secret_value()) < 32:
            raise ValueError("PEERLEND_JWT_SECRET must be at least 32 characters")
        if self.env == "production" and self.workers > 1 and self.rate_limit_storage.startswith("memory"):
            raise ValueError(
                "several workers would each keep their own rate-limit counters: set PEERLEND_RATE_LIMIT_STORAGE "
                "to a shared store (redis://host:6379) or run one worker"
            )
        return self


@lru_cache
def get_settings() -> Settings:
    return Settings()
