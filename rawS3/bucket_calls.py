"""S3Client's bucket calls and presigned URLs (``rawS3.client.S3Client`` inherits them)."""

from __future__ import annotations

from collections.abc import Mapping

from rawS3 import sigv4
from rawS3.multipart_calls import Facade
from rawS3.operations import buckets
from rawS3.operations.options import with_extras
from rawS3.urls import build_url
from rawS3.validation import check_bucket, check_expires, check_key

__all__ = ["BucketCalls"]


class BucketCalls(Facade):
    """CreateBucket, HeadBucket, DeleteBucket, ListBuckets, and presigned GET and PUT URLs."""

    async def create_bucket(
        self,
        bucket: str,
        *,
        region: str | None = None,
        headers: Mapping[str, str] | None = None,
        query: Mapping[str, str | None] | None = None,
    ) -> None:
        """Create a bucket; outside us-east-1 the region is sent as its location constraint.

        Args:
            bucket: the new bucket's name.
            region: where to create it (default: the client's region).
            headers: extra request headers, signed.
            query: extra query parameters, signed (``None`` values are bare names).

        Raises:
            TypeError, ValueError: a bad name or region (nothing is sent).
            BucketAlreadyOwnedByYou, BucketAlreadyExists, other S3Error; TransportError.
        """
        request = buckets.create_bucket(bucket, region=region or self._settings.region)
        await self._engine.send(with_extras(request, headers, query))

    async def head_bucket(
        self,
        bucket: str,
        *,
        headers: Mapping[str, str] | None = None,
        query: Mapping[str, str | None] | None = None,
    ) -> None:
        """Return if the bucket exists and is reachable; raise ``NoSuchBucket`` otherwise.

        Args:
            bucket: the bucket.
            headers: extra request headers, signed.
            query: extra query parameters, signed (``None`` values are bare names).

        Raises:
            TypeError, ValueError: a bad bucket name (nothing is sent).
            NoSuchBucket, AccessDenied, other S3Error; TransportError.
        """
        await self._engine.send(with_extras(buckets.head_bucket(bucket), headers, query))

    async def delete_bucket(
        self,
        bucket: str,
        *,
        headers: Mapping[str, str] | None = None,
        query: Mapping[str, str | None] | None = None,
    ) -> None:
        """Delete an empty bucket (``BucketNotEmpty`` otherwise).

        Args:
            bucket: the bucket.
            headers: extra request headers, signed.
            query: extra query parameters, signed (``None`` values are bare names).

        Raises:
            TypeError, ValueError: a bad bucket name (nothing is sent).
            BucketNotEmpty, NoSuchBucket, other S3Error; TransportError.
        """
        await self._engine.send(with_extras(buckets.delete_bucket(bucket), headers, query))

    async def list_buckets(
        self,
        *,
        headers: Mapping[str, str] | None = None,
        query: Mapping[str, str | None] | None = None,
    ) -> list[buckets.Bucket]:
        """Return the buckets the credentials own.

        Args:
            headers: extra request headers, signed.
            query: extra query parameters, signed (``None`` values are bare names).

        Returns:
            The buckets, in the server's order.

        Raises:
            S3Error; TransportError; ResponseError.
        """
        reply = await self._engine.send(with_extras(buckets.list_buckets(), headers, query))
        return list(buckets.parse_list_buckets(reply.body).buckets)

    def presign_get(self, bucket: str, key: str, *, expires: int = 3600) -> str:
        """Return a URL anyone can GET the object with for ``expires`` seconds (≤ 7 days).

        No request is sent. The URL is already encoded: with aiohttp, pass it as
        ``yarl.URL(url, encoded=True)``, since a plain string is re-quoted (``%21`` becomes
        ``!``, dot segments are resolved) and no longer matches its signature.

        Args:
            bucket: the bucket.
            key: the object's key.
            expires: the URL's validity in seconds, 1 to 604800.

        Returns:
            The presigned URL.

        Raises:
            TypeError, ValueError: a bad bucket, key or ``expires``.
            CredentialsError: the client's provider has no current credentials yet
                (presigning does not fetch: ``await client.fetch_credentials()`` first).
        """
        return self._presign("GET", bucket, key, expires)

    def presign_put(self, bucket: str, key: str, *, expires: int = 3600) -> str:
        """Return a URL anyone can PUT the object's body to for ``expires`` seconds (≤ 7 days).

        See ``presign_get`` on sending it with aiohttp.

        Args:
            bucket: the bucket.
            key: the object's key.
            expires: the URL's validity in seconds, 1 to 604800.

        Returns:
            The presigned URL.

        Raises:
            TypeError, ValueError: a bad bucket, key or ``expires``.
            CredentialsError: the client's provider has no current credentials yet
                (presigning does not fetch: ``await client.fetch_credentials()`` first).
        """
        return self._presign("PUT", bucket, key, expires)

    def _presign(self, method: str, bucket: str, key: str, expires: int) -> str:
        check_bucket(bucket)
        check_key(key)
        check_expires(expires)
        s = self._settings
        url = build_url(s.endpoint, bucket, key, addressing=s.addressing)
        return sigv4.presign(
            method,
            url,
            credentials=self._signing_credentials(),
            region=s.region,
            now=self._clock.now(),
            expires=expires,
        )
