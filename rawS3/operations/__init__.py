"""S3 operations as data: for each, a builder and a reader, pure and grouped by family.

A builder turns validated arguments into a :class:`~rawS3.operations.request.Request` (method,
bucket, key, query, headers, body, which statuses are success, whether a retry is safe); a
reader turns the :class:`~rawS3.operations.request.Reply` into a frozen result or raises the
typed error. Nothing here imports aiohttp or asyncio or reads a clock: ``rawS3.engine`` sends
requests, ``rawS3.client`` strings builders, engine and readers together.

- ``request``: the two values, and the header helpers every family shares.
- ``objects``: PutObject, GetObject, HeadObject, DeleteObject(s), CopyObject.
- ``multipart``: Create, UploadPart(Copy), Complete, Abort, ListParts, ListMultipartUploads.
- ``listing``: ListObjectsV2.
- ``buckets``: CreateBucket, HeadBucket, DeleteBucket, ListBuckets.
"""
