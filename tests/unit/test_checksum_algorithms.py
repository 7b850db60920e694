"""Every checksum algorithm against published check values, and CRC combination.

The CRC check values are the CRC catalogue's (the CRC of the nine ASCII digits "123456789");
the SHA values are FIPS 180's examples for "abc". The pure-Python CRCs are compared with
zlib, and with awscrt where it is installed, on random data; combination is compared with the
CRC of the concatenation for random splits.
"""

from __future__ import annotations

import base64
import hashlib
import zlib

import pytest
from hypothesis import given
from hypothesis import strategies as st

from rawS3 import crc
from rawS3.checksums import (
    CHECKSUM_ALGORITHMS,
    Checksum,
    check_checksum_type,
    checksum_value,
    composite_checksum,
    full_object_checksum,
)

CHECK_INPUT = b"123456789"
# CRC catalogue (reveng): CRC-32/ISO-HDLC, CRC-32/ISCSI, CRC-64/NVME.
CRC_CHECKS = {"crc32": 0xCBF43926, "crc32c": 0xE3069283, "crc64nvme": 0xAE8B14860A799888}
# FIPS 180 examples.
SHA_ABC = {
    "sha1": "a9993e364706816aba3e25717850c26c9cd0d89d",
    "sha256": "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad",
}
MODELS = {"crc32": crc.CRC32, "crc32c": crc.CRC32C, "crc64nvme": crc.CRC64NVME}


def b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


@pytest.mark.parametrize("pure", [True, False], ids=["pure", "installed"])
@pytest.mark.parametrize("algorithm", sorted(CRC_CHECKS))
def test_crc_check_values(algorithm: str, pure: bool) -> None:
    expected = CRC_CHECKS[algorithm]
    checksum = Checksum(algorithm, pure=pure)
    checksum.update(CHECK_INPUT)
    assert checksum.crc == expected
    assert checksum.value() == b64(expected.to_bytes(MODELS[algorithm].size, "big"))


@pytest.mark.parametrize("algorithm", sorted(SHA_ABC))
def test_sha_check_values(algorithm: str) -> None:
    assert checksum_value(algorithm, b"abc") == b64(bytes.fromhex(SHA_ABC[algorithm]))


def test_every_algorithm_has_a_check_value() -> None:
    assert set(CHECKSUM_ALGORITHMS) == set(CRC_CHECKS) | set(SHA_ABC)


def test_models_carry_the_catalogue_check() -> None:
    for name, model in MODELS.items():
        assert model.check == CRC_CHECKS[name]
        assert model.update(CHECK_INPUT) == model.check


@given(st.binary(max_size=300), st.integers(min_value=0, max_value=300))
def test_pure_crc32_equals_zlib_and_continues(data: bytes, cut: int) -> None:
    cut = min(cut, len(data))
    assert crc.CRC32.update(data) == zlib.crc32(data)
    assert crc.CRC32.update(data[cut:], crc.CRC32.update(data[:cut])) == zlib.crc32(data)


@given(st.sampled_from(sorted(MODELS)), st.binary(max_size=300), st.integers(0, 300))
def test_pure_equals_installed_incrementally(algorithm: str, data: bytes, cut: int) -> None:
    # Without awscrt both sides are pure; with it, this compares two implementations.
    pure, installed = Checksum(algorithm, pure=True), Checksum(algorithm)
    pure.update(data[:cut])
    pure.update(data[cut:])
    installed.update(data)
    assert pure.digest() == installed.digest()
    assert pure.size == installed.size == len(data)


@given(
    st.sampled_from(sorted(MODELS)),
    st.binary(max_size=200),
    st.binary(max_size=200),
    st.integers(min_value=0, max_value=5000),
)
def test_combine_equals_crc_of_concatenation(
    algorithm: str, first: bytes, second: bytes, zeros: int
) -> None:
    model = MODELS[algorithm]
    second = second + bytes(zeros)  # longer second halves exercise more powers of x
    combined = crc.combine(model, model.update(first), model.update(second), len(second))
    assert combined == model.update(first + second)


@given(
    st.sampled_from(sorted(MODELS)),
    st.lists(st.binary(max_size=100), min_size=1, max_size=6),
)
def test_full_object_checksum_of_random_splits(algorithm: str, parts: list[bytes]) -> None:
    values = [(checksum_value(algorithm, part), len(part)) for part in parts]
    assert full_object_checksum(algorithm, values) == checksum_value(algorithm, b"".join(parts))


def test_combine_over_megabytes_matches_zlib() -> None:
    # Lengths of millions of bytes use high powers of x; zlib computes the reference directly.
    first, second = b"head", bytes(3 * 1024 * 1024 + 5) + b"tail"
    combined = crc.combine(crc.CRC32, zlib.crc32(first), zlib.crc32(second), len(second))
    assert combined == zlib.crc32(first + second)


def test_combine_refuses_a_negative_length() -> None:
    with pytest.raises(ValueError, match="length_b"):
        crc.combine(crc.CRC32, 0, 0, -1)


@pytest.mark.parametrize("algorithm", CHECKSUM_ALGORITHMS)
def test_composite_is_the_checksum_of_the_part_digests(algorithm: str) -> None:
    parts = [b"first part", b"second", b""]
    digests = [base64.b64decode(checksum_value(algorithm, part)) for part in parts]
    if algorithm == "sha256":
        expected = b64(hashlib.sha256(b"".join(digests)).digest())
    elif algorithm == "sha1":
        expected = b64(hashlib.sha1(b"".join(digests)).digest())
    elif algorithm == "crc32":
        expected = b64(zlib.crc32(b"".join(digests)).to_bytes(4, "big"))
    else:
        model = MODELS[algorithm]
        expected = b64(model.update(b"".join(digests)).to_bytes(model.size, "big"))
    parts_values = [checksum_value(algorithm, part) for part in parts]
    assert composite_checksum(algorithm, parts_values) == f"{expected}-3"


def test_full_object_refuses_a_hash() -> None:
    with pytest.raises(ValueError, match="full-object"):
        full_object_checksum("sha256", [("AAAA", 1)])


@pytest.mark.parametrize(
    ("checksum_type", "algorithm", "expected"),
    [
        (None, None, None),
        (None, "crc32", "COMPOSITE"),
        (None, "crc64nvme", "FULL_OBJECT"),
        ("FULL_OBJECT", "crc32c", "FULL_OBJECT"),
        ("COMPOSITE", "sha1", "COMPOSITE"),
    ],
)
def test_checksum_type_defaults(
    checksum_type: str | None, algorithm: str | None, expected: str | None
) -> None:
    assert check_checksum_type(checksum_type, algorithm) == expected


@pytest.mark.parametrize(
    ("checksum_type", "algorithm"),
    [("FULL_OBJECT", "sha256"), ("FULL", "crc32"), ("COMPOSITE", None)],
)
def test_checksum_type_refusals(checksum_type: str, algorithm: str | None) -> None:
    with pytest.raises(ValueError, match=r"checksum|FULL_OBJECT"):
        check_checksum_type(checksum_type, algorithm)


def test_aws_published_crc32c_of_the_chunked_upload_example() -> None:
    # S3 API reference, "Signature calculations for trailing headers": 66,560 bytes of "a".
    for pure in (True, False):
        checksum = Checksum("crc32c", pure=pure)
        checksum.update(b"a" * 66560)
        assert checksum.value() == "sOO8/Q=="
