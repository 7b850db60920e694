"""Turn measurements into the Markdown tables, the target checks and the JSON summary.

Each figure is the median over repetitions, with the range (min–max) beside it. Ratios are
paired by repetition, with a seeded bootstrap 95 % interval (``bench.stats``). The JSON summary
(``summary``) holds every figure as the Markdown prints it, so that a text quoting the report
can be checked against the committed ``latest.json``.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bench.clients import CEILING, PEERS, SIGNED_CEILING, skip_reason
from bench.common import MB, GiB, MiB, Sizes, Transfer
from bench.footprint import Footprint
from bench.stats import Ratio, Stat, ratio

Result = dict[str, Any]
RAWS3 = "rawS3"


@dataclass
class Measurements:
    """Everything one profile (network and scheme) measured, keyed by workload then client."""

    clients: list[str]
    sizes: Sizes
    transfer: Transfer
    repetitions: int
    name: str = "loopback"
    network: str = "loopback"
    scheme: str = "http"
    runs: dict[str, dict[str, list[Result]]] = field(default_factory=dict)
    errors: dict[str, dict[str, str]] = field(default_factory=dict)
    known: dict[str, dict[str, str]] = field(default_factory=dict)
    settings: dict[str, dict[str, str]] = field(default_factory=dict)

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


@dataclass
class Results:
    """A whole run: the machine, every profile measured, cold start."""

    machine: dict[str, str]
    profiles: list[Measurements]
    footprints: dict[str, Footprint]


# -- figures ------------------------------------------------------------------------------------


def mib_per_s(result: Result) -> float:
    return float(result["bytes"]) / MiB / float(result["seconds"])


def cpu_per_gib(result: Result) -> float:
    return float(result["cpu"]) / (float(result["bytes"]) / GiB)


def server_cpu_per_gib(result: Result) -> float:
    return float(result["server_cpu"]) / (float(result["bytes"]) / GiB)


def relay_share(result: Result) -> float:
    """The relay's CPU over the run, as a share of one core."""
    return float(result.get("relay_cpu", 0.0)) / float(result["seconds"])


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


def _transfer_figures(workload: str, prefix: str) -> dict[str, tuple[str, Callable[..., float]]]:
    return {
        prefix: (workload, mib_per_s), f"{prefix}:cpu": (workload, cpu_per_gib),
        f"{prefix}:server-cpu": (workload, server_cpu_per_gib),
        f"{prefix}:rss": (workload, peak_mb), f"{prefix}:relay": (workload, relay_share),
    }


FIGURES: dict[str, tuple[str, Callable[[Result], float]]] = {
    **_transfer_figures("large-matched", "large"),
    **_transfer_figures("large-defaults", "large-defaults"),
    **_transfer_figures("file-matched", "file"),
    **_transfer_figures("file-defaults", "file-defaults"),
    **_transfer_figures("download-matched", "download"),
    **_transfer_figures("download-defaults", "download-defaults"),
    **_transfer_figures("stream", "stream"),
    **_transfer_figures("stream-odd", "stream-odd"),
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


def paired(m: Measurements, figure: str, client: str, base: str) -> Ratio | None:
    """``client``'s figure over ``base``'s, repetition by repetition, with its interval."""
    workload, pick = FIGURES[figure]
    ours, theirs = (m.by_repetition(workload, c, pick) for c in (client, base))
    quotients = [v / theirs[rep] for rep, v in sorted(ours.items()) if theirs.get(rep)]
    return ratio(quotients, f"{m.name}/{figure}/{client}/{base}")


def footprint_stat(results: Results, client: str, which: str) -> Stat | None:
    fp = results.footprints.get(client)
    if fp is None:
        return None
    if which == "closure":
        return Stat(fp.closure_bytes / MB, fp.closure_bytes / MB, fp.closure_bytes / MB)
    seconds = fp.import_seconds if which == "import" else fp.client_seconds
    return Stat.of([1000 * s for s in seconds])


# -- formatting ---------------------------------------------------------------------------------


def num(value: float) -> str:
    if value >= 100:
        return f"{value:,.0f}"
    if value >= 10:
        return f"{value:.1f}"
    return f"{value:.2f}"


def cell(s: Stat | None) -> str:
    return "–" if s is None else num(s.median)


def span(s: Stat | None) -> str:
    return "–" if s is None else f"{num(s.low)}–{num(s.high)}"


def times(q: Ratio | None) -> str:
    return "–" if q is None else f"{q.median:.2f}×"


def interval(q: Ratio | None) -> str:
    return "–" if q is None else f"{q.ci_low:.2f}–{q.ci_high:.2f}"


def percent(q: Ratio | None) -> str:
    return "–" if q is None else f"{100 * q.median:.0f} %"


def _name(client: str) -> str:
    return f"**{client}**" if client == RAWS3 else client


def _table(header: Sequence[str], rows: Sequence[Sequence[str]]) -> list[str]:
    lines = ["| " + " | ".join(header) + " |", "|" + "|".join("---" for _ in header) + "|"]
    lines += ["| " + " | ".join(row) + " |" for row in rows]
    return lines


def _repetitions(m: Measurements, workload: str) -> int:
    return len({int(r["repetition"]) for runs in m.runs.get(workload, {}).values() for r in runs})


def _notes(m: Measurements, workloads: Sequence[str]) -> list[str]:
    counts = [f"{w} {_repetitions(m, w)}" for w in workloads if m.runs.get(w)]
    notes = [f"- Repetitions: {', '.join(counts)}."] if counts else []
    for workload in workloads:
        for client in m.clients:
            checks = {r.get("checked", "") for r in m.runs.get(workload, {}).get(client, [])}
            partial = sorted(c for c in checks if "form only" in c)
            if partial:
                notes.append(f"- {client} ({workload}): checked by {partial[0]}")
    for workload in workloads:
        for client in m.clients:
            if m.runs.get(workload, {}).get(client):
                continue
            why = m.errors.get(workload, {}).get(client) or m.known.get(workload, {}).get(client)
            reason = skip_reason(client, workload, m.scheme)
            if why or reason:
                notes.append(f"- {client} ({workload}): {why or 'not run: ' + str(reason)}")
    return ["", *notes] if notes else []


def _measured(m: Measurements, workload: str) -> bool:
    return any(m.runs.get(workload, {}).values()) or bool(m.errors.get(workload))


# -- sections ----------------------------------------------------------------------------------


def transfer_section(
    m: Measurements, title: str, text: str, rows_of: Sequence[tuple[str, str]], upload: bool
) -> list[str]:
    """One table of transfers: ``rows_of`` is (settings label, figure prefix) per row group."""
    rows = []
    for label, figure in rows_of:
        for client in m.clients:
            s = stat(m, figure, client)
            if s is None:
                continue
            ceilings = [percent(paired(m, figure, client, c)) if label == "matched" else "–"
                        for c in (CEILING, SIGNED_CEILING)] if m.scheme == "http" else []
            vs = paired(m, figure, client, RAWS3)
            rows.append([
                _name(client), label, cell(s), span(s), times(vs), interval(vs), *ceilings,
                cell(stat(m, f"{figure}:cpu", client)),
                times(paired(m, f"{figure}:cpu", client, RAWS3)),
                cell(stat(m, f"{figure}:server-cpu", client)),
                cell(stat(m, f"{figure}:rss", client)),
            ])
    if not rows:
        return []
    header = ["client", "settings", "MiB/s", "range", "vs rawS3", "95 % interval"]
    if m.scheme == "http":
        header += ["% of ceiling", "% of signed ceiling"]
    header += ["CPU s/GiB", "CPU vs rawS3", "server CPU s/GiB", "peak RSS MB"]
    workloads = [FIGURES[f][0] for _, f in rows_of]
    relay = _relay_line(m, [f for _, f in rows_of])
    return [f"#### {title}", "", text, "", *_table(header, rows), *relay,
            *_notes(m, workloads), ""]


def _relay_line(m: Measurements, figures: Sequence[str]) -> list[str]:
    if m.network != "wan":
        return []
    shares = [v for f in figures for c in m.clients
              for v in m.values(FIGURES[f][0], c, FIGURES[f"{f}:relay"][1])]
    if not shares:
        return []
    return ["", f"Relay CPU over these runs: median {100 * Stat.of(shares).median:.0f} %, "  # type: ignore[union-attr]
            f"at most {100 * max(shares):.0f} % of one core (so the relay is not the limit)."]


def small_section(m: Measurements) -> list[str]:
    rows = []
    for client in m.clients:
        put = stat(m, "put", client)
        if put is None:
            continue
        vs = paired(m, "put", client, RAWS3)
        ceilings = [percent(paired(m, "put", client, c)) for c in (CEILING, SIGNED_CEILING)]
        rows.append([
            _name(client), cell(put), span(put), times(vs), interval(vs),
            *(ceilings if m.scheme == "http" else []),
            cell(stat(m, "put-cpu", client)), times(paired(m, "put-cpu", client, RAWS3)),
            interval(paired(m, "put-cpu", client, RAWS3)),
            cell(stat(m, "put-server", client)), cell(stat(m, "get", client)),
            times(paired(m, "get", client, RAWS3)), cell(stat(m, "get-cpu", client)),
        ])
    if not rows:
        return []
    header = ["client", "PUT/s", "range", "vs rawS3", "95 % interval"]
    if m.scheme == "http":
        header += ["% of ceiling", "% of signed ceiling"]
    header += ["client CPU ms/PUT", "vs rawS3", "95 % interval", "server CPU ms/PUT", "GET/s",
               "vs rawS3", "client CPU ms/GET"]
    return [
        f"#### Small objects: {m.sizes.small_count:,} PUTs of {m.sizes.small_size} B, then "
        f"{m.sizes.small_count:,} GETs, 32 in flight",
        "",
        "Client CPU per request = the process's CPU time over the phase / requests. Server CPU "
        "= the gateway's, OSD's and monitor's CPU time over the phase / requests.",
        "",
        *_table(header, rows), *_notes(m, ("small",)), "",
    ]


def profile_sections(m: Measurements) -> list[str]:
    part, conc = m.transfer.part_size // MiB, m.transfer.concurrency
    matched = (f"Matched: {part} MiB parts, {conc} in flight, for every client, botocore's "
               "checksums `when_required`, read-ahead bounded (see Settings). Defaults: each "
               "library's own call with no options.")
    s = m.sizes
    out: list[str] = []
    out += transfer_section(
        m, f"Large upload from memory: {s.large / MiB:g} MiB, multipart",
        f"{matched} Server CPU is the gateway's, OSD's and monitor's CPU time: a signed "
        "payload's SHA-256 is verified there too. Peak RSS includes the buffer being "
        "uploaded.",
        [("matched", "large"), ("defaults", "large-defaults")], True)
    out += transfer_section(
        m, f"Large upload from a local file: {s.large / MiB:g} MiB",
        f"{matched} Each library's own file call (rawS3: `upload_path` where this checkout has "
        "it); the file is written before the clock and read by the client.",
        [("matched", "file"), ("defaults", "file-defaults")], True)
    out += transfer_section(
        m, f"Large download into a file: {s.download / MiB:g} MiB",
        f"{matched} Each file's SHA-256 is checked after the clock stops.",
        [("matched", "download"), ("defaults", "download-defaults")], False)
    for figure, size in (("stream", s.stream), ("stream-odd", s.stream_odd)):
        out += transfer_section(
            m, f"Streaming {size:,} B ({size / MiB:.2f} MiB) of unknown length from a local "
            "HTTP source",
            "Chunked source, no Content-Length; peak RSS is the process's high-water mark "
            "(`VmHWM`). Matched settings."
            + (" Not a whole number of parts." if figure == "stream-odd" else ""),
            [("matched", figure)], True)
    out += small_section(m)
    return out


def footprint_section(results: Results) -> list[str]:
    clients = [c for c in results.profiles[0].clients if c in results.footprints] if (
        results.profiles) else list(results.footprints)
    if not clients:
        return []
    columns = ("import", "client", "closure")
    base = {w: footprint_stat(results, RAWS3, w) for w in columns}
    best = {}
    for w in columns:
        peers = {c: s.median for c in clients if c in PEERS
                 and (s := footprint_stat(results, c, w)) is not None}
        best[w] = min(peers, key=peers.__getitem__, default="")
    rows = []
    for client in clients:
        fp = results.footprints[client]
        figures = [footprint_stat(results, client, w) for w in columns]
        row = [_name(client)]
        for w, f in zip(columns, figures, strict=True):
            mark = " (best peer)" if client == best[w] else ""
            ratio_text = "–" if f is None or base[w] is None or not base[w].median else (  # type: ignore[union-attr]
                f"{f.median / base[w].median:.2f}×")  # type: ignore[union-attr]
            row += [cell(f) + mark, ratio_text]
        rows.append([*row, str(len(fp.closure))])
    return [
        "### Cold start: import, first request, installed dependency closure",
        "",
        "Import: wall time of `python -c \"import …\"` minus `python -c pass`. Import + first "
        "request: also making the client, sending one signed ListBuckets to the server and "
        "closing (whatever a library defers to its first request is inside). Closure: the "
        "installed files of the distribution and everything it requires, bytecode caches "
        "excluded. The best peer is chosen per column.",
        "",
        *_table(["client", "import ms", "vs rawS3", "import + first request ms", "vs rawS3",
                 "closure MB", "vs rawS3", "distributions"], rows),
        "",
    ]


def settings_section(m: Measurements) -> list[str]:
    rows = [[c, m.settings[c]["matched"], m.settings[c]["defaults"]]
            for c in m.clients if c in m.settings]
    return ["#### Settings of every adapter", "", *_table(["client", "matched", "defaults"], rows),
            ""]


def repetitions_text(m: Measurements) -> str:
    counts = sorted({_repetitions(m, w) for w in m.runs})
    if len(counts) <= 1:
        return f"{counts[0] if counts else m.repetitions} repetition(s)"
    return f"{counts[0]}–{counts[-1]} repetitions per workload (each table says how many)"


def balance_line(m: Measurements) -> str:
    """How evenly the order put each client in each position, workload by workload."""
    spread = []
    for workload, per_client in m.runs.items():
        positions = [int(r.get("position", -1)) for runs in per_client.values() for r in runs]
        n = max(positions, default=-1) + 1
        for client, runs in per_client.items():
            counts = [0] * n
            for r in runs:
                if 0 <= int(r.get("position", -1)) < n:
                    counts[int(r["position"])] += 1
            spread.append((max(counts, default=0) - min(counts, default=0), workload, client))
    if not spread:
        return ""
    worst = max(spread)
    text = ("Order: each repetition runs the clients of a workload in the order of one row of "
            "a Williams square (over as many repetitions as there are clients, each runs once "
            "in every position; with an even number of clients, also once after every other); "
            "a workload's repetitions are rounded up to a multiple of its number of clients. ")
    if worst[0] == 0:
        return text + "In this run every client ran equally often in every position."
    return text + (f"In this run that is not balanced: a client's count per position differs "
                   f"by up to {worst[0]} (e.g. {worst[2]}, {worst[1]}).")


def markdown(results: Results) -> str:
    from bench.targets import targets_section

    lines = ["# rawS3 benchmark results", ""]
    lines += [f"- {name}: {value}" for name, value in results.machine.items()]
    lines += [
        "",
        "Each figure is the median of the repetitions, with its range (min–max). \"vs rawS3\" "
        "and \"% of ceiling\" are paired: each repetition's figure over rawS3's (or the "
        "ceiling's) from the same repetition, then the median of those quotients, with a "
        "seeded bootstrap 95 % interval of that median. A target is met only when the whole "
        "interval clears it. Every upload was checked by its ETag and the SHA-256 of the "
        "object read back, every download by the SHA-256 of its file; every client made one "
        "unmeasured request before the clock started. Same host, 2 cores shared by client, "
        "server (and relay).",
        "",
    ]
    for m in results.profiles:
        net = ("simulated WAN: a relay adding 20 ms round trip and 10 MiB/s per connection "
               "and direction" if m.network == "wan" else "loopback")
        lines += [f"## Profile {m.name}: {m.scheme}, {net}; {repetitions_text(m)}", ""]
        if balance := balance_line(m):
            lines += [balance, ""]
        lines += targets_section(m)
        lines += profile_sections(m)
        lines += settings_section(m)
    lines += footprint_section(results)
    return "\n".join(lines)


def summary(results: Results) -> dict[str, Any]:
    """Every figure as the report prints it, by profile, figure and client."""
    from bench.targets import targets

    out: dict[str, Any] = {}
    for m in results.profiles:
        figures: dict[str, dict[str, dict[str, str]]] = {}
        for figure in FIGURES:
            for client in m.clients:
                s = stat(m, figure, client)
                if s is None:
                    continue
                q = paired(m, figure, client, RAWS3)
                entry = {"median": cell(s), "range": span(s), "vs rawS3": times(q),
                         "interval": interval(q)}
                for base in (CEILING, SIGNED_CEILING):
                    if (share := paired(m, figure, client, base)) is not None:
                        entry[f"% of {base}"] = percent(share)
                figures.setdefault(figure, {})[client] = entry
        out[m.name] = {
            "figures": figures,
            "targets": [{"target": t.text, "figure": t.figure, "result": t.result}
                        for t in targets(m)],
        }
    out["cold start"] = {
        c: {w: cell(footprint_stat(results, c, w)) for w in ("import", "client", "closure")}
        for c in results.footprints
    }
    return out


def write_markdown(results: Results, path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(markdown(results))
