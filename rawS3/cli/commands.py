"""The ``raws3`` commands that move no object bodies: ls, mb, rb, rm, presign and head.

Each takes the ``App`` and the parsed arguments and returns the exit status; S3's refusals
propagate as exceptions, for ``main`` to print.
"""

from __future__ import annotations

import argparse

from rawS3.cli.app import EXIT_FAILED, EXIT_OK, App
from rawS3.cli.locations import UsageError, bucket_name, object_location, parse_s3_url
from rawS3.results import ObjectHead

__all__ = ["DELETE_BATCH", "head", "ls", "mb", "presign", "rb", "rm"]

DELETE_BATCH = 1000


async def ls(app: App, args: argparse.Namespace) -> int:
    """``raws3 ls``: the buckets, or the keys (and prefixes) under ``s3://bucket[/prefix]``.

    Args:
        app: the client and the output streams.
        args: ``url`` (``None`` for the buckets), ``recursive`` and ``versions``.

    Returns:
        The exit status.
    """
    if args.url is None:
        for bucket in await app.client.list_buckets():
            print(f"{bucket.creation_date:%Y-%m-%d %H:%M:%S}  {bucket.name}", file=app.stdout)
        return EXIT_OK
    location = parse_s3_url(args.url)
    if args.versions:
        return await _list_versions(app, location.bucket, location.key)
    pages = app.client.list_pages(
        location.bucket,
        prefix=location.key or None,
        delimiter=None if args.recursive else "/",
    )
    async for page in pages:
        for prefix in page.common_prefixes:
            print(f"{'':19}  {'PRE':>12}  {prefix}", file=app.stdout)
        for item in page.contents:
            print(f"{item.last_modified:%Y-%m-%d %H:%M:%S}  {item.size:>12}  {item.key}",
                  file=app.stdout)
    return EXIT_OK


async def _list_versions(app: App, bucket: str, prefix: str) -> int:
    """Print every version: date, size (or DELETE), version id, the latest flag, and key."""
    async for version in app.client.list_object_versions(bucket, prefix=prefix or None):
        size = "DELETE" if version.is_delete_marker else str(version.size)
        latest = "*" if version.is_latest else " "
        print(f"{version.last_modified:%Y-%m-%d %H:%M:%S}  {size:>12}  {latest} "
              f"{version.version_id}  {version.key}", file=app.stdout)
    return EXIT_OK


async def mb(app: App, args: argparse.Namespace) -> int:
    """``raws3 mb``: make a bucket.

    Args:
        app: the client and the output streams.
        args: ``url``, ``s3://bucket``.

    Returns:
        The exit status.
    """
    bucket = bucket_name(args.url, "mb")
    await app.client.create_bucket(bucket)
    app.say(f"make_bucket: s3://{bucket}")
    return EXIT_OK


async def rb(app: App, args: argparse.Namespace) -> int:
    """``raws3 rb``: remove a bucket; with ``--force``, empty it first.

    Args:
        app: the client and the output streams.
        args: ``url``, ``s3://bucket``, and ``force``.

    Returns:
        The exit status: 1 when some object could not be deleted (the bucket stays).
    """
    bucket = bucket_name(args.url, "rb")
    if args.force:
        for upload in await app.client.list_multipart_uploads(bucket):
            await app.client.abort_multipart_upload(bucket, upload.key, upload.upload_id)
        if await _delete_prefix(app, bucket, "", DELETE_BATCH):
            return EXIT_FAILED
    await app.client.delete_bucket(bucket)
    app.say(f"remove_bucket: s3://{bucket}")
    return EXIT_OK


async def rm(app: App, args: argparse.Namespace) -> int:
    """``raws3 rm``: delete an object, or with ``--recursive`` every key under a prefix.

    Args:
        app: the client and the output streams.
        args: ``url``, ``recursive``, ``batch_size`` and ``version_id``.

    Returns:
        The exit status: 1 when some key could not be deleted.

    Raises:
        UsageError: ``--version-id`` together with ``--recursive``.
    """
    if args.recursive and args.version_id:
        raise UsageError("--version-id names one object's version; it does not go with -r")
    if args.recursive:
        location = parse_s3_url(args.url)
        failures = await _delete_prefix(app, location.bucket, location.key, args.batch_size)
        return EXIT_FAILED if failures else EXIT_OK
    location = object_location(args.url, "rm (without --recursive)")
    deleted = await app.client.delete_object(
        location.bucket, location.key, version_id=args.version_id
    )
    version = f" (version {deleted.version_id})" if deleted.version_id else ""
    marker = " delete marker" if deleted.is_delete_marker else ""
    app.say(f"delete{marker}: {location}{version}")
    return EXIT_OK


async def _delete_prefix(app: App, bucket: str, prefix: str, batch_size: int) -> int:
    """Delete every key under ``prefix`` in batches as the listing goes; return the failures."""
    failures = 0
    batch: list[str] = []
    async for item in app.client.list_objects(bucket, prefix=prefix or None):
        batch.append(item.key)
        if len(batch) == batch_size:
            failures += await _delete_batch(app, bucket, batch)
            batch = []
    if batch:
        failures += await _delete_batch(app, bucket, batch)
    return failures


async def _delete_batch(app: App, bucket: str, keys: list[str]) -> int:
    result = await app.client.delete_objects(bucket, keys)
    failed = {error.key for error in result.errors}
    for error in result.errors:
        print(f"{error.code}: {error.message} (s3://{bucket}/{error.key})", file=app.stderr)
    for key in keys:
        if key not in failed:
            app.say(f"delete: s3://{bucket}/{key}")
    return len(failed)


async def presign(app: App, args: argparse.Namespace) -> int:
    """``raws3 presign``: print a presigned URL for any method (GET unless told otherwise).

    Args:
        app: the client and the output streams.
        args: ``url``, ``put``, ``method``, ``expires``, ``version_id``, ``upload_id``,
            ``part_number``, ``header`` (``NAME:VALUE`` strings) and the ``response_*``
            overrides.

    Returns:
        The exit status.

    Raises:
        UsageError: ``--put`` with another ``--method``, or a header without ``:``.
    """
    location = object_location(args.url, "presign")
    await app.client.fetch_credentials()  # a provider's, fetched: presigning does not fetch
    if args.put and args.method not in (None, "PUT"):
        raise UsageError(f"--put means --method PUT; it cannot go with --method {args.method}")
    url = app.client.presign(
        args.method or ("PUT" if args.put else "GET"),
        location.bucket,
        location.key,
        expires=args.expires,
        version_id=args.version_id,
        upload_id=args.upload_id,
        part_number=args.part_number,
        headers=_headers(args.header or []),
        response_cache_control=args.response_cache_control,
        response_content_disposition=args.response_content_disposition,
        response_content_encoding=args.response_content_encoding,
        response_content_language=args.response_content_language,
        response_content_type=args.response_content_type,
        response_expires=args.response_expires,
    )
    print(url, file=app.stdout)
    return EXIT_OK


def _headers(given: list[str]) -> dict[str, str]:
    headers: dict[str, str] = {}
    for text in given:
        name, colon, value = text.partition(":")
        if not colon:
            raise UsageError(f"--header takes NAME:VALUE, got {text!r}")
        if name.strip().lower() in (known.lower() for known in headers):
            # One would silently replace the other; the URL's user could not send both.
            raise UsageError(f"--header {name.strip()!r} is given twice")
        headers[name.strip()] = value.strip()
    return headers


async def head(app: App, args: argparse.Namespace) -> int:
    """``raws3 head``: an object's size, ETag, type, date, metadata, tags and encryption.

    Args:
        app: the client and the output streams.
        args: ``url`` and ``version_id``.

    Returns:
        The exit status.
    """
    location = object_location(args.url, "head")
    bucket, key, version = location.bucket, location.key, args.version_id
    stored = await app.client.head_object(bucket, key, version_id=version)
    fields = [
        ("url", str(location)),
        ("size", str(stored.size)),
        ("etag", stored.etag),
        ("content-type", stored.content_type or ""),
        ("last-modified", stored.last_modified or ""),
    ]
    if stored.version_id:
        fields.append(("version-id", stored.version_id))
    fields.extend((f"meta-{name}", value) for name, value in sorted(stored.metadata.items()))
    fields.extend(_encryption_fields(stored))
    if stored.tag_count:
        tags = await app.client.get_object_tagging(bucket, key, version_id=version)
        fields.extend((f"tag-{name}", value) for name, value in sorted(tags.tags.items()))
    for name, value in fields:
        print(f"{name + ':':<15}{value}", file=app.stdout)
    return EXIT_OK


def _encryption_fields(stored: ObjectHead) -> list[tuple[str, str]]:
    """How the object is encrypted at rest, as far as the server says (never a key)."""
    fields = []
    if stored.server_side_encryption:
        fields.append(("encryption", stored.server_side_encryption))
    if stored.sse_kms_key_id:
        fields.append(("kms-key-id", stored.sse_kms_key_id))
    if stored.sse_customer_algorithm:
        md5 = stored.sse_customer_key_md5 or "?"
        fields.append(("encryption", f"SSE-C {stored.sse_customer_algorithm} (key MD5 {md5})"))
    return fields
