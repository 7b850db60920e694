"""Which proxy a request goes through, from ``HTTPS_PROXY``, ``HTTP_PROXY`` and ``NO_PROXY``.

Pure: the environment is an argument. An https URL takes ``HTTPS_PROXY``, an http URL
``HTTP_PROXY`` (the lower-case spellings win, as curl and Python's ``urllib`` have it);
``NO_PROXY`` is a comma-separated list of hosts that are reached directly: ``*`` for all, a
name for itself and its subdomains (``example.com`` and ``.example.com`` both cover
``s3.example.com``, as does ``*.example.com``), an IP address for itself, and ``host:port``
or ``[v6]:port`` for that port only (a URL without a port has its scheme's: 80 or 443).

A proxy's ``user:password@`` is taken out of its URL and sent as a ``Proxy-Authorization``
header instead: aiohttp quotes the proxy URL in its errors, which would print the password.
"""

from __future__ import annotations

import base64
from collections.abc import Mapping
from urllib.parse import unquote, urlsplit, urlunsplit

__all__ = ["bypassed", "proxy_for", "proxy_options"]

_DEFAULT_PORTS = {"http": 80, "https": 443}


def _variable(env: Mapping[str, str], name: str) -> str | None:
    return env.get(name.lower()) or env.get(name.upper()) or None


def proxy_for(url: str, env: Mapping[str, str]) -> str | None:
    """Return the proxy to send ``url`` through, or ``None`` to go direct.

    Args:
        url: the request's URL.
        env: the environment.

    Returns:
        The proxy URL, or ``None``.
    """
    parts = urlsplit(url)
    proxy = _variable(env, f"{parts.scheme}_proxy")
    if proxy is None or not parts.hostname:
        return None
    # A URL without a port uses its scheme's: ``host:443`` in NO_PROXY covers https://host/.
    port = parts.port or _DEFAULT_PORTS.get(parts.scheme)
    if bypassed(parts.hostname, port, _variable(env, "no_proxy") or ""):
        return None
    return proxy


def bypassed(host: str, port: int | None, no_proxy: str) -> bool:
    """Tell whether ``NO_PROXY`` sends requests to ``host`` directly.

    Args:
        host: the request's host name or IP address.
        port: its port, if the URL names one.
        no_proxy: the ``NO_PROXY`` value.

    Returns:
        True when an entry covers the host (and the port, if the entry names one).
    """
    host = host.lower().strip("[]")
    for entry in (item.strip().lower() for item in no_proxy.split(",")):
        if not entry:
            continue
        if entry == "*":
            return True
        name, wanted = _entry_host_and_port(entry)
        if wanted and (not wanted.isdigit() or port != int(wanted)):
            continue
        if host == name or host.endswith("." + name):
            return True
    return False


def _entry_host_and_port(entry: str) -> tuple[str, str]:
    """Split a NO_PROXY entry: ``host``, ``.host``, ``*.host``, ``host:port``, ``[v6]:port``."""
    if entry.startswith("["):
        name, _, rest = entry[1:].partition("]")
        return name, rest.removeprefix(":")
    name, _, wanted = entry.rpartition(":") if entry.count(":") == 1 else (entry, "", "")
    return name.removeprefix("*").lstrip("."), wanted


def proxy_options(proxy: str | None, url: str) -> tuple[dict[str, object], dict[str, str]]:
    """Return aiohttp's proxy options for ``proxy``, and headers to add to the request.

    A login in the proxy URL becomes a ``Proxy-Authorization`` header: for an https URL in the
    ``CONNECT`` that opens the tunnel (aiohttp's ``proxy_headers``), for an http URL in the
    request itself, which the proxy receives whole.

    Args:
        proxy: the proxy URL (``http://user:password@host:port``), or ``None`` to go direct.
        url: the request's URL.

    Returns:
        ``({}, {})`` for none; else ``{"proxy": URL without the login, ...}`` and the headers.
    """
    if not proxy:
        return {}, {}
    parts = urlsplit(proxy)
    if parts.username is None and parts.password is None:
        return {"proxy": proxy}, {}
    netloc = parts.netloc.rpartition("@")[2]
    login = f"{unquote(parts.username or '')}:{unquote(parts.password or '')}"
    header = {
        "Proxy-Authorization": "Basic " + base64.b64encode(login.encode("latin-1")).decode()
    }
    options: dict[str, object] = {"proxy": urlunsplit(parts._replace(netloc=netloc))}
    if urlsplit(url).scheme == "https":
        return {**options, "proxy_headers": header}, {}
    return options, header
