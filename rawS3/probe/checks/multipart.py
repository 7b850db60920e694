"""Multipart uploads: part sizes, numbers, order, ETags, paging, and an aborted upload."""

from __future__ import annotations

import hashlib

from rawS3.probe.context import Context, md5_etag, texts
from rawS3.probe.model import Check, Observation, feature, refusal, register, require

CHECKS: list[Check] = []
MIB5 = 5 * 1024 * 1024


@register(CHECKS, "multipart.entity-too-small", "400 EntityTooSmall: a non-last part < 5 MiB")
async def _entity_too_small(ctx: Context) -> Observation:
    upload = await ctx.create_upload(ctx.key())
    parts = await ctx.parts(ctx.key(), upload, 1024, 1024)
    answer = await ctx.complete(ctx.key(), upload, parts)
    stored = await ctx.stored(ctx.key()) is not None
    return refusal(answer, 400, ("EntityTooSmall",), stored=stored)


@register(CHECKS, "multipart.part-order", "400 InvalidPartOrder: parts listed 2, 1")
async def _part_order(ctx: Context) -> Observation:
    upload = await ctx.create_upload(ctx.key())
    # Both parts of the minimum size: a server that checks sizes in the listed order must not
    # refuse with EntityTooSmall and so pass for one that checks the order.
    parts = await ctx.parts(ctx.key(), upload, MIB5, MIB5)
    answer = await ctx.complete(ctx.key(), upload, parts[::-1])
    stored = await ctx.stored(ctx.key()) is not None
    return refusal(answer, 400, ("InvalidPartOrder",), stored=stored)


@register(CHECKS, "multipart.missing-part", "400 InvalidPart: a part never uploaded is listed")
async def _missing_part(ctx: Context) -> Observation:
    upload = await ctx.create_upload(ctx.key())
    parts = await ctx.parts(ctx.key(), upload, 10)
    answer = await ctx.complete(ctx.key(), upload, [*parts, (2, md5_etag(b"never sent"))])
    return refusal(answer, 400, ("InvalidPart",))


@register(CHECKS, "multipart.wrong-etag", "400 InvalidPart: the listed ETag is not the part's")
async def _wrong_etag(ctx: Context) -> Observation:
    upload = await ctx.create_upload(ctx.key())
    await ctx.parts(ctx.key(), upload, 10)
    answer = await ctx.complete(ctx.key(), upload, [(1, md5_etag(b"other bytes"))])
    return refusal(answer, 400, ("InvalidPart",))


@register(CHECKS, "multipart.empty-part-list", "400 MalformedXML: Complete lists no part")
async def _empty_part_list(ctx: Context) -> Observation:
    upload = await ctx.create_upload(ctx.key())
    await ctx.parts(ctx.key(), upload, 10)
    answer = await ctx.complete(ctx.key(), upload, [])
    return refusal(answer, 400, ("MalformedXML", "InvalidRequest"))


async def _part_number(ctx: Context, number: int) -> Observation:
    upload = await ctx.create_upload(ctx.key())
    answer = await ctx.upload_part(ctx.key(), upload, number, b"part")
    if 1 <= number <= 10000:
        return feature(answer)
    return refusal(answer, 400, ("InvalidArgument",))


@register(CHECKS, "multipart.part-number-0", "400 InvalidArgument: part numbers start at 1")
async def _part_number_zero(ctx: Context) -> Observation:
    return await _part_number(ctx, 0)


@register(CHECKS, "multipart.part-number-10001", "400 InvalidArgument: at most 10,000 parts")
async def _part_number_too_high(ctx: Context) -> Observation:
    return await _part_number(ctx, 10001)


@register(CHECKS, "multipart.part-number-10000", "200: part 10,000 is allowed")
async def _part_number_highest(ctx: Context) -> Observation:
    return await _part_number(ctx, 10000)


@register(CHECKS, "multipart.etag-form", 'Complete gives "md5(md5(part 1)...md5(part N))-N"')
async def _etag_form(ctx: Context) -> Observation:
    key = ctx.key()
    upload = await ctx.create_upload(key)
    parts = await ctx.parts(key, upload, MIB5, 7)
    require(await ctx.complete(key, upload, parts))
    head = await ctx.send("HEAD", key)
    digests = b"".join(hashlib.md5(bytes([n]) * size).digest() for n, size in ((1, MIB5), (2, 7)))
    expected = f'"{hashlib.md5(digests).hexdigest()}-2"'
    got = head.headers.get("ETag")
    return feature(head, None if got == expected else f"ETag {got}, not {expected}")


@register(CHECKS, "multipart.get-part-number", "GET ?partNumber=1 gives part 1's bytes")
async def _get_part_number(ctx: Context) -> Observation:
    key = ctx.key()
    upload = await ctx.create_upload(key)
    parts = await ctx.parts(key, upload, MIB5, 3)
    require(await ctx.complete(key, upload, parts))
    answer = await ctx.send("GET", key, query={"partNumber": "1"})
    wanted = bytes([1]) * MIB5
    if answer.status == 200 and answer.body == wanted + bytes([2]) * 3:
        return feature(answer, "ignored: the whole object came back")
    problem = None if answer.body == wanted else f"{len(answer.body)} bytes, not part 1"
    return feature(answer, problem if answer.status < 300 else None)


@register(CHECKS, "multipart.list-parts-paging", "ListParts max-parts=2 pages: 1, 2 then 3")
async def _list_parts_paging(ctx: Context) -> Observation:
    key = ctx.key()
    upload = await ctx.create_upload(key)
    await ctx.parts(key, upload, 5, 5, 5)
    first = await ctx.send("GET", key, query={"uploadId": upload, "max-parts": "2"})
    if first.status != 200:
        return feature(first)
    marker = (texts(first.body, "NextPartNumberMarker") or [""])[0]
    second = await ctx.send(
        "GET", key, query={"uploadId": upload, "max-parts": "2", "part-number-marker": marker}
    )
    pages = [texts(first.body, "Part", "PartNumber"), texts(second.body, "Part", "PartNumber")]
    truncated = texts(first.body, "IsTruncated") == ["true"]
    ok = pages == [["1", "2"], ["3"]] and truncated
    return feature(second, None if ok else f"pages {pages}, truncated {truncated}")


@register(CHECKS, "multipart.list-uploads", "ListMultipartUploads lists the upload in progress")
async def _list_uploads(ctx: Context) -> Observation:
    upload = await ctx.create_upload(ctx.key())
    answer = await ctx.send("GET", None, query={"uploads": None, "prefix": ctx.prefix})
    ids = texts(answer.body, "Upload", "UploadId")
    return feature(answer, None if ids == [upload] else f"listed {ids}")


@register(CHECKS, "multipart.complete-after-abort", "404 NoSuchUpload")
async def _complete_after_abort(ctx: Context) -> Observation:
    upload = await ctx.create_upload(ctx.key())
    parts = await ctx.parts(ctx.key(), upload, 10)
    require(await ctx.send("DELETE", ctx.key(), query={"uploadId": upload}))
    answer = await ctx.complete(ctx.key(), upload, parts)
    stored = await ctx.stored(ctx.key()) is not None
    return refusal(answer, 404, ("NoSuchUpload",), stored=stored)


@register(CHECKS, "multipart.part-after-abort", "404 NoSuchUpload")
async def _part_after_abort(ctx: Context) -> Observation:
    upload = await ctx.create_upload(ctx.key())
    require(await ctx.send("DELETE", ctx.key(), query={"uploadId": upload}))
    answer = await ctx.upload_part(ctx.key(), upload, 1, b"late")
    return refusal(answer, 404, ("NoSuchUpload",))


@register(CHECKS, "multipart.abort-unknown", "404 NoSuchUpload")
async def _abort_unknown(ctx: Context) -> Observation:
    answer = await ctx.send("DELETE", ctx.key(), query={"uploadId": "probe-no-such-upload"})
    return refusal(answer, 404, ("NoSuchUpload",))
