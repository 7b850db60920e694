"""The signed ceiling: the raw reference client, signing every body's SHA-256 (see ``ceiling``)."""

from __future__ import annotations

from bench.clients.ceiling import SignedClient as Client

__all__ = ["Client"]
