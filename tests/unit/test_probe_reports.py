"""The committed probe reports (``docs/servers/*.json``) agree with the integration suite.

Every ``pytest.mark.unsupported(server, ...)`` mark in ``tests/integration`` is found (by
reading the source, not by running it) and looked up in ``MARKS``: a mark names the probe
check that measures the same behaviour, or ``NOT_PROBED`` when no check does (TLS set-up,
bucket policies, ...). Then, for each mapped mark, the server's report must show that check
not doing what AWS documents, and every other server with a report must show it enforced.
A mark missing from ``MARKS`` fails the test: add it, mapped or ``NOT_PROBED``.
"""

from __future__ import annotations

import ast
import json
from pathlib import Path
from typing import Any

import pytest

from rawS3.probe.checks import CATALOGUE

ROOT = Path(__file__).resolve().parents[2]
REPORTS = {name: ROOT / "docs" / "servers" / f"{name}.json" for name in ("rgw", "moto", "swift")}
NOT_PROBED = "not probed"

# (file, where the mark is: the test function, the variable holding it, or "pytestmark"),
# then the server -> the probe check measuring the same thing, or NOT_PROBED.
MARKS: dict[tuple[str, str], dict[str, str]] = {
    ("test_auth_errors.py", "test_an_unknown_access_key_is_invalid_access_key_id"): {
        "swift": "auth.unknown-key"},
    ("test_buckets.py", "test_create_with_a_location_constraint"): {"swift": NOT_PROBED},
    ("test_buckets.py", "test_creating_an_owned_bucket_again"): {
        "rgw": NOT_PROBED, "swift": NOT_PROBED},
    ("test_chunked_put.py", "NOT_ON_SWIFT"): {"swift": "payload.chunked-signed"},
    ("test_chunked_put.py", "test_wrong_chunk_signature_is_refused"): {
        "moto": "payload.chunk-signature-tampered", "swift": "payload.chunk-signature-tampered"},
    ("test_chunked_put.py", "test_altered_chunk_is_refused"): {
        "moto": "payload.chunk-data-tampered"},
    ("test_cli.py", "test_presigned_get_and_put_urls_work_with_plain_aiohttp"): {
        "moto": "auth.presigned-get"},
    ("test_cli.py", "test_https_with_ca_file"): {"moto": NOT_PROBED},
    ("test_cli_presign.py", "pytestmark"): {"moto": "auth.presigned-get"},
    ("test_integrity.py", "MOTO_SIGNED"): {"moto": "payload.sha256-mismatch"},
    ("test_integrity.py", "test_put_object_with_content_md5_refuses_a_flipped_byte"): {
        "moto": "payload.content-md5-wrong"},
    ("test_multipart.py", "test_upload_part_after_abort_is_no_such_upload"): {
        "moto": "multipart.part-after-abort"},
    ("test_presign.py", "pytestmark"): {"moto": "auth.presigned-get"},
    ("test_presign_ops.py", "MOTO_NO_PRESIGN"): {"moto": "auth.presigned-get"},
    ("test_presign_ops.py", "test_tampered_or_expired_urls_are_refused"): {
        "moto": "auth.presigned-tampered"},
    ("test_presign_ops.py", "test_a_presigned_get_of_one_part"): {
        "moto": "auth.presigned-get", "rgw": "multipart.get-part-number",
        "swift": "multipart.get-part-number"},
    # Presigned POST (browser forms) is not probed.
    ("test_presign_ops.py", "MOTO_NO_FORM"): {"moto": NOT_PROBED},
    ("test_presign_ops.py", "SWIFT_NO_FORM"): {"swift": NOT_PROBED},
    ("test_raw_api.py", "test_a_body_that_is_not_the_signed_hash_is_refused"): {
        "moto": "payload.sha256-mismatch"},
    ("test_raw_api.py", "test_an_expired_presigned_url_is_refused"): {
        "moto": "auth.presigned-expired"},
    ("test_raw_api.py", "test_an_anonymous_get_of_a_private_object_is_access_denied"): {
        "swift": "auth.anonymous-get"},
    ("test_raw_api.py", "SWIFT_CHUNKED"): {"swift": "payload.chunked-signed"},
    ("test_raw_api.py", "test_a_bucket_policy_is_set_read_back_and_deleted"): {
        "swift": NOT_PROBED},
    ("test_raw_api.py", "test_a_bucket_policy_lets_anonymous_readers_in"): {
        "moto": NOT_PROBED, "swift": NOT_PROBED},
    ("test_retries.py", "test_lost_create_answer_leaves_no_upload_behind"): {"moto": NOT_PROBED},
    ("test_retries.py", "test_skewed_clock_is_corrected_once"): {
        "moto": "auth.date-an-hour-ahead"},
    ("test_security.py", "https_only"): {"moto": NOT_PROBED},
    ("test_security.py", "test_https_is_accepted_with_the_ca"): {"moto": NOT_PROBED},
    ("test_security.py", "test_https_is_refused_without_the_ca"): {"moto": NOT_PROBED},
    # STS, proxies and TLS tunnels are the client's side, not the server's S3 protocol.
    ("test_credentials_sts.py", "pytestmark"): {"rgw": NOT_PROBED, "swift": NOT_PROBED},
    ("test_proxy_env.py", "test_https_goes_through_https_proxy_with_connect"): {
        "moto": NOT_PROBED},
}
# Tests that presign (moto fails every presigned URL with 500), and presigned POST forms.
MARKS |= {("test_presign_ops.py", name): {"moto": "auth.presigned-get"} for name in (
    "test_a_multipart_upload_through_presigned_urls", "test_a_presigned_abort_and_list_parts",
    "test_a_presigned_bucket_listing", "test_a_presigned_url_of_one_version",
    "test_a_signed_header_must_be_sent", "test_presigned_head_and_delete",
    "test_response_overrides_set_the_answers_headers",
)}
MARKS |= {("test_presign_ops.py", name): {"moto": NOT_PROBED, "swift": NOT_PROBED} for name in (
    "test_a_browser_form_upload", "test_a_form_breaking_its_policy_is_refused",
    "test_a_form_with_a_changed_policy_or_after_expiry_is_refused",
)}

# Checksums read back: only moto stores and returns them (x-amz-checksum-mode on GET).
MARKS |= {("test_checksum_uploads.py", name): {
    "rgw": "payload.checksum-mode-get", "swift": "payload.checksum-mode-get"} for name in (
    "test_put_bytes_with_checksum_is_verified_by_boto3",
    "test_streamed_put_with_trailer_is_verified_by_boto3",
    "test_multipart_object_checksum_agrees_with_the_server_and_boto3",
    "test_streamed_parts_with_trailers_make_a_full_object_crc",
    "test_a_wrong_stored_checksum_fails_boto3_and_raws3_reads",
)}
# Versions, conditions, encryption and tags (test_versions.py, test_conditions.py, ...).
MARKS |= {
    ("test_cli_versions.py", "test_head_shows_tags_and_encryption"): {"swift": "tagging.put-get"},
    ("test_cli_versions.py", "test_put_if_none_match_creates_only"): {
        "swift": "conditional.put-if-none-match-star"},
    ("test_conditions.py", "test_a_create_only_multipart_upload_refuses_an_existing_key"): {
        "rgw": "conditional.complete-if-none-match"},
    ("test_conditions.py", "test_a_create_only_put_whose_answer_was_lost_is_recognised"): {
        "swift": "conditional.put-if-none-match-star"},
    ("test_conditions.py", "test_copy_source_conditions"): {"moto": NOT_PROBED, "rgw": NOT_PROBED},
    ("test_conditions.py", "test_put_if_match_refuses_a_stale_etag"): {
        "swift": "conditional.put-if-match-wrong"},
    ("test_conditions.py", "test_put_if_match_with_the_current_etag_replaces"): {
        "rgw": "conditional.put-if-match-quoted", "swift": "conditional.put-if-match-quoted"},
    ("test_conditions.py", "test_put_if_match_with_the_unquoted_etag_replaces"): {
        "swift": NOT_PROBED},
    ("test_conditions.py", "test_put_if_none_match_creates_only"): {
        "swift": "conditional.put-if-none-match-star"},
    ("test_conditions.py", "test_two_racing_creators_exactly_one_wins"): {
        "swift": "conditional.put-if-none-match-star"},
    ("test_encryption.py", "test_reading_sse_c_without_or_with_another_key_fails"): {
        "moto": "sse-c.get-without-key", "swift": "sse-c.get-without-key"},
    ("test_encryption.py", "test_sse_c_copies_with_both_keys"): {"rgw": NOT_PROBED},
    ("test_encryption.py", "test_sse_s3_is_requested_and_reported"): {
        "rgw": NOT_PROBED, "swift": NOT_PROBED},
    ("test_tagging.py", "pytestmark"): {"swift": "tagging.put-get"},
    ("test_tagging.py", "test_a_copy_with_new_tags"): {"rgw": NOT_PROBED},
    ("test_tagging.py", "test_tags_given_to_a_multipart_upload"): {"rgw": NOT_PROBED},
    ("test_copy_over_limit.py", "test_a_copy_in_parts_reads_an_sse_c_source_with_its_key"): {
        "rgw": NOT_PROBED,
    },
    ("test_copy_over_limit.py", "test_a_copy_in_parts_copies_the_sources_tags"): {
        "rgw": NOT_PROBED,
        "swift": "tagging.put-get",
    },
    ("test_versions.py", "test_listing_versions_shows_delete_markers_and_follows_both_markers"): {
        "swift": NOT_PROBED},
}

# A streamed object's own Content-Encoding: Swift takes no aws-chunked body, RGW no trailer.
MARKS |= {
    ("test_streamed_content_encoding.py", "test_a_streamed_gzip_object_keeps_its_encoding"): {
        "swift": "payload.chunked-signed"},
    ("test_streamed_content_encoding.py",
     "test_a_streamed_gzip_object_with_a_trailer_keeps_its_encoding"): {
        "rgw": "payload.trailer-unsigned", "swift": "payload.chunked-signed"},
}


def _owner(node: ast.AST, parents: dict[ast.AST, ast.AST]) -> str:
    """The test function, variable or ``pytestmark`` a mark belongs to."""
    variable = "<module>"
    while node in parents:
        node = parents[node]
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            return node.name  # a decorator, or a helper that marks the tests it is given
        if isinstance(node, ast.Assign) and isinstance(node.targets[0], ast.Name):
            variable = node.targets[0].id
    return variable


def unsupported_marks(folder: Path) -> set[tuple[str, str, str]]:
    """Every ``*.mark.unsupported("server", ...)`` in ``folder``: (file, owner, server)."""
    found = set()
    for path in sorted(folder.glob("test_*.py")):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        parents = {child: node for node in ast.walk(tree) for child in ast.iter_child_nodes(node)}
        for node in ast.walk(tree):
            if (
                isinstance(node, ast.Call)
                and isinstance(node.func, ast.Attribute)
                and node.func.attr == "unsupported"
                and node.args
                and isinstance(node.args[0], ast.Constant)
            ):
                found.add((path.name, _owner(node, parents), str(node.args[0].value)))
        # A mark kept in a variable and used as a decorator belongs to that test too.
        held = {(owner, server) for file, owner, server in found if file == path.name}
        for node in ast.walk(tree):
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
                names = {d.id for d in node.decorator_list if isinstance(d, ast.Name)}
                found |= {(path.name, node.name, server) for owner, server in held
                          if owner in names}
    return found


MARKED = unsupported_marks(ROOT / "tests" / "integration")


def report(server: str) -> dict[str, dict[str, Any]]:
    document = json.loads(REPORTS[server].read_text(encoding="utf-8"))
    return {row["id"]: row for row in document["checks"]}


def test_the_marks_are_found() -> None:
    assert ("test_presign.py", "pytestmark", "moto") in MARKED
    assert ("test_chunked_put.py", "NOT_ON_SWIFT", "swift") in MARKED
    assert len(MARKED) >= 20


def test_every_unsupported_mark_is_in_the_table() -> None:
    unknown = sorted(
        (file, owner, server)
        for file, owner, server in MARKED
        if server in REPORTS and server not in MARKS.get((file, owner), {})
    )
    assert unknown == [], "map each to a probe check, or to NOT_PROBED, in MARKS"


def test_the_table_names_only_real_marks_and_checks() -> None:
    listed = {(file, owner, server) for (file, owner), row in MARKS.items() for server in row}
    ids = {check.id for check in CATALOGUE}
    assert listed <= MARKED
    assert {check for row in MARKS.values() for check in row.values()} - {NOT_PROBED} <= ids


PROBED = sorted(
    (file, owner, check, frozenset(s for s, c in row.items() if c == check), frozenset(row))
    for (file, owner), row in MARKS.items()
    for check in set(row.values()) - {NOT_PROBED}
)


@pytest.mark.parametrize(("file", "owner", "check", "marked", "skipped"), PROBED,
                         ids=[f"{p[1]}-{p[2]}" for p in PROBED])
def test_each_report_agrees_with_the_marks(
    file: str, owner: str, check: str, marked: frozenset[str], skipped: frozenset[str]
) -> None:
    # A test that expects a refusal passes on a server that refuses in any typed way (501
    # included); one that expects a feature to work needs it to work.
    expectation = next(c.expectation for c in CATALOGUE if c.id == check)
    passing = {"enforced", "unsupported"} if expectation[:1] == "4" else {"enforced"}
    for server in REPORTS:
        row = report(server)[check]
        as_documented = row["verdict"] == "enforced" and row["documented"]
        if server in marked:
            assert not as_documented, f"{server} is marked unsupported by {owner}"
        elif server not in skipped:  # (a test skipped for another reason says nothing)
            assert row["verdict"] in passing, f"{server} runs {owner}, but {row}"


@pytest.mark.parametrize("server", sorted(REPORTS))
def test_each_committed_report_covers_the_catalogue(server: str) -> None:
    rows = report(server)
    assert list(rows) == [check.id for check in CATALOGUE]
    assert "error" not in {row["verdict"] for row in rows.values()}
