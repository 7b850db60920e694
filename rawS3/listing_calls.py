"""S3Client's listing calls: ListObjectsV2 as objects or as pages (``rawS3.client.S3Client``
inherits them)."""

from __future__ import annotations

from collections.abc import AsyncIterator, Mapping

from rawS3.multipart_calls import Facade
from rawS3.operations import listing
from rawS3.operations.options import with_extras
from rawS3.operations.request import Request

__all__ = ["ListingCalls"]


class ListingCalls(Facade):
    """Listing that follows continuation tokens and refuses one that repeats."""

    async def list_objects(
        self,
        bucket: str,
        *,
        prefix: str | None = None,
        delimiter: str | None = None,
        start_after: str | None = None,
        page_size: int = 1000,
        headers: Mapping[str, str] | None = None,
        query: Mapping[str, str | None] | None = None,
    ) -> AsyncIterator[listing.ObjectInfo]:
        """Yield every object under ``prefix``, following continuation tokens.

        With a ``delimiter`` the grouped "directories" are left out; ``list_pages`` gives them.

        Args:
            bucket: the bucket.
            prefix: only keys that start with this.
            delimiter: group keys that hold it after the prefix, e.g. ``"/"``.
            start_after: only keys that sort after this one.
            page_size: keys per request, 1 to 1000.
            headers: extra request headers, signed, sent with every page.
            query: extra query parameters, signed, sent with every page.

        Yields:
            Each object, in key order.

        Raises:
            TypeError, ValueError: a bad bucket or ``page_size`` (nothing is sent).
            NoSuchBucket, other S3Error; TransportError; ResponseError.
        """
        async for page in self.list_pages(
            bucket,
            prefix=prefix,
            delimiter=delimiter,
            start_after=start_after,
            page_size=page_size,
            headers=headers,
            query=query,
        ):
            for item in page.contents:
                yield item

    async def list_pages(
        self,
        bucket: str,
        *,
        prefix: str | None = None,
        delimiter: str | None = None,
        start_after: str | None = None,
        page_size: int = 1000,
        headers: Mapping[str, str] | None = None,
        query: Mapping[str, str | None] | None = None,
    ) -> AsyncIterator[listing.ListObjectsPage]:
        """Yield ListObjectsV2 pages (objects and common prefixes) until the listing ends.

        Args:
            bucket: the bucket.
            prefix: only keys that start with this.
            delimiter: group keys that hold it after the prefix, e.g. ``"/"``.
            start_after: only keys that sort after this one.
            page_size: keys per request, 1 to 1000.
            headers: extra request headers, signed, sent with every page.
            query: extra query parameters, signed, sent with every page.

        Yields:
            Each page, as the server sent it.

        Raises:
            TypeError, ValueError: a bad bucket or ``page_size`` (nothing is sent).
            NoSuchBucket, other S3Error; TransportError; ResponseError.
        """

        def page_request(token: str | None) -> Request:
            request = listing.list_objects_v2(
                bucket,
                prefix=prefix,
                delimiter=delimiter,
                start_after=start_after,
                page_size=page_size,
                token=token,
            )
            return with_extras(request, headers, query)

        request = page_request(None)  # checks the arguments before anything is sent
        seen: set[str] = set()
        while True:
            page = listing.parse_list_objects_v2((await self._engine.send(request)).body)
            yield page
            if not page.is_truncated:
                return
            token = listing.next_marker(page.next_continuation_token, seen, "continuation token")
            request = page_request(token)
