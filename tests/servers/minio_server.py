"""A MinIO server from a ``minio`` binary on PATH, for machines that have one."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import tempfile
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

ACCESS_KEY = "rawS3minio"
SECRET_KEY = "rawS3minio/secret+key"


@dataclass(frozen=True)
class MinioServer:
    endpoint: str
    access_key: str
    secret_key: str


@contextmanager
def running_minio(timeout: float = 30) -> Iterator[MinioServer]:
    binary = shutil.which("minio")
    if binary is None:
        raise RuntimeError("RAWS3_TEST_SERVER=minio needs a minio binary on PATH")
    port = _free_port()
    env = {**os.environ, "MINIO_ROOT_USER": ACCESS_KEY, "MINIO_ROOT_PASSWORD": SECRET_KEY}
    with tempfile.TemporaryDirectory(prefix="rawS3-minio-") as data:
        command = [binary, "server", data, "--address", f"127.0.0.1:{port}", "--quiet"]
        process = subprocess.Popen(
            command, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE
        )
        try:
            endpoint = f"http://127.0.0.1:{port}"
            _wait_ready(f"{endpoint}/minio/health/ready", process, timeout)
            yield MinioServer(endpoint, ACCESS_KEY, SECRET_KEY)
        finally:
            process.terminate()
            process.wait(10)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _wait_ready(url: str, process: subprocess.Popen[bytes], timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"minio exited with {process.returncode}")
        try:
            with urllib.request.urlopen(url, timeout=1):
                return
        except OSError:
            time.sleep(0.1)
    raise RuntimeError(f"minio did not become ready within {timeout}s")
