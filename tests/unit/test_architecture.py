"""The shape the code keeps: a sans-IO core below one I/O engine, and modules one can read.

The core (protocol and operations) is read as source, not imported: each of its modules'
imports, wherever they stand (inside functions too), must name neither asyncio, aiohttp nor
another I/O library, nor one of rawS3's I/O modules; nor may it read a clock. Every module not
named as I/O here counts as core, so a new module is pure until someone decides otherwise.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[2] / "rawS3"
# The floors that do I/O: the engine, the facade built on it, transfers, and the CLI.
IO_MODULES = {
    "rawS3.__main__",
    "rawS3.bucket_calls",
    "rawS3.cleanup",
    "rawS3.client",
    "rawS3.configuration",
    "rawS3.copying",
    "rawS3.download",
    "rawS3.download_stream",
    "rawS3.engine",
    "rawS3.file_upload",
    "rawS3.listing_calls",
    "rawS3.multipart_calls",
    "rawS3.object_calls",
    "rawS3.presign_calls",
    "rawS3.providers",
    "rawS3.raw_calls",
    "rawS3.rawio",
    "rawS3.refresh",
    "rawS3.resume",
    "rawS3.safeguards",
    "rawS3.streams",
    "rawS3.tls",
    "rawS3.transfer",
    "rawS3.version_calls",
    "rawS3.tagging_calls",
    "rawS3.conditional_put",
    "rawS3.url_uploads",
    "rawS3.probe.context",
    "rawS3.probe.runner",
    "rawS3.transfer_calls",
    "rawS3.upload_calls",
    "rawS3.replies",
}
IO_PACKAGES = ("rawS3.cli", "rawS3.probe.checks")
IO_LIBRARIES = {"asyncio", "aiohttp", "yarl", "multidict", "socket", "ssl", "threading"}
CLOCK_CALLS = {"now", "utcnow", "today", "time", "monotonic", "perf_counter", "time_ns"}
MAX_LINES = 600


def module_name(path: Path) -> str:
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


MODULES = {module_name(path): path for path in sorted(PACKAGE.rglob("*.py"))}
CORE = sorted(
    name
    for name in MODULES
    if name not in IO_MODULES and not name.startswith(IO_PACKAGES) and name != "rawS3"
)


def imported_names(tree: ast.AST, module: str) -> set[str]:
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:  # relative: resolve against the importing module's package
                base = ".".join(module.split(".")[: -node.level] + ([base] if base else []))
            names.add(base)
            names.update(f"{base}.{alias.name}" for alias in node.names)
    return names


def test_the_core_is_most_of_the_package() -> None:
    assert "rawS3.sigv4" in CORE
    assert "rawS3.operations.objects" in CORE
    assert "rawS3.xml" in CORE
    assert len(CORE) >= 15


@pytest.mark.parametrize("module", CORE)
def test_core_modules_import_no_io(module: str) -> None:
    tree = ast.parse(MODULES[module].read_text())
    imported = imported_names(tree, module)
    libraries = {name for name in imported if name.split(".")[0] in IO_LIBRARIES}
    io_modules = {
        name
        for name in imported
        if name in IO_MODULES or name.startswith(IO_PACKAGES)
    }
    assert libraries == set()
    assert io_modules == set()


def clock_reads(tree: ast.AST) -> list[str]:
    return [
        f"line {node.lineno}: {ast.unparse(node.func)}()"
        for node in ast.walk(tree)
        if isinstance(node, ast.Call)
        and isinstance(node.func, ast.Attribute)
        and node.func.attr in CLOCK_CALLS
        and isinstance(node.func.value, ast.Name)
        and node.func.value.id in {"time", "datetime", "date"}
    ]


@pytest.mark.parametrize("module", CORE)
def test_core_modules_read_no_clock(module: str) -> None:
    assert clock_reads(ast.parse(MODULES[module].read_text())) == []


def test_a_clock_read_is_found() -> None:
    source = "import time\nfrom datetime import datetime\na = time.time()\nb = datetime.now()"
    assert len(clock_reads(ast.parse(source))) == 2


def test_an_io_import_is_found_even_inside_a_function() -> None:
    tree = ast.parse("def f():\n    import asyncio\n    from rawS3 import engine\n")
    assert {"asyncio", "rawS3.engine"} <= imported_names(tree, "rawS3.example")


@pytest.mark.parametrize("module", sorted(MODULES))
def test_modules_are_short_enough_to_read_in_one_sitting(module: str) -> None:
    lines = MODULES[module].read_text().count("\n")
    assert lines <= MAX_LINES, f"{module} has {lines} lines"
