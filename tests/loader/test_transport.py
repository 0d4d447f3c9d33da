"""Transport rules of loader.client against small hostile servers on 127.0.0.1: no redirect is followed
(also on the token endpoint), and the total deadline bounds a dripping body."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from loader.client import GenesysHttp
from loader.config import load_settings
from loader.errors import ApiError

pytestmark = pytest.mark.timeout(60)


class _Hostile(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, format: str, *args: object) -> None:
        return

    def do_POST(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        self.rfile.read(length)
        if self.path == "/oauth/token" and self.server.mode == "token-redirect":  # type: ignore[attr-defined]
            self._reply(302, b"", {"Location": "http://127.0.0.1:9/oauth/token"})
        elif self.path == "/oauth/token" or self.server.mode == "normal":  # type: ignore[attr-defined]
            self._reply(200, b'{"access_token": "tok-abcdef", "expires_in": 3600}')
        elif self.server.mode == "drip-headers":  # type: ignore[attr-defined]
            head = b"HTTP/1.1 200 OK\r\n" + b"X-Slow: " + b"a" * 100 + b"\r\nContent-Length: 2\r\n\r\n{}"
            try:
                for offset in range(len(head)):
                    time.sleep(0.1)
                    self.wfile.write(head[offset : offset + 1])
                    self.wfile.flush()
            except OSError:
                return
        elif self.server.mode == "drip":  # type: ignore[attr-defined]
            body = b'{"results": []}' * 10
            self.send_response(200)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            try:
                for offset in range(len(body)):
                    time.sleep(0.1)
                    self.wfile.write(body[offset : offset + 1])
                    self.wfile.flush()
            except OSError:
                return
        else:
            self._reply(308, b"", {"Location": "http://127.0.0.1:9/elsewhere"})

    do_GET = do_POST

    def _reply(self, status: int, body: bytes, headers: dict[str, str] | None = None) -> None:
        self.send_response(status)
        for key, value in (headers or {}).items():
            self.send_header(key, value)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)


@pytest.fixture
def server() -> Iterator[ThreadingHTTPServer]:
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), _Hostile)
    httpd.daemon_threads = True
    httpd.mode = ""  # type: ignore[attr-defined]
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield httpd
    httpd.shutdown()
    httpd.server_close()


def http_for(server: ThreadingHTTPServer, **extra: object) -> GenesysHttp:
    base = f"http://127.0.0.1:{server.server_address[1]}"
    settings = load_settings(
        {
            "client_id": "client",
            "client_secret": "secret-value",
            "api_base_url": base,
            "login_base_url": base,
            "max_retries": 0,
            "backoff_base_s": 0.01,
            **extra,
        }
    )
    return GenesysHttp(settings)


def test_an_api_redirect_is_an_error_naming_the_location(server) -> None:
    with pytest.raises(ApiError) as caught:
        http_for(server).request_raw("POST", "/analytics/conversations/aggregates/query", json={})
    message = str(caught.value)
    assert "HTTP 308 redirecting to http://127.0.0.1:9/elsewhere" in message and "\n" not in message


def test_a_token_endpoint_redirect_is_not_followed(server) -> None:
    server.mode = "token-redirect"
    with pytest.raises(ApiError, match=r"HTTP 302 redirecting to http://127.0.0.1:9/oauth/token"):
        http_for(server).request_raw("GET", "/organizations/me")


def test_a_dripping_body_hits_the_total_deadline(server) -> None:
    """150 bytes at one per 0.1 s: each read is quick (no per-read timeout), the whole takes 15 s."""
    server.mode = "drip"
    started = time.monotonic()
    with pytest.raises(ApiError, match=r"did not complete within its total deadline of 1 s"):
        http_for(server, request_deadline_s=1, request_timeout_s=5).request_raw(
            "POST", "/analytics/conversations/aggregates/query", json={}
        )
    assert time.monotonic() - started < 4


def test_dripping_headers_hit_the_total_deadline_too(server) -> None:
    """The status line and headers a byte per 0.1 s (~15 s): each read is quick, the deadline ends it."""
    server.mode = "drip-headers"
    started = time.monotonic()
    with pytest.raises(ApiError, match=r"did not complete within its total deadline of 1 s"):
        http_for(server, request_deadline_s=1, request_timeout_s=5).request_raw(
            "POST", "/analytics/conversations/aggregates/query", json={}
        )
    assert time.monotonic() - started < 4


def test_a_normal_reply_is_read_whole(server) -> None:
    server.mode = "normal"
    body = http_for(server).request_raw("GET", "/oauth/token")
    assert body == b'{"access_token": "tok-abcdef", "expires_in": 3600}'
