"""The targets of the issues, checked against one profile's paired ratios and their intervals."""

from __future__ import annotations

from dataclasses import dataclass

from bench.clients import CEILING, PEERS, SIGNED_CEILING
from bench.common import MB
from bench.report import FIGURES, RAWS3, Measurements, Ratio, Stat, _table, paired, stat
from bench.stats import ratio


@dataclass(frozen=True, slots=True)
class Target:
    text: str
    figure: str
    result: str
    """"met", "at the edge", "not met" or "–" (not measured)."""


def best_peer(m: Measurements, figure: str, higher: bool = True) -> str:
    """The peer with the best median of ``figure`` in this profile."""
    medians = {c: s.median for c in m.clients if c in PEERS and (s := stat(m, figure, c))}
    pick = max if higher else min
    return pick(medians, key=medians.__getitem__, default="")


def _show(a: Stat, b: Stat, q: Ratio, unit: str, digits: int) -> str:
    return (f"{a.median:,.{digits}f} vs {b.median:,.{digits}f} {unit}; paired {q.median:.2f}× "
            f"[95 % {q.ci_low:.2f}–{q.ci_high:.2f}], range {q.low:.2f}–{q.high:.2f}")


def _target(m: Measurements, text: str, figure: str, other: str, limit: float, higher: bool,
            unit: str, digits: int = 0, other_figure: str | None = None) -> Target:
    """rawS3's ``figure`` over ``other``'s (``other_figure``, if another workload's)."""
    if not other:
        return Target(text, "not measured", "–")
    ours, theirs = stat(m, figure, RAWS3), stat(m, other_figure or figure, other)
    if other_figure is None:
        q = paired(m, figure, RAWS3, other)
    else:
        q = _cross(m, figure, other_figure, other)
    if ours is None or theirs is None or q is None:
        return Target(text, "not measured", "–")
    return Target(text, _show(ours, theirs, q, unit, digits), q.verdict(limit, higher))


def _cross(m: Measurements, figure: str, other_figure: str, other: str) -> Ratio | None:
    (wa, pa), (wb, pb) = FIGURES[figure], FIGURES[other_figure]
    ours, theirs = m.by_repetition(wa, RAWS3, pa), m.by_repetition(wb, other, pb)
    quotients = [v / theirs[r] for r, v in sorted(ours.items()) if theirs.get(r)]
    return ratio(quotients, f"{m.name}/{figure}/{other_figure}/{other}")


def _bound(m: Measurements, text: str, figure: str, bound: float) -> Target:
    ours = stat(m, figure, RAWS3)
    if ours is None:
        return Target(text, "not measured", "–")
    result = "met" if ours.high <= bound else "at the edge" if ours.median <= bound else "not met"
    return Target(text, f"{ours.median:.0f} MB (max {ours.high:.0f}), bound {bound:.0f} MB",
                  result)


def loopback_targets(m: Measurements) -> list[Target]:
    bound = (60 * MB + (m.transfer.concurrency + 1) * m.transfer.part_size) / MB
    agg, peer = "aiobotocore", best_peer(m, "large")
    out = [
        _target(m, "small PUT: client CPU/request ≤ aiohttp-s3-client's", "put-cpu",
                "aiohttp-s3-client", 1.0, False, "ms", 3),
        _target(m, "small PUT: client CPU/request ≤ 1/3 of aiobotocore's", "put-cpu", agg,
                1 / 3, False, "ms", 3),
        _target(m, "small PUT: ops/s ≥ 1.5 × aiobotocore", "put", agg, 1.5, True, "/s"),
        _target(m, f"large upload ≥ 1.1 × the best peer (matched: {peer or '–'})", "large",
                peer, 1.1, True, "MiB/s"),
        _target(m, "CPU s/GiB ≤ 0.7 × aiobotocore's (large upload, matched)", "large:cpu", agg,
                0.7, False, "s/GiB", 2),
        _target(m, "streaming peak RSS ≤ 1/4 of aioboto3's (read-ahead matched)", "stream:rss",
                "aioboto3", 0.25, False, "MB"),
        _bound(m, "streaming peak RSS ≤ 60 MB + (concurrency + 1) × part size", "stream:rss",
               bound),
        _target(m, "download (matched) no slower than one streamed GET (aiobotocore defaults)",
                "download", agg, 1.0, True, "MiB/s", other_figure="download-defaults"),
    ]
    if m.scheme == "http":
        out[3:3] = [
            _target(m, "small PUT: ops/s ≥ 75 % of the ceiling", "put", CEILING, 0.75, True,
                    "/s"),
            _target(m, "small PUT: ops/s ≥ 75 % of the signed ceiling", "put", SIGNED_CEILING,
                    0.75, True, "/s"),
        ]
        out += [
            _target(m, "large upload ≥ 85 % of the ceiling", "large", CEILING, 0.85, True,
                    "MiB/s"),
            _target(m, "large upload ≥ 85 % of the signed ceiling", "large", SIGNED_CEILING,
                    0.85, True, "MiB/s"),
        ]
    return out


def wan_targets(m: Measurements) -> list[Target]:
    out = []
    for label, figure, limit in (
        ("download", "download", 1.2), ("download", "download-defaults", 1.2),
        ("upload", "large", 1.1), ("upload", "large-defaults", 1.1),
        ("file upload", "file", 1.1), ("file upload", "file-defaults", 1.1),
    ):
        peer = best_peer(m, figure)
        settings = "defaults" if figure.endswith("defaults") else "matched"
        out.append(_target(m, f"WAN {label} ≥ {limit} × the best peer ({settings}: "
                              f"{peer or '–'})", figure, peer, limit, True, "MiB/s"))
    return out


def targets(m: Measurements) -> list[Target]:
    return wan_targets(m) if m.network == "wan" else loopback_targets(m)


def targets_section(m: Measurements) -> list[str]:
    rows = [[t.text, t.figure, t.result if t.result in ("met", "–") else f"**{t.result}**"]
            for t in targets(m)]
    return ["### Targets", "", *_table(["target", "figure (medians; paired ratio)", "result"],
                                       rows), ""]


__all__ = ["Target", "best_peer", "targets", "targets_section"]
