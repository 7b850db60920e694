"""What the harness and its workers share: sizes, the matched transfer settings, the endpoint.

Nothing here imports an S3 library, so a worker that imports this module still measures only
the client it runs.
"""

from __future__ import annotations

import os
import random
from collections.abc import Mapping
from dataclasses import dataclass

MiB = 1024 * 1024
GiB = 1024 * MiB
MB = 1_000_000

PART_SIZE = 8 * MiB
"""The part size every client is given in the matched rows."""
CONCURRENCY = 4
"""Parts in flight in the matched rows (rawS3's default)."""
SMALL_IN_FLIGHT = 32
"""Small requests in flight in workload 3."""
POOL_SIZE = 32
"""Connection pool size given to every client whose pool is configurable."""
SOURCE_PIECE = 256 * 1024
"""How much the local HTTP source writes at a time."""


@dataclass(frozen=True, slots=True)
class Sizes:
    """How much each workload moves."""

    large: int
    stream: int
    small_count: int
    small_size: int
    stream_odd: int = 0
    """A second stream size that is not a multiple of any part size a client uses."""
    download: int = 0


FULL = Sizes(
    large=128 * MiB, stream=256 * MiB, small_count=2000, small_size=1024,
    stream_odd=96 * MiB + 12_345, download=128 * MiB,
)
"""Sized so that the committed run (http, https and the WAN profile, 6 to 9 repetitions per
workload) takes under an hour on a shared 2-core machine."""
SMOKE = Sizes(
    large=17 * MiB, stream=16 * MiB, small_count=64, small_size=1024,
    stream_odd=9 * MiB + 1_234, download=17 * MiB,
)
WAN = Sizes(large=64 * MiB, stream=0, small_count=0, small_size=0, download=64 * MiB)
"""Through the relay: big enough that every client reaches its steady rate."""
WAN_SMOKE = Sizes(large=9 * MiB, stream=0, small_count=0, small_size=0, download=9 * MiB)


@dataclass(frozen=True, slots=True)
class Network:
    """What the relay in front of the server adds to every connection."""

    round_trip: float
    """Seconds added to each round trip: half on the way out, half on the way back."""
    rate: int
    """Bytes per second per connection and direction."""


WAN_NETWORK = Network(round_trip=0.020, rate=10 * MiB)


@dataclass(frozen=True, slots=True)
class Transfer:
    """Multipart settings: bytes per part and parts in flight."""

    part_size: int
    concurrency: int


MATCHED = Transfer(PART_SIZE, CONCURRENCY)


@dataclass(frozen=True, slots=True)
class Endpoint:
    """Where the server is and how to sign for it."""

    url: str
    access_key: str
    secret_key: str
    region: str

    @property
    def hostport(self) -> str:
        """``host:port`` of the endpoint, as MinIO's client wants it."""
        return self.url.split("://", 1)[1].rstrip("/")

    @property
    def secure(self) -> bool:
        """True for an https endpoint."""
        return self.url.startswith("https://")


def endpoint_from_env(env: Mapping[str, str] = os.environ) -> Endpoint | None:
    """The endpoint named by ``AWS_ENDPOINT_URL`` and the key variables, if all are set."""
    url = env.get("AWS_ENDPOINT_URL_S3") or env.get("AWS_ENDPOINT_URL")
    access = env.get("AWS_ACCESS_KEY_ID")
    secret = env.get("AWS_SECRET_ACCESS_KEY")
    if not (url and access and secret):
        return None
    region = env.get("AWS_REGION") or env.get("AWS_DEFAULT_REGION") or "us-east-1"
    return Endpoint(url.rstrip("/"), access, secret, region)


def endpoint_env(endpoint: Endpoint) -> dict[str, str]:
    """The environment variables that hand ``endpoint`` to a worker."""
    return {
        "AWS_ENDPOINT_URL": endpoint.url,
        "AWS_ACCESS_KEY_ID": endpoint.access_key,
        "AWS_SECRET_ACCESS_KEY": endpoint.secret_key,
        "AWS_REGION": endpoint.region,
    }


def pattern(size: int, seed: int = 0) -> bytes:
    """``size`` bytes that repeat only every MiB + 7, so misplaced parts change the object."""
    block = random.Random(seed).randbytes(MiB + 7)
    whole, rest = divmod(size, len(block))
    return block * whole + block[:rest]
