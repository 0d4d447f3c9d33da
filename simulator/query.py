"""Aggregate queries: validate a ConversationAggregationQuery body and render Genesys-shaped JSON."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import orjson

from simulator.data import GRANULARITIES, bucket_edges, parse_instant
from simulator.org import SimQueue, SimulatedOrg

# Every metric and dimension the real API knows (SDK 269 ConversationAggregationView / QueryPredicate).
_METRIC_WORDS = (
    "nAgentDeclined nAlertExpired nBlindTransferred nBotInteractions nCallbackAttempts nCallbackOverSla "
    "nCallbackScheduled nCfcOffered nCobrowseSessions nConnected nConsult nConsultTransferred "
    "nConversations nError nOffered nOutbound nOutboundAbandoned nOutboundAttempted nOutboundConnected "
    "nOverSla nStateTransitionError nTakeover nTransferred oAudioMessageCount oCallbackServiceLevel "
    "oExternalAudioMessageCount oExternalMediaCount oMediaCount oMessageCount oMessageSegmentCount "
    "oMessageTurn oServiceLevel oServiceTarget oSkillExpressionApplications tAbandon tAcd tActiveCallback "
    "tActiveCallbackComplete tAcw tAgentResponseTime tAgentVideoConnected tAlert tAnswered "
    "tAverageAgentResponseTime tAverageCustomerResponseTime tBarging tCallbackAbandon tCallbackConnect "
    "tCallbackNotReached tCallbackVirtualWait tCfcAbandon tCfcAcd tCfcAnswered tCfcFlowOut tCoaching "
    "tCoachingComplete tConnected tContacting tDialing tFirstConnect tFirstDial tFirstEngagement "
    "tFirstResponse tFlowOut tHandle tHeld tHeldComplete tIvr tMonitoring tMonitoringComplete "
    "tNotResponding tPark tParkComplete tScreenMonitoring tShortAbandon tSnippetRecord tTalk "
    "tTalkComplete tTransmitting tUserResponseTime tVoicemail tWait"
)
KNOWN_METRICS = frozenset(_METRIC_WORDS.split())
_DIMENSION_WORDS = (
    "activeRouting activeSkillId addressFrom addressTo agentAssistantId agentBullseyeRing agentOwned "
    "agentRank agentScore ani assignerId authenticated canonicalExternalContactId conversationId "
    "conversationInitiator convertedFrom convertedTo customerParticipation deliveryStatus "
    "destinationAddress direction disconnectType divisionId dnis edgeId eligibleAgentCount errorCode "
    "extendedDeliveryStatus externalContactId externalMediaCount externalOrganizationId externalTag "
    "firstQueue flaggedReason flowInType flowOutType groupId interactionType journeyActionId "
    "journeyActionMapId journeyActionMapVersion journeyCustomerId journeyCustomerIdType "
    "journeyCustomerSessionId journeyCustomerSessionIdType knowledgeBaseId mediaCount mediaType "
    "messageType originatingDirection originatingSocialMediaPublic outboundCampaignId outboundContactId "
    "outboundContactListId participantName peerId proposedAgentId provider purpose queueId remote "
    "removedSkillId requestedLanguageId requestedRouting requestedRoutingSkillId roomId routingPriority "
    "routingRing routingRule routingRuleType scoredAgentId selectedAgentId selectedAgentRank selfServed "
    "sessionDnis sessionId skillExpressionId stationId teamId usedRouting userId videoPresent "
    "waitingInteractionCount wrapUpCode"
)
KNOWN_DIMENSIONS = frozenset(_DIMENSION_WORDS.split())
GROUP_BY_SUPPORTED = ("queueId", "mediaType")
FILTER_SUPPORTED = ("queueId", "mediaType", "divisionId", "interactionType")


class QueryError(ValueError):
    """An invalid query body; the message is what the 400 reply says."""


@dataclass
class AggregateQuery:
    """A validated aggregates query."""

    start: datetime
    end: datetime
    edges: list[datetime]
    granularity: str | None
    time_zone: str
    group_by: tuple[str, ...]
    metrics: tuple[str, ...]
    filter: dict[str, Any] | None
    page_size: int | None = None


def parse_query(body: bytes, max_interval_days: float, *, is_job: bool = False) -> AggregateQuery:
    """Validate a request body as Genesys does, raising QueryError with a Genesys-style message."""
    try:
        doc = orjson.loads(body or b"null")
    except orjson.JSONDecodeError as exc:
        raise QueryError(f"Unable to parse the request body as JSON: {exc}") from None
    if not isinstance(doc, dict):
        raise QueryError("The request body must be a JSON object (ConversationAggregationQuery)")
    interval = doc.get("interval")
    if not interval:
        raise QueryError("Missing required field 'interval' (an ISO-8601 interval 'start/end')")
    if not isinstance(interval, str) or interval.count("/") != 1:
        raise QueryError(f"Invalid interval {interval!r}: expected an ISO-8601 interval 'start/end'")
    try:
        start, end = (parse_instant(part) for part in interval.split("/"))
    except ValueError:
        raise QueryError(
            f"Invalid interval {interval!r}: start and end must be ISO-8601 date-times"
        ) from None
    if end <= start:
        raise QueryError(f"Invalid interval {interval!r}: the end date must be after the start date")
    if end - start > timedelta(days=max_interval_days):
        raise QueryError(
            f"Invalid interval {interval!r}: the interval spans more than the maximum of "
            f"{max_interval_days:g} days; split the query into smaller intervals"
        )
    metrics = doc.get("metrics")
    if not metrics:
        raise QueryError("Missing required field 'metrics': name at least one metric")
    if not isinstance(metrics, list) or not all(isinstance(m, str) for m in metrics):
        raise QueryError("Field 'metrics' must be a list of metric names")
    unknown = [m for m in metrics if m not in KNOWN_METRICS]
    if unknown:
        raise QueryError(f"Unknown metric(s) {', '.join(unknown)}; see ConversationAggregationQuery metrics")
    granularity = doc.get("granularity")
    if granularity is not None and granularity not in GRANULARITIES:
        raise QueryError(
            f"Invalid granularity {granularity!r}; the simulator supports {', '.join(GRANULARITIES)} "
            "(ISO-8601 durations)"
        )
    time_zone = doc.get("timeZone") or "UTC"
    try:
        ZoneInfo(time_zone)
    except (ZoneInfoNotFoundError, ValueError, TypeError):
        raise QueryError(
            f"Invalid timeZone {time_zone!r}; use an IANA zone name such as Europe/London"
        ) from None
    group_by = doc.get("groupBy") or []
    if not isinstance(group_by, list) or not all(isinstance(g, str) for g in group_by):
        raise QueryError("Field 'groupBy' must be a list of dimension names")
    for dim in group_by:
        if dim not in KNOWN_DIMENSIONS:
            raise QueryError(f"Unknown groupBy dimension {dim!r}")
        if dim not in GROUP_BY_SUPPORTED:
            raise QueryError(
                f"groupBy dimension {dim!r} is not supported by the simulator (use queueId, mediaType)"
            )
    if len(set(group_by)) != len(group_by):
        raise QueryError("Field 'groupBy' lists a dimension twice")
    flt = doc.get("filter")
    if flt is not None:
        _check_filter(flt, depth=0)
    page_size = None
    if is_job:
        page_size = doc.get("pageSize", 100)
        if not isinstance(page_size, int) or isinstance(page_size, bool) or not 1 <= page_size <= 1000:
            raise QueryError("Field 'pageSize' must be an integer between 1 and 1000")
    try:
        edges = bucket_edges(start, end, granularity, time_zone)
    except ValueError as exc:
        raise QueryError(str(exc)) from None
    return AggregateQuery(
        start,
        end,
        edges,
        granularity,
        time_zone,
        tuple(group_by),
        tuple(dict.fromkeys(metrics)),
        flt,
        page_size,
    )


def _check_filter(node: Any, depth: int) -> None:
    if not isinstance(node, dict):
        raise QueryError("A filter (or clause) must be a JSON object")
    if node.get("type") not in ("and", "or"):
        raise QueryError(f"Invalid filter type {node.get('type')!r}; use 'and' or 'or'")
    clauses = node.get("clauses") or []
    predicates = node.get("predicates") or []
    if not isinstance(clauses, list) or not isinstance(predicates, list):
        raise QueryError("Filter 'clauses' and 'predicates' must be lists")
    if depth >= 2 and clauses:
        raise QueryError("Filters allow at most two levels of nesting")
    if not clauses and not predicates:
        raise QueryError("A filter needs at least one clause or predicate")
    for clause in clauses:
        _check_filter(clause, depth + 1)
    for pred in predicates:
        if not isinstance(pred, dict):
            raise QueryError("A filter predicate must be a JSON object")
        if pred.get("type", "dimension") != "dimension":
            raise QueryError(f"Predicate type {pred.get('type')!r} is not supported by the simulator")
        dim = pred.get("dimension")
        if dim not in KNOWN_DIMENSIONS:
            raise QueryError(f"Unknown filter dimension {dim!r}")
        if dim not in FILTER_SUPPORTED:
            raise QueryError(f"Filter dimension {dim!r} is not supported by the simulator")
        op = pred.get("operator", "matches")
        if op not in ("matches", "exists", "notExists"):
            raise QueryError(f"Invalid predicate operator {op!r}; use matches, exists or notExists")
        if op == "matches" and not isinstance(pred.get("value"), str):
            raise QueryError(f"Predicate on {dim!r} with operator 'matches' needs a string 'value'")


def _matches(node: dict[str, Any], queue: SimQueue, media: str) -> bool:
    values = {
        "queueId": queue.id,
        "mediaType": media,
        "divisionId": queue.division_id,
        "interactionType": "contactcenter",
    }
    results = [_matches(c, queue, media) for c in node.get("clauses") or []]
    for pred in node.get("predicates") or []:
        op = pred.get("operator", "matches")
        if op == "matches":
            results.append(values[pred["dimension"]] == pred["value"])
        else:
            results.append(op == "exists")
    return all(results) if node["type"] == "and" else any(results)


def select(org: SimulatedOrg, query: AggregateQuery) -> list[tuple[SimQueue, str]]:
    """(queue, media) pairs the filter keeps, deleted queues included (analytics keeps their history)."""
    pairs = [(q, m) for q in org.queues for m in q.media]
    if query.filter is None:
        return pairs
    return [(q, m) for q, m in pairs if _matches(query.filter, q, m)]
