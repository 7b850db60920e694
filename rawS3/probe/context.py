"""What a check works with: the client, its own key prefix, and helpers over the raw API.

Every helper is a few lines on ``S3Client.request``: the checks stay readable and each one's
requests are still exactly the raw requests it names. A check writes only under its own
prefix, or into a bucket of its own made with ``new_bucket`` (the runner deletes both).
"""

from __future__ import annotations

import hashlib
import uuid
from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import TYPE_CHECKING

from rawS3.errors import ResponseError
from rawS3.probe.model import StepRefusedError, require
from rawS3.raw import RawResponse
from rawS3.sigv4 import Credentials
from rawS3.urls import parse_endpoint
from rawS3.xml import Node

if TYPE_CHECKING:
    from typing_extensions import Unpack

    from rawS3.client import S3Client
    from rawS3.raw import PrepareOptions

__all__ = ["RAW_BODY_LIMIT", "Context", "complete_body", "md5_etag", "texts"]

RAW_BODY_LIMIT = 2**20


def md5_etag(data: bytes) -> str:
    """The quoted ETag S3 gives a single-request upload of ``data``.

    Args:
        data: the object's bytes.

    Returns:
        ``"<md5 hex>"`` with the quotes.
    """
    return f'"{hashlib.md5(data).hexdigest()}"'


def complete_body(parts: Sequence[tuple[int, str]], extra: str = "") -> bytes:
    """A CompleteMultipartUpload document listing ``parts`` in the order given.

    Args:
        parts: ``(part number, ETag)`` pairs.
        extra: more XML put inside each ``<Part>`` (a checksum element, say).

    Returns:
        The document's bytes.
    """
    listed = "".join(
        f"<Part><PartNumber>{number}</PartNumber><ETag>{etag}</ETag>{extra}</Part>"
        for number, etag in parts
    )
    return f"<CompleteMultipartUpload>{listed}</CompleteMultipartUpload>".encode()


def texts(body: bytes, *path: str) -> list[str]:
    """The texts of the elements at ``path`` (local names) under a document's root.

    Args:
        body: an XML document.
        path: local names, outermost first, e.g. ``("Contents", "Key")``.

    Returns:
        Each matching element's text, in document order (``[]`` when the body is not XML).
    """
    try:
        nodes = [Node.parse(body)]
    except (ResponseError, TypeError):  # an unreadable body holds no such elements
        return []
    for name in path:
        nodes = [child for node in nodes for child in node.children(name)]
    return [node.element.text or "" for node in nodes]


class Context:
    """A check's view of the probe.

    Args:
        client: the client to send with.
        bucket: the probe's shared bucket (each check uses only its own prefix in it).
        prefix: this check's key prefix.
        buckets: the probe's list of buckets to delete; ``new_bucket`` appends to it.
    """

    def __init__(self, client: S3Client, bucket: str, prefix: str, buckets: list[str]) -> None:
        self.client = client
        self.bucket = bucket
        self.prefix = prefix
        self._buckets = buckets

    def key(self, name: str = "k") -> str:
        """A key of this check's own.

        Args:
            name: the part after the check's prefix.

        Returns:
            The key.
        """
        return self.prefix + name

    def now(self) -> datetime:
        """The client's signing time (with any offset a server taught it).

        Returns:
            The current UTC time.
        """
        return self.client._clock.now()

    @property
    def credentials(self) -> Credentials:
        """The credentials the client signs with (fetched before the probe starts)."""
        return self.client._signing_credentials()

    @property
    def host(self) -> str:
        """The endpoint's ``host[:port]``, as a Host header carries it."""
        endpoint = parse_endpoint(self.client.endpoint_url)
        return endpoint.host if endpoint.port is None else f"{endpoint.host}:{endpoint.port}"

    async def send(
        self,
        method: str,
        key: str | None = None,
        *,
        bucket: str | None = None,
        **options: Unpack[PrepareOptions],
    ) -> RawResponse:
        """Send one raw request to this check's bucket (or ``bucket``).

        Args:
            method: the HTTP method.
            key: the key, or ``None`` for a bucket-level request.
            bucket: another bucket than the probe's.
            options: as ``S3Client.prepare`` takes them.

        Returns:
            The answer as it came.
        """
        return await self.client.request(method, bucket or self.bucket, key, **options)

    async def put(
        self,
        key: str,
        data: bytes = b"",
        /,
        *,
        bucket: str | None = None,
        **options: Unpack[PrepareOptions],
    ) -> RawResponse:
        """PutObject with a signed payload (unless ``options`` say otherwise).

        Args:
            key: the key.
            data: the bytes.
            bucket: another bucket than the probe's.
            options: more raw options (headers, payload, credentials...).

        Returns:
            The answer.
        """
        options["body"] = data
        return await self.send("PUT", key, bucket=bucket, **options)

    async def stored(self, key: str, *, bucket: str | None = None) -> bytes | None:
        """The bytes stored under ``key``, read back with a plain GET.

        Args:
            key: the key.
            bucket: another bucket than the probe's.

        Returns:
            The body of a 200 answer, or ``None`` for any other status.
        """
        answer = await self.send("GET", key, bucket=bucket)
        return answer.body if answer.status == 200 else None

    async def new_bucket(self, name: str) -> tuple[str, RawResponse]:
        """Create a bucket of this check's own; the runner deletes it with the probe's.

        Args:
            name: a short word for the bucket's name.

        Returns:
            The bucket's name and the CreateBucket answer.
        """
        bucket = f"{self.bucket[:40]}-{name}-{uuid.uuid4().hex[:6]}"
        self._buckets.append(bucket)  # before sending: a create cut short may still land
        return bucket, await self.client.request("PUT", bucket)

    async def create_upload(self, key: str, *, bucket: str | None = None) -> str:
        """CreateMultipartUpload; the runner aborts whatever is left.

        Args:
            key: the key.
            bucket: another bucket than the probe's.

        Returns:
            The upload id.

        Raises:
            StepRefusedError: the server refused.
        """
        answer = await self.send("POST", key, bucket=bucket, query={"uploads": None})
        found = texts(require(answer).body, "UploadId")
        if not found:
            raise StepRefusedError(answer, "no UploadId in the answer")
        return found[0]

    async def upload_part(
        self,
        key: str,
        upload_id: str,
        number: int,
        data: bytes,
        *,
        headers: Mapping[str, str] | None = None,
    ) -> RawResponse:
        """UploadPart.

        Args:
            key: the key.
            upload_id: the upload.
            number: the part number.
            data: the part's bytes.
            headers: more headers to sign and send.

        Returns:
            The answer.
        """
        query = {"partNumber": str(number), "uploadId": upload_id}
        return await self.send("PUT", key, query=query, body=data, headers=headers)

    async def complete(
        self,
        key: str,
        upload_id: str,
        parts: Sequence[tuple[int, str]],
        *,
        extra: str = "",
        headers: Mapping[str, str] | None = None,
    ) -> RawResponse:
        """CompleteMultipartUpload listing ``parts`` as given.

        Args:
            key: the key.
            upload_id: the upload.
            parts: ``(number, ETag)`` pairs, in the order to list them.
            extra: more XML inside each ``<Part>``.
            headers: more headers to sign and send.

        Returns:
            The answer.
        """
        body = complete_body(parts, extra)
        query = {"uploadId": upload_id}
        return await self.send("POST", key, query=query, body=body, headers=headers)

    async def parts(self, key: str, upload_id: str, *sizes: int) -> list[tuple[int, str]]:
        """Upload parts 1, 2, ... of the given sizes (distinct bytes each).

        Args:
            key: the key.
            upload_id: the upload.
            sizes: each part's size.

        Returns:
            ``(number, ETag)`` of each part.

        Raises:
            StepRefusedError: a part was refused.
        """
        listed = []
        for number, size in enumerate(sizes, start=1):
            data = bytes([number]) * size
            if size > RAW_BODY_LIMIT:
                # aiohttp warns about raw bytes over 1 MiB; the client's own UploadPart
                # streams its buffer (a refusal raises S3Error: the check is an error).
                part = await self.client.upload_part(self.bucket, key, upload_id, number, data)
                listed.append((number, part.etag))
                continue
            answer = require(await self.upload_part(key, upload_id, number, data))
            listed.append((number, answer.headers.get("ETag", "")))
        return listed
