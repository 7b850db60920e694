"""``raws3 probe``: a protocol conformance report for any S3 server, on the raw request API.

- ``model``: checks, observations and the verdict rules (pure);
- ``report``: the report as JSON, Markdown or a terminal table (pure);
- ``crc``: the checksums the payload checks send (pure);
- ``context``: what a check works with (helpers over ``S3Client.request``);
- ``checks``: the catalogue, one module per group of checks;
- ``runner``: one bucket of its own, the checks, and cleanup whatever happens.
"""

from __future__ import annotations

__all__: list[str] = []
