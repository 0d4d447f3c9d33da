"""Deterministic bucket figures: 15-minute base buckets from a counter hash, summed to any granularity.

Every base bucket is a pure function of (seed, queue index, media index, bucket start), computed
with a splitmix64 hash over numpy arrays, so any query window returns the same figures for the
same bucket and coarser buckets are exact sums of the 15-minute ones. The HTTP API and
`ground_truth` both read these arrays: there is one code path for the numbers.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

import numpy as np

from simulator.org import MEDIA_TYPES, SimQueue, SimulatedOrg

BASE_S = 900  # seconds in the 15-minute base bucket
GRANULARITY_S = {"PT15M": 900, "PT30M": 1800, "PT1H": 3600}
GRANULARITIES = (*GRANULARITY_S, "P1D")
LATE_START_FRACTION = 0.3  # share of its final counts a bucket holds when it has just ended
CHUNK_CELLS = 65_536  # base cells (groups x 15-minute buckets) generated per step
_NO_MIN = np.iinfo(np.int64).max
_U64 = np.uint64

# Weekly curve (Monday first) and per-media average handle time in ms.
_WEEKLY = np.array([1.0, 0.97, 0.93, 0.92, 0.85, 0.40, 0.25])
_AHT_MS = {"voice": 360_000, "message": 900_000, "email": 1_200_000, "chat": 600_000, "callback": 420_000}
_FLOW_OUT_RATE = {"voice": 0.03, "callback": 0.02, "message": 0.01, "chat": 0.01, "email": 0.005}
_SHORT_ABANDON_MAX_MS = 9_999  # the org's short-abandon threshold is 10 s


def mix64(x: np.ndarray) -> np.ndarray:
    """splitmix64 finaliser over uint64 arrays (wrapping arithmetic is intended)."""
    x = x + _U64(0x9E3779B97F4A7C15)
    x = (x ^ (x >> _U64(30))) * _U64(0xBF58476D1CE4E5B9)
    x = (x ^ (x >> _U64(27))) * _U64(0x94D049BB133111EB)
    return x ^ (x >> _U64(31))


def _quarters(h: np.ndarray) -> list[np.ndarray]:
    """Four uniforms in (0, 1) from the four 16-bit lanes of one hash."""
    lanes = np.moveaxis(h.view(np.uint16).reshape(*h.shape, 4), -1, 0).astype(
        np.float64
    )  # little-endian lanes
    lanes *= 1 / 65536.0
    lanes += 1 / 131072
    return list(lanes)


def _stats(n: np.ndarray, lo: np.ndarray, mid: np.ndarray, hi: np.ndarray):
    """count/sum/min/max of n durations: one at lo, one at hi, the others at mid (so min <= mean <= max)."""
    one = n == 1
    total = np.where(n >= 2, lo + hi + (n - 2) * mid, np.where(one, mid, 0))
    mn = np.where(n >= 2, lo, np.where(one, mid, _NO_MIN))
    mx = np.where(n >= 2, hi, np.where(one, mid, -1))
    return n, total, mn, mx


def _combine(*parts):
    n = sum(p[0] for p in parts)
    total = sum(p[1] for p in parts)
    mn = parts[0][2]
    mx = parts[0][3]
    for p in parts[1:]:
        mn = np.minimum(mn, p[2])
        mx = np.maximum(mx, p[3])
    return n, total, mn, mx


def _span(lo_ms: np.ndarray, hi_ms: np.ndarray, u_lo, u_hi, u_mid):
    """lo <= mid <= hi integer durations drawn inside [lo_ms, hi_ms]."""
    width = hi_ms - lo_ms
    lo = lo_ms + width * 0.3 * u_lo
    hi = hi_ms - width * 0.3 * u_hi
    mid = lo + (hi - lo) * (0.15 + 0.5 * u_mid)
    return lo.astype(np.int64), mid.astype(np.int64), hi.astype(np.int64)


_offset_cache: dict[tuple[str, int], int] = {}


def _utc_offsets(tz_name: str, hour_index: np.ndarray) -> np.ndarray:
    """UTC offset in seconds of `tz_name` at each epoch hour (cached per zone and hour)."""
    tz = ZoneInfo(tz_name)
    uniq, inverse = np.unique(hour_index, return_inverse=True)
    out = np.empty(len(uniq), dtype=np.int64)
    for i, h in enumerate(uniq.tolist()):
        key = (tz_name, h)
        off = _offset_cache.get(key)
        if off is None:
            off = int(datetime.fromtimestamp(h * 3600, tz).utcoffset().total_seconds())
            if len(_offset_cache) < 2_000_000:
                _offset_cache[key] = off
        out[i] = off
    return out[inverse]


def _bucket_sums(
    params: _GroupParams,
    site_timezone: str,
    late_window_hours: float,
    first_bucket: int,
    n_buckets: int,
    cuts: np.ndarray,
    as_of: datetime | None,
) -> dict[str, np.ndarray]:
    """Base-field totals of the 15-minute buckets [first_bucket, first_bucket + n_buckets) (epoch / 900),
    summed into output buckets starting at offsets `cuts`: int64 arrays of shape (groups, len(cuts)).
    Mins are int64 max and maxes -1 where the count is 0.
    """
    bidx = np.arange(first_bucket, first_bucket + n_buckets, dtype=np.int64)
    start_s = bidx * BASE_S
    local_s = start_s + _utc_offsets(site_timezone, start_s // 3600)
    hour = (local_s % 86400) / 3600.0 + 0.125  # bucket midpoint, local hours
    dow = ((local_s // 86400) + 3) % 7  # 1970-01-01 was a Thursday; Monday = 0
    opens = np.where(dow == 6, 10.0, np.where(dow == 5, 9.0, 7.0))
    closes = np.where(dow == 6, 16.0, np.where(dow == 5, 17.0, 21.0))
    shape = 0.12 + 0.85 * np.exp(-(((hour - 10.5) / 1.6) ** 2)) + 0.7 * np.exp(-(((hour - 14.5) / 1.8) ** 2))
    shape = np.minimum(shape, 1.0) * ((hour >= opens) & (hour < closes))
    busy_t = shape * _WEEKLY[dow] * np.where(dow >= 5, 1.6, 1.0)  # weekends: fewer open hours, denser
    if as_of is not None:
        busy_t = np.where(start_s < as_of.timestamp(), busy_t, 0.0)  # nothing at or after the clock

    n_groups, n_out = len(params.gkey), len(cuts)
    # Only open buckets are generated (about half of them); closed ones contribute nothing.
    open_cols = np.flatnonzero(busy_t > 0)
    if not len(open_cols):
        return {k: np.full((n_groups, n_out), _IDENTITY[_KIND[k]], dtype=np.int64) for k in _BASE_FIELDS}
    cells = _cells(params, bidx[open_cols], start_s[open_cols], busy_t[open_cols], as_of, late_window_hours)
    # Segment k of the open columns feeds output bucket k. reduceat takes the non-empty segments
    # (their starts are strictly increasing, so each runs to the next one); empty ones hold the identity.
    seg = np.searchsorted(open_cols, cuts, side="left")
    filled = np.diff(np.append(seg, len(open_cols))) > 0
    starts = seg[filled]
    out = {}
    for k, arr in cells.items():
        kind = _KIND[k]
        summed = _OPS[kind].reduceat(arr, starts, axis=1)
        if len(starts) < n_out:
            full = np.full((n_groups, n_out), _IDENTITY[kind], dtype=np.int64)
            full[:, filled] = summed
            summed = full
        out[k] = summed
    return out


# Monthly volume-weighted SL (30 days, default curves) measured for each staffing lift; the
# generator inverts it to give every pair the level its health asks for.
_LIFTS = np.array([-0.3, -0.2, -0.1, 0.0, 0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7])
_MONTHLY_SL_BY_LIFT = np.array([0.442, 0.528, 0.619, 0.704, 0.775, 0.827, 0.867, 0.897, 0.919, 0.935, 0.948])
_HEALTH_STEP = (np.sqrt(5.0) - 1) / 2  # golden-ratio step: consecutive queues spread evenly over [0, 1)


def pair_health(seed: int, qidx: np.ndarray, midx: np.ndarray) -> np.ndarray:
    """Staffing health in [0, 1) per (queue index, media index): fixed per seed, higher is better.

    A Weyl sequence over the queue index (offset by a hash of the seed) rather than a plain hash,
    so even a dozen queues get a realistic mix of healthy, borderline and failing pairs.
    """
    offset = int(mix64(np.array([seed & 0xFFFFFFFFFFFFFFFF], dtype=np.uint64))[0] >> _U64(11)) / 2.0**53
    h = offset + _HEALTH_STEP * qidx.astype(np.float64) + np.sqrt(2.0) * midx.astype(np.float64)
    return 1.0 - np.mod(h, 1.0)


def sl_margin(health: np.ndarray) -> np.ndarray:
    """Monthly SL minus target that a pair of this health is staffed for (ratio points).

    The best third meets its target by 2-5 points, the next quarter hovers within -2..+1.5 points,
    the rest miss by 4-16 points.
    """
    meets = 0.02 + 0.03 * (health - 2 / 3) * 3
    hovers = -0.02 + 0.035 * (health - 0.4) / (2 / 3 - 0.4)
    misses = -0.16 + 0.12 * health / 0.4
    return np.where(health >= 2 / 3, meets, np.where(health >= 0.4, hovers, misses))


class _GroupParams:
    """Per-(queue, media) constants as (G, 1) columns."""

    def __init__(self, seed: int, groups: list[tuple[SimQueue, str]]) -> None:
        def col(values) -> np.ndarray:
            return np.array(values, dtype=np.float64)[:, None]

        qidx = np.array([q.index for q, _ in groups], dtype=np.uint64)
        midx = np.array([MEDIA_TYPES.index(m) for _, m in groups], dtype=np.uint64)
        seed_arr = np.full(len(groups), seed & 0xFFFFFFFFFFFFFFFF, dtype=np.uint64)
        self.gkey = mix64(mix64(seed_arr) ^ (qidx << _U64(8)) ^ midx)[:, None]
        self.peak = col([q.volume.get(m, 5.0) for q, m in groups])
        self.thr = col([q.media[m][1] for q, m in groups])
        self.aht = col([_AHT_MS[m] for _, m in groups])
        self.flow_rate = col([_FLOW_OUT_RATE[m] for _, m in groups])
        self.created = col([q.created_at.timestamp() for q, _ in groups])
        self.deleted = col([q.deleted_at.timestamp() if q.deleted_at else np.inf for q, _ in groups])
        # Staffing: the monthly SL each pair is built to reach, relative to its (initial) target.
        margin = sl_margin(pair_health(seed, qidx, midx))
        wanted = col([q.media[m][0] for q, m in groups]) + margin[:, None]
        self.lift = np.interp(wanted, _MONTHLY_SL_BY_LIFT, _LIFTS)
        self.abandon_scale = np.clip(1.0 - self.lift, 0.3, 1.5)  # better staffed, fewer abandons


def _cells(
    p: _GroupParams,
    bidx: np.ndarray,
    start_s: np.ndarray,
    busy_t: np.ndarray,
    as_of: datetime | None,
    late_window_hours: float,
) -> dict[str, np.ndarray]:
    cell = mix64(p.gkey ^ mix64(bidx.astype(np.uint64))[None, :])
    u = []
    for stream in range(6):
        u.extend(_quarters(mix64(cell ^ _U64(((stream + 1) * 0x632BE59BD9B4E019) & 0xFFFFFFFFFFFFFFFF))))
    thr = p.thr

    busy = busy_t[None, :] * (0.85 + 0.3 * u[0])
    lam = p.peak * busy
    z = (u[1] + u[2] + u[3] + u[4] - 2.0) * 1.7320508
    offered = np.maximum(np.rint(lam + np.sqrt(lam) * z), 0).astype(np.int64)
    alive = (start_s[None, :] >= p.created) & (start_s[None, :] < p.deleted)  # queue created / deleted
    offered = np.where(alive, offered, 0)

    # Busy buckets answer late and lose callers; quiet ones answer almost everything in time. The
    # pair's staffing (lift) sets the level: well-staffed pairs still dip at peaks, just less deep.
    abandon_rate = np.clip(0.01 + 0.16 * p.abandon_scale * busy**2 + 0.03 * u[5], 0.0, 0.5)
    ab = np.minimum((offered * abandon_rate + u[6]).astype(np.int64), offered)
    flow = np.minimum((offered * p.flow_rate * 2 * u[7] + u[8] * 0.7).astype(np.int64), offered - ab)
    answered = offered - ab - flow
    p_in = np.clip(1.02 + p.lift - 0.9 * busy**3 + 0.2 * (u[9] - 0.5), 0.1, 1.0)
    ans_in = np.minimum((answered * p_in + u[10]).astype(np.int64), answered)
    over = answered - ans_in
    short = np.minimum((ab * 0.3 + u[11]).astype(np.int64), ab)
    long_ = ab - short
    handled = answered - ((u[12] < 0.3) & (answered > 0))

    if as_of is not None and late_window_hours > 0:
        # Late metrics: a recently ended bucket holds only part of its final counts.
        age_h = (as_of.timestamp() - (start_s + BASE_S)) / 3600.0
        if np.any(age_h < late_window_hours):
            frac = np.where(
                age_h >= late_window_hours,
                1.0,
                LATE_START_FRACTION + (1 - LATE_START_FRACTION) * np.clip(age_h, 0, None) / late_window_hours,
            )[None, :]
            ans_in, over, short, long_, flow = (
                (c * frac).astype(np.int64) for c in (ans_in, over, short, long_, flow)
            )
            handled = np.minimum((handled * frac).astype(np.int64), ans_in + over)

    full = np.ones_like(thr)
    ans_in_s = _stats(ans_in, *_span(np.maximum(thr * 0.01, 500.0), thr * 0.95, u[13], u[14], u[15]))
    over_s = _stats(over, *_span(thr + 1000.0, thr * 2.5 + 60_000, u[16], u[17], u[18]))
    short_s = _stats(short, *_span(full * 1_000.0, full * _SHORT_ABANDON_MAX_MS, u[19], u[20], u[21]))
    long_s = _stats(long_, *_span(full * 10_000.0, np.maximum(thr * 3, 240_000.0), u[19], u[22], u[23]))
    flow_s = _stats(flow, *_span(full * 15_000.0, np.maximum(thr * 4, 180_000.0), u[5], u[11], u[2]))
    handle_s = _stats(handled, *_span(p.aht * 0.15, p.aht * 3.5, u[3], u[4], u[0]))

    answered_s = _combine(ans_in_s, over_s)
    out = {"over_n": over}
    for name, parts in (
        ("answered", answered_s),
        ("long", long_s),
        ("short", short_s),
        ("flow", flow_s),
        ("handle", handle_s),
    ):
        for key, arr in zip(("n", "sum", "min", "max"), parts, strict=True):
            out[f"{name}_{key}"] = arr
    return out


def parse_instant(text: str) -> datetime:
    """An ISO-8601 instant (Z or offset; no offset means UTC) as an aware UTC datetime."""
    value = datetime.fromisoformat(text.strip())
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    return value.astimezone(UTC)


def bucket_edges(
    start: datetime, end: datetime, granularity: str | None, time_zone: str = "UTC"
) -> list[datetime]:
    """Bucket boundaries from start to end, or ValueError saying why the interval does not fit.

    PT15M/PT30M/PT1H buckets are aligned to UTC and start/end must sit on their boundaries;
    P1D buckets are local days in `time_zone` (23 or 25 h across DST) and start/end must be local
    midnights; without a granularity the whole interval is one bucket (15-minute aligned).
    """
    start = start.astimezone(UTC)
    end = end.astimezone(UTC)
    if end <= start:
        raise ValueError(f"The interval end ({_iso(end)}) must be after its start ({_iso(start)})")
    if granularity is None:
        edges = [start, end]
    elif granularity in GRANULARITY_S:
        step = GRANULARITY_S[granularity]
        s, e = int(start.timestamp()), int(end.timestamp())
        if s % step or e % step or start.microsecond or end.microsecond:
            raise ValueError(
                f"The interval {_iso(start)}/{_iso(end)} is not aligned to {granularity} boundaries in UTC; "
                f"start and end must be multiples of {step // 60} minutes"
            )
        edges = [datetime.fromtimestamp(t, UTC) for t in range(s, e + 1, step)]
    elif granularity == "P1D":
        tz = ZoneInfo(time_zone)
        local = start.astimezone(tz)
        if local.time() != time(0) or end.astimezone(tz).time() != time(0):
            raise ValueError(
                f"The interval {_iso(start)}/{_iso(end)} is not aligned to P1D boundaries: "
                f"start and end must be local midnights in timeZone {time_zone}"
            )
        day = local.date()
        edges = [start]
        while edges[-1] < end:
            day += timedelta(days=1)
            edges.append(datetime.combine(day, time(0), tzinfo=tz).astimezone(UTC))
    else:
        raise ValueError(f"Unsupported granularity {granularity!r}; use one of {', '.join(GRANULARITIES)}")
    for edge in (edges[0], edges[-1]):
        if int(edge.timestamp()) % BASE_S or edge.microsecond:
            raise ValueError(f"Interval boundary {_iso(edge)} is not on a 15-minute boundary")
    return edges


def _iso(when: datetime) -> str:
    return when.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.") + f"{when.microsecond // 1000:03d}Z"


def iso_ms(when: datetime) -> str:
    """UTC instant as Genesys prints it: 2026-03-03T09:00:00.000Z."""
    return _iso(when)


@dataclass
class Figures:
    """Aggregated figures: arrays of shape (len(groups), len(edges) - 1)."""

    groups: list[dict[str, str]]
    edges: list[datetime]
    f: dict[str, np.ndarray]
    target: np.ndarray  # float; NaN where there is no single target (no SL data, or mixed targets)

    @property
    def offered(self) -> np.ndarray:
        return self.f["answered_n"] + self.f["abandon_n"] + self.f["flow_n"]

    @property
    def sl_numerator(self) -> np.ndarray:
        return self.f["answered_n"] - self.f["over_n"]

    @property
    def sl_denominator(self) -> np.ndarray:
        return self.f["answered_n"] + self.f["abandon_n"]


def group_key(pair: tuple[SimQueue, str], group_by: tuple[str, ...]) -> tuple[str, ...]:
    """The values of `group_by` for a (queue, media) pair: pairs with equal keys make one result group."""
    queue, media = pair
    return tuple({"queueId": queue.id, "mediaType": media}[d] for d in group_by)


def order_pairs(pairs: list[tuple[SimQueue, str]], group_by: tuple[str, ...]) -> list[tuple[SimQueue, str]]:
    """Pairs in the order their groups are reported (by group key), each group's pairs adjacent."""
    return sorted(pairs, key=lambda p: (*group_key(p, group_by), p[0].id, p[1]))


def figures(
    org: SimulatedOrg,
    seed: int,
    site_timezone: str,
    late_window_hours: float,
    pairs: list[tuple[SimQueue, str]],
    edges: list[datetime],
    group_by: tuple[str, ...] = ("queueId", "mediaType"),
    as_of: datetime | None = None,
) -> Figures:
    """Sum base buckets of (queue, media) `pairs` into the buckets `edges` and the groups of `group_by`."""
    b0 = int(edges[0].timestamp()) // BASE_S
    nb = (int(edges[-1].timestamp()) - int(edges[0].timestamp())) // BASE_S
    cuts = np.array([(int(e.timestamp()) // BASE_S) - b0 for e in edges[:-1]], dtype=np.int64)
    n_out = len(edges) - 1
    keyed = order_pairs(pairs, group_by)
    if not keyed:
        empty = {k: np.zeros((0, n_out), dtype=np.int64) for k in _FIELDS}
        return Figures([], edges, empty, np.zeros((0, n_out)))
    # Targets: the one in force at each output bucket's start, per source pair.
    starts = np.array([e.timestamp() for e in edges[:-1]])
    tgt = np.repeat(np.array([q.media[m][0] for q, m in keyed])[:, None], n_out, axis=1)
    for g, (q, m) in enumerate(keyed):
        for ch in sorted(q.target_changes, key=lambda c: c.effective_at):  # few queues have any
            if ch.media_type == m:
                tgt[g, starts >= ch.effective_at.timestamp()] = ch.target_ratio

    # Generate and sum a slice of output buckets at a time, so memory stays at the output size.
    agg = {k: np.empty((len(keyed), n_out), dtype=np.int64) for k in _BASE_FIELDS}
    params = _GroupParams(seed, keyed)
    bounds = np.append(cuts, nb)
    per_chunk = max(1, CHUNK_CELLS // len(keyed))
    k0 = 0
    while k0 < n_out:
        k1 = int(np.searchsorted(bounds, bounds[k0] + per_chunk, side="right")) - 1
        k1 = min(max(k1, k0 + 1), n_out)
        lo, hi = int(bounds[k0]), int(bounds[k1])
        part = _bucket_sums(
            params, site_timezone, late_window_hours, b0 + lo, hi - lo, cuts[k0:k1] - lo, as_of
        )
        for k, v in part.items():
            agg[k][:, k0:k1] = v
        k0 = k1
    group_keys = [group_key(pair, group_by) for pair in keyed]
    firsts = [i for i, k in enumerate(group_keys) if i == 0 or k != group_keys[i - 1]]
    # Abandons (short + long) and waits (answered + abandoned + flowed out) combine exactly after summing.
    for name, parts in (("abandon", ("short", "long")), ("wait", ("answered", "abandon", "flow"))):
        combined = _combine(*(tuple(agg[f"{p}_{k}"] for k in _STATS_KEYS) for p in parts))
        agg.update({f"{name}_{k}": v for k, v in zip(_STATS_KEYS, combined, strict=True)})
    has_sl = (agg["answered_n"] + agg["abandon_n"]) > 0
    tgt = np.where(has_sl, tgt, np.nan)
    if len(firsts) != len(keyed):
        idx = np.array(firsts)
        agg = {k: _OPS[_KIND[k]].reduceat(v, idx, axis=0) for k, v in agg.items()}
        tmin = np.fmin.reduceat(tgt, idx, axis=0)
        tmax = np.fmax.reduceat(tgt, idx, axis=0)
        tgt = np.where(tmin == tmax, tmin, np.nan)
    groups = [dict(zip(group_by, group_keys[i], strict=True)) for i in firsts]
    return Figures(groups, edges, agg, tgt)


_STATS_KEYS = ("n", "sum", "min", "max")
_BASE_FIELDS = ["over_n"] + [
    f"{a}_{b}" for a in ("answered", "long", "short", "flow", "handle") for b in _STATS_KEYS
]
_FIELDS = _BASE_FIELDS + [f"{a}_{b}" for a in ("abandon", "wait") for b in _STATS_KEYS]
_KIND = {k: ("min" if k.endswith("_min") else "max" if k.endswith("_max") else "sum") for k in _FIELDS}
_OPS = {"sum": np.add, "min": np.minimum, "max": np.maximum}
_IDENTITY = {"sum": 0, "min": _NO_MIN, "max": -1}


def select_pairs(org: SimulatedOrg, queue_ids=None, media_types=None) -> list[tuple[SimQueue, str]]:
    """All (queue, media type) pairs of the org, deleted queues included, optionally restricted."""
    qset = set(queue_ids) if queue_ids is not None else None
    mset = set(media_types) if media_types is not None else None
    return [
        (q, m)
        for q in org.queues
        for m in q.media
        if (qset is None or q.id in qset) and (mset is None or m in mset)
    ]


GROUND_TRUTH_KEYS = (
    "queue_id", "media_type", "interval_start", "interval_end", "offered_count", "answered_count",
    "answered_ms_sum", "abandoned_count", "abandoned_ms_sum", "short_abandoned_count", "flow_out_count",
    "handled_count", "handle_ms_sum", "wait_count", "wait_ms_sum", "over_sla_count", "sl_numerator",
    "sl_denominator", "sl_target_ratio",
)  # fmt: skip


def figures_to_rows(fig: Figures) -> list[dict]:
    """One dict per non-empty group x bucket, None where the API omits the metric."""
    f = fig.f
    offered = fig.offered
    num = fig.sl_numerator
    den = fig.sl_denominator
    rows: list[dict] = []
    for g, group in enumerate(fig.groups):
        for b in np.flatnonzero(offered[g] > 0).tolist():

            def pos(value: int) -> int | None:
                return int(value) if value > 0 else None

            has_sl = den[g, b] > 0
            target = fig.target[g, b]
            rows.append(
                {
                    "queue_id": group.get("queueId"),
                    "media_type": group.get("mediaType"),
                    "interval_start": fig.edges[b],
                    "interval_end": fig.edges[b + 1],
                    "offered_count": int(offered[g, b]),
                    "answered_count": pos(f["answered_n"][g, b]),
                    "answered_ms_sum": int(f["answered_sum"][g, b]) if f["answered_n"][g, b] else None,
                    "abandoned_count": pos(f["abandon_n"][g, b]),
                    "abandoned_ms_sum": int(f["abandon_sum"][g, b]) if f["abandon_n"][g, b] else None,
                    "short_abandoned_count": pos(f["short_n"][g, b]),
                    "flow_out_count": pos(f["flow_n"][g, b]),
                    "handled_count": pos(f["handle_n"][g, b]),
                    "handle_ms_sum": int(f["handle_sum"][g, b]) if f["handle_n"][g, b] else None,
                    "wait_count": pos(f["wait_n"][g, b]),
                    "wait_ms_sum": int(f["wait_sum"][g, b]) if f["wait_n"][g, b] else None,
                    "over_sla_count": pos(f["over_n"][g, b]),
                    "sl_numerator": int(num[g, b]) if has_sl else None,
                    "sl_denominator": int(den[g, b]) if has_sl else None,
                    "sl_target_ratio": float(target) if has_sl and not np.isnan(target) else None,
                }
            )
    return rows
