"""No text file of the project holds a merge's conflict markers."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
MARKER = re.compile(r"^(<{7} |>{7} |={7}$)", re.MULTILINE)
FOLDERS = ("rawS3", "tests", "bench", "docs", ".ci")
SUFFIXES = (".py", ".md", ".toml", ".json", ".sh", ".yml", ".yaml")


def _text_files() -> list[Path]:
    found = [path for path in ROOT.glob("*") if path.suffix in SUFFIXES and path.is_file()]
    for folder in FOLDERS:
        found += [
            path
            for path in (ROOT / folder).rglob("*")
            if path.suffix in SUFFIXES and path.is_file() and "__pycache__" not in path.parts
        ]
    return found


def test_no_file_holds_conflict_markers() -> None:
    files = _text_files()
    assert ROOT / "README.md" in files
    marked = [
        str(path.relative_to(ROOT))
        for path in files
        if MARKER.search(path.read_text(encoding="utf-8", errors="replace"))
    ]
    assert marked == []
