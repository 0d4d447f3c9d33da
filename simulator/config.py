"""Run-time configuration of the simulator: the org's seed and credentials, and the fault knobs."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

DEFAULT_CLIENT_ID = "simulator-client"
DEFAULT_CLIENT_SECRET = (
    "simulator-secret"  # documented default, not a secret: the simulator holds no real data
)
FAULT_KINDS = (
    "429",
    "429-no-retry-after",
    "500",
    "502",
    "503",
    "504",
    "drop",
    "slow",
    "401",
    "400",
    "403",
    "404",
)


@dataclass
class Faults:
    """Fault injection knobs; all off by default and mutable while the server runs."""

    rate_limit_per_minute: int = 300
    token_lifetime_s: int = 86400
    revoke_token_after_requests: int | None = None
    schedule: dict[int, str] = field(default_factory=dict)
    random_rate: float = 0.0
    random_kinds: tuple[str, ...] = ("429", "503")
    random_seed: int = 0
    # response time of an API request from its arrival, the simulator's own computing included
    latency_s: float = 0.0
    latency_per_row_s: float = 0.0  # modelled server work per returned row, added to latency_s
    job_outcomes: list[str] = field(default_factory=list)
    job_delay_s: float = 0.2
    max_interval_days: float = 32
    max_result_rows: int | None = None
    # a 400 about the filter when a query carries more predicates than this (None: no limit)
    max_filter_predicates: int | None = None
    # (queue id, media type) pairs whose buckets the API stops returning, e.g. after a correction
    hidden_groups: set[tuple[str, str]] = field(default_factory=set)
    # Replies that break the API contract (simulator.hostile.HOSTILE_KINDS), e.g. ("huge-count",).
    hostile: tuple[str, ...] = ()
    drip_s: float = 1.0  # seconds per byte of a "slow-drip" body


@dataclass
class SimulatorConfig:
    """What org the simulator plays and how it behaves."""

    seed: int = 42
    client_id: str = DEFAULT_CLIENT_ID
    client_secret: str = DEFAULT_CLIENT_SECRET
    queue_count: int = 12
    site_timezone: str = "America/New_York"
    late_window_hours: float = 6.0
    clock_start: datetime | None = None
    faults: Faults = field(default_factory=Faults)
