"""S3Client's tagging calls: Put/Get/DeleteObjectTagging (``rawS3.client.S3Client`` inherits
them). Tags given at write time are the object calls' ``tagging=``."""

from __future__ import annotations

from collections.abc import Mapping

from rawS3.multipart_calls import Facade
from rawS3.operations import tagging
from rawS3.operations.options import with_extras

__all__ = ["TaggingCalls"]


class TaggingCalls(Facade):
    """PutObjectTagging, GetObjectTagging and DeleteObjectTagging."""

    async def put_object_tagging(
        self,
        bucket: str,
        key: str,
        tags: Mapping[str, str],
        *,
        version_id: str | None = None,
        headers: Mapping[str, str] | None = None,
        query: Mapping[str, str | None] | None = None,
    ) -> str | None:
        """Replace an object's tag set (an empty mapping removes every tag).

        Args:
            bucket: the bucket.
            key: the object's key.
            tags: at most 10 tags; keys of 1 to 128 characters, values of up to 256.
            version_id: tag this version (``None``: the current one).
            headers: extra request headers, signed.
            query: extra query parameters, signed (``None`` values are bare names).

        Returns:
            The version id the server says it tagged, if any.

        Raises:
            TypeError, ValueError: bad arguments (nothing is sent).
            NoSuchKey, NoSuchVersion, other S3Error; TransportError.
        """
        request = tagging.put_object_tagging(bucket, key, tags, version_id=version_id)
        reply = await self._engine.send(with_extras(request, headers, query))
        return reply.headers.get("x-amz-version-id")

    async def get_object_tagging(
        self,
        bucket: str,
        key: str,
        *,
        version_id: str | None = None,
        headers: Mapping[str, str] | None = None,
        query: Mapping[str, str | None] | None = None,
    ) -> tagging.ObjectTags:
        """Return an object's tags.

        Args:
            bucket: the bucket.
            key: the object's key.
            version_id: this version's tags (``None``: the current one's).
            headers: extra request headers, signed.
            query: extra query parameters, signed (``None`` values are bare names).

        Returns:
            The tags by key, and the version they belong to.

        Raises:
            TypeError, ValueError: bad arguments (nothing is sent).
            NoSuchKey, NoSuchVersion, other S3Error; TransportError; ResponseError.
        """
        request = tagging.get_object_tagging(bucket, key, version_id=version_id)
        reply = await self._engine.send(with_extras(request, headers, query))
        return tagging.parse_tagging(reply.body, reply.headers.get("x-amz-version-id"))

    async def delete_object_tagging(
        self,
        bucket: str,
        key: str,
        *,
        version_id: str | None = None,
        headers: Mapping[str, str] | None = None,
        query: Mapping[str, str | None] | None = None,
    ) -> None:
        """Remove every tag of an object.

        Args:
            bucket: the bucket.
            key: the object's key.
            version_id: this version's tags (``None``: the current one's).
            headers: extra request headers, signed.
            query: extra query parameters, signed (``None`` values are bare names).

        Raises:
            TypeError, ValueError: bad arguments (nothing is sent).
            NoSuchKey, NoSuchVersion, other S3Error; TransportError.
        """
        request = tagging.delete_object_tagging(bucket, key, version_id=version_id)
        await self._engine.send(with_extras(request, headers, query))
