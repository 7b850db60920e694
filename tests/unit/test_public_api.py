"""The package's promises about itself: what it exports, what it imports, what it ships.

Import checks run in a fresh interpreter, since this one has aiohttp, pytest and boto3 loaded.
"""

from __future__ import annotations

import ast
import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

import rawS3
from rawS3 import errors

PACKAGE = Path(rawS3.__file__).parent
ROOT = PACKAGE.parent

EXPECTED_ALL = [
    "AccessDenied",
    "BadDigest",
    "Bucket",
    "BucketAlreadyExists",
    "BucketAlreadyOwnedByYou",
    "BucketNotEmpty",
    "BucketVersioning",
    "ChecksumVerifier",
    "ConditionalRequestConflict",
    "CopyResult",
    "Credentials",
    "CredentialsError",
    "CredentialsProvider",
    "DeleteObjectResult",
    "DeleteResult",
    "DownloadResult",
    "EntityTooSmall",
    "IntegrityError",
    "InvalidAccessKeyId",
    "InvalidPart",
    "MultipartUploader",
    "NoSuchBucket",
    "NoSuchKey",
    "NoSuchUpload",
    "NoSuchVersion",
    "NotModified",
    "ObjectChanged",
    "ObjectHead",
    "ObjectInfo",
    "ObjectStream",
    "ObjectTags",
    "ObjectVersion",
    "PreconditionFailed",
    "PreparedRequest",
    "PresignedPost",
    "PutResult",
    "RawResponse",
    "RawS3Error",
    "RawStream",
    "RequestTimeTooSkewed",
    "ResponseError",
    "RetryPolicy",
    "S3Client",
    "S3Error",
    "SSECustomerKey",
    "SignatureDoesNotMatch",
    "SlowDown",
    "SourceChanged",
    "SourceError",
    "Timeouts",
    "TransferProgress",
    "TransportError",
    "TransportTimeout",
    "UploadInterrupted",
    "UploadNotAborted",
    "UploadOptions",
    "UploadedPart",
    "__version__",
    "upload_stream",
]

# Modules that do no I/O: they must work, and be testable, without an event loop or HTTP.
PURE_MODULES = [
    "sigv4",
    "canonical",
    "urls",
    "xml",
    "errors",
    "diagnosis",
    "parts",
    "validation",
    "retry",
    "results",
    "config",
    "raw",
    "encryption",
]
# Of those, the ones that take the time as an argument and never read a clock themselves.
CLOCK_FREE_MODULES = [
    "sigv4",
    "canonical",
    "urls",
    "xml",
    "errors",
    "diagnosis",
    "parts",
    "validation",
    "raw",
]
CLOCK_READS = {
    ("time", "time"),
    ("time", "time_ns"),
    ("time", "monotonic"),
    ("time", "perf_counter"),
    ("datetime", "now"),
    ("datetime", "utcnow"),
    ("datetime", "today"),
    ("date", "today"),
}
NOT_AT_RUNTIME = ["boto3", "botocore", "moto", "pytest", "aiobotocore", "requests"]


def run_python(code: str) -> str:
    done = subprocess.run(
        [sys.executable, "-c", code],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    return done.stdout


def modules_loaded_by(module: str) -> set[str]:
    """Import ``rawS3.<module>`` alone, without ``rawS3/__init__.py`` (which loads the client)."""
    code = f"""
import importlib, json, sys, types
package = types.ModuleType("rawS3")
package.__path__ = [{str(PACKAGE)!r}]
sys.modules["rawS3"] = package
importlib.import_module("rawS3.{module}")
print(json.dumps(sorted(sys.modules)))
"""
    return set(json.loads(run_python(code)))


def test_all_is_exactly_the_documented_list() -> None:
    assert rawS3.__all__ == EXPECTED_ALL


@pytest.mark.parametrize("name", EXPECTED_ALL)
def test_every_exported_name_exists(name: str) -> None:
    assert getattr(rawS3, name) is not None


def test_exported_errors_are_the_ones_the_client_raises() -> None:
    exported = [getattr(rawS3, name) for name in EXPECTED_ALL]
    exceptions = [obj for obj in exported if isinstance(obj, type) and issubclass(obj, Exception)]

    assert len(exceptions) > 10
    for cls in exceptions:
        assert issubclass(cls, errors.RawS3Error), cls
        assert getattr(errors, cls.__name__) is cls


def test_version_is_the_project_version() -> None:
    pyproject = (ROOT / "pyproject.toml").read_text(encoding="utf-8")

    assert f'version = "{rawS3.__version__}"' in pyproject


def test_the_isolated_import_does_see_what_a_module_imports() -> None:
    # Guards the check below: the CLI module, imported the same way, must show aiohttp.
    assert {"aiohttp", "asyncio"} <= modules_loaded_by("cli")


def module_imports(path: Path, modules: set[str]) -> set[str]:
    """The rawS3 modules a module imports when it loads (not in functions or TYPE_CHECKING)."""
    found = set()
    for node in ast.parse(path.read_text(encoding="utf-8")).body:
        if isinstance(node, ast.ImportFrom) and node.module in modules:
            # "from rawS3 import xml" needs the module rawS3.xml, not rawS3/__init__.py.
            for alias in node.names:
                submodule = f"{node.module}.{alias.name}"
                found.add(submodule if submodule in modules else node.module)
        elif isinstance(node, ast.Import):
            found |= {alias.name for alias in node.names} & modules
    return found


def import_cycles() -> list[list[str]]:
    names = {
        ".".join(path.relative_to(ROOT).with_suffix("").parts).removesuffix(".__init__"): path
        for path in PACKAGE.rglob("*.py")
    }
    graph = {name: module_imports(path, set(names)) - {name} for name, path in names.items()}
    cycles, done, stack = [], set(), []

    def visit(name: str) -> None:
        stack.append(name)
        for needed in sorted(graph[name]):
            if needed in stack:
                cycles.append([*stack[stack.index(needed) :], needed])
            elif needed not in done:
                visit(needed)
        stack.pop()
        done.add(name)

    for name in sorted(graph):
        if name not in done:
            visit(name)
    return cycles


def test_no_module_imports_itself_through_others() -> None:
    assert import_cycles() == []


def test_importing_the_client_defers_aiohttp_and_asyncio_to_first_use() -> None:
    code = """
import json, sys
from rawS3 import MultipartUploader, S3Client
before = sorted(sys.modules)
import asyncio
async def use():
    async with S3Client("http://127.0.0.1:9", "k", "s") as s3:
        return s3.presign_get("bucket", "key")
asyncio.run(use())
print(json.dumps([before, sorted(sys.modules)]))
"""
    before, after = (set(names) for names in json.loads(run_python(code)))

    assert {"aiohttp", "asyncio", "yarl", "ssl"} & before == set()
    assert {"aiohttp", "yarl"} <= after


@pytest.mark.parametrize("module", PURE_MODULES)
def test_pure_modules_import_neither_aiohttp_nor_asyncio(module: str) -> None:
    loaded = modules_loaded_by(module)

    assert f"rawS3.{module}" in loaded
    assert "rawS3.client" not in loaded
    unwanted = {"aiohttp", "asyncio", "yarl", "multidict"} & {m.split(".")[0] for m in loaded}
    assert unwanted == set()


def clock_reads(source: str) -> list[str]:
    found = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Attribute) and isinstance(node.value, ast.Attribute | ast.Name):
            owner = node.value.attr if isinstance(node.value, ast.Attribute) else node.value.id
            if (owner, node.attr) in CLOCK_READS:
                found.append(f"{owner}.{node.attr} on line {node.lineno}")
        if isinstance(node, ast.ImportFrom) and node.module in ("time", "datetime"):
            found += [
                f"from {node.module} import {a.name}"
                for a in node.names
                if (node.module, a.name) in CLOCK_READS
            ]
    return found


def test_the_clock_check_finds_clock_reads() -> None:
    assert clock_reads("import time\nt = time.time()\n") == ["time.time on line 2"]
    assert clock_reads("import datetime\nd = datetime.datetime.now()\n") == [
        "datetime.now on line 2"
    ]
    assert clock_reads("from time import monotonic\n") == ["from time import monotonic"]


@pytest.mark.parametrize("module", CLOCK_FREE_MODULES)
def test_core_modules_read_no_clock(module: str) -> None:
    source = (PACKAGE / f"{module}.py").read_text(encoding="utf-8")

    assert clock_reads(source) == []


def test_importing_raws3_loads_no_test_or_aws_sdk_packages() -> None:
    loaded = set(
        json.loads(run_python("import json, sys, rawS3; print(json.dumps(list(sys.modules)))"))
    )

    assert "rawS3.client" in loaded
    assert {m.split(".")[0] for m in loaded} & set(NOT_AT_RUNTIME) == set()


def test_py_typed_ships_in_the_built_package(tmp_path: Path) -> None:
    # build_py lays out exactly the files a wheel is made of; done on a copy, so the
    # working tree gets no build/ or egg-info of its own.
    for name in ("pyproject.toml", "README.md"):
        shutil.copy(ROOT / name, tmp_path / name)
    shutil.copytree(PACKAGE, tmp_path / "rawS3", ignore=shutil.ignore_patterns("__pycache__"))
    done = subprocess.run(
        [
            sys.executable,
            "-c",
            "from setuptools import setup; setup()",
            "-q",
            "build_py",
            "--build-lib",
            str(tmp_path / "out"),
        ],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )

    assert done.returncode == 0, done.stderr
    assert (tmp_path / "out" / "rawS3" / "py.typed").is_file()
    assert (tmp_path / "out" / "rawS3" / "client.py").is_file()
    # Subpackages (rawS3.cli) too: an installed raws3 needs every module.
    shipped = {p.relative_to(tmp_path / "out") for p in (tmp_path / "out").rglob("*.py")}
    assert shipped == {p.relative_to(ROOT) for p in PACKAGE.rglob("*.py")}


def test_the_only_runtime_requirement_is_aiohttp() -> None:
    from importlib.metadata import requires

    runtime = [r for r in requires("rawS3") or [] if "extra ==" not in r]

    assert [r.split(">")[0].split("=")[0].strip() for r in runtime] == ["aiohttp"]
