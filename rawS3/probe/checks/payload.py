"""Payload integrity: what the server checks about the bytes it is sent."""

from __future__ import annotations

import base64
import dataclasses
import hashlib

from rawS3 import sigv4
from rawS3.checksums import CHECKSUM_ALGORITHMS, checksum_value
from rawS3.probe.context import Context, texts
from rawS3.probe.model import Check, Observation, feature, refusal, register, require
from rawS3.raw import PreparedRequest, RawResponse

CHECKS: list[Check] = []
DATA = bytes(range(256)) * 80  # 20,480 bytes: three 8 KiB aws-chunked frames
CHUNK = 8192
UNSIGNED_TRAILER = "STREAMING-UNSIGNED-PAYLOAD-TRAILER"


def _exact(stored: bytes | None, data: bytes = DATA) -> str | None:
    if stored is None:
        return "the object cannot be read back"
    if stored == data:
        return None
    if b";chunk-signature=" in stored or stored.startswith(b"%x\r\n" % CHUNK):
        return "the aws-chunked framing was stored as data"
    return f"{len(stored)} bytes stored, not the {len(data)} sent"


@register(CHECKS, "payload.sha256-mismatch", "400 XAmzContentSHA256Mismatch, nothing stored")
async def _sha256_mismatch(ctx: Context) -> Observation:
    other = hashlib.sha256(b"other bytes").hexdigest()
    answer = await ctx.put(ctx.key(), DATA, content_sha256=other)
    stored = await ctx.stored(ctx.key()) is not None
    return refusal(answer, 400, ("XAmzContentSHA256Mismatch",), stored=stored)


@register(CHECKS, "payload.unsigned-payload", "200, bytes stored exactly")
async def _unsigned_payload(ctx: Context) -> Observation:
    answer = await ctx.put(ctx.key(), DATA, payload="unsigned")
    return feature(answer, _exact(await ctx.stored(ctx.key())) if answer.status == 200 else None)


@register(CHECKS, "payload.content-md5-wrong", "400 BadDigest, nothing stored")
async def _content_md5_wrong(ctx: Context) -> Observation:
    wrong = base64.b64encode(hashlib.md5(b"other bytes").digest()).decode()
    answer = await ctx.put(ctx.key(), DATA, headers={"Content-MD5": wrong})
    stored = await ctx.stored(ctx.key()) is not None
    return refusal(answer, 400, ("BadDigest",), stored=stored)


@register(CHECKS, "payload.content-md5-malformed", "400 InvalidDigest")
async def _content_md5_malformed(ctx: Context) -> Observation:
    answer = await ctx.put(ctx.key(), DATA, headers={"Content-MD5": "not-base64-md5"})
    stored = await ctx.stored(ctx.key()) is not None
    return refusal(answer, 400, ("InvalidDigest",), stored=stored)


@register(CHECKS, "payload.content-md5-right", "200, bytes stored")
async def _content_md5_right(ctx: Context) -> Observation:
    right = base64.b64encode(hashlib.md5(DATA).digest()).decode()
    answer = await ctx.put(ctx.key(), DATA, headers={"Content-MD5": right})
    return feature(answer, _exact(await ctx.stored(ctx.key())) if answer.status == 200 else None)


@register(CHECKS, "payload.chunked-signed", "200, the decoded bytes stored (not the framing)")
async def _chunked_signed(ctx: Context) -> Observation:
    answer = await ctx.put(ctx.key(), DATA, payload="chunked", chunk_size=CHUNK)
    return feature(answer, _exact(await ctx.stored(ctx.key())) if answer.status == 200 else None)


def _framed(ctx: Context, key: str, *, tamper: str | None) -> PreparedRequest:
    """A signed aws-chunked PUT framed by hand, with one chunk's signature or data spoiled."""
    now = ctx.now()
    length = sigv4.encoded_length(len(DATA), CHUNK)
    headers = {"Content-Encoding": "aws-chunked", "x-amz-decoded-content-length": str(len(DATA))}
    prepared = ctx.client.prepare(
        "PUT", ctx.bucket, key, body=bytes(length), headers=headers, now=now,
        content_sha256=sigv4.STREAMING_PAYLOAD,
    )
    previous = sigv4.signature_from_authorization(prepared.headers["Authorization"])
    frames = []
    chunks = [DATA[i : i + CHUNK] for i in range(0, len(DATA), CHUNK)] + [b""]
    for index, chunk in enumerate(chunks):
        signature = sigv4.sign_chunk(
            chunk, previous, credentials=ctx.credentials, region=ctx.client.region, now=now
        )
        previous = signature
        if index == 1 and tamper == "signature":
            signature = "0" * 64
        if index == 1 and tamper == "data":
            chunk = b"X" + chunk[1:]
        frames.append(sigv4.chunk_frame(chunk, signature))
    return dataclasses.replace(prepared, body=b"".join(frames))


@register(CHECKS, "payload.chunk-signature-tampered", "403 SignatureDoesNotMatch, nothing stored")
async def _chunk_signature_tampered(ctx: Context) -> Observation:
    answer = await ctx.client.request(_framed(ctx, ctx.key(), tamper="signature"))
    stored = await ctx.stored(ctx.key()) is not None
    return refusal(answer, 403, ("SignatureDoesNotMatch",), stored=stored)


@register(CHECKS, "payload.chunk-data-tampered", "403 SignatureDoesNotMatch, nothing stored")
async def _chunk_data_tampered(ctx: Context) -> Observation:
    answer = await ctx.client.request(_framed(ctx, ctx.key(), tamper="data"))
    stored = await ctx.stored(ctx.key()) is not None
    return refusal(answer, 403, ("SignatureDoesNotMatch",), stored=stored)


def _trailer_body(data: bytes, value: str) -> bytes:
    return (
        b"%x\r\n%s\r\n0\r\nx-amz-checksum-crc32:%s\r\n\r\n" % (len(data), data, value.encode())
    )


async def _unsigned_trailer(ctx: Context, value: str) -> RawResponse:
    headers = {
        "Content-Encoding": "aws-chunked",
        "x-amz-decoded-content-length": str(len(DATA)),
        "x-amz-trailer": "x-amz-checksum-crc32",
        "x-amz-sdk-checksum-algorithm": "CRC32",
    }
    body = _trailer_body(DATA, value)
    return await ctx.put(ctx.key(), body, headers=headers, content_sha256=UNSIGNED_TRAILER)


@register(CHECKS, "payload.trailer-unsigned", "200, decoded bytes stored, trailer checksum kept")
async def _trailer_unsigned(ctx: Context) -> Observation:
    answer = await _unsigned_trailer(ctx, checksum_value("crc32", DATA))
    return feature(answer, _exact(await ctx.stored(ctx.key())) if answer.status == 200 else None)


@register(CHECKS, "payload.trailer-checksum-wrong", "400 BadDigest, nothing stored")
async def _trailer_wrong(ctx: Context) -> Observation:
    answer = await _unsigned_trailer(ctx, checksum_value("crc32", b"other bytes"))
    stored = await ctx.stored(ctx.key())
    return refusal(answer, 400, ("BadDigest",), stored=stored is not None)


def _wrong_checksum_check(algorithm: str) -> None:
    @register(CHECKS, f"payload.checksum-{algorithm}-wrong", "400 BadDigest, nothing stored")
    async def wrong(ctx: Context) -> Observation:
        headers = {
            f"x-amz-checksum-{algorithm}": checksum_value(algorithm, b"other bytes"),
            "x-amz-sdk-checksum-algorithm": algorithm.upper(),
        }
        answer = await ctx.put(ctx.key(), DATA, headers=headers)
        stored = await ctx.stored(ctx.key()) is not None
        return refusal(answer, 400, ("BadDigest",), stored=stored)


for _algorithm in CHECKSUM_ALGORITHMS:
    _wrong_checksum_check(_algorithm)


@register(CHECKS, "payload.checksum-mode-get", "GET with x-amz-checksum-mode returns the CRC32")
async def _checksum_mode_get(ctx: Context) -> Observation:
    value = checksum_value("crc32", DATA)
    headers = {"x-amz-checksum-crc32": value, "x-amz-sdk-checksum-algorithm": "CRC32"}
    require(await ctx.put(ctx.key(), DATA, headers=headers))
    answer = await ctx.send("GET", ctx.key(), headers={"x-amz-checksum-mode": "ENABLED"})
    returned = answer.headers.get("x-amz-checksum-crc32")
    if returned is None:
        return feature(answer, "ignored: no x-amz-checksum-crc32 in the answer")
    return feature(answer, None if returned == value else f"returned {returned}, not {value}")


@register(CHECKS, "payload.checksum-part-wrong", "400 BadDigest on UploadPart")
async def _checksum_part_wrong(ctx: Context) -> Observation:
    upload = await ctx.create_upload(ctx.key())
    headers = {"x-amz-checksum-crc32": checksum_value("crc32", b"other bytes")}
    answer = await ctx.upload_part(ctx.key(), upload, 1, DATA, headers=headers)
    return refusal(answer, 400, ("BadDigest",))


@register(CHECKS, "payload.checksum-complete-wrong",
          "400 (InvalidPart/BadDigest): a part's checksum in Complete is not the part's")
async def _checksum_complete_wrong(ctx: Context) -> Observation:
    key = ctx.key()
    created = await ctx.send(
        "POST", key, query={"uploads": None}, headers={"x-amz-checksum-algorithm": "CRC32"}
    )
    require(created)
    upload = texts(created.body, "UploadId")[0]
    headers = {"x-amz-checksum-crc32": checksum_value("crc32", DATA)}
    part = require(await ctx.upload_part(key, upload, 1, DATA, headers=headers))
    wrong = f"<ChecksumCRC32>{checksum_value('crc32', b'other bytes')}</ChecksumCRC32>"
    answer = await ctx.complete(key, upload, [(1, part.headers.get("ETag", ""))], extra=wrong)
    stored = await ctx.stored(key) is not None
    return refusal(answer, 400, ("InvalidPart", "BadDigest"), stored=stored)
