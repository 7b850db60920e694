"""TLS options to what aiohttp's ``ssl=`` takes; a CA file is read here, when the client is made,
so a missing or empty one fails at once, not at the first request."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import ssl

__all__ = ["DeferredCA", "tls_context"]


def tls_context(*, verify: bool, ca_file: str | None) -> ssl.SSLContext | bool:
    """Return what aiohttp's ``ssl=`` takes: verification on by default, a CA file if given.

    Args:
        verify: check the server's certificate.
        ca_file: a PEM file of CA certificates to trust instead of the system's.

    Returns:
        ``False`` (no verification), ``True`` (the system's CAs) or a context trusting
        ``ca_file``.

    Raises:
        OSError: ``ca_file`` cannot be read.
        ssl.SSLError: ``ca_file`` holds no usable certificate.
    """
    if not verify:
        return False
    if ca_file is None:
        return True
    import ssl  # loaded with aiohttp anyway; not needed to import rawS3

    return ssl.create_default_context(cafile=ca_file)


class DeferredCA:
    """A CA file that only the environment or a profile names, for a client of an http
    endpoint: read at its first TLS connection (an https proxy, or a raw request to an https
    URL), which most such clients never make; parsing a system bundle costs ~40 ms.

    Args:
        ca_file: the PEM file of CA certificates.
    """

    def __init__(self, ca_file: str) -> None:
        self.ca_file = ca_file
        self._context: ssl.SSLContext | bool | None = None

    def context(self) -> ssl.SSLContext | bool:
        """The context trusting ``ca_file``, read on the first call.

        Returns:
            What aiohttp's ``ssl=`` takes, the same on every call.

        Raises:
            OSError: ``ca_file`` cannot be read.
            ssl.SSLError: ``ca_file`` holds no usable certificate.
        """
        if self._context is None:
            self._context = tls_context(verify=True, ca_file=self.ca_file)
        return self._context
