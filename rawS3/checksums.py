"""Additional checksums (``x-amz-checksum-*``): what each algorithm sends and how it is named.

CRC32 comes from ``zlib``, SHA-1 and SHA-256 from ``hashlib``. CRC32C and CRC64NVME have no
standard-library implementation: ``awscrt`` computes them when it is installed (the
``rawS3[fast-checksums]`` extra, several GiB/s), else ``rawS3.crc`` does in pure Python (about
10 MiB/s: fine for small objects and tests, too slow to guard a fast network).

``Checksum`` is incremental, so a body of any origin is checksummed as it streams by. For
multipart uploads, ``composite_checksum`` is the checksum of the parts' binary checksums
(``value-N``) and ``full_object_checksum`` the CRC of the whole object, combined from the part
CRCs and sizes without the data.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import importlib
import zlib
from collections.abc import Callable, Iterable
from typing import Any

from rawS3 import crc

__all__ = [
    "CHECKSUM_ALGORITHMS",
    "CHECKSUM_TYPES",
    "CRC_ALGORITHMS",
    "Checksum",
    "accelerated",
    "check_algorithm",
    "check_checksum_choice",
    "check_checksum_type",
    "checksum_header",
    "checksum_value",
    "composite_checksum",
    "decode_value",
    "digest_size",
    "full_object_checksum",
]

CHECKSUM_ALGORITHMS = ("crc32", "crc32c", "crc64nvme", "sha1", "sha256")
CRC_ALGORITHMS = ("crc32", "crc32c", "crc64nvme")
CHECKSUM_TYPES = ("COMPOSITE", "FULL_OBJECT")
_XML_NAMES = {name: f"Checksum{name.upper()}" for name in CHECKSUM_ALGORITHMS}
_MODELS = {"crc32": crc.CRC32, "crc32c": crc.CRC32C, "crc64nvme": crc.CRC64NVME}
_DIGEST_SIZES = {"crc32": 4, "crc32c": 4, "crc64nvme": 8, "sha1": 20, "sha256": 32}
CrcUpdate = Callable[[bytes | bytearray | memoryview, int], int]


def check_algorithm(algorithm: object) -> str | None:
    """Return ``algorithm`` (or ``None``: no checksum) if rawS3 can compute it.

    Args:
        algorithm: one of ``CHECKSUM_ALGORITHMS`` or ``None``.

    Returns:
        The algorithm's name, or ``None`` when no checksum is wanted.

    Raises:
        ValueError: another algorithm.
    """
    if algorithm is None:
        return None
    if algorithm not in CHECKSUM_ALGORITHMS:
        raise ValueError(
            f"checksum must be one of {CHECKSUM_ALGORITHMS} or None, got {algorithm!r}"
        )
    return str(algorithm)


def checksum_header(algorithm: str) -> str:
    """Return the request header that carries the checksum, e.g. ``x-amz-checksum-crc32``.

    Args:
        algorithm: a name ``check_algorithm`` accepted.

    Returns:
        The header name.
    """
    return f"x-amz-checksum-{algorithm}"


def checksum_element(algorithm: str) -> str:
    """Return the CompleteMultipartUpload element name, e.g. ``ChecksumCRC32``.

    Args:
        algorithm: a name ``check_algorithm`` accepted.

    Returns:
        The element's local name.

    Raises:
        KeyError: an algorithm ``check_algorithm`` would refuse.
    """
    return _XML_NAMES[algorithm]


def checksum_value(algorithm: str, data: bytes | bytearray | memoryview) -> str:
    """Return the base64 checksum of ``data`` as S3 expects it in the header.

    Args:
        algorithm: one of ``CHECKSUM_ALGORITHMS``.
        data: the bytes to checksum.

    Returns:
        The big-endian digest, base64-encoded.

    Raises:
        ValueError: another algorithm.
    """
    checksum = Checksum(algorithm)
    checksum.update(data)
    return checksum.value()


def digest_size(algorithm: str) -> int:
    """Return the size in bytes of ``algorithm``'s digest.

    Args:
        algorithm: one of ``CHECKSUM_ALGORITHMS``.

    Returns:
        4, 8, 20 or 32.
    """
    return _DIGEST_SIZES[algorithm]


def check_checksum_type(checksum_type: object, algorithm: str | None) -> str | None:
    """Return the multipart checksum type to use with ``algorithm``, or ``None`` for none.

    Args:
        checksum_type: ``"COMPOSITE"``, ``"FULL_OBJECT"`` or ``None`` (COMPOSITE, except for
            CRC64NVME, which S3 offers as FULL_OBJECT only).
        algorithm: the algorithm ``check_algorithm`` accepted, or ``None``.

    Returns:
        The type, or ``None`` when there is no algorithm.

    Raises:
        ValueError: an unknown type, a type without an algorithm, or FULL_OBJECT with an
            algorithm that is not a CRC (a hash of the whole cannot be built from the parts).
    """
    if checksum_type is not None and checksum_type not in CHECKSUM_TYPES:
        raise ValueError(f"checksum_type must be one of {CHECKSUM_TYPES} or None")
    if algorithm is None:
        if checksum_type is not None:
            raise ValueError("checksum_type needs a checksum algorithm")
        return None
    if checksum_type is None:
        return "FULL_OBJECT" if algorithm == "crc64nvme" else "COMPOSITE"
    if checksum_type == "FULL_OBJECT" and algorithm not in CRC_ALGORITHMS:
        raise ValueError(f"FULL_OBJECT needs one of {CRC_ALGORITHMS}, not {algorithm!r}")
    return str(checksum_type)


def check_checksum_choice(
    checksum: object, checksum_type: object
) -> tuple[str | None, str | None]:
    """Check an upload's algorithm and multipart checksum type together.

    Args:
        checksum: an algorithm or ``None``.
        checksum_type: ``"COMPOSITE"``, ``"FULL_OBJECT"`` or ``None`` (the default for the
            algorithm, see ``check_checksum_type``).

    Returns:
        ``(algorithm, type)``, both ``None`` when no checksum is wanted.

    Raises:
        ValueError: see ``check_algorithm`` and ``check_checksum_type``.
    """
    algorithm = check_algorithm(checksum)
    return algorithm, check_checksum_type(checksum_type, algorithm)


def _accelerated_update(algorithm: str) -> CrcUpdate | None:
    """``awscrt``'s function for a CRC, or ``None`` when awscrt is not installed."""
    try:
        # The optional rawS3[fast-checksums]; imported by name, as it ships no type hints.
        fast: Any = importlib.import_module("awscrt.checksums")
    except ImportError:
        return None
    update: Any = {"crc32c": fast.crc32c, "crc64nvme": fast.crc64nvme}[algorithm]
    return lambda data, crc_value: int(update(data, crc_value))


_UPDATES: dict[str, CrcUpdate] = {"crc32": zlib.crc32}
_ACCELERATED = {"crc32": True}


def _crc_update(algorithm: str) -> CrcUpdate:
    """The fastest function installed that continues ``algorithm``'s CRC (cached)."""
    update = _UPDATES.get(algorithm)
    if update is None:
        update = _accelerated_update(algorithm)
        _ACCELERATED[algorithm] = update is not None
        update = update or _MODELS[algorithm].update
        _UPDATES[algorithm] = update
    return update


def accelerated(algorithm: str) -> bool:
    """Whether ``algorithm`` runs in compiled code here (always, except a pure-Python CRC).

    Args:
        algorithm: one of ``CHECKSUM_ALGORITHMS``.

    Returns:
        ``False`` when CRC32C or CRC64NVME falls back to ``rawS3.crc`` (awscrt missing).
    """
    if algorithm not in CRC_ALGORITHMS:
        return True
    _crc_update(algorithm)
    return _ACCELERATED[algorithm]


class Checksum:
    """An incremental ``x-amz-checksum-*`` value: feed bytes with ``update``, read ``value``.

    Args:
        algorithm: one of ``CHECKSUM_ALGORITHMS``.
        pure: compute a CRC in pure Python even where ``awscrt`` is installed.

    Raises:
        ValueError: another algorithm.
    """

    def __init__(self, algorithm: str, *, pure: bool = False) -> None:
        if check_algorithm(algorithm) is None:
            raise ValueError("a checksum needs an algorithm")
        self.algorithm = algorithm
        self.size = 0
        self._crc = 0
        self._hash: Any = None
        self._update: CrcUpdate | None = None
        if algorithm in CRC_ALGORITHMS:
            model = _MODELS[algorithm]
            self._update = model.update if pure else _crc_update(algorithm)
        else:
            self._hash = hashlib.new(algorithm, usedforsecurity=False)

    def update(self, data: bytes | bytearray | memoryview) -> None:
        """Add the next bytes.

        Args:
            data: the bytes that follow those already added.
        """
        self.size += memoryview(data).nbytes
        if self._update is not None:
            self._crc = self._update(data, self._crc)
        else:
            self._hash.update(data)

    @property
    def crc(self) -> int:
        """The CRC so far as an integer (0 for a hash algorithm)."""
        return self._crc

    def digest(self) -> bytes:
        """The checksum of the bytes added so far.

        Returns:
            The digest, big-endian as S3 sends it.
        """
        if self._update is not None:
            return self._crc.to_bytes(_MODELS[self.algorithm].size, "big")
        return bytes(self._hash.digest())

    def value(self) -> str:
        """The checksum of the bytes added so far.

        Returns:
            The digest base64-encoded, as in an ``x-amz-checksum-*`` header.
        """
        return base64.b64encode(self.digest()).decode("ascii")


def decode_value(value: str) -> bytes:
    """Return the digest a base64 checksum value carries.

    Args:
        value: a base64 value, without a ``-N`` suffix.

    Returns:
        The digest's bytes.

    Raises:
        ValueError: not base64.
    """
    try:
        return base64.b64decode(value, validate=True)
    except binascii.Error as exc:
        raise ValueError(f"not a base64 checksum: {value!r}") from exc


def composite_checksum(algorithm: str, part_values: Iterable[str]) -> str:
    """The COMPOSITE checksum of a multipart object: the checksum of its parts' digests.

    Args:
        algorithm: the algorithm of every part.
        part_values: the parts' base64 values, in part order.

    Returns:
        ``base64-N``, N being the number of parts, as S3 reports it.

    Raises:
        ValueError: a value that is not base64.
    """
    outer = Checksum(algorithm)
    count = 0
    for value in part_values:
        outer.update(decode_value(value))
        count += 1
    return f"{outer.value()}-{count}"


def full_object_checksum(algorithm: str, parts: Iterable[tuple[str, int]]) -> str:
    """The FULL_OBJECT checksum of a multipart object, combined from its parts' CRCs.

    Args:
        algorithm: a CRC algorithm (``CRC_ALGORITHMS``).
        parts: each part's base64 CRC and size in bytes, in part order.

    Returns:
        The base64 CRC of the whole object, the data not read again.

    Raises:
        ValueError: not a CRC algorithm, or a value that is not base64.
    """
    if algorithm not in CRC_ALGORITHMS:
        raise ValueError(f"a full-object checksum needs one of {CRC_ALGORITHMS}")
    model = _MODELS[algorithm]
    total = 0
    for value, size in parts:
        total = crc.combine(model, total, int.from_bytes(decode_value(value), "big"), size)
    return base64.b64encode(total.to_bytes(model.size, "big")).decode("ascii")
