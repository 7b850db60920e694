"""Server-side encryption: the SSE-C key value and the headers of SSE-C, SSE-S3 and SSE-KMS.

With SSE-C the caller holds the 256-bit key and sends it with every request that writes or
reads the object; the server encrypts with it and keeps only a salted hash. The key is a
secret like the secret access key, so :class:`SSECustomerKey` never shows it: its ``repr`` and
``str`` name only the key's MD5, which S3 itself echoes in answers, and the engine masks the
key's header in its DEBUG log and in any error text that could echo it.
"""

from __future__ import annotations

import base64
import hashlib
from collections.abc import Mapping

from rawS3.validation import check_header

__all__ = [
    "CUSTOMER_KEY_HEADERS",
    "SERVER_SIDE_ENCRYPTIONS",
    "SSECustomerKey",
    "check_customer_key",
    "customer_key_headers",
    "customer_keys",
    "server_side_encryption_headers",
]

KEY_BYTES = 32
SERVER_SIDE_ENCRYPTIONS = ("AES256", "aws:kms", "aws:kms:dsse")
_SSE_C = "x-amz-server-side-encryption-customer-"
_COPY_SSE_C = "x-amz-copy-source-server-side-encryption-customer-"
# The headers whose value is the key itself: masked wherever headers are shown.
CUSTOMER_KEY_HEADERS = frozenset({f"{_SSE_C}key", f"{_COPY_SSE_C}key"})


class SSECustomerKey:
    """A 256-bit SSE-C key: what S3 needs sent (base64 key and its MD5), never shown.

    Args:
        key: exactly 32 bytes (``bytes``, ``bytearray`` or ``memoryview``).

    Attributes:
        key_md5: the base64 MD5 of the key, as S3 echoes it (not secret).

    Raises:
        TypeError: ``key`` is not bytes-like (a str would be text, not 256 key bits).
        ValueError: ``key`` is not exactly 32 bytes long.
    """

    __slots__ = ("_encoded", "key_md5")

    def __init__(self, key: bytes | bytearray | memoryview) -> None:
        if not isinstance(key, (bytes, bytearray, memoryview)):
            raise TypeError(f"an SSE-C key must be 32 bytes (bytes-like), not {type(key).__name__}")
        raw = bytes(key)
        if len(raw) != KEY_BYTES:
            raise ValueError(f"an SSE-C key must be exactly 32 bytes (AES-256), got {len(raw)}")
        self._encoded = base64.b64encode(raw).decode("ascii")
        self.key_md5 = base64.b64encode(hashlib.md5(raw).digest()).decode("ascii")

    def __repr__(self) -> str:
        return f"SSECustomerKey(key_md5={self.key_md5!r})"

    __str__ = __repr__

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, SSECustomerKey):
            return NotImplemented
        return self._encoded == other._encoded

    def __hash__(self) -> int:
        return hash(self.key_md5)

    def __reduce__(self) -> tuple[object, ...]:
        # Pickling would write the key out; a key is handed over explicitly or not at all.
        raise TypeError("an SSECustomerKey is not pickled: it holds a secret key")

    def headers(self, *, copy_source: bool = False) -> dict[str, str]:
        """Return the three SSE-C headers that carry this key.

        Args:
            copy_source: the ``x-amz-copy-source-…`` form, for the source of a copy.

        Returns:
            The algorithm (``AES256``), the base64 key and the base64 key MD5.
        """
        prefix = _COPY_SSE_C if copy_source else _SSE_C
        return {
            f"{prefix}algorithm": "AES256",
            f"{prefix}key": self._encoded,
            f"{prefix}key-MD5": self.key_md5,
        }

    def secret(self) -> str:
        """Return the base64 key as sent, for masking it in what the client shows.

        Returns:
            The key's header value.
        """
        return self._encoded


def check_customer_key(name: str, key: object) -> SSECustomerKey | None:
    """Check an ``sse_customer_key`` argument.

    Args:
        name: the argument's name, for the message.
        key: ``None`` or an :class:`SSECustomerKey`.

    Returns:
        ``key``.

    Raises:
        TypeError: another type (raw bytes are wrapped by the caller with ``SSECustomerKey``,
            so a 31-byte key is caught there).
    """
    if key is None or isinstance(key, SSECustomerKey):
        return key
    raise TypeError(
        f"{name} must be an SSECustomerKey (SSECustomerKey(32 bytes)), not {type(key).__name__}"
    )


def customer_key_headers(key: object, *, copy_source: bool = False) -> dict[str, str]:
    """Return the SSE-C headers for ``key`` (none for ``None``).

    Args:
        key: ``None`` or an :class:`SSECustomerKey`.
        copy_source: the headers naming a copy's source key.

    Returns:
        The headers.

    Raises:
        TypeError: ``key`` is neither.
    """
    name = "copy_source_sse_customer_key" if copy_source else "sse_customer_key"
    checked = check_customer_key(name, key)
    return {} if checked is None else checked.headers(copy_source=copy_source)


def server_side_encryption_headers(
    server_side_encryption: object, kms_key_id: object
) -> dict[str, str]:
    """Return the SSE-S3 / SSE-KMS headers of a write.

    Args:
        server_side_encryption: ``None``, ``"AES256"`` (SSE-S3), ``"aws:kms"`` or
            ``"aws:kms:dsse"``.
        kms_key_id: the KMS key to use, only with a KMS encryption.

    Returns:
        The headers.

    Raises:
        TypeError: an argument that is not a ``str``.
        ValueError: an unknown encryption, or a KMS key without KMS encryption.
    """
    headers: dict[str, str] = {}
    if server_side_encryption is not None:
        if not isinstance(server_side_encryption, str):
            raise TypeError(
                f"server_side_encryption must be a str, not {type(server_side_encryption).__name__}"
            )
        if server_side_encryption not in SERVER_SIDE_ENCRYPTIONS:
            raise ValueError(
                f"server_side_encryption must be one of {', '.join(SERVER_SIDE_ENCRYPTIONS)}, "
                f"got {server_side_encryption!r}"
            )
        headers["x-amz-server-side-encryption"] = server_side_encryption
    if kms_key_id is not None:
        if not str(server_side_encryption).startswith("aws:kms"):
            raise ValueError('sse_kms_key_id needs server_side_encryption="aws:kms"')
        name, value = check_header("x-amz-server-side-encryption-aws-kms-key-id", kms_key_id)
        headers[name] = value
    return headers


def customer_keys(headers: Mapping[str, str]) -> list[str]:
    """Return the SSE-C keys a request carries, to mask wherever an answer echoes them.

    Args:
        headers: request headers.

    Returns:
        The base64 key values.
    """
    return [value for name, value in headers.items() if name.lower() in CUSTOMER_KEY_HEADERS]
