"""Aggregates query body and response parsing (sparse metrics stay NULL)."""

from datetime import UTC, datetime

import orjson
import pytest

from loader.aggregates import METRICS, SCHEMA, build_query, parse_response
from loader.contract import ContractError
from loader.windows import Window

WINDOW = Window(datetime(2025, 3, 3, 9, tzinfo=UTC), datetime(2025, 3, 3, 11, tzinfo=UTC))
LOADED = datetime(2025, 3, 4, tzinfo=UTC)


def test_query_body_without_filters():
    assert build_query(WINDOW, "PT1H") == {
        "interval": "2025-03-03T09:00:00.000Z/2025-03-03T11:00:00.000Z",
        "granularity": "PT1H",
        "groupBy": ["queueId", "mediaType"],
        "metrics": METRICS,
    }


def test_query_body_with_queue_and_media_filters():
    body = build_query(WINDOW, "PT30M", ["q1", "q2"], ["voice"])
    assert body["filter"] == {
        "type": "and",
        "clauses": [
            {
                "type": "or",
                "predicates": [
                    {"dimension": "queueId", "value": "q1"},
                    {"dimension": "queueId", "value": "q2"},
                ],
            },
            {"type": "or", "predicates": [{"dimension": "mediaType", "value": "voice"}]},
        ],
    }


# The reference's realistic example (shared/genesys-api.md §4.7), trimmed.
RESPONSE = {
    "results": [
        {
            "group": {"mediaType": "voice", "queueId": "q1"},
            "data": [
                {
                    "interval": "2025-03-03T09:00:00.000Z/2025-03-03T10:00:00.000Z",
                    "metrics": [
                        {"metric": "nOffered", "stats": {"count": 42}},
                        {"metric": "nOverSla", "stats": {"count": 6}},
                        {
                            "metric": "tAbandon",
                            "stats": {"max": 88000, "min": 3100, "count": 4, "sum": 151000},
                        },
                        {
                            "metric": "tAnswered",
                            "stats": {"max": 61000, "min": 1200, "count": 37, "sum": 412300},
                        },
                        {
                            "metric": "oServiceLevel",
                            "stats": {"ratio": 0.756, "numerator": 31, "denominator": 41, "target": 0.8},
                        },
                    ],
                },
                {
                    "interval": "2025-03-03T10:00:00.000Z/2025-03-03T11:00:00.000Z",
                    "metrics": [{"metric": "nOffered", "stats": {"count": 3}}],
                },
                {
                    "interval": "2025-03-03T11:00:00.000Z/2025-03-03T12:00:00.000Z",
                    "metrics": [{"metric": "nOffered", "stats": {"count": 99}}],
                },
            ],
        }
    ]
}


def _in_window(response: dict) -> dict:
    """RESPONSE without its last bucket, which lies outside WINDOW."""
    result = response["results"][0]
    return {"results": [{**result, "data": result["data"][:-1]}]}


def test_a_bucket_outside_the_window_breaks_the_contract():
    """Was silently dropped; issue 8 item 4: buckets lie inside the window asked for, else it fails."""
    with pytest.raises(ContractError) as caught:
        parse_response(orjson.dumps(RESPONSE), "org", LOADED, WINDOW)
    message = str(caught.value)
    assert f"window {WINDOW}" in message and "2025-03-03T11:00:00.000Z/2025-03-03T12:00:00.000Z" in message
    assert "outside the window" in message


def test_parse_response_columns_and_nulls():
    table = parse_response(orjson.dumps(_in_window(RESPONSE)), "org", LOADED, WINDOW)
    assert table.schema == SCHEMA
    rows = table.to_pylist()
    assert len(rows) == 2
    first, second = rows
    assert first["org_id"] == "org" and first["queue_id"] == "q1" and first["media_type"] == "voice"
    assert first["interval_start"] == datetime(2025, 3, 3, 9, tzinfo=UTC)
    assert first["interval_end"] == datetime(2025, 3, 3, 10, tzinfo=UTC)
    assert (first["offered_count"], first["answered_count"], first["answered_ms_sum"]) == (42, 37, 412300)
    assert (first["abandoned_count"], first["abandoned_ms_sum"], first["over_sla_count"]) == (4, 151000, 6)
    assert (first["sl_numerator"], first["sl_denominator"], first["sl_target_ratio"]) == (31, 41, 0.8)
    assert first["handled_count"] is None and first["short_abandoned_count"] is None
    assert (
        second["offered_count"] == 3 and second["sl_denominator"] is None and second["answered_count"] is None
    )
    assert first["loaded_at"] == LOADED


def test_parse_empty_response():
    assert parse_response(b"{}", "org", LOADED).num_rows == 0
