"""The exceptions rawS3 raises, and the helpers that pick one for a server answer.

Every exception rawS3 raises on purpose derives from :class:`RawS3Error`::

    RawS3Error
    ├── S3Error                    the server answered with an S3 error document or status
    │   ├── NoSuchBucket, NoSuchKey, NoSuchUpload, NoSuchVersion
    │   ├── AccessDenied, SignatureDoesNotMatch, InvalidAccessKeyId, ExpiredToken,
    │   │   RequestTimeTooSkewed, AuthorizationHeaderMalformed
    │   ├── EntityTooSmall, EntityTooLarge, InvalidPart, InvalidPartOrder
    │   ├── BucketAlreadyOwnedByYou, BucketAlreadyExists, BucketNotEmpty, InvalidBucketName
    │   ├── SlowDown, InternalError, ServiceUnavailable, RequestTimeout
    │   ├── BadDigest, InvalidDigest, XAmzContentSHA256Mismatch
    │   ├── InvalidRange, PreconditionFailed, NotModified
    │   ├── InvalidRequest, InvalidArgument, MalformedXML, InvalidObjectState,
    │   │   OperationAborted, MethodNotAllowed
    │   └── PermanentRedirect, TemporaryRedirect
    ├── TransportError             no usable HTTP answer arrived
    │   └── TransportTimeout       ... because a time limit ran out
    ├── ResponseError              the answer is not what S3 specifies (bad XML, a DTD, ...)
    ├── SourceError                the source URL of an upload could not be read
    │   └── SourceChanged          a local file changed size while it was uploaded
    ├── IntegrityError             an ETag or checksum does not match what was sent
    └── UploadNotAborted           a failed multipart upload could not be aborted: its id
        │                          is carried, to abort (or resume) it later
        └── UploadInterrupted      a failed upload kept on purpose (keep_on_failure), to resume

An error code with no class of its own (S3 has many) raises a plain :class:`S3Error`
whose ``code`` attribute holds the code. Messages never carry secrets: session tokens and
presigned query strings are masked before they reach ``str()``, and a session token that a
server echoes in an error document (``CanonicalRequest`` and its hex ``...Bytes`` form) is
masked before it reaches ``details`` (see ``rawS3.diagnosis``, which also explains a
``SignatureDoesNotMatch`` by comparing the server's signing texts with ours).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any
from urllib.parse import urlsplit

# The S3 error classes are named exactly like the codes S3 sends, not "...Error".
# ruff: noqa: N818

__all__ = [
    "RETRYABLE_CODES",
    "AccessDenied",
    "AuthorizationHeaderMalformed",
    "BadDigest",
    "BucketAlreadyExists",
    "BucketAlreadyOwnedByYou",
    "BucketNotEmpty",
    "EntityTooLarge",
    "EntityTooSmall",
    "ExpiredToken",
    "IntegrityError",
    "InternalError",
    "InvalidAccessKeyId",
    "InvalidArgument",
    "InvalidBucketName",
    "InvalidDigest",
    "InvalidObjectState",
    "InvalidPart",
    "InvalidPartOrder",
    "InvalidRange",
    "InvalidRequest",
    "MalformedXML",
    "MethodNotAllowed",
    "NoSuchBucket",
    "NoSuchKey",
    "NoSuchUpload",
    "NoSuchVersion",
    "NotModified",
    "OperationAborted",
    "PermanentRedirect",
    "PreconditionFailed",
    "RawS3Error",
    "RequestTimeTooSkewed",
    "RequestTimeout",
    "ResponseError",
    "S3Error",
    "ServiceUnavailable",
    "SignatureDoesNotMatch",
    "SlowDown",
    "SourceChanged",
    "SourceError",
    "TemporaryRedirect",
    "TransportError",
    "TransportTimeout",
    "UploadInterrupted",
    "UploadNotAborted",
    "XAmzContentSHA256Mismatch",
    "code_for_status",
    "error_class_for",
    "make_s3_error",
]

RETRYABLE_CODES: frozenset[str] = frozenset(
    {
        "SlowDown",
        "InternalError",
        "ServiceUnavailable",
        "RequestTimeout",
        "Throttling",
        "ThrottlingException",
        "RequestThrottled",
    }
)


class RawS3Error(Exception):
    """Root of every exception rawS3 raises on purpose."""


class S3Error(RawS3Error):
    """The server answered with an S3 error.

    Attributes:
        code: the S3 error code, e.g. ``"NoSuchKey"`` (``"HTTP418"`` when only a status came).
        message: the server's human-readable message; may be empty.
        status: the HTTP status code.
        request_id: ``x-amz-request-id`` or the document's ``RequestId``, if any.
        host_id: ``x-amz-id-2`` or the document's ``HostId``, if any.
        bucket: the bucket the request addressed, if any.
        key: the object key the request addressed, if any.
        resource: the ``Resource`` the server named, if any.
        details: every other field of the error document, by element name.
    """

    def __init__(
        self,
        *,
        code: str,
        message: str,
        status: int,
        request_id: str | None = None,
        host_id: str | None = None,
        bucket: str | None = None,
        key: str | None = None,
        resource: str | None = None,
        details: Mapping[str, str] | None = None,
    ) -> None:
        super().__init__(code, message)
        self.code = code
        self.message = message
        self.status = status
        self.request_id = request_id
        self.host_id = host_id
        self.bucket = bucket
        self.key = key
        self.resource = resource
        self.details: Mapping[str, str] = dict(details or {})

    def __str__(self) -> str:
        head = f"{self.code}: {self.message}" if self.message else self.code
        return f"{head} ({', '.join(self._context())})"

    def _context(self) -> list[str]:
        context = [f"status {self.status}"]
        if self.request_id:
            context.append(f"request id {self.request_id}")
        if self.bucket is not None:
            context.append(f"bucket {self.bucket}")
        if self.key is not None:
            context.append(f"key {self.key}")
        return context

    def __reduce__(self) -> tuple[Any, ...]:
        # Keyword-only __init__ cannot be replayed from self.args, so rebuild from the
        # fields; the instance dict restores anything set later (e.g. a diagnosis).
        return (_rebuild_s3_error, (type(self), self._fields()), dict(self.__dict__))

    def _fields(self) -> dict[str, Any]:
        return {
            "code": self.code,
            "message": self.message,
            "status": self.status,
            "request_id": self.request_id,
            "host_id": self.host_id,
            "bucket": self.bucket,
            "key": self.key,
            "resource": self.resource,
            "details": dict(self.details),
        }


def _rebuild_s3_error(cls: type[S3Error], fields: dict[str, Any]) -> S3Error:
    return cls(**fields)


class NoSuchBucket(S3Error):
    """The bucket does not exist."""


class NoSuchKey(S3Error):
    """The object does not exist."""


class NoSuchUpload(S3Error):
    """The multipart upload does not exist (completed, aborted or never started)."""


class NoSuchVersion(S3Error):
    """The object version does not exist."""


class AccessDenied(S3Error):
    """The credentials are not allowed to do this."""


class SignatureDoesNotMatch(S3Error):
    """The server computed a different request signature.

    ``diagnosis`` (set by the client when the server returned its canonical request and
    string to sign) is appended to ``str()``.
    """

    diagnosis: str | None = None

    def __str__(self) -> str:
        text = super().__str__()
        return f"{text}\n{self.diagnosis}" if self.diagnosis else text


class InvalidAccessKeyId(S3Error):
    """The server does not know the access key id."""


class ExpiredToken(S3Error):
    """The session token has expired."""


class RequestTimeTooSkewed(S3Error):
    """The request time is too far from the server's clock."""


class AuthorizationHeaderMalformed(S3Error):
    """The Authorization header is malformed (often: the wrong region)."""


class EntityTooSmall(S3Error):
    """A multipart part other than the last is below the minimum part size."""


class EntityTooLarge(S3Error):
    """The upload exceeds the maximum allowed object or part size."""


class InvalidPart(S3Error):
    """A listed part was not found or its ETag does not match."""


class InvalidPartOrder(S3Error):
    """The parts were not listed in ascending part-number order."""


class BucketAlreadyOwnedByYou(S3Error):
    """The bucket already exists and belongs to the caller."""


class BucketAlreadyExists(S3Error):
    """The bucket name is taken by another account."""


class BucketNotEmpty(S3Error):
    """The bucket still holds objects, versions or uploads."""


class InvalidBucketName(S3Error):
    """The server refused the bucket name."""


class SlowDown(S3Error):
    """The server asks to reduce the request rate (throttling codes map here too)."""


class InternalError(S3Error):
    """The server hit an internal error."""


class ServiceUnavailable(S3Error):
    """The service is temporarily unavailable."""


class RequestTimeout(S3Error):
    """The server gave up waiting for the request body."""


class BadDigest(S3Error):
    """The Content-MD5 or checksum does not match the received body."""


class InvalidDigest(S3Error):
    """The Content-MD5 header is not a valid digest."""


class XAmzContentSHA256Mismatch(S3Error):
    """The x-amz-content-sha256 header does not match the received body."""


class InvalidRange(S3Error):
    """The requested byte range cannot be satisfied."""


class PreconditionFailed(S3Error):
    """A conditional header (If-Match, If-None-Match, ...) did not hold."""


class NotModified(S3Error):
    """The object has not changed since the given condition (HTTP 304)."""


class InvalidRequest(S3Error):
    """The server refused the request as invalid."""


class InvalidArgument(S3Error):
    """A request argument is invalid."""


class MalformedXML(S3Error):
    """The server could not parse the XML body that was sent."""


class InvalidObjectState(S3Error):
    """The object's storage class does not allow this operation (e.g. archived)."""


class OperationAborted(S3Error):
    """A conflicting operation on the same resource is in progress."""


class MethodNotAllowed(S3Error):
    """The HTTP method is not allowed on this resource."""


class PermanentRedirect(S3Error):
    """The bucket must be addressed through another endpoint."""


class TemporaryRedirect(S3Error):
    """The request is temporarily redirected to another endpoint."""


_ERROR_CLASSES: dict[str, type[S3Error]] = {
    cls.__name__: cls
    for cls in (
        NoSuchBucket,
        NoSuchKey,
        NoSuchUpload,
        NoSuchVersion,
        AccessDenied,
        SignatureDoesNotMatch,
        InvalidAccessKeyId,
        ExpiredToken,
        RequestTimeTooSkewed,
        AuthorizationHeaderMalformed,
        EntityTooSmall,
        EntityTooLarge,
        InvalidPart,
        InvalidPartOrder,
        BucketAlreadyOwnedByYou,
        BucketAlreadyExists,
        BucketNotEmpty,
        InvalidBucketName,
        SlowDown,
        InternalError,
        ServiceUnavailable,
        RequestTimeout,
        BadDigest,
        InvalidDigest,
        XAmzContentSHA256Mismatch,
        InvalidRange,
        PreconditionFailed,
        NotModified,
        InvalidRequest,
        InvalidArgument,
        MalformedXML,
        InvalidObjectState,
        OperationAborted,
        MethodNotAllowed,
        PermanentRedirect,
        TemporaryRedirect,
    )
}
# Other services and S3-compatible servers throttle under these names.
_ERROR_CLASSES.update(
    {
        "Throttling": SlowDown,
        "ThrottlingException": SlowDown,
        "RequestThrottled": SlowDown,
        "TokenRefreshRequired": ExpiredToken,
    }
)

_STATUS_CODES: dict[int, str] = {
    301: "PermanentRedirect",
    304: "NotModified",
    307: "TemporaryRedirect",
    400: "BadRequest",
    403: "AccessDenied",
    409: "Conflict",
    412: "PreconditionFailed",
    416: "InvalidRange",
    500: "InternalError",
    503: "ServiceUnavailable",
}


def error_class_for(code: str) -> type[S3Error]:
    """Return the exception class for an S3 error code.

    Args:
        code: the ``Code`` of an S3 error document, e.g. ``"NoSuchKey"``.

    Returns:
        The matching subclass of :class:`S3Error`, or :class:`S3Error` for an unknown code.

    Raises:
        TypeError: ``code`` is not a ``str``.
    """
    if not isinstance(code, str):
        raise TypeError(f"error code must be a str, not {type(code).__name__}")
    return _ERROR_CLASSES.get(code, S3Error)


def code_for_status(status: int, *, has_key: bool) -> str:
    """Return the error code to report for an error answer that carried no body (e.g. HEAD).

    Args:
        status: the HTTP status code (100 to 599).
        has_key: whether the request addressed an object; a bodiless 404 then means
            ``NoSuchKey``, otherwise ``NoSuchBucket``.

    Returns:
        An S3 error code such as ``"NoSuchKey"``, or ``"HTTP<status>"`` for other statuses.

    Raises:
        TypeError: ``status`` is not an ``int``.
        ValueError: ``status`` is not between 100 and 599.
    """
    if isinstance(status, bool) or not isinstance(status, int):
        raise TypeError(f"status must be an int, not {type(status).__name__}")
    if not 100 <= status <= 599:
        raise ValueError(f"status must be an HTTP status code (100 to 599), got {status}")
    if status == 404:
        return "NoSuchKey" if has_key else "NoSuchBucket"
    return _STATUS_CODES.get(status, f"HTTP{status}")


def make_s3_error(
    *,
    code: str,
    message: str,
    status: int,
    request_id: str | None = None,
    host_id: str | None = None,
    bucket: str | None = None,
    key: str | None = None,
    resource: str | None = None,
    details: Mapping[str, str] | None = None,
) -> S3Error:
    """Build the exception for an S3 error answer, of the class its code names.

    Args:
        code: the S3 error code.
        message: the server's message ("" when it sent none).
        status: the HTTP status code.
        request_id: the request id, if known.
        host_id: the host id (``x-amz-id-2``), if known.
        bucket: the bucket the request addressed, if any.
        key: the object key the request addressed, if any.
        resource: the resource the server named, if any.
        details: the remaining fields of the error document.

    Returns:
        An instance of :func:`error_class_for` ``(code)``.

    Raises:
        TypeError: ``code`` is not a ``str``.
    """
    return error_class_for(code)(
        code=code,
        message=message,
        status=status,
        request_id=request_id,
        host_id=host_id,
        bucket=bucket,
        key=key,
        resource=resource,
        details=details,
    )


class TransportError(RawS3Error):
    """No usable HTTP answer arrived (connection refused or reset, TLS failure, ...).

    rawS3 raises it ``from`` the underlying aiohttp or OS error.
    """


class TransportTimeout(TransportError):
    """A connect, read or total time limit ran out before the answer was complete."""


class ResponseError(RawS3Error):
    """The server's answer is not what S3 specifies (malformed XML, a DTD, too large, ...)."""


class SourceError(RawS3Error):
    """The source URL of an upload could not be read.

    Attributes:
        url: the source URL as given.
        status: the HTTP status the source answered with, or ``None`` if none arrived.
        message: what went wrong.
    """

    def __init__(self, url: str, status: int | None, message: str) -> None:
        super().__init__(url, status, message)
        self.url = url
        self.status = status
        self.message = message

    def __str__(self) -> str:
        status = f" (status {self.status})" if self.status is not None else ""
        return f"source {_redact_url(self.url)}: {self.message}{status}"


def _redact_url(url: str) -> str:
    # A presigned source URL carries a signature and maybe a session token in its query,
    # and a URL may carry user:password; neither belongs in a message.
    parts = urlsplit(url)
    host = parts.netloc.rpartition("@")[2]
    query = "?..." if parts.query else ""
    return f"{parts.scheme}://{host}{parts.path}{query}"


class IntegrityError(RawS3Error):
    """An ETag or checksum returned by the server does not match what was sent.

    Args:
        message: what differs, and for which object.

    Attributes:
        expected: the value computed locally, if known.
        actual: the value the server reported, if known.
    """

    def __init__(
        self, message: str, *, expected: str | None = None, actual: str | None = None
    ) -> None:
        super().__init__(message)
        self.expected = expected
        self.actual = actual


class UploadNotAborted(RawS3Error):
    """A multipart upload failed and could not be aborted: it is still on the server.

    Raised in place of the failure that made rawS3 abort (that failure is ``__context__``;
    the abort's own error is ``__cause__``), so the caller learns the id to abort, or to
    resume, once the server can be reached again.

    Attributes:
        bucket: the upload's bucket.
        key: the upload's key.
        upload_id: the upload still on the server.
    """

    def __init__(self, bucket: str, key: str, upload_id: str) -> None:
        super().__init__(bucket, key, upload_id)
        self.bucket = bucket
        self.key = key
        self.upload_id = upload_id

    def __str__(self) -> str:
        return (
            f"multipart upload {self.upload_id} of {self.bucket}/{self.key} failed and could "
            "not be aborted; abort it later with abort_multipart_upload"
        )


class UploadInterrupted(UploadNotAborted):
    """A failed upload left on the server on purpose (``keep_on_failure=True``), to be resumed.

    Pass ``upload_id`` as ``resume=`` to finish it; the failure is ``__context__``.
    """

    def __str__(self) -> str:
        return f"upload {self.upload_id} of {self.bucket}/{self.key} was kept: resume it by id"


class SourceChanged(SourceError):
    """A local file changed size while it was being uploaded (``url`` is its path)."""

    def __str__(self) -> str:
        return f"{self.url}: {self.message}"
