"""Settings, read from ``RETAILHUB_*`` environment variables."""

from __future__ import annotations

import secrets
from functools import lru_cache
from pathlib import Path

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="RETAILHUB_", extra="ignore")

    data_dir: Path = Path("./data")
    # Empty means: an SQLite file inside ``data_dir``.
    database_url: str = ""
    # Signs access tokens. Empty means: generated once and kept in ``<data_dir>/secret.key``.
    secret_key: str = ""
    token_ttl_seconds: int = 3600

    # Listrak documents 250 MB (262,144,000 bytes); larger bodies are answered with 404.
    max_body_bytes: int = 262_144_000
    # Records validated and written per transaction; each batch is a resumable checkpoint.
    import_batch_size: int = Field(default=5000, ge=1)
    # Stored payload chunk size (before compression).
    payload_chunk_bytes: int = Field(default=4 * 1024 * 1024, ge=1024)

    # Processes that parse and validate records for a large import, beside the process that
    # writes them (0: validate in the writing process). Imports under four batches never
    # use them.
    import_processes: int = Field(default=1, ge=0)

    # In-process job runner (``serve`` on SQLite): threads polling the jobs table.
    local_worker_threads: int = Field(default=2, ge=1)
    # Procrastinate workers (PostgreSQL): concurrent jobs per worker process.
    worker_concurrency: int = Field(default=2, ge=1)
    # A worker that sent no heartbeat for this long is dead; its jobs are retried.
    worker_heartbeat_seconds: float = 5.0
    worker_stalled_seconds: float = 30.0
    job_max_attempts: int = 10

    # Browser origins allowed to call the APIs (react-admin consoles); "*" allows any.
    cors_origins: list[str] = ["*"]

    # Loyalty engine.
    # Campaigns initialized and not finalized at once, per tenant (initialize answers 409).
    loyalty_max_running_campaigns: int = Field(default=20, ge=1)
    # How long ``lock=true`` reserves a coupon use unless unlocked or redeemed.
    loyalty_coupon_lock_seconds: int = Field(default=300, ge=1)
    # BIRTHDAY campaigns enroll an account this many days before its birthday.
    loyalty_birthday_days_before: int = Field(default=7, ge=0, le=60)
    # How often time-driven loyalty work runs (birthdays, notifications, expiries, windows).
    loyalty_tick_seconds: float = Field(default=60.0, gt=0)
    # Accounts a previewCampaign returns as samples.
    loyalty_preview_samples: int = Field(default=10, ge=0, le=100)

    # Cashback network.
    # Base URL of this installation as shoppers' browsers reach it, for the tracking and
    # logo links in catalog answers (empty: the URL the request came in on).
    public_url: str = ""
    # How long a process may answer catalog reads (stores, deals, search) from its cache;
    # a catalog change made through this process clears it at once. 0: no cache.
    cashback_cache_seconds: float = Field(default=10.0, ge=0)
    # How long a process trusts an API key (publisher or operator) it has found valid
    # before it reads the key again; a key revoked elsewhere stops working within this
    # time. 0: every request reads it.
    api_key_cache_seconds: float = Field(default=60.0, ge=0)

    # Webhooks (Standard Webhooks). Seconds between attempts of a delivery; the last
    # number repeats until ``webhook_retry_hours`` have passed since the first attempt.
    webhook_retry_schedule: list[float] = [5, 300, 1800, 7200, 18000, 36000, 50400, 72000, 86400]
    webhook_retry_hours: float = Field(default=80.0, gt=0)
    webhook_timeout_seconds: float = Field(default=15.0, gt=0)
    # An endpoint failing without a success for this long is disabled.
    webhook_disable_after_hours: float = Field(default=120.0, gt=0)
    # Concurrent deliveries per dispatcher process, and per endpoint.
    webhook_concurrency: int = Field(default=32, ge=1)
    webhook_endpoint_concurrency: int = Field(default=4, ge=1)
    # How often an idle dispatcher looks for due deliveries.
    webhook_poll_seconds: float = Field(default=1.0, gt=0)

    @property
    def sqlalchemy_url(self) -> str:
        if self.database_url:
            return self.database_url
        return f"sqlite:///{(self.data_dir / 'retailhub.db').resolve()}"

    @property
    def is_postgresql(self) -> bool:
        return self.sqlalchemy_url.startswith("postgresql")

    def token_secret(self) -> str:
        if self.secret_key:
            return self.secret_key
        path = self.data_dir / "secret.key"
        if not path.exists():
            self.data_dir.mkdir(parents=True, exist_ok=True)
            path.write_text(secrets.token_urlsafe(48))
            path.chmod(0o600)
        return path.read_text().strip()


@lru_cache
def get_settings() -> Settings:
    return Settings()
