"""The PNG summary: one horizontal bar panel per figure, medians with min–max whiskers."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
from matplotlib.axes import Axes

from bench.clients import CEILING, MD5, SIGNED_CEILING, UNHASHED
from bench.common import MB
from bench.report import RAWS3, Measurements, Results, footprint_stat, stat
from bench.stats import Stat

REFERENCES = (CEILING, SIGNED_CEILING, UNHASHED, MD5)

OURS = "#d62728"
PEER = "#7f7f7f"
CEILING_COLOUR = "#1f77b4"


def _bars(
    ax: Axes,
    title: str,
    clients: Sequence[str],
    stats: Sequence[Stat | None],
    unit: str,
    *,
    better: str,
    line: tuple[float, str] | None = None,
) -> None:
    shown = [(c, s) for c, s in zip(clients, stats, strict=True) if s is not None]
    if not shown:
        ax.set_visible(False)
        return
    names = [c for c, _ in shown]
    medians = [s.median for _, s in shown]
    whiskers = [
        [s.median - s.low for _, s in shown],
        [s.high - s.median for _, s in shown],
    ]
    colours = [
        OURS if c == RAWS3 else CEILING_COLOUR if c in REFERENCES else PEER
        for c in names
    ]
    positions = range(len(names))
    ax.barh(positions, medians, xerr=whiskers, color=colours, capsize=3)
    ax.set_yticks(list(positions), names)
    ax.invert_yaxis()
    ax.set_title(f"{title}\n({unit}, {better} is better)", fontsize=10)
    top = max(s.high for _, s in shown)
    for y, (_, s) in zip(positions, shown, strict=True):
        ax.text(s.high + top * 0.03, y, f"{s.median:,.3g}", va="center", fontsize=9)
    if line is not None:
        ax.axvline(line[0], color="black", linestyle="--", linewidth=1)
        ax.text(line[0], len(names) - 0.4, f" {line[1]}", fontsize=8)
    ax.set_xlim(0, max(top, line[0] if line else 0) * 1.3)
    ax.grid(axis="x", alpha=0.3)


def _panel(ax: Axes, m: Measurements, title: str, figure: str, clients: Sequence[str],
           unit: str, better: str, line: tuple[float, str] | None = None) -> None:
    _bars(ax, f"{m.name}: {title}", clients, [stat(m, figure, c) for c in clients], unit,
          better=better, line=line)


def draw(results: Results, path: Path) -> None:
    """Draw the chart of ``results`` to ``path``: the loopback panels, then the WAN's."""
    loop = next((m for m in results.profiles if m.network == "loopback"), None)
    wan = next((m for m in results.profiles if m.network == "wan"), None)
    fig, axes = plt.subplots(3, 4, figsize=(24, 14))
    a = list(axes.flat)
    for ax in a:
        ax.set_visible(False)
    if loop is not None:
        clients = loop.clients
        real = [c for c in clients if c not in REFERENCES]
        bound = (60 * MB + (loop.transfer.concurrency + 1) * loop.transfer.part_size) / MB
        for ax in a[:8]:
            ax.set_visible(True)
        _panel(a[0], loop, f"upload {loop.sizes.large // 2**20} MiB, matched", "large",
               clients, "MiB/s", "higher")
        _panel(a[1], loop, "CPU per GiB uploaded (matched)", "large:cpu", clients,
               "CPU s/GiB", "lower")
        _panel(a[2], loop, f"download {loop.sizes.download // 2**20} MiB, matched", "download",
               clients, "MiB/s", "higher")
        _panel(a[3], loop, "stream peak RSS", "stream-odd:rss", real, "MB", "lower",
               line=(bound, "rawS3 bound"))
        _panel(a[4], loop, "small PUTs, 32 in flight", "put", clients, "PUT/s", "higher")
        _panel(a[5], loop, "client CPU per small PUT", "put-cpu", clients, "ms", "lower")
        _bars(a[6], "import + first request", real,
              [footprint_stat(results, c, "client") for c in real], "ms", better="lower")
        _bars(a[7], "installed dependency closure", real,
              [footprint_stat(results, c, "closure") for c in real], "MB", better="lower")
    if wan is not None:
        for ax in a[8:]:
            ax.set_visible(True)
        clients = wan.clients
        _panel(a[8], wan, "download, matched", "download", clients, "MiB/s", "higher")
        _panel(a[9], wan, "download, defaults", "download-defaults", clients, "MiB/s", "higher")
        _panel(a[10], wan, "upload, matched", "large", clients, "MiB/s", "higher")
        _panel(a[11], wan, "upload, defaults", "large-defaults", clients, "MiB/s", "higher")
    fig.suptitle(
        f"rawS3 vs peers — {results.machine.get('server', '')}; medians, whiskers min–max; "
        "red = rawS3, blue = references (ceilings, rawS3 variants)",
        fontsize=12,
    )
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=80)
    plt.close(fig)
