"""The HTTP server: a threaded HTTP/1.1 keep-alive server on 127.0.0.1 and the in-process starter."""

from __future__ import annotations

import copy
import logging
import socket
import threading
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from datetime import datetime
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

from simulator.api import Api, Reply, error
from simulator.clock import SimClock
from simulator.config import Faults, SimulatorConfig
from simulator.data import bucket_edges, figures, figures_to_rows, select_pairs
from simulator.faults import RateLimiter, TokenStore
from simulator.hostile import DecoyServer
from simulator.org import SimulatedOrg, build_org

log = logging.getLogger(__name__)


@dataclass
class RecordedRequest:
    """One request the simulator received, as the client sent it, with the status it got."""

    method: str
    path: str
    query: dict[str, str | list[str]]  # a str per parameter, a list when the parameter was repeated
    headers: dict[str, str]
    body: bytes
    status: int  # 0 when the connection was dropped on purpose
    # when the request arrived and was answered (time.monotonic()), to see how many were in flight
    received_at: float = 0.0
    answered_at: float = 0.0


class Simulator:
    """A running Genesys Cloud simulator (see run_simulator)."""

    def __init__(self, config: SimulatorConfig | None = None, port: int = 0) -> None:
        self.config = config or SimulatorConfig()
        self.clock = SimClock(self.config.clock_start)
        # A private copy, so a test that edits its org does not leak into another simulator.
        self.org: SimulatedOrg = copy.deepcopy(build_org(self.config.seed, self.config.queue_count))
        self.issued_tokens: list[str] = []
        self.requests: list[RecordedRequest] = []
        self.tokens = TokenStore()
        self.rate_limiter = RateLimiter()
        self.api = Api(self)
        self._httpd = _Server(("127.0.0.1", port), _Handler)
        self._httpd.sim = self
        self.base_url = f"http://127.0.0.1:{self._httpd.server_address[1]}"
        self._thread: threading.Thread | None = None
        self._decoy: DecoyServer | None = None
        self._decoy_lock = threading.Lock()

    def decoy(self) -> DecoyServer:
        """The other 127.0.0.1 server hostile redirects point at (started on first use)."""
        with self._decoy_lock:
            if self._decoy is None:
                self._decoy = DecoyServer()
            return self._decoy

    @property
    def faults(self) -> Faults:
        return self.config.faults

    @faults.setter
    def faults(self, value: Faults) -> None:
        self.config.faults = value

    def reset_counters(self) -> None:
        """Forget recorded requests and restart the request numbering used by Faults.schedule."""
        self.requests.clear()
        with self.api._lock:
            self.api.api_requests = 0

    def revoke_all_tokens(self) -> None:
        self.tokens.revoke_all()

    def ground_truth(
        self,
        start: datetime,
        end: datetime,
        granularity: str = "PT1H",
        *,
        queue_ids=None,
        media_types=None,
        as_of: datetime | None = None,
    ) -> list[dict]:
        """Final (or as-of) figures per queue x media x bucket: the numbers the API serves."""
        return _ground_truth(self.config, self.org, start, end, granularity, queue_ids, media_types, as_of)

    def start(self) -> None:
        self._thread = threading.Thread(
            target=self._httpd.serve_forever,
            kwargs={"poll_interval": 0.05},
            name="genesys-simulator",
            daemon=True,
        )
        self._thread.start()

    def stop(self) -> None:
        self._httpd.shutdown()
        self._httpd.close_connections()
        self._httpd.server_close()
        if self._decoy is not None:
            self._decoy.stop()
        if self._thread is not None:
            self._thread.join(timeout=5)


def _ground_truth(config, org, start, end, granularity, queue_ids, media_types, as_of) -> list[dict]:
    edges = bucket_edges(start, end, granularity)
    pairs = select_pairs(org, queue_ids, media_types)
    fig = figures(org, config.seed, config.site_timezone, config.late_window_hours, pairs, edges, as_of=as_of)
    return figures_to_rows(fig)


def ground_truth(
    config: SimulatorConfig,
    start: datetime,
    end: datetime,
    granularity: str = "PT1H",
    *,
    queue_ids=None,
    media_types=None,
    as_of: datetime | None = None,
) -> list[dict]:
    """Figures per queue x media x bucket for a config, without any server (same code path as the API).

    start/end must be aligned to the granularity in UTC (P1D: UTC midnights). Metrics the API would
    omit are None. as_of=None gives final figures; a datetime gives what the API serves at that clock.
    """
    org = build_org(config.seed, config.queue_count)
    return _ground_truth(config, org, start, end, granularity, queue_ids, media_types, as_of)


@contextmanager
def run_simulator(config: SimulatorConfig | None = None, port: int = 0) -> Iterator[Simulator]:
    """Start a simulator in a background thread on 127.0.0.1 (ephemeral port by default)."""
    sim = Simulator(config, port)
    sim.start()
    log.info("Genesys Cloud simulator listening on %s", sim.base_url)
    try:
        yield sim
    finally:
        sim.stop()


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    sim: Simulator

    def __init__(self, *args, **kwargs) -> None:
        self._conns: set[socket.socket] = set()
        self._conns_lock = threading.Lock()
        super().__init__(*args, **kwargs)

    def process_request(self, request, client_address) -> None:
        with self._conns_lock:
            self._conns.add(request)
        super().process_request(request, client_address)

    def shutdown_request(self, request) -> None:
        with self._conns_lock:
            self._conns.discard(request)
        super().shutdown_request(request)

    def close_connections(self) -> None:
        """Close kept-alive client connections so their threads end with the server."""
        with self._conns_lock:
            conns = list(self._conns)
        for conn in conns:
            with suppress(OSError):
                conn.shutdown(socket.SHUT_RDWR)


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive; every reply sets Content-Length
    server_version = "GenesysCloudSimulator/1.0"
    server: _Server

    def setup(self) -> None:
        super().setup()
        # Headers and body go out in one write; no Nagle delay on small replies.
        self.request.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

    def log_message(self, format: str, *args) -> None:
        if log.isEnabledFor(logging.DEBUG):
            log.debug("%s %s", self.address_string(), format % args)

    def do_GET(self) -> None:
        self._serve("GET")

    def do_POST(self) -> None:
        self._serve("POST")

    def do_DELETE(self) -> None:
        self._serve("DELETE")

    def do_PUT(self) -> None:
        self._serve("PUT")

    def do_PATCH(self) -> None:
        self._serve("PATCH")

    def _serve(self, method: str) -> None:
        sim = self.server.sim
        url = urlsplit(self.path)
        query = parse_qs(url.query, keep_blank_values=True)
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        cid = str(uuid.uuid4())
        received_at = time.monotonic()
        try:
            reply = sim.api.handle(method, url.path, query, self.headers, body, cid)
        except Exception:
            log.exception("simulator error on %s %s", method, url.path)
            reply = error(
                500, "internal.server.error", "The simulator failed on this request; see its log", cid
            )
        sim.requests.append(
            RecordedRequest(
                method,
                url.path,
                {k: v[0] if len(v) == 1 else v for k, v in query.items()},
                dict(self.headers.items()),
                body,
                reply.status,
                received_at,
                time.monotonic(),
            )
        )
        if reply.drop:
            self.close_connection = True
            return
        self._write(reply, cid)

    def _write(self, reply: Reply, cid: str) -> None:
        try:
            phrase = HTTPStatus(reply.status).phrase
        except ValueError:
            phrase = ""
        lines = [f"HTTP/1.1 {reply.status} {phrase}", "Content-Type: application/json"]
        lines.append(f"Content-Length: {len(reply.body)}")
        lines.append(f"inin-correlation-id: {cid}")
        lines.extend(f"{k}: {v}" for k, v in reply.headers.items())
        if self.close_connection:
            lines.append("Connection: close")
        head = ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1")
        self.log_request(reply.status, len(reply.body))
        if reply.drip_s > 0:
            self._drip(head, reply.body, reply.drip_s)
        elif len(reply.body) < 65_536:
            self.wfile.write(head + reply.body)  # one segment for small replies
        else:
            self.request.sendall(head)  # a big body goes out as it is, without another copy
            self.request.sendall(reply.body)

    def _drip(self, head: bytes, body: bytes, interval_s: float) -> None:
        """Headers at once, then the body a byte at a time (hostile "slow-drip"); stops when the client
        hangs up or the server stops."""
        self.close_connection = True
        try:
            self.request.sendall(head)
            for offset in range(len(body)):
                time.sleep(interval_s)
                self.request.sendall(body[offset : offset + 1])
        except OSError:
            return
