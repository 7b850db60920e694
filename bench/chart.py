"""The PNG summary: one horizontal bar panel per figure, medians with min–max whiskers."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
from matplotlib.axes import Axes

from bench.clients import CEILING, UNHASHED
from bench.common import MB
from bench.report import RAWS3, Measurements, Stat, footprint_stat, stat

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
        OURS if c == RAWS3 else CEILING_COLOUR if c in (CEILING, UNHASHED) else PEER
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


def draw(m: Measurements, path: Path) -> None:
    """Draw the chart of ``m`` to ``path``."""
    clients = m.clients
    real = [c for c in clients if c not in (CEILING, UNHASHED)]
    fig, axes = plt.subplots(2, 5, figsize=(24, 9))
    a = axes.flat
    _bars(a[0], f"1. Large upload {m.sizes.large // 2**20} MiB, matched", clients,
          [stat(m, "large", c) for c in clients], "MiB/s", better="higher")
    _bars(a[1], "1. Large upload, each client's defaults", real,
          [stat(m, "large-defaults", c) for c in real], "MiB/s", better="higher")
    _bars(a[2], "4. CPU per GiB uploaded (matched)", clients,
          [stat(m, "cpu", c) for c in clients], "CPU s/GiB", better="lower")
    _bars(a[5], f"3. Small PUTs ({m.sizes.small_size} B, 32 in flight)", clients,
          [stat(m, "put", c) for c in clients], "PUT/s", better="higher")
    _bars(a[7], "3. Client CPU per small PUT", clients,
          [stat(m, "put-cpu", c) for c in clients], "ms", better="lower")
    bound = (60 * MB + (m.transfer.concurrency + 1) * m.transfer.part_size) / MB
    _bars(a[4], f"2. Streaming {m.sizes.stream // 2**20} MiB: peak RSS", real,
          [stat(m, "rss", c) for c in real], "MB", better="lower",
          line=(bound, "rawS3 bound"))
    _bars(a[3], "2. Streaming throughput", real,
          [stat(m, "stream", c) for c in real], "MiB/s", better="higher")
    _bars(a[6], "3. Small GETs (32 in flight)", clients,
          [stat(m, "get", c) for c in clients], "GET/s", better="higher")
    _bars(a[8], "5. Import time (net of interpreter start)", real,
          [footprint_stat(m, c, "import") for c in real], "ms", better="lower")
    _bars(a[9], "5. Installed dependency closure", real,
          [footprint_stat(m, c, "closure") for c in real], "MB", better="lower")
    fig.suptitle(
        f"rawS3 vs peers — {m.machine.get('server', '')}; medians of {m.repetitions} "
        "repetition(s), whiskers min–max; red = rawS3, blue = references (server ceiling, "
        "rawS3 with no payload hash)",
        fontsize=12,
    )
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=90)
    plt.close(fig)
