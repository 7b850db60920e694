"""Bucket operations: CreateBucket, HeadBucket, DeleteBucket, ListBuckets."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from rawS3.bodies import BufferBody
from rawS3.operations.request import Request
from rawS3.validation import check_bucket
from rawS3.xml import Node, check_xml_text, document, element

__all__ = [
    "Bucket",
    "ListBucketsResult",
    "build_create_bucket_configuration",
    "create_bucket",
    "delete_bucket",
    "head_bucket",
    "list_buckets",
    "parse_list_buckets",
]


@dataclass(frozen=True, slots=True)
class Bucket:
    """One bucket of a ListBuckets answer.

    Attributes:
        name: the bucket's name.
        creation_date: when it was created, in UTC.
    """

    name: str
    creation_date: datetime


@dataclass(frozen=True, slots=True)
class ListBucketsResult:
    """A ListBuckets answer.

    Attributes:
        buckets: the buckets, in the server's order.
        owner_id: the owner's ``ID``, if sent.
        owner_name: the owner's ``DisplayName``, if sent.
    """

    buckets: tuple[Bucket, ...]
    owner_id: str | None
    owner_name: str | None


def create_bucket(bucket: str, *, region: str) -> Request:
    """Build a CreateBucket; outside us-east-1 the region is sent as its location constraint.

    Args:
        bucket: the new bucket's name.
        region: where to create it.

    Returns:
        The request.

    Raises:
        TypeError, ValueError: a bad name or region.
    """
    body = None
    if region != "us-east-1":
        body = BufferBody(build_create_bucket_configuration(region), sign=True, md5=False)
    return Request("PUT", check_bucket(bucket), body=body)


def head_bucket(bucket: str) -> Request:
    """Build a HeadBucket.

    Args:
        bucket: the bucket.

    Returns:
        The request.

    Raises:
        TypeError, ValueError: a bad name.
    """
    return Request("HEAD", check_bucket(bucket))


def delete_bucket(bucket: str) -> Request:
    """Build a DeleteBucket.

    Args:
        bucket: the bucket.

    Returns:
        The request.

    Raises:
        TypeError, ValueError: a bad name.
    """
    return Request("DELETE", check_bucket(bucket), ok=frozenset({200, 204}))


def list_buckets() -> Request:
    """Build a ListBuckets.

    Returns:
        The request.
    """
    return Request("GET")


def build_create_bucket_configuration(region: str) -> bytes:
    """Build the CreateBucket body that places the bucket in ``region``.

    AWS refuses a ``LocationConstraint`` of ``us-east-1``; send no body there.

    Args:
        region: the region (AWS) or zonegroup/location name (other servers).

    Returns:
        The UTF-8 XML document.

    Raises:
        TypeError: ``region`` is not a ``str``.
        ValueError: ``region`` is empty, holds whitespace or a character XML cannot carry.
    """
    if not isinstance(region, str):
        raise TypeError(f"region must be a str, not {type(region).__name__}")
    if not region or any(char.isspace() for char in region):
        raise ValueError(f"region must be a non-empty name without whitespace, got {region!r}")
    check_xml_text("region", region)
    return document("CreateBucketConfiguration", element("LocationConstraint", region))


def parse_list_buckets(body: bytes) -> ListBucketsResult:
    """Parse a ListBuckets (``<ListAllMyBucketsResult>``) answer.

    Args:
        body: the response body.

    Returns:
        The buckets in the server's order and the owner, if named.

    Raises:
        ResponseError: the body is not that document, or a bucket lacks a field.
        TypeError: ``body`` is not bytes.
    """
    root = Node.parse(body, "ListAllMyBucketsResult")
    owner = root.child("Owner")
    holder = root.child("Buckets")
    entries = [] if holder is None else holder.children("Bucket")
    return ListBucketsResult(
        buckets=tuple(
            Bucket(name=entry.required("Name"), creation_date=entry.timestamp("CreationDate"))
            for entry in entries
        ),
        owner_id=None if owner is None else owner.optional("ID"),
        owner_name=None if owner is None else owner.optional("DisplayName"),
    )
