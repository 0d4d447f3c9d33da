"""The simulated org: divisions, queues, their media targets and their history events."""

from __future__ import annotations

import hashlib
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime
from functools import lru_cache

SIMULATOR_ORG_ID = "simulator"
SIMULATOR_ORG_NAME = "Simulated Contact Center"

# Analytics media types in a fixed order: the index feeds the data hash, so never reorder.
MEDIA_TYPES = ("voice", "message", "email", "chat", "callback")
# Queue mediaSettings key for each analytics media type (Genesys calls voice `call` there).
SETTINGS_KEY = {
    "voice": "call",
    "message": "message",
    "email": "email",
    "chat": "chat",
    "callback": "callback",
}

DIVISIONS = ("Sales", "Customer Care", "Technical Support")
HISTORY_START = datetime(2024, 1, 1, tzinfo=UTC)


def _utc(text: str) -> datetime:
    return datetime.fromisoformat(text).astimezone(UTC)


@dataclass(frozen=True)
class TargetChange:
    """A new service-level percentage for one media type, in force from `effective_at`."""

    effective_at: datetime
    media_type: str
    target_ratio: float


@dataclass
class SimQueue:
    """One routing queue; `media` holds the targets in force at `created_at`."""

    id: str
    name: str
    division_id: str
    division_name: str
    media: dict[str, tuple[float, int]]
    created_at: datetime
    deleted_at: datetime | None = None
    target_changes: list[TargetChange] = field(default_factory=list)
    index: int = 0
    volume: dict[str, float] = field(default_factory=dict)  # peak offered per 15 minutes, per media type

    def target_at(self, media_type: str, when: datetime) -> float:
        """The SL percentage (0-1) configured for `media_type` at instant `when`."""
        ratio = self.media[media_type][0]
        for change in sorted(self.target_changes, key=lambda c: c.effective_at):
            if change.media_type == media_type and change.effective_at <= when:
                ratio = change.target_ratio
        return ratio

    def exists_at(self, when: datetime) -> bool:
        return self.created_at <= when and (self.deleted_at is None or when < self.deleted_at)


@dataclass
class SimulatedOrg:
    """Divisions and queues of the simulated org (deleted queues included)."""

    id: str
    name: str
    divisions: dict[str, str]  # id -> name
    queues: list[SimQueue]

    def queue(self, queue_id: str) -> SimQueue | None:
        return next((q for q in self.queues if q.id == queue_id), None)


def stable_uuid(seed: int, *parts: object) -> str:
    """A UUID4-shaped id derived from the seed, so every run of a seed names things the same."""
    digest = hashlib.sha256(":".join(str(p) for p in (seed, *parts)).encode()).digest()
    return str(uuid.UUID(bytes=digest[:16], version=4))


# name, division, {media: (target, threshold_ms, peak per 15 min)}, created, deleted
_V20 = (0.80, 20_000)
_HAND_NAMED: tuple[tuple[str, str, dict[str, tuple[float, int, float]], str, str | None], ...] = (
    (
        "Sales - Inbound",
        "Sales",
        {"voice": (*_V20, 60.0), "message": (0.90, 60_000, 18.0)},
        "2024-01-01",
        None,
    ),
    ("Sales - Callbacks", "Sales", {"callback": (0.80, 3_600_000, 10.0)}, "2024-01-01", None),
    ("Retention", "Sales", {"voice": (0.85, 15_000, 22.0)}, "2024-01-01", None),
    (
        "Holiday Overflow",
        "Sales",
        {"voice": (0.70, 30_000, 30.0), "message": (0.85, 120_000, 8.0)},
        "2025-11-01",
        "2026-11-04T12:00:00Z",
    ),
    (
        "Billing Support",
        "Customer Care",
        {"voice": (*_V20, 45.0), "email": (0.80, 86_400_000, 9.0)},
        "2024-01-01",
        None,
    ),
    ("Claims - Voice", "Customer Care", {"voice": (*_V20, 35.0)}, "2024-01-01", None),
    ("Claims - Email", "Customer Care", {"email": (0.80, 86_400_000, 14.0)}, "2024-01-01", None),
    ("Legacy Billing", "Customer Care", {"voice": (*_V20, 25.0)}, "2024-01-01", "2026-03-10T15:00:00Z"),
    (
        "VIP Priority",
        "Customer Care",
        {"voice": (0.90, 10_000, 8.0), "callback": (0.90, 900_000, 3.0)},
        "2024-01-01",
        None,
    ),
    (
        "Tech Support Tier 1",
        "Technical Support",
        {"voice": (0.80, 30_000, 50.0), "chat": (0.85, 45_000, 20.0), "message": (0.90, 60_000, 15.0)},
        "2024-01-01",
        None,
    ),
    (
        "Tech Support Tier 2",
        "Technical Support",
        {"voice": (0.75, 60_000, 15.0), "email": (0.80, 86_400_000, 5.0)},
        "2024-01-01",
        None,
    ),
    (
        "Chat Concierge",
        "Technical Support",
        {"chat": (0.85, 30_000, 16.0), "message": (0.90, 60_000, 10.0)},
        "2026-03-05T09:00:00Z",
        None,
    ),
)
# Sales - Inbound voice moves from 80 % to 85 % on a fixed date (a new contract target).
_TARGET_CHANGES = {"Sales - Inbound": [TargetChange(_utc("2026-06-01T00:00:00Z"), "voice", 0.85)]}


@lru_cache(maxsize=32)
def build_org(seed: int, queue_count: int) -> SimulatedOrg:
    """The org for a seed: the twelve hand-named queues, then generated `Queue 0013`… if asked for more."""
    divisions = {stable_uuid(seed, "division", name): name for name in DIVISIONS}
    division_ids = {name: did for did, name in divisions.items()}
    queues: list[SimQueue] = []
    for index, (name, division, media, created, deleted) in enumerate(_HAND_NAMED[:queue_count]):
        created_at = _utc(created + "T00:00:00Z") if "T" not in created else _utc(created)
        queues.append(
            SimQueue(
                id=stable_uuid(seed, "queue", index),
                name=name,
                division_id=division_ids[division],
                division_name=division,
                media={m: (t, thr) for m, (t, thr, _) in media.items()},
                created_at=created_at,
                deleted_at=_utc(deleted) if deleted else None,
                target_changes=list(_TARGET_CHANGES.get(name, [])),
                index=index,
                volume={m: peak for m, (_, _, peak) in media.items()},
            )
        )
    for index in range(len(_HAND_NAMED), queue_count):
        division = DIVISIONS[index % len(DIVISIONS)]
        # Sizes vary between queues but are fixed per seed and index.
        size = 8.0 + (int.from_bytes(hashlib.sha256(f"{seed}:size:{index}".encode()).digest()[:4]) % 400) / 10
        queues.append(
            SimQueue(
                id=stable_uuid(seed, "queue", index),
                name=f"Queue {index + 1:04d}",
                division_id=division_ids[division],
                division_name=division,
                media={"voice": _V20, "message": (0.90, 60_000)},
                created_at=HISTORY_START,
                index=index,
                volume={"voice": size, "message": size / 3},
            )
        )
    return SimulatedOrg(id=SIMULATOR_ORG_ID, name=SIMULATOR_ORG_NAME, divisions=divisions, queues=queues)
