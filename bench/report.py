"""Turn measurements into the Markdown tables, the target checks and the chart.

Each figure is the median over repetitions, with the range (min–max) beside it. Ratios are
medians over medians against rawS3's figure in the same run; "% of ceiling" compares with the
minimal presigned raw-socket client on the same server.
"""

from __future__ import annotations

import statistics
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bench.clients import CEILING, SKIPPED
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
    if s is None or base is None or base.median == 0:
        return "–"
    return f"{s.median / base.median:.2f}×"


def _share(s: Stat | None, ceiling: Stat | None) -> str:
    if s is None or ceiling is None or ceiling.median == 0:
        return "–"
    return f"{100 * s.median / ceiling.median:.0f} %"


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
    ceiling = stat(m, "large", CEILING)
    base, base_cpu = stat(m, "large", RAWS3), stat(m, "cpu", RAWS3)
    rows = []
    for settings, figure, cpu_workload in (
        ("matched", "large", "large-matched"),
        ("defaults", "large-defaults", "large-defaults"),
    ):
        for client in m.clients:
            s = stat(m, figure, client)
            if s is None:
                continue
            cpu = Stat.of(m.values(cpu_workload, client, cpu_per_gib))
            rows.append([
                f"**{client}**" if client == RAWS3 else client, settings, _cell(s), _range(s),
                _ratio(s, base), _share(s, ceiling), _cell(cpu), _ratio(cpu, base_cpu),
            ])
    part = m.transfer.part_size // MiB
    return [
        f"### 1. Large upload from memory: {m.sizes.large // MiB} MiB, multipart",
        "",
        f"Matched: {part} MiB parts, {m.transfer.concurrency} in flight, for every client. "
        "Defaults: each library's own large-upload call with no options. "
        "Workload 4 is the CPU column of the matched rows.",
        "",
        *_table(
            ["client", "settings", "MiB/s", "range", "vs rawS3", "% of ceiling",
             "CPU s/GiB", "CPU vs rawS3"],
            rows,
        ),
        *_notes(m, ("large-matched", "large-defaults")),
    ]


def stream_section(m: Measurements) -> list[str]:
    base, base_rss = stat(m, "stream", RAWS3), stat(m, "rss", RAWS3)
    rows = []
    for client in m.clients:
        s = stat(m, "stream", client)
        if s is None:
            continue
        rss = stat(m, "rss", client)
        ready = Stat.of(m.values("stream", client, ready_mb))
        rows.append([
            f"**{client}**" if client == RAWS3 else client, _cell(s), _range(s), _ratio(s, base),
            _cell(rss), _range(rss), _ratio(rss, base_rss), _cell(ready),
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
    put_ceiling, get_ceiling = stat(m, "put", CEILING), stat(m, "get", CEILING)
    base = {f: stat(m, f, RAWS3) for f in ("put", "get", "put-cpu", "get-cpu")}
    rows = []
    for client in m.clients:
        put = stat(m, "put", client)
        if put is None:
            continue
        get, put_cpu, get_cpu = (stat(m, f, client) for f in ("get", "put-cpu", "get-cpu"))
        rows.append([
            f"**{client}**" if client == RAWS3 else client,
            _cell(put), _range(put), _ratio(put, base["put"]), _share(put, put_ceiling),
            _cell(put_cpu), _ratio(put_cpu, base["put-cpu"]), _cell(stat(m, "put-server", client)),
            _cell(get), _ratio(get, base["get"]), _share(get, get_ceiling),
            _cell(get_cpu), _ratio(get_cpu, base["get-cpu"]),
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


def _check(text: str, ours: Stat | None, other: Stat | None,
           ok: Callable[[float, float], bool], show: Callable[[float, float], str]) -> Target:
    if ours is None or other is None:
        return Target(text, "not measured", None)
    return Target(text, show(ours.median, other.median), ok(ours.median, other.median))


def targets(m: Measurements) -> list[Target]:
    """The issue's targets, each checked against this run's medians."""
    best_peer = max(
        (s for c in m.clients if c not in (RAWS3, CEILING) and (s := stat(m, "large", c))),
        key=lambda s: s.median, default=None,
    )
    bound = 60 * MB + (m.transfer.concurrency + 1) * m.transfer.part_size
    bound_stat = Stat(bound / MB, bound / MB, bound / MB)
    agg, mine = "aiobotocore", RAWS3
    return [
        _check("small PUT: client CPU/request ≤ 1/3 of aiobotocore's",
               stat(m, "put-cpu", mine), stat(m, "put-cpu", agg),
               lambda a, b: a <= b / 3, lambda a, b: f"{a:.3f} vs {b:.3f} ms ({a / b:.2f}×)"),
        _check("small PUT: ops/s ≥ 1.5 × aiobotocore",
               stat(m, "put", mine), stat(m, "put", agg),
               lambda a, b: a >= 1.5 * b, lambda a, b: f"{a:,.0f} vs {b:,.0f}/s ({a / b:.2f}×)"),
        _check("small PUT: ops/s ≥ 75 % of the ceiling",
               stat(m, "put", mine), stat(m, "put", CEILING),
               lambda a, b: a >= 0.75 * b, lambda a, b: f"{a:,.0f} of {b:,.0f}/s ({a / b:.0%})"),
        _check("large upload ≥ 1.1 × the best peer (matched)",
               stat(m, "large", mine), best_peer,
               lambda a, b: a >= 1.1 * b, lambda a, b: f"{a:.0f} vs {b:.0f} MiB/s ({a / b:.2f}×)"),
        _check("large upload ≥ 85 % of the ceiling",
               stat(m, "large", mine), stat(m, "large", CEILING),
               lambda a, b: a >= 0.85 * b, lambda a, b: f"{a:.0f} of {b:.0f} MiB/s ({a / b:.0%})"),
        _check("streaming peak RSS ≤ 1/4 of aioboto3's",
               stat(m, "rss", mine), stat(m, "rss", "aioboto3"),
               lambda a, b: a <= b / 4, lambda a, b: f"{a:.0f} vs {b:.0f} MB ({a / b:.2f}×)"),
        _check("streaming peak RSS ≤ 60 MB + (concurrency + 1) × part size",
               stat(m, "rss", mine), bound_stat,
               lambda a, b: a <= b, lambda a, b: f"{a:.0f} MB, bound {b:.0f} MB"),
        _check("CPU s/GiB ≤ 0.7 × aiobotocore's (workload 1, matched)",
               stat(m, "cpu", mine), stat(m, "cpu", agg),
               lambda a, b: a <= 0.7 * b, lambda a, b: f"{a:.2f} vs {b:.2f} s/GiB ({a / b:.2f}×)"),
        _check("import time ≤ 1/5 of aiobotocore's",
               footprint_stat(m, mine, "import"), footprint_stat(m, agg, "import"),
               lambda a, b: a <= b / 5, lambda a, b: f"{a:.0f} vs {b:.0f} ms ({a / b:.2f}×)"),
        _check("dependency closure ≤ 1/10 of aiobotocore's",
               footprint_stat(m, mine, "closure"), footprint_stat(m, agg, "closure"),
               lambda a, b: a <= b / 10, lambda a, b: f"{a:.1f} vs {b:.1f} MB ({a / b:.2f}×)"),
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
        "order, with its range (min–max). \"vs rawS3\" divides by rawS3's median; "
        "\"% of ceiling\" compares with a minimal presigned raw-socket client on the same "
        "server.",
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
