"""Addressing and the shape of error answers."""

from __future__ import annotations

from rawS3 import sigv4
from rawS3.probe.context import Context
from rawS3.probe.model import Check, Observation, error_of, feature, observe, register, require
from rawS3.raw import PreparedRequest
from rawS3.sigv4 import Credentials
from rawS3.urls import encode_key, parse_endpoint

CHECKS: list[Check] = []


def _virtual(ctx: Context, key: str) -> PreparedRequest:
    """GET bucket.host/key: the bucket in the Host header (sent to the endpoint's address,
    so no DNS name is needed for it)."""
    endpoint = parse_endpoint(ctx.client.endpoint_url)
    url = f"{endpoint.scheme}://{ctx.host}{endpoint.path}/{encode_key(key)}"
    headers = sigv4.sign(
        "GET", url, {"Host": f"{ctx.bucket}.{ctx.host}"},
        payload_hash=sigv4.EMPTY_SHA256,
        credentials=ctx.credentials, region=ctx.client.region, now=ctx.now(),
    )
    return PreparedRequest("GET", url, headers, None, ctx.bucket, key)


@register(CHECKS, "addressing.virtual-hosted", "200: Host bucket.endpoint serves /key")
async def _virtual_hosted(ctx: Context) -> Observation:
    require(await ctx.put(ctx.key(), b"virtual"))
    answer = await ctx.client.request(_virtual(ctx, ctx.key()))
    if answer.status >= 300:
        return feature(answer)
    return feature(answer, None if answer.body == b"virtual" else "other bytes returned")


@register(CHECKS, "addressing.path-style", "200: endpoint/bucket/key")
async def _path_style(ctx: Context) -> Observation:
    require(await ctx.put(ctx.key(), b"path"))
    answer = await ctx.send("GET", ctx.key())
    return feature(answer, None if answer.body == b"path" else "other bytes returned")


@register(CHECKS, "errors.request-id", "an error has x-amz-request-id and <RequestId>")
async def _request_id(ctx: Context) -> Observation:
    answer = await ctx.send("GET", ctx.key("missing"))
    document = error_of(answer.body)
    header = answer.headers.get("x-amz-request-id")
    if document is None:
        return observe("wrong", answer, "no <Error> document")
    ok = bool(header) and document.request_id == header
    # The ids themselves change at every run: say only whether they are there and agree.
    detail = "x-amz-request-id equals <RequestId>" if ok else (
        f"x-amz-request-id {'present' if header else 'missing'}, "
        f"<RequestId> {'present' if document.request_id else 'missing'}"
    )
    return observe("enforced" if ok else "wrong", answer, detail, documented=ok)


@register(CHECKS, "errors.xml-content-type", "an error body is application/xml")
async def _xml_content_type(ctx: Context) -> Observation:
    answer = await ctx.send("GET", ctx.key("missing"))
    kind = answer.headers.get("Content-Type", "")
    ok = "xml" in kind and error_of(answer.body) is not None
    return observe("enforced" if ok else "wrong", answer, f"Content-Type {kind}", documented=ok)


@register(CHECKS, "errors.canonical-request",
          "SignatureDoesNotMatch carries <CanonicalRequest> and <StringToSign>")
async def _canonical_request(ctx: Context) -> Observation:
    wrong = Credentials(ctx.credentials.access_key, "not-the-secret-of-this-key")
    answer = await ctx.send("GET", ctx.key(), credentials=wrong)
    document = error_of(answer.body)
    if document is None:
        return observe("wrong", answer, "no <Error> document")
    present = sorted(set(document.details) & {"CanonicalRequest", "StringToSign"})
    ok = len(present) == 2
    detail = f"{answer.status} {document.code}; present: {', '.join(present) or 'neither'}"
    return observe("enforced" if ok else "unsupported", answer, detail, documented=ok)


@register(CHECKS, "errors.head-has-no-body", "HEAD of a missing key: 404 and no body")
async def _head_no_body(ctx: Context) -> Observation:
    answer = await ctx.send("HEAD", ctx.key("missing"))
    ok = answer.status == 404 and answer.body == b""
    return observe("enforced" if ok else "wrong", answer, f"{answer.status}, "
                   f"{len(answer.body)} body bytes", documented=ok)
