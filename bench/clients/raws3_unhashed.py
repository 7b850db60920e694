"""rawS3 with no payload hash at all: what the integrity check costs, shown beside the default.

``payload_signing="unsigned"`` leaves the body's SHA-256 out of the signature and
``content_md5=False`` sends no ``Content-MD5``, so neither the client nor the server hashes the
body for verification; only TCP's (or TLS's) checksum guards it. Not a setting rawS3
recommends: it is here so that the large-upload table separates the cost of rawS3's transport
from the cost of the SHA-256 that its default (signed) payload has both ends compute.
"""

from __future__ import annotations

from bench.clients import raws3


class Client(raws3.Client):
    payload_signing = "unsigned"
    content_md5 = False
