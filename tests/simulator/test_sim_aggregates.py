"""Conversation aggregates: identities, granularities, determinism, history events, late metrics, 400s."""

from __future__ import annotations

from collections import defaultdict
from datetime import UTC, datetime, timedelta

import numpy as np
import orjson
import pytest
from simhelpers import METRICS, SimClient, body, rows_of

from simulator import Simulator, SimulatorConfig, ground_truth, run_simulator
from simulator.data import pair_health, sl_margin

WEEK = "2026-03-02T00:00:00Z/2026-03-09T00:00:00Z"
SUMMED = [
    "offered_count", "answered_count", "answered_ms_sum", "abandoned_count", "abandoned_ms_sum",
    "short_abandoned_count", "flow_out_count", "handled_count", "handle_ms_sum", "wait_count", "wait_ms_sum",
    "over_sla_count", "sl_numerator", "sl_denominator",
]  # fmt: skip


def _queue(sim: Simulator, name: str):
    return next(q for q in sim.org.queues if q.name == name)


def _rollup(rows: list[dict], key) -> dict:
    """Sum rows by key(row), None counting as 0."""
    out: dict = defaultdict(lambda: dict.fromkeys(SUMMED, 0))
    for row in rows:
        acc = out[key(row)]
        for col in SUMMED:
            acc[col] += row[col] or 0
    return dict(out)


def test_identities_of_the_real_api_hold_in_every_bucket(client: SimClient, sim: Simulator) -> None:
    doc = client.query_ok(body(WEEK))
    targets = {(q.id, m): t for q in sim.org.queues for m, (t, _) in q.media.items()}

    buckets = [(r["group"], b) for r in doc["results"] for b in r["data"]]
    assert len(buckets) > 1000
    for group, bucket in buckets:
        m = {x["metric"]: x["stats"] for x in bucket["metrics"]}
        answered = m.get("tAnswered", {}).get("count", 0)
        abandoned = m.get("tAbandon", {}).get("count", 0)
        flow_outs = m.get("tFlowOut", {}).get("count", 0)
        assert m["nOffered"]["count"] == answered + abandoned + flow_outs
        assert m["tWait"]["count"] == m["nOffered"]["count"]
        assert m.get("tShortAbandon", {}).get("count", 0) <= abandoned
        assert m.get("tHandle", {}).get("count", 0) <= answered
        assert all(
            v["count"] > 0 for v in m.values() if "count" in v
        )  # nothing-to-report metrics are omitted
        for stats in (v for k, v in m.items() if k.startswith("t")):
            assert stats["min"] <= stats["sum"] / stats["count"] <= stats["max"]
            assert set(stats) == {"max", "min", "count", "sum"}
        if answered + abandoned:
            sl = m["oServiceLevel"]
            assert sl["numerator"] == answered - m.get("nOverSla", {}).get("count", 0)
            assert sl["denominator"] == answered + abandoned
            assert sl["ratio"] == sl["numerator"] / sl["denominator"]
            assert sl["target"] == targets[(group["queueId"], group["mediaType"])]
        else:
            assert "oServiceLevel" not in m
        if "tShortAbandon" in m:
            assert m["tShortAbandon"]["max"] < 10_000 and m["tAbandon"]["min"] == m["tShortAbandon"]["min"]
    assert doc["results"][0]["data"][0]["interval"].endswith(":00.000Z")


def test_http_equals_ground_truth(client: SimClient, sim: Simulator) -> None:
    start, end = datetime(2026, 3, 2, tzinfo=UTC), datetime(2026, 3, 5, tzinfo=UTC)

    http = rows_of(client.query_ok(body(f"{start.isoformat()}/{end.isoformat()}")))

    assert http == sim.ground_truth(start, end)
    assert http == ground_truth(sim.config, start, end)


def test_volume_weighting_and_hourly_averages_differ_materially(sim: Simulator) -> None:
    rows = sim.ground_truth(datetime(2026, 3, 2, tzinfo=UTC), datetime(2026, 3, 9, tzinfo=UTC))
    voice = [r for r in rows if r["media_type"] == "voice" and r["sl_denominator"]]

    weighted = sum(r["sl_numerator"] for r in voice) / sum(r["sl_denominator"] for r in voice)
    averaged = sum(r["sl_numerator"] / r["sl_denominator"] for r in voice) / len(voice)
    below = [r for r in voice if r["sl_numerator"] / r["sl_denominator"] < r["sl_target_ratio"]]
    above = [r for r in voice if r["sl_numerator"] / r["sl_denominator"] >= r["sl_target_ratio"]]

    assert averaged - weighted > 0.05
    assert len(below) > 100 and len(above) > 100
    assert min(r["offered_count"] for r in above) < max(r["offered_count"] for r in below)


def test_queues_differ_in_health_over_a_month(sim: Simulator) -> None:
    rows = sim.ground_truth(datetime(2026, 10, 1, tzinfo=UTC), datetime(2026, 10, 31, tzinfo=UTC))
    pairs: dict = defaultdict(lambda: {"num": 0, "den": 0, "hourly": [], "target": None})
    for r in rows:
        if r["sl_denominator"]:
            acc = pairs[(r["queue_id"], r["media_type"])]
            acc["num"] += r["sl_numerator"]
            acc["den"] += r["sl_denominator"]
            acc["hourly"].append(r["sl_numerator"] / r["sl_denominator"])
            acc["target"] = r["sl_target_ratio"]
    margins = [a["num"] / a["den"] - a["target"] for a in pairs.values()]
    gaps = [sum(a["hourly"]) / len(a["hourly"]) - a["num"] / a["den"] for a in pairs.values()]

    assert len(pairs) == 19
    # Some comfortably meet their target, some hover around it, some miss clearly.
    assert sum(0.015 <= m <= 0.07 for m in margins) >= 5
    assert sum(-0.03 < m < 0.015 for m in margins) >= 2
    assert sum(m <= -0.05 for m in margins) >= 5
    assert max(margins) - min(margins) > 0.15
    # Averaging hourly percentages still overstates SL by several points for most pairs.
    assert all(g > 0 for g in gaps) and sum(g >= 0.03 for g in gaps) >= 15


def test_quiet_hours_are_absent(sim: Simulator) -> None:
    rows = sim.ground_truth(datetime(2026, 3, 2, tzinfo=UTC), datetime(2026, 3, 9, tzinfo=UTC))
    hours_ny = {(r["interval_start"] - timedelta(hours=5)).hour for r in rows}  # EST in early March

    assert not hours_ny & {0, 1, 2, 3, 4, 5, 6, 22, 23}
    assert {10, 11, 14, 15} <= hours_ny


@pytest.mark.parametrize("fine", ["PT15M", "PT30M"])
def test_finer_granularities_sum_exactly_to_hours(client: SimClient, fine: str) -> None:
    interval = "2026-03-03T00:00:00Z/2026-03-05T00:00:00Z"
    hourly = rows_of(client.query_ok(body(interval, "PT1H")))
    finer = rows_of(client.query_ok(body(interval, fine)))

    summed = _rollup(finer, lambda r: (r["queue_id"], r["media_type"], r["interval_start"].replace(minute=0)))
    assert summed == _rollup(hourly, lambda r: (r["queue_id"], r["media_type"], r["interval_start"]))
    assert len(finer) > len(hourly)


def test_days_sum_exactly_from_hours_in_utc_and_in_a_dst_time_zone(client: SimClient) -> None:
    utc_days = rows_of(client.query_ok(body("2026-10-30T00:00:00Z/2026-11-03T00:00:00Z", "P1D")))
    hours = rows_of(client.query_ok(body("2026-10-29T00:00:00Z/2026-11-04T00:00:00Z", "PT1H")))
    local = body("2026-10-30T00:00:00-04:00/2026-11-03T00:00:00-05:00", "P1D", timeZone="America/New_York")
    ny_days = rows_of(client.query_ok(local))

    def day_of(tz_hours):
        return lambda r: (
            r["queue_id"],
            r["media_type"],
            (r["interval_start"] + timedelta(hours=tz_hours)).date(),
        )

    hourly_utc = _rollup(
        [
            r
            for r in hours
            if datetime(2026, 10, 30, tzinfo=UTC) <= r["interval_start"] < datetime(2026, 11, 3, tzinfo=UTC)
        ],
        day_of(0),
    )
    assert _rollup(utc_days, day_of(0)) == hourly_utc
    in_ny = [
        r
        for r in hours
        if datetime(2026, 10, 30, 4, tzinfo=UTC) <= r["interval_start"] < datetime(2026, 11, 3, 5, tzinfo=UTC)
    ]
    ny_offset = {
        r["interval_start"]: (-4 if r["interval_start"] < datetime(2026, 11, 1, 6, tzinfo=UTC) else -5)
        for r in in_ny
    }
    hourly_ny = _rollup(
        in_ny,
        lambda r: (
            r["queue_id"],
            r["media_type"],
            (r["interval_start"] + timedelta(hours=ny_offset[r["interval_start"]])).date(),
        ),
    )
    assert (
        _rollup(
            ny_days,
            lambda r: (r["queue_id"], r["media_type"], (r["interval_start"] - timedelta(hours=4)).date()),
        )
        == hourly_ny
    )
    lengths = {r["interval_start"]: r["interval_end"] - r["interval_start"] for r in ny_days}
    assert lengths[datetime(2026, 11, 1, 4, tzinfo=UTC)] == timedelta(hours=25)  # the day clocks fall back
    assert lengths[datetime(2026, 10, 31, 4, tzinfo=UTC)] == timedelta(hours=24)


def test_dst_day_interval_with_offsets_is_one_25_hour_bucket(client: SimClient) -> None:
    doc = client.query_ok(
        body("2026-11-01T00:00:00-04:00/2026-11-02T00:00:00-05:00", "P1D", timeZone="America/New_York")
    )

    assert {b["interval"] for r in doc["results"] for b in r["data"]} == {
        "2026-11-01T04:00:00.000Z/2026-11-02T05:00:00.000Z"
    }


def test_kolkata_half_hours_and_days(client: SimClient) -> None:
    halves = rows_of(client.query_ok(body("2026-03-02T18:30:00Z/2026-03-03T18:30:00Z", "PT30M")))
    day = rows_of(
        client.query_ok(
            body("2026-03-03T00:00:00+05:30/2026-03-04T00:00:00+05:30", "P1D", timeZone="Asia/Kolkata")
        )
    )

    key = lambda r: (r["queue_id"], r["media_type"])  # noqa: E731
    assert _rollup(halves, key) == _rollup(day, key)
    assert {r["interval_start"] for r in day} == {datetime(2026, 3, 2, 18, 30, tzinfo=UTC)}


def test_same_bucket_same_figures_in_any_window(client: SimClient) -> None:
    wide = rows_of(client.query_ok(body("2026-03-01T00:00:00Z/2026-03-08T00:00:00Z")))
    narrow = rows_of(client.query_ok(body("2026-03-03T13:00:00Z/2026-03-03T17:00:00Z")))

    assert narrow
    index = {(r["queue_id"], r["media_type"], r["interval_start"]): r for r in wide}
    for row in narrow:
        assert index[(row["queue_id"], row["media_type"], row["interval_start"])] == row


def test_seed_decides_the_data() -> None:
    start, end = datetime(2026, 3, 3, tzinfo=UTC), datetime(2026, 3, 4, tzinfo=UTC)
    a = ground_truth(SimulatorConfig(seed=1), start, end)
    b = ground_truth(SimulatorConfig(seed=1), start, end)
    c = ground_truth(SimulatorConfig(seed=2), start, end)

    assert a == b
    assert [r["offered_count"] for r in a] != [r["offered_count"] for r in c]


def test_deleted_queues_keep_history_until_deletion(sim: Simulator) -> None:
    legacy, holiday = _queue(sim, "Legacy Billing"), _queue(sim, "Holiday Overflow")

    legacy_rows = sim.ground_truth(
        datetime(2026, 3, 1, tzinfo=UTC), datetime(2026, 3, 15, tzinfo=UTC), queue_ids=[legacy.id]
    )
    holiday_rows = sim.ground_truth(
        datetime(2026, 10, 25, tzinfo=UTC), datetime(2026, 11, 8, tzinfo=UTC), queue_ids=[holiday.id]
    )

    assert max(r["interval_start"] for r in legacy_rows) == datetime(2026, 3, 10, 14, tzinfo=UTC)
    assert len({r["interval_start"].date() for r in legacy_rows}) >= 8
    # Holiday Overflow goes at 07:00 local, as the site opens: its last bucket is the evening before.
    assert max(r["interval_start"] for r in holiday_rows) < datetime(2026, 11, 4, 12, tzinfo=UTC)
    assert len({r["interval_start"].date() for r in holiday_rows}) >= 9
    assert {r["media_type"] for r in holiday_rows} == {"voice", "message"}


def test_deleted_queue_is_in_analytics_but_not_in_the_listing(client: SimClient, sim: Simulator) -> None:
    legacy = _queue(sim, "Legacy Billing")
    filt = {"type": "or", "predicates": [{"dimension": "queueId", "value": legacy.id}]}

    doc = client.query_ok(body("2026-03-09T00:00:00Z/2026-03-11T00:00:00Z", filter=filt))

    assert [r["group"]["queueId"] for r in doc["results"]] == [legacy.id]
    assert client.get(f"/api/v2/routing/queues/{legacy.id}").status_code == 404


def test_queue_created_mid_history_has_no_data_before(sim: Simulator) -> None:
    concierge = _queue(sim, "Chat Concierge")

    rows = sim.ground_truth(
        datetime(2026, 3, 1, tzinfo=UTC), datetime(2026, 3, 14, tzinfo=UTC), queue_ids=[concierge.id]
    )

    assert min(r["interval_start"] for r in rows) >= datetime(2026, 3, 5, 9, tzinfo=UTC)
    assert min(r["interval_start"] for r in rows) < datetime(2026, 3, 6, tzinfo=UTC)
    assert {r["media_type"] for r in rows} == {"chat", "message"}


def test_target_change_applies_from_its_date(sim: Simulator) -> None:
    inbound = _queue(sim, "Sales - Inbound")

    rows = sim.ground_truth(
        datetime(2026, 5, 29, tzinfo=UTC),
        datetime(2026, 6, 4, tzinfo=UTC),
        queue_ids=[inbound.id],
        media_types=["voice"],
    )

    cut = datetime(2026, 6, 1, tzinfo=UTC)
    assert {r["sl_target_ratio"] for r in rows if r["interval_start"] < cut} == {0.8}
    assert {r["sl_target_ratio"] for r in rows if r["interval_start"] >= cut} == {0.85}


def test_late_metrics_grow_until_final(client: SimClient, sim: Simulator) -> None:
    clock = datetime(2026, 3, 3, 17, 20, tzinfo=UTC)
    sim.clock.set(clock)
    sim.faults.token_lifetime_s = 7 * 86400  # the clock moves 36 h in this test
    query = body("2026-03-03T00:00:00Z/2026-03-04T00:00:00Z", "PT15M")
    final = {
        (r["queue_id"], r["media_type"], r["interval_start"]): r
        for r in sim.ground_truth(datetime(2026, 3, 3, tzinfo=UTC), datetime(2026, 3, 4, tzinfo=UTC), "PT15M")
    }

    early = rows_of(client.query_ok(query))
    sim.clock.advance(timedelta(hours=2))
    later = rows_of(client.query_ok(query))
    sim.clock.advance(timedelta(hours=22))  # the last bucket (23:45) ended more than 6 h ago
    done = rows_of(client.query_ok(query))

    assert early == sim.ground_truth(
        datetime(2026, 3, 3, tzinfo=UTC), datetime(2026, 3, 4, tzinfo=UTC), "PT15M", as_of=clock
    )
    assert max(r["interval_start"] for r in early) == datetime(
        2026, 3, 3, 17, 15, tzinfo=UTC
    )  # contains the clock
    old = [r for r in early if r["interval_end"] <= clock - timedelta(hours=6)]
    recent = [r for r in early if r["interval_end"] > clock - timedelta(hours=6)]
    assert old and all(r == final[(r["queue_id"], r["media_type"], r["interval_start"])] for r in old)
    recent_total = sum(r["offered_count"] for r in recent)
    assert recent_total < sum(
        final[(r["queue_id"], r["media_type"], r["interval_start"])]["offered_count"] for r in recent
    )
    later_index = {(r["queue_id"], r["media_type"], r["interval_start"]): r for r in later}
    assert (
        sum(
            later_index[(r["queue_id"], r["media_type"], r["interval_start"])]["offered_count"]
            for r in recent
        )
        > recent_total
    )
    assert done == list(final.values())


def test_future_buckets_are_empty(client: SimClient, sim: Simulator) -> None:
    sim.clock.set(datetime(2026, 3, 3, tzinfo=UTC))

    reply = client.query(body("2026-03-03T00:00:00Z/2026-03-04T00:00:00Z"))

    assert reply.status_code == 200
    assert reply.json() == {}


def test_only_requested_metrics_come_back(client: SimClient) -> None:
    doc = client.query_ok(
        body("2026-03-03T00:00:00Z/2026-03-04T00:00:00Z", metrics=["oServiceLevel", "nOffered", "tTalk"])
    )

    names = {m["metric"] for r in doc["results"] for b in r["data"] for m in b["metrics"]}
    assert names == {"oServiceLevel", "nOffered"}  # tTalk is a real metric the simulator has nothing for
    first = doc["results"][0]["data"][0]["metrics"]
    assert [m["metric"] for m in first] == ["oServiceLevel", "nOffered"]


def test_group_by_order_subsets_and_filters(client: SimClient, sim: Simulator) -> None:
    interval = "2026-03-03T00:00:00Z/2026-03-04T00:00:00Z"
    tier1 = _queue(sim, "Tech Support Tier 1")
    both = rows_of(client.query_ok(body(interval)))
    reversed_order = client.query_ok(body(interval, groupBy=["mediaType", "queueId"]))
    by_media = rows_of(client.query_ok(body(interval, groupBy=["mediaType"])))
    total = client.query_ok(body(interval, "P1D", groupBy=[]))
    voice = {"type": "dimension", "dimension": "mediaType", "operator": "matches", "value": "voice"}
    queues = [{"dimension": "queueId", "value": tier1.id}, {"dimension": "queueId", "value": "x"}]
    voice_filter = {"type": "and", "predicates": [voice], "clauses": [{"type": "or", "predicates": queues}]}
    filtered = rows_of(client.query_ok(body(interval, filter=voice_filter)))

    assert rows_of(reversed_order) == both
    assert list(reversed_order["results"][0]["group"]) == ["mediaType", "queueId"]
    media_key = lambda r: (r["media_type"], r["interval_start"])  # noqa: E731
    assert _rollup(by_media, media_key) == _rollup(both, media_key)
    assert total["results"][0]["group"] == {}
    assert total["results"][0]["data"][0]["metrics"][0]["stats"]["count"] == sum(
        r["offered_count"] for r in both
    )
    sl = next(m for m in total["results"][0]["data"][0]["metrics"] if m["metric"] == "oServiceLevel")["stats"]
    assert "target" not in sl  # queues with different targets have no single target
    assert filtered == [r for r in both if r["queue_id"] == tier1.id and r["media_type"] == "voice"]


def test_sync_query_too_large_is_400(client: SimClient, sim: Simulator) -> None:
    sim.faults.max_result_rows = 100

    reply = client.query(body("2026-03-03T00:00:00Z/2026-03-04T00:00:00Z"))

    assert reply.status_code == 400
    assert "too large" in reply.json()["message"]
    sim.faults.max_result_rows = None
    assert client.query(body("2026-03-03T00:00:00Z/2026-03-04T00:00:00Z")).status_code == 200


QUEUE_Q = {"dimension": "queueId", "value": "q"}
GOOD = {
    "interval": "2026-03-03T00:00:00Z/2026-03-04T00:00:00Z",
    "granularity": "PT1H",
    "metrics": ["nOffered"],
}


@pytest.mark.parametrize(
    ("payload", "fragment"),
    [
        (b"not json", "parse"),
        ([1, 2], "JSON object"),
        ({"metrics": ["nOffered"]}, "interval"),
        ({**GOOD, "interval": "PT1H"}, "start/end"),
        ({**GOOD, "interval": "yesterday/today"}, "ISO-8601"),
        ({**GOOD, "interval": "2026-03-04T00:00:00Z/2026-03-03T00:00:00Z"}, "after the start"),
        ({**GOOD, "interval": "2026-01-01T00:00:00Z/2026-03-01T00:00:00Z"}, "maximum"),
        ({"interval": GOOD["interval"]}, "metrics"),
        ({**GOOD, "metrics": []}, "metrics"),
        ({**GOOD, "metrics": ["serviceLevel"]}, "Unknown metric"),
        ({**GOOD, "granularity": "PT5M"}, "granularity"),
        ({**GOOD, "granularity": "P1W"}, "granularity"),
        ({**GOOD, "interval": "2026-03-03T00:10:00Z/2026-03-04T00:00:00Z"}, "aligned"),
        ({**GOOD, "granularity": "P1D", "timeZone": "Europe/London",
          "interval": "2026-03-03T05:00:00Z/2026-03-04T05:00:00Z"}, "midnight"),
        ({**GOOD, "timeZone": "Mars/Olympus"}, "timeZone"),
        ({**GOOD, "groupBy": ["queue"]}, "Unknown groupBy"),
        ({**GOOD, "groupBy": ["userId"]}, "not supported"),
        ({**GOOD, "filter": {"type": "xor", "predicates": [QUEUE_Q]}}, "filter type"),
        ({**GOOD, "filter": {"type": "and", "predicates": [{**QUEUE_Q, "dimension": "q"}]}}, "Unknown"),
        ({**GOOD, "filter": {"type": "and", "predicates": [{**QUEUE_Q, "operator": "eq"}]}}, "operator"),
        ({**GOOD, "filter": {"type": "and"}}, "at least one"),
    ],
)  # fmt: skip
def test_invalid_bodies_get_a_genesys_style_400(client: SimClient, payload, fragment: str) -> None:
    data = payload if isinstance(payload, bytes) else orjson.dumps(payload)

    reply = client.request("POST", "/api/v2/analytics/conversations/aggregates/query", data=data)

    assert reply.status_code == 400
    doc = reply.json()
    assert doc["status"] == 400 and doc["code"] == "bad.request"
    assert fragment.lower() in doc["message"].lower()
    assert doc["contextId"] == reply.headers["inin-correlation-id"]


def test_max_interval_days_is_configurable(client: SimClient, sim: Simulator) -> None:
    sim.faults.max_interval_days = 1

    assert client.query(body("2026-03-03T00:00:00Z/2026-03-04T00:00:00Z")).status_code == 200
    assert client.query(body("2026-03-03T00:00:00Z/2026-03-04T01:00:00Z")).status_code == 400


def test_bigger_orgs_serve_generated_queues() -> None:
    config = SimulatorConfig(queue_count=40, clock_start=datetime(2026, 11, 27, tzinfo=UTC))
    with run_simulator(config) as sim:
        client = SimClient(sim)
        rows = rows_of(client.query_ok(body("2026-03-03T00:00:00Z/2026-03-04T00:00:00Z", metrics=METRICS)))
        client.http.close()

    assert len({r["queue_id"] for r in rows}) == 39  # all but Chat Concierge, created on 2026-03-05


def test_pair_health_is_fixed_per_seed_and_spread_over_thirds() -> None:
    qidx = np.repeat(np.arange(500, dtype=np.uint64), 2)
    midx = np.tile(np.array([0, 1], dtype=np.uint64), 500)
    health = pair_health(42, qidx, midx)
    margins = sl_margin(health)

    assert np.array_equal(health, pair_health(42, qidx, midx))
    assert not np.array_equal(health, pair_health(43, qidx, midx))
    assert ((health >= 0) & (health < 1)).all()
    assert abs(np.mean(margins >= 0.02) - 1 / 3) < 0.02  # a third staffed to meet the target
    assert abs(np.mean(margins <= -0.04) - 0.4) < 0.02  # two fifths staffed to miss it clearly
    assert margins.min() >= -0.16 and margins.max() <= 0.05
