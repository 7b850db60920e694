"""The engine's safeguard for a conditional PutObject whose answer was lost.

A PutObject with ``If-None-Match: *`` (or ``If-Match``) that took effect but whose answer never
arrived is retried, and the retry hears 412 ``PreconditionFailed``: the object it refuses to
overwrite is its own. When an earlier attempt may have taken effect, the object's ETag tells:
equal to the MD5 of the bytes sent, the write was ours (or bytes identical to ours), and the
call succeeds. Where the ETag is not an MD5 (SSE-C, SSE-KMS) nothing can tell, and the 412 is
raised. Loaded with the engine, never by the pure core.
"""

from __future__ import annotations

import hashlib

from rawS3.bodies import BufferBody
from rawS3.engine import Engine
from rawS3.errors import PreconditionFailed, RawS3Error, S3Error
from rawS3.operations import objects
from rawS3.operations.request import Reply, Request
from rawS3.xml import strip_etag

__all__ = ["CONDITION_HEADERS", "may_have_taken_effect", "send_put"]

CONDITION_HEADERS = frozenset({"if-match", "if-none-match"})
_SSE_C_HEADERS = "x-amz-server-side-encryption-customer-"


async def send_put(engine: Engine, request: Request) -> Reply:
    """Send a PutObject; a conditional one that may have written unseen is checked with HEAD.

    Args:
        engine: sends the requests.
        request: the PutObject.

    Returns:
        The answer: the PutObject's own, or the HEAD answer of the object it wrote.

    Raises:
        PreconditionFailed: the condition failed and the object is not the one sent.
        S3Error, TransportError, ResponseError: the PutObject failed.
    """
    if not any(name.lower() in CONDITION_HEADERS for name in request.headers):
        return await engine.send(request)
    failures: list[RawS3Error] = []
    try:
        return await engine.send(request, failures.append)
    except PreconditionFailed:
        # The last failure is this 412; an earlier one may have hidden a write of ours.
        if not any(may_have_taken_effect(failure) for failure in failures[:-1]):
            raise
        head = await _head_of_ours(engine, request)
        if head is None:
            raise
        return head


def may_have_taken_effect(failure: RawS3Error) -> bool:
    """Tell whether a failed attempt may have written all the same.

    Args:
        failure: the attempt's error.

    Returns:
        ``False`` only for a 4xx refusal, which changed nothing.
    """
    return not (isinstance(failure, S3Error) and 400 <= failure.status < 500)


async def _head_of_ours(engine: Engine, request: Request) -> Reply | None:
    """The HEAD answer of the object if its ETag is the MD5 of the body sent, else ``None``."""
    body = request.body
    if not isinstance(body, BufferBody) or request.bucket is None or request.key is None:
        return None
    key_headers = {n: v for n, v in request.headers.items() if n.lower().startswith(_SSE_C_HEADERS)}
    head = objects.head_object(request.bucket, request.key, headers=key_headers)
    reply = await engine.send(head)
    md5 = body.md5 or hashlib.md5(body.data, usedforsecurity=False).digest()
    return reply if strip_etag(reply.headers.get("ETag", "")) == md5.hex() else None
