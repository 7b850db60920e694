"""rawS3: a hand-rolled S3 protocol client for asyncio.

Our own AWS Signature Version 4 (header auth, presigned URLs, signed aws-chunked streaming),
requests sent directly over aiohttp, S3's XML read and written with the standard library.

::

    from rawS3 import S3Client

    client = S3Client(endpoint_url="http://127.0.0.1:9000",
                      aws_access_key_id="...", aws_secret_access_key="...")
    await client.upload_file("bucket", "metaclass.txt", b"test")
    await client.fetch_and_upload("bucket", "dog.gif", "https://example.com/dog.gif")
    await client.stream_upload("bucket", "big.bin", "https://example.com/big.bin")
    await client.close()

Errors: everything raised on purpose derives from ``RawS3Error``; see ``rawS3.errors``.
"""

from rawS3.client import S3Client
from rawS3.config import Timeouts
from rawS3.credentials import CredentialsProvider
from rawS3.encryption import SSECustomerKey
from rawS3.errors import (
    AccessDenied,
    BadDigest,
    BucketAlreadyExists,
    BucketAlreadyOwnedByYou,
    BucketNotEmpty,
    ConditionalRequestConflict,
    CredentialsError,
    EntityTooSmall,
    IntegrityError,
    InvalidAccessKeyId,
    InvalidPart,
    NoSuchBucket,
    NoSuchKey,
    NoSuchUpload,
    NoSuchVersion,
    NotModified,
    ObjectChanged,
    PreconditionFailed,
    RawS3Error,
    RequestTimeTooSkewed,
    ResponseError,
    S3Error,
    SignatureDoesNotMatch,
    SlowDown,
    SourceChanged,
    SourceError,
    TransportError,
    TransportTimeout,
    UploadInterrupted,
    UploadNotAborted,
)
from rawS3.operations.buckets import Bucket
from rawS3.operations.listing import ObjectInfo
from rawS3.operations.objects import CopyResult, DeleteResult
from rawS3.operations.options import UploadOptions
from rawS3.operations.ranged import DownloadResult
from rawS3.operations.tagging import ObjectTags
from rawS3.operations.versions import BucketVersioning, ObjectVersion
from rawS3.post_policy import PresignedPost
from rawS3.progress import TransferProgress
from rawS3.raw import PreparedRequest, RawResponse, RawStream
from rawS3.results import DeleteObjectResult, ObjectHead, PutResult, UploadedPart
from rawS3.retry import RetryPolicy
from rawS3.sigv4 import Credentials
from rawS3.streams import ObjectStream
from rawS3.transfer import MultipartUploader, upload_stream
from rawS3.verify import ChecksumVerifier

__version__ = "0.1.0"

__all__ = [
    "AccessDenied",
    "BadDigest",
    "Bucket",
    "BucketAlreadyExists",
    "BucketAlreadyOwnedByYou",
    "BucketNotEmpty",
    "BucketVersioning",
    "ChecksumVerifier",
    "ConditionalRequestConflict",
    "CopyResult",
    "Credentials",
    "CredentialsError",
    "CredentialsProvider",
    "DeleteObjectResult",
    "DeleteResult",
    "DownloadResult",
    "EntityTooSmall",
    "IntegrityError",
    "InvalidAccessKeyId",
    "InvalidPart",
    "MultipartUploader",
    "NoSuchBucket",
    "NoSuchKey",
    "NoSuchUpload",
    "NoSuchVersion",
    "NotModified",
    "ObjectChanged",
    "ObjectHead",
    "ObjectInfo",
    "ObjectStream",
    "ObjectTags",
    "ObjectVersion",
    "PreconditionFailed",
    "PreparedRequest",
    "PresignedPost",
    "PutResult",
    "RawResponse",
    "RawS3Error",
    "RawStream",
    "RequestTimeTooSkewed",
    "ResponseError",
    "RetryPolicy",
    "S3Client",
    "S3Error",
    "SSECustomerKey",
    "SignatureDoesNotMatch",
    "SlowDown",
    "SourceChanged",
    "SourceError",
    "Timeouts",
    "TransferProgress",
    "TransportError",
    "TransportTimeout",
    "UploadInterrupted",
    "UploadNotAborted",
    "UploadOptions",
    "UploadedPart",
    "__version__",
    "upload_stream",
]
