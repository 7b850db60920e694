"""The probe reuses the client's building blocks rather than keeping copies of them, and a
check reaches its verdict for the reason it names, not for another refusal on the way.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import pytest
from aiohttp import web

import rawS3
from rawS3 import S3Client
from rawS3.cli import main
from rawS3.probe.checks import CATALOGUE
from rawS3.probe.context import md5_etag
from rawS3.probe.runner import run_probe
from rawS3.raw import RawResponse

PACKAGE = Path(rawS3.__file__).resolve().parent
CASTAGNOLI_REFLECTED = "0x82F63B78"
NVME_REFLECTED = "0x9A6C9329AC4BC9B5"


def _files_naming(constant: str) -> list[str]:
    return sorted(
        str(path.relative_to(PACKAGE))
        for path in PACKAGE.rglob("*.py")
        if constant.lower() in path.read_text(encoding="utf-8").lower()
    )


def test_each_crc_polynomial_is_written_down_in_one_module_only() -> None:
    # A second CRC implementation drifts from the first; the probe computes its checksums
    # with rawS3.checksums like the client does.
    assert _files_naming(CASTAGNOLI_REFLECTED) == ["crc.py"]
    assert _files_naming(NVME_REFLECTED) == ["crc.py"]


class SizesInListedOrder:
    """A context whose server checks part sizes in the order Complete lists the parts, and
    never checks the order itself (as moto does): listed 2, 1, a small part 2 is refused as
    too small, which says nothing about the order."""

    def __init__(self) -> None:
        self.sizes: dict[int, int] = {}
        self.done = False

    def key(self) -> str:
        return "probe/key"

    async def create_upload(self, key: str) -> str:
        return "upload-1"

    async def parts(self, key: str, upload: str, *sizes: int) -> list[tuple[int, str]]:
        self.sizes = dict(enumerate(sizes, 1))
        return [(number, md5_etag(bytes([number]) * size)) for number, size in self.sizes.items()]

    async def complete(
        self, key: str, upload: str, parts: Sequence[tuple[int, str]]
    ) -> RawResponse:
        if any(self.sizes[number] < 5 * 1024 * 1024 for number, _ in parts[:-1]):
            body = b"<Error><Code>EntityTooSmall</Code><Message>m</Message></Error>"
            return RawResponse(400, {}, body, None)  # type: ignore[arg-type]
        self.done = True
        return RawResponse(200, {}, b"<CompleteMultipartUploadResult/>", None)  # type: ignore[arg-type]

    async def stored(self, key: str) -> bytes | None:
        return b"x" if self.done else None


async def test_part_order_is_not_enforced_by_a_server_that_only_checks_sizes() -> None:
    (check,) = [check for check in CATALOGUE if check.id == "multipart.part-order"]
    observation = await check.run(SizesInListedOrder())
    assert observation.verdict == "accepted"


def test_a_probe_that_cannot_run_leaves_an_earlier_report_as_it_was(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "AKIDPROBE")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "probe-secret")
    earlier = tmp_path / "r.json"
    earlier.write_text('{"schema": 1}\n')
    # Port 9 (discard) on loopback: nothing listens there; the bucket cannot be made.
    argv = ["probe", "--endpoint-url", "http://127.0.0.1:9", "--only", "auth"]
    assert main([*argv, "--json", str(earlier), "--markdown", str(tmp_path / "r.md")]) == 1
    assert earlier.read_text() == '{"schema": 1}\n'
    assert sorted(path.name for path in tmp_path.iterdir()) == ["r.json"]
    # A folder that does not exist is found before anything is sent.
    missing = tmp_path / "no-such-folder" / "r.json"
    assert main([*argv, "--json", str(missing)]) == 1
    assert "no-such-folder" in capsys.readouterr().err


async def test_a_probe_of_no_checks_runs_and_cleans_up(aiohttp_server: object) -> None:
    made: set[str] = set()

    async def bucket(request: web.Request) -> web.Response:
        name = request.match_info["name"]
        if request.method == "PUT":
            made.add(name)
            return web.Response(status=200)
        if request.method == "DELETE":
            made.discard(name)
            return web.Response(status=204)
        return web.Response(status=404)  # no uploads, no versions, no listing

    async def buckets(request: web.Request) -> web.Response:
        return web.Response(body=b"<ListAllMyBucketsResult/>")

    app = web.Application()
    app.router.add_get("/", buckets)
    app.router.add_route("*", "/{name}", bucket)
    server = await aiohttp_server(app)  # type: ignore[operator]
    async with S3Client(
        f"http://127.0.0.1:{server.port}", aws_access_key_id="AKID", aws_secret_access_key="s"
    ) as client:
        report = await run_probe(client, ())
    assert report.results == ()
    assert report.left_behind == ()
    assert made == set()
