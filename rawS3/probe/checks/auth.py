"""Authentication: who may sign, with what, and when."""

from __future__ import annotations

import dataclasses
from datetime import timedelta

from rawS3 import sigv4
from rawS3.canonical import canonical_request
from rawS3.probe.context import Context
from rawS3.probe.model import Check, Observation, feature, refusal, register, require
from rawS3.sigv4 import Credentials
from rawS3.urls import encode_query

CHECKS: list[Check] = []

SKEWED = ("RequestTimeTooSkewed",)
MISMATCH = ("SignatureDoesNotMatch",)


async def _stored_object(ctx: Context) -> str:
    key = ctx.key()
    require(await ctx.put(key, b"private bytes"))
    return key


@register(CHECKS, "auth.wrong-secret", "403 SignatureDoesNotMatch")
async def _wrong_secret(ctx: Context) -> Observation:
    wrong = Credentials(ctx.credentials.access_key, "not-the-secret-of-this-key")
    answer = await ctx.put(ctx.key(), b"never", credentials=wrong)
    return refusal(answer, 403, MISMATCH, stored=await ctx.stored(ctx.key()) is not None)


@register(CHECKS, "auth.unknown-key", "403 InvalidAccessKeyId")
async def _unknown_key(ctx: Context) -> Observation:
    key = await _stored_object(ctx)
    unknown = Credentials("AKIAPROBEUNKNOWN0000", "any-secret-at-all")
    answer = await ctx.send("GET", key, credentials=unknown)
    return refusal(answer, 403, ("InvalidAccessKeyId",))


@register(CHECKS, "auth.wrong-region", "400 AuthorizationHeaderMalformed (the region is wrong)")
async def _wrong_region(ctx: Context) -> Observation:
    key = await _stored_object(ctx)
    unsigned = ctx.client.prepare("GET", ctx.bucket, key, anonymous=True)
    headers = sigv4.sign(
        "GET", unsigned.url, unsigned.headers, payload_hash=sigv4.EMPTY_SHA256,
        credentials=ctx.credentials, region="mars-north-9", now=ctx.now(),
    )
    answer = await ctx.client.request(dataclasses.replace(unsigned, headers=headers))
    return refusal(answer, 400, ("AuthorizationHeaderMalformed",))


async def _dated(ctx: Context, offset: timedelta) -> Observation:
    key = await _stored_object(ctx)
    answer = await ctx.send("GET", key, now=ctx.now() + offset)
    return refusal(answer, 403, SKEWED)


@register(CHECKS, "auth.date-a-day-old", "403 RequestTimeTooSkewed")
async def _date_a_day_old(ctx: Context) -> Observation:
    return await _dated(ctx, timedelta(days=-1))


@register(CHECKS, "auth.date-an-hour-ahead", "403 RequestTimeTooSkewed")
async def _date_an_hour_ahead(ctx: Context) -> Observation:
    return await _dated(ctx, timedelta(hours=1))


@register(CHECKS, "auth.skew-16-minutes", "403 RequestTimeTooSkewed (the window is 15 minutes)")
async def _skew_outside_window(ctx: Context) -> Observation:
    return await _dated(ctx, timedelta(minutes=-16))


@register(CHECKS, "auth.skew-10-minutes", "200: within the 15-minute window")
async def _skew_inside_window(ctx: Context) -> Observation:
    key = await _stored_object(ctx)
    answer = await ctx.send("GET", key, now=ctx.now() - timedelta(minutes=10))
    return feature(answer, None if answer.body == b"private bytes" else "other bytes returned")


@register(CHECKS, "auth.bogus-session-token", "400/403 InvalidToken: the token is not valid")
async def _bogus_session_token(ctx: Context) -> Observation:
    keys = ctx.credentials
    with_token = Credentials(keys.access_key, keys.secret_key, "FQoGZXIvYXdzEProbeBogusToken")
    answer = await ctx.put(ctx.key(), b"never", credentials=with_token)
    stored = await ctx.stored(ctx.key()) is not None
    observed = refusal(answer, 400, ("InvalidToken",), stored=stored)
    if answer.status == 403 and observed.code == "InvalidToken":
        return dataclasses.replace(observed, documented=True)
    return observed


@register(CHECKS, "auth.tampered-signed-header", "403 SignatureDoesNotMatch")
async def _tampered_header(ctx: Context) -> Observation:
    answer = await ctx.put(
        ctx.key(),
        b"x",
        headers={"Content-Type": "text/plain"},
        unsigned_headers={"Content-Type": "image/png"},
    )
    return refusal(answer, 403, MISMATCH, stored=await ctx.stored(ctx.key()) is not None)


@register(CHECKS, "auth.anonymous-get", "403 AccessDenied for a private object")
async def _anonymous_get(ctx: Context) -> Observation:
    key = await _stored_object(ctx)
    answer = await ctx.send("GET", key, anonymous=True)
    return refusal(answer, 403, ("AccessDenied",))


@register(CHECKS, "auth.anonymous-put", "403 AccessDenied, nothing stored")
async def _anonymous_put(ctx: Context) -> Observation:
    answer = await ctx.put(ctx.key(), b"from anyone", anonymous=True)
    stored = await ctx.stored(ctx.key()) is not None
    return refusal(answer, 403, ("AccessDenied",), stored=stored)


@register(CHECKS, "auth.presigned-get", "200 with the object's bytes")
async def _presigned_get(ctx: Context) -> Observation:
    key = await _stored_object(ctx)
    answer = await ctx.send("GET", key, presign=300)
    return feature(answer, None if answer.body == b"private bytes" else "other bytes returned")


@register(CHECKS, "auth.presigned-expired", "403 AccessDenied (Request has expired)")
async def _presigned_expired(ctx: Context) -> Observation:
    key = await _stored_object(ctx)
    answer = await ctx.send("GET", key, presign=60, now=ctx.now() - timedelta(hours=2))
    return refusal(answer, 403, ("AccessDenied",))


@register(CHECKS, "auth.presigned-tampered", "403 SignatureDoesNotMatch (key changed)")
async def _presigned_tampered(ctx: Context) -> Observation:
    key = await _stored_object(ctx)
    require(await ctx.put(ctx.key("other"), b"other bytes"))
    prepared = ctx.client.prepare("GET", ctx.bucket, key, presign=300)
    url = prepared.url.replace(f"/{ctx.key()}?", f"/{ctx.key('other')}?")
    answer = await ctx.client.request(dataclasses.replace(prepared, url=url))
    return refusal(answer, 403, MISMATCH)


@register(CHECKS, "auth.presigned-put-wrong-secret", "403 SignatureDoesNotMatch, nothing stored")
async def _presigned_wrong_secret(ctx: Context) -> Observation:
    wrong = Credentials(ctx.credentials.access_key, "not-the-secret-of-this-key")
    answer = await ctx.put(ctx.key(), b"never", presign=300, credentials=wrong)
    return refusal(answer, 403, MISMATCH, stored=await ctx.stored(ctx.key()) is not None)


def _presigned_for(ctx: Context, key: str, expires: int) -> str:
    """A presigned GET URL signed by hand: rawS3's presign() refuses an expiry over 7 days."""
    now, keys, region = ctx.now(), ctx.credentials, ctx.client.region
    unsigned = ctx.client.prepare("GET", ctx.bucket, key, anonymous=True)
    parameters = [
        ("X-Amz-Algorithm", sigv4.ALGORITHM),
        ("X-Amz-Credential", f"{keys.access_key}/{sigv4.credential_scope(now, region, 's3')}"),
        ("X-Amz-Date", sigv4.amz_date(now)),
        ("X-Amz-Expires", str(expires)),
        ("X-Amz-SignedHeaders", "host"),
    ]
    if keys.session_token is not None:
        parameters.append(("X-Amz-Security-Token", keys.session_token))
    url = f"{unsigned.url}?{encode_query(parameters)}"
    host = {"host": unsigned.headers["Host"]}
    text = sigv4.string_to_sign(
        now, sigv4.credential_scope(now, region, "s3"),
        canonical_request("GET", url, host, sigv4.UNSIGNED_PAYLOAD),
    )
    key_bytes = sigv4.signing_key(keys.secret_key, now, region, "s3")
    return f"{url}&X-Amz-Signature={sigv4.signature(key_bytes, text)}"


@register(CHECKS, "auth.presigned-over-7-days",
          "400 AuthorizationQueryParametersError: X-Amz-Expires over 604800")
async def _presigned_over_7_days(ctx: Context) -> Observation:
    key = await _stored_object(ctx)
    unsigned = ctx.client.prepare("GET", ctx.bucket, key, anonymous=True)
    url = _presigned_for(ctx, key, 604801)
    answer = await ctx.client.request(dataclasses.replace(unsigned, url=url))
    return refusal(answer, 400, ("AuthorizationQueryParametersError",))


@register(CHECKS, "auth.presigned-by-hand", "200: the same URL signed by hand for 7 days works")
async def _presigned_by_hand(ctx: Context) -> Observation:
    key = await _stored_object(ctx)
    unsigned = ctx.client.prepare("GET", ctx.bucket, key, anonymous=True)
    url = _presigned_for(ctx, key, 604800)
    answer = await ctx.client.request(dataclasses.replace(unsigned, url=url))
    return feature(answer, None if answer.body == b"private bytes" else "other bytes returned")
