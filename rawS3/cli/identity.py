"""``raws3 whoami``: which source of the credentials chain supplied the credentials.

It prints the source, the access key id and the region, never the secret or the session
token; fetching the credentials is the only request it may send (to STS, a container or
instance metadata endpoint, or a ``credential_process``), none goes to S3.
"""

from __future__ import annotations

import argparse

from rawS3.cli.app import EXIT_OK, App

__all__ = ["whoami"]


async def whoami(app: App, args: argparse.Namespace) -> int:
    """``raws3 whoami``: the credentials' source, access key id, expiry and the region.

    Args:
        app: the client and the output streams.
        args: the common options only.

    Returns:
        The exit status.
    """
    held = await app.client.fetch_credentials()
    print(f"source      {app.client.credentials_source}", file=app.stdout)
    print(f"access key  {held.access_key}", file=app.stdout)
    print(f"temporary   {'yes' if held.session_token else 'no'}", file=app.stdout)
    if held.expiry is not None:
        print(f"expires     {held.expiry:%Y-%m-%d %H:%M:%S} UTC", file=app.stdout)
    print(f"region      {app.client.region}", file=app.stdout)
    print(f"endpoint    {app.client.endpoint_url}", file=app.stdout)
    return EXIT_OK
