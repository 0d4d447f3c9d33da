"""[sources.genesys] validation: every bad value is a one-line ConfigError (exit 2)."""

import pytest

from loader.config import load_settings
from loader.errors import ConfigError


def test_defaults():
    settings = load_settings()
    assert settings.client_id is None and settings.granularity == "PT1H"
    assert settings.lookback_hours == 48 and settings.initial_days == 30
    assert settings.endpoints.api_base_url == "https://api.mypurecloud.com"


def test_env_values_are_parsed(monkeypatch):
    monkeypatch.setenv("SOURCES__GENESYS__REGION", "eu_west_1")
    monkeypatch.setenv("SOURCES__GENESYS__MEDIA_TYPES", '["voice","message"]')
    monkeypatch.setenv("SOURCES__GENESYS__QUEUE_IDS", "a,b")
    monkeypatch.setenv("SOURCES__GENESYS__LOOKBACK_HOURS", "6")
    settings = load_settings()
    assert settings.endpoints.login_base_url == "https://login.mypurecloud.ie"
    assert settings.media_types == ["voice", "message"] and settings.queue_ids == ["a", "b"]
    assert settings.lookback_hours == 6


@pytest.mark.parametrize(
    ("key", "value", "expected"),
    [
        ("CLIENT_ID", "only-the-id", "client_secret is missing"),
        ("CLIENT_SECRET", "only-the-secret", "client_id is missing"),
        ("REGION", "mars", "region 'mars' is unknown"),
        ("API_BASE_URL", "http://example.com", "insecure"),
        ("GRANULARITY", "PT5M", "granularity 'PT5M' is not supported"),
        ("LOOKBACK_HOURS", "two days", "lookback_hours 'two days' is not a number"),
        ("INITIAL_DAYS", "0", "initial_days = 0 is too small"),
        ("MEDIA_TYPES", "fax", "not recognised"),
        ("MEDIA_TYPES", "[voice", "is not a list"),
    ],
)
def test_bad_values(monkeypatch, key, value, expected):
    monkeypatch.setenv(f"SOURCES__GENESYS__{key}", value)
    with pytest.raises(ConfigError) as err:
        load_settings()
    assert expected in str(err.value) and "\n" not in str(err.value)
    assert "only-the-secret" not in str(err.value)
