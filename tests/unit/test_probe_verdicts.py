"""``raws3 probe`` against a local server that misbehaves on purpose: each verdict is reached
for the reason it claims, the JSON report has the documented shape, cleanup runs whatever
happens (a cancellation at a random, seeded moment included), and the CLI's exit statuses.
"""

from __future__ import annotations

import asyncio
import json
import logging
import os
import random
import signal
import sys
from datetime import datetime
from pathlib import Path
from typing import Any
from xml.sax.saxutils import escape

import pytest
from aiohttp import web

from rawS3 import RetryPolicy, S3Client, sigv4
from rawS3.canonical import canonical_request
from rawS3.cli import main
from rawS3.probe.checks import CATALOGUE, GROUPS, select
from rawS3.probe.model import VERDICTS, Check, Observation, Result, feature, refusal
from rawS3.probe.report import Report, to_json, to_markdown, to_table
from rawS3.probe.runner import run_probe
from rawS3.raw import PreparedRequest, RawResponse

ACCESS_KEY, SECRET_KEY = "AKIDPROBETEST", "probe-test-secret"
REPOSITORY = str(Path(__file__).resolve().parents[2])
ERROR_DOC = (
    b'<?xml version="1.0" encoding="UTF-8"?><Error><Code>%s</Code><Message>m</Message>'
    b"<RequestId>r-1</RequestId></Error>"
)


class Misbehaving:
    """A pretend S3 server. Buckets and their objects really are kept (so cleanup can be
    checked); what object requests get depends on ``mode``:

    - ``lenient``: accepted without any check, the body stored as it came (aws-chunked
      framing included), like s3rver;
    - ``error-200``: 200 with an ``<Error>`` document as the body;
    - ``strict``: like ``lenient``, but header signatures are verified (a wrong signature
      gets 403 SignatureDoesNotMatch, an unknown key 403 ``unknown_key_code``);
    - ``not-implemented``: 501 NotImplemented;
    - ``undeletable``: like ``lenient``, but a bucket can never be deleted.
    """

    def __init__(self, mode: str, unknown_key_code: str = "InvalidAccessKeyId") -> None:
        self.mode = mode
        self.unknown_key_code = unknown_key_code
        self.buckets: dict[str, dict[str, bytes]] = {}
        self.requests = 0
        self.sse_c_keys: set[str] = set()

    def app(self) -> web.Application:
        app = web.Application(client_max_size=64 * 2**20)
        app.router.add_route("*", "/{bucket}", self.bucket)
        app.router.add_route("*", "/{bucket}/{key:.+}", self.object)
        return app

    async def bucket(self, request: web.Request) -> web.StreamResponse:
        self.requests += 1
        name = request.match_info["bucket"]
        if request.method == "PUT" and not request.query:
            self.buckets[name] = {}
            return web.Response()
        objects = self.buckets.get(name)
        if objects is None:
            return web.Response(status=404, body=ERROR_DOC % b"NoSuchBucket")
        if request.method == "DELETE":
            if objects or self.mode == "undeletable":
                return web.Response(status=409, body=ERROR_DOC % b"BucketNotEmpty")
            del self.buckets[name]
            return web.Response(status=204)
        if "versions" in request.query:
            entries = "".join(
                f"<Version><Key>{escape(k)}</Key><VersionId>null</VersionId></Version>"
                for k in objects
            )
            return web.Response(body=f"<ListVersionsResult>{entries}</ListVersionsResult>")
        if "uploads" in request.query:
            return web.Response(body=b"<ListMultipartUploadsResult/>")
        if self.mode not in ("lenient", "undeletable"):
            return await self._misbehave()
        entries = "".join(f"<Contents><Key>{escape(k)}</Key></Contents>" for k in objects)
        return web.Response(body=f"<ListBucketResult>{entries}</ListBucketResult>")

    async def object(self, request: web.Request) -> web.StreamResponse:
        self.requests += 1
        sse_c_key = request.headers.get("x-amz-server-side-encryption-customer-key")
        if sse_c_key:
            self.sse_c_keys.add(sse_c_key)
        objects = self.buckets.get(request.match_info["bucket"])
        if objects is None:
            return web.Response(status=404, body=ERROR_DOC % b"NoSuchBucket")
        key = request.match_info["key"]
        if request.method == "DELETE":  # cleanup works in every mode
            objects.pop(key, None)
            return web.Response(status=204)
        if self.mode == "strict":
            refused = self._verify(request)
            if refused:
                return web.Response(status=403, body=ERROR_DOC % refused.encode())
        elif self.mode not in ("lenient", "undeletable"):
            return await self._misbehave()
        if request.method in ("PUT", "POST"):
            if "uploads" in request.query:
                return web.Response(body=b"<R><UploadId>u-1</UploadId></R>")
            objects[key] = await request.read()  # never decoded, never checked
            return web.Response(headers={"ETag": '"0"'})
        if key not in objects:
            return web.Response(status=404, body=ERROR_DOC % b"NoSuchKey")
        return web.Response(body=objects[key])

    def _verify(self, request: web.Request) -> str | None:
        """The error code for a header signature that is not right, else ``None``."""
        authorization = request.headers.get("Authorization")
        if authorization is None:
            return None if "X-Amz-Signature" in request.query else "AccessDenied"
        if f"Credential={ACCESS_KEY}/" not in authorization:
            return self.unknown_key_code
        names = authorization.split("SignedHeaders=", 1)[1].split(",", 1)[0].split(";")
        now = datetime.strptime(request.headers["x-amz-date"], "%Y%m%dT%H%M%SZ")
        canonical = canonical_request(
            request.method,
            f"http://{request.host}{request.raw_path}",
            {name: request.headers[name] for name in names},
            request.headers["x-amz-content-sha256"],
        )
        text = sigv4.string_to_sign(now, sigv4.credential_scope(now, "us-east-1", "s3"), canonical)
        expected = sigv4.signature(sigv4.signing_key(SECRET_KEY, now, "us-east-1", "s3"), text)
        sent = sigv4.signature_from_authorization(authorization)
        return None if sent == expected else "SignatureDoesNotMatch"

    async def _misbehave(self) -> web.StreamResponse:
        if self.mode == "error-200":
            return web.Response(status=200, body=ERROR_DOC % b"InternalError")
        return web.Response(status=501, body=ERROR_DOC % b"NotImplemented")


async def serve(aiohttp_server: Any, fake: Misbehaving | str) -> tuple[Misbehaving, S3Client]:
    fake = Misbehaving(fake) if isinstance(fake, str) else fake
    server = await aiohttp_server(fake.app())
    client = S3Client(
        f"http://127.0.0.1:{server.port}", ACCESS_KEY, SECRET_KEY,
        retry=RetryPolicy(attempts=1),
    )
    return fake, client


def by_id(*ids: str) -> list[Check]:
    return [check for check in CATALOGUE if check.id in ids]


async def verdicts(
    aiohttp_server: Any, mode: Misbehaving | str, *ids: str
) -> dict[str, Observation]:
    fake, client = await serve(aiohttp_server, mode)
    async with client:
        report = await run_probe(client, by_id(*ids))
    assert {name: sorted(keys) for name, keys in fake.buckets.items()} == {}  # all deleted
    assert report.left_behind == ()
    return {result.check.id: result.observation for result in report.results}


# -- each verdict, reached for its reason ---------------------------------------------------------


async def test_a_server_that_accepts_a_wrong_signature_is_accepted(aiohttp_server: Any) -> None:
    seen = await verdicts(aiohttp_server, "lenient", "auth.wrong-secret", "auth.unknown-key",
                          "payload.sha256-mismatch")

    assert seen["auth.unknown-key"].verdict == "accepted"
    assert seen["auth.wrong-secret"].verdict == "accepted"
    assert seen["payload.sha256-mismatch"].verdict == "accepted"
    assert seen["auth.wrong-secret"].status == 200


async def test_a_server_that_stores_the_chunk_framing_is_wrong(aiohttp_server: Any) -> None:
    seen = await verdicts(aiohttp_server, "lenient", "payload.chunked-signed",
                          "payload.unsigned-payload")

    assert seen["payload.chunked-signed"].verdict == "wrong"
    assert "framing was stored as data" in seen["payload.chunked-signed"].detail
    assert seen["payload.unsigned-payload"].verdict == "enforced"  # stored exactly


async def test_a_200_with_an_error_body_is_wrong(aiohttp_server: Any) -> None:
    seen = await verdicts(aiohttp_server, "error-200", "auth.wrong-secret",
                          "objects.get-missing", "conditional.get-if-match-wrong")

    for observation in seen.values():
        assert observation.verdict == "wrong"
        assert "with an <Error> body (InternalError)" in observation.detail


async def test_a_documented_refusal_is_enforced(aiohttp_server: Any) -> None:
    ids = ("auth.wrong-secret", "auth.unknown-key", "auth.tampered-signed-header",
           "payload.unsigned-payload")
    seen = await verdicts(aiohttp_server, "strict", *ids)
    swift_like = Misbehaving("strict", unknown_key_code="SignatureDoesNotMatch")
    other = await verdicts(aiohttp_server, swift_like, "auth.unknown-key")

    assert seen["auth.wrong-secret"] == Observation(
        "enforced", 403, "SignatureDoesNotMatch", "403 SignatureDoesNotMatch", documented=True
    )
    assert {(o.verdict, o.documented) for o in seen.values()} == {("enforced", True)}
    # Refused, but with another code than AWS documents (InvalidAccessKeyId).
    assert (other["auth.unknown-key"].verdict, other["auth.unknown-key"].documented) == (
        "enforced", False)


async def test_a_typed_refusal_of_a_feature_is_unsupported(aiohttp_server: Any) -> None:
    seen = await verdicts(aiohttp_server, "not-implemented", "tagging.put-get",
                          "multipart.list-uploads", "auth.wrong-secret")

    assert {o.verdict for o in seen.values()} == {"unsupported"}
    assert seen["tagging.put-get"].code == "NotImplemented"


async def crashes(context: Any) -> Observation:
    raise KeyError("a check that crashed")


async def stalls(context: Any) -> Observation:
    await asyncio.sleep(30)
    raise AssertionError("not reached")


async def test_a_check_that_crashes_or_stalls_is_an_error(aiohttp_server: Any) -> None:
    fake, client = await serve(aiohttp_server, "lenient")
    checks = [Check("x.crash", "x", "-", crashes), Check("x.stall", "x", "-", stalls)]
    async with client:
        report = await run_probe(client, checks, check_timeout=0.3)

    assert [r.observation.verdict for r in report.results] == ["error", "error"]
    assert "KeyError" in report.results[0].observation.detail
    assert "no answer within 0.3 s" in report.results[1].observation.detail
    assert {name: sorted(keys) for name, keys in fake.buckets.items()} == {}


# -- the verdict rules on their own ------------------------------------------------------------

REQUEST = PreparedRequest("GET", "http://h/b/k", {})


def answer(status: int, body: bytes = b"") -> RawResponse:
    return RawResponse(status, {}, body, REQUEST)


@pytest.mark.parametrize(
    ("status", "body", "stored", "verdict", "documented"),
    [
        (403, ERROR_DOC % b"SignatureDoesNotMatch", False, "enforced", True),
        (400, ERROR_DOC % b"AuthorizationHeaderMalformed", False, "enforced", False),
        (400, b"<html>Bad Request</html>", False, "enforced", False),
        (200, b"", True, "accepted", False),
        (200, ERROR_DOC % b"InternalError", False, "wrong", False),
        (403, ERROR_DOC % b"SignatureDoesNotMatch", True, "wrong", False),
        (501, ERROR_DOC % b"NotImplemented", False, "unsupported", False),
        (500, b"<html>Traceback</html>", False, "wrong", False),
    ],
)
def test_refusal_rules(
    status: int, body: bytes, stored: bool, verdict: str, documented: bool
) -> None:
    seen = refusal(answer(status, body), 403, ("SignatureDoesNotMatch",), stored=stored)

    assert (seen.verdict, seen.documented) == (verdict, documented)


@pytest.mark.parametrize(
    ("status", "body", "problem", "verdict"),
    [
        (200, b"", None, "enforced"),
        (200, b"", "ignored: no header", "accepted"),
        (200, b"", "other bytes returned", "wrong"),
        (200, ERROR_DOC % b"InternalError", None, "wrong"),
        (400, ERROR_DOC % b"InvalidRequest", None, "unsupported"),
        (501, b"", None, "unsupported"),
        (400, b"<html/>", None, "wrong"),
        (503, ERROR_DOC % b"SlowDown", None, "wrong"),
        (301, ERROR_DOC % b"PermanentRedirect", None, "unsupported"),
        (307, b"", None, "wrong"),
        (304, b"", None, "wrong"),
    ],
)
def test_feature_rules(status: int, body: bytes, problem: str | None, verdict: str) -> None:
    assert feature(answer(status, body), problem).verdict == verdict


# -- the catalogue, the report and its schema --------------------------------------------------


def test_the_catalogue_has_at_least_60_checks_with_unique_ids_in_every_group() -> None:
    ids = [check.id for check in CATALOGUE]

    assert len(ids) >= 60
    assert len(set(ids)) == len(ids)
    assert set(GROUPS) >= {"auth", "payload", "multipart", "objects", "conditional",
                           "versioning", "tagging", "sse-c", "listing", "addressing", "errors"}
    assert all(check.expectation for check in CATALOGUE)
    assert select(["tagging"]) == tuple(c for c in CATALOGUE if c.group == "tagging")
    with pytest.raises(ValueError, match="unknown group"):
        select(["tagging", "nope"])


# The schema of ``raws3 probe --json``, as data: a type (or tuple of types) per field.
SCHEMA: dict[str, Any] = {
    "schema": int,
    "name": (str, type(None)),
    "endpoint": str,
    "server": str,
    "started": str,
    "seconds": (int, float),
    "counts": dict,
    "left_behind": list,
    "checks": list,
}
CHECK_SCHEMA: dict[str, Any] = {
    "id": str,
    "group": str,
    "expectation": str,
    "verdict": str,
    "documented": bool,
    "status": (int, type(None)),
    "code": (str, type(None)),
    "observed": str,
    "seconds": (int, float),
}


def schema_problems(document: Any) -> list[str]:
    """Every way ``document`` departs from SCHEMA (an empty list: it conforms)."""
    problems = []
    if not isinstance(document, dict) or set(document) != set(SCHEMA):
        return [f"top-level fields {sorted(document) if isinstance(document, dict) else document}"]
    problems += [f"{k} is {type(document[k]).__name__}" for k, t in SCHEMA.items()
                 if not isinstance(document[k], t) or isinstance(document[k], bool)]
    if document["schema"] != 1 or set(document["counts"]) != set(VERDICTS):
        problems.append("schema version or verdict counts")
    for row in document["checks"]:
        if set(row) != set(CHECK_SCHEMA):
            problems.append(f"check fields {sorted(row)}")
            continue
        problems += [f"{row['id']}.{k}" for k, t in CHECK_SCHEMA.items()
                     if not isinstance(row[k], t) or (t is not bool and isinstance(row[k], bool))]
        if row["verdict"] not in VERDICTS or row["group"] != row["id"].partition(".")[0]:
            problems.append(f"{row['id']}: verdict {row['verdict']}")
    if problems:
        return problems
    tally = dict.fromkeys(VERDICTS, 0)
    for row in document["checks"]:
        tally[row["verdict"]] += 1
    if document["counts"] != tally:
        problems.append(f"counts {document['counts']} are not the rows' {tally}")
    if not all(isinstance(line, str) for line in document["left_behind"]):
        problems.append("left_behind holds something else than text")
    return problems


def test_the_schema_check_catches_a_broken_document() -> None:
    assert schema_problems({"schema": 1}) != []
    good = to_json(Report("http://h", "", "2026-01-01T00:00:00+00:00", 1.0, ()))
    assert schema_problems(good) == []
    assert schema_problems({**good, "counts": {}}) != []
    row = dict.fromkeys(CHECK_SCHEMA, "x")
    assert schema_problems({**good, "checks": [row]}) != []


def _one_fault(document: dict[str, Any], fault: str) -> dict[str, Any]:
    broken = json.loads(json.dumps(document))
    row = broken["checks"][0]
    if fault == "counts moved between verdicts":
        broken["counts"]["enforced"] -= 1
        broken["counts"]["wrong"] += 1
    elif fault == "a status that is a bool":
        row["status"] = True
    elif fault == "an unknown verdict":
        row["verdict"] = "fine"
    elif fault == "seconds as text":
        row["seconds"] = "0.1"
    elif fault == "a field missing":
        del row["observed"]
    elif fault == "a field too many":
        broken["extra"] = 1
    elif fault == "a group that is not the id's":
        row["group"] = "other"
    elif fault == "another schema version":
        broken["schema"] = 2
    elif fault == "left_behind not text":
        broken["left_behind"] = [{"bucket": "b"}]
    return broken


@pytest.mark.parametrize(
    "fault",
    ["counts moved between verdicts", "a status that is a bool", "an unknown verdict",
     "seconds as text", "a field missing", "a field too many", "a group that is not the id's",
     "another schema version", "left_behind not text"],
)
def test_the_schema_check_catches_each_single_fault(fault: str) -> None:
    check = CATALOGUE[0]
    results = (
        Result(check, Observation("enforced", 403, "AccessDenied", "403 AccessDenied"), 0.1),
        Result(check, Observation("accepted", 200, None, "200"), 0.2),
    )
    good = to_json(Report("http://h", "S", "2026-01-01T00:00:00+00:00", 1.0, results))
    assert schema_problems(good) == []
    assert schema_problems(_one_fault(good, fault)) != []


async def test_the_cli_writes_a_report_that_fits_the_schema(
    aiohttp_server: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    fake = Misbehaving("lenient")
    server = await aiohttp_server(fake.app())
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", ACCESS_KEY)
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", SECRET_KEY)
    argv = ["probe", "--endpoint-url", f"http://127.0.0.1:{server.port}", "--only",
            "auth,errors", "--json", str(tmp_path / "r.json"), "--markdown",
            str(tmp_path / "r.md"), "--label", "fake"]

    status = await asyncio.to_thread(main, argv)

    document = json.loads((tmp_path / "r.json").read_text())
    assert status == 0
    assert schema_problems(document) == []
    assert {row["group"] for row in document["checks"]} == {"auth", "errors"}
    assert document["name"] == "fake"
    assert "| `auth.wrong-secret` |" in (tmp_path / "r.md").read_text()
    assert "auth.wrong-secret" in capsys.readouterr().out
    assert {name: sorted(keys) for name, keys in fake.buckets.items()} == {}


def test_usage_errors_exit_2_and_an_unreachable_server_exits_1(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", ACCESS_KEY)
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", SECRET_KEY)
    with pytest.raises(SystemExit) as usage:
        main(["probe", "--only", "auth,nonsense"])
    assert usage.value.code == 2

    # Port 9 (discard) on loopback: nothing listens there; the bucket cannot be made.
    assert main(["probe", "--endpoint-url", "http://127.0.0.1:9", "--only", "auth"]) == 1
    assert SECRET_KEY not in capsys.readouterr().err


async def test_no_secret_shows_in_the_table_the_reports_or_the_debug_log(
    aiohttp_server: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    fake = Misbehaving("lenient")
    server = await aiohttp_server(fake.app())
    token = "IQoJb3JpZ2luX2VjEProbeSessionTokenSecret"
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", ACCESS_KEY)
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", SECRET_KEY)
    monkeypatch.setenv("AWS_SESSION_TOKEN", token)
    argv = ["probe", "--debug", "--endpoint-url", f"http://127.0.0.1:{server.port}",
            "--only", "sse-c,auth", "--json", str(tmp_path / "r.json"),
            "--markdown", str(tmp_path / "r.md")]

    logger = logging.getLogger("rawS3")
    handlers, level = list(logger.handlers), logger.level
    try:
        status = await asyncio.to_thread(main, argv)
    finally:  # --debug added a handler on this test's stderr
        logger.handlers[:], logger.level = handlers, level

    captured = capsys.readouterr()
    assert "raw PUT" in captured.err  # the debug log was on
    shown = captured.out + captured.err + (tmp_path / "r.json").read_text()
    shown += (tmp_path / "r.md").read_text()
    assert status == 0
    assert len(fake.sse_c_keys) >= 3  # the SSE-C checks really sent their keys
    for secret in (SECRET_KEY, token, *fake.sse_c_keys):
        assert secret not in shown


async def test_a_bucket_that_cannot_be_deleted_is_named_and_exits_1(
    aiohttp_server: Any, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    fake = Misbehaving("undeletable")
    server = await aiohttp_server(fake.app())
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", ACCESS_KEY)
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", SECRET_KEY)
    argv = ["probe", "--endpoint-url", f"http://127.0.0.1:{server.port}", "--only", "errors"]

    status = await asyncio.to_thread(main, argv)

    [bucket] = fake.buckets
    assert fake.buckets[bucket] == {}  # emptied, though not deleted
    assert status == 1
    assert f"could not delete: {bucket}: DeleteBucket answered 409" in capsys.readouterr().err


# -- cleanup, whenever the probe stops --------------------------------------------------------


@pytest.mark.parametrize("seed", [1, 2, 3])
async def test_a_cancellation_at_a_random_moment_leaves_nothing(
    aiohttp_server: Any, seed: int
) -> None:
    fake, client = await serve(aiohttp_server, "lenient")
    checks = select(["objects", "listing"])
    stop_after = random.Random(seed).randint(1, 60)  # requests into the run
    async with client:
        task = asyncio.ensure_future(run_probe(client, checks))
        for _ in range(2000):
            if fake.requests >= stop_after or task.done():
                break
            await asyncio.sleep(0.001)
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task

    assert fake.requests >= stop_after
    assert {name: sorted(keys) for name, keys in fake.buckets.items()} == {}


async def test_ctrl_c_deletes_what_the_probe_made_and_exits_130(aiohttp_server: Any) -> None:
    fake = Misbehaving("lenient")
    server = await aiohttp_server(fake.app())
    env = {**os.environ, "AWS_ACCESS_KEY_ID": ACCESS_KEY, "AWS_SECRET_ACCESS_KEY": SECRET_KEY,
           "PYTHONPATH": REPOSITORY}
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "rawS3", "probe", "--endpoint-url",
        f"http://127.0.0.1:{server.port}", "--only", "objects,listing,multipart",
        env=env, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
    )
    try:
        for _ in range(1000):  # at most 10 s for the child to start and get going
            if fake.requests >= 8 or process.returncode is not None:
                break
            await asyncio.sleep(0.01)
        assert fake.buckets  # mid-run: the probe's bucket and objects are there
        process.send_signal(signal.SIGINT)
        _, err = await asyncio.wait_for(process.communicate(), 20)
    finally:
        if process.returncode is None:
            process.kill()
            await process.wait()

    assert process.returncode == 130, err
    assert {name: sorted(keys) for name, keys in fake.buckets.items()} == {}


def test_the_text_and_markdown_tables_name_every_check() -> None:
    results = ()
    report = Report("http://h", "S", "2026-01-01T00:00:00+00:00", 0.5, results)
    assert "0 checks" in to_table(report)
    assert to_markdown(report, name="x").startswith("# `raws3 probe` report: x")


@pytest.mark.parametrize("server", ["rgw", "moto", "swift"])
def test_the_committed_reports_fit_the_schema(server: str) -> None:
    path = Path(REPOSITORY) / "docs" / "servers" / f"{server}.json"
    assert schema_problems(json.loads(path.read_text(encoding="utf-8"))) == []
