"""Turn measurements into the Markdown tables, the target checks and the chart.

Each figure is the median over repetitions, with the range (min–max) beside it. Ratios are
paired: each repetition's figure is divided by rawS3's (or the ceiling's) from the same
repetition, and the median of those quotients is shown. On a shared 2-core machine the server's
speed drifts by up to 2x over tens of seconds; runs of one repetition are seconds apart, so
pairing cancels the drift that a ratio of medians would keep.
"""

from __future__ import annotations

import statistics
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bench.clients import CEILING, PEERS, SKIPPED
from bench.common import MB, GiB, MiB, Sizes, Transfer
from bench.footprint import Footprint

Result = dict[str, Any]
RAWS3 = "rawS3"


@dataclass
class Measurements:
    """Everything one run measured, keyed by workload then client."""

    clients: list[str]
    sizes: Sizes
    transfer: Transfer
    repetitions: int
    runs: dict[str, dict[str, list[Result]]] = field(default_factory=dict)
    errors: dict[str, dict[str, str]] = field(default_factory=dict)
    known: dict[str, dict[str, str]] = field(default_factory=dict)
    footprints: dict[str, Footprint] = field(default_factory=dict)
    machine: dict[str, str] = field(default_factory=dict)

    def add(self, workload: str, client: str, result: Result) -> None:
        self.runs.setdefault(workload, {}).setdefault(client, []).append(result)

    def fail(self, workload: str, client: str, message: str, *, known: bool = False) -> None:
        (self.known if known else self.errors).setdefault(workload, {})[client] = message

    def values(self, workload: str, client: str, pick: Callable[[Result], float]) -> list[float]:
        return [pick(r) for r in self.runs.get(workload, {}).get(client, [])]

    def by_repetition(
        self, workload: str, client: str, pick: Callable[[Result], float]
    ) -> dict[int, float]:
        runs = self.runs.get(workload, {}).get(client, [])
        return {int(r.get("repetition", i)): pick(r) for i, r in enumerate(runs)}


@dataclass(frozen=True, slots=True)
class Stat:
    """Median and range of one figure."""

    median: float
    low: float
    high: float

    @classmethod
    def of(cls, values: Sequence[float]) -> Stat | None:
        if not values:
            return None
        return cls(statistics.median(values), min(values), max(values))


# -- figures ------------------------------------------------------------------------------------


def mib_per_s(result: Result) -> float:
    return float(result["bytes"]) / MiB / float(result["seconds"])


def cpu_per_gib(result: Result) -> float:
    return float(result["cpu"]) / (float(result["bytes"]) / GiB)


def server_cpu_per_gib(result: Result) -> float:
    return float(result["server_cpu"]) / (float(result["bytes"]) / GiB)


def ops_per_s(phase: str) -> Callable[[Result], float]:
    return lambda r: float(r["count"]) / float(r[phase]["seconds"])


def cpu_ms_per_op(phase: str) -> Callable[[Result], float]:
    return lambda r: 1000 * float(r[phase]["cpu"]) / float(r["count"])


def server_ms_per_op(phase: str) -> Callable[[Result], float]:
    return lambda r: 1000 * float(r[phase]["server_cpu"]) / float(r["count"])


def peak_mb(result: Result) -> float:
    return float(result["peak_rss"]) / MB


def ready_mb(result: Result) -> float:
    return float(result["rss_ready"]) / MB


FIGURES: dict[str, tuple[str, Callable[[Result], float]]] = {
    "large": ("large-matched", mib_per_s),
    "large-defaults": ("large-defaults", mib_per_s),
    "cpu": ("large-matched", cpu_per_gib),
    "cpu-defaults": ("large-defaults", cpu_per_gib),
    "server-cpu": ("large-matched", server_cpu_per_gib),
    "server-cpu-defaults": ("large-defaults", server_cpu_per_gib),
    "stream": ("stream", mib_per_s),
    "rss": ("stream", peak_mb),
    "put": ("small", ops_per_s("put")),
    "get": ("small", ops_per_s("get")),
    "put-cpu": ("small", cpu_ms_per_op("put")),
    "get-cpu": ("small", cpu_ms_per_op("get")),
    "put-server": ("small", server_ms_per_op("put")),
}
"""Figure name -> (workload, how to compute it from one run)."""


def stat(m: Measurements, figure: str, client: str) -> Stat | None:
    workload, pick = FIGURES[figure]
    return Stat.of(m.values(workload, client, pick))


def paired(m: Measurements, figure: str, client: str, base: str) -> Stat | None:
    """``client``'s figure over ``base``'s, repetition by repetition: median and range."""
    workload, pick = FIGURES[figure]
    ours, theirs = (m.by_repetition(workload, c, pick) for c in (client, base))
    return Stat.of([v / theirs[rep] for rep, v in ours.items() if theirs.get(rep)])


def footprint_stat(m: Measurements, client: str, which: str) -> Stat | None:
    fp = m.footprints.get(client)
    if fp is None:
        return None
    if which == "closure":
        return Stat(fp.closure_bytes / MB, fp.closure_bytes / MB, fp.closure_bytes / MB)
    seconds = fp.import_seconds if which == "import" else fp.client_seconds
    return Stat.of([1000 * s for s in seconds])


# -- Markdown -----------------------------------------------------------------------------------


def _num(value: float) -> str:
    if value >= 100:
        return f"{value:,.0f}"
    if value >= 10:
        return f"{value:.1f}"
    return f"{value:.2f}"


def _cell(s: Stat | None) -> str:
    return "–" if s is None else _num(s.median)


def _range(s: Stat | None) -> str:
    if s is None:
        return "–"
    return f"{_num(s.low)}–{_num(s.high)}"


def _ratio(s: Stat | None, base: Stat | None) -> str:
    """A ratio of medians, for figures measured once per client (cold start)."""
    if s is None or base is None or base.median == 0:
        return "–"
    return f"{s.median / base.median:.2f}×"


def _vs(m: Measurements, figure: str, client: str, base: str = RAWS3) -> str:
    q = paired(m, figure, client, base)
    return "–" if q is None else f"{q.median:.2f}×"


def _share(m: Measurements, figure: str, client: str) -> str:
    q = paired(m, figure, client, CEILING)
    return "–" if q is None else f"{100 * q.median:.0f} %"


def _why_missing(m: Measurements, workload: str, client: str) -> str | None:
    for source in (m.errors, m.known):
        message = source.get(workload, {}).get(client)
        if message:
            return message
    reason = SKIPPED.get((client, workload))
    return f"not run: {reason}" if reason else None


def _table(header: Sequence[str], rows: Sequence[Sequence[str]]) -> list[str]:
    lines = ["| " + " | ".join(header) + " |", "|" + "|".join("---" for _ in header) + "|"]
    lines += ["| " + " | ".join(row) + " |" for row in rows]
    return lines


def _notes(m: Measurements, workloads: Sequence[str]) -> list[str]:
    notes = []
    for workload in workloads:
        for client in m.clients:
            if m.runs.get(workload, {}).get(client):
                continue
            why = _why_missing(m, workload, client)
            if why:
                notes.append(f"- {client} ({workload}): {why}")
    return ["", *notes] if notes else []


def large_section(m: Measurements) -> list[str]:
    rows = []
    for settings, figure, cpu, server in (
        ("matched", "large", "cpu", "server-cpu"),
        ("defaults", "large-defaults", "cpu-defaults", "server-cpu-defaults"),
    ):
        for client in m.clients:
            s = stat(m, figure, client)
            if s is None:
                continue
            rows.append([
                f"**{client}**" if client == RAWS3 else client, settings, _cell(s), _range(s),
                _vs(m, figure, client), _share(m, "large", client) if settings == "matched"
                else "–", _cell(stat(m, cpu, client)), _vs(m, cpu, client),
                _cell(stat(m, server, client)),
            ])
    part = m.transfer.part_size // MiB
    return [
        f"### 1. Large upload from memory: {m.sizes.large // MiB} MiB, multipart",
        "",
        f"Matched: {part} MiB parts, {m.transfer.concurrency} in flight, for every client. "
        "Defaults: each library's own large-upload call with no options. "
        "Workload 4 is the CPU column of the matched rows. Server CPU is the gateway's, OSD's "
        "and monitor's CPU time over the upload: a signed payload's SHA-256 is verified there "
        "too, which the ceiling's unsigned requests spare the server.",
        "",
        *_table(
            ["client", "settings", "MiB/s", "range", "vs rawS3", "% of ceiling",
             "CPU s/GiB", "CPU vs rawS3", "server CPU s/GiB"],
            rows,
        ),
        *_notes(m, ("large-matched", "large-defaults")),
    ]


def stream_section(m: Measurements) -> list[str]:
    rows = []
    for client in m.clients:
        s = stat(m, "stream", client)
        if s is None:
            continue
        rss = stat(m, "rss", client)
        ready = Stat.of(m.values("stream", client, ready_mb))
        rows.append([
            f"**{client}**" if client == RAWS3 else client, _cell(s), _range(s),
            _vs(m, "stream", client), _cell(rss), _range(rss), _vs(m, "rss", client),
            _cell(ready),
        ])
    return [
        f"### 2. Streaming {m.sizes.stream // MiB} MiB of unknown length from a local HTTP source",
        "",
        "Chunked source, no Content-Length; each client in a fresh process; peak RSS is the "
        "process's high-water mark (`VmHWM`). Same part size and concurrency as workload 1.",
        "",
        *_table(
            ["client", "MiB/s", "range", "vs rawS3", "peak RSS MB", "range", "vs rawS3",
             "RSS before MB"],
            rows,
        ),
        *_notes(m, ("stream",)),
    ]


def small_section(m: Measurements) -> list[str]:
    rows = []
    for client in m.clients:
        put = stat(m, "put", client)
        if put is None:
            continue
        get, put_cpu, get_cpu = (stat(m, f, client) for f in ("get", "put-cpu", "get-cpu"))
        rows.append([
            f"**{client}**" if client == RAWS3 else client,
            _cell(put), _range(put), _vs(m, "put", client), _share(m, "put", client),
            _cell(put_cpu), _vs(m, "put-cpu", client), _cell(stat(m, "put-server", client)),
            _cell(get), _vs(m, "get", client), _share(m, "get", client),
            _cell(get_cpu), _vs(m, "get-cpu", client),
        ])
    return [
        f"### 3. Small objects: {m.sizes.small_count:,} PUTs of {m.sizes.small_size} B, "
        f"then {m.sizes.small_count:,} GETs, 32 in flight",
        "",
        "Client CPU per request = the process's CPU time over the phase / requests. Server CPU "
        "= the gateway's, OSD's and monitor's CPU time over the phase / requests.",
        "",
        *_table(
            ["client", "PUT/s", "range", "vs rawS3", "% of ceiling", "client CPU ms/PUT",
             "vs rawS3", "server CPU ms/PUT", "GET/s", "vs rawS3", "% of ceiling",
             "client CPU ms/GET", "vs rawS3"],
            rows,
        ),
        *_notes(m, ("small",)),
    ]


def footprint_section(m: Measurements) -> list[str]:
    base = {w: footprint_stat(m, RAWS3, w) for w in ("import", "client", "closure")}
    rows = []
    for client in m.clients:
        fp = m.footprints.get(client)
        if fp is None:
            continue
        imp, made, size = (footprint_stat(m, client, w) for w in ("import", "client", "closure"))
        rows.append([
            f"**{client}**" if client == RAWS3 else client, _cell(imp), _range(imp),
            _ratio(imp, base["import"]), _cell(made), _ratio(made, base["client"]),
            _cell(size), _ratio(size, base["closure"]), str(len(fp.closure)),
        ])
    return [
        "### 5. Cold start: import time and installed dependency closure",
        "",
        "Import: wall time of `python -c \"import …\"` minus `python -c pass`. "
        "+ client: also making the client object. Closure: the installed files of the "
        "distribution and everything it requires, bytecode caches excluded.",
        "",
        *_table(
            ["client", "import ms", "range", "vs rawS3", "import + client ms", "vs rawS3",
             "closure MB", "vs rawS3", "distributions"],
            rows,
        ),
    ]


@dataclass(frozen=True, slots=True)
class Target:
    text: str
    figure: str
    met: bool | None


def _paired_target(
    m: Measurements, text: str, figure: str, other: str, limit: float, higher: bool,
    show: Callable[[Stat, Stat, Stat], str],
) -> Target:
    """A target on rawS3's figure over ``other``'s, paired by repetition."""
    ours, theirs = stat(m, figure, RAWS3), stat(m, figure, other)
    q = paired(m, figure, RAWS3, other)
    if ours is None or theirs is None or q is None:
        return Target(text, "not measured", None)
    met = q.median >= limit if higher else q.median <= limit
    return Target(text, show(ours, theirs, q), met)


def _medians_target(
    text: str, ours: Stat | None, other: Stat | None, ok: Callable[[float, float], bool],
    show: Callable[[float, float], str],
) -> Target:
    if ours is None or other is None:
        return Target(text, "not measured", None)
    return Target(text, show(ours.median, other.median), ok(ours.median, other.median))


def _best_peer(m: Measurements) -> str:
    medians = {c: s.median for c in m.clients if c in PEERS and (s := stat(m, "large", c))}
    return max(medians, key=medians.__getitem__, default="")


def targets(m: Measurements) -> list[Target]:
    """The issue's targets, each checked against this run: ratios paired by repetition."""
    bound = (60 * MB + (m.transfer.concurrency + 1) * m.transfer.part_size) / MB
    agg, peer = "aiobotocore", _best_peer(m)

    def vs(unit: str, digits: int = 0) -> Callable[[Stat, Stat, Stat], str]:
        return lambda a, b, q: (
            f"{a.median:,.{digits}f} vs {b.median:,.{digits}f} {unit}; paired {q.median:.2f}× "
            f"({q.low:.2f}–{q.high:.2f})"
        )

    def share(unit: str) -> Callable[[Stat, Stat, Stat], str]:
        return lambda a, b, q: (
            f"{a.median:,.0f} of {b.median:,.0f} {unit}; paired {q.median:.0%} "
            f"({q.low:.0%}–{q.high:.0%})"
        )

    return [
        _paired_target(m, "small PUT: client CPU/request ≤ 1/3 of aiobotocore's", "put-cpu",
                       agg, 1 / 3, False, vs("ms", 3)),
        _paired_target(m, "small PUT: ops/s ≥ 1.5 × aiobotocore", "put", agg, 1.5, True,
                       vs("/s")),
        _paired_target(m, "small PUT: ops/s ≥ 75 % of the ceiling", "put", CEILING, 0.75, True,
                       share("/s")),
        _paired_target(m, f"large upload ≥ 1.1 × the best peer (matched: {peer or '–'})", "large",
                       peer, 1.1, True, vs("MiB/s")),
        _paired_target(m, "large upload ≥ 85 % of the ceiling", "large", CEILING, 0.85, True,
                       share("MiB/s")),
        _paired_target(m, "streaming peak RSS ≤ 1/4 of aioboto3's", "rss", "aioboto3", 0.25,
                       False, vs("MB")),
        _medians_target("streaming peak RSS ≤ 60 MB + (concurrency + 1) × part size",
                        stat(m, "rss", RAWS3), Stat(bound, bound, bound),
                        lambda a, b: a <= b, lambda a, b: f"{a:.0f} MB, bound {b:.0f} MB"),
        _paired_target(m, "CPU s/GiB ≤ 0.7 × aiobotocore's (workload 1, matched)", "cpu", agg,
                       0.7, False, vs("s/GiB", 2)),
        _medians_target("import time ≤ 1/5 of aiobotocore's",
                        footprint_stat(m, RAWS3, "import"), footprint_stat(m, agg, "import"),
                        lambda a, b: a <= b / 5,
                        lambda a, b: f"{a:.0f} vs {b:.0f} ms ({a / b:.2f}×)"),
        _medians_target("dependency closure ≤ 1/10 of aiobotocore's",
                        footprint_stat(m, RAWS3, "closure"), footprint_stat(m, agg, "closure"),
                        lambda a, b: a <= b / 10,
                        lambda a, b: f"{a:.1f} vs {b:.1f} MB ({a / b:.2f}×)"),
    ]


def targets_section(m: Measurements) -> list[str]:
    rows = [
        [t.text, t.figure, "–" if t.met is None else ("met" if t.met else "**not met**")]
        for t in targets(m)
    ]
    return ["### Targets", "", *_table(["target", "figure (medians)", "result"], rows)]


def markdown(m: Measurements) -> str:
    machine = [f"- {name}: {value}" for name, value in m.machine.items()]
    lines = [
        "# rawS3 benchmark results",
        "",
        *machine,
        "",
        f"Each figure is the median of {m.repetitions} repetition(s) in alternating client "
        "order, with its range (min–max). \"vs rawS3\" and \"% of ceiling\" are paired: "
        "each repetition's figure over rawS3's (or over the ceiling's: a minimal presigned "
        "raw-socket client) from the same repetition, then the median of those quotients, so "
        "that the server's drift between repetitions cancels. Cold-start ratios are of medians.",
        "",
        *targets_section(m),
        "",
        *large_section(m),
        "",
        *stream_section(m),
        "",
        *small_section(m),
        "",
        *footprint_section(m),
        "",
    ]
    return "\n".join(lines)


def write_markdown(m: Measurements, path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(markdown(m))
