"""Objects: awkward keys, ranges, copies, metadata and empty objects."""

from __future__ import annotations

import base64
import email.header
import hashlib
from urllib.parse import quote

from rawS3.probe.context import Context, texts
from rawS3.probe.model import Check, Observation, feature, refusal, register, require

CHECKS: list[Check] = []
TEN = b"0123456789"


async def _round_trip(ctx: Context, name: str) -> Observation:
    """PUT, GET and list a key; the listing must show it exactly (as sent, not normalized)."""
    key = ctx.key(name)
    body = key.encode()
    require(await ctx.put(key, body))
    got = await ctx.send("GET", key)
    if got.status != 200 or got.body != body:
        return feature(got, None if got.status != 200 else "other bytes returned")
    listing = await ctx.send("GET", query={"list-type": "2", "prefix": ctx.prefix})
    keys = texts(listing.body, "Contents", "Key")
    return feature(listing, None if keys == [key] else f"listed {keys!r}")


def _key_check(id: str, name: str, what: str) -> None:
    @register(CHECKS, f"objects.key-{id}", f"a key {what} is stored and listed as sent")
    async def run(ctx: Context) -> Observation:
        return await _round_trip(ctx, name)


for _id, _name, _what in (
    ("double-slash", "a//b", "with '//'"),
    ("dot-segment", "./a/./b", "with './'"),
    ("dot-dot-segment", "x/../y", "with '../'"),
    ("unicode", "ünïcødé/雪/😀", "in UTF-8 (non-ASCII)"),
    ("reserved-chars", "a+b c%20d&e=f;g:h,i@j$k!l'm(n)o*p", "with +, space, % and sub-delims"),
    ("trailing-slash", "dir/", "ending in '/'"),
):
    _key_check(_id, _name, _what)


@register(CHECKS, "objects.key-1024-bytes", "a 1024-byte key (the maximum) is stored")
async def _key_1024(ctx: Context) -> Observation:
    return await _round_trip(ctx, "k" * (1024 - len(ctx.key(""))))


@register(CHECKS, "objects.key-1025-bytes", "400 KeyTooLongError")
async def _key_1025(ctx: Context) -> Observation:
    key = ctx.key("k" * (1025 - len(ctx.key(""))))
    answer = await ctx.put(key, b"x")
    return refusal(answer, 400, ("KeyTooLongError",))


async def _range(ctx: Context, spec: str, part: bytes, content_range: str) -> Observation:
    require(await ctx.put(ctx.key(), TEN))
    answer = await ctx.send("GET", ctx.key(), headers={"Range": spec})
    if answer.status == 200 and answer.body == TEN:
        return feature(answer, "ignored: the whole object came back (200)")
    said = answer.headers.get("Content-Range")
    ok = answer.status == 206 and answer.body == part and said == content_range
    return feature(answer, None if ok else f"{answer.body!r}, Content-Range {said}")


@register(CHECKS, "objects.range", "206 bytes=2-5: '2345', Content-Range bytes 2-5/10")
async def _range_basic(ctx: Context) -> Observation:
    return await _range(ctx, "bytes=2-5", b"2345", "bytes 2-5/10")


@register(CHECKS, "objects.range-suffix", "206 bytes=-3: the last 3 bytes")
async def _range_suffix(ctx: Context) -> Observation:
    return await _range(ctx, "bytes=-3", b"789", "bytes 7-9/10")


@register(CHECKS, "objects.range-open-end", "206 bytes=7-: from byte 7 to the end")
async def _range_open(ctx: Context) -> Observation:
    return await _range(ctx, "bytes=7-", b"789", "bytes 7-9/10")


@register(CHECKS, "objects.range-past-end", "206 bytes=8-100: clipped to bytes 8-9/10")
async def _range_past_end(ctx: Context) -> Observation:
    return await _range(ctx, "bytes=8-100", b"89", "bytes 8-9/10")


@register(CHECKS, "objects.range-unsatisfiable", "416 InvalidRange: bytes=20-30 of 10 bytes")
async def _range_unsatisfiable(ctx: Context) -> Observation:
    require(await ctx.put(ctx.key(), TEN))
    answer = await ctx.send("GET", ctx.key(), headers={"Range": "bytes=20-30"})
    return refusal(answer, 416, ("InvalidRange",))


@register(CHECKS, "objects.copy-source-encoded", "200: x-amz-copy-source URL-encoded, bytes copied")
async def _copy_source_encoded(ctx: Context) -> Observation:
    source = ctx.key("söurce key+1")
    require(await ctx.put(source, b"copied bytes"))
    header = quote(f"{ctx.bucket}/{source}", safe="/")
    answer = await ctx.send("PUT", ctx.key("copy"), headers={"x-amz-copy-source": header})
    if answer.status != 200:
        return feature(answer)
    stored = await ctx.stored(ctx.key("copy"))
    return feature(answer, None if stored == b"copied bytes" else f"stored {stored!r}")


@register(CHECKS, "objects.copy-source-missing", "404 NoSuchKey")
async def _copy_source_missing(ctx: Context) -> Observation:
    header = quote(f"{ctx.bucket}/{ctx.key('missing')}", safe="/")
    answer = await ctx.send("PUT", ctx.key("copy"), headers={"x-amz-copy-source": header})
    stored = await ctx.stored(ctx.key("copy")) is not None
    return refusal(answer, 404, ("NoSuchKey",), stored=stored)


@register(CHECKS, "objects.metadata-case", "x-amz-meta-MixedCase returned lower-cased, value kept")
async def _metadata_case(ctx: Context) -> Observation:
    require(await ctx.put(ctx.key(), b"m", headers={"x-amz-meta-MixedCase": "Value Kept"}))
    head = await ctx.send("HEAD", ctx.key())
    value = head.headers.get("x-amz-meta-mixedcase")
    return feature(head, None if value == "Value Kept" else f"x-amz-meta-mixedcase: {value}")


def _rfc2047(value: str) -> str:
    """The text an RFC 2047 encoded header value stands for."""
    words = email.header.decode_header(value)
    return str(email.header.make_header(words))


@register(CHECKS, "objects.metadata-non-ascii", "an RFC 2047 value (=?UTF-8?B?...?=) comes back "
          "meaning the same text")
async def _metadata_non_ascii(ctx: Context) -> Observation:
    text = "snö ☃"
    encoded = "=?UTF-8?B?" + base64.b64encode(text.encode()).decode() + "?="
    require(await ctx.put(ctx.key(), b"m", headers={"x-amz-meta-label": encoded}))
    head = await ctx.send("HEAD", ctx.key())
    value = head.headers.get("x-amz-meta-label")
    same = value is not None and _rfc2047(value) == text
    return feature(head, None if same else f"x-amz-meta-label: {value}")


@register(CHECKS, "objects.empty", "0-byte object: 200, Content-Length 0, ETag md5('')")
async def _empty(ctx: Context) -> Observation:
    require(await ctx.put(ctx.key(), b""))
    answer = await ctx.send("GET", ctx.key())
    etag = answer.headers.get("ETag")
    ok = answer.body == b"" and etag == f'"{hashlib.md5(b"").hexdigest()}"'
    return feature(answer, None if ok else f"{len(answer.body)} bytes, ETag {etag}")


@register(CHECKS, "objects.get-missing", "404 NoSuchKey")
async def _get_missing(ctx: Context) -> Observation:
    return refusal(await ctx.send("GET", ctx.key()), 404, ("NoSuchKey",))


@register(CHECKS, "objects.delete-missing", "204: deleting a missing key succeeds")
async def _delete_missing(ctx: Context) -> Observation:
    answer = await ctx.send("DELETE", ctx.key())
    return feature(answer, None if answer.status == 204 else f"status {answer.status}")


@register(CHECKS, "objects.bucket-missing", "404 NoSuchBucket")
async def _bucket_missing(ctx: Context) -> Observation:
    answer = await ctx.send("GET", "k", bucket=f"{ctx.bucket}-missing")
    return refusal(answer, 404, ("NoSuchBucket",))
