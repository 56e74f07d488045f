"""Poller settings; the pipeline's config model embeds `PollSettings` as-is."""
from __future__ import annotations

from pydantic import BaseModel, Field

DEFAULT_USER_AGENT = "newsbeam-poller/0.1 (+https://github.com/newsbeam/newsbeam)"


class PollSettings(BaseModel):
    model_config = {"extra": "forbid"}

    feeds_file: str = "feeds.yaml"
    state_path: str = "newsbeam-poll-state.sqlite3"
    global_concurrency: int = Field(16, ge=1)
    per_host_concurrency: int = Field(2, ge=1)
    connect_timeout: float = Field(5.0, gt=0)
    read_timeout: float = Field(15.0, gt=0)
    # A server trickling one byte per read_timeout would never time out otherwise.
    total_timeout: float = Field(60.0, gt=0)
    max_body_bytes: int = Field(10_000_000, ge=1024)
    user_agent: str = DEFAULT_USER_AGENT
    max_consecutive_failures: int = Field(10, ge=1)
    seen_horizon_days: int = Field(30, ge=1)
    allow_private_addresses: bool = False
    default_interval_seconds: int = Field(900, ge=1)
    # Cache headers and <ttl> may stretch the interval, but never beyond this.
    max_interval_seconds: int = Field(86_400, ge=1)
    max_redirects: int = Field(5, ge=0)
