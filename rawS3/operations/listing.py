"""ListObjectsV2: one page per request, and the rule that a listing must move on."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from rawS3.errors import ResponseError
from rawS3.operations.request import Query, Request
from rawS3.validation import check_bucket, check_positive_int
from rawS3.xml import Node

__all__ = [
    "ListObjectsPage",
    "ObjectInfo",
    "list_objects_v2",
    "next_marker",
    "parse_list_objects_v2",
]


@dataclass(frozen=True, slots=True)
class ObjectInfo:
    """One object of a listing.

    Attributes:
        key: the object's key (url-decoded when the answer was encoded).
        size: its size in bytes.
        etag: its ETag as sent, quotes included.
        last_modified: when it was last written, in UTC.
        storage_class: ``StorageClass``, if sent.
    """

    key: str
    size: int
    etag: str
    last_modified: datetime
    storage_class: str | None


@dataclass(frozen=True, slots=True)
class ListObjectsPage:
    """One page of a ListObjectsV2 answer, keys and prefixes already url-decoded.

    Attributes:
        contents: the objects on this page.
        common_prefixes: the keys grouped by the delimiter, each once (``"dir/"``).
        is_truncated: whether more pages follow.
        next_continuation_token: the token that asks for the next page; set when truncated.
        key_count: ``KeyCount``, or the number of objects and prefixes when not sent.
        prefix: the prefix the listing was asked for (``""`` for none).
    """

    contents: tuple[ObjectInfo, ...]
    common_prefixes: tuple[str, ...]
    is_truncated: bool
    next_continuation_token: str | None
    key_count: int
    prefix: str


def list_objects_v2(
    bucket: str,
    *,
    prefix: str | None,
    delimiter: str | None,
    start_after: str | None,
    page_size: int,
    token: str | None,
) -> Request:
    """Build one ListObjectsV2 request, keys url-encoded in the answer.

    Args:
        bucket: the bucket.
        prefix: only keys that start with this.
        delimiter: group keys that hold it after the prefix.
        start_after: only keys that sort after this one.
        page_size: keys per page, 1 to 1000.
        token: the continuation token of the previous page, if any.

    Returns:
        The request.

    Raises:
        TypeError, ValueError: a bad bucket or ``page_size``.
    """
    check_positive_int("page_size", page_size, maximum=1000)
    query: Query = (("list-type", "2"), ("encoding-type", "url"), ("max-keys", str(page_size)))
    for name, value in (
        ("prefix", prefix),
        ("delimiter", delimiter),
        ("start-after", start_after),
        ("continuation-token", token),
    ):
        if value:
            query += ((name, value),)
    return Request("GET", check_bucket(bucket), query=query)


def next_marker(marker: str | None, seen: set[str], what: str) -> str:
    """Return where a truncated listing goes on; a missing or repeated marker never ends.

    Args:
        marker: the next token or marker the page named.
        seen: the markers this listing has followed so far; ``marker`` is added.
        what: names the marker in the message.

    Returns:
        ``marker``.

    Raises:
        ResponseError: no marker, or one already followed.
    """
    if not marker:
        raise ResponseError(f"the listing is truncated but the server sent no next {what}")
    if marker in seen:
        raise ResponseError(f"the server sent the same {what} twice; the listing would not end")
    seen.add(marker)
    return marker


def parse_list_objects_v2(body: bytes) -> ListObjectsPage:
    """Parse a ListObjectsV2 (``<ListBucketResult>``) answer.

    When the answer's ``EncodingType`` is ``url``, keys, the prefix and the common
    prefixes are percent-decoded (``+`` read as a space).

    Args:
        body: the response body.

    Returns:
        The page; ``key_count`` falls back to the number of entries when not sent.

    Raises:
        ResponseError: the body is not that document, an entry lacks a field, or the page
            is truncated without a continuation token.
        TypeError: ``body`` is not bytes.
    """
    root = Node.parse(body, "ListBucketResult")
    decode = root.url_decoder()
    contents = tuple(_object_info(entry, decode) for entry in root.children("Contents"))
    prefixes = root.prefixes(decode)
    count = root.optional_integer("KeyCount")
    page = ListObjectsPage(
        contents=contents,
        common_prefixes=prefixes,
        is_truncated=root.flag("IsTruncated"),
        next_continuation_token=root.optional("NextContinuationToken"),
        key_count=len(contents) + len(prefixes) if count is None else count,
        prefix=decode(root.text("Prefix") or ""),
    )
    if page.is_truncated and page.next_continuation_token is None:
        raise ResponseError("the listing is truncated but carries no <NextContinuationToken>")
    return page


def _object_info(entry: Node, decode: Callable[[str], str]) -> ObjectInfo:
    return ObjectInfo(
        key=decode(entry.required("Key")),
        size=entry.integer("Size"),
        etag=entry.required("ETag"),
        last_modified=entry.timestamp("LastModified"),
        storage_class=entry.optional("StorageClass"),
    )
