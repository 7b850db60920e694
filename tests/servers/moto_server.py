"""An in-process moto S3 server that really checks SigV4 signatures.

moto accepts anything by default. Here an IAM user with an ``s3:*`` policy and a fixed access
key is registered first, then enforcement is switched on, so a wrong secret or a tampered
signed header is refused as AWS would refuse it.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

ACCESS_KEY = "AKIARAWS3MOTOTESTKEY"
SECRET_KEY = "rawS3/moto+secret/0123456789abcdefghijkl"
_POLICY = {
    "Version": "2012-10-17",
    "Statement": [{"Effect": "Allow", "Action": "s3:*", "Resource": "*"}],
}


@dataclass(frozen=True)
class MotoServer:
    endpoint: str
    access_key: str
    secret_key: str
    region: str = "us-east-1"


@contextmanager
def running_moto() -> Iterator[MotoServer]:
    """Start moto on a free 127.0.0.1 port with signature enforcement on; stop it after."""
    from moto import settings
    from moto.server import ThreadedMotoServer

    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    previous = settings.INITIAL_NO_AUTH_ACTION_COUNT
    try:
        _register_user()
        settings.INITIAL_NO_AUTH_ACTION_COUNT = 0
        yield MotoServer(f"http://{host}:{port}", ACCESS_KEY, SECRET_KEY)
    finally:
        settings.INITIAL_NO_AUTH_ACTION_COUNT = previous
        server.stop()


def _register_user() -> None:
    from moto.core import DEFAULT_ACCOUNT_ID
    from moto.iam.models import iam_backends

    iam = iam_backends[DEFAULT_ACCOUNT_ID]["aws"]
    if "rawS3-tests" in iam.users:
        return
    iam.create_user(region_name="us-east-1", user_name="rawS3-tests", path="/")
    iam.put_user_policy("rawS3-tests", "s3-all", json.dumps(_POLICY))
    key = iam.create_access_key("rawS3-tests")
    # moto makes up a random key; the tests want a fixed one, so re-file it under ours.
    iam.access_keys.pop(key.physical_resource_id, None)
    key.access_key_id = ACCESS_KEY
    key.secret_access_key = SECRET_KEY
    iam.access_keys[ACCESS_KEY] = key
