"""Fixtures of the report tests: one headless Chromium per test module."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from report_harness import chromium


@pytest.fixture(scope="module")
def browser_context(tmp_path_factory: pytest.TempPathFactory) -> Iterator[object]:
    """Debian's chromium (installed by .ci/run), headless, with a fresh user-data-dir for this module."""
    with chromium(tmp_path_factory.mktemp("chromium-profile")) as context:
        yield context
