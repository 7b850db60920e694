"""The checksums S3 names, for the probe's small bodies: CRC32 (zlib), CRC32C and CRC64NVME
(bitwise, reflected; slow, which is fine for a few kilobytes), SHA-1 and SHA-256 (hashlib).
"""

from __future__ import annotations

import base64
import hashlib
import zlib

__all__ = ["ALGORITHMS", "checksum"]

ALGORITHMS = ("crc32", "crc32c", "crc64nvme", "sha1", "sha256")
_CRC32C_POLY = 0x82F63B78  # Castagnoli, reflected
_CRC64NVME_POLY = 0x9A6C9329AC4BC9B5  # the NVMe polynomial, reflected


def _reflected_crc(data: bytes, poly: int, bits: int) -> int:
    mask = (1 << bits) - 1
    crc = mask
    for byte in data:
        crc ^= byte
        for _ in range(8):
            crc = (crc >> 1) ^ poly if crc & 1 else crc >> 1
    return crc ^ mask


def digest(algorithm: str, data: bytes) -> bytes:
    """The raw digest of ``data``.

    Args:
        algorithm: one of ``ALGORITHMS``.
        data: the bytes.

    Returns:
        The big-endian digest bytes.

    Raises:
        ValueError: an unknown algorithm.
    """
    if algorithm == "crc32":
        return zlib.crc32(data).to_bytes(4, "big")
    if algorithm == "crc32c":
        return _reflected_crc(data, _CRC32C_POLY, 32).to_bytes(4, "big")
    if algorithm == "crc64nvme":
        return _reflected_crc(data, _CRC64NVME_POLY, 64).to_bytes(8, "big")
    if algorithm in ("sha1", "sha256"):
        return hashlib.new(algorithm, data).digest()
    raise ValueError(f"unknown checksum algorithm {algorithm!r}")


def checksum(algorithm: str, data: bytes) -> str:
    """The base64 value of ``x-amz-checksum-<algorithm>`` for ``data``.

    Args:
        algorithm: one of ``ALGORITHMS``.
        data: the bytes.

    Returns:
        The base64 text.

    Raises:
        ValueError: an unknown algorithm.
    """
    return base64.b64encode(digest(algorithm, data)).decode("ascii")
