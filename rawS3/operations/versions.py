"""Versions: bucket versioning, ListObjectVersions, and DeleteObjects naming versions.

A version is addressed by key and version id; a delete without a version id in a versioned
bucket leaves a delete marker, which ListObjectVersions lists among the versions.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime

from rawS3.bodies import BufferBody
from rawS3.errors import ResponseError
from rawS3.operations.request import Query, Request
from rawS3.validation import check_bucket, check_key, check_positive_int
from rawS3.xml import Node, check_xml_text, document, element

__all__ = [
    "VERSIONING_STATES",
    "BucketVersioning",
    "ListVersionsPage",
    "ObjectVersion",
    "build_delete_versions",
    "delete_targets",
    "delete_versions",
    "get_bucket_versioning",
    "list_object_versions",
    "next_version_markers",
    "parse_bucket_versioning",
    "parse_list_object_versions",
    "put_bucket_versioning",
]

VERSIONING_STATES = ("Enabled", "Suspended")
MAX_DELETE_KEYS = 1000
Target = tuple[str, str | None]


@dataclass(frozen=True, slots=True)
class BucketVersioning:
    """A bucket's versioning state, as GetBucketVersioning returns it.

    Attributes:
        status: ``"Enabled"``, ``"Suspended"``, or ``None`` for a bucket never versioned.
        mfa_delete: ``"Enabled"`` / ``"Disabled"`` when the server says, else ``None``.
    """

    status: str | None
    mfa_delete: str | None = None


@dataclass(frozen=True, slots=True)
class ObjectVersion:
    """One entry of ListObjectVersions: a version of an object, or a delete marker.

    Attributes:
        key: the object's key.
        version_id: the version's id (``"null"`` for one written before versioning).
        is_latest: whether it is the key's current version.
        is_delete_marker: a delete marker (no data, no ETag, size 0).
        last_modified: when it was written, in UTC.
        etag: the ETag, quoted as sent (``None`` for a delete marker).
        size: the size in bytes (0 for a delete marker).
        storage_class: the storage class, if sent.
    """

    key: str
    version_id: str
    is_latest: bool
    is_delete_marker: bool
    last_modified: datetime
    etag: str | None = None
    size: int = 0
    storage_class: str | None = None


@dataclass(frozen=True, slots=True)
class ListVersionsPage:
    """One ListObjectVersions answer.

    Attributes:
        versions: versions and delete markers, in the order the server sent them.
        common_prefixes: grouped prefixes, with a delimiter.
        is_truncated: whether more entries follow.
        next_key_marker: where the next page starts, by key.
        next_version_id_marker: where the next page starts, by version within that key.
    """

    versions: tuple[ObjectVersion, ...]
    common_prefixes: tuple[str, ...]
    is_truncated: bool
    next_key_marker: str | None
    next_version_id_marker: str | None


def put_bucket_versioning(bucket: str, status: object) -> Request:
    """Build a PutBucketVersioning.

    Args:
        bucket: the bucket.
        status: ``"Enabled"`` or ``"Suspended"`` (versioning cannot be turned off).

    Returns:
        The request, its body with ``Content-MD5``.

    Raises:
        TypeError, ValueError: a bad bucket or status.
    """
    if not isinstance(status, str):
        raise TypeError(f"status must be a str, not {type(status).__name__}")
    if status not in VERSIONING_STATES:
        raise ValueError(f'status must be "Enabled" or "Suspended", got {status!r}')
    body = document("VersioningConfiguration", element("Status", status))
    return Request(
        "PUT",
        check_bucket(bucket),
        query=(("versioning", None),),
        body=BufferBody(body, sign=True, md5=True),
    )


def get_bucket_versioning(bucket: str) -> Request:
    """Build a GetBucketVersioning.

    Args:
        bucket: the bucket.

    Returns:
        The request.

    Raises:
        TypeError, ValueError: a bad bucket.
    """
    return Request("GET", check_bucket(bucket), query=(("versioning", None),))


def parse_bucket_versioning(body: bytes) -> BucketVersioning:
    """Parse a GetBucketVersioning (``<VersioningConfiguration>``) answer.

    Args:
        body: the response body.

    Returns:
        The state; an empty document is a bucket never versioned.

    Raises:
        ResponseError: not that document.
    """
    # moto 5 names the root GetBucketVersioningResponse; the content is the same.
    root = Node.parse(body, "VersioningConfiguration", "GetBucketVersioningResponse")
    return BucketVersioning(status=root.optional("Status"), mfa_delete=root.optional("MfaDelete"))


def list_object_versions(
    bucket: str,
    *,
    prefix: object,
    delimiter: object,
    page_size: int,
    key_marker: str | None,
    version_id_marker: str | None,
) -> Request:
    """Build one ListObjectVersions request.

    Args:
        bucket: the bucket.
        prefix: only keys that start with this.
        delimiter: group keys that hold it after the prefix.
        page_size: entries per page, 1 to 1000.
        key_marker: the previous page's ``NextKeyMarker``.
        version_id_marker: the previous page's ``NextVersionIdMarker``.

    Returns:
        The request.

    Raises:
        TypeError, ValueError: a bad bucket, prefix, delimiter or ``page_size``.
    """
    check_positive_int("page_size", page_size, maximum=1000)
    query: Query = (("versions", None), ("encoding-type", "url"), ("max-keys", str(page_size)))
    for name, value in (
        ("prefix", prefix),
        ("delimiter", delimiter),
        ("key-marker", key_marker),
        ("version-id-marker", version_id_marker),
    ):
        if value is not None and not isinstance(value, str):
            raise TypeError(f"{name.replace('-', '_')} must be a str, not {type(value).__name__}")
        if value:
            query += ((name, value),)
    return Request("GET", check_bucket(bucket), query=query)


def parse_list_object_versions(body: bytes) -> ListVersionsPage:
    """Parse a ListObjectVersions (``<ListVersionsResult>``) answer.

    Args:
        body: the response body.

    Returns:
        The page: versions and delete markers in document order.

    Raises:
        ResponseError: not that document, or an entry lacks a field.
    """
    root = Node.parse(body, "ListVersionsResult")
    decode = root.url_decoder()
    versions = tuple(
        _version(Node(child), decode)
        for child in root.element
        if child.tag.rpartition("}")[2] in ("Version", "DeleteMarker")
    )
    return ListVersionsPage(
        versions=versions,
        common_prefixes=root.prefixes(decode),
        is_truncated=root.flag("IsTruncated"),
        next_key_marker=_decoded(root.optional("NextKeyMarker"), decode),
        next_version_id_marker=root.optional("NextVersionIdMarker"),
    )


def _decoded(text: str | None, decode: Callable[[str], str]) -> str | None:
    # With encoding-type=url the key marker comes encoded like the keys themselves.
    return None if text is None else decode(text)


def _version(entry: Node, decode: Callable[[str], str]) -> ObjectVersion:
    marker = entry.name == "DeleteMarker"
    key = entry.required("Key")
    return ObjectVersion(
        key=decode(key),
        version_id=entry.required("VersionId"),
        is_latest=entry.flag("IsLatest"),
        is_delete_marker=marker,
        last_modified=entry.timestamp("LastModified"),
        etag=None if marker else entry.optional("ETag"),
        size=0 if marker else (entry.optional_integer("Size") or 0),
        storage_class=entry.optional("StorageClass"),
    )


def next_version_markers(
    page: ListVersionsPage, previous: tuple[str | None, str | None]
) -> tuple[str, str | None]:
    """Return where a truncated version listing goes on; markers that do not move never end.

    Args:
        page: the truncated page.
        previous: the ``(key_marker, version_id_marker)`` that asked for it.

    Returns:
        The next ``(key_marker, version_id_marker)``.

    Raises:
        ResponseError: no key marker, or the same pair as the request's.
    """
    if not page.next_key_marker:
        raise ResponseError("the version listing is truncated but the server sent no NextKeyMarker")
    following = (page.next_key_marker, page.next_version_id_marker)
    if following == previous:
        raise ResponseError(
            "the server sent the same key and version-id markers again; the listing would not end"
        )
    return following


def delete_targets(keys: object) -> list[Target]:
    """Check what a DeleteObjects call deletes: keys, or ``(key, version_id)`` pairs.

    Args:
        keys: an iterable of ``str`` keys and ``(key, version_id)`` tuples (a
            ``version_id`` of ``None`` names the current version).

    Returns:
        Each target once, in order.

    Raises:
        TypeError: one ``str`` or bytes object instead of keys, or an entry of another kind.
        ValueError: a key S3 cannot name, or an empty version id.
    """
    if isinstance(keys, (str, bytes, bytearray, memoryview)) or not isinstance(keys, Iterable):
        raise TypeError(
            f"keys must be an iterable of keys, not one {type(keys).__name__}; "
            "wrap a single key in a list"
        )
    return list(dict.fromkeys(_target(index, entry) for index, entry in enumerate(keys)))


def _target(index: int, entry: object) -> Target:
    if isinstance(entry, str):
        return check_key(entry), None
    if not (isinstance(entry, tuple) and len(entry) == 2):
        raise TypeError(
            f"keys[{index}] must be a str or a (key, version_id) tuple, not {type(entry).__name__}"
        )
    key, version_id = entry
    if version_id is not None and not isinstance(version_id, str):
        raise TypeError(
            f"keys[{index}]'s version_id must be a str, not {type(version_id).__name__}"
        )
    if version_id == "":
        raise ValueError(f"keys[{index}]'s version_id must not be empty")
    return check_key(key), version_id


def build_delete_versions(targets: list[Target], *, quiet: bool) -> bytes:
    """Build a DeleteObjects body naming versions where given.

    Args:
        targets: 1 to 1,000 ``(key, version_id)`` pairs.
        quiet: ask the server to report only failures.

    Returns:
        The UTF-8 XML document.

    Raises:
        ValueError: no targets, more than 1,000, or text XML cannot carry.
    """
    if not targets or len(targets) > MAX_DELETE_KEYS:
        raise ValueError(f"DeleteObjects takes 1 to {MAX_DELETE_KEYS:,} keys, got {len(targets):,}")
    parts = []
    for index, (key, version_id) in enumerate(targets):
        check_xml_text(f"keys[{index}]", key)
        version = "" if version_id is None else element("VersionId", version_id)
        if version_id is not None:
            check_xml_text(f"keys[{index}]'s version_id", version_id)
        parts.append(f"<Object>{element('Key', key)}{version}</Object>")
    return document("Delete", f"<Quiet>{'true' if quiet else 'false'}</Quiet>{''.join(parts)}")


def delete_versions(bucket: str, targets: list[Target], *, quiet: bool) -> Request:
    """Build one DeleteObjects request (at most 1,000 targets).

    Args:
        bucket: the bucket.
        targets: what :func:`delete_targets` returned, a batch of at most 1,000.
        quiet: ask the server to list only failures.

    Returns:
        The request, its body with ``Content-MD5`` as S3 requires.

    Raises:
        TypeError, ValueError: bad arguments.
    """
    body = BufferBody(build_delete_versions(targets, quiet=quiet), sign=True, md5=True)
    return Request("POST", check_bucket(bucket), query=(("delete", None),), body=body)
