"""Aggregates JSON rendering: Genesys-shaped result containers, one bytes %-template per metric layout.

Rows are grouped by which metrics they carry; each layout gets one %-template and its rows are
formatted in a single list comprehension. That is several times faster than building a dict per
metric per row for orjson, and faster than numpy byte assembly, DuckDB string building or compiled
f-strings (all measured); the JSON is the same.
"""

from __future__ import annotations

import numpy as np
import orjson

from simulator.data import Figures, iso_ms

# t-metric name -> field prefix in Figures.f. Stats key order follows real samples.
_T_METRICS = {
    "tAnswered": "answered",
    "tAbandon": "abandon",
    "tShortAbandon": "short",
    "tFlowOut": "flow",
    "tWait": "wait",
    "tHandle": "handle",
}
_T_TEMPLATE = '{"metric":"%s","stats":{"max":%%d,"min":%%d,"count":%%d,"sum":%%d}}'


def _specs(fig: Figures, metrics: tuple[str, ...]) -> list[tuple[np.ndarray, str, list[np.ndarray]]]:
    """(presence, JSON template, columns) per metric fragment, in the order the metrics were asked for."""
    f = fig.f
    specs = []
    for metric in metrics:
        if metric in _T_METRICS:
            p = _T_METRICS[metric]
            cols = [f[f"{p}_max"], f[f"{p}_min"], f[f"{p}_n"], f[f"{p}_sum"]]
            specs.append((f[f"{p}_n"] > 0, _T_TEMPLATE % metric, cols))
        elif metric == "nOffered":
            offered = fig.offered
            specs.append((offered > 0, '{"metric":"nOffered","stats":{"count":%d}}', [offered]))
        elif metric == "nOverSla":
            specs.append((f["over_n"] > 0, '{"metric":"nOverSla","stats":{"count":%d}}', [f["over_n"]]))
        elif metric == "oServiceLevel":
            num, den = fig.sl_numerator, fig.sl_denominator
            ratio = num / np.maximum(den, 1)
            has_target = ~np.isnan(fig.target)
            head = '{"metric":"oServiceLevel","stats":{"ratio":%r,"numerator":%d,"denominator":%d'
            specs.append(((den > 0) & has_target, head + ',"target":%r}}', [ratio, num, den, fig.target]))
            specs.append(((den > 0) & ~has_target, head + "}}", [ratio, num, den]))
        # Other real metrics have nothing to report in the simulator, so they are omitted.
    return specs


def render_groups(fig: Figures, metrics: tuple[str, ...]) -> tuple[list[bytes], int]:
    """JSON of each non-empty ConversationAggregateDataContainer, and the number of bucket rows."""
    n_groups, n_buckets = fig.target.shape
    specs = _specs(fig, metrics)
    if not specs or not n_groups:
        return [], 0
    layout = np.zeros(n_groups * n_buckets, dtype=np.int64)  # bit k set: the row carries fragment k
    for bit, (present, _, _) in enumerate(specs):
        layout |= present.ravel().astype(np.int64) << bit
    cells = np.flatnonzero(layout)
    if not len(cells):
        return [], 0
    # Sort the rows by layout once, so each column is gathered once and each layout is a slice.
    order = np.argsort(layout[cells], kind="stable")
    sorted_cells = cells[order]
    codes, firsts = np.unique(layout[sorted_cells], return_index=True)
    ends = np.append(firsts[1:], len(cells))
    intervals = np.array(
        [f"{iso_ms(a)}/{iso_ms(b)}".encode() for a, b in zip(fig.edges[:-1], fig.edges[1:], strict=True)],
        dtype=object,
    )
    interval_col = intervals[sorted_cells % n_buckets]
    spec_cols = [[c.ravel()[sorted_cells] for c in cols] for _, _, cols in specs]
    formatted: list[bytes] = []
    for code, lo, hi in zip(codes.tolist(), firsts.tolist(), ends.tolist(), strict=True):
        parts, cols = [], [interval_col[lo:hi].tolist()]
        for bit, (_, template, _) in enumerate(specs):
            if code >> bit & 1:
                parts.append(template)
                cols.extend(c[lo:hi].tolist() for c in spec_cols[bit])
        # bytes %-formatting: ~15 % faster than str, and nothing to encode afterwards (%a of a float is
        # its repr, as %r gives for str).
        template = ('{"interval":"%s","metrics":[' + ",".join(parts) + "]}").replace("%r", "%a").encode()
        formatted += [template % values for values in zip(*cols, strict=True)]
    by_cell = np.empty(len(cells), dtype=object)
    by_cell[order] = formatted
    rows = by_cell.tolist()
    bounds = np.searchsorted(cells // n_buckets, np.arange(n_groups + 1))
    containers = []
    for g, (a, b) in enumerate(zip(bounds[:-1].tolist(), bounds[1:].tolist(), strict=True)):
        if a < b:
            # One join per container: the head and tail ride on its first and last row.
            part = rows[a:b]
            part[0] = b'{"group":' + orjson.dumps(fig.groups[g]) + b',"data":[' + part[0]
            part[-1] += b"]}"
            containers.append(b",".join(part))
    return containers, len(cells)
