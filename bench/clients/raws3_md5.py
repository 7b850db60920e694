"""rawS3 with ``payload_signing="auto"``: over https ``UNSIGNED-PAYLOAD`` plus ``Content-MD5``.

The rawS3 row measures the library's default (``"signed"``: the body's SHA-256 in the signature,
over http and https alike). Over plain http ``"auto"`` is that same signed payload, so this row
runs over https only, where it is rawS3's other verified mode and the https profile shows what
each costs.
"""

from __future__ import annotations

from bench.clients import raws3


class Client(raws3.Client):
    payload_signing = "auto"
