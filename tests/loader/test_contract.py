"""Unit tests of loader.contract: each rule of the reply contract, on hand-made replies."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import orjson
import pytest

from loader import contract
from loader.aggregates import decode, job_ledger, parse_reply, parse_response
from loader.contract import ContractError
from loader.windows import Window

WINDOW = Window(datetime(2025, 3, 3, tzinfo=UTC), datetime(2025, 3, 4, tzinfo=UTC))
LOADED = datetime(2025, 3, 5, tzinfo=UTC)
NINE = "2025-03-03T09:00:00.000Z/2025-03-03T10:00:00.000Z"
VOICE_Q1 = {"queueId": "q1", "mediaType": "voice"}


def group(
    interval: str | None = NINE,
    stats: dict[str, Any] | None = None,
    metric: str = "nOffered",
    key: dict[str, Any] | None = VOICE_Q1,
) -> dict[str, Any]:
    bucket = {"interval": interval, "metrics": [{"metric": metric, "stats": stats or {"count": 5}}]}
    return {"group": key, "data": [bucket]}


def parse(*groups: dict[str, Any], granularity: str = "PT1H"):
    return parse_reply(orjson.dumps({"results": list(groups)}), "org", LOADED, WINDOW, granularity)


def broken(*groups: dict[str, Any], granularity: str = "PT1H") -> str:
    with pytest.raises(ContractError) as caught:
        parse(*groups, granularity=granularity)
    message = str(caught.value)
    assert "\n" not in message
    assert f"window {WINDOW}" in message and "breaks the API contract" in message
    assert "nothing of this window was written" in message
    return message


def test_a_valid_reply_parses() -> None:
    parsed = parse(group(), group(key={"queueId": "q2", "mediaType": "chat"}))
    assert parsed.table.num_rows == 2 and parsed.queue_ids == {"q1", "q2"} and parsed.skipped_groups == 0


def test_identical_repeats_collapse_to_one_row() -> None:
    parsed = parse(group(), group())
    assert parsed.table.num_rows == 1
    assert parsed.table.column("offered_count").to_pylist() == [5]


def test_a_repeat_within_one_group_collapses_too() -> None:
    twice = group()
    twice["data"] = twice["data"] * 2
    assert parse(twice).table.num_rows == 1


def test_conflicting_repeats_are_an_error() -> None:
    message = broken(group(), group(stats={"count": 6}))
    assert "nOffered.count" in message and "q1, voice, 2025-03-03T09:00:00Z" in message
    assert "= 6 conflicts with 5" in message or "= 5 conflicts with 6" in message


@pytest.mark.parametrize(
    ("stats", "shown"),
    [({"count": 1e30}, "1e+30"), ({"count": -1}, "-1"), ({"count": 1.5}, "1.5"), ({"count": 2.0**63}, "9.2")],
    ids=["huge", "negative", "fractional", "int64-overflow"],
)
def test_counts_are_non_negative_integers_within_int64(stats: dict[str, Any], shown: str) -> None:
    message = broken(group(stats=stats))
    assert "nOffered.count (queue q1, voice, bucket 2025-03-03T09:00:00.000Z/" in message
    assert f"= {shown}" in message and "not a non-negative integer within int64" in message


def test_the_largest_int64_safe_count_is_stored_exactly() -> None:
    parsed = parse(group(stats={"count": 2**53}))
    assert parsed.table.column("offered_count").to_pylist() == [2**53]


def test_sums_are_checked_like_counts() -> None:
    message = broken(group(metric="tHandle", stats={"count": 2, "sum": -30}))
    assert "tHandle.sum" in message and "= -30" in message


def test_sl_numerator_never_exceeds_denominator() -> None:
    message = broken(group(metric="oServiceLevel", stats={"numerator": 5, "denominator": 4, "target": 0.8}))
    assert "oServiceLevel.numerator" in message and "= 5 exceeds oServiceLevel.denominator 4" in message


@pytest.mark.parametrize("target", [7.5, -0.1])
def test_target_is_a_ratio(target: float) -> None:
    message = broken(
        group(metric="oServiceLevel", stats={"numerator": 3, "denominator": 4, "target": target})
    )
    assert "oServiceLevel.target" in message and f"= {target}" in message and "[0, 1]" in message


def test_target_bounds_are_allowed() -> None:
    for target in (0.0, 1.0):
        stats = {"numerator": 3, "denominator": 4, "target": target}
        assert parse(group(metric="oServiceLevel", stats=stats)).table.num_rows == 1


def test_misaligned_bucket() -> None:
    message = broken(group(interval="2025-03-03T09:07:00.000Z/2025-03-03T10:07:00.000Z"))
    assert "data.interval = '2025-03-03T09:07:00.000Z/2025-03-03T10:07:00.000Z'" in message
    assert "not aligned to the PT1H granularity" in message


def test_24_hour_bucket_labelled_pt1h() -> None:
    message = broken(group(interval="2025-03-03T00:00:00.000Z/2025-03-04T00:00:00.000Z"))
    assert "not one PT1H bucket long" in message


def test_pt15m_buckets_under_pt1h_granularity_are_caught() -> None:
    assert "not one PT1H bucket long" in broken(group(interval="2025-03-03T09:00:00Z/2025-03-03T09:15:00Z"))


def test_pt15m_buckets_fit_pt15m_granularity() -> None:
    parsed = parse(group(interval="2025-03-03T09:15:00Z/2025-03-03T09:30:00Z"), granularity="PT15M")
    assert parsed.table.num_rows == 1


def test_bucket_outside_the_window() -> None:
    assert "outside the window" in broken(group(interval="2025-03-04T00:00:00.000Z/2025-03-04T01:00:00.000Z"))


@pytest.mark.parametrize("interval", ["garbage", "2025-03-03T09:00:00Z", None])
def test_unparsable_interval(interval: str | None) -> None:
    assert "data.interval" in broken(group(interval=interval))


@pytest.mark.parametrize("key", [{"queueId": "q1"}, None], ids=["no-mediaType", "null-group"])
def test_media_type_is_required(key: dict[str, Any] | None) -> None:
    assert "group.mediaType" in broken(group(key=key))


def test_group_without_queue_id_is_skipped_and_counted() -> None:
    parsed = parse(group(), group(key={"mediaType": "voice"}, stats={"count": 1e30}))
    assert parsed.table.num_rows == 1 and parsed.skipped_groups == 1 and parsed.queue_ids == {"q1"}


@pytest.mark.parametrize(
    ("body", "said"),
    [
        (b"", "empty"),
        (b"null", "null"),
        (b" null\n", "null"),
        (b"[]", "not a JSON object"),
        (b"<html>", "not"),
    ],
    ids=["empty", "null", "null-padded", "array", "html"],
)
def test_bodies_that_are_not_objects_are_one_line_errors(body: bytes, said: str) -> None:
    with pytest.raises(ContractError) as caught:
        decode(body, f"the aggregates reply for window {WINDOW}")
    assert said in str(caught.value) and "\n" not in str(caught.value)


def test_a_body_of_the_wrong_shape_is_an_error() -> None:
    with pytest.raises(ContractError, match="not the aggregates JSON shape"):
        decode(b'{"results": 5}')


def test_an_empty_object_is_an_empty_reply() -> None:
    assert parse_response(b"{}", "org", LOADED, WINDOW).num_rows == 0


@pytest.mark.parametrize("value", [None, "", "  ", 42])
def test_org_id_must_be_a_non_empty_string(value: Any) -> None:
    with pytest.raises(ContractError, match="organizations/me breaks the API contract: id = "):
        contract.org_id({"id": value})


def test_org_reply_must_be_an_object() -> None:
    with pytest.raises(ContractError, match="reply is null"):
        contract.org_id(None)
    assert contract.org_id({"id": "abc"}) == "abc"


def test_queue_pages_carry_an_entities_list() -> None:
    with pytest.raises(ContractError, match="entities = None is not a list"):
        contract.queue_page({"pageNumber": 1}, 1)
    with pytest.raises(ContractError, match=r"entities\[1\].id"):
        contract.queue_page({"entities": [{"id": "a"}, {"name": "x"}]}, 1)
    assert contract.queue_page({"entities": []}, 3) == []


def test_page_limit_is_ceil_total_over_page_size() -> None:
    assert contract.page_limit({"total": 12, "pageSize": 5, "pageCount": 1000}, 5) == 3
    assert contract.page_limit({"total": 0, "pageSize": 5}, 5) == 0
    assert contract.page_limit({"pageCount": 7}, 5) is None
    assert contract.page_limit({"total": 10, "pageSize": "x"}, 4) == 3


def page(*groups: dict[str, Any]):
    return parse(*groups).table


def test_job_pages_repeating_a_key_identically_collapse() -> None:
    ledger = job_ledger(WINDOW)
    assert ledger.admit(page(group())).num_rows == 1
    later = ledger.admit(page(group(), group(key={"queueId": "q2", "mediaType": "voice"})))
    assert later.column("queue_id").to_pylist() == ["q2"]


def test_job_pages_repeating_a_key_with_other_values_are_an_error() -> None:
    ledger = job_ledger(WINDOW)
    ledger.admit(page(group()))
    with pytest.raises(
        ContractError, match=r"q1, voice, 2025-03-03T09:00:00Z.*differing from an earlier page"
    ):
        ledger.admit(page(group(stats={"count": 6})))


def test_a_null_and_a_zero_differ_in_the_row_digest() -> None:
    ledger = job_ledger(WINDOW)
    ledger.admit(page(group(metric="nOverSla", stats={"count": 0})))
    with pytest.raises(ContractError):
        ledger.admit(page(group(metric="nOffered", stats={"count": 0})))


class _JobReplies:
    """Stands in for GenesysHttp: answers the async job submission with `reply`."""

    def __init__(self, reply: dict[str, Any]) -> None:
        self.reply = reply
        self.calls = 0

    def request_json(self, method: str, path: str, **_: Any) -> dict[str, Any]:
        self.calls += 1
        return self.reply


@pytest.mark.parametrize("reply", [{}, {"jobId": None}, {"jobId": ""}, {"jobId": 7}])
def test_a_job_submission_without_a_job_id_is_one_contract_line(reply: dict[str, Any]) -> None:
    from loader.jobs import job_results

    http = _JobReplies(reply)
    with pytest.raises(ContractError) as caught:
        list(job_results(http, {}, WINDOW, max_resubmits=2, poll_cap_s=0.01, timeout_s=1))  # type: ignore[arg-type]
    message = str(caught.value)
    assert message.startswith(f"the async job reply for window {WINDOW} breaks the API contract: jobId = ")
    assert "is not a non-empty string" in message and "\n" not in message
    assert http.calls == 1  # never polled nor resubmitted


def test_the_job_ledger_keeps_about_24_bytes_a_key_and_tells_every_queue_apart() -> None:
    ledger = job_ledger(WINDOW)
    first = page(*(group(key={"queueId": f"{n:08d}-0000-4000-8000-000000000000", "mediaType": "voice"})
                   for n in range(200)))  # fmt: skip
    assert ledger.admit(first).num_rows == 200
    # a new queue id on a later page is kept, a repeated one collapses, with the same codes as before
    later = page(
        group(key={"queueId": "00000007-0000-4000-8000-000000000000", "mediaType": "voice"}),
        group(key={"queueId": "00000200-0000-4000-8000-000000000000", "mediaType": "voice"}),
        group(key={"queueId": "00000007-0000-4000-8000-000000000000", "mediaType": "chat"}),
    )
    kept = ledger.admit(later)
    assert kept.column("queue_id").to_pylist() == [
        "00000200-0000-4000-8000-000000000000",
        "00000007-0000-4000-8000-000000000000",
    ]
    kept_bytes = sum(t.nbytes for t in ledger._seen)
    page_keys = first.select(["queue_id", "media_type", "interval_start"]).nbytes
    assert kept_bytes <= 28 * 202 < page_keys  # the 36-character queue ids are not kept per key
