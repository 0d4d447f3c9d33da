"""`python -m loader`: parse options, run one load, print the summary; exit 2 on bad input, 1 on failure."""

from __future__ import annotations

import argparse
import logging
import sys
from collections.abc import Sequence

from loader.errors import LoaderError
from loader.pipeline import run_load
from loader.scrub import ScrubFilter, scrub

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
    logging.getLogger("dlt").addFilter(ScrubFilter())


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    _configure_logging(args.verbose)
    try:
        summary = run_load(
            start=args.start,
            end=args.end,
            report_tz=args.report_tz,
            granularity=args.granularity,
            queue_ids=args.queues,
            media_types=args.media,
            full_refresh=args.full_refresh,
            simulator=args.simulator,
            async_jobs=args.async_jobs,
            now=args.now,
        )
    except LoaderError as exc:
        print(f"error: {scrub(exc)}", file=sys.stderr)
        return exc.exit_code
    except KeyboardInterrupt:
        print("interrupted: re-run the same command to complete the load", file=sys.stderr)
        return 130
    print(summary.render())
    return 0
