"""The proxy each URL goes through, from HTTPS_PROXY, HTTP_PROXY and NO_PROXY."""

from __future__ import annotations

import pytest

from rawS3.proxies import proxy_for

P = "http://proxy:3128"
ROWS = [
    ("https://s3.amazonaws.com/b", {"HTTPS_PROXY": P}, P),
    ("https://s3.amazonaws.com/b", {"HTTP_PROXY": P}, None),
    ("http://127.0.0.1:9000/b", {"HTTP_PROXY": P}, P),
    ("http://127.0.0.1:9000/b", {"HTTP_PROXY": P, "NO_PROXY": "127.0.0.1"}, None),
    ("http://127.0.0.1:9000/b", {"HTTP_PROXY": P, "NO_PROXY": "127.0.0.1:9001"}, P),
    ("http://127.0.0.1:9000/b", {"HTTP_PROXY": P, "NO_PROXY": "127.0.0.1:9000"}, None),
    ("https://s3.example.com/b", {"HTTPS_PROXY": P, "NO_PROXY": "example.com"}, None),
    ("https://s3.example.com/b", {"HTTPS_PROXY": P, "NO_PROXY": ".example.com"}, None),
    ("https://s3.badexample.com/b", {"HTTPS_PROXY": P, "NO_PROXY": "example.com"}, P),
    ("https://s3.example.com/b", {"HTTPS_PROXY": P, "NO_PROXY": " a.org , *"}, None),
    (
        "https://s3.example.com/b",
        {"HTTPS_PROXY": P, "https_proxy": "http://lower:1"},
        "http://lower:1",
    ),
    ("https://s3.example.com/b", {"https_proxy": P, "no_proxy": "S3.Example.com"}, None),
    ("http://[::1]:9000/b", {"HTTP_PROXY": P, "NO_PROXY": "::1"}, None),
    ("https://s3.example.com/b", {}, None),
    # A URL without a port has its scheme's, which a host:port entry may name.
    ("https://s3.example.com/b", {"HTTPS_PROXY": P, "NO_PROXY": "s3.example.com:443"}, None),
    ("http://s3.example.com/b", {"HTTP_PROXY": P, "NO_PROXY": "s3.example.com:80"}, None),
    ("http://s3.example.com/b", {"HTTP_PROXY": P, "NO_PROXY": "s3.example.com:443"}, P),
    ("http://[::1]:9000/b", {"HTTP_PROXY": P, "NO_PROXY": "[::1]:9000"}, None),
    ("http://[::1]:9000/b", {"HTTP_PROXY": P, "NO_PROXY": "[::1]:9001"}, P),
    ("http://[::1]:9000/b", {"HTTP_PROXY": P, "NO_PROXY": "[::1]"}, None),
    ("https://s3.example.com/b", {"HTTPS_PROXY": P, "NO_PROXY": "*.example.com"}, None),
]


@pytest.mark.parametrize(("url", "env", "expected"), ROWS)
def test_proxy_choice(url: str, env: dict[str, str], expected: str | None) -> None:
    assert proxy_for(url, env) == expected
