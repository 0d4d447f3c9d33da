"""[sources.genesys] validation: every bad value is a one-line ConfigError (exit 2)."""

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from loader.cli import main
from loader.config import load_settings, read_error
from loader.errors import ConfigError

REPO = Path(__file__).resolve().parents[2]


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


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("SOURCES__GENESYS__LOOKBACK_HOUR", "did you mean SOURCES__GENESYS__LOOKBACK_HOURS?"),
        (
            "SOURCES__GENESYS__MAX_CONCURENT_REQUESTS",
            "did you mean SOURCES__GENESYS__MAX_CONCURRENT_REQUESTS?",
        ),
        ("SOURCES__GENESYS__COLOUR", "see README 'Configuration' for the keys"),
    ],
)
def test_unknown_env_key_names_the_closest_valid_one(monkeypatch, name, expected):
    monkeypatch.setenv(name, "3")
    with pytest.raises(ConfigError) as err:
        load_settings()
    assert name in str(err.value) and expected in str(err.value) and err.value.exit_code == 2


def test_unknown_toml_key_names_the_closest_valid_one(tmp_path):
    dlt_dir = tmp_path / ".dlt"
    dlt_dir.mkdir()
    (dlt_dir / "config.toml").write_text('[sources.genesys]\nregion = "eu_west_1"\nlookback_hour = 6\n')
    env = {k: v for k, v in os.environ.items() if not k.startswith("SOURCES__")}
    env["PYTHONPATH"] = str(REPO)

    def run() -> subprocess.CompletedProcess:
        return subprocess.run(
            [sys.executable, "-m", "loader"],
            cwd=tmp_path,
            env=env,
            capture_output=True,
            text=True,
            timeout=60,
        )

    result = run()
    assert result.returncode == 2 and result.stderr.count("\n") == 1, result.stderr
    assert result.stderr.startswith("error: unknown setting 'lookback_hour' in [sources.genesys]")
    assert "did you mean lookback_hours?" in result.stderr
    (dlt_dir / "config.toml").write_text('[sources.genesys]\nregion = "eu_west_1"\n')
    (dlt_dir / "secrets.toml").write_text('[sources.genesys]\nclient_secrett = "x"\n')
    result = run()
    assert result.returncode == 2 and "did you mean client_secret?" in result.stderr
    assert "'x'" not in result.stderr  # the value is never echoed
    assert not (tmp_path / "genesys.duckdb").exists()


@pytest.mark.parametrize(
    ("key", "value", "expected"),
    [
        ("QUEUE_PAGE_SIZE", "501", "queue_page_size = 501 is too large; use at most 500"),
        ("LOOKBACK_HOURS", "1e300", "lookback_hours = 1e+300 is too large"),
        ("INITIAL_DAYS", "99999999999", "initial_days = 99999999999 is too large"),
        ("BACKOFF_BASE_S", "-1", "backoff_base_s = -1.0 is too small"),
        ("BACKOFF_CAP_S", "1e12", "backoff_cap_s = 1000000000000.0 is too large"),
        ("JOB_POLL_CAP_S", "-5", "job_poll_cap_s = -5.0 is too small"),
        ("WINDOW_DAYS", "400", "window_days = 400.0 is too large"),
        ("ASYNC_WINDOW_DAYS", "45", "async_window_days = 45 is too large"),
        ("MAX_CONCURRENT_REQUESTS", "0", "max_concurrent_requests = 0 is too small"),
        ("MAX_CONCURRENT_REQUESTS", "1000", "max_concurrent_requests = 1000 is too large"),
        ("REGION", "", "region is empty"),
        ("REGION", "   ", "region is empty"),
    ],
)
def test_every_number_is_range_checked_before_anything_runs(monkeypatch, key, value, expected):
    monkeypatch.setenv(f"SOURCES__GENESYS__{key}", value)
    with pytest.raises(ConfigError) as err:
        load_settings()
    assert expected in str(err.value) and "\n" not in str(err.value)


def test_range_errors_are_exit_2_from_the_cli(capsys, monkeypatch, tmp_path):
    monkeypatch.setenv("SOURCES__GENESYS__LOOKBACK_HOURS", "1e300")
    assert main([]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: lookback_hours") and err.count("\n") == 1 and "Traceback" not in err
    assert not (tmp_path / "genesys.duckdb").exists()


SECRET = "Zq9xW7vKp2mB4jY"


@pytest.mark.parametrize(
    "line",
    [
        f"client_secret = {SECRET}",  # a bare value: the parser stops at its first character
        f'client_secret = "{SECRET}',  # an unterminated string
        f'client_secret = "{SECRET[:6]}"{SECRET[6:]}"',  # a quote inside the value
        f"client_secret = '{SECRET}'\nclient_secret = '{SECRET}'",  # the key twice
    ],
)
def test_a_malformed_secrets_file_never_echoes_its_values(tmp_path, line):
    dlt_dir = tmp_path / ".dlt"
    dlt_dir.mkdir()
    (dlt_dir / "secrets.toml").write_text(f'[sources.genesys]\nclient_id = "my-client"\n{line}\n')
    env = {k: v for k, v in os.environ.items() if not k.startswith("SOURCES__")}
    env["PYTHONPATH"] = str(REPO)
    result = subprocess.run(
        [sys.executable, "-m", "loader"], cwd=tmp_path, env=env, capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 2 and result.stderr.count("\n") == 1, result.stderr
    # Only the place and the kind of the error: no character of the file's text is quoted.
    assert re.fullmatch(
        r"error: could not read the configuration: \.dlt/secrets\.toml( line \d+, column \d+)? \([a-z ]+\) "
        r"is not valid TOML; fix it there and re-run\n",
        result.stderr,
    ), result.stderr
    assert "line 3," in result.stderr or "(key already present)" in result.stderr
    assert not any(SECRET[i : i + 4] in result.stderr + result.stdout for i in range(len(SECRET) - 3))
    assert "Traceback" not in result.stderr and not (tmp_path / "genesys.duckdb").exists()


def test_other_configuration_errors_name_the_kind_and_where_to_look():
    message = read_error(ValueError(f"cannot parse {SECRET}"))
    assert SECRET not in message and message.startswith("ValueError (its text is not shown")
    assert ".dlt/secrets.toml and the SOURCES__GENESYS__* variables" in message
