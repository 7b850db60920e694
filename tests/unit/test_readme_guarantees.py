"""The README's Guarantees table names tests that exist.

A promise is only as good as the test it names: a renamed or removed test would leave a row
that nothing backs. (Conflict markers anywhere are ``test_repository_text.py``'s.)
"""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
README = ROOT / "README.md"
TESTS = ROOT / "tests"
# `integration/test_x.py::test_y`, `test_x.py::test_y`, `test_x.py`, or `::test_y` (same file).
_REFERENCE = re.compile(r"`((?:[\w/]+/)?test_\w+\.py)?(?:::(test_\w+))?")


def guarantee_rows() -> list[str]:
    text = README.read_text(encoding="utf-8")
    section = text.split("\n## Guarantees\n", 1)[1].split("\n## ", 1)[0]
    return [line for line in section.splitlines() if line.startswith("| ") and "---" not in line]


def find_test_file(name: str) -> Path | None:
    candidates = [TESTS / name, TESTS / "unit" / name, TESTS / "integration" / name]
    return next((path for path in candidates if path.is_file()), None)


def references(row: str) -> list[tuple[str, str | None]]:
    """The (test file, test name or None) pairs a row names, ``::x`` taking the file before."""
    found: list[tuple[str, str | None]] = []
    current: str | None = None
    for match in _REFERENCE.finditer(row.split(" | ", 1)[-1]):
        name, test = match.group(1), match.group(2)
        if name is None and test is None:
            continue
        current = name or current
        if current is not None:
            found.append((current, test))
    return found


def test_every_test_the_guarantees_name_exists() -> None:
    missing = []
    rows = guarantee_rows()
    assert len(rows) > 20  # the table was found
    for row in rows:
        for name, test in references(row):
            path = find_test_file(name)
            if path is None:
                missing.append(name)
            elif test is not None and not re.search(
                rf"^\s*(async )?def {test}\(", path.read_text(encoding="utf-8"), re.MULTILINE
            ):
                missing.append(f"{name}::{test}")
    assert missing == []
