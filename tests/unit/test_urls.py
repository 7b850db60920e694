"""Endpoint parsing, S3 key and query encoding, URL building."""

from __future__ import annotations

from typing import Any

import pytest

from rawS3.urls import (
    Endpoint,
    build_url,
    encode_component,
    encode_key,
    encode_query,
    host_for_url,
    host_header,
    parse_endpoint,
)

# --- keys ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("key", "encoded"),
    [
        pytest.param("plain", "plain", id="plain"),
        pytest.param("a b", "a%20b", id="space"),
        pytest.param("a+b", "a%2Bb", id="plus"),
        pytest.param("a~b", "a~b", id="tilde"),
        pytest.param("a=b", "a%3Db", id="equals"),
        pytest.param("a&b", "a%26b", id="ampersand"),
        pytest.param("a?b", "a%3Fb", id="question-mark"),
        pytest.param("a#b", "a%23b", id="hash"),
        pytest.param("100%", "100%25", id="percent"),
        pytest.param("%41", "%2541", id="already-encoded-looking"),
        pytest.param("!*'()", "%21%2A%27%28%29", id="sub-delims"),
        pytest.param("$@,;:", "%24%40%2C%3B%3A", id="gen-delims"),
        pytest.param("A-Z_a.z~0-9", "A-Z_a.z~0-9", id="unreserved"),
        pytest.param("Привет", "%D0%9F%D1%80%D0%B8%D0%B2%D0%B5%D1%82", id="cyrillic"),
        pytest.param("\U0001f600", "%F0%9F%98%80", id="emoji"),
        pytest.param("tab\there", "tab%09here", id="control"),
        pytest.param("a//b", "a//b", id="double-slash"),
        pytest.param("./x/../y", "./x/../y", id="dot-segments"),
        pytest.param("/lead/trail/", "/lead/trail/", id="edge-slashes"),
    ],
)
def test_encode_key(key: str, encoded: str) -> None:
    assert encode_key(key) == encoded


def test_encode_key_1024_bytes() -> None:
    assert encode_key("k" * 1024) == "k" * 1024
    assert encode_key("\u00e9" * 512) == "%C3%A9" * 512


def test_encode_key_refuses_lone_surrogates() -> None:
    with pytest.raises(ValueError, match="surrogate"):
        encode_key("bad\ud800")


def test_encode_component_also_encodes_slash() -> None:
    assert encode_component("a/b c~") == "a%2Fb%20c~"


# --- query -----------------------------------------------------------------------------------


def test_encode_query_encodes_and_renders_none_as_empty() -> None:
    params = {"prefix": "a/b c+", "max-keys": "2", "uploads": None, "delimiter": ""}
    assert encode_query(params) == "delimiter=&max-keys=2&prefix=a%2Fb%20c%2B&uploads="


def test_encode_query_sorts_by_encoded_name() -> None:
    # Raw "~" (0x7E) sorts before "é", but encoded "%C3%A9" sorts before "~".
    assert encode_query([("a~", "2"), ("a\u00e9", "1")]) == "a%C3%A9=1&a~=2"


def test_encode_query_sorts_repeated_names_by_encoded_value() -> None:
    pairs = [("k", "~"), ("k", "b"), ("k", "\u00e9"), ("k", "a")]
    assert encode_query(pairs) == "k=%C3%A9&k=a&k=b&k=~"


def test_encode_query_of_nothing_is_empty() -> None:
    assert encode_query({}) == ""
    assert encode_query([]) == ""


@pytest.mark.parametrize(
    ("params", "error"),
    [
        ({"max-keys": 2}, TypeError),
        ([(None, "v")], TypeError),
        ({"": "v"}, ValueError),
    ],
)
def test_encode_query_refuses_bad_params(params: Any, error: type[Exception]) -> None:
    with pytest.raises(error):
        encode_query(params)


# --- endpoints -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("url", "endpoint"),
    [
        ("https://s3.amazonaws.com", Endpoint("https", "s3.amazonaws.com", None, "")),
        ("http://localhost:9000", Endpoint("http", "localhost", 9000, "")),
        ("HTTP://LocalHost:9000/", Endpoint("http", "localhost", 9000, "")),
        ("https://s3.example.com:443", Endpoint("https", "s3.example.com", None, "")),
        ("http://s3.example.com:80", Endpoint("http", "s3.example.com", None, "")),
        ("https://s3.example.com:80", Endpoint("https", "s3.example.com", 80, "")),
        ("http://gw.local:8080/s3/", Endpoint("http", "gw.local", 8080, "/s3")),
        ("http://[::1]:9000", Endpoint("http", "::1", 9000, "")),
        ("http://10.0.0.5", Endpoint("http", "10.0.0.5", None, "")),
    ],
)
def test_parse_endpoint(url: str, endpoint: Endpoint) -> None:
    assert parse_endpoint(url) == endpoint


@pytest.mark.parametrize(
    ("url", "message"),
    [
        ("s3.amazonaws.com", "no scheme"),
        ("localhost:9000", "no scheme"),
        ("ftp://files.example.com", "http or https"),
        ("https://", "no host"),
        ("https://key:secret@s3.example.com", "user info"),
        ("https://s3.example.com/?versioning", "query or fragment"),
        ("https://s3.example.com#x", "query or fragment"),
        ("https://s3.example.com:99999", "invalid port"),
        ("https://s3.example.com:abc", "invalid port"),
        ("https://s3.example.com:0", "port 0"),
        ("https://s3.example.com/a b", "percent-encoded"),
        ("https://[::1", "not a valid URL"),
    ],
)
def test_parse_endpoint_errors(url: str, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        parse_endpoint(url)


def test_parse_endpoint_refuses_non_strings() -> None:
    with pytest.raises(TypeError, match="str"):
        parse_endpoint(b"https://s3.amazonaws.com")  # type: ignore[arg-type]


# --- URLs and Host ---------------------------------------------------------------------------

LOCAL = parse_endpoint("http://127.0.0.1:9000")
AWS = parse_endpoint("https://s3.amazonaws.com")


@pytest.mark.parametrize(
    ("args", "kwargs", "url"),
    [
        ((LOCAL, None), {}, "http://127.0.0.1:9000/"),
        ((LOCAL, "b"), {}, "http://127.0.0.1:9000/b"),
        ((LOCAL, "b", "a b/c"), {}, "http://127.0.0.1:9000/b/a%20b/c"),
        ((LOCAL, "b", "k", {"uploads": None}), {}, "http://127.0.0.1:9000/b/k?uploads="),
        ((LOCAL, "b", "k", {}), {}, "http://127.0.0.1:9000/b/k"),
        ((LOCAL, "b", "a//b"), {}, "http://127.0.0.1:9000/b/a//b"),
        ((LOCAL, "b", "./x/../y"), {}, "http://127.0.0.1:9000/b/./x/../y"),
        ((LOCAL, "b", "/k"), {}, "http://127.0.0.1:9000/b//k"),
        (
            (AWS, "examplebucket", "test$file.text"),
            {"addressing": "virtual"},
            "https://examplebucket.s3.amazonaws.com/test%24file.text",
        ),
        (
            (AWS, "examplebucket", None, {"max-keys": "2", "prefix": "J"}),
            {"addressing": "virtual"},
            "https://examplebucket.s3.amazonaws.com/?max-keys=2&prefix=J",
        ),
        ((AWS, None), {"addressing": "virtual"}, "https://s3.amazonaws.com/"),
        (
            (parse_endpoint("http://gw.local:8080/s3"), "b", "k"),
            {},
            "http://gw.local:8080/s3/b/k",
        ),
        ((parse_endpoint("http://[::1]:9000"), "b", "k"), {}, "http://[::1]:9000/b/k"),
        ((parse_endpoint("https://h:443"), "b", "k"), {}, "https://h/b/k"),
    ],
)
def test_build_url(args: tuple[Any, ...], kwargs: dict[str, Any], url: str) -> None:
    assert build_url(*args, **kwargs) == url


@pytest.mark.parametrize(
    ("args", "kwargs", "message"),
    [
        ((LOCAL, None, "k"), {}, "needs a bucket"),
        ((LOCAL, "b"), {"addressing": "dns"}, "'path' or 'virtual'"),
        ((LOCAL, "b", "k"), {"addressing": "virtual"}, "IP address"),
        ((parse_endpoint("http://[::1]:9000"), "b"), {"addressing": "virtual"}, "IP address"),
        ((AWS, "My_Bucket", "k"), {"addressing": "virtual"}, "host name label"),
        ((AWS, "a..b", "k"), {"addressing": "virtual"}, "host name label"),
    ],
)
def test_build_url_errors(args: tuple[Any, ...], kwargs: dict[str, Any], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        build_url(*args, **kwargs)


@pytest.mark.parametrize(
    ("endpoint", "bucket", "addressing", "host"),
    [
        (LOCAL, "b", "path", "127.0.0.1:9000"),
        (AWS, "b", "path", "s3.amazonaws.com"),
        (AWS, "examplebucket", "virtual", "examplebucket.s3.amazonaws.com"),
        (AWS, None, "virtual", "s3.amazonaws.com"),
        (parse_endpoint("https://h:8443"), "b", "virtual", "b.h:8443"),
        (parse_endpoint("http://h:80"), "b", "path", "h"),
        (parse_endpoint("http://[::1]:9000"), "b", "path", "[::1]:9000"),
        (parse_endpoint("http://[::1]"), "b", "path", "[::1]"),
    ],
)
def test_host_header(endpoint: Endpoint, bucket: str | None, addressing: Any, host: str) -> None:
    assert host_header(endpoint, bucket, addressing) == host


@pytest.mark.parametrize(
    ("url", "host"),
    [
        ("https://s3.amazonaws.com/b/k?x=1", "s3.amazonaws.com"),
        ("https://S3.AmazonAWS.com:443/", "s3.amazonaws.com"),
        ("http://h:80/", "h"),
        ("http://h:443/", "h:443"),
        ("https://h:9000", "h:9000"),
        ("http://[2001:db8::1]:9000/b", "[2001:db8::1]:9000"),
    ],
)
def test_host_for_url(url: str, host: str) -> None:
    assert host_for_url(url) == host


@pytest.mark.parametrize("url", ["/b/k", "ftp://h/k", "https:///k", "http://h:x/"])
def test_host_for_url_errors(url: str) -> None:
    with pytest.raises(ValueError, match="URL"):
        host_for_url(url)
