"""S3's error answers as exceptions: the root ``RawS3Error``, ``S3Error`` and one class per
error code rawS3 knows, and the mapping from a code (or a bare status) to its class.

``rawS3.errors`` is where they are documented and imported from, with the errors that are not
the server's (transport, integrity, sources, credentials).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

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
    "ConditionalRequestConflict",
    "EntityTooLarge",
    "EntityTooSmall",
    "ExpiredToken",
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
    "S3Error",
    "ServiceUnavailable",
    "SignatureDoesNotMatch",
    "SlowDown",
    "TemporaryRedirect",
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


class ConditionalRequestConflict(S3Error):
    """A conditional write raced another write to the same key (HTTP 409); retry it."""


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


# Every class above is named after the code it stands for.
_ERROR_CLASSES: dict[str, type[S3Error]] = {cls.__name__: cls for cls in S3Error.__subclasses__()}
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
