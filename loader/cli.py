"""`python -m loader`: parse options, run one load, print the summary; exit 2 on bad input, 1 on failure."""

from __future__ import annotations

import argparse
import contextlib
import dataclasses
import logging
import os
import secrets
import subprocess
import sys
from collections.abc import Iterator, Sequence
from pathlib import Path

from common import interrupts
from loader.config import Settings, load_settings
from loader.errors import LoaderError
from loader.pipeline import check_database, check_request, run_load
from loader.progress import Progress
from loader.scrub import ScrubFilter, scrub

logger = logging.getLogger(__name__)

INTERRUPTED = "interrupted: re-run the same command to complete the load"

BANNER = """
==========================================================================================
  SIMULATED DATA - no Genesys client_id is configured (or --simulator was given), so this
  load talks to the bundled Genesys Cloud simulator and labels every row org_id='simulator'.
  To load your real tenant: create an OAuth client (grant: client credentials) whose role has
  analytics:conversationAggregate:view and routing:queue:view, then put client_id and
  client_secret under [sources.genesys] in .dlt/secrets.toml (or set SOURCES__GENESYS__CLIENT_ID
  and SOURCES__GENESYS__CLIENT_SECRET) and set region, e.g. region = "mypurecloud.ie".
==========================================================================================
""".strip("\n")

EPILOG = """\
examples:
  python -m loader                                   incremental (first run: last initial_days days)
  python -m loader --start 2026-03-01 --end 2026-03-31 --report-tz America/New_York
  python -m loader --start 2026-03-01 --end 2026-03-07 --report-tz Asia/Kolkata --granularity PT30M
  python -m loader --queues 6f1c...,9a2b... --media voice,message
  python -m loader --simulator --start 2026-01-01 --end 2026-01-31
  make load START=2026-03-01 END=2026-03-31 REPORT_TZ=Europe/London

configuration: [sources.genesys] in .dlt/config.toml and .dlt/secrets.toml, or SOURCES__GENESYS__<KEY>
environment variables (client_id, client_secret, region, api_base_url, login_base_url, granularity,
media_types, queue_ids, lookback_hours, initial_days, ...). Without client_id the bundled simulator is used.
The DuckDB file is GENESYS_DUCKDB_PATH (default ./genesys.duckdb), dataset genesys_raw.
exit codes: 0 loaded, 1 load failed (API, auth, network), 2 bad input or configuration (nothing written).
"""


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> None:  # one line, exit 2
        self.exit(2, f"error: {message}; see 'python -m loader --help'\n")


def _csv(text: str) -> list[str]:
    return [part.strip() for part in text.split(",") if part.strip()]


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(
        prog="python -m loader",
        description="Load Genesys Cloud queue service-level buckets into DuckDB (dataset genesys_raw).",
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument(
        "--start",
        metavar="YYYY-MM-DD",
        help="first local day to load, inclusive, in --report-tz (e.g. --start 2026-03-01). "
        "Without --start/--end the load is incremental.",
    )
    parser.add_argument(
        "--end",
        metavar="YYYY-MM-DD",
        help="last local day to load, inclusive (e.g. --end 2026-03-31); default today. "
        "Days after now are clipped to now.",
    )
    parser.add_argument(
        "--report-tz",
        default="UTC",
        metavar="AREA/CITY",
        help="IANA time zone the dates are in (e.g. --report-tz America/New_York); default UTC. "
        "A DST day loads 23 or 25 hours.",
    )
    parser.add_argument(
        "--granularity",
        choices=["PT1H", "PT30M", "PT15M"],
        help="bucket size (e.g. --granularity PT30M); default [sources.genesys] granularity or PT1H. "
        "Fixed per database unless --full-refresh.",
    )
    parser.add_argument(
        "--queues",
        type=_csv,
        metavar="ID[,ID...]",
        help="only these queue ids in the analytics query (e.g. --queues 6f1c...,9a2b...); "
        "the queue listing is always complete",
    )
    parser.add_argument(
        "--media",
        type=_csv,
        metavar="TYPE[,TYPE...]",
        help="only these analytics media types (e.g. --media voice,message)",
    )
    parser.add_argument(
        "--full-refresh",
        action="store_true",
        help="drop the loaded tables and state first, then load; needed to change the granularity "
        "(e.g. --full-refresh --granularity PT15M)",
    )
    parser.add_argument(
        "--simulator",
        action="store_true",
        help="use the bundled simulator even when credentials are configured (e.g. --simulator)",
    )
    parser.add_argument(
        "--async-jobs",
        action="store_true",
        default=None,
        help="use async aggregate jobs (automatic above async_after_days days) (e.g. --async-jobs)",
    )
    parser.add_argument(
        "--allow-foreign-tables",
        action="store_true",
        help="load into a DuckDB file that also holds tables this project did not create "
        "(e.g. --allow-foreign-tables); refused otherwise, so no other tool's tables are replaced",
    )
    parser.add_argument(
        "--now",
        metavar="ISO-8601",
        help="testing aid: treat this instant as now for incremental ranges "
        "(e.g. --now 2026-03-02T12:00:00Z); default the real clock",
    )
    parser.add_argument(
        "-v", "--verbose", action="store_true", help="log each HTTP request at DEBUG (e.g. -v)"
    )
    return parser


def _configure_logging(verbose: bool) -> None:
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter("%(message)s"))
    handler.addFilter(ScrubFilter())  # no log line shows a secret or token, whatever a server echoed
    package = logging.getLogger("loader")
    package.handlers[:] = [handler]
    package.setLevel(logging.DEBUG if verbose else logging.INFO)
    package.propagate = False
    # dlt logs through its own logger and handler (set up later, by the pipeline): filter at the logger.
    dlt_logger = logging.getLogger("dlt")
    dlt_logger.addFilter(ScrubFilter())
    # After a signal dlt reports the job whose query it interrupted as failing, with a traceback: the
    # interrupted message says all there is to say.
    dlt_logger.addFilter(lambda record: not interrupts.received())


@contextlib.contextmanager
def _simulator_process(settings: Settings) -> Iterator[None]:
    """Run the bundled simulator (`python -m simulator`) as a child process on a free loopback port and
    point the settings at it: the CLI's no-credentials fallback. A process, not an import, so the loader
    package never depends on the simulator's code; its client secret is made up for this run only."""
    client_id, client_secret = "simulator-client", secrets.token_urlsafe(24)
    root = Path(__file__).resolve().parent.parent
    env = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join(filter(None, [str(root), os.environ.get("PYTHONPATH")])),
    }
    args = ["--port", "0", "--client-id", client_id, "--client-secret", client_secret]
    try:
        proc = subprocess.Popen(
            [sys.executable, "-m", "simulator", *args],
            cwd=root,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            text=True,
        )
    except OSError as exc:
        raise LoaderError(f"the bundled simulator cannot be started ({exc}); configure client_id") from None
    try:
        line = proc.stdout.readline() if proc.stdout else ""
        if "listening on " not in line:
            raise LoaderError("the bundled simulator did not start; run `python -m simulator` to see why")
        base_url = line.split("listening on ", 1)[1].split()[0]
        settings.client_id, settings.client_secret = client_id, client_secret
        settings.api_base_url = settings.login_base_url = base_url
        settings.simulated = True
        yield
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    _configure_logging(args.verbose)
    progress = Progress()
    try:
        with interrupts.handled_signals(ignore_repeats=True):
            config = load_settings({"granularity": args.granularity, "now": args.now})
            # Bad input is refused before a simulator is started or a file is touched.
            check_request(
                dataclasses.replace(config),
                start=args.start,
                end=args.end,
                report_tz=args.report_tz,
                queue_ids=args.queues,
                media_types=args.media,
            )
            check_database(None, args.allow_foreign_tables)
            simulated = args.simulator or not config.client_id
            with contextlib.ExitStack() as stack:
                if simulated:
                    stack.enter_context(_simulator_process(config))
                    logger.warning("%s", BANNER)
                summary = run_load(
                    start=args.start,
                    end=args.end,
                    report_tz=args.report_tz,
                    queue_ids=args.queues,
                    media_types=args.media,
                    full_refresh=args.full_refresh,
                    async_jobs=args.async_jobs,
                    config=config,
                    simulated=simulated,
                    allow_foreign_tables=args.allow_foreign_tables,
                    progress=progress,
                )
    except LoaderError as exc:
        progress.close()
        print(f"error: {scrub(exc)}", file=sys.stderr)
        return exc.exit_code
    except KeyboardInterrupt as exc:
        progress.close()
        print(INTERRUPTED, file=sys.stderr)
        return interrupts.exit_code(exc)
    progress.close()
    print(summary.render())
    return 0
