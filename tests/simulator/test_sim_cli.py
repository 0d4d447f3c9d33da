"""`python -m simulator` starts a real server, prints its base URL and never prints a custom secret."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import requests
from simhelpers import TIMEOUT

REPO = Path(__file__).resolve().parents[2]


def _start(*args: str) -> tuple[subprocess.Popen, str]:
    proc = subprocess.Popen(
        [sys.executable, "-m", "simulator", "--port", "0", *args],
        cwd=REPO,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    line = proc.stdout.readline()
    return proc, line


def _stop(proc: subprocess.Popen) -> None:
    proc.terminate()
    try:
        proc.wait(timeout=10)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait(timeout=10)


def test_cli_serves_with_the_given_credentials_and_hides_the_secret() -> None:
    proc, line = _start(
        "--seed",
        "7",
        "--client-id",
        "my-client",
        "--client-secret",
        "s3cr3t-value",
        "--clock",
        "2026-11-27T00:00:00Z",
    )
    try:
        match = re.search(
            r"listening on (http://127\.0\.0\.1:\d+) \(client id my-client, secret from --client-secret\)",
            line,
        )
        assert match, line
        base = match.group(1)
        assert "s3cr3t-value" not in line
        wrong = requests.post(
            f"{base}/oauth/token",
            data={"grant_type": "client_credentials"},
            auth=("my-client", "x"),
            timeout=TIMEOUT,
        )
        good = requests.post(
            f"{base}/oauth/token",
            data={"grant_type": "client_credentials"},
            auth=("my-client", "s3cr3t-value"),
            timeout=TIMEOUT,
        )
        token = good.json()["access_token"]
        queues = requests.get(
            f"{base}/api/v2/routing/queues", headers={"Authorization": f"Bearer {token}"}, timeout=TIMEOUT
        )
    finally:
        _stop(proc)
    assert wrong.status_code == 401
    assert queues.status_code == 200 and queues.json()["total"] == 10
    assert proc.returncode == 0


def test_cli_defaults_print_the_documented_credentials() -> None:
    proc, line = _start()
    try:
        assert "client id simulator-client, secret simulator-secret" in line
    finally:
        _stop(proc)


def test_cli_rejects_unknown_fault_kinds() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "simulator", "--port", "0", "--random-fault-kinds", "418"],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 2
    assert "unknown fault kind" in result.stderr
