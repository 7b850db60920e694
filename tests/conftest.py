"""Fixtures shared by every test: the S3 server under test, clients, and throw-away buckets.

``RAWS3_TEST_SERVER`` picks the server: ``rgw`` (a Ceph RGW started here), ``swift`` (OpenStack
Swift with its S3 API, started here), ``moto`` (in-process, signatures enforced), ``minio`` (a
``minio`` binary on PATH) or ``external`` (endpoint and keys from ``AWS_ENDPOINT_URL``,
``AWS_ACCESS_KEY_ID``, ``AWS_SECRET_ACCESS_KEY``). Unset: rgw when its binaries are installed,
else minio when on PATH, else moto; swift only when asked for. A server that fails to start
fails the run; it is never skipped.

A test a server cannot support carries ``@pytest.mark.unsupported("moto", reason=...)`` and is
skipped on that server only, with the reason in the report.
"""

from __future__ import annotations

import os
import shutil
import uuid
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from rawS3 import S3Client


@dataclass(frozen=True)
class TestServer:
    __test__ = False
    name: str
    endpoint: str
    access_key: str
    secret_key: str
    region: str = "us-east-1"
    https_endpoint: str | None = None
    ca_file: str | None = None


def chosen_server() -> str:
    name = os.environ.get("RAWS3_TEST_SERVER", "").strip().lower()
    if name:
        if name not in ("rgw", "swift", "moto", "minio", "external"):
            raise pytest.UsageError(
                f"RAWS3_TEST_SERVER={name!r}: use rgw, swift, moto, minio or external"
            )
        return name
    if shutil.which("radosgw") and shutil.which("ceph-mon"):
        return "rgw"
    if shutil.which("minio"):
        return "minio"
    return "moto"


def pytest_report_header(config: pytest.Config) -> str:
    return f"rawS3 test server: {chosen_server()}"


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    server = chosen_server()
    root = Path(__file__).parent
    for item in items:
        path = Path(str(item.fspath))
        if root / "unit" not in path.parents:
            item.add_marker(pytest.mark.integration)
        for mark in item.iter_markers("unsupported"):
            if mark.args and mark.args[0] == server:
                reason = mark.kwargs.get("reason", "")
                item.add_marker(pytest.mark.skip(reason=f"{server} cannot support this: {reason}"))


@pytest.fixture(scope="session")
def s3_server() -> Iterator[TestServer]:
    name = chosen_server()
    if name == "rgw":
        from tests.servers.rgw import running_rgw

        with running_rgw(https=True) as rgw:
            yield TestServer(
                "rgw",
                rgw.endpoint,
                rgw.access_key,
                rgw.secret_key,
                rgw.region,
                rgw.https_endpoint,
                str(rgw.ca_file) if rgw.ca_file else None,
            )
    elif name == "swift":
        from tests.servers.swift import running_swift

        with running_swift(https=True) as swift:
            yield TestServer(
                "swift",
                swift.endpoint,
                swift.access_key,
                swift.secret_key,
                swift.region,
                swift.https_endpoint,
                str(swift.ca_file) if swift.ca_file else None,
            )
    elif name == "moto":
        from tests.servers.moto_server import running_moto

        with running_moto() as moto:
            yield TestServer("moto", moto.endpoint, moto.access_key, moto.secret_key)
    elif name == "minio":
        from tests.servers.minio_server import running_minio

        with running_minio() as minio:
            yield TestServer("minio", minio.endpoint, minio.access_key, minio.secret_key)
    else:
        yield _external()


def _external() -> TestServer:
    missing = [
        v
        for v in ("AWS_ENDPOINT_URL", "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY")
        if not os.environ.get(v)
    ]
    if missing:
        raise pytest.UsageError(f"RAWS3_TEST_SERVER=external needs {', '.join(missing)}")
    return TestServer(
        "external",
        os.environ["AWS_ENDPOINT_URL"],
        os.environ["AWS_ACCESS_KEY_ID"],
        os.environ["AWS_SECRET_ACCESS_KEY"],
        os.environ.get("AWS_REGION", "us-east-1"),
    )


def make_client(server: TestServer, **options: object) -> S3Client:
    return S3Client(
        endpoint_url=server.endpoint,
        aws_access_key_id=server.access_key,
        aws_secret_access_key=server.secret_key,
        region=server.region,
        **options,  # type: ignore[arg-type]
    )


@pytest.fixture
async def client(s3_server: TestServer) -> AsyncIterator[S3Client]:
    async with make_client(s3_server) as c:
        yield c


def fresh_name(prefix: str = "rawS3-test") -> str:
    return f"{prefix.lower()}-{uuid.uuid4().hex[:16]}"


@pytest.fixture
async def bucket(s3_server: TestServer) -> AsyncIterator[str]:
    """A new empty bucket, emptied (objects and unfinished uploads) and deleted afterwards."""
    name = fresh_name()
    async with make_client(s3_server) as admin:
        await admin.create_bucket(name)
        yield name
        await empty_bucket(admin, name)
        await admin.delete_bucket(name)


async def empty_bucket(client: S3Client, name: str) -> None:
    for upload in await client.list_multipart_uploads(name):
        await client.abort_multipart_upload(name, upload.key, upload.upload_id)
    keys = [obj.key async for obj in client.list_objects(name)]
    if keys:
        await client.delete_objects(name, keys)


@pytest.fixture(scope="session")
def boto(s3_server: TestServer) -> object:
    """A boto3 client for the same server: a second, independent opinion on what is stored."""
    import boto3
    from botocore.config import Config

    return boto3.client(
        "s3",
        endpoint_url=s3_server.endpoint,
        aws_access_key_id=s3_server.access_key,
        aws_secret_access_key=s3_server.secret_key,
        region_name=s3_server.region,
        config=Config(s3={"addressing_style": "path"}, retries={"max_attempts": 1}),
    )


# -- Hypothesis profiles and the property tests' figures -----------------------------------------
# RAWS3_HYPOTHESIS_PROFILE=long searches much longer; "ci" (the default) is seeded and short;
# "compat" is shorter still, for running the same tests on other Pythons.


def _hypothesis_profiles() -> None:
    import tempfile

    from hypothesis import HealthCheck, Phase, settings
    from hypothesis.configuration import set_hypothesis_home_dir

    # Hypothesis caches what it learns in .hypothesis/ of the working directory; not in the
    # repository's tree.
    set_hypothesis_home_dir(os.path.join(tempfile.gettempdir(), "rawS3-hypothesis"))

    common = {
        "deadline": None,
        "print_blob": True,
        "suppress_health_check": [HealthCheck.too_slow, HealthCheck.data_too_large],
    }
    # No "explain" phase in ci: it replays a failure under a tracer, which is slow with I/O.
    quick = tuple(phase for phase in Phase if phase is not Phase.explain)
    settings.register_profile(
        "ci", max_examples=25, derandomize=True, database=None, phases=quick, **common
    )
    # The other Pythons CI runs the unit tests on check that the package works there; the
    # search itself is the "ci" profile's, on the main Python.
    settings.register_profile(
        "compat", max_examples=5, derandomize=True, database=None, phases=quick, **common
    )
    # Random, and failures kept (in the directory above) to be tried first on the next run.
    settings.register_profile("long", max_examples=400, **common)
    settings.load_profile(os.environ.get("RAWS3_HYPOTHESIS_PROFILE", "ci"))


_hypothesis_profiles()


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    import sys

    fakes3 = sys.modules.get("tests.fakes3")
    if fakes3 is not None and fakes3.TALLY.runs:
        terminalreporter.write_sep("-", "property tests (tests/fakes3.py)")
        terminalreporter.write_line(fakes3.TALLY.summary())
