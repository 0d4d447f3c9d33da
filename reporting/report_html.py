"""Render ReportData as one self-contained HTML page: Jinja2, inline Vega-Lite, packed chart data."""

from __future__ import annotations

import base64
import contextlib
import functools
import gzip
import json
import sys
from datetime import UTC, datetime
from importlib.metadata import version
from pathlib import Path

import jinja2
from markupsafe import Markup

from reporting.report import write_atomically
from reporting.report_data import AT_RISK_POINTS, MIN_WORST_VOLUME, ReportData

TEMPLATES = Path(__file__).resolve().parent / "templates"
EMPTY = "–"  # NULL is shown as an en dash, never as 0
STATUS_RANK = {"missed": 0, "at risk": 1, "met": 2, "no data": 3}
FORMULA_TEXT = {
    "genesys": "the API's oServiceLevel numerator and denominator, as the Genesys dashboard shows",
    "exclude_short_abandons": "(answered − over SLA) / (answered + abandoned − short abandons)",
    "include_flow_outs": "(answered − over SLA) / (answered + abandoned + flow-outs)",
}


def _pct(value: float | None) -> str:
    return EMPTY if value is None else f"{value:.2f}"


def _num(value: float | None, digits: int = 1) -> str:
    return EMPTY if value is None else f"{value:,.{digits}f}"


def _sort_key(value: float | None) -> str:
    """A table cell's sort value: 2 decimals, as shown (full precision would double the table's bytes)."""
    return "" if value is None else f"{value:.2f}"


def _count(value: int | None) -> str:
    return EMPTY if value is None else f"{value:,}"


@functools.cache
def vega_bundle() -> str:
    """Vega, Vega-Lite and vega-embed as one script (vl-convert bundles them; nothing is fetched)."""
    import vl_convert

    # vl-convert bundles at every call (2-6 s); the result depends only on its version, so it is kept in the
    # environment that installed it (.venv/share/), written atomically; an unwritable prefix just skips it
    cache = Path(sys.prefix) / "share" / "genesys-sla" / f"vega-embed-{version('vl-convert-python')}.js"
    with contextlib.suppress(OSError):
        return cache.read_text(encoding="utf-8")
    # a literal "</script" inside the inline script would end it early
    bundle = vl_convert.javascript_bundle().replace("</script", "<\\/script")
    with contextlib.suppress(OSError):
        write_atomically(cache, bundle)
    return bundle


def _environment() -> jinja2.Environment:
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(TEMPLATES),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        trim_blocks=False,
    )
    env.filters.update(pct=_pct, num=_num, count=_count, sortkey=_sort_key)
    return env


def _chart_data(data: ReportData) -> str:
    """The charts' data as gzip + base64: JSON of a year of 500 queues is ~8 MB, packed under 3 MB."""

    def objects(series: dict[str, str]) -> str:
        # the values are JSON already (DuckDB wrote them); only the keys need encoding
        return "{" + ",".join(f"{json.dumps(key)}:{value}" for key, value in series.items()) + "}"

    targets = {q.key: q.target_pct for q in data.queues}
    payload = (
        f'{{"dates":{json.dumps(data.dates)},"times":{json.dumps(data.times)},'
        f'"daily":{objects(data.daily)},"profile":{objects(data.profile)},'
        f'"targets":{json.dumps(targets, allow_nan=False)}}}'
    )
    return base64.b64encode(gzip.compress(payload.encode(), compresslevel=6, mtime=0)).decode("ascii")


def _tiles(data: ReportData) -> dict[str, str]:
    s = data.summary
    assert s is not None
    if s.service_level_pct is None or s.target_pct is None:
        status = "no SL"
    elif s.service_level_pct >= s.target_pct:
        status = "met"
    else:
        status = f"{s.target_pct - s.service_level_pct:.2f} points below"
    return {
        "sl": f"{_pct(s.service_level_pct)} %" if s.service_level_pct is not None else EMPTY,
        "target": f"{_pct(s.target_pct)} %" if s.target_pct is not None else EMPTY,
        "sl_status": status,
        "offered": _count(s.offered),
        "answer_rate": f"{_pct(s.answer_rate_pct)} %" if s.answer_rate_pct is not None else EMPTY,
        "abandon_rate": f"{_pct(s.abandon_rate_pct)} %" if s.abandon_rate_pct is not None else EMPTY,
        "asa": f"{_num(s.asa_seconds)} s" if s.asa_seconds is not None else EMPTY,
        "aht": f"{_num(s.aht_seconds)} s" if s.aht_seconds is not None else EMPTY,
        "meeting": f"{s.pairs_meeting} of {s.pairs}",
        "without_sl": str(s.pairs - s.pairs_with_sl) if s.pairs > s.pairs_with_sl else "",
    }


def render_report(data: ReportData, generated_at: datetime | None = None) -> str:
    """The whole page as a string."""
    generated = (generated_at or datetime.now(UTC)).strftime("%Y-%m-%d %H:%M UTC")
    start, end = data.period_start, data.period_end
    period = f"{start} .. {end}" if start or end else "everything loaded"
    last_bucket = f"{data.last_bucket_end:%Y-%m-%d %H:%M} UTC" if data.last_bucket_end else EMPTY
    context = {
        "is_simulated": data.is_simulated,
        "is_empty": data.is_empty,
        "org_label": ", ".join(data.org_ids) or EMPTY,
        "period_label": period,
        "report_tz": data.report_tz,
        "granularity": data.granularity or EMPTY,
        "last_bucket": last_bucket,
        "sl_formula": data.sl_formula or "genesys",
        "formula_text": FORMULA_TEXT.get(data.sl_formula or "genesys", ""),
        "generated_at": generated,
        "queues": data.queues,
        "worst": data.worst,
        "status_rank": STATUS_RANK,
        "at_risk_points": f"{AT_RISK_POINTS:g}",
        "min_worst_volume": MIN_WORST_VOLUME,
    }
    if not data.is_empty:
        app_js = (TEMPLATES / "report_app.js").read_text(encoding="utf-8")
        context.update(
            tiles=_tiles(data),
            vega_bundle=Markup(vega_bundle()),
            app_js=Markup(app_js.replace("</script", "<\\/script")),
            chart_data=_chart_data(data),
        )
    return _environment().get_template("service_level.html.j2").render(context)
