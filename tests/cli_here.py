"""Run ``raws3`` inside the test's own process and event loop: no interpreter to start.

For tests of what a command does with the server; what only a process shows (signals, exit
codes of ``main``, tracebacks on stderr) is tested with a real process elsewhere.
"""

from __future__ import annotations

import io
import os

import pytest

from rawS3.cli import build_parser
from rawS3.cli.app import run
from tests.conftest import TestServer


async def raws3_here(
    monkeypatch: pytest.MonkeyPatch, endpoint: str, server: TestServer, *argv: str
) -> tuple[int, str, str]:
    """Run ``raws3 argv...`` against ``endpoint``; return its exit status, stdout and stderr."""
    for name in [name for name in os.environ if name.startswith("AWS_")]:
        monkeypatch.delenv(name)
    monkeypatch.setenv("AWS_ENDPOINT_URL", endpoint)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", server.access_key)
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", server.secret_key)
    monkeypatch.setenv("AWS_REGION", server.region)
    out, err = io.StringIO(), io.StringIO()
    code = await run(build_parser().parse_args(list(argv)), out, err)
    return code, out.getvalue(), err.getvalue()
