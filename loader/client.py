"""Genesys HTTP client: dlt RESTClient + retrying session with Genesys rate-limit pacing, 401 re-auth and
error mapping (endpoint, status, Genesys message/code, correlation id; never a token or secret).

Transport rules: redirects are never followed (a redirect is an error naming its Location), and every
request has a total deadline covering the connection and the whole body, not only a per-read timeout."""

from __future__ import annotations

import io
import logging
import random
import re
import socket
import threading
import time
from contextlib import nullcontext, suppress
from typing import Any

import orjson
from dlt.sources.helpers.requests.retry import (
    DEFAULT_RETRY_EXCEPTIONS,
    _get_retry_response,
    retry_if_status,
    wait_exponential_retry_after,
)
from dlt.sources.helpers.requests.session import Session
from dlt.sources.helpers.rest_client import RESTClient
from requests import PreparedRequest, RequestException, Response
from requests.adapters import DEFAULT_POOLSIZE, HTTPAdapter
from requests.exceptions import ChunkedEncodingError, ReadTimeout, Timeout
from tenacity import RetryCallState, Retrying, retry_any, retry_if_exception_type, stop_after_attempt
from urllib3.connection import HTTPConnection, HTTPSConnection
from urllib3.connectionpool import HTTPConnectionPool, HTTPSConnectionPool
from urllib3.exceptions import HTTPError as Urllib3Error
from urllib3.exceptions import ReadTimeoutError

from loader import contract
from loader.auth import GenesysClientCredentials
from loader.config import Settings
from loader.errors import ApiError, AuthError
from loader.ratelimit import RateLimiter
from loader.regions import Endpoints
from loader.scrub import scrub

logger = logging.getLogger(__name__)

RETRY_STATUS = (429, 502, 503, 504)
# 401 retries of one request: its own renewed token once, plus tokens other threads renewed meanwhile.
MAX_401_RETRIES = 3
# Which permission a 403 on a path is about (shared/genesys-api.md §3).
PERMISSIONS = (
    ("/analytics/", "analytics:conversationAggregate:view"),
    ("/routing/queues", "routing:queue:view"),
)
# A 400 naming the filter or its predicates is about the query's filter, never about the window's size.
BAD_FILTER = re.compile(r"filter|predicate", re.I)
READ_CHUNK = 256 * 1024
TOO_LARGE = re.compile(r"too (large|many|big)|exceed|maximum|max(imum)? (interval|result)|limit", re.I)


class CallStats:
    """Counters the CLI reports: API calls (attempts), retries, re-authentications, pacing pauses.

    Totals are shared by every thread (under a lock); snapshot() is the calling thread's own count, so a
    window's worker can tell the requests it made itself while others run beside it."""

    def __init__(self) -> None:
        self.calls = 0
        self.retries = 0
        self.reauths = 0
        self.paced_s = 0.0
        self._lock = threading.Lock()
        self._mine = threading.local()

    def add(self, calls: int = 0, retries: int = 0, reauths: int = 0) -> None:
        with self._lock:
            self.calls += calls
            self.retries += retries
            self.reauths += reauths
        self._mine.calls = getattr(self._mine, "calls", 0) + calls
        self._mine.retries = getattr(self._mine, "retries", 0) + retries

    def snapshot(self) -> tuple[int, int]:
        return getattr(self._mine, "calls", 0), getattr(self._mine, "retries", 0)

    def credit(self, calls: int, retries: int) -> None:
        """Count requests a helper thread made for this one (a job's page fetcher) as this thread's own;
        the totals have them already."""
        self._mine.calls = getattr(self._mine, "calls", 0) + calls
        self._mine.retries = getattr(self._mine, "retries", 0) + retries


class DeadlineExceeded(Timeout):
    """A request did not complete (connection plus whole body) within its total deadline."""


# The deadline (time.monotonic()) of the request the current thread is sending, for the connections below.
_request = threading.local()


class _DeadlineConnection:
    """Shuts its socket when the request's total deadline passes while the status line and headers are
    still arriving: each byte of a dripped header resets the per-read timeout, so nothing else would end
    it. (The body is read by _read_body, which checks the deadline between reads.)"""

    sock: socket.socket | None

    def getresponse(self, *args: Any, **kwargs: Any) -> Any:
        deadline = getattr(_request, "deadline", None)
        timer = None
        if deadline is not None:
            timer = threading.Timer(max(0.0, deadline - time.monotonic()), self._expire)
            timer.daemon = True
            timer.start()
        try:
            return super().getresponse(*args, **kwargs)  # type: ignore[misc]
        finally:
            if timer is not None:
                timer.cancel()

    def _expire(self) -> None:
        sock = self.sock
        if sock is not None:
            with suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)


class _HTTPConnection(_DeadlineConnection, HTTPConnection):
    pass


class _HTTPSConnection(_DeadlineConnection, HTTPSConnection):
    pass


class _HTTPPool(HTTPConnectionPool):
    ConnectionCls = _HTTPConnection


class _HTTPSPool(HTTPSConnectionPool):
    ConnectionCls = _HTTPSConnection


class DeadlineAdapter(HTTPAdapter):
    """requests' adapter with connections that honour the sending thread's request deadline."""

    def init_poolmanager(self, *args: Any, **kwargs: Any) -> None:
        super().init_poolmanager(*args, **kwargs)
        self.poolmanager.pool_classes_by_scheme = {"http": _HTTPPool, "https": _HTTPSPool}


class GenesysWait(wait_exponential_retry_after):
    """Retry-After (seconds or HTTP date), else inin-ratelimit-reset, else capped exponential backoff with
    jitter. Every wait is capped at backoff_cap_s."""

    def __init__(self, base_s: float, cap_s: float) -> None:
        super().__init__(multiplier=base_s, max=cap_s, min=0)
        self.base_s = base_s
        self.cap_s = cap_s

    def __call__(self, retry_state: RetryCallState) -> float:
        response = _get_retry_response(retry_state)
        if response is not None:
            retry_after = self._get_retry_after(retry_state)
            if retry_after is not None:
                return min(self.cap_s, retry_after)
            reset = _float_header(response, "inin-ratelimit-reset")
            if reset is not None and reset > 0:
                return min(self.cap_s, reset)
        step = self.base_s * (2 ** (retry_state.attempt_number - 1))
        return min(self.cap_s, step) * random.uniform(0.5, 1.0)


def _float_header(response: Response, name: str) -> float | None:
    value = response.headers.get(name)
    try:
        return float(value) if value is not None else None
    except ValueError:
        return None


class GenesysHttp:
    """All HTTP to Genesys: a token session and an API session, both retrying; the API session
    re-authenticates once on a 401 and paces itself on the inin-ratelimit-* headers."""

    def __init__(
        self, settings: Settings, endpoints: Endpoints | None = None, limiter: RateLimiter | None = None
    ) -> None:
        self.settings = settings
        self.deadline_s = settings.request_deadline_s
        self.endpoints = endpoints or settings.endpoints
        self.stats = CallStats()
        self._reauth_lock = threading.RLock()
        # The last token a reply accepted: a token that worked and is refused later was revoked, not bad.
        self._token_that_worked: str | None = None
        # One limiter for every thread of the load: the allowance is per OAuth client, not per thread.
        self.limiter = limiter or RateLimiter(
            settings.max_concurrent_requests, settings.pace_ratio, settings.backoff_cap_s
        )
        token_session = self._session(reauth=False)
        self.auth = GenesysClientCredentials(
            access_token_url=self.endpoints.token_url,
            client_id=settings.client_id,
            client_secret=settings.client_secret,
            session=token_session,
        )
        self.rest = RESTClient(
            base_url=f"{self.endpoints.api_base_url}/api/v2",
            headers={"Accept": "application/json"},
            auth=self.auth,
            session=self._session(reauth=True),
        )

    # --- session machinery -------------------------------------------------------------------------
    def _session(self, reauth: bool) -> Session:
        session = Session(timeout=self.settings.request_timeout_s, raise_for_status=False)
        for prefix in ("http://", "https://"):
            # A pooled connection per request in flight, so concurrent windows reuse their connections.
            pool = max(DEFAULT_POOLSIZE, self.settings.max_concurrent_requests)
            session.mount(prefix, DeadlineAdapter(pool_connections=pool, pool_maxsize=pool))
        session.headers["User-Agent"] = "genesys-queue-sla-loader"
        plain_send = session.send

        def counted_send(request: PreparedRequest, **kwargs: Any) -> Response:
            self.stats.add(calls=1)
            # API requests share the allowance; token requests are not counted against it. The slot is
            # held until the whole body is read (the request is in flight until then), and the deadline
            # starts once the slot is granted: a wait for the limiter is not the server's slowness.
            with self.limiter.slot() if reauth else nullcontext():
                if reauth:
                    # The token was attached when the request was prepared; the wait for the slot may have
                    # outlasted it (a 429 pause, say): renew it now rather than send it expired.
                    self.auth(request)
                started = time.monotonic()
                deadline_s = self.deadline_s
                # No per-read or connect wait may outlast the whole request's deadline.
                kwargs["timeout"] = (min(deadline_s, self.settings.request_timeout_s),) * 2
                kwargs["allow_redirects"] = False
                kwargs["stream"] = True
                _request.deadline = started + deadline_s
                try:
                    response = plain_send(request, **kwargs)
                except RequestException:
                    if time.monotonic() >= started + deadline_s:  # the watchdog cut a dripping header
                        raise DeadlineExceeded(f"no complete reply within {deadline_s:g} s") from None
                    raise
                finally:
                    _request.deadline = None
                _read_body(response, started + deadline_s, deadline_s)
                # Before the slot is released: a 429's pause is in force before another request starts.
                self._note_rate_limit(response)
            logger.debug(
                "%s %s -> %s in %.3f s",
                request.method,
                _path(request.url),
                response.status_code,
                time.monotonic() - started,
            )
            if response.is_redirect or 300 <= response.status_code < 400:
                raise _redirect_error(response, request)
            return response

        retrying = Retrying(
            wait=GenesysWait(self.settings.backoff_base_s, self.settings.backoff_cap_s),
            retry=retry_any(
                retry_if_status(RETRY_STATUS), retry_if_exception_type(tuple(DEFAULT_RETRY_EXCEPTIONS))
            ),
            stop=stop_after_attempt(self.settings.max_retries + 1),
            before_sleep=self._before_sleep,
            sleep=self.limiter.sleep,  # a closed limiter (an interrupt) cuts the backoff short
            reraise=True,
            retry_error_callback=lambda state: state.outcome.result(),
        )
        retrying_send = retrying.wraps(counted_send)

        def send(request: PreparedRequest, **kwargs: Any) -> Response:
            response = retrying_send(request, **kwargs)
            if response.status_code == 500:
                # Genesys classes 500 as not transient (fail fast), yet a lone one does happen: one more
                # try, never more (genesys-api.md section 8).
                self.stats.add(retries=1)
                logger.debug("HTTP 500 on %s: retrying once", _path(request.url))
                response = retrying_send(request, **kwargs)
            renewed = False  # whether this request already got a token renewed for it
            for _ in range(MAX_401_RETRIES if reauth else 0):
                if response.status_code != 401:
                    break
                # The token expired early or was revoked: one new token, one retry. Several threads may
                # meet the same expired token: only the first renews it, the others retry with the new one.
                with self._reauth_lock:
                    current = f"Bearer {self.auth.access_token}"
                    if request.headers.get("Authorization") == current:
                        if renewed and self._token_that_worked != current:
                            break  # a token renewed for this very request was refused before it ever worked
                        renewed = True
                        self.stats.add(reauths=1)
                        logger.info(
                            "HTTP 401 on %s: requesting a new access token and retrying once",
                            _path(request.url),
                        )
                        self.auth.invalidate()
                    self.auth(request)
                response = retrying_send(request, **kwargs)
            if reauth and response.status_code != 401:
                self._token_that_worked = request.headers.get("Authorization")
            if reauth and response.status_code == 401:
                raise AuthError(
                    f"Genesys answered 401 twice in a row on {request.method} {_path(request.url)} "
                    f"even with a fresh token{_describe(response)}: the OAuth credentials were rejected "
                    "or lack permission; check client_id/client_secret, the region and the client's role"
                )
            return response

        session.send = send  # type: ignore[method-assign]
        return session

    def _before_sleep(self, state: RetryCallState) -> None:
        self.stats.add(retries=1)
        response = _get_retry_response(state)
        what = (
            f"HTTP {response.status_code}"
            if response is not None
            else type(state.outcome.exception()).__name__
        )
        wait = state.next_action.sleep if state.next_action else 0
        logger.debug("attempt %s got %s; retrying in %.2f s", state.attempt_number, what, wait)

    def _note_rate_limit(self, response: Response) -> None:
        """Hand the reply's rate-limit headers to the shared limiter (pacing, 429 pauses, concurrency)."""
        retry_after = _float_header(response, "Retry-After") if response.status_code == 429 else None
        self.limiter.observe(
            response.status_code,
            _float_header(response, "inin-ratelimit-allowed"),
            _float_header(response, "inin-ratelimit-count"),
            _float_header(response, "inin-ratelimit-reset"),
            retry_after,
        )
        self.stats.paced_s = self.limiter.waited_s

    # --- requests ----------------------------------------------------------------------------------
    def request_raw(self, method: str, path: str, *, json: Any = None, params: dict | None = None) -> bytes:
        """Send one API request (retries, re-auth included); return the body of the 2xx answer."""
        try:
            response = self.rest.request(path, method=method, json=json, params=params)  # type: ignore[arg-type]
        except DeadlineExceeded:
            raise ApiError(
                f"{method} /api/v2{path} did not complete within its total deadline of {self.deadline_s:g} s "
                f"(connection plus whole body) in {self.settings.max_retries + 1} attempts: the server is "
                "too slow or stalled; check the network and re-run",
                endpoint=f"{method} /api/v2{path}",
                retryable=True,
            ) from None
        except RequestException as exc:
            raise ApiError(
                f"{method} /api/v2{path} failed after {self.settings.max_retries + 1} attempts "
                f"({type(exc).__name__}: the connection dropped or timed out); check the network and re-run",
                endpoint=f"{method} /api/v2{path}",
                retryable=True,
            ) from None
        raise_for_genesys(response, method, path)
        return response.content

    def request_json(
        self, method: str, path: str, *, json: Any = None, params: dict | None = None
    ) -> dict[str, Any]:
        """Like request_raw, parsed as a JSON object: an empty, `null`, non-JSON or non-object body is a
        one-line ContractError (every Genesys endpoint the loader calls answers an object)."""
        content = self.request_raw(method, path, json=json, params=params)
        what = f"{method} /api/v2{path}"
        body = contract.check_body(content, what)
        try:
            doc = orjson.loads(body)
        except orjson.JSONDecodeError:
            raise contract.ContractError(
                f"{what} breaks the API contract: the reply body is not JSON; check api_base_url"
            ) from None
        return contract.check_object(doc, what)


def _read_body(response: Response, deadline: float, deadline_s: float) -> None:
    """Read the streamed body into response._content, giving up at `deadline` (time.monotonic()).

    read1 returns whatever has arrived, so a body dripped a byte at a time is checked against the
    deadline after every byte. Transport failures surface as the requests exceptions the retry
    policy knows."""
    raw = response.raw
    # Not a list of chunks joined at the end: that held a ~5 MB results page twice over for a moment. A
    # BytesIO grows its one buffer in place (realloc; glibc moves a large block by remapping it, without a
    # copy) and getvalue() hands that buffer over as the bytes.
    body = io.BytesIO()
    try:
        while True:
            if time.monotonic() > deadline:
                raise DeadlineExceeded(f"no complete reply within {deadline_s:g} s")
            chunk = raw.read1(READ_CHUNK)
            if not chunk:
                break
            body.write(chunk)
    except ReadTimeoutError as exc:
        response.close()
        raise ReadTimeout(str(exc)) from None
    except Urllib3Error as exc:  # a connection reset or a short body mid-read
        response.close()
        raise ChunkedEncodingError(str(exc)) from None
    except DeadlineExceeded:
        response.close()
        raise
    response._content = body.getvalue()
    response._content_consumed = True
    raw.release_conn()  # the body is read to its end: the kept-alive connection goes back to the pool


def _redirect_error(response: Response, request: PreparedRequest) -> ApiError:
    """A redirect is never followed (it could lead to another host): one line naming the Location."""
    location = response.headers.get("Location") or "no Location header"
    endpoint = f"{request.method} {_path(request.url)}"
    return ApiError(
        f"{endpoint} answered HTTP {response.status_code} redirecting to {location}; redirects are not "
        "followed: check api_base_url, login_base_url and region",
        status=response.status_code,
        endpoint=endpoint,
    )


def _path(url: str | None) -> str:
    """Path and query of a URL, for logs and errors (never headers)."""
    match = re.match(r"^[a-z]+://[^/]+(.*)$", url or "")
    return match.group(1) if match else (url or "")


def _describe(response: Response) -> str:
    """', Genesys code X: message (correlation id Y)' from an error response."""
    body: Any = {}
    try:
        body = orjson.loads(response.content) if response.content else {}
    except orjson.JSONDecodeError:
        body = {}
    if not isinstance(body, dict):
        body = {}
    # Scrubbed before it is cut short, so no partial secret or token survives the cut.
    message = scrub(str(body.get("message") or "")).strip()[:300]
    code = body.get("code")
    correlation = response.headers.get("inin-correlation-id") or body.get("contextId")
    parts = []
    if code:
        parts.append(f"code {code}")
    if message:
        parts.append(f"message '{message}'")
    if correlation:
        parts.append(f"correlation id {correlation}")
    return (", " + ", ".join(parts)) if parts else ""


def raise_for_genesys(response: Response, method: str, path: str) -> None:
    """Map a final (post-retry) error response to ApiError/AuthError with Genesys's details."""
    status = response.status_code
    if status < 400:
        return
    endpoint = f"{method} /api/v2{path.split('?')[0]}"
    detail = _describe(response)
    try:
        body = orjson.loads(response.content) if response.content else {}
    except orjson.JSONDecodeError:
        body = {}
    body = body if isinstance(body, dict) else {}
    code = body.get("code")
    correlation = response.headers.get("inin-correlation-id") or body.get("contextId")
    common = {"status": status, "code": code, "correlation_id": correlation, "endpoint": endpoint}
    if status == 403:
        permission = next((p for prefix, p in PERMISSIONS if prefix in path), "the needed permission")
        raise AuthError(
            f"{endpoint} was denied (HTTP 403{detail}): the OAuth client's role lacks permission "
            f"{permission}; grant it on all divisions and re-run"
        )
    if status == 401:
        raise AuthError(
            f"{endpoint} answered HTTP 401{detail}: the credentials were rejected or lack permission"
        )
    if status in RETRY_STATUS:
        raise ApiError(
            f"{endpoint} still answered HTTP {status} after retries{detail}; wait and re-run "
            "(loaded windows are kept)",
            retryable=True,
            **common,
        )
    text = f"{body.get('message') or ''} {code or ''}"
    if status == 400 and BAD_FILTER.search(text):
        raise ApiError(
            f"{endpoint} refused the query filter (HTTP 400{detail}); check queue_ids and media_types",
            bad_filter=True,
            **common,
        )
    too_large = status == 400 and bool(TOO_LARGE.search(text))
    raise ApiError(f"{endpoint} failed with HTTP {status}{detail}", too_large=too_large, **common)
