"""Credentials sources under conditions that are easy to get wrong: a broken document that
holds a secret, a cancelled fetch, a refresh cancelled while others wait on it.
"""

from __future__ import annotations

import pytest

from rawS3.credentials import read_sts_credentials
from rawS3.errors import CredentialsError

SECRET = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYSECRETKEY"
TOKEN = "FwoGZXIvYXdzEXAMPLESESSIONTOKEN"


@pytest.mark.parametrize(
    "body",
    [
        # Cut off after the secret: not well-formed, and the secret comes first.
        b"<AssumeRoleResponse><AssumeRoleResult><Credentials><SecretAccessKey>"
        + SECRET.encode()
        + b"</SecretAccessKey><SessionToken>"
        + TOKEN.encode(),
        # Well-formed but another root, holding the same.
        b"<Other><SecretAccessKey>" + SECRET.encode() + b"</SecretAccessKey></Other>",
    ],
)
def test_an_unreadable_sts_answer_is_reported_without_its_text(body: bytes) -> None:
    with pytest.raises(CredentialsError) as caught:
        read_sts_credentials(body, "profile dev")
    text = f"{caught.value} {caught.value!r}"
    assert SECRET not in text
    assert SECRET[:12] not in text
    assert TOKEN[:12] not in text
    assert caught.value.source == "profile dev"
