"""loader.scrub: the registry of the run's secrets, scrub(), the logging filter and scrubbed error classes."""

from __future__ import annotations

import base64
import logging
from collections.abc import Iterator

import pytest

from loader import scrub
from loader.errors import ApiError, AuthError, WindowError

SECRET = "hunter2-Secret+/="
TOKEN = "tok_Zq81vR5x0TnW3m"


@pytest.fixture(autouse=True)
def _fresh_registry() -> Iterator[None]:
    scrub.forget()
    yield
    scrub.forget()


def test_secret_basic_pair_and_tokens_are_masked() -> None:
    scrub.register_client("my-client", SECRET)
    scrub.register(TOKEN)
    basic = base64.b64encode(f"my-client:{SECRET}".encode()).decode()
    text = f"Authorization: Basic {basic}; secret={SECRET}; Bearer {TOKEN}"
    assert scrub.scrub(text) == "Authorization: Basic ***; secret=***; Bearer ***"


def test_url_encoded_forms_are_masked_too() -> None:
    scrub.register(SECRET)
    assert scrub.scrub("client_secret=hunter2-Secret%2B%2F%3D") == "client_secret=***"


def test_short_and_empty_values_are_not_registered() -> None:
    scrub.register("", None, "abc")
    assert scrub.scrub("abc def") == "abc def"


def test_nothing_registered_leaves_text_alone() -> None:
    assert scrub.scrub("plain text") == "plain text"


def test_error_messages_are_scrubbed_at_construction() -> None:
    scrub.register(TOKEN)
    for error in (
        ApiError(f"echo {TOKEN}", status=500),
        AuthError(f"echo {TOKEN}"),
        WindowError(f"x {TOKEN}"),
    ):
        assert TOKEN not in str(error) and "***" in str(error)
        assert TOKEN not in repr(error.args)


def test_logging_filter_masks_messages_args_and_tracebacks(caplog: pytest.LogCaptureFixture) -> None:
    scrub.register(TOKEN)
    logger = logging.getLogger("loader.test_scrub")
    handler = logging.StreamHandler()
    records: list[logging.LogRecord] = []
    handler.emit = records.append  # type: ignore[method-assign]
    handler.addFilter(scrub.ScrubFilter())
    logger.addHandler(handler)
    try:
        logger.warning("token %s in args", TOKEN)
        try:
            raise RuntimeError(f"boom {TOKEN}")
        except RuntimeError:
            logger.exception("failed")
    finally:
        logger.removeHandler(handler)
    assert [r.getMessage() for r in records] == ["token *** in args", "failed"]
    assert records[1].exc_text and TOKEN not in records[1].exc_text and "boom ***" in records[1].exc_text


def test_a_truncated_server_message_leaves_no_partial_token() -> None:
    """The Genesys message is cut at 300 characters, here inside the token (at 288 + 12 characters):
    scrubbing before the cut means no prefix of it survives."""
    from requests import Response

    from loader.client import _describe

    scrub.register(TOKEN)
    response = Response()
    response.status_code = 500
    response._content = f'{{"message": "{"x" * 280} Bearer {TOKEN}"}}'.encode()
    described = _describe(response)
    assert TOKEN[:5] not in described and "Bearer ***" in described
