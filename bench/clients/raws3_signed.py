"""rawS3 with ``payload_signing="signed"`` (the library's default): the body's SHA-256 in the
signature, no Content-MD5.

Over plain http ``"auto"`` does the same. Over https ``"auto"`` sends ``UNSIGNED-PAYLOAD`` plus
``Content-MD5``; this row is the other verified mode, so the https profile shows what each costs.
"""

from __future__ import annotations

from bench.clients import raws3


class Client(raws3.Client):
    payload_signing = "signed"
