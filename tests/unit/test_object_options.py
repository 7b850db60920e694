"""The pure parts of versions, conditions, encryption, tags and extra headers/query.

Worked examples as data: the headers each option becomes, the documents each call sends and
reads, and the key that is never shown.
"""

from __future__ import annotations

import base64
import hashlib
import pickle
from datetime import datetime, timedelta, timezone
from urllib.parse import parse_qsl

import pytest
from hypothesis import given
from hypothesis import strategies as st

from rawS3 import SSECustomerKey
from rawS3.diagnosis import diagnose_signature_mismatch, redact_headers
from rawS3.encryption import customer_keys
from rawS3.errors import ConditionalRequestConflict, ResponseError, error_class_for
from rawS3.operations import objects, tagging, versions
from rawS3.operations.conditions import (
    copy_source_condition_headers,
    http_date,
    read_condition_headers,
    write_condition_headers,
)
from rawS3.operations.options import UploadOptions, read_headers, with_extras, write_headers
from rawS3.xml import Node

RAW_KEY = bytes(range(32))
B64_KEY = base64.b64encode(RAW_KEY).decode()
KEY_MD5 = base64.b64encode(hashlib.md5(RAW_KEY).digest()).decode()


def test_an_sse_c_key_sends_its_base64_and_md5() -> None:
    key = SSECustomerKey(RAW_KEY)
    assert key.headers() == {
        "x-amz-server-side-encryption-customer-algorithm": "AES256",
        "x-amz-server-side-encryption-customer-key": B64_KEY,
        "x-amz-server-side-encryption-customer-key-MD5": KEY_MD5,
    }
    assert (
        key.headers(copy_source=True)["x-amz-copy-source-server-side-encryption-customer-key"]
        == B64_KEY
    )
    assert key == SSECustomerKey(bytearray(RAW_KEY))
    assert key != SSECustomerKey(bytes(32))


def test_an_sse_c_key_is_never_shown_or_pickled() -> None:
    key = SSECustomerKey(RAW_KEY)
    for text in (repr(key), str(key), f"{key}", repr([key])):
        assert B64_KEY not in text
        assert RAW_KEY.hex() not in text
        assert KEY_MD5 in text
    with pytest.raises(TypeError, match="not pickled"):
        pickle.dumps(key)


def test_the_sse_c_key_is_masked_in_logged_headers_and_diagnoses() -> None:
    headers = {"Authorization": "AWS4 ... Signature=abc", **SSECustomerKey(RAW_KEY).headers()}
    shown = redact_headers(headers)
    assert B64_KEY not in repr(shown)
    assert shown["x-amz-server-side-encryption-customer-key-MD5"] == KEY_MD5
    assert customer_keys(headers) == [B64_KEY]
    canonical = f"PUT\n/b/k\n\nx-amz-server-side-encryption-customer-key:{B64_KEY}\n"
    text = diagnose_signature_mismatch(canonical.replace("PUT", "GET"), None, canonical, "sts")
    assert B64_KEY not in text


def test_tags_are_percent_encoded_so_ampersand_and_equals_cannot_split_them() -> None:
    value = tagging.encode_tagging({"a&b": "c=d", "sp ace": "ü+/"})
    assert value == "a%26b=c%3Dd&sp%20ace=%C3%BC%2B%2F"
    decoded = dict(parse_qsl(value, keep_blank_values=True))
    assert decoded == {"a&b": "c=d", "sp ace": "ü+/"}


def test_tagging_documents_round_trip() -> None:
    tags = {"a&b": "<c>", "empty": ""}
    body = tagging.tagging_document(tags)
    assert b"<Key>a&amp;b</Key><Value>&lt;c&gt;</Value>" in body
    assert tagging.parse_tagging(body).tags == tags
    request = tagging.put_object_tagging("bucket", "key", tags, version_id="v1")
    assert request.query == (("tagging", None), ("versionId", "v1"))
    assert request.body is not None
    assert "Content-MD5" in request.body.headers


def test_http_dates_are_gmt_imf_fixdates() -> None:
    when = datetime(1994, 11, 6, 9, 49, 37, tzinfo=timezone(timedelta(hours=1)))
    assert http_date("d", when) == "Sun, 06 Nov 1994 08:49:37 GMT"


def test_condition_headers() -> None:
    when = datetime(2020, 2, 29, tzinfo=timezone.utc)
    assert read_condition_headers(if_match='"e"', if_modified_since=when) == {
        "If-Match": '"e"',
        "If-Modified-Since": "Sat, 29 Feb 2020 00:00:00 GMT",
    }
    assert copy_source_condition_headers(if_none_match='"e"', if_unmodified_since=when) == {
        "x-amz-copy-source-if-none-match": '"e"',
        "x-amz-copy-source-if-unmodified-since": "Sat, 29 Feb 2020 00:00:00 GMT",
    }
    assert write_condition_headers(if_none_match="*") == {"If-None-Match": "*"}
    with pytest.raises(ValueError, match="not both"):
        write_condition_headers(if_match='"e"', if_none_match="*")


def test_write_headers_gather_every_option() -> None:
    headers = write_headers(
        if_none_match="*",
        server_side_encryption="aws:kms",
        sse_kms_key_id="arn:key",
        tagging={"k": "v"},
        cache_control="no-cache",
        expires=datetime(2030, 1, 1, tzinfo=timezone.utc),
    )
    assert headers == {
        "If-None-Match": "*",
        "x-amz-server-side-encryption": "aws:kms",
        "x-amz-server-side-encryption-aws-kms-key-id": "arn:key",
        "x-amz-tagging": "k=v",
        "Cache-Control": "no-cache",
        "Expires": "Tue, 01 Jan 2030 00:00:00 GMT",
    }
    assert (
        read_headers(sse_customer_key=SSECustomerKey(RAW_KEY))[
            "x-amz-server-side-encryption-customer-key-MD5"
        ]
        == KEY_MD5
    )


def test_upload_options_split_between_create_parts_and_complete() -> None:
    key = SSECustomerKey(RAW_KEY)
    options = UploadOptions(if_none_match="*", sse_customer_key=key, tagging={"k": "v"})
    assert options.complete_headers() == {"If-None-Match": "*"}
    assert options.part_headers() == key.headers()
    assert options.create_headers() == {**key.headers(), "x-amz-tagging": "k=v"}
    assert B64_KEY not in repr(options)


def test_extra_headers_and_query_are_added_to_the_request() -> None:
    request = objects.get_object("bucket", "key", start=None, end=None)
    extended = with_extras(request, {"x-amz-request-payer": "requester"}, {"partNumber": "1"})
    assert extended.headers == {"x-amz-request-payer": "requester"}
    assert extended.query == (("partNumber", "1"),)
    assert with_extras(request) is request
    with pytest.raises(ValueError, match="set by rawS3"):
        with_extras(request, {"X-Amz-Date": "x"})


def test_a_copy_names_its_source_version() -> None:
    request = objects.copy_object(
        "src", "a b", "dst", "k", metadata=None, content_type=None, source_version_id="v+1"
    )
    assert request.headers["x-amz-copy-source"] == "/src/a%20b?versionId=v%2B1"


VERSIONS = (
    b'<?xml version="1.0" encoding="UTF-8"?>'
    b'<ListVersionsResult xmlns="http://s3.amazonaws.com/doc/2006-03-01/">'
    b"<EncodingType>url</EncodingType><IsTruncated>true</IsTruncated>"
    b"<NextKeyMarker>b%20c</NextKeyMarker><NextVersionIdMarker>v3</NextVersionIdMarker>"
    b"<Version><Key>a</Key><VersionId>v1</VersionId><IsLatest>true</IsLatest>"
    b'<LastModified>2020-01-01T00:00:00.000Z</LastModified><ETag>"e"</ETag><Size>3</Size>'
    b"</Version>"
    b"<DeleteMarker><Key>b%20c</Key><VersionId>v3</VersionId><IsLatest>true</IsLatest>"
    b"<LastModified>2020-01-02T00:00:00.000Z</LastModified></DeleteMarker>"
    b"<Version><Key>b%20c</Key><VersionId>v2</VersionId><IsLatest>false</IsLatest>"
    b'<LastModified>2020-01-01T00:00:00.000Z</LastModified><ETag>"f"</ETag><Size>4</Size>'
    b"</Version>"
    b"</ListVersionsResult>"
)


def test_a_version_listing_keeps_markers_among_versions_in_order() -> None:
    page = versions.parse_list_object_versions(VERSIONS)
    assert [(v.key, v.version_id, v.is_delete_marker) for v in page.versions] == [
        ("a", "v1", False),
        ("b c", "v3", True),
        ("b c", "v2", False),
    ]
    assert page.versions[1].etag is None
    assert page.versions[2].size == 4
    assert (page.next_key_marker, page.next_version_id_marker) == ("b c", "v3")
    assert versions.next_version_markers(page, (None, None)) == ("b c", "v3")
    with pytest.raises(ResponseError, match="same key and version-id markers"):
        versions.next_version_markers(page, ("b c", "v3"))


def test_deleting_versions() -> None:
    targets = versions.delete_targets(["a", ("a", "v1"), "a", ("b", None)])
    assert targets == [("a", None), ("a", "v1"), ("b", None)]
    root = Node.parse(versions.build_delete_versions(targets, quiet=True), "Delete")
    entries = [(o.text("Key"), o.text("VersionId")) for o in root.children("Object")]
    assert entries == [("a", None), ("a", "v1"), ("b", None)]


def test_versioning_documents() -> None:
    request = versions.put_bucket_versioning("bucket", "Enabled")
    assert request.body is not None
    assert b"<Status>Enabled</Status>" in bytes(request.body.data)
    empty = b'<VersioningConfiguration xmlns="http://s3.amazonaws.com/doc/2006-03-01/"/>'
    assert versions.parse_bucket_versioning(empty).status is None


def test_a_409_conflict_on_a_conditional_write_is_typed() -> None:
    assert error_class_for("ConditionalRequestConflict") is ConditionalRequestConflict


def test_a_raw_request_carrying_an_sse_c_key_does_not_show_it() -> None:
    from rawS3 import PreparedRequest

    prepared = PreparedRequest("GET", "http://h/b/k", SSECustomerKey(RAW_KEY).headers())
    assert B64_KEY not in repr(prepared)
    assert KEY_MD5 in repr(prepared)


TAG_TEXT = st.characters(blacklist_categories=("Cs", "Cc", "Cn", "Co"))


@given(
    st.dictionaries(
        st.text(TAG_TEXT, min_size=1, max_size=20), st.text(TAG_TEXT, max_size=20), max_size=10
    )
)
def test_any_tag_set_survives_the_header_and_the_document(tags: dict[str, str]) -> None:
    header = tagging.encode_tagging(tags)
    assert dict(parse_qsl(header, keep_blank_values=True)) == tags
    assert all(c.isascii() and c not in " \r\n" for c in header)
    assert tagging.parse_tagging(tagging.tagging_document(tags)).tags == tags
