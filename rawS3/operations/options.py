"""Object options as headers, and the extra headers and query any call may add.

One place turns the options every object call shares (conditions, encryption, tags, content
headers) into headers, so each call states only which options it takes. :func:`with_extras`
adds a caller's own ``headers=`` and ``query=`` to an operation's request: they are signed like
the rest, and may not replace what the operation or the engine sets itself.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from rawS3.encryption import (
    SSECustomerKey,
    customer_key_headers,
    server_side_encryption_headers,
)
from rawS3.operations.conditions import (
    http_date,
    read_condition_headers,
    write_condition_headers,
)
from rawS3.operations.request import Query, Request
from rawS3.operations.tagging import encode_tagging
from rawS3.validation import check_header

__all__ = [
    "DIRECTIVES",
    "ENGINE_HEADERS",
    "Extras",
    "UploadOptions",
    "check_upload_options",
    "copy_directives",
    "directive_header",
    "headers_argument",
    "read_headers",
    "tagging_directive_header",
    "with_extras",
    "write_headers",
]

# Set by the engine when it signs and sends: a caller's value would break the signature.
ENGINE_HEADERS = frozenset(
    {
        "host",
        "authorization",
        "x-amz-date",
        "x-amz-content-sha256",
        "x-amz-security-token",
        "content-length",
        "transfer-encoding",
        "x-amz-decoded-content-length",
    }
)
DIRECTIVES = ("COPY", "REPLACE")
_CONTENT_HEADERS = (
    ("cache_control", "Cache-Control"),
    ("content_disposition", "Content-Disposition"),
    ("content_encoding", "Content-Encoding"),
    ("content_language", "Content-Language"),
)


def read_headers(
    *,
    if_match: object = None,
    if_none_match: object = None,
    if_modified_since: object = None,
    if_unmodified_since: object = None,
    sse_customer_key: object = None,
) -> dict[str, str]:
    """Return the headers of a read (GET, HEAD): its conditions and its SSE-C key.

    Args:
        if_match: an ETag or ``"*"``.
        if_none_match: an ETag or ``"*"``.
        if_modified_since: an aware ``datetime``.
        if_unmodified_since: an aware ``datetime``.
        sse_customer_key: the object's ``SSECustomerKey``.

    Returns:
        The headers.

    Raises:
        TypeError, ValueError: an argument of the wrong type or value.
    """
    headers = read_condition_headers(
        if_match=if_match,
        if_none_match=if_none_match,
        if_modified_since=if_modified_since,
        if_unmodified_since=if_unmodified_since,
    )
    return {**headers, **customer_key_headers(sse_customer_key)}


def write_headers(
    *,
    if_match: object = None,
    if_none_match: object = None,
    sse_customer_key: object = None,
    server_side_encryption: object = None,
    sse_kms_key_id: object = None,
    tagging: object = None,
    cache_control: object = None,
    content_disposition: object = None,
    content_encoding: object = None,
    content_language: object = None,
    expires: object = None,
) -> dict[str, str]:
    """Return the headers of a write (Put, Copy's target, Create): conditions, encryption,
    tags and content headers.

    Args:
        if_match: the ETag the replaced object must have.
        if_none_match: ``"*"``: write only if the key is free.
        sse_customer_key: an ``SSECustomerKey`` to encrypt with (SSE-C).
        server_side_encryption: ``"AES256"`` or ``"aws:kms"`` (not with SSE-C).
        sse_kms_key_id: the KMS key, with ``"aws:kms"``.
        tagging: tags, a mapping of ``str`` to ``str``.
        cache_control: ``Cache-Control`` to store.
        content_disposition: ``Content-Disposition`` to store.
        content_encoding: ``Content-Encoding`` to store.
        content_language: ``Content-Language`` to store.
        expires: ``Expires`` to store, an aware ``datetime``.

    Returns:
        The headers.

    Raises:
        TypeError, ValueError: an argument of the wrong type or value, or SSE-C together
            with another server-side encryption.
    """
    given = (if_match, if_none_match, sse_customer_key, server_side_encryption, sse_kms_key_id,
             tagging, cache_control, content_disposition, content_encoding, content_language,
             expires)
    if given.count(None) == len(given):  # the usual write: nothing to check or build
        return {}
    if sse_customer_key is not None and server_side_encryption is not None:
        raise ValueError("sse_customer_key (SSE-C) and server_side_encryption exclude each other")
    headers = write_condition_headers(if_match=if_match, if_none_match=if_none_match)
    headers.update(customer_key_headers(sse_customer_key))
    headers.update(server_side_encryption_headers(server_side_encryption, sse_kms_key_id))
    if tagging is not None:
        headers["x-amz-tagging"] = encode_tagging(tagging)
    values = {
        "cache_control": cache_control,
        "content_disposition": content_disposition,
        "content_encoding": content_encoding,
        "content_language": content_language,
    }
    for argument, name in _CONTENT_HEADERS:
        value = values[argument]
        if value is not None:
            if not isinstance(value, str):
                raise TypeError(f"{argument} must be a str, not {type(value).__name__}")
            headers[name] = check_header(name, value)[1]
    if expires is not None:
        headers["Expires"] = http_date("expires", expires)
    return headers


def directive_header(name: str, directive: object) -> dict[str, str]:
    """Return a copy's ``x-amz-metadata-directive`` or ``x-amz-tagging-directive``.

    Args:
        name: ``"metadata"`` or ``"tagging"``.
        directive: ``None``, ``"COPY"`` or ``"REPLACE"``.

    Returns:
        The header, or none for ``None``.

    Raises:
        TypeError, ValueError: not one of those.
    """
    if directive is None:
        return {}
    if not isinstance(directive, str):
        raise TypeError(f"{name}_directive must be a str, not {type(directive).__name__}")
    if directive not in DIRECTIVES:
        raise ValueError(f'{name}_directive must be "COPY" or "REPLACE", got {directive!r}')
    return {f"x-amz-{name}-directive": directive}


# A caller's ``headers=`` and ``query=``, checked, for calls that send them on several requests.
Extras = tuple[Mapping[str, str] | None, Mapping[str, str | None] | None]


def with_extras(request: Request, headers: object = None, query: object = None) -> Request:
    """Return ``request`` with a caller's extra headers and query parameters, all signed.

    Args:
        request: the operation's request.
        headers: a mapping of header names to ``str`` values.
        query: a mapping of parameter names to ``str`` values (``None``: a bare name).

    Returns:
        The request with both added (``request`` itself when there is nothing to add).

    Raises:
        TypeError: not mappings, or a value that is not a ``str``.
        ValueError: a header the engine sets (``Authorization``, ``x-amz-date``, ...), or a
            header or parameter the call itself already sets (use its argument instead).
    """
    if headers is None and query is None:
        return request
    added = _extra_headers(request, headers)
    extra_query = _extra_query(request, query)
    return dataclasses.replace(
        request,
        headers={**request.headers, **added},
        query=request.query + extra_query,
    )


def _extra_headers(request: Request, headers: object) -> dict[str, str]:
    if headers is None:
        return {}
    if not isinstance(headers, Mapping):
        raise TypeError(f"headers must be a mapping of str to str, not {type(headers).__name__}")
    taken = {name.lower() for name in request.headers}
    added: dict[str, str] = {}
    for name, value in headers.items():
        check_header(name, value)
        lowered = str(name).lower()
        if lowered in ENGINE_HEADERS:
            raise ValueError(f"header {name!r} is set by rawS3 when it signs; it cannot be given")
        if lowered in taken:
            raise ValueError(
                f"header {name!r} is already set by this call's own arguments; give it once"
            )
        taken.add(lowered)
        added[name] = value
    return added


def _extra_query(request: Request, query: object) -> Query:
    if query is None:
        return ()
    if not isinstance(query, Mapping):
        raise TypeError(
            f"query must be a mapping of str to str or None, not {type(query).__name__}"
        )
    taken = {name for name, _ in request.query}
    out: Query = ()
    for name, value in query.items():
        if not isinstance(name, str) or not name:
            raise ValueError(f"query parameter names must be non-empty str, got {name!r}")
        if value is not None and not isinstance(value, str):
            raise TypeError(
                f"query parameter {name!r} must have a str value or None, not "
                f"{type(value).__name__}"
            )
        if name in taken:
            raise ValueError(f"query parameter {name!r} is already set by this call")
        if name.lower().startswith("x-amz-"):
            raise ValueError(f"query parameter {name!r} is for presigned URLs, not requests")
        out += ((name, value),)
    return out


@dataclass(frozen=True)
class UploadOptions:
    """What a multipart upload sends besides its parts: conditions, encryption and tags.

    Checked when made (``TypeError``/``ValueError``), so a ``MultipartUploader`` refuses a
    bad option before anything is sent. ``S3Client.multipart_uploader`` makes one from its
    keyword arguments.

    Attributes:
        if_match: complete only if the current object has this ETag.
        if_none_match: ``"*"``: complete only if the key is free (create only).
        sse_customer_key: an ``SSECustomerKey``: SSE-C on Create and every part.
        server_side_encryption: ``"AES256"`` or ``"aws:kms"``, on Create.
        sse_kms_key_id: the KMS key, with ``"aws:kms"``.
        tagging: tags, on Create.
        headers: extra headers, signed, on the request that defines the object: Create, or
            the single PutObject that replaces a multipart upload; parts, Complete and Abort
            carry only what the upload itself needs.
        query: extra query parameters, signed, on that same request only.
    """

    if_match: str | None = None
    if_none_match: str | None = None
    sse_customer_key: SSECustomerKey | None = None
    server_side_encryption: str | None = None
    sse_kms_key_id: str | None = None
    tagging: Mapping[str, str] | None = None
    headers: Mapping[str, str] | None = None
    query: Mapping[str, str | None] | None = None

    def __post_init__(self) -> None:
        # Checks every option, and the extras against the headers the options set.
        with_extras(Request("PUT", headers=self._option_headers()), self.headers, self.query)

    def _option_headers(self) -> dict[str, str]:
        return {
            **write_headers(
                sse_customer_key=self.sse_customer_key,
                server_side_encryption=self.server_side_encryption,
                sse_kms_key_id=self.sse_kms_key_id,
                tagging=self.tagging,
            ),
            **self.complete_headers(),
        }

    def put_headers(self) -> dict[str, str]:
        """Return the headers of a single PutObject carrying every option.

        Returns:
            The headers.
        """
        return {**self.create_headers(), **self.complete_headers()}

    def create_headers(self) -> dict[str, str]:
        """Return the headers of CreateMultipartUpload: encryption, tags and extra headers.

        Returns:
            The headers.
        """
        options = write_headers(
            sse_customer_key=self.sse_customer_key,
            server_side_encryption=self.server_side_encryption,
            sse_kms_key_id=self.sse_kms_key_id,
            tagging=self.tagging,
        )
        return {**options, **(self.headers or {})}

    def create_query(self) -> dict[str, Any]:
        """Return ``{"query": ...}`` for Create or the single PutObject, or nothing.

        A call without extra parameters then looks exactly as before (see
        :func:`headers_argument`).

        Returns:
            Keyword arguments for the call.
        """
        return {"query": dict(self.query)} if self.query else {}

    def part_headers(self) -> dict[str, str]:
        """Return the headers of each UploadPart: the SSE-C key, if any.

        Returns:
            The headers.
        """
        return customer_key_headers(self.sse_customer_key)

    def complete_headers(self) -> dict[str, str]:
        """Return the headers of CompleteMultipartUpload: its conditions.

        Returns:
            The headers.
        """
        return write_condition_headers(if_match=self.if_match, if_none_match=self.if_none_match)


def check_upload_options(options: object) -> UploadOptions:
    """Check a ``MultipartUploader``'s ``options`` argument.

    Args:
        options: ``None`` or an :class:`UploadOptions`.

    Returns:
        The options (empty ones for ``None``).

    Raises:
        TypeError: another type.
    """
    if options is None:
        return UploadOptions()
    if not isinstance(options, UploadOptions):
        raise TypeError(f"options must be an UploadOptions, not {type(options).__name__}")
    return options


def headers_argument(headers: Mapping[str, str]) -> dict[str, Any]:
    """Return ``{"headers": headers}``, or nothing when there are none to send.

    A call without options then looks exactly as before, so clients that stand in for
    ``S3Client`` (in tests, or wrappers) need not take ``headers``.

    Args:
        headers: the headers.

    Returns:
        Keyword arguments for the call.
    """
    return {"headers": dict(headers)} if headers else {}


def copy_directives(
    options: Mapping[str, str],
    metadata: Mapping[str, str] | None,
    content_type: str | None,
    directive: str | None,
) -> dict[str, str]:
    """Return a copy's ``x-amz-metadata-directive``: REPLACE when anything replaces the
    source's metadata (metadata, a type, content headers), else as given.

    Args:
        options: the copy's other headers, where content headers would be.
        metadata: the new metadata, if any.
        content_type: the new type, if any.
        directive: ``None``, ``"COPY"`` or ``"REPLACE"``.

    Returns:
        The header, or none.

    Raises:
        TypeError, ValueError: an unknown directive, or ``"COPY"`` with a replacement.
    """
    replacing = (
        metadata is not None
        or content_type is not None
        or any(name in options for name in (*[h for _, h in _CONTENT_HEADERS], "Expires"))
    )
    if replacing and directive == "COPY":
        raise ValueError(
            'metadata_directive="COPY" keeps the source\'s metadata; new metadata, a content '
            "type or content headers need REPLACE"
        )
    chosen = directive_header("metadata", directive)
    if replacing and not chosen:
        chosen = {"x-amz-metadata-directive": "REPLACE"}
    return chosen


def tagging_directive_header(tagging: object, directive: str | None) -> dict[str, str]:
    """Return a copy's ``x-amz-tagging-directive``: REPLACE when new tags are given.

    Args:
        tagging: the copy's new tags, if any.
        directive: ``None``, ``"COPY"`` or ``"REPLACE"``.

    Returns:
        The header, or none.

    Raises:
        TypeError, ValueError: an unknown directive, or ``"COPY"`` with new tags.
    """
    if tagging is not None and directive == "COPY":
        raise ValueError(
            'tagging_directive="COPY" keeps the source\'s tags; tagging= needs REPLACE'
        )
    chosen = directive_header("tagging", directive)
    if tagging is not None and not chosen:
        chosen = {"x-amz-tagging-directive": "REPLACE"}
    return chosen
