"""Early checks of a caller's ``headers=`` and ``query=`` on calls made of several requests.

Uploads and downloads send their extras later (on Create, a PutObject, every ranged GET),
after data has been read or downloaded; these checks run the same :func:`with_extras` on the
request those extras will join, at the call, so a misuse raises before anything is sent.
"""

from __future__ import annotations

from collections.abc import Mapping

from rawS3.operations.multipart import create_multipart_upload
from rawS3.operations.options import UploadOptions, with_extras
from rawS3.operations.ranged import Pin, range_get
from rawS3.operations.request import Request, object_headers

__all__ = [
    "check_create_extras",
    "check_put_extras",
    "check_range_extras",
    "conditions_among",
    "refuse_conditions_in_parts",
]

_CONDITIONS = ("if-match", "if-none-match", "if-modified-since", "if-unmodified-since")
_CONDITION_PREFIXES = ("x-amz-copy-source-if-", "x-amz-copy-if-")


def conditions_among(headers: Mapping[str, str] | None) -> list[str]:
    """The names among ``headers`` that are request conditions (``If-*``, copy-source ones).

    Args:
        headers: a caller's extra headers, or ``None``.

    Returns:
        Those names, as given.
    """
    return [
        name for name in headers or {}
        if name.lower() in _CONDITIONS or name.lower().startswith(_CONDITION_PREFIXES)
    ]


def refuse_conditions_in_parts(headers: Mapping[str, str] | None, call: str) -> None:
    """Refuse conditions in the extras of a call made in parts, which would lose them.

    S3 checks no condition on CreateMultipartUpload, UploadPart or UploadPartCopy, where a
    call in parts sends its extras, so such a header would be dropped in silence and an
    object overwritten that the caller meant to protect.

    Args:
        headers: the caller's extra headers, or ``None``.
        call: what is being made in parts, for the message.

    Raises:
        ValueError: one or more of the headers is a condition.
    """
    found = conditions_among(headers)
    if found:
        raise ValueError(
            f"headers= of {call} holds {', '.join(found)}: made in parts, S3 would check no "
            "such condition; use the call's if_match/if_none_match (or copy_source_if_*) "
            "options, which are sent where S3 checks them"
        )


def check_create_extras(
    bucket: str,
    key: str,
    options: UploadOptions,
    *,
    content_type: str | None,
    metadata: Mapping[str, str] | None,
    checksum: str | None,
    checksum_type: str | None,
) -> None:
    """Check an upload's extra headers and query against its CreateMultipartUpload.

    Args:
        bucket: the bucket.
        key: the object's key.
        options: the upload's options, with its extras.
        content_type: the upload's content type.
        metadata: its user metadata.
        checksum: its checksum algorithm.
        checksum_type: its checksum type.

    Raises:
        TypeError, ValueError: an extra header or parameter the upload already sets (e.g.
            ``Content-Type`` with ``content_type``), or that the engine sets; a condition
            (``If-None-Match`` …), which an upload in parts could not send where S3 checks it.
    """
    if not options.headers and not options.query:
        return
    refuse_conditions_in_parts(options.headers, "an upload")
    create = create_multipart_upload(
        bucket, key, content_type=content_type, metadata=metadata, checksum=checksum,
        checksum_type=checksum_type,
    )
    own = {name: value for name, value in options.create_headers().items()
           if name not in (options.headers or {})}
    with_extras(with_extras(create, own), options.headers, options.query)


def check_put_extras(
    headers: object,
    query: object,
    *,
    content_type: str | None = None,
    metadata: Mapping[str, str] | None = None,
) -> None:
    """Check the extras of a PutObject sent later (after a download, say).

    Args:
        headers: the caller's extra headers.
        query: the caller's extra query parameters.
        content_type: the PutObject's content type.
        metadata: its user metadata.

    Raises:
        TypeError, ValueError: as :func:`with_extras`.
    """
    put = Request("PUT", headers=object_headers(content_type, metadata, None))
    with_extras(put, headers, query)


def check_range_extras(bucket: str, key: str, headers: object, query: object) -> None:
    """Check a download's extras against its ranged GETs (``Range`` and the ``If-Match`` pin).

    Args:
        bucket: the bucket.
        key: the object's key.
        headers: the caller's extra headers.
        query: the caller's extra query parameters.

    Raises:
        TypeError, ValueError: as :func:`with_extras`; ``versionId`` belongs in ``version_id``.
    """
    pinned = range_get(bucket, key, 0, 1, pin=Pin(etag='"x"', size=1), version_id="v")
    with_extras(pinned, headers, query)
