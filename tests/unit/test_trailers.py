"""aws-chunked bodies with a checksum trailer, against references computed without rawS3.

- Unsigned (``STREAMING-UNSIGNED-PAYLOAD-TRAILER``): byte for byte what botocore's own
  ``AwsChunkedWrapper`` frames for the same data, chunk size and checksum class.
- Signed (``STREAMING-AWS4-HMAC-SHA256-PAYLOAD-TRAILER``): AWS's published example (66,560
  bytes of ``a`` in 64 KiB chunks, CRC32C trailer; seed, chunk and trailer signatures from the
  S3 API reference page "Signature calculations for trailing headers"), and random bodies
  framed and signed here from the documented algorithm with ``hmac`` and ``hashlib`` only.
"""

from __future__ import annotations

import asyncio
import base64
import datetime
import hashlib
import hmac
import io
from collections.abc import AsyncIterator

import pytest
from botocore.httpchecksum import _CHECKSUM_CLS, AwsChunkedWrapper
from hypothesis import given, settings
from hypothesis import strategies as st

from rawS3 import sigv4
from rawS3.checksums import CHECKSUM_ALGORITHMS
from rawS3.trailers import (
    SIGNED_TRAILER,
    UNSIGNED_TRAILER,
    StreamSigner,
    TrailerChunkedBody,
)

SECRET = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"
CREDENTIALS = sigv4.Credentials("AKIAIOSFODNN7EXAMPLE", SECRET)
NOW = datetime.datetime(2013, 5, 24, tzinfo=datetime.timezone.utc)
SCOPE = "20130524/us-east-1/s3/aws4_request"
# Published in the S3 API reference, "Signature calculations for trailing headers".
PUBLISHED = {
    "seed": "106e2a8a18243abcf37539882f36619c00e2dfc72633413f02d3b74544bfeb8e",
    "chunks": [
        "b474d8862b1487a5145d686f57f013e54db672cee1c953b3010fb58501ef5aa2",
        "1c1344b170168f8e65b41376b44b20fe354e373826ccbbe2c1d40a8cae51e5c7",
        "2ca2aba2005185cf7159c6277faf83795951dd77a3a99e6e65d5c9f85863f992",
    ],
    "trailer": "x-amz-checksum-crc32c:sOO8/Q==",
    "trailer_signature": "d81f82fc3505edab99d459891051a732e8730629a2e4a59689829ca17fe2e435",
}


def botocore_checksum(algorithm: str, data: bytes) -> str:
    """The base64 checksum as botocore computes it (CRC32C/CRC64NVME through awscrt)."""
    checksum = _CHECKSUM_CLS[algorithm]()
    checksum.update(data)
    return str(checksum.b64digest())


# -- an independent SigV4 for chunks and trailers, from the documented algorithm ------------


def _hmac(key: bytes, text: str) -> bytes:
    return hmac.new(key, text.encode(), hashlib.sha256).digest()


SIGNING_KEY = _hmac(
    _hmac(_hmac(_hmac(f"AWS4{SECRET}".encode(), "20130524"), "us-east-1"), "s3"), "aws4_request"
)


def reference_chunk_signature(previous: str, chunk: bytes) -> str:
    text = "\n".join(
        [
            "AWS4-HMAC-SHA256-PAYLOAD",
            "20130524T000000Z",
            SCOPE,
            previous,
            hashlib.sha256(b"").hexdigest(),
            hashlib.sha256(chunk).hexdigest(),
        ]
    )
    return _hmac(SIGNING_KEY, text).hex()


def reference_trailer_signature(previous: str, trailer_line: str) -> str:
    digest = hashlib.sha256(f"{trailer_line}\n".encode()).hexdigest()
    text = "\n".join(["AWS4-HMAC-SHA256-TRAILER", "20130524T000000Z", SCOPE, previous, digest])
    return _hmac(SIGNING_KEY, text).hex()


def reference_signed_body(data: bytes, chunk_size: int, seed: str, algorithm: str) -> bytes:
    out, previous = bytearray(), seed
    for start in range(0, len(data), chunk_size):
        chunk = data[start : start + chunk_size]
        previous = reference_chunk_signature(previous, chunk)
        out += b"%x;chunk-signature=%s\r\n%s\r\n" % (len(chunk), previous.encode(), chunk)
    final = reference_chunk_signature(previous, b"")
    line = f"x-amz-checksum-{algorithm}:{botocore_checksum(algorithm, data)}"
    signature = reference_trailer_signature(final, line)
    out += f"0;chunk-signature={final}\r\n{line}\r\n".encode()
    out += f"x-amz-trailer-signature:{signature}\r\n\r\n".encode()
    return bytes(out)


# -- helpers ----------------------------------------------------------------------------------


async def pieces(data: bytes, size: int) -> AsyncIterator[bytes]:
    for start in range(0, len(data), size):
        yield data[start : start + size]


def wire(body: TrailerChunkedBody, seed: str) -> bytes:
    async def collect() -> bytes:
        signer = StreamSigner(CREDENTIALS, "us-east-1", NOW)
        return b"".join([frame async for frame in body.payload(signer, seed)])

    return asyncio.run(collect())


# -- the published example --------------------------------------------------------------------


def test_published_example_seed_signature() -> None:
    headers = {
        "Host": "s3.amazonaws.com",
        "Content-Encoding": "aws-chunked",
        "x-amz-decoded-content-length": "66560",
        "x-amz-storage-class": "REDUCED_REDUNDANCY",
        "x-amz-trailer": "x-amz-checksum-crc32c",
    }
    signed = sigv4.sign(
        "PUT",
        "https://s3.amazonaws.com/examplebucket/chunkObject.txt",
        headers,
        payload_hash=SIGNED_TRAILER,
        credentials=CREDENTIALS,
        region="us-east-1",
        now=NOW,
    )
    assert sigv4.signature_from_authorization(signed["Authorization"]) == PUBLISHED["seed"]


def test_published_example_frames_and_trailer_signature() -> None:
    data = b"a" * 66560
    body = TrailerChunkedBody(
        pieces(data, 1000), size=len(data), chunk_size=65536, algorithm="crc32c", signed=True
    )
    sent = wire(body, PUBLISHED["seed"])
    first, second, final = PUBLISHED["chunks"]
    expected = (
        f"10000;chunk-signature={first}\r\n".encode()
        + data[:65536]
        + f"\r\n400;chunk-signature={second}\r\n".encode()
        + data[65536:]
        + f"\r\n0;chunk-signature={final}\r\n{PUBLISHED['trailer']}\r\n".encode()
        + f"x-amz-trailer-signature:{PUBLISHED['trailer_signature']}\r\n\r\n".encode()
    )
    assert sent == expected
    assert body.checksum == ("crc32c", "sOO8/Q==")
    assert int(body.headers["Content-Length"]) == len(sent)
    assert body.headers["x-amz-trailer"] == "x-amz-checksum-crc32c"
    assert body.headers["x-amz-decoded-content-length"] == "66560"
    assert body.payload_hash == SIGNED_TRAILER


def test_the_reference_reproduces_the_published_example() -> None:
    # The independent signer used below agrees with AWS's published figures.
    data = b"a" * 66560
    assert botocore_checksum("crc32c", data) == "sOO8/Q=="
    assert reference_chunk_signature(PUBLISHED["seed"], data[:65536]) == PUBLISHED["chunks"][0]
    final = PUBLISHED["chunks"][2]
    got = reference_trailer_signature(final, PUBLISHED["trailer"])
    assert got == PUBLISHED["trailer_signature"]


# -- every algorithm, random bodies ------------------------------------------------------------

SMALL_CHUNK = 8 * 1024


@settings(max_examples=15, deadline=None)
@given(
    st.sampled_from(CHECKSUM_ALGORITHMS),
    st.binary(max_size=3 * SMALL_CHUNK + 10),
    st.integers(min_value=1, max_value=5000),
)
def test_signed_trailer_matches_the_reference(algorithm: str, data: bytes, piece: int) -> None:
    seed = hashlib.sha256(data).hexdigest()  # any 64 hex digits stand for the seed
    body = TrailerChunkedBody(
        pieces(data, piece),
        size=len(data),
        chunk_size=SMALL_CHUNK,
        algorithm=algorithm,
        signed=True,
    )
    sent = wire(body, seed)
    assert sent == reference_signed_body(data, SMALL_CHUNK, seed, algorithm)
    assert int(body.headers["Content-Length"]) == len(sent)


@settings(max_examples=15, deadline=None)
@given(
    st.sampled_from(CHECKSUM_ALGORITHMS),
    st.binary(max_size=3 * SMALL_CHUNK + 10),
    st.integers(min_value=1, max_value=5000),
)
def test_unsigned_trailer_matches_botocore(algorithm: str, data: bytes, piece: int) -> None:
    body = TrailerChunkedBody(
        pieces(data, piece),
        size=len(data),
        chunk_size=SMALL_CHUNK,
        algorithm=algorithm,
        signed=False,
    )
    sent = wire(body, "0" * 64)
    wrapper = AwsChunkedWrapper(
        io.BytesIO(data),
        checksum_cls=_CHECKSUM_CLS[algorithm],
        checksum_name=f"x-amz-checksum-{algorithm}",
        chunk_size=SMALL_CHUNK,
    )
    assert sent == wrapper.read()
    assert int(body.headers["Content-Length"]) == len(sent)
    assert body.payload_hash == UNSIGNED_TRAILER
    assert body.checksum == (algorithm, botocore_checksum(algorithm, data))


# -- misuse ------------------------------------------------------------------------------------


@pytest.mark.parametrize("signed", [True, False])
@pytest.mark.parametrize(("declared", "actual"), [(10, 9), (10, 11)])
def test_a_body_of_another_size_fails_before_its_trailer(
    signed: bool, declared: int, actual: int
) -> None:
    body = TrailerChunkedBody(
        pieces(b"x" * actual, 4),
        size=declared,
        chunk_size=SMALL_CHUNK,
        algorithm="crc32",
        signed=signed,
    )
    with pytest.raises(ValueError, match="bytes but size=10"):
        wire(body, "0" * 64)
    assert isinstance(body.error, ValueError)
    assert body.checksum is None


def test_a_body_is_sent_once() -> None:
    body = TrailerChunkedBody(
        pieces(b"abc", 3), size=3, chunk_size=SMALL_CHUNK, algorithm="crc32", signed=False
    )
    wire(body, "0" * 64)
    with pytest.raises(RuntimeError, match="only once"):
        wire(body, "0" * 64)


def test_a_signed_trailer_needs_a_stream_signer() -> None:
    body = TrailerChunkedBody(
        pieces(b"abc", 3), size=3, chunk_size=SMALL_CHUNK, algorithm="crc32", signed=True
    )
    with pytest.raises(TypeError, match="StreamSigner"):
        body.payload(lambda chunk, previous: previous, "0" * 64)


def test_a_trailer_needs_an_algorithm() -> None:
    with pytest.raises(ValueError, match="checksum"):
        TrailerChunkedBody(
            pieces(b"", 1), size=0, chunk_size=SMALL_CHUNK, algorithm="md5", signed=False
        )


def test_the_stream_signer_shows_no_secret() -> None:
    signer = StreamSigner(CREDENTIALS, "us-east-1", NOW)
    assert SECRET not in repr(signer)
    assert SECRET not in str(vars(signer).get("_region"))


def test_checksum_values_are_base64_of_the_digest() -> None:
    # The trailer value is what the x-amz-checksum-* header would carry.
    body = TrailerChunkedBody(
        pieces(b"123456789", 2), size=9, chunk_size=SMALL_CHUNK, algorithm="crc32", signed=False
    )
    wire(body, "0" * 64)
    assert body.checksum == ("crc32", base64.b64encode(bytes.fromhex("cbf43926")).decode())
