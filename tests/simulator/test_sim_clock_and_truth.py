"""The simulator clock and the ground-truth function other tests compute expectations with."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta

import pytest

from simulator import SimClock, SimulatorConfig, ground_truth
from simulator.data import GROUND_TRUTH_KEYS


def test_real_time_clock_runs_and_can_be_shifted() -> None:
    clock = SimClock()
    first = clock.now()
    time.sleep(0.01)
    second = clock.now()
    clock.advance(timedelta(days=2))

    assert not clock.is_frozen
    assert abs(first - datetime.now(UTC)) < timedelta(seconds=5)
    assert second > first
    assert clock.now() - second >= timedelta(days=2)


def test_set_clock_is_frozen_until_advanced() -> None:
    clock = SimClock(datetime(2026, 3, 3, 12, tzinfo=UTC))
    time.sleep(0.01)

    assert clock.now() == datetime(2026, 3, 3, 12, tzinfo=UTC)
    clock.advance(timedelta(minutes=15))
    assert clock.now() == datetime(2026, 3, 3, 12, 15, tzinfo=UTC)
    with pytest.raises(ValueError, match="aware"):
        clock.set(datetime(2026, 3, 3))


def test_ground_truth_rows_have_exactly_the_contract_keys_and_order() -> None:
    rows = ground_truth(SimulatorConfig(), datetime(2026, 3, 3, tzinfo=UTC), datetime(2026, 3, 5, tzinfo=UTC))

    assert rows and all(tuple(r) == GROUND_TRUTH_KEYS for r in rows)
    keys = [(r["queue_id"], r["media_type"], r["interval_start"]) for r in rows]
    assert keys == sorted(keys) and len(set(keys)) == len(keys)
    assert all(r["interval_start"].tzinfo is not None for r in rows)
    assert any(r["flow_out_count"] is None for r in rows)  # absent metrics are None, never 0
    assert all(r[k] != 0 for r in rows for k in ("flow_out_count", "over_sla_count", "short_abandoned_count"))


def test_ground_truth_p1d_sums_hours() -> None:
    config = SimulatorConfig()
    start, end = datetime(2026, 3, 3, tzinfo=UTC), datetime(2026, 3, 4, tzinfo=UTC)

    days = ground_truth(config, start, end, "P1D")
    hours = ground_truth(config, start, end, "PT1H")

    assert sum(r["offered_count"] for r in days) == sum(r["offered_count"] for r in hours)
    assert sum(r["sl_numerator"] or 0 for r in days) == sum(r["sl_numerator"] or 0 for r in hours)


def test_ground_truth_needs_aligned_bounds() -> None:
    with pytest.raises(ValueError, match="aligned"):
        ground_truth(
            SimulatorConfig(), datetime(2026, 3, 3, 0, 30, tzinfo=UTC), datetime(2026, 3, 4, tzinfo=UTC)
        )
