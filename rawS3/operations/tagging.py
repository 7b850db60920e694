"""Object tagging: the ``x-amz-tagging`` header of writes, and Put/Get/DeleteObjectTagging.

Tags are a mapping of ``str`` to ``str``: on a write they travel URL-encoded as one header
(``k=v&k2=v2``, every byte outside ``A-Z a-z 0-9 - _ . ~`` percent-encoded, so ``&`` and
``=`` inside a key or value cannot split it); PutObjectTagging sends them as XML.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from rawS3.bodies import BufferBody
from rawS3.operations.request import Query, Request
from rawS3.urls import encode_component
from rawS3.validation import check_bucket, check_key
from rawS3.xml import Node, check_xml_text, document, element

__all__ = [
    "MAX_TAGS",
    "ObjectTags",
    "check_tags",
    "delete_object_tagging",
    "encode_tagging",
    "get_object_tagging",
    "parse_tagging",
    "put_object_tagging",
    "tagging_document",
    "version_query",
]

MAX_TAGS = 10
MAX_TAG_KEY = 128
MAX_TAG_VALUE = 256


@dataclass(frozen=True, slots=True)
class ObjectTags:
    """An object's tag set, as GetObjectTagging returns it.

    Attributes:
        tags: the tags, by key.
        version_id: ``x-amz-version-id`` of the version they belong to, if sent.
    """

    tags: Mapping[str, str]
    version_id: str | None = None


def check_tags(tags: object) -> dict[str, str]:
    """Check a tag set: at most 10 tags, keys of 1 to 128 and values of 0 to 256 characters.

    Args:
        tags: a mapping of ``str`` to ``str``.

    Returns:
        The tags, as a new dict.

    Raises:
        TypeError: not a mapping, or a key or value that is not a ``str``.
        ValueError: too many tags, a key or value of the wrong length, or text XML cannot
            carry.
    """
    if not isinstance(tags, Mapping):
        raise TypeError(f"tagging must be a mapping of str to str, not {type(tags).__name__}")
    if len(tags) > MAX_TAGS:
        raise ValueError(f"an object takes at most {MAX_TAGS} tags, got {len(tags)}")
    checked: dict[str, str] = {}
    for key, value in tags.items():
        if not isinstance(key, str) or not isinstance(value, str):
            raise TypeError(
                f"tag {key!r} must map a str to a str, not {type(key).__name__} to "
                f"{type(value).__name__}"
            )
        if not 1 <= len(key) <= MAX_TAG_KEY:
            raise ValueError(f"a tag key must be 1 to {MAX_TAG_KEY} characters, got {len(key)}")
        if len(value) > MAX_TAG_VALUE:
            raise ValueError(f"tag {key!r} has a value over {MAX_TAG_VALUE} characters")
        check_xml_text(f"tag {key!r}", key)
        check_xml_text(f"tag {key!r}", value)
        encode_component(key + value)  # a lone surrogate has no UTF-8 form
        checked[key] = value
    return checked


def encode_tagging(tags: object) -> str:
    """Return the ``x-amz-tagging`` value of a write.

    Args:
        tags: a mapping of ``str`` to ``str``.

    Returns:
        ``key=value`` pairs joined by ``&``, each side percent-encoded.

    Raises:
        TypeError, ValueError: as :func:`check_tags`.
    """
    checked = check_tags(tags)
    return "&".join(f"{encode_component(k)}={encode_component(v)}" for k, v in checked.items())


def tagging_document(tags: object) -> bytes:
    """Return the ``<Tagging>`` document of PutObjectTagging.

    Args:
        tags: a mapping of ``str`` to ``str``.

    Returns:
        The UTF-8 XML document.

    Raises:
        TypeError, ValueError: as :func:`check_tags`.
    """
    items = "".join(
        f"<Tag>{element('Key', key)}{element('Value', value)}</Tag>"
        for key, value in check_tags(tags).items()
    )
    return document("Tagging", f"<TagSet>{items}</TagSet>")


def version_query(version_id: object) -> Query:
    """Return the ``versionId`` query parameter (none for ``None``).

    Args:
        version_id: a version id, or ``None`` for the current version.

    Returns:
        The query.

    Raises:
        TypeError: not a ``str``.
        ValueError: an empty id.
    """
    if version_id is None:
        return ()
    if not isinstance(version_id, str):
        raise TypeError(f"version_id must be a str, not {type(version_id).__name__}")
    if not version_id:
        raise ValueError("version_id must not be empty (None addresses the current version)")
    return (("versionId", version_id),)


def put_object_tagging(bucket: str, key: str, tags: object, *, version_id: object) -> Request:
    """Build a PutObjectTagging, which replaces the object's whole tag set.

    Args:
        bucket: the bucket.
        key: the object's key.
        tags: the new tag set.
        version_id: the version to tag, or ``None`` for the current one.

    Returns:
        The request, its body with ``Content-MD5`` as S3 requires.

    Raises:
        TypeError, ValueError: bad arguments.
    """
    target = check_bucket(bucket), check_key(key)
    body = BufferBody(tagging_document(tags), sign=True, md5=True)
    query: Query = (("tagging", None), *version_query(version_id))
    return Request("PUT", *target, query=query, body=body)


def get_object_tagging(bucket: str, key: str, *, version_id: object) -> Request:
    """Build a GetObjectTagging.

    Args:
        bucket: the bucket.
        key: the object's key.
        version_id: the version, or ``None`` for the current one.

    Returns:
        The request.

    Raises:
        TypeError, ValueError: bad arguments.
    """
    query: Query = (("tagging", None), *version_query(version_id))
    return Request("GET", check_bucket(bucket), check_key(key), query=query)


def delete_object_tagging(bucket: str, key: str, *, version_id: object) -> Request:
    """Build a DeleteObjectTagging.

    Args:
        bucket: the bucket.
        key: the object's key.
        version_id: the version, or ``None`` for the current one.

    Returns:
        The request (200 and 204 are success).

    Raises:
        TypeError, ValueError: bad arguments.
    """
    query: Query = (("tagging", None), *version_query(version_id))
    return Request(
        "DELETE", check_bucket(bucket), check_key(key), query=query, ok=frozenset({200, 204})
    )


def parse_tagging(body: bytes, version_id: str | None = None) -> ObjectTags:
    """Parse a GetObjectTagging (``<Tagging>``) answer.

    Args:
        body: the response body.
        version_id: the answer's ``x-amz-version-id``, if any.

    Returns:
        The tags.

    Raises:
        ResponseError: not that document, or a tag without its key.
        TypeError: ``body`` is not bytes.
    """
    root = Node.parse(body, "Tagging")
    tag_set = root.child("TagSet")
    tags = {
        tag.required("Key"): tag.text("Value") or ""
        for tag in (tag_set.children("Tag") if tag_set is not None else [])
    }
    return ObjectTags(tags=tags, version_id=version_id)
