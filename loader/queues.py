"""Routing queues: the full paged listing, queue rows (first/last seen) and per-media SL targets."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from loader import contract
from loader.client import GenesysHttp

QUEUES_PATH = "/routing/queues"
# A bound even for a listing that gives neither total nor pageCount: 10,000 pages of up to 500 queues.
MAX_PAGES = 10_000
# Queue mediaSettings key -> analytics mediaType (shared/genesys-api.md §6.2).
MEDIA_KEYS = {"call": "voice", "callback": "callback", "chat": "chat", "email": "email", "message": "message"}

QUEUE_COLUMNS: dict[str, dict[str, Any]] = {
    "org_id": {"data_type": "text", "nullable": False},
    "queue_id": {"data_type": "text", "nullable": False},
    "name": {"data_type": "text", "nullable": True},
    "division_id": {"data_type": "text", "nullable": True},
    "division_name": {"data_type": "text", "nullable": True},
    "first_seen_at": {"data_type": "timestamp", "timezone": True, "nullable": True},
    "last_seen_at": {"data_type": "timestamp", "timezone": True, "nullable": True},
}
TARGET_COLUMNS: dict[str, dict[str, Any]] = {
    "org_id": {"data_type": "text", "nullable": False},
    "queue_id": {"data_type": "text", "nullable": False},
    "media_type": {"data_type": "text", "nullable": False},
    "target_ratio": {"data_type": "double", "nullable": True},
    "threshold_ms": {"data_type": "bigint", "nullable": True},
}


def list_queues(http: GenesysHttp, page_size: int = 100) -> list[dict[str, Any]]:
    """Every queue in the listing, all pages (deleted queues are absent from it).

    Paging stops at the first empty page, and after ceil(total / pageSize) pages whatever `pageCount`
    claims (a lying pageCount of 1000 must not cost 1000 requests). Not dlt's PageNumberPaginator: its
    paginate() parses each page with response.json() before any check could run, so a `null` or non-JSON
    page would surface as a connection error instead of a contract violation."""
    queues: list[dict[str, Any]] = []
    for page_number in range(1, MAX_PAGES + 1):
        doc = http.request_json("GET", QUEUES_PATH, params={"pageSize": page_size, "pageNumber": page_number})
        entities = contract.queue_page(doc, page_number)
        queues.extend(entities)
        last = contract.page_limit(doc, page_size)
        if last is None:
            page_count = doc.get("pageCount")
            last = page_count if isinstance(page_count, int) and not isinstance(page_count, bool) else None
        if not entities or (last is not None and page_number >= last):
            break
    # A queue that moved between pages while we paged may appear twice.
    unique = {q["id"]: q for q in queues}
    return list(unique.values())


def queue_rows(
    listing: list[dict[str, Any]], org_id: str, listed_at: datetime, first_seen: dict[str, str]
) -> list[dict[str, Any]]:
    """One row per listed queue; first_seen_at from `first_seen` (updated in place for new queues)."""
    rows = []
    stamp = listed_at.isoformat()
    for queue in listing:
        division = queue.get("division") or {}
        first = first_seen.setdefault(queue["id"], stamp)
        rows.append(
            {
                "org_id": org_id,
                "queue_id": queue["id"],
                "name": queue.get("name"),
                "division_id": division.get("id"),
                "division_name": division.get("name"),
                "first_seen_at": datetime.fromisoformat(first),
                "last_seen_at": listed_at,
            }
        )
    return rows


def placeholder_rows(org_id: str, queue_ids: set[str]) -> list[dict[str, Any]]:
    """Rows for queue ids seen in analytics but never in the listing: nothing known but the id."""
    return [
        {
            "org_id": org_id,
            "queue_id": queue_id,
            "name": None,
            "division_id": None,
            "division_name": None,
            "first_seen_at": None,
            "last_seen_at": None,
        }
        for queue_id in sorted(queue_ids)
    ]


def target_rows(listing: list[dict[str, Any]], org_id: str) -> list[dict[str, Any]]:
    """Per queue and media type: the configured service-level goal (ratio 0-1 and threshold in ms)."""
    rows = []
    for queue in listing:
        for key, settings in sorted((queue.get("mediaSettings") or {}).items()):
            media_type = MEDIA_KEYS.get(key)
            level = (settings or {}).get("serviceLevel") or {}
            if media_type is None or not level:
                continue
            percentage = level.get("percentage")
            duration = level.get("durationMs")
            rows.append(
                {
                    "org_id": org_id,
                    "queue_id": queue["id"],
                    "media_type": media_type,
                    "target_ratio": float(percentage) if percentage is not None else None,
                    "threshold_ms": int(duration) if duration is not None else None,
                }
            )
    return rows
