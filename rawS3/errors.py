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
    │   ├── InvalidRange, PreconditionFailed, NotModified, ConditionalRequestConflict
    │   ├── InvalidRequest, InvalidArgument, MalformedXML, InvalidObjectState,
    │   │   OperationAborted, MethodNotAllowed
    │   └── PermanentRedirect, TemporaryRedirect
    ├── TransportError             no usable HTTP answer arrived
    │   └── TransportTimeout       ... because a time limit ran out
    ├── ResponseError              the answer is not what S3 specifies (bad XML, a DTD, ...)
    ├── SourceError                the source URL of an upload could not be read
    │   └── SourceChanged          a local file changed size while it was uploaded
    ├── IntegrityError             an ETag or checksum does not match what was sent
    │   └── ObjectChanged          the object was replaced while it was being downloaded
    ├── UploadNotAborted           a failed multipart upload could not be aborted: its id
    │   │                          is carried, to abort (or resume) it later
    │   └── UploadInterrupted      a failed upload kept on purpose (keep_on_failure), to resume
    └── CredentialsError           no credentials from a configured source (named), or none

An error code with no class of its own (S3 has many) raises a plain :class:`S3Error`
whose ``code`` attribute holds the code. Messages never carry secrets: session tokens and
presigned query strings are masked before they reach ``str()``, and a session token that a
server echoes in an error document (``CanonicalRequest`` and its hex ``...Bytes`` form) is
masked before it reaches ``details`` (see ``rawS3.diagnosis``, which also explains a
``SignatureDoesNotMatch`` by comparing the server's signing texts with ours).
"""

from __future__ import annotations

import functools
from typing import Any
from urllib.parse import urlsplit

# The S3 error classes are named exactly like the codes S3 sends, not "...Error".
# ruff: noqa: N818
from rawS3 import s3_errors
from rawS3.s3_errors import *  # noqa: F403 (the S3 errors are documented and exported here)
from rawS3.s3_errors import RawS3Error

__all__ = [  # S3's errors, then the client's own
    *s3_errors.__all__,
    "CredentialsError",
    "IntegrityError",
    "ObjectChanged",
    "ResponseError",
    "SourceChanged",
    "SourceError",
    "TransportError",
    "TransportTimeout",
    "UploadInterrupted",
    "UploadNotAborted",
]


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


class ObjectChanged(IntegrityError):
    """The object was replaced while a ranged download read it: no two versions are mixed.

    Attributes:
        bucket: the object's bucket.
        key: the object's key.
        expected: the ETag the download began with.
        actual: the ETag seen later, if the server said.
    """

    def __init__(self, bucket: str, key: str, *, expected: str | None, actual: str | None) -> None:
        text = f"{bucket}/{key} changed during the download: ETag {expected}, then {actual or '?'}"
        super().__init__(text, expected=expected, actual=actual)
        self.bucket, self.key = bucket, key

    def __reduce__(self) -> tuple[Any, ...]:
        changed = functools.partial(ObjectChanged, expected=self.expected, actual=self.actual)
        return (changed, (self.bucket, self.key))


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


class CredentialsError(RawS3Error):
    """No credentials could be had from a source that is configured, or from any source.

    The message names the source (and the file and profile, for the shared files); it never
    holds a secret, a session token, a web identity token or a process's output.

    Args:
        source: the source that failed.
        message: what went wrong there.

    Attributes:
        source: the source that failed, e.g. ``"instance metadata"`` or ``"profile dev"``.
    """

    def __init__(self, source: str, message: str) -> None:
        super().__init__(f"{source}: {message}")
        self.source = source


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
