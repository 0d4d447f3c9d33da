"""Hostile modes: replies that break the Genesys API contract, for testing what a client does with them.

Each mode rewrites one kind of reply after the simulator built it honestly; `Faults.hostile` names the modes
of a run (live, like the other faults). Aggregates modes change the first group's first bucket of every sync
aggregates reply and async job results page that has one.
"""

from __future__ import annotations

import copy
import threading
from collections.abc import Mapping
from contextlib import suppress
from datetime import datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import orjson

# Replies of the aggregates query and job results pages that break one rule of the contract.
AGGREGATES_MODES = (
    "duplicate-bucket",  # the first bucket twice, identical
    "conflicting-bucket",  # the first bucket twice, nOffered differing
    "huge-count",  # nOffered 1e30
    "negative-count",  # nOffered -3
    "sl-numerator-over",  # oServiceLevel numerator = denominator + 1
    "target-out-of-range",  # oServiceLevel target 7.5
    "misaligned-bucket",  # the first bucket shifted by 7 minutes
    "day-bucket-as-hour",  # the first bucket 24 hours long under PT1H
    "no-media-type",  # the first group without mediaType
    "no-queue-id",  # an extra group without queueId (legitimate: never entered a queue)
    "null-body",  # 200 with body `null`
    "empty-body",  # 200 with an empty body
    "non-json-body",  # 200 with an HTML page
    "redirect",  # 307 to another 127.0.0.1 server that answers {} to anything
    "slow-drip",  # the body one byte per Faults.drip_s seconds
)
HOSTILE_KINDS = (
    *AGGREGATES_MODES,
    "org-id-null",  # organizations/me with "id": null
    "lying-page-count",  # queue pages claim pageCount 1000; pages past the end repeat the last one
    "lying-total",  # queue pages claim total 100000 and pageCount 1000; pages past the end are empty
    # 401/403/500 on the aggregates query, the body quoting the Authorization header and the request body
    "echo-credentials-401",
    "echo-credentials-403",
    "echo-credentials-500",
    # 401 on the token request, the body quoting the Basic Authorization header and the form body
    "echo-credentials-token",
)
AGGREGATES_PATHS = ("/analytics/conversations/aggregates/query",)
NON_JSON = b"<html><body><h1>502 Bad Gateway</h1>proxy error</body></html>"


def check_kinds(kinds: tuple[str, ...] | list[str]) -> None:
    unknown = [kind for kind in kinds if kind not in HOSTILE_KINDS]
    if unknown:
        raise ValueError(f"Unknown hostile mode(s) {', '.join(unknown)}; use {', '.join(HOSTILE_KINDS)}")


def is_aggregates_reply(path: str) -> bool:
    """The sync aggregates query or an async job's results page."""
    return path.endswith("/aggregates/query") or ("/aggregates/jobs/" in path and path.endswith("/results"))


def echo_body(status: int, headers: Mapping[str, str], body: bytes) -> bytes:
    """An error body quoting what the client sent, as a careless proxy or server would."""
    auth = headers.get("Authorization") or ""
    sent = body.decode("utf-8", "replace")
    message = f"Request rejected. Authorization: {auth}; body: {sent}"
    return orjson.dumps(
        {
            "message": message,
            "code": "echo.credentials",
            "status": status,
            "error": "invalid_client",
            "error_description": message,
        }
    )


def _shift(interval: str, start_delta: timedelta, end_delta: timedelta) -> str:
    first, _, second = interval.partition("/")
    start = datetime.fromisoformat(first.replace("Z", "+00:00")) + start_delta
    end = datetime.fromisoformat(second.replace("Z", "+00:00")) + end_delta
    return f"{_iso(start)}/{_iso(end)}"


def _iso(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


def _count_metric(bucket: dict[str, Any]) -> dict[str, Any]:
    """The first metric of the bucket that has a count (added as nOffered when there is none)."""
    for metric in bucket["metrics"]:
        if "count" in metric.get("stats", {}):
            return metric
    metric = {"metric": "nOffered", "stats": {"count": 1}}
    bucket["metrics"].append(metric)
    return metric


def _service_level(bucket: dict[str, Any]) -> dict[str, Any]:
    for metric in bucket["metrics"]:
        if metric.get("metric") == "oServiceLevel":
            return metric["stats"]
    stats = {"ratio": 0.5, "numerator": 1, "denominator": 2}
    bucket["metrics"].append({"metric": "oServiceLevel", "stats": stats})
    return stats


def tamper_aggregates(body: bytes, modes: tuple[str, ...]) -> bytes:
    """The body with each aggregates mode applied to its first group's first bucket."""
    if "null-body" in modes:
        return b"null"
    if "empty-body" in modes:
        return b""
    if "non-json-body" in modes:
        return NON_JSON
    doc = orjson.loads(body) if body else {}
    results = doc.get("results") or []
    if not results or not results[0].get("data"):
        return body
    first = results[0]
    bucket = first["data"][0]
    if "duplicate-bucket" in modes:
        first["data"].append(copy.deepcopy(bucket))
    if "conflicting-bucket" in modes:
        other = copy.deepcopy(bucket)
        _count_metric(other)["stats"]["count"] += 1
        results.append({"group": dict(first["group"]), "data": [other]})
    if "huge-count" in modes:
        _count_metric(bucket)["stats"]["count"] = 1e30
    if "negative-count" in modes:
        _count_metric(bucket)["stats"]["count"] = -3
    if "sl-numerator-over" in modes:
        stats = _service_level(bucket)
        stats["numerator"] = stats["denominator"] + 1
    if "target-out-of-range" in modes:
        _service_level(bucket)["target"] = 7.5
    if "misaligned-bucket" in modes:
        bucket["interval"] = _shift(bucket["interval"], timedelta(minutes=7), timedelta(minutes=7))
    if "day-bucket-as-hour" in modes:
        start = bucket["interval"].partition("/")[0]
        bucket["interval"] = _shift(f"{start}/{start}", timedelta(0), timedelta(hours=24))
    if "no-media-type" in modes:
        first["group"].pop("mediaType", None)
    if "no-queue-id" in modes:
        group = {k: v for k, v in first["group"].items() if k != "queueId"}
        results.append({"group": group, "data": [copy.deepcopy(bucket)]})
    return orjson.dumps(doc)


def tamper_queue_page(doc: dict[str, Any], modes: tuple[str, ...], last_page: list[Any]) -> dict[str, Any]:
    """Queue page lies: a pageCount of 1000, and (lying-page-count) pages past the end that repeat the
    last page, so only ceil(total / pageSize) stops a client; (lying-total) a total of 100000 too, with
    empty pages past the end, so only the empty page stops it."""
    if "lying-page-count" in modes:
        doc["pageCount"] = 1000
        if not doc["entities"]:
            doc["entities"] = last_page
    if "lying-total" in modes:
        doc["pageCount"] = 1000
        doc["total"] = 100_000
    return doc


class _Decoy(BaseHTTPRequestHandler):
    """Answers 200 {} to anything: the other host a redirect points at."""

    protocol_version = "HTTP/1.1"

    def log_message(self, format: str, *args: Any) -> None:
        return

    def _answer(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        if length:
            self.rfile.read(length)
        self.server.hits += 1  # type: ignore[attr-defined]
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", "2")
        self.end_headers()
        self.wfile.write(b"{}")

    do_GET = do_POST = _answer


class DecoyServer:
    """Another HTTP server on 127.0.0.1 answering {} to every request (counted in `hits`)."""

    def __init__(self) -> None:
        self._httpd = ThreadingHTTPServer(("127.0.0.1", 0), _Decoy)
        self._httpd.daemon_threads = True
        self._httpd.hits = 0  # type: ignore[attr-defined]
        self.base_url = f"http://127.0.0.1:{self._httpd.server_address[1]}"
        self._thread = threading.Thread(target=self._httpd.serve_forever, name="decoy", daemon=True)
        self._thread.start()

    @property
    def hits(self) -> int:
        return self._httpd.hits  # type: ignore[attr-defined,no-any-return]

    def stop(self) -> None:
        with suppress(OSError):
            self._httpd.shutdown()
            self._httpd.server_close()
        self._thread.join(timeout=5)
