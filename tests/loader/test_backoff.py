"""The wait before a retry: Retry-After (seconds or HTTP date), else inin-ratelimit-reset, else capped
exponential backoff with jitter."""

from __future__ import annotations

import time
from email.utils import formatdate

import pytest
from requests import Response
from tenacity import RetryCallState, Retrying

from loader.auth import renewal_margin_s
from loader.client import GenesysWait


def _state(headers: dict[str, str], attempt: int = 1) -> RetryCallState:
    response = Response()
    response.status_code = 429
    response.headers.update(headers)
    state = RetryCallState(Retrying(), fn=None, args=(), kwargs={})
    state.attempt_number = attempt
    state.set_result(response)
    return state


def test_retry_after_seconds_then_reset_then_backoff():
    wait = GenesysWait(base_s=0.5, cap_s=30)
    assert wait(_state({"Retry-After": "7", "inin-ratelimit-reset": "40"})) == 7
    assert wait(_state({"inin-ratelimit-reset": "12"})) == 12
    assert wait(_state({"inin-ratelimit-reset": "45"})) == 30  # capped
    for attempt, ceiling in [(1, 0.5), (2, 1.0), (3, 2.0), (10, 30.0)]:
        value = wait(_state({}, attempt))
        assert ceiling / 2 <= value <= ceiling  # jitter in [50%, 100%] of the capped step


def test_retry_after_http_date():
    wait = GenesysWait(base_s=0.5, cap_s=30)
    value = wait(_state({"Retry-After": formatdate(time.time() + 9, usegmt=True)}))
    assert 7 <= value <= 9


@pytest.mark.parametrize(("lifetime", "margin"), [(86400, 60), (3600, 60), (300, 30), (1, 0.1)])
def test_token_renewal_margin(lifetime, margin):
    assert renewal_margin_s(lifetime) == pytest.approx(margin)
