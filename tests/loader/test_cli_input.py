"""Bad input: exit code 2, one clear line on stderr, nothing written to DuckDB."""

import os
import subprocess
import sys
from pathlib import Path

import pytest

from loader.cli import build_parser, main

REPO = Path(__file__).resolve().parents[2]


def _run_main(capsys, argv):
    code = main(argv)
    out, err = capsys.readouterr()
    return code, out, err


@pytest.mark.parametrize(
    ("argv", "env", "expected"),
    [
        (["--start", "2026-13-01"], {}, "START '2026-13-01' is not a date; use YYYY-MM-DD"),
        (["--start", "2026-03-05", "--end", "2026-03-01"], {}, "END 2026-03-01 is before START 2026-03-05"),
        (["--start", "2026-03-01", "--report-tz", "Mars/Base"], {}, "time zone 'Mars/Base' is unknown"),
        (["--start", "2999-01-01"], {}, "START 2999-01-01 is in the future"),
        (["--start", "2026-03-01", "--report-tz", "Asia/Kolkata"], {}, "use --granularity PT30M"),
        ([], {"SOURCES__GENESYS__REGION": "moon_1"}, "region 'moon_1' is unknown"),
        ([], {"SOURCES__GENESYS__API_BASE_URL": "http://api.example.com"}, "is insecure"),
        ([], {"SOURCES__GENESYS__LOOKBACK_HOURS": "lots"}, "lookback_hours 'lots' is not a number"),
        ([], {"SOURCES__GENESYS__CLIENT_ID": "some-id"}, "client_secret is missing"),
        (["--media", "fax"], {}, "not recognised"),
        (["--now", "yesterday"], {}, "now 'yesterday' is not an ISO-8601 instant"),
    ],
)
def test_bad_input_exits_2_with_one_line(capsys, monkeypatch, tmp_path, argv, env, expected):
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    code, out, err = _run_main(capsys, argv)
    assert code == 2
    lines = [line for line in err.splitlines() if line.strip()]
    assert len(lines) == 1 and lines[0].startswith("error: ") and expected in lines[0], err
    assert out == ""
    assert not (tmp_path / "genesys.duckdb").exists()
    assert not (tmp_path / ".dlt_pipelines").exists()


def test_unknown_option_is_exit_2(capsys):
    with pytest.raises(SystemExit) as exc:
        build_parser().parse_args(["--bogus"])
    assert exc.value.code == 2
    assert capsys.readouterr().err.count("\n") == 1


def test_help_documents_every_option_with_an_example(capsys):
    with pytest.raises(SystemExit):
        build_parser().parse_args(["--help"])
    text = " ".join(capsys.readouterr().out.split())
    for option in [
        "--start",
        "--end",
        "--report-tz",
        "--granularity",
        "--queues",
        "--media",
        "--full-refresh",
        "--simulator",
        "--async-jobs",
        "--now",
    ]:
        assert f"(e.g. {option}" in text, option
    assert "make load START=" in text


def test_malformed_toml_is_exit_2(tmp_path):
    (tmp_path / ".dlt").mkdir()
    (tmp_path / ".dlt" / "config.toml").write_text('[sources.genesys]\nregion = "unterminated\n')
    env = {k: v for k, v in os.environ.items() if not k.startswith("SOURCES__")}
    env["PYTHONPATH"] = str(REPO)
    result = subprocess.run(
        [sys.executable, "-m", "loader"], cwd=tmp_path, env=env, capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 2
    assert (
        result.stderr.startswith("error: could not read the configuration") and result.stderr.count("\n") == 1
    )
    assert not (tmp_path / "genesys.duckdb").exists()
