"""Helpers for the simulator tests: a small HTTP client and readers of aggregates replies."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import orjson
import requests

from simulator import Simulator

CLOCK = datetime(2026, 11, 27, tzinfo=UTC)
METRICS = [
    "nOffered",
    "tAnswered",
    "tAbandon",
    "tShortAbandon",
    "tFlowOut",
    "tWait",
    "tHandle",
    "nOverSla",
    "oServiceLevel",
]
AGGREGATES = "/api/v2/analytics/conversations/aggregates/query"
JOBS = "/api/v2/analytics/conversations/aggregates/jobs"
TIMEOUT = 20


class SimClient:
    """A requests session holding a token of the simulator, plus helpers to read aggregates."""

    def __init__(self, sim: Simulator) -> None:
        self.sim = sim
        self.http = requests.Session()
        self._token: str | None = None

    def new_token(self) -> str:
        cfg = self.sim.config
        reply = self.http.post(
            f"{self.sim.base_url}/oauth/token",
            data={"grant_type": "client_credentials"},
            auth=(cfg.client_id, cfg.client_secret),
            timeout=TIMEOUT,
        )
        assert reply.status_code == 200, reply.text
        return reply.json()["access_token"]

    @property
    def token(self) -> str:
        if self._token is None:
            self._token = self.new_token()
        return self._token

    def request(self, method: str, path: str, *, token: str | None = None, **kwargs) -> requests.Response:
        headers = {"Authorization": f"Bearer {token or self.token}", **kwargs.pop("headers", {})}
        return self.http.request(method, self.sim.base_url + path, headers=headers, timeout=TIMEOUT, **kwargs)

    def get(self, path: str, **kwargs) -> requests.Response:
        return self.request("GET", path, **kwargs)

    def query(self, body: dict[str, Any], **kwargs) -> requests.Response:
        return self.request(
            "POST",
            AGGREGATES,
            data=orjson.dumps(body),
            headers={"Content-Type": "application/json"},
            **kwargs,
        )

    def query_ok(self, body: dict[str, Any]) -> dict:
        reply = self.query(body)
        assert reply.status_code == 200, reply.text
        return reply.json()


def body(interval: str, granularity: str | None = "PT1H", metrics=None, **extra) -> dict[str, Any]:
    doc = {"interval": interval, "groupBy": ["queueId", "mediaType"], "metrics": metrics or METRICS, **extra}
    if granularity is not None:
        doc["granularity"] = granularity
    return doc


def rows_of(doc: dict) -> list[dict]:
    """HTTP aggregates results as ground_truth-shaped rows (None where a metric is absent)."""
    out = []
    for result in doc.get("results", []):
        for bucket in result["data"]:
            start, end = (datetime.fromisoformat(p) for p in bucket["interval"].split("/"))
            m = {x["metric"]: x["stats"] for x in bucket["metrics"]}

            def stat(metric: str, key: str, m: dict = m):
                return m[metric].get(key) if metric in m else None

            out.append(
                {
                    "queue_id": result["group"].get("queueId"),
                    "media_type": result["group"].get("mediaType"),
                    "interval_start": start,
                    "interval_end": end,
                    "offered_count": stat("nOffered", "count"),
                    "answered_count": stat("tAnswered", "count"),
                    "answered_ms_sum": stat("tAnswered", "sum"),
                    "abandoned_count": stat("tAbandon", "count"),
                    "abandoned_ms_sum": stat("tAbandon", "sum"),
                    "short_abandoned_count": stat("tShortAbandon", "count"),
                    "flow_out_count": stat("tFlowOut", "count"),
                    "handled_count": stat("tHandle", "count"),
                    "handle_ms_sum": stat("tHandle", "sum"),
                    "wait_count": stat("tWait", "count"),
                    "wait_ms_sum": stat("tWait", "sum"),
                    "over_sla_count": stat("nOverSla", "count"),
                    "sl_numerator": stat("oServiceLevel", "numerator"),
                    "sl_denominator": stat("oServiceLevel", "denominator"),
                    "sl_target_ratio": stat("oServiceLevel", "target"),
                }
            )
    return sorted(out, key=lambda r: (r["queue_id"], r["media_type"], r["interval_start"]))
