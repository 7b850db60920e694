"""Conditional requests, versioning, tagging and SSE-C."""

from __future__ import annotations

import base64
import hashlib
import os

from rawS3.probe.context import Context, md5_etag, texts
from rawS3.probe.model import Check, Observation, feature, refusal, register, require

CHECKS: list[Check] = []
BODY = b"conditional bytes"
PRECONDITION = ("PreconditionFailed",)
VERSIONING_ON = (
    b'<VersioningConfiguration xmlns="http://s3.amazonaws.com/doc/2006-03-01/">'
    b"<Status>Enabled</Status></VersioningConfiguration>"
)


async def _stored(ctx: Context) -> str:
    require(await ctx.put(ctx.key(), BODY))
    return md5_etag(BODY)


# -- conditional requests ----------------------------------------------------------------------


@register(CHECKS, "conditional.get-if-match", "200 for If-Match with the quoted ETag")
async def _get_if_match(ctx: Context) -> Observation:
    etag = await _stored(ctx)
    answer = await ctx.send("GET", ctx.key(), headers={"If-Match": etag})
    return feature(answer, None if answer.body == BODY else "other bytes returned")


@register(CHECKS, "conditional.get-if-match-wrong", "412 PreconditionFailed")
async def _get_if_match_wrong(ctx: Context) -> Observation:
    await _stored(ctx)
    answer = await ctx.send("GET", ctx.key(), headers={"If-Match": md5_etag(b"other")})
    return refusal(answer, 412, PRECONDITION)


@register(CHECKS, "conditional.get-if-none-match", "304 Not Modified for the current ETag")
async def _get_if_none_match(ctx: Context) -> Observation:
    etag = await _stored(ctx)
    answer = await ctx.send("GET", ctx.key(), headers={"If-None-Match": etag})
    return refusal(answer, 304, ())


@register(CHECKS, "conditional.get-if-modified-since", "304 Not Modified for a future date")
async def _get_if_modified_since(ctx: Context) -> Observation:
    await _stored(ctx)
    future = "Fri, 01 Jan 2100 00:00:00 GMT"
    answer = await ctx.send("GET", ctx.key(), headers={"If-Modified-Since": future})
    return refusal(answer, 304, ())


@register(CHECKS, "conditional.put-if-none-match-star", "412 PreconditionFailed: the key exists")
async def _put_if_none_match(ctx: Context) -> Observation:
    await _stored(ctx)
    answer = await ctx.put(ctx.key(), b"overwritten", headers={"If-None-Match": "*"})
    overwritten = await ctx.stored(ctx.key()) == b"overwritten"
    return refusal(answer, 412, PRECONDITION, stored=overwritten)


@register(CHECKS, "conditional.put-if-match-wrong", "412 PreconditionFailed: another ETag")
async def _put_if_match_wrong(ctx: Context) -> Observation:
    await _stored(ctx)
    answer = await ctx.put(ctx.key(), b"overwritten", headers={"If-Match": md5_etag(b"other")})
    overwritten = await ctx.stored(ctx.key()) == b"overwritten"
    return refusal(answer, 412, PRECONDITION, stored=overwritten)


@register(CHECKS, "conditional.put-if-match-quoted", "200: If-Match with the current quoted ETag")
async def _put_if_match(ctx: Context) -> Observation:
    etag = await _stored(ctx)
    answer = await ctx.put(ctx.key(), b"overwritten", headers={"If-Match": etag})
    if answer.status != 200:
        return feature(answer)
    stored = await ctx.stored(ctx.key())
    return feature(answer, None if stored == b"overwritten" else f"stored {stored!r}")


@register(CHECKS, "conditional.complete-if-none-match",
          "412 PreconditionFailed: Complete with If-None-Match * onto an existing key")
async def _complete_if_none_match(ctx: Context) -> Observation:
    await _stored(ctx)
    upload = await ctx.create_upload(ctx.key())
    parts = await ctx.parts(ctx.key(), upload, 10)
    answer = await ctx.complete(ctx.key(), upload, parts, headers={"If-None-Match": "*"})
    overwritten = await ctx.stored(ctx.key()) != BODY
    return refusal(answer, 412, PRECONDITION, stored=overwritten)


# -- versioning --------------------------------------------------------------------------------


async def _versioned(ctx: Context) -> str:
    bucket, created = await ctx.new_bucket("ver")
    require(created)
    on = await ctx.send("PUT", bucket=bucket, query={"versioning": None}, body=VERSIONING_ON)
    require(on)
    return bucket


@register(CHECKS, "versioning.versions-kept", "two PUTs: two version ids, the old one readable")
async def _versions_kept(ctx: Context) -> Observation:
    bucket = await _versioned(ctx)
    first = require(await ctx.put("v", b"one", bucket=bucket))
    require(await ctx.put("v", b"two", bucket=bucket))
    version = first.headers.get("x-amz-version-id")
    if not version:
        return feature(first, "ignored: no x-amz-version-id")
    old = await ctx.send("GET", "v", bucket=bucket, query={"versionId": version})
    return feature(old, None if old.body == b"one" else f"versionId gave {old.body!r}")


@register(CHECKS, "versioning.delete-marker",
          "DELETE leaves a delete marker: GET 404, the version still readable")
async def _delete_marker(ctx: Context) -> Observation:
    bucket = await _versioned(ctx)
    first = require(await ctx.put("v", b"one", bucket=bucket))
    deleted = require(await ctx.send("DELETE", "v", bucket=bucket))
    marker = deleted.headers.get("x-amz-delete-marker")
    gone = await ctx.send("GET", "v", bucket=bucket)
    version = first.headers.get("x-amz-version-id") or "null"
    old = await ctx.send("GET", "v", bucket=bucket, query={"versionId": version})
    ok = marker == "true" and gone.status == 404 and old.body == b"one"
    return feature(old, None if ok else f"marker {marker}, GET {gone.status}, old {old.status}")


@register(CHECKS, "versioning.list-versions", "ListObjectVersions: 2 versions and 1 marker")
async def _list_versions(ctx: Context) -> Observation:
    bucket = await _versioned(ctx)
    for body in (b"one", b"two"):
        require(await ctx.put("v", body, bucket=bucket))
    require(await ctx.send("DELETE", "v", bucket=bucket))
    answer = await ctx.send("GET", bucket=bucket, query={"versions": None})
    found = (len(texts(answer.body, "Version", "VersionId")),
             len(texts(answer.body, "DeleteMarker", "VersionId")))
    return feature(answer, None if found == (2, 1) else f"versions, markers: {found}")


# -- tagging -----------------------------------------------------------------------------------


TAGS = (b"<Tagging><TagSet><Tag><Key>team</Key><Value>probe</Value></Tag>"
        b"</TagSet></Tagging>")


@register(CHECKS, "tagging.put-get", "PutObjectTagging then GetObjectTagging returns the tag")
async def _tagging_round_trip(ctx: Context) -> Observation:
    require(await ctx.put(ctx.key(), b"tagged"))
    put = await ctx.send("PUT", ctx.key(), query={"tagging": None}, body=TAGS)
    if put.status != 200:
        return feature(put)
    got = await ctx.send("GET", ctx.key(), query={"tagging": None})
    pairs = list(zip(texts(got.body, "TagSet", "Tag", "Key"),
                     texts(got.body, "TagSet", "Tag", "Value"), strict=False))
    return feature(got, None if pairs == [("team", "probe")] else f"tags {pairs}")


@register(CHECKS, "tagging.header-on-put", "x-amz-tagging on PutObject is stored")
async def _tagging_header(ctx: Context) -> Observation:
    require(await ctx.put(ctx.key(), b"tagged", headers={"x-amz-tagging": "a=1&b=two"}))
    got = await ctx.send("GET", ctx.key(), query={"tagging": None})
    keys = sorted(texts(got.body, "TagSet", "Tag", "Key"))
    return feature(got, None if keys == ["a", "b"] else f"tags {keys}")


@register(CHECKS, "tagging.too-many", "400 BadRequest/InvalidTag: more than 10 tags")
async def _tagging_too_many(ctx: Context) -> Observation:
    require(await ctx.put(ctx.key(), b"tagged"))
    tags = "".join(f"<Tag><Key>k{i}</Key><Value>v</Value></Tag>" for i in range(11))
    body = f"<Tagging><TagSet>{tags}</TagSet></Tagging>".encode()
    answer = await ctx.send("PUT", ctx.key(), query={"tagging": None}, body=body)
    return refusal(answer, 400, ("BadRequest", "InvalidTag"))


# -- SSE-C -------------------------------------------------------------------------------------


def _sse_c(key: bytes) -> dict[str, str]:
    return {
        "x-amz-server-side-encryption-customer-algorithm": "AES256",
        "x-amz-server-side-encryption-customer-key": base64.b64encode(key).decode(),
        "x-amz-server-side-encryption-customer-key-MD5": base64.b64encode(
            hashlib.md5(key).digest()
        ).decode(),
    }


async def _encrypted(ctx: Context) -> bytes:
    key = os.urandom(32)
    require(await ctx.put(ctx.key(), b"secret bytes", headers=_sse_c(key)))
    return key


@register(CHECKS, "sse-c.round-trip", "GET with the same key returns the bytes and the key MD5 "
          "(over https: AWS refuses SSE-C over http with 400 InvalidRequest)")
async def _sse_c_round_trip(ctx: Context) -> Observation:
    key = await _encrypted(ctx)
    answer = await ctx.send("GET", ctx.key(), headers=_sse_c(key))
    echoed = answer.headers.get("x-amz-server-side-encryption-customer-key-MD5")
    if answer.body != b"secret bytes":
        return feature(answer, "other bytes returned")
    if echoed != _sse_c(key)["x-amz-server-side-encryption-customer-key-MD5"]:
        return feature(answer, "ignored: the key MD5 is not returned (not encrypted?)")
    return feature(answer)


@register(CHECKS, "sse-c.get-without-key", "400 InvalidRequest: the object needs its key")
async def _sse_c_without_key(ctx: Context) -> Observation:
    await _encrypted(ctx)
    answer = await ctx.send("GET", ctx.key())
    return refusal(answer, 400, ("InvalidRequest",))


@register(CHECKS, "sse-c.wrong-key", "403 AccessDenied: another key")
async def _sse_c_wrong_key(ctx: Context) -> Observation:
    await _encrypted(ctx)
    answer = await ctx.send("GET", ctx.key(), headers=_sse_c(os.urandom(32)))
    return refusal(answer, 403, ("AccessDenied",))
