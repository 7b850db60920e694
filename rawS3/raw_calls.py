"""S3Client's raw calls: any request, signed as asked (``rawS3.client.S3Client`` inherits them).

``prepare`` hands the arguments to ``rawS3.raw.prepare_request`` with the client's settings and
clock; ``request`` and ``stream`` send through ``rawS3.rawio`` with the client's engine. They
only wire the client's parts to those two modules.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from contextlib import AbstractAsyncContextManager
from typing import TYPE_CHECKING

from rawS3.multipart_calls import Facade
from rawS3.raw import (
    Expect,
    PreparedRequest,
    PrepareOptions,
    RawResponse,
    RawStream,
    prepare_request,
)

if TYPE_CHECKING:
    from typing_extensions import Unpack

__all__ = ["RawCalls"]


class RawCalls(Facade):
    """``prepare``, ``request`` and ``stream``: requests the client does not wrap, as values."""

    def prepare(
        self,
        method: str,
        bucket: str | None = None,
        key: str | None = None,
        **options: Unpack[PrepareOptions],
    ) -> PreparedRequest:
        """Sign a request of your own and return it as a value; nothing is sent.

        Args:
            method: the HTTP method, upper-case.
            bucket: the bucket, or ``None`` for a service-level request.
            key: the object key, or ``None`` for a bucket-level request.
            options: ``query``, ``headers``, ``body``, ``size``, ``payload``, ``chunk_size``,
                ``content_sha256``, ``unsigned_headers``, ``anonymous``, ``presign``, ``now``
                (``None`` or left out: the client's clock, with the offset a server taught
                it) and ``credentials`` (default: the client's),
                as ``rawS3.raw.prepare_request`` documents them.

        Returns:
            The method, wire URL, headers and body to send.

        Raises:
            TypeError, ValueError: a bad argument, or options that cannot go together.
            CredentialsError: the client's provider has no current credentials yet
                (``prepare`` does not fetch: ``await client.fetch_credentials()`` first).
        """
        if options.get("now") is None:
            options["now"] = self._clock.now()
        if options.get("credentials") is None and not options.get("anonymous"):
            options["credentials"] = self._signing_credentials()
        return prepare_request(self._settings, method, bucket, key, **options)

    async def request(
        self,
        target: str | PreparedRequest,
        bucket: str | None = None,
        key: str | None = None,
        *,
        expect: Expect = None,
        retry: bool = False,
        **options: Unpack[PrepareOptions],
    ) -> RawResponse:
        """Send a request of your own and return its answer as it came, body read whole.

        Args:
            target: an HTTP method, to prepare the request from it and the arguments that
                follow (afresh for each attempt), or a ``PreparedRequest``, sent as it is.
            bucket: as for ``prepare``; not with a ``PreparedRequest``.
            key: as for ``prepare``; not with a ``PreparedRequest``.
            expect: the status or statuses that count as success: any other raises the typed
                ``S3Error`` (default ``None``: no status raises).
            retry: retry what the client's ``RetryPolicy`` retries (default: one attempt).
            options: as for ``prepare``; not with a ``PreparedRequest``.

        Returns:
            The status, headers and body, and the request that got them.

        Raises:
            S3Error: only with ``expect``, for another status.
            TransportError: no usable answer. RuntimeError: the client is closed.
            TypeError, ValueError: as for ``prepare`` (nothing is sent).
        """
        from rawS3 import rawio

        build = self._raw_build(target, bucket, key, options)
        return await rawio.fetch(self._engine, build, expect=expect, retry=retry)

    def stream(
        self,
        target: str | PreparedRequest,
        bucket: str | None = None,
        key: str | None = None,
        *,
        expect: Expect = None,
        retry: bool = False,
        **options: Unpack[PrepareOptions],
    ) -> AbstractAsyncContextManager[RawStream]:
        """Send a request as ``request`` does, but hand out its body to read in pieces.

        ``async with client.stream("GET", bucket, key) as answer:``, then
        ``async for piece in answer.iter_chunks(): ...``; the connection is released when the
        block ends.

        Args:
            target: an HTTP method, or a ``PreparedRequest`` (see ``request``).
            bucket: as for ``prepare``; not with a ``PreparedRequest``.
            key: as for ``prepare``; not with a ``PreparedRequest``.
            expect: as for ``request``.
            retry: as for ``request``.
            options: as for ``prepare``; not with a ``PreparedRequest``.

        Returns:
            An async context manager that sends the request on entry and gives its answer.

        Raises:
            TypeError: a ``PreparedRequest`` with further arguments.
        """
        from rawS3 import rawio

        build = self._raw_build(target, bucket, key, options)
        return rawio.open_stream(self._engine, build, expect=expect, retry=retry)

    def _raw_build(
        self,
        target: str | PreparedRequest,
        bucket: str | None,
        key: str | None,
        options: PrepareOptions,
    ) -> Callable[[], PreparedRequest]:
        if not isinstance(target, PreparedRequest):
            return functools.partial(self.prepare, target, bucket, key, **options)
        if bucket is not None or key is not None or options:
            raise TypeError("a PreparedRequest is sent as it is: give no bucket, key or options")
        return lambda: target
