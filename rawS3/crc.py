"""CRC32C and CRC64NVME in pure Python, and CRC combination for the three CRCs S3 uses.

The three CRCs S3 offers (CRC32 as in zlib, CRC32C, CRC64NVME) are all reflected, start from
all ones and end XORed with all ones; they differ in width and polynomial. The pure update runs
table-driven "slicing by 8": eight tables let one step consume eight bytes, read as one
little-endian integer, so the interpreter loops once per eight bytes instead of once per byte.

``combine(crc_a, crc_b, length_b)`` returns the CRC of ``a + b`` from the CRCs of its halves
without the data: appending ``length_b`` zero bytes to ``a`` multiplies its register by
``x^(8 * length_b)`` modulo the polynomial, and the all-ones start and end cancel out. The power
is built by squaring (``x^(2^k)`` for each set bit of the length), so combining costs
``O(log length)`` polynomial products, not a pass over the data. This is what makes a
full-object multipart checksum possible from the part checksums alone.

Nothing here does I/O.
"""

from __future__ import annotations

import functools
import sys
from dataclasses import dataclass, field

__all__ = ["CRC32", "CRC32C", "CRC64NVME", "CrcModel", "combine"]


@dataclass(frozen=True)
class CrcModel:
    """A reflected CRC with all-ones start and end (the shape of every CRC S3 uses).

    Attributes:
        name: the algorithm's S3 name in lower case.
        width: the register width in bits (32 or 64).
        poly: the polynomial, bit-reversed (the form a reflected CRC shifts right with).
        check: the CRC of ``b"123456789"``, as the CRC catalogue publishes it.
        powers: ``x^(2^k)`` modulo the polynomial for k = 0, 1, ..., filled as needed.
    """

    name: str
    width: int
    poly: int
    check: int
    powers: list[int] = field(default_factory=list, repr=False, compare=False)

    @functools.cached_property
    def tables(self) -> tuple[tuple[int, ...], ...]:
        """The eight slicing tables, built from ``poly`` on first use (not at import)."""
        return _slicing_tables(self.poly)

    @property
    def mask(self) -> int:
        """All ones in the register's width."""
        return (1 << self.width) - 1

    @property
    def size(self) -> int:
        """The digest's size in bytes."""
        return self.width // 8

    def update(self, data: bytes | bytearray | memoryview, crc: int = 0) -> int:
        """Continue a CRC over ``data``, as ``zlib.crc32(data, crc)`` does.

        Args:
            data: the next bytes.
            crc: the CRC of what came before (0 for the start).

        Returns:
            The CRC of everything so far.
        """
        return _update(self.tables, self.mask, crc, memoryview(data).cast("B"))

    def x8n(self, length: int) -> int:
        """Return ``x^(8 * length)`` modulo the polynomial, in reflected form.

        Args:
            length: a number of bytes, at least 0.

        Returns:
            The register that ``length`` zero bytes multiply a CRC by.
        """
        result = 1 << (self.width - 1)  # the polynomial 1
        k = 3  # 8 * length = length * 2^3
        while length:
            if length & 1:
                result = _multiply(self, self._power(k), result)
            length >>= 1
            k += 1
        return result

    def _power(self, k: int) -> int:
        """``x^(2^k)`` modulo the polynomial, computed once by repeated squaring."""
        powers = self.powers
        if not powers:
            powers.append(1 << (self.width - 2))  # x^1
        while len(powers) <= k:
            powers.append(_multiply(self, powers[-1], powers[-1]))
        return powers[k]


def _multiply(model: CrcModel, a: int, b: int) -> int:
    """The product of two reflected polynomials modulo the model's polynomial."""
    top = 1 << (model.width - 1)
    poly = model.poly
    product = 0
    while a:
        if a & top:
            product ^= b
        a = (a << 1) & model.mask
        b = (b >> 1) ^ poly if b & 1 else b >> 1
    return product


def combine(model: CrcModel, crc_a: int, crc_b: int, length_b: int) -> int:
    """Return the CRC of ``a + b`` from the CRC of ``a``, the CRC of ``b`` and ``len(b)``.

    Args:
        model: the CRC both values were computed with.
        crc_a: the CRC of the first part.
        crc_b: the CRC of the second part.
        length_b: the second part's length in bytes.

    Returns:
        The CRC of the concatenation.

    Raises:
        ValueError: a negative length.
    """
    if length_b < 0:
        raise ValueError(f"length_b must be >= 0, got {length_b}")
    return _multiply(model, model.x8n(length_b), crc_a) ^ crc_b


def _slicing_tables(poly: int) -> tuple[tuple[int, ...], ...]:
    """Eight 256-entry tables: table k maps a byte to its effect k bytes further on."""
    first = []
    for byte in range(256):
        crc = byte
        for _ in range(8):
            crc = (crc >> 1) ^ poly if crc & 1 else crc >> 1
        first.append(crc)
    tables = [first]
    for _ in range(7):
        previous = tables[-1]
        tables.append([(crc >> 8) ^ first[crc & 0xFF] for crc in previous])
    return tuple(tuple(table) for table in tables)


# Reading eight bytes as one native integer is the fastest way in; it matches the reflected
# CRC's byte order only on little-endian machines, elsewhere each word is decoded explicitly.
_NATIVE_WORDS = sys.byteorder == "little"


def _words(view: memoryview) -> list[int]:
    if _NATIVE_WORDS:
        return view.cast("Q").tolist()
    return [int.from_bytes(view[i : i + 8], "little") for i in range(0, len(view), 8)]


def _update(tables: tuple[tuple[int, ...], ...], mask: int, crc: int, view: memoryview) -> int:
    t0, t1, t2, t3, t4, t5, t6, t7 = tables
    crc ^= mask
    whole = len(view) & ~7
    # Bounded batches keep the list of words small for large inputs.
    for start in range(0, whole, 1 << 16):
        for word in _words(view[start : min(start + (1 << 16), whole)]):
            word ^= crc
            crc = (
                t7[word & 0xFF]
                ^ t6[(word >> 8) & 0xFF]
                ^ t5[(word >> 16) & 0xFF]
                ^ t4[(word >> 24) & 0xFF]
                ^ t3[(word >> 32) & 0xFF]
                ^ t2[(word >> 40) & 0xFF]
                ^ t1[(word >> 48) & 0xFF]
                ^ t0[word >> 56]
            )
    for byte in view[whole:]:
        crc = (crc >> 8) ^ t0[(crc ^ byte) & 0xFF]
    return crc ^ mask


CRC32 = CrcModel("crc32", 32, 0xEDB88320, 0xCBF43926)
CRC32C = CrcModel("crc32c", 32, 0x82F63B78, 0xE3069283)
CRC64NVME = CrcModel("crc64nvme", 64, 0x9A6C9329AC4BC9B5, 0xAE8B14860A799888)
