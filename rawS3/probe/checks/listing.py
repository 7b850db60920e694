"""Listing: ListObjects v1 and v2, delimiters, URL encoding, paging, start-after, max-keys."""

from __future__ import annotations

from urllib.parse import unquote

from rawS3.probe.context import Context, texts
from rawS3.probe.model import Check, Observation, feature, register, require
from rawS3.raw import RawResponse

CHECKS: list[Check] = []
NAMES = ("a", "b/1", "b/2", "c")


async def _objects(ctx: Context, names: tuple[str, ...] = NAMES) -> None:
    for name in names:
        require(await ctx.put(ctx.key(name), b"x"))


async def _list(ctx: Context, **query: str) -> RawResponse:
    return await ctx.send("GET", query={"prefix": ctx.prefix, **query})


def _keys(answer: RawResponse, ctx: Context, *path: str) -> list[str]:
    return [key.removeprefix(ctx.prefix) for key in texts(answer.body, *path)]


@register(CHECKS, "listing.v2", "ListObjectsV2 lists the keys in order, KeyCount 4")
async def _list_v2(ctx: Context) -> Observation:
    await _objects(ctx)
    answer = await _list(ctx, **{"list-type": "2"})
    keys, count = _keys(answer, ctx, "Contents", "Key"), texts(answer.body, "KeyCount")
    return feature(answer, None if keys == list(NAMES) and count == ["4"] else f"{keys} {count}")


@register(CHECKS, "listing.v1-marker", "ListObjects v1 with marker=b/1 lists b/2, c")
async def _list_v1_marker(ctx: Context) -> Observation:
    await _objects(ctx)
    answer = await _list(ctx, marker=ctx.key("b/1"))
    keys = _keys(answer, ctx, "Contents", "Key")
    return feature(answer, None if keys == ["b/2", "c"] else f"listed {keys}")


@register(CHECKS, "listing.delimiter", "delimiter '/': keys a, c and common prefix b/")
async def _list_delimiter(ctx: Context) -> Observation:
    await _objects(ctx)
    answer = await _list(ctx, **{"list-type": "2", "delimiter": "/"})
    keys = _keys(answer, ctx, "Contents", "Key")
    prefixes = _keys(answer, ctx, "CommonPrefixes", "Prefix")
    ok = keys == ["a", "c"] and prefixes == ["b/"]
    return feature(answer, None if ok else f"keys {keys}, prefixes {prefixes}")


@register(CHECKS, "listing.v1-delimiter-paging",
          "v1 max-keys=2 with a delimiter: IsTruncated and NextMarker")
async def _list_v1_delimiter_paging(ctx: Context) -> Observation:
    await _objects(ctx)
    answer = await _list(ctx, delimiter="/", **{"max-keys": "2"})
    truncated, marker = texts(answer.body, "IsTruncated"), texts(answer.body, "NextMarker")
    ok = truncated == ["true"] and [m.removeprefix(ctx.prefix) for m in marker] == ["b/"]
    return feature(answer, None if ok else f"IsTruncated {truncated}, NextMarker {marker}")


@register(CHECKS, "listing.encoding-type-url", "encoding-type=url: keys come back URL-encoded")
async def _list_encoding_url(ctx: Context) -> Observation:
    name = "sp ace+plus/ü"
    await _objects(ctx, (name,))
    answer = await _list(ctx, **{"list-type": "2", "encoding-type": "url"})
    listed = texts(answer.body, "Contents", "Key")
    if listed == [ctx.key(name)]:
        return feature(answer, "ignored: the key came back unencoded")
    decoded = [unquote(key.replace("+", " ")) for key in listed]
    ok = decoded == [ctx.key(name)] and texts(answer.body, "EncodingType") == ["url"]
    return feature(answer, None if ok else f"listed {listed}")


@register(CHECKS, "listing.continuation", "v2 max-keys=2 then the continuation token: 4 keys")
async def _list_continuation(ctx: Context) -> Observation:
    await _objects(ctx)
    first = await _list(ctx, **{"list-type": "2", "max-keys": "2"})
    token = texts(first.body, "NextContinuationToken")
    if first.status != 200 or not token:
        return feature(first, None if first.status != 200 else "no NextContinuationToken")
    second = await _list(ctx, **{"list-type": "2", "continuation-token": token[0]})
    keys = _keys(first, ctx, "Contents", "Key") + _keys(second, ctx, "Contents", "Key")
    return feature(second, None if keys == list(NAMES) else f"pages gave {keys}")


@register(CHECKS, "listing.start-after", "v2 start-after=b/2 lists c only")
async def _list_start_after(ctx: Context) -> Observation:
    await _objects(ctx)
    answer = await _list(ctx, **{"list-type": "2", "start-after": ctx.key("b/2")})
    keys = _keys(answer, ctx, "Contents", "Key")
    return feature(answer, None if keys == ["c"] else f"listed {keys}")


@register(CHECKS, "listing.max-keys-0", "max-keys=0: 200, no keys")
async def _list_max_keys_zero(ctx: Context) -> Observation:
    await _objects(ctx)
    answer = await _list(ctx, **{"list-type": "2", "max-keys": "0"})
    keys = _keys(answer, ctx, "Contents", "Key")
    return feature(answer, None if keys == [] else f"listed {keys}")


@register(CHECKS, "listing.max-keys-1", "max-keys=1: one key, IsTruncated true")
async def _list_max_keys_one(ctx: Context) -> Observation:
    await _objects(ctx)
    answer = await _list(ctx, **{"list-type": "2", "max-keys": "1"})
    keys, truncated = _keys(answer, ctx, "Contents", "Key"), texts(answer.body, "IsTruncated")
    ok = keys == ["a"] and truncated == ["true"]
    return feature(answer, None if ok else f"listed {keys}, IsTruncated {truncated}")
