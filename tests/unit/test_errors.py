from __future__ import annotations

import pickle

import pytest

from rawS3 import errors
from rawS3.diagnosis import diagnose_signature_mismatch, signing_texts_from_details
from rawS3.errors import (
    RETRYABLE_CODES,
    IntegrityError,
    NoSuchBucket,
    NoSuchKey,
    ObjectChanged,
    RawS3Error,
    ResponseError,
    S3Error,
    SignatureDoesNotMatch,
    SlowDown,
    SourceError,
    TransportError,
    TransportTimeout,
    code_for_status,
    error_class_for,
    make_s3_error,
)

DESIGN_CODES = [
    "NoSuchBucket",
    "NoSuchKey",
    "NoSuchUpload",
    "AccessDenied",
    "SignatureDoesNotMatch",
    "InvalidAccessKeyId",
    "EntityTooSmall",
    "EntityTooLarge",
    "InvalidPart",
    "InvalidPartOrder",
    "BucketAlreadyOwnedByYou",
    "BucketAlreadyExists",
    "BucketNotEmpty",
    "InvalidBucketName",
    "RequestTimeTooSkewed",
    "SlowDown",
    "InternalError",
    "ServiceUnavailable",
    "BadDigest",
    "XAmzContentSHA256Mismatch",
    "InvalidRange",
    "PreconditionFailed",
    "RequestTimeout",
    "ExpiredToken",
    "InvalidRequest",
    "MalformedXML",
    "InvalidDigest",
    "NotModified",
]


def _no_such_key() -> S3Error:
    return make_s3_error(
        code="NoSuchKey",
        message="The specified key does not exist.",
        status=404,
        request_id="4442587FB7D0A2F9",
        host_id="host-id",
        bucket="photos",
        key="2006/February/sample.jpg",
        resource="/photos/2006/February/sample.jpg",
        details={"Extra": "x"},
    )


# --- class mapping -----------------------------------------------------------------------


@pytest.mark.parametrize("code", DESIGN_CODES)
def test_every_design_code_has_its_own_class(code: str) -> None:
    cls = error_class_for(code)
    assert cls is not S3Error
    assert cls.__name__ == code
    assert issubclass(cls, S3Error)
    assert getattr(errors, code) is cls
    assert code in errors.__all__


@pytest.mark.parametrize("code", ["Throttling", "ThrottlingException", "RequestThrottled"])
def test_throttling_codes_map_to_slow_down(code: str) -> None:
    assert error_class_for(code) is SlowDown


@pytest.mark.parametrize("code", ["SomethingNew", "", "HTTP418", "nosuchkey"])
def test_unknown_code_maps_to_s3_error(code: str) -> None:
    assert error_class_for(code) is S3Error


def test_error_class_for_refuses_non_str() -> None:
    with pytest.raises(TypeError, match="str"):
        error_class_for(404)  # type: ignore[arg-type]


def test_tree_shape() -> None:
    for cls in (S3Error, TransportError, ResponseError, SourceError, IntegrityError):
        assert issubclass(cls, RawS3Error)
    assert issubclass(TransportTimeout, TransportError)
    assert issubclass(RawS3Error, Exception)
    assert not issubclass(ResponseError, S3Error)


def test_retryable_codes() -> None:
    assert isinstance(RETRYABLE_CODES, frozenset)
    assert {
        "SlowDown",
        "InternalError",
        "ServiceUnavailable",
        "RequestTimeout",
        "Throttling",
        "ThrottlingException",
        "RequestThrottled",
    } == RETRYABLE_CODES


# --- code_for_status ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("status", "has_key", "code"),
    [
        (404, True, "NoSuchKey"),
        (404, False, "NoSuchBucket"),
        (403, True, "AccessDenied"),
        (400, False, "BadRequest"),
        (412, True, "PreconditionFailed"),
        (304, True, "NotModified"),
        (416, True, "InvalidRange"),
        (409, False, "Conflict"),
        (500, True, "InternalError"),
        (503, True, "ServiceUnavailable"),
        (301, False, "PermanentRedirect"),
        (307, False, "TemporaryRedirect"),
        (418, True, "HTTP418"),
        (502, False, "HTTP502"),
    ],
)
def test_code_for_status(status: int, has_key: bool, code: str) -> None:
    assert code_for_status(status, has_key=has_key) == code


def test_code_for_status_and_class_agree_for_head_404() -> None:
    assert error_class_for(code_for_status(404, has_key=True)) is NoSuchKey
    assert error_class_for(code_for_status(404, has_key=False)) is NoSuchBucket


@pytest.mark.parametrize("status", [99, 600, -1])
def test_code_for_status_refuses_out_of_range(status: int) -> None:
    with pytest.raises(ValueError, match="100 to 599"):
        code_for_status(status, has_key=False)


@pytest.mark.parametrize("status", [True, "404", 404.0])
def test_code_for_status_refuses_non_int(status: object) -> None:
    with pytest.raises(TypeError, match="int"):
        code_for_status(status, has_key=False)  # type: ignore[arg-type]


# --- make_s3_error and str ---------------------------------------------------------------


def test_make_s3_error_picks_class_and_keeps_fields() -> None:
    error = _no_such_key()
    assert type(error) is NoSuchKey
    assert error.code == "NoSuchKey"
    assert error.message == "The specified key does not exist."
    assert error.status == 404
    assert error.request_id == "4442587FB7D0A2F9"
    assert error.host_id == "host-id"
    assert error.bucket == "photos"
    assert error.key == "2006/February/sample.jpg"
    assert error.resource == "/photos/2006/February/sample.jpg"
    assert error.details == {"Extra": "x"}


def test_make_s3_error_unknown_code_is_plain_s3_error() -> None:
    error = make_s3_error(code="HTTP418", message="", status=418)
    assert type(error) is S3Error
    assert error.details == {}
    assert error.request_id is None


def test_details_are_copied() -> None:
    details = {"A": "1"}
    error = make_s3_error(code="X", message="m", status=400, details=details)
    details["A"] = "2"
    assert error.details == {"A": "1"}


def test_str_shows_code_message_status_request_id_bucket_key() -> None:
    assert str(_no_such_key()) == (
        "NoSuchKey: The specified key does not exist. (status 404, "
        "request id 4442587FB7D0A2F9, bucket photos, key 2006/February/sample.jpg)"
    )


def test_str_with_empty_message_and_no_context() -> None:
    error = make_s3_error(code="NoSuchKey", message="", status=404)
    assert str(error) == "NoSuchKey (status 404)"


def test_str_with_bucket_only() -> None:
    error = make_s3_error(
        code="NoSuchBucket", message="gone", status=404, request_id="r1", bucket="b"
    )
    assert str(error) == "NoSuchBucket: gone (status 404, request id r1, bucket b)"


def test_s3_error_fields_are_keyword_only() -> None:
    with pytest.raises(TypeError):
        S3Error("NoSuchKey", "m", 404)  # type: ignore[call-arg]


def test_signature_error_appends_diagnosis() -> None:
    error = make_s3_error(code="SignatureDoesNotMatch", message="bad sig", status=403)
    assert isinstance(error, SignatureDoesNotMatch)
    assert error.diagnosis is None
    assert str(error) == "SignatureDoesNotMatch: bad sig (status 403)"
    error.diagnosis = "canonical request: first difference at line 2"
    assert str(error).endswith("\ncanonical request: first difference at line 2")


# --- pickling ----------------------------------------------------------------------------


def test_s3_error_pickles() -> None:
    error = _no_such_key()
    copy = pickle.loads(pickle.dumps(error))
    assert type(copy) is NoSuchKey
    assert str(copy) == str(error)
    assert copy.details == error.details
    assert copy.resource == error.resource
    assert copy.host_id == error.host_id


def test_signature_error_pickles_with_diagnosis() -> None:
    error = make_s3_error(code="SignatureDoesNotMatch", message="m", status=403)
    assert isinstance(error, SignatureDoesNotMatch)
    error.diagnosis = "diag"
    copy = pickle.loads(pickle.dumps(error))
    assert isinstance(copy, SignatureDoesNotMatch)
    assert copy.diagnosis == "diag"
    assert str(copy) == str(error)


@pytest.mark.parametrize(
    "error",
    [
        SourceError("https://example.com/a", 404, "not found"),
        IntegrityError("etag differs", expected="a", actual="b"),
        ObjectChanged("bucket", "key", expected='"a"', actual='"b"'),
        TransportTimeout("read timed out"),
        TransportError("connection refused"),
        ResponseError("bad xml"),
    ],
    ids=lambda error: type(error).__name__,
)
def test_other_errors_pickle(error: RawS3Error) -> None:
    copy = pickle.loads(pickle.dumps(error))
    assert type(copy) is type(error)
    assert str(copy) == str(error)
    assert copy.__dict__ == error.__dict__


# --- SourceError / IntegrityError --------------------------------------------------------


def test_source_error_fields_and_str() -> None:
    error = SourceError("https://example.com/data.bin", 503, "the source answered 503")
    assert (error.url, error.status, error.message) == (
        "https://example.com/data.bin",
        503,
        "the source answered 503",
    )
    assert str(error) == "source https://example.com/data.bin: the source answered 503 (status 503)"


def test_source_error_without_status() -> None:
    error = SourceError("http://h/x", None, "connection refused")
    assert str(error) == "source http://h/x: connection refused"


def test_source_error_masks_query_and_userinfo() -> None:
    url = "https://user:pw@bucket.s3.amazonaws.com/k?X-Amz-Signature=abc&X-Amz-Security-Token=tok"
    text = str(SourceError(url, 403, "denied"))
    assert "abc" not in text
    assert "tok" not in text
    assert "pw" not in text
    assert "https://bucket.s3.amazonaws.com/k?..." in text
    assert SourceError(url, 403, "denied").url == url


def test_integrity_error_fields() -> None:
    error = IntegrityError("checksum mismatch", expected="e", actual="a")
    assert (error.expected, error.actual, str(error)) == ("e", "a", "checksum mismatch")


# --- signature diagnosis -----------------------------------------------------------------

OURS_CR = "\n".join(
    [
        "GET",
        "/bucket/key",
        "",
        "host:example.com",
        "x-amz-content-sha256:UNSIGNED-PAYLOAD",
        "x-amz-date:20240101T000000Z",
        "",
        "host;x-amz-content-sha256;x-amz-date",
        "UNSIGNED-PAYLOAD",
    ]
)
OURS_STS = "AWS4-HMAC-SHA256\n20240101T000000Z\n20240101/us-east-1/s3/aws4_request\nabc"


def test_diagnosis_marks_first_differing_line() -> None:
    server_cr = OURS_CR.replace("/bucket/key", "/bucket/key%20x").replace("example.com", "h")
    server_sts = OURS_STS.replace("abc", "def")
    report = diagnose_signature_mismatch(server_cr, server_sts, OURS_CR, OURS_STS)
    lines = report.splitlines()
    assert lines[0] == "canonical request: first difference at line 2 (server vs ours)"
    marked = [line for line in lines if line.startswith(">")]
    assert marked == [">    2  server: '/bucket/key%20x'", ">    4  server: 'def'"]
    assert "        ours:   '/bucket/key'" in lines
    assert "     4  server: 'host:h'" in lines
    assert "        ours:   'host:example.com'" in lines
    assert "     1  GET" in lines
    assert "string to sign: first difference at line 4 (server vs ours)" in lines
    assert "signing key" not in report


def test_diagnosis_shows_whitespace_and_missing_lines() -> None:
    server_cr = OURS_CR.replace("x-amz-date:20240101T000000Z", "x-amz-date:20240101T000000Z ")
    server_cr += "\nextra"
    report = diagnose_signature_mismatch(server_cr, OURS_STS, OURS_CR, OURS_STS)
    assert ">    6  server: 'x-amz-date:20240101T000000Z '" in report
    assert "        ours:   'x-amz-date:20240101T000000Z'" in report
    assert "    10  server: 'extra'" in report
    assert "        ours:   (no such line)" in report


def test_diagnosis_identical_texts_blame_the_signing_key() -> None:
    report = diagnose_signature_mismatch(OURS_CR, OURS_STS, OURS_CR, OURS_STS)
    assert "canonical request: identical on both sides" in report
    assert "string to sign: identical on both sides" in report
    assert report.endswith("the signing key differs: check the secret key")


def test_diagnosis_without_server_texts_lists_ours() -> None:
    report = diagnose_signature_mismatch(None, None, OURS_CR, OURS_STS)
    assert "canonical request: the server did not return its version; ours is:" in report
    assert "string to sign: the server did not return its version; ours is:" in report
    assert "     2  /bucket/key" in report.splitlines()
    assert ">" not in report


def test_diagnosis_masks_session_tokens() -> None:
    ours = OURS_CR.replace("host:example.com", "host:example.com\nx-amz-security-token:SECRET1")
    server = ours.replace("SECRET1", "SECRET2")
    query = "X-Amz-Date=1&X-Amz-Security-Token=SECRET3&X-Amz-SignedHeaders=host"
    report = diagnose_signature_mismatch(
        server + "\n" + query, OURS_STS, ours + "\n" + query, OURS_STS
    )
    assert "SECRET" not in report
    assert "x-amz-security-token:***" in report
    assert "X-Amz-Security-Token=***&X-Amz-SignedHeaders=host" in report
    # The tokens still differ, so the line is reported as a difference.
    assert "first difference at line 5" in report


def test_signing_texts_prefer_text_form() -> None:
    details = {"CanonicalRequest": "GET\n/", "StringToSign": "AWS4", "StringToSignBytes": "41"}
    assert signing_texts_from_details(details) == ("GET\n/", "AWS4")


def test_signing_texts_decode_hex_bytes() -> None:
    details = {
        "CanonicalRequestBytes": "47 45 54 0a 2f",
        "StringToSignBytes": "41 57 53 34",
    }
    assert signing_texts_from_details(details) == ("GET\n/", "AWS4")


def test_signing_texts_missing_or_undecodable() -> None:
    assert signing_texts_from_details({}) == (None, None)
    assert signing_texts_from_details({"StringToSignBytes": "zz"}) == (None, None)
    assert signing_texts_from_details({"StringToSignBytes": "ff fe"}) == (None, None)
