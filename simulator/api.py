"""The Genesys Cloud endpoints the simulator serves: token, org, routing queues, analytics aggregates."""

from __future__ import annotations

import base64
import binascii
import fnmatch
import logging
import math
import threading
import time
import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import TYPE_CHECKING
from urllib.parse import parse_qs, urlencode

import orjson

from simulator import hostile
from simulator.data import figures, iso_ms
from simulator.faults import pick_fault
from simulator.job_results import JobResults, Pair
from simulator.org import SETTINGS_KEY, SimQueue
from simulator.query import AggregateQuery, QueryError, parse_query, select
from simulator.render import render_groups

if TYPE_CHECKING:
    from simulator.server import Simulator

log = logging.getLogger(__name__)

MAX_QUEUE_PAGE_SIZE = 500
UNLIMITED_ADVERTISED = 1_000_000
INJECTED_RETRY_AFTER_S = 1  # Retry-After of injected 429s: short, so fault tests stay fast
SLOW_FAULT_S = 2.0  # what an injected "slow" fault adds to the reply's latency


@dataclass
class Reply:
    """An HTTP reply (or a dropped connection)."""

    status: int
    body: bytes = b""
    headers: dict[str, str] = field(default_factory=dict)
    drop: bool = False
    drip_s: float = 0.0  # > 0: the body goes out one byte per drip_s seconds (hostile "slow-drip")
    work_s: float = 0.0  # modelled server work (latency per returned row), on top of the fixed latency


def error(status: int, code: str, message: str, cid: str, **extra) -> Reply:
    """A Genesys ErrorBody reply."""
    doc = {
        "message": message,
        "code": code,
        "status": status,
        "messageWithParams": message,
        "messageParams": {},
        "contextId": cid,
        "details": [],
        "errors": [],
        **extra,
    }
    return Reply(status, orjson.dumps(doc))


def oauth_error(status: int, code: str, description: str) -> Reply:
    """An OAuth 2.0 token-endpoint error (RFC 6749 §5.2), with Genesys's `description` too."""
    return Reply(
        status, orjson.dumps({"error": code, "description": description, "error_description": description})
    )


def ok(doc: object) -> Reply:
    return Reply(200, orjson.dumps(doc))


@dataclass
class Job:
    """An async aggregates job."""

    id: str
    query: AggregateQuery
    submitted_real: float
    submitted_at: datetime
    outcome: str
    results: JobResults | None = None  # rendered as its pages are asked for; None unless FULFILLED


class Api:
    """Routes one request to its endpoint; faults and auth are applied before any /api/v2 route."""

    def __init__(self, sim: Simulator) -> None:
        self.sim = sim
        self._lock = threading.Lock()
        self.api_requests = 0
        self.jobs: dict[str, Job] = {}

    # ---- entry point -------------------------------------------------------------------------

    def handle(
        self,
        method: str,
        path: str,
        query: dict[str, list[str]],
        headers: Mapping[str, str],
        body: bytes,
        cid: str,
    ) -> Reply:
        faults = self.sim.faults
        limit = faults.rate_limit_per_minute
        # "Unlimited" (0) is advertised as a large limit, so clients that pace themselves never wait.
        allowed_header = str(limit if limit > 0 else UNLIMITED_ADVERTISED)
        rate_headers = {
            "inin-ratelimit-allowed": allowed_header,
            "inin-ratelimit-count": "0",
            "inin-ratelimit-reset": "60",
        }
        modes = tuple(faults.hostile)
        hostile.check_kinds(modes)
        if path == "/oauth/token":
            if "echo-credentials-token" in modes:
                reply = Reply(401, hostile.echo_body(401, headers, body))
            else:
                reply = self._token(method, headers, body) if method == "POST" else self._not_allowed(cid)
            reply.headers = {**rate_headers, **reply.headers}
            return reply
        if not path.startswith("/api/v2/"):
            reply = error(404, "not.found", f"No resource at {path}", cid)
            reply.headers = {**rate_headers, **reply.headers}
            return reply
        with self._lock:
            self.api_requests += 1
            number = self.api_requests
        arrived = time.monotonic()
        kind = pick_fault(faults, number)
        reply = self._api_reply(kind, number, method, path, query, headers, body, cid, rate_headers)
        # The configured latency is the server's response time from the request's arrival, the
        # simulator's own computing included: a real Genesys server computes on its hardware, not on the
        # client's cores, so the time this process spends rendering on the same machine is counted inside
        # the latency, not added to it; only rendering longer than the latency makes a reply later.
        # Modelled work (latency per row, a "slow" fault's 2 s) is added to it.
        respond_at = arrived + faults.latency_s + reply.work_s + (SLOW_FAULT_S if kind == "slow" else 0.0)
        if (wait := respond_at - time.monotonic()) > 0:
            time.sleep(wait)
        return reply

    def _api_reply(
        self,
        kind: str | None,
        number: int,
        method: str,
        path: str,
        query: dict[str, list[str]],
        headers: Mapping[str, str],
        body: bytes,
        cid: str,
        rate_headers: dict[str, str],
    ) -> Reply:
        """The reply to an /api/v2 request: its injected fault, or auth, the rate limit and the route."""
        faults = self.sim.faults
        limit = faults.rate_limit_per_minute
        allowed_header = rate_headers["inin-ratelimit-allowed"]
        modes = tuple(faults.hostile)
        if kind == "drop":
            log.debug("request %s: dropping the connection (injected)", number)
            return Reply(0, drop=True)
        if kind is not None and kind not in ("401", "slow"):
            reply = self._injected(kind, cid, path)
            reply.headers = {**rate_headers, **reply.headers}
            return reply
        reply, token_value = self._authenticate(headers, cid, force_revoke=kind == "401")
        if reply is None:
            allowed, count, reset = self.sim.rate_limiter.hit(token_value, limit)
            rate_headers = {
                "inin-ratelimit-allowed": allowed_header,
                "inin-ratelimit-count": str(count),
                "inin-ratelimit-reset": str(reset),
            }
            if not allowed:
                message = f"Rate limit exceeded the maximum. Retry the request in [{reset}] seconds"
                reply = error(
                    429,
                    "too.many.requests.retry.after",
                    message,
                    cid,
                    messageParams={"retryAfter": reset},
                    limit={
                        "key": "client.credentials.token.rate.per.minute",
                        "namespace": "platform.api",
                        "value": limit,
                    },
                )
                reply.headers["Retry-After"] = str(reset)
            else:
                reply = self._route(method, path, query, body, cid)
                if modes and reply.status < 300:
                    work_s = reply.work_s
                    reply = self._hostile(modes, path, headers, body, reply)
                    reply.work_s = work_s
        reply.headers = {**rate_headers, **reply.headers}
        return reply

    def _hostile(
        self, modes: tuple[str, ...], path: str, headers: Mapping[str, str], body: bytes, reply: Reply
    ) -> Reply:
        """The reply rewritten to break the API contract as the run's hostile modes say."""
        if path.endswith("/organizations/me") and "org-id-null" in modes:
            doc = orjson.loads(reply.body)
            doc["id"] = None
            return Reply(reply.status, orjson.dumps(doc), reply.headers)
        if not hostile.is_aggregates_reply(path):
            return reply
        if path.endswith(hostile.AGGREGATES_PATHS):
            for status in (401, 403, 500):
                if f"echo-credentials-{status}" in modes:
                    return Reply(status, hostile.echo_body(status, headers, body))
        if "redirect" in modes:
            location = f"{self.sim.decoy().base_url}{path}"
            return Reply(307, b"", {"Location": location})
        tampered = Reply(reply.status, hostile.tamper_aggregates(reply.body, modes), reply.headers)
        if "slow-drip" in modes:
            tampered.drip_s = self.sim.faults.drip_s
        return tampered

    # ---- token endpoint ----------------------------------------------------------------------

    def _token(self, method: str, headers: Mapping[str, str], body: bytes) -> Reply:
        cfg = self.sim.config
        ctype = (headers.get("Content-Type") or "").split(";")[0].strip().lower()
        if ctype != "application/x-www-form-urlencoded":
            return oauth_error(
                400,
                "invalid_request",
                "The token request must be a form body (Content-Type: application/x-www-form-urlencoded) "
                f"with grant_type=client_credentials, not {ctype or 'no content type'}",
            )
        form = parse_qs(body.decode("utf-8", "replace"), keep_blank_values=True)
        client_id = client_secret = None
        auth = headers.get("Authorization") or ""
        if auth[:6].lower() == "basic ":
            try:
                client_id, _, client_secret = (
                    base64.b64decode(auth[6:].strip()).decode("utf-8").partition(":")
                )
            except (binascii.Error, UnicodeDecodeError):
                return oauth_error(
                    401, "invalid_client", "The Basic authorization header is not valid base64"
                )
        elif "client_id" in form:
            # Accepted as the real service tolerates it (RFC 6749 allows body credentials).
            client_id = form["client_id"][0]
            client_secret = (form.get("client_secret") or [""])[0]
        if client_id is None:
            return oauth_error(
                401, "invalid_client", "Client authentication is required (HTTP Basic client id:secret)"
            )
        if client_id != cfg.client_id or client_secret != cfg.client_secret:
            return oauth_error(401, "invalid_client", "Invalid client credentials")
        grant = (form.get("grant_type") or [""])[0]
        if grant != "client_credentials":
            return oauth_error(
                400, "unsupported_grant_type", f"Unsupported grant_type {grant!r}; use client_credentials"
            )
        lifetime = self.sim.faults.token_lifetime_s
        token = self.sim.tokens.issue(self.sim.clock.now(), lifetime)
        self.sim.issued_tokens.append(token.value)
        return ok({"access_token": token.value, "token_type": "bearer", "expires_in": lifetime})

    # ---- faults and auth ---------------------------------------------------------------------

    def _injected(self, kind: str, cid: str, path: str) -> Reply:
        if kind == "429":
            reply = error(
                429,
                "too.many.requests.retry.after",
                f"Rate limit exceeded the maximum. Retry the request in [{INJECTED_RETRY_AFTER_S}] seconds",
                cid,
                messageParams={"retryAfter": INJECTED_RETRY_AFTER_S},
            )
            reply.headers["Retry-After"] = str(INJECTED_RETRY_AFTER_S)
            return reply
        if kind == "429-no-retry-after":
            return error(429, "too.many.requests", "Too many requests", cid)
        if kind == "403":
            permission = (
                "routing:queue:view" if "/routing/" in path else "analytics:conversationAggregate:view"
            )
            return error(
                403,
                "missing.permissions",
                f"You are missing the following permission(s): [{permission}]",
                cid,
                messageParams={"permissions": permission},
            )
        status = int(kind)
        code, message = {
            400: ("bad.request", "Invalid query (injected by the simulator)"),
            404: ("not.found", f"No resource at {path} (injected by the simulator)"),
            500: ("internal.server.error", "The server encountered an unexpected error (injected)"),
            502: ("bad.gateway", "The gateway received an invalid response from an upstream server"),
            503: ("service.unavailable", "The service is currently unavailable; retry later"),
            504: ("gateway.timeout", "The gateway timed out waiting for an upstream server"),
        }[status]
        return error(status, code, message, cid)

    def _authenticate(
        self, headers: Mapping[str, str], cid: str, force_revoke: bool
    ) -> tuple[Reply | None, str]:
        auth = headers.get("Authorization") or ""
        if auth[:7].lower() != "bearer " or not auth[7:].strip():
            return error(
                401,
                "authentication.required",
                "No authentication bearer token specified in authorization header.",
                cid,
            ), ""
        value = auth[7:].strip()
        if force_revoke:
            self.sim.tokens.revoke(value)
        token, reason = self.sim.tokens.check(value, self.sim.clock.now())
        revoke_after = self.sim.faults.revoke_token_after_requests
        if token is not None and not reason and not self.sim.tokens.count_request(token, revoke_after):
            reason = "revoked"
        if reason:
            message = {
                "unknown": "Invalid login credentials.",
                "expired": "The access token has expired; request a new token.",
                "revoked": "The access token has been revoked; request a new token.",
            }[reason]
            return error(401, "bad.credentials", message, cid), ""
        return None, value

    def _not_allowed(self, cid: str) -> Reply:
        return error(405, "method.not.allowed", "HTTP method not allowed for this resource", cid)

    # ---- API routes --------------------------------------------------------------------------

    def _route(self, method: str, path: str, query: dict[str, list[str]], body: bytes, cid: str) -> Reply:
        parts = path.rstrip("/").split("/")[3:]  # after /api/v2
        if parts == ["organizations", "me"]:
            return self._org() if method == "GET" else self._not_allowed(cid)
        if parts[:2] == ["routing", "queues"]:
            if method != "GET":
                return self._not_allowed(cid)
            if len(parts) == 2:
                return self._queues(path, query, cid)
            if len(parts) == 3:
                return self._queue(parts[2], cid)
        if parts[:3] == ["analytics", "conversations", "aggregates"]:
            rest = parts[3:]
            if rest == ["query"]:
                return self._aggregates(body, cid) if method == "POST" else self._not_allowed(cid)
            if rest == ["jobs"]:
                return self._submit_job(body, cid) if method == "POST" else self._not_allowed(cid)
            if len(rest) == 2 and rest[0] == "jobs":
                if method == "GET":
                    return self._job_status(rest[1], cid)
                if method == "DELETE":
                    return self._cancel_job(rest[1], cid)
                return self._not_allowed(cid)
            if len(rest) == 3 and rest[0] == "jobs" and rest[2] == "results":
                return self._job_results(rest[1], query, cid) if method == "GET" else self._not_allowed(cid)
        return error(404, "not.found", f"No resource at {path}", cid)

    def _org(self) -> Reply:
        org = self.sim.org
        return ok(
            {
                "id": org.id,
                "name": org.name,
                "defaultLanguage": "en-us",
                "defaultCountryCode": "US",
                "thirdPartyOrgName": "simulated-contact-center",
                "domain": "simulator",
                "version": 1,
                "state": "active",
                "selfUri": f"/api/v2/organizations/{org.id}",
            }
        )

    def _queue_json(self, q: SimQueue, now: datetime) -> dict:
        media = {}
        for m, (_, threshold) in q.media.items():
            timeout = 300 if m == "email" else 8 if m == "voice" else 30
            media[SETTINGS_KEY[m]] = {
                "alertingTimeoutSeconds": timeout,
                "enableAutoAnswer": False,
                "serviceLevel": {"percentage": q.target_at(m, now), "durationMs": threshold},
            }
        return {
            "id": q.id,
            "name": q.name,
            "division": {
                "id": q.division_id,
                "name": q.division_name,
                "selfUri": f"/api/v2/authorization/divisions/{q.division_id}",
            },
            "description": f"{q.name} queue",
            "dateCreated": iso_ms(q.created_at),
            "dateModified": iso_ms(q.created_at),
            "memberCount": 10 + q.index % 7,
            "userMemberCount": 10 + q.index % 7,
            "joinedMemberCount": 8 + q.index % 5,
            "mediaSettings": media,
            "acwSettings": {"wrapupPrompt": "OPTIONAL", "timeoutMs": 30000},
            "skillEvaluationMethod": "BEST",
            "autoAnswerOnly": False,
            "enableTranscription": False,
            "enableManualAssignment": False,
            "selfUri": f"/api/v2/routing/queues/{q.id}",
        }

    def _queues(self, path: str, query: dict[str, list[str]], cid: str) -> Reply:
        try:
            page_size = int((query.get("pageSize") or ["25"])[0])
            page_number = int((query.get("pageNumber") or ["1"])[0])
        except ValueError:
            return error(400, "bad.request", "pageSize and pageNumber must be integers", cid)
        if not 1 <= page_size <= MAX_QUEUE_PAGE_SIZE or page_number < 1:
            return error(
                400, "bad.request", f"pageSize must be 1..{MAX_QUEUE_PAGE_SIZE} and pageNumber >= 1", cid
            )
        now = self.sim.clock.now()
        queues = [q for q in self.sim.org.queues if q.exists_at(now)]
        if "name" in query:
            pattern = query["name"][0].lower()
            queues = [q for q in queues if fnmatch.fnmatchcase(q.name.lower(), pattern)]
        if "id" in query:
            ids = {i for v in query["id"] for i in v.split(",")}
            queues = [q for q in queues if q.id in ids]
        if "divisionId" in query:
            divisions = {i for v in query["divisionId"] for i in v.split(",")}
            queues = [q for q in queues if q.division_id in divisions]
        queues.sort(
            key=lambda q: q.name.lower(), reverse=(query.get("sortOrder") or ["asc"])[0].lower() == "desc"
        )
        total = len(queues)
        page_count = max(1, math.ceil(total / page_size)) if total else 0
        page = queues[(page_number - 1) * page_size : page_number * page_size]
        modes = tuple(self.sim.faults.hostile)
        if "lying-page-count" in modes and not page and total:
            page = queues[(page_count - 1) * page_size :]  # past the end: the last page again
        kept = [(k, v) for k, vs in query.items() if k not in ("pageSize", "pageNumber") for v in vs]

        def uri(n: int) -> str:
            return f"{path}?{urlencode([('pageSize', page_size), ('pageNumber', n), *kept])}"

        doc = {
            "entities": [self._queue_json(q, now) for q in page],
            "pageSize": page_size,
            "pageNumber": page_number,
            "total": total,
            "pageCount": page_count,
            "firstUri": uri(1),
            "selfUri": uri(page_number),
            "lastUri": uri(max(page_count, 1)),
        }
        doc = hostile.tamper_queue_page(doc, modes, doc["entities"])
        if page_number < doc["pageCount"]:
            doc["nextUri"] = uri(page_number + 1)
        if page_number > 1:
            doc["previousUri"] = uri(page_number - 1)
        return ok(doc)

    def _queue(self, queue_id: str, cid: str) -> Reply:
        now = self.sim.clock.now()
        q = self.sim.org.queue(queue_id)
        if q is None or not q.exists_at(now):
            return error(404, "not.found", f"Queue {queue_id} not found", cid, entityId=queue_id)
        return ok(self._queue_json(q, now))

    # ---- analytics -----------------------------------------------------------------------------

    def _pairs(self, query: AggregateQuery) -> list[Pair]:
        """The (queue, media) pairs the query selects, less those the API stopped returning."""
        hidden = self.sim.faults.hidden_groups
        return [(q, m) for q, m in select(self.sim.org, query) if (q.id, m) not in hidden]

    def _figures(self, query: AggregateQuery, as_of: datetime, pairs: list[Pair] | None = None):
        cfg = self.sim.config
        if pairs is None:
            pairs = self._pairs(query)
        return figures(
            self.sim.org,
            cfg.seed,
            cfg.site_timezone,
            cfg.late_window_hours,
            pairs,
            query.edges,
            query.group_by,
            as_of,
        )

    def _aggregates(self, body: bytes, cid: str) -> Reply:
        faults = self.sim.faults
        try:
            query = parse_query(body, faults.max_interval_days)
        except QueryError as exc:
            return error(400, "bad.request", str(exc), cid)
        limit = faults.max_filter_predicates
        if limit is not None and (count := body.count(b'"dimension"')) > limit:
            return error(
                400,
                "bad.request",
                f"The query filter has too many predicates ({count}; at most {limit} are allowed)",
                cid,
            )
        containers, rows = render_groups(self._figures(query, self.sim.clock.now()), query.metrics)
        if faults.max_result_rows is not None and rows > faults.max_result_rows:
            return error(
                400,
                "bad.request",
                f"Query result set is too large ({rows} rows over the limit of {faults.max_result_rows}); "
                "reduce the interval or the number of groups",
                cid,
            )
        work_s = rows * faults.latency_per_row_s
        if not containers:
            return Reply(200, b"{}", work_s=work_s)
        # One join, so the multi-megabyte body is copied once (each extra copy of fresh memory cost
        # ~0.2 µs per row; sending the containers with scatter-gather sendmsg instead was slower still).
        parts = list(containers)
        parts[0] = b'{"results":[' + parts[0]
        parts[-1] += b"]}"
        return Reply(200, b",".join(parts), work_s=work_s)

    def _submit_job(self, body: bytes, cid: str) -> Reply:
        faults = self.sim.faults
        try:
            query = parse_query(body, faults.max_interval_days, is_job=True)
        except QueryError as exc:
            return error(400, "bad.request", str(exc), cid)
        now = self.sim.clock.now()
        outcome = faults.job_outcomes.pop(0) if faults.job_outcomes else "FULFILLED"
        if outcome not in ("FULFILLED", "FAILED", "EXPIRED"):
            raise ValueError(f"Unknown job outcome {outcome!r}; use FULFILLED, FAILED or EXPIRED")
        job = Job(str(uuid.uuid4()), query, time.monotonic(), now, outcome)
        if outcome == "FULFILLED":
            # Figures as of the submission, rendered a page of groups at a time when the pages are asked
            # for (the pairs are chosen now, as hidden groups stand at submission).
            def render(pairs: list[Pair]) -> list[bytes]:
                return render_groups(self._figures(query, now, pairs), query.metrics)[0]

            job.results = JobResults(self._pairs(query), query.group_by, render, _page_size(query))
        with self._lock:
            self.jobs[job.id] = job
        return Reply(202, orjson.dumps({"jobId": job.id}))

    def _job_state(self, job: Job) -> str:
        age = time.monotonic() - job.submitted_real
        delay = self.sim.faults.job_delay_s
        if age < delay / 2:
            return "QUEUED"
        if age < delay:
            return "PENDING"
        return job.outcome

    def _job_status(self, job_id: str, cid: str) -> Reply:
        job = self.jobs.get(job_id)
        if job is None:
            return error(404, "not.found", f"Async job {job_id} not found", cid, entityId=job_id)
        state = self._job_state(job)
        doc = {
            "state": state,
            "submissionDate": iso_ms(job.submitted_at),
            "expirationDate": iso_ms(job.submitted_at + timedelta(days=1)),
        }
        if state in ("FULFILLED", "FAILED", "EXPIRED", "CANCELLED"):
            doc["completionDate"] = iso_ms(job.submitted_at)
        if state == "FAILED":
            doc["errorMessage"] = (
                "The job failed while computing results (injected by the simulator); resubmit it"
            )
        return ok(doc)

    def _cancel_job(self, job_id: str, cid: str) -> Reply:
        job = self.jobs.get(job_id)
        if job is None:
            return error(404, "not.found", f"Async job {job_id} not found", cid, entityId=job_id)
        job.outcome = "CANCELLED"
        job.results = None
        return Reply(202, b"{}")

    def _job_results(self, job_id: str, query: dict[str, list[str]], cid: str) -> Reply:
        job = self.jobs.get(job_id)
        if job is None:
            return error(404, "not.found", f"Async job {job_id} not found", cid, entityId=job_id)
        state = self._job_state(job)
        if state == "EXPIRED":
            return error(
                404, "not.found", f"The results of job {job_id} have expired; submit the job again", cid
            )
        if state != "FULFILLED":
            return error(
                400,
                "bad.request",
                f"Job {job_id} is {state}; results are available once it is FULFILLED",
                cid,
            )
        results = job.results
        offset = 0
        cursor = (query.get("cursor") or [""])[0]
        if cursor:
            try:
                prefix, _, number = base64.urlsafe_b64decode(cursor.encode()).decode().partition(":")
                offset = int(number)
                if prefix != job.id[:8] or offset <= 0 or results is None:
                    raise ValueError
                if offset >= len(results.first(offset + 1)):
                    raise ValueError
            except (ValueError, binascii.Error, UnicodeDecodeError):
                return error(400, "bad.request", f"Invalid cursor {cursor!r} for job {job_id}", cid)
        size = _page_size(job.query)
        # one container more than the page, to know whether a next page exists
        known = results.first(offset + size + 1) if results is not None else []
        page = known[offset : offset + size]
        work_s = 0.0
        if self.sim.faults.latency_per_row_s > 0:
            work_s = sum(p.count(b'"interval"') for p in page) * self.sim.faults.latency_per_row_s
        body = b'{"results":[' + b",".join(page) + b"]"
        if offset + size < len(known):
            next_cursor = base64.urlsafe_b64encode(f"{job.id[:8]}:{offset + size}".encode()).decode()
            body += b',"cursor":' + orjson.dumps(next_cursor)
        return Reply(200, body + b"}", work_s=work_s)


def _page_size(query: AggregateQuery) -> int:
    """Groups per page of a job's results (Genesys's default is 100)."""
    return query.page_size or 100
