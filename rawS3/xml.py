"""S3's XML, read safely and written plainly: the pieces every operation's documents share.

Reading is namespace-tolerant: elements are matched on their local names, so documents with
the S3 namespace (AWS, MinIO, Ceph RGW) and without one parse alike. Any document that
declares a DTD or entities is refused before the parser could expand anything, and every
malformed or non-XML body raises :class:`~rawS3.errors.ResponseError`. Each parse builds its
own parser: there is no shared ElementTree state.

Values keep the server's spelling where it matters: ETags keep their quotes (see
:func:`strip_etag`), keys are never stripped of whitespace. Sizes are ``int``, flags ``bool``,
timestamps timezone-aware UTC ``datetime``. The documents of each operation live beside it, in
``rawS3.operations``.
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from urllib.parse import unquote_plus

from rawS3.errors import ResponseError

__all__ = [
    "S3_NAMESPACE",
    "ErrorDocument",
    "Node",
    "check_xml_text",
    "document",
    "element",
    "find_error",
    "parse_error",
    "parse_http_date",
    "strip_etag",
]

S3_NAMESPACE = "http://s3.amazonaws.com/doc/2006-03-01/"

_XML_DECLARATION = '<?xml version="1.0" encoding="UTF-8"?>\n'
_DTD_MARKUP = re.compile(rb"<!\s*(?:DOCTYPE|ENTITY)", re.IGNORECASE)
_DTD_REFUSED = "refused: the response declares a DTD or entities, which S3 never sends"
# Characters outside XML 1.0's Char production (lone surrogates included), listed rather than
# negated: the negated class spans all of Unicode and took 7 ms to compile at import.
_NOT_XML_CHAR = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")
_TIMESTAMP = re.compile(
    r"(\d{4})-(\d\d)-(\d\d)T(\d\d):(\d\d):(\d\d)(?:\.(\d+))?(Z|[+-]\d\d:?\d\d)?",
    re.IGNORECASE,
)


@dataclass(frozen=True, slots=True)
class ErrorDocument:
    """An S3 ``<Error>`` document.

    Attributes:
        code: ``Code``, e.g. ``"NoSuchKey"``; never empty.
        message: ``Message``; ``""`` when the server sent none.
        request_id: ``RequestId``, if sent.
        host_id: ``HostId``, if sent.
        resource: ``Resource``, if sent.
        bucket: ``BucketName`` (or ``Bucket``), if sent.
        key: ``Key``, if sent.
        details: every child element not given a field of its own (e.g. ``StringToSign``,
            ``CanonicalRequest``, ``ArgumentName``), by local name.
    """

    code: str
    message: str
    request_id: str | None
    host_id: str | None
    resource: str | None
    bucket: str | None
    key: str | None
    details: Mapping[str, str] = field(hash=False)


# ---------------------------------------------------------------------------------------
# Reading


class _NoDoctypeBuilder(ET.TreeBuilder):
    # ElementTree's C parser calls target.doctype from expat's start-of-DOCTYPE handler,
    # before the internal subset is read, so raising here stops every entity declaration
    # (and any external DTD) from being processed, whatever the body's encoding.
    def doctype(self, name: str, pubid: str | None, system: str | None) -> None:
        raise ResponseError(_DTD_REFUSED)


class Node:
    """One element of a response document, read by the local names of its children.

    Args:
        element: the parsed element.
    """

    def __init__(self, element: ET.Element) -> None:
        self.element = element
        self.name = element.tag.rpartition("}")[2]

    @classmethod
    def parse(cls, body: bytes, *roots: str) -> Node:
        """Parse ``body`` and check its root element is one of ``roots`` (any, if none given).

        Args:
            body: the response body.
            roots: the local names the root may have.

        Returns:
            The root.

        Raises:
            ResponseError: not well-formed XML, a DTD or entity, or another root element.
            TypeError: ``body`` is not bytes.
        """
        node = cls(_parse_document(body))
        if roots and node.name not in roots:
            code = f" (code {node.text('Code')})" if node.name == "Error" else ""
            expected = " or ".join(f"<{name}>" for name in roots)
            raise ResponseError(f"expected {expected} but the response holds <{node.name}>{code}")
        return node

    def children(self, name: str) -> list[Node]:
        """Return the children named ``name``, in document order.

        Args:
            name: the local name.

        Returns:
            The matching children.
        """
        return [Node(child) for child in self.element if child.tag.rpartition("}")[2] == name]

    def child(self, name: str) -> Node | None:
        """Return the first child named ``name``.

        Args:
            name: the local name.

        Returns:
            The child, or ``None``.
        """
        found = self.children(name)
        return found[0] if found else None

    def text(self, name: str) -> str | None:
        """Return the text of the child ``name``: ``""`` when empty, ``None`` when absent.

        Args:
            name: the local name.

        Returns:
            The text.
        """
        child = self.child(name)
        return None if child is None else child.element.text or ""

    def optional(self, name: str) -> str | None:
        """Return the child's text, with an empty element read as absent.

        Args:
            name: the local name.

        Returns:
            The text, or ``None``.
        """
        return self.text(name) or None

    def required(self, name: str) -> str:
        """Return the child's text, which must be present (it may be empty).

        Args:
            name: the local name.

        Returns:
            The text.

        Raises:
            ResponseError: there is no such child.
        """
        text = self.text(name)
        if text is None:
            raise ResponseError(f"<{self.name}> lacks its <{name}> element")
        return text

    def integer(self, name: str) -> int:
        """Return the child's text as a non-negative integer; the child must be present.

        Args:
            name: the local name.

        Returns:
            The number.

        Raises:
            ResponseError: absent, or not a non-negative integer.
        """
        return _to_int(name, self.required(name))

    def optional_integer(self, name: str) -> int | None:
        """Return the child's text as a non-negative integer, or ``None`` when absent or empty.

        Args:
            name: the local name.

        Returns:
            The number, or ``None``.

        Raises:
            ResponseError: not a non-negative integer.
        """
        text = self.optional(name)
        return None if text is None else _to_int(name, text)

    def flag(self, name: str) -> bool:
        """Return the child's ``true``/``false`` text as a bool (absent: ``False``).

        Args:
            name: the local name.

        Returns:
            The flag.

        Raises:
            ResponseError: another text.
        """
        text = (self.text(name) or "false").strip().lower()
        if text not in ("true", "false"):
            raise ResponseError(f"<{name}> must be 'true' or 'false', got {text!r}")
        return text == "true"

    def timestamp(self, name: str) -> datetime:
        """Return the child's ISO 8601 (or HTTP date) text as an aware UTC time.

        Args:
            name: the local name.

        Returns:
            The time in UTC.

        Raises:
            ResponseError: absent, or not a timestamp.
        """
        text = self.required(name).strip()
        match = _TIMESTAMP.fullmatch(text)
        if match:
            return _iso_timestamp(match)
        try:
            # Some S3-compatible servers send the HTTP date format in listings.
            return parse_http_date(text)
        except ValueError:
            raise ResponseError(f"<{name}> must hold an ISO 8601 timestamp, got {text!r}") from None

    def url_decoder(self) -> Callable[[str], str]:
        """Return how to read keys: percent-decoding when ``EncodingType`` is ``url``.

        Returns:
            A function from the text sent to the key.
        """
        # Decode only when the answer says it is encoded: servers that ignore the request's
        # encoding-type return raw keys, and decoding those would corrupt keys holding '%'.
        if (self.text("EncodingType") or "").strip().lower() == "url":
            return _url_decode
        return str

    def prefixes(self, decode: Callable[[str], str]) -> tuple[str, ...]:
        """Return the ``CommonPrefixes`` of a listing, decoded.

        Args:
            decode: what :meth:`url_decoder` returned.

        Returns:
            The prefixes, in document order.
        """
        return tuple(
            decode(prefix.element.text or "")
            for group in self.children("CommonPrefixes")
            for prefix in group.children("Prefix")
        )


def _to_int(name: str, text: str) -> int:
    if not text.strip().isdigit():
        raise ResponseError(f"<{name}> must hold a non-negative integer, got {text!r}")
    return int(text.strip())


def _parse_document(body: bytes) -> ET.Element:
    data = _document_bytes(body)
    if _DTD_MARKUP.search(data):
        raise ResponseError(_DTD_REFUSED)
    parser = ET.XMLParser(target=_NoDoctypeBuilder())
    try:
        parser.feed(data)
        root = parser.close()
    except ET.ParseError as exc:
        detail = f"the response is not well-formed XML ({exc}): {_excerpt(data)}"
        raise ResponseError(detail) from exc
    if not isinstance(root, ET.Element):
        raise ResponseError("the response holds no XML element")
    return root


def _document_bytes(body: bytes) -> bytes:
    if not isinstance(body, (bytes, bytearray, memoryview)):
        raise TypeError(f"body must be bytes, not {type(body).__name__}")
    # AWS pads long-running answers (CompleteMultipartUpload, CopyObject) with leading
    # whitespace, which would put the XML declaration where expat refuses it.
    data = bytes(body).removeprefix(b"\xef\xbb\xbf").lstrip(b" \t\r\n")
    if not data:
        raise ResponseError("the response body is empty where S3 sends an XML document")
    return data


def _excerpt(data: bytes) -> str:
    return repr(data[:80].decode("utf-8", "replace")) + ("..." if len(data) > 80 else "")


def parse_http_date(text: str) -> datetime:
    """Read an HTTP date (RFC 9110, e.g. ``Tue, 24 Nov 2026 16:18:21 GMT``) as an aware UTC time.

    Args:
        text: the date as sent.

    Returns:
        The time in UTC.

    Raises:
        ValueError: ``text`` is not an HTTP date.
    """
    # email.utils (with socket and the email package) would add a tenth to rawS3's import time.
    from email.utils import parsedate_to_datetime

    try:
        return parsedate_to_datetime(text).astimezone(timezone.utc)
    except TypeError:  # some Python versions raise it for text that is no date at all
        raise ValueError(f"not an HTTP date: {text!r}") from None


def _iso_timestamp(match: re.Match[str]) -> datetime:
    year, month, day, hour, minute, second, fraction, offset = match.groups()
    micro = int((fraction or "0")[:6].ljust(6, "0"))
    try:
        moment = datetime(
            int(year),
            int(month),
            int(day),
            int(hour),
            int(minute),
            int(second),
            micro,
            tzinfo=timezone.utc,
        )
    except ValueError:
        raise ResponseError(f"invalid timestamp {match.group(0)!r}") from None
    return moment - _utc_offset(offset)


def _utc_offset(offset: str | None) -> timedelta:
    if offset is None or offset.upper() == "Z":
        return timedelta(0)
    digits = offset[1:].replace(":", "")
    delta = timedelta(hours=int(digits[:2]), minutes=int(digits[2:]))
    return -delta if offset[0] == "-" else delta


def _url_decode(text: str) -> str:
    # '+' means space here. AWS and MinIO encode a space as '+' (form style), Ceph RGW as
    # '%20', and all three encode a literal '+' as '%2B', so a bare '+' is always a space.
    try:
        return unquote_plus(text, errors="strict")
    except UnicodeDecodeError:
        raise ResponseError(f"url-encoded value {text!r} is not UTF-8") from None


def parse_error(body: bytes) -> ErrorDocument:
    """Parse an S3 ``<Error>`` document.

    Args:
        body: the response body.

    Returns:
        The error's fields; ``message`` is ``""`` when the server sent none (Ceph RGW).

    Raises:
        ResponseError: the body is not XML, declares a DTD, is not an ``<Error>``, or has
            no ``<Code>``.
        TypeError: ``body`` is not bytes.
    """
    return _error_document(Node.parse(body, "Error"))


def find_error(body: bytes) -> ErrorDocument | None:
    """Return the ``<Error>`` a 200 answer carries instead of its result, if it does.

    CompleteMultipartUpload, CopyObject and UploadPartCopy can fail after the 200 status
    was sent; the failure then arrives as the body.

    Args:
        body: the response body.

    Returns:
        The error document, or ``None`` when the root element is not ``<Error>``.

    Raises:
        ResponseError: the body is not XML or declares a DTD.
        TypeError: ``body`` is not bytes.
    """
    root = Node.parse(body)
    return _error_document(root) if root.name == "Error" else None


_ERROR_FIELDS = frozenset(
    {"Code", "Message", "RequestId", "HostId", "Resource", "BucketName", "Bucket", "Key"}
)


def _error_document(root: Node) -> ErrorDocument:
    code = (root.text("Code") or "").strip()
    if not code:
        raise ResponseError("the <Error> document has no <Code>")
    return ErrorDocument(
        code=code,
        message=root.text("Message") or "",
        request_id=root.optional("RequestId"),
        host_id=root.optional("HostId"),
        resource=root.optional("Resource"),
        bucket=root.optional("BucketName") or root.optional("Bucket"),
        key=root.optional("Key"),
        details={
            child.name: child.element.text or ""
            for child in map(Node, root.element)
            if child.name not in _ERROR_FIELDS
        },
    )


def strip_etag(etag: str) -> str:
    """Return an ETag without its surrounding double quotes.

    Args:
        etag: an ETag as a server sent it, e.g. ``'"9b2cf535f27731c974343645a3985328"'``;
            a doubly escaped ``&quot;`` pair is removed as well.

    Returns:
        The bare ETag; a value without surrounding quotes is returned unchanged.

    Raises:
        TypeError: ``etag`` is not a ``str``.
    """
    if not isinstance(etag, str):
        raise TypeError(f"etag must be a str, not {type(etag).__name__}")
    for quote in ('"', "&quot;"):
        if len(etag) >= 2 * len(quote) and etag.startswith(quote) and etag.endswith(quote):
            return etag[len(quote) : -len(quote)]
    return etag


# ---------------------------------------------------------------------------------------
# Writing


def check_xml_text(what: str, text: str) -> None:
    """Refuse text an XML 1.0 document cannot carry.

    Args:
        what: names the value in the message.
        text: the value.

    Raises:
        ValueError: ``text`` holds a character outside XML 1.0's range.
    """
    bad = _NOT_XML_CHAR.search(text)
    if bad:
        raise ValueError(
            f"{what} holds {bad.group()!r} at position {bad.start()}, "
            "which an XML 1.0 document cannot carry"
        )


def element(name: str, text: str) -> str:
    """Return ``<name>text</name>`` with ``text`` escaped.

    Args:
        name: the element's name.
        text: its text, already checked with :func:`check_xml_text`.

    Returns:
        The element as text.
    """
    # A raw CR would reach the server as LF (XML end-of-line normalisation), naming a
    # different key; a character reference survives.
    escaped = text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    return f"<{name}>{escaped.replace(chr(13), '&#13;')}</{name}>"


def document(root: str, content: str) -> bytes:
    """Return a UTF-8 S3 request document: the declaration, ``root`` in S3's namespace.

    Args:
        root: the root element's name.
        content: its content, already escaped.

    Returns:
        The document's bytes.
    """
    return f'{_XML_DECLARATION}<{root} xmlns="{S3_NAMESPACE}">{content}</{root}>'.encode()
