"""S3Client's version calls: bucket versioning and ListObjectVersions (``rawS3.client.S3Client``
inherits them). Reading, deleting and copying one version are the object calls' ``version_id``."""

from __future__ import annotations

from collections.abc import AsyncIterator, Mapping

from rawS3.multipart_calls import Facade
from rawS3.operations import versions
from rawS3.operations.options import with_extras

__all__ = ["VersionCalls"]


class VersionCalls(Facade):
    """PutBucketVersioning, GetBucketVersioning and ListObjectVersions."""

    async def put_bucket_versioning(
        self,
        bucket: str,
        status: str,
        *,
        headers: Mapping[str, str] | None = None,
        query: Mapping[str, str | None] | None = None,
    ) -> None:
        """Turn a bucket's versioning on (``"Enabled"``) or pause it (``"Suspended"``).

        Args:
            bucket: the bucket.
            status: ``"Enabled"`` or ``"Suspended"``; once enabled it cannot be turned off.
            headers: extra request headers, signed.
            query: extra query parameters, signed (``None`` values are bare names).

        Raises:
            TypeError, ValueError: a bad bucket or status (nothing is sent).
            NoSuchBucket, other S3Error; TransportError.
        """
        request = versions.put_bucket_versioning(bucket, status)
        await self._engine.send(with_extras(request, headers, query))

    async def get_bucket_versioning(
        self,
        bucket: str,
        *,
        headers: Mapping[str, str] | None = None,
        query: Mapping[str, str | None] | None = None,
    ) -> versions.BucketVersioning:
        """Return a bucket's versioning state.

        Args:
            bucket: the bucket.
            headers: extra request headers, signed.
            query: extra query parameters, signed (``None`` values are bare names).

        Returns:
            ``status`` ``"Enabled"``, ``"Suspended"`` or ``None`` (never versioned).

        Raises:
            TypeError, ValueError: a bad bucket (nothing is sent).
            NoSuchBucket, other S3Error; TransportError; ResponseError.
        """
        request = with_extras(versions.get_bucket_versioning(bucket), headers, query)
        return versions.parse_bucket_versioning((await self._engine.send(request)).body)

    async def list_object_versions(
        self,
        bucket: str,
        *,
        prefix: str | None = None,
        delimiter: str | None = None,
        page_size: int = 1000,
        headers: Mapping[str, str] | None = None,
        query: Mapping[str, str | None] | None = None,
    ) -> AsyncIterator[versions.ObjectVersion]:
        """Yield every version and delete marker under ``prefix``, following both markers.

        Within a key, the newest comes first. A page whose key and version-id markers are
        those that asked for it would repeat forever, so it raises ``ResponseError``.

        Args:
            bucket: the bucket.
            prefix: only keys that start with this.
            delimiter: leave out keys that hold it after the prefix (grouped prefixes).
            page_size: entries per request, 1 to 1000.
            headers: extra request headers, signed, sent with every page.
            query: extra query parameters, signed, sent with every page.

        Yields:
            Each version or delete marker (``is_delete_marker``), in the server's order.

        Raises:
            TypeError, ValueError: bad arguments (nothing is sent).
            NoSuchBucket, other S3Error; TransportError; ResponseError.
        """
        markers: tuple[str | None, str | None] = (None, None)
        while True:
            request = versions.list_object_versions(
                bucket,
                prefix=prefix,
                delimiter=delimiter,
                page_size=page_size,
                key_marker=markers[0],
                version_id_marker=markers[1],
            )
            request = with_extras(request, headers, query)
            page = versions.parse_list_object_versions((await self._engine.send(request)).body)
            for version in page.versions:
                yield version
            if not page.is_truncated:
                return
            markers = versions.next_version_markers(page, markers)
