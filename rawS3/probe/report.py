"""The probe's report as values, JSON, Markdown and a terminal table: pure functions.

The JSON document (``to_json``) is the stable form: ``tests/unit/test_probe_verdicts.py``
checks it against a schema, and ``docs/servers/*.json`` are such documents.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from typing import Any

from rawS3.probe.model import VERDICTS, Result

__all__ = ["SCHEMA_VERSION", "Report", "to_json", "to_markdown", "to_table"]

SCHEMA_VERSION = 1


@dataclass(frozen=True, slots=True)
class Report:
    """A finished probe.

    Attributes:
        endpoint: the endpoint probed.
        server: the ``Server`` header of its first answer (``""`` if none).
        started: when the probe started, ISO 8601 UTC.
        seconds: how long it ran, cleanup included.
        results: each check's result, in catalogue order.
        left_behind: buckets cleanup could not delete, with the reason (empty: none).
    """

    endpoint: str
    server: str
    started: str
    seconds: float
    results: tuple[Result, ...]
    left_behind: tuple[str, ...] = ()

    def counts(self) -> dict[str, int]:
        """How many checks got each verdict.

        Returns:
            A count for every verdict, zeros included, in ``VERDICTS`` order.
        """
        seen = Counter(result.observation.verdict for result in self.results)
        return {verdict: seen[verdict] for verdict in VERDICTS}


def to_json(report: Report, *, name: str | None = None) -> dict[str, Any]:
    """The report as a JSON-ready dict.

    Args:
        report: the report.
        name: a label for the server (``rgw``, ``moto``...), if known.

    Returns:
        ``{"schema": 1, "server": ..., "endpoint": ..., "checks": [...]}``; each check has
        ``id``, ``group``, ``expectation``, ``verdict``, ``documented``, ``status``, ``code``,
        ``observed`` and ``seconds``.
    """
    return {
        "schema": SCHEMA_VERSION,
        "name": name,
        "endpoint": report.endpoint,
        "server": report.server,
        "started": report.started,
        "seconds": report.seconds,
        "counts": report.counts(),
        "left_behind": list(report.left_behind),
        "checks": [
            {
                "id": result.check.id,
                "group": result.check.group,
                "expectation": result.check.expectation,
                "verdict": result.observation.verdict,
                "documented": result.observation.documented,
                "status": result.observation.status,
                "code": result.observation.code,
                "observed": result.observation.detail,
                "seconds": result.seconds,
            }
            for result in report.results
        ],
    }


def _cell(text: object) -> str:
    return str("" if text is None else text).replace("|", "\\|").replace("\n", " ")


def to_markdown(report: Report, *, name: str | None = None) -> str:
    """The report as a Markdown document: a summary line, then one table row per check.

    Args:
        report: the report.
        name: a label for the server, used in the title.

    Returns:
        The document, ending with a newline.
    """
    counts = ", ".join(f"{count} {verdict}" for verdict, count in report.counts().items())
    lines = [
        f"# `raws3 probe` report: {name or report.endpoint}",
        "",
        f"Server header `{report.server or '-'}`, {len(report.results)} checks, "
        f"{report.seconds:g} s, started {report.started}.",
        "",
        f"Verdicts: {counts}. Left behind: {', '.join(report.left_behind) or 'nothing'}.",
        "",
        "| check | AWS documents | server did | verdict |",
        "|---|---|---|---|",
    ]
    for result in report.results:
        seen = result.observation
        verdict = seen.verdict if seen.documented or seen.verdict != "enforced" else (
            "enforced (not as documented)"
        )
        lines.append(
            f"| `{result.check.id}` | {_cell(result.check.expectation)} "
            f"| {_cell(seen.detail)} | {verdict} |"
        )
    return "\n".join(lines) + "\n"


def to_table(report: Report, width: int = 100) -> str:
    """The report as a plain-text table for a terminal.

    Args:
        report: the report.
        width: the widest a line may be.

    Returns:
        The lines, ending with a newline.
    """
    id_width = max((len(r.check.id) for r in report.results), default=5)
    rest = max(20, width - id_width - 14)
    lines = [f"{'check':<{id_width}}  {'verdict':<11}  server did (AWS documents)"]
    for result in report.results:
        seen = result.observation
        mark = "" if seen.documented or seen.verdict != "enforced" else "*"
        said = f"{seen.detail} ({result.check.expectation})"
        if len(said) > rest:
            said = said[: rest - 1] + "…"
        lines.append(f"{result.check.id:<{id_width}}  {seen.verdict + mark:<11}  {said}")
    counts = ", ".join(f"{count} {verdict}" for verdict, count in report.counts().items())
    lines.append(f"{len(report.results)} checks in {report.seconds:g} s: {counts}")
    lines.append("* refused, but not with the documented status and code")
    if report.left_behind:
        lines.append("LEFT BEHIND: " + "; ".join(report.left_behind))
    return "\n".join(lines) + "\n"
