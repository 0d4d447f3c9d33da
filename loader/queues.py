"""Routing queues: the full paged listing, queue rows (first/last seen) and per-media SL targets."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from dlt.sources.helpers.rest_client.paginators import PageNumberPaginator
from requests import Response

from loader.client import GenesysHttp

QUEUES_PATH = "/routing/queues"
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


class QueuePages(PageNumberPaginator):
    """pageNumber/pageCount paging that stops (instead of failing) on an error page, which the client maps."""

    def __init__(self) -> None:
        super().__init__(base_page=1, page=1, page_param="pageNumber", total_path="pageCount")

    def update_state(self, response: Response, data: Any = None) -> None:
        if response.status_code >= 400:
            self._has_next_page = False
            return
        super().update_state(response, data)


def list_queues(http: GenesysHttp, page_size: int = 100) -> list[dict[str, Any]]:
    """Every queue in the listing, all pages (deleted queues are absent from it)."""
    queues: list[dict[str, Any]] = []
    for page in http.paginate(QUEUES_PATH, QueuePages(), params={"pageSize": page_size}):
        queues.extend(page.get("entities") or [])
    # A queue that moved between pages while we paged may appear twice.
    unique = {q["id"]: q for q in queues if q.get("id")}
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
