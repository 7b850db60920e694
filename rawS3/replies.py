"""Reading the engine's answers: whole and capped, or kept open for the caller to stream.

S3 answers other than an object's body are short, so they are read whole, up to a cap a
hostile server cannot push us past.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Mapping

import aiohttp

from rawS3.diagnosis import redact_headers
from rawS3.errors import ResponseError
from rawS3.operations.request import Reply, Request, error_from_document
from rawS3.xml import find_error

__all__ = [
    "ERROR_BODY_LIMIT",
    "XML_BODY_LIMIT",
    "keep_open",
    "log_exchange",
    "read_capped",
    "read_checked_reply",
    "read_reply",
]

log = logging.getLogger("rawS3")
# Error bodies are small; a hostile server must not make us buffer an unbounded one.
ERROR_BODY_LIMIT = 64 * 1024
XML_BODY_LIMIT = 64 * 1024 * 1024


async def read_reply(response: aiohttp.ClientResponse) -> Reply:
    """Read an answer whole (at most ``XML_BODY_LIMIT`` bytes) and release it.

    Args:
        response: the answer, its body unread.

    Returns:
        Its status, headers and body.

    Raises:
        ResponseError: a body longer than ``XML_BODY_LIMIT``.
    """
    async with response:
        # An answer that says it has no body (a PutObject's) has nothing to read.
        empty = response.content_length == 0 and response.content.at_eof()
        body = b"" if empty else await read_capped(response, XML_BODY_LIMIT)
        return Reply(response.status, response.headers, body)


async def read_checked_reply(request: Request, response: aiohttp.ClientResponse) -> Reply:
    """Read a 200 that may still be an error: raised here, it is retried like any other.

    Args:
        request: what was sent, named in the error.
        response: the answer, its body unread.

    Returns:
        The answer, when its body is not an ``<Error>`` document.

    Raises:
        S3Error: the body is an ``<Error>`` document.
        ResponseError: a body longer than ``XML_BODY_LIMIT``.
    """
    reply = await read_reply(response)
    doc = find_error(reply.body)
    if doc is None:
        return reply
    raise error_from_document(doc, reply.status, reply.headers, request)


async def keep_open(response: aiohttp.ClientResponse) -> aiohttp.ClientResponse:
    """Hand the answer on unread: the caller streams its body and releases it.

    Args:
        response: the answer.

    Returns:
        The same answer.
    """
    return response


async def read_capped(response: aiohttp.ClientResponse, limit: int) -> bytes:
    """Read the body to its end, refusing one longer than ``limit`` bytes.

    Args:
        response: the answer, its body unread.
        limit: the most bytes accepted.

    Returns:
        The body.

    Raises:
        ResponseError: the body is longer than ``limit``.
    """
    # StreamReader.read(n) returns whatever has arrived (one chunk of a chunked answer),
    # not n bytes; read until the end or until the cap is passed.
    body = bytearray()  # appending to bytes would copy the whole body for every block
    while len(body) <= limit:
        block = await response.content.read(limit + 1 - len(body))
        if not block:
            break
        body += block
    if len(body) > limit:
        raise ResponseError(
            f"the server sent more than {limit:,} bytes where S3 sends a short answer"
        )
    return bytes(body)


def log_exchange(
    request: Request,
    url: str,
    signed: Mapping[str, str],
    response: aiohttp.ClientResponse,
    started: float,
) -> None:
    """Log one exchange at DEBUG, its signed headers redacted.

    Args:
        request: what was sent.
        url: where.
        signed: the headers sent (secrets are redacted).
        response: the answer.
        started: ``time.perf_counter()`` when it was sent.
    """
    if not log.isEnabledFor(logging.DEBUG):
        return
    elapsed = (time.perf_counter() - started) * 1000
    log.debug(
        "%s %s -> %d (request id %s, %.1f ms) headers=%s",
        request.method,
        url,
        response.status,
        response.headers.get("x-amz-request-id"),
        elapsed,
        redact_headers(signed),
    )
