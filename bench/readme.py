"""The README's benchmark table, generated from a committed ``latest.json``.

``python -m bench.readme [bench/results/latest.json]`` prints the Markdown block that goes
between the README's ``bench-figures`` markers. Every figure in it is copied from the JSON's
``summary`` as the report prints it, and ``tests/unit/test_bench_readme_figures.py`` checks
that each figure the README quotes there appears in the committed JSON.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from bench.clients import PEERS

START = "<!-- bench-figures:start -->"
END = "<!-- bench-figures:end -->"
DEFAULT = Path(__file__).resolve().parent / "results" / "latest.json"


def _best(figures: dict[str, dict[str, str]], higher: bool) -> str:
    def value(client: str) -> float:
        return float(figures[client]["median"].replace(",", ""))

    peers = [c for c in figures if c in PEERS]
    if not peers:
        return ""
    return max(peers, key=value) if higher else min(peers, key=value)


def _rate(figures: dict[str, Any], figure: str, unit: str, extra: str = "",
          extra_unit: str = "") -> list[str]:
    """rawS3's figure, the best peer's with its paired ratio and interval, aiobotocore's."""
    per = figures.get(figure, {})
    if "rawS3" not in per:
        return []
    peer = _best(per, higher=True)
    more = figures.get(extra, {}) if extra else {}

    def text(client: str) -> str:
        if client not in per:
            return "–"
        out = f"{per[client]['median']} {unit}"
        if client in more:
            out += f", {more[client]['median']} {extra_unit}"
        return out

    ratio = "–"
    if peer:
        ours_over_peer = per[peer]["vs rawS3"]
        ratio = f"{peer} {text(peer)} (peer/rawS3 {ours_over_peer}, 95 % {per[peer]['interval']})"
    return [text("rawS3"), ratio, text("aiobotocore")]


ROWS = (
    ("small PUTs, 32 in flight", "put", "PUT/s", "put-cpu", "ms client CPU each"),
    ("large upload, 8 MiB × 4 (matched)", "large", "MiB/s", "large:cpu", "CPU s/GiB"),
    ("large upload, each library's defaults", "large-defaults", "MiB/s", "large-defaults:rss",
     "MB peak RSS"),
    ("large download, 8 MiB × 4 (matched)", "download", "MiB/s", "download:rss",
     "MB peak RSS"),
    ("large download, each library's defaults", "download-defaults", "MiB/s",
     "download-defaults:rss", "MB peak RSS"),
    ("stream of unknown length (not a whole number of parts)", "stream-odd", "MiB/s",
     "stream-odd:rss", "MB peak RSS"),
)


def block(raw: dict[str, Any]) -> list[str]:
    """The Markdown table of the README's benchmark section."""
    header = ("| profile | workload | rawS3 | best peer (peer ÷ rawS3, paired; 95 % interval) "
              "| aiobotocore |")
    lines = [START, "", header, "|---|---|---|---|---|"]
    summary = raw["summary"]
    for name, profile in raw["profiles"].items():
        figures = summary[name]["figures"]
        label = f"{name} ({profile['scheme']})"
        for text, figure, unit, extra, extra_unit in ROWS:
            cells = _rate(figures, figure, unit, extra, extra_unit)
            if cells:
                lines.append(f"| {label} | {text} | " + " | ".join(cells) + " |")
    cold = summary.get("cold start", {})
    if "rawS3" in cold:
        peer = min((c for c in cold if c in PEERS),
                   key=lambda c: float(cold[c]["client"].replace(",", "")), default="")
        lines.append(
            f"| cold start | import + client + first request; installed closure | "
            f"{cold['rawS3']['client']} ms; {cold['rawS3']['closure']} MB | "
            + (f"{peer} {cold[peer]['client']} ms; {cold[peer]['closure']} MB" if peer else "–")
            + " | "
            + (f"{cold['aiobotocore']['client']} ms; {cold['aiobotocore']['closure']} MB"
               if "aiobotocore" in cold else "–")
            + " |"
        )
    return [*lines, "", END]


def main(argv: Sequence[str]) -> int:
    path = Path(argv[0]) if argv else DEFAULT
    print("\n".join(block(json.loads(path.read_text()))))
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
