"""The official Genesys SDK, as an independent client, accepts the simulator's token and replies."""

from __future__ import annotations

from datetime import UTC, datetime

import PureCloudPlatformClientV2 as genesys
from simhelpers import METRICS

from simulator import Simulator


def _sdk(sim: Simulator) -> genesys.ApiClient:
    cfg = sim.config
    # With a 127.0.0.1 host there is no "//api." to rewrite, so the SDK logs in on the same host.
    return genesys.api_client.ApiClient(host=sim.base_url).get_client_credentials_token(
        cfg.client_id, cfg.client_secret
    )


def test_sdk_gets_a_token_with_basic_auth_and_a_form_body(sim: Simulator) -> None:
    client = _sdk(sim)

    assert client.access_token == sim.issued_tokens[-1]
    token_request = sim.requests[0]
    assert (token_request.method, token_request.path, token_request.status) == ("POST", "/oauth/token", 200)
    assert token_request.headers["Authorization"].startswith("Basic ")
    assert token_request.body == b"grant_type=client_credentials"


def test_sdk_aggregates_query_deserializes_with_the_ground_truth_values(sim: Simulator) -> None:
    client = _sdk(sim)
    queue = next(q for q in sim.org.queues if q.name == "Tech Support Tier 1")
    query = genesys.ConversationAggregationQuery()
    query.interval = "2026-03-03T00:00:00.000Z/2026-03-04T00:00:00.000Z"
    query.granularity = "PT1H"
    query.group_by = ["queueId", "mediaType"]
    query.metrics = METRICS
    query_filter = genesys.ConversationAggregateQueryFilter()
    query_filter.type = "or"
    predicate = genesys.ConversationAggregateQueryPredicate()
    predicate.dimension = "queueId"
    predicate.value = queue.id
    query_filter.predicates = [predicate]
    query.filter = query_filter

    response = genesys.AnalyticsApi(client).post_analytics_conversations_aggregates_query(query)

    truth = sim.ground_truth(
        datetime(2026, 3, 3, tzinfo=UTC), datetime(2026, 3, 4, tzinfo=UTC), queue_ids=[queue.id]
    )
    assert (
        {r.group["mediaType"] for r in response.results} == set(queue.media) == {"voice", "chat", "message"}
    )
    got = {}
    for result in response.results:
        assert isinstance(result, genesys.ConversationAggregateDataContainer)
        assert result.group["queueId"] == queue.id
        for bucket in result.data:
            metrics = {m.metric: m.stats for m in bucket.metrics}
            start = datetime.fromisoformat(bucket.interval.split("/")[0])
            got[(result.group["mediaType"], start)] = metrics
    assert len(got) == len(truth) > 20
    for row in truth:
        metrics = got[(row["media_type"], row["interval_start"])]
        assert metrics["nOffered"].count == row["offered_count"]
        assert metrics["oServiceLevel"].numerator == row["sl_numerator"]
        assert metrics["oServiceLevel"].denominator == row["sl_denominator"]
        assert metrics["oServiceLevel"].target == row["sl_target_ratio"]
        assert metrics["oServiceLevel"].ratio == row["sl_numerator"] / row["sl_denominator"]
        if row["answered_count"] is not None:
            assert metrics["tAnswered"].count == row["answered_count"]
            assert metrics["tAnswered"].sum == row["answered_ms_sum"]
        else:
            assert "tAnswered" not in metrics


def test_sdk_routing_queues_deserialize_into_queue_models(sim: Simulator) -> None:
    client = _sdk(sim)
    routing = genesys.RoutingApi(client)

    first = routing.get_routing_queues(page_size=4, page_number=1)
    pages = [first] + [
        routing.get_routing_queues(page_size=4, page_number=n) for n in range(2, first.page_count + 1)
    ]

    listed = [q for page in pages for q in page.entities]
    live = [q for q in sim.org.queues if q.exists_at(sim.clock.now())]
    assert first.total == len(live) == len(listed) == 10  # two of the twelve queues are deleted by then
    assert first.page_count == 3
    assert isinstance(listed[0], genesys.Queue)
    by_name = {q.name: q for q in listed}
    billing = by_name["Billing Support"]
    assert billing.division.name == "Customer Care"
    assert billing.media_settings.call.service_level.percentage == 0.8
    assert billing.media_settings.call.service_level.duration_ms == 20_000
    assert billing.media_settings.email.service_level.duration_ms == 86_400_000
    assert billing.media_settings.chat is None
    assert "Legacy Billing" not in by_name and "Holiday Overflow" not in by_name
