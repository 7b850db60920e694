"""Explaining a ``SignatureDoesNotMatch``, and keeping the session token out of the explanation.

A server that refuses a signature may send back the canonical request and string to sign it
computed (as text and as hex bytes). ``signing_texts_from_details`` reads them from the error's
``details``; ``diagnose_signature_mismatch`` sets them beside the ones rawS3 signed and marks
the first line that differs, or, when both texts agree, blames the signing key.

The canonical request holds the session token, as a header line or a presigned query
parameter. ``redact_details`` masks it in every field of an error document (the client applies
it before the fields reach :attr:`~rawS3.errors.S3Error.details`), and the diagnosis masks it in
every line it shows.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from urllib.parse import quote

from rawS3.encryption import CUSTOMER_KEY_HEADERS

__all__ = [
    "diagnose_signature_mismatch",
    "redact_details",
    "redact_headers",
    "signing_texts_from_details",
]


def redact_details(details: Mapping[str, str], secrets: Iterable[str]) -> dict[str, str]:
    """Return an error document's fields with the request's secrets masked wherever they appear.

    Servers that explain ``SignatureDoesNotMatch`` echo the canonical request, which holds the
    session token as a header line or a presigned query parameter, as text and as hex bytes,
    and some (Swift, AWS) the signature that was sent (``SignatureProvided``).

    Args:
        details: :attr:`~rawS3.errors.S3Error.details` as parsed.
        secrets: what the request carried that must not show: its session token and signature.

    Returns:
        A new dict: token lines and parameters and every secret read ``***``; ``...Bytes``
        fields are decoded, masked and encoded again.
    """
    hidden = [secret for secret in secrets if secret]
    return {name: _redacted_field(name, value, hidden) for name, value in details.items()}


def _redacted_field(name: str, value: str, secrets: list[str]) -> str:
    if name == "SignatureProvided":
        return "***"
    if name.endswith("Bytes"):
        try:
            text = bytes.fromhex(value).decode("utf-8")
        except ValueError:
            packed = value.replace(" ", "")
            return "***" if any(s.encode().hex() in packed for s in secrets) else value
        return " ".join(f"{byte:02x}" for byte in _redacted_text(text, secrets).encode("utf-8"))
    return _redacted_text(value, secrets)


def _redacted_text(text: str, secrets: list[str]) -> str:
    masked = "\n".join(_mask(line) for line in text.split("\n"))
    for secret in secrets:
        for form in {secret, quote(secret, safe=""), quote(secret, safe="/")}:
            masked = masked.replace(form, "***")
    return masked


def signing_texts_from_details(details: Mapping[str, str]) -> tuple[str | None, str | None]:
    """Return the server's canonical request and string to sign from an error's details.

    AWS sends both as text and as space-separated hex bytes (``CanonicalRequestBytes``,
    ``StringToSignBytes``); the text is preferred and the bytes are decoded when only they
    arrived.

    Args:
        details: :attr:`~rawS3.errors.S3Error.details` of a ``SignatureDoesNotMatch`` error.

    Returns:
        ``(canonical_request, string_to_sign)``; either is ``None`` when the server sent
        neither form or the bytes do not decode.
    """
    return (
        _signing_text(details, "CanonicalRequest"),
        _signing_text(details, "StringToSign"),
    )


def _signing_text(details: Mapping[str, str], name: str) -> str | None:
    text = details.get(name)
    if text:
        return text
    try:
        return bytes.fromhex(details.get(f"{name}Bytes", "")).decode("utf-8") or None
    except ValueError:
        return None


def diagnose_signature_mismatch(
    server_canonical_request: str | None,
    server_string_to_sign: str | None,
    ours_canonical_request: str,
    ours_string_to_sign: str,
) -> str:
    """Explain a ``SignatureDoesNotMatch`` by comparing the server's signing texts with ours.

    Each text is listed line by line with line numbers; where the two sides differ both
    lines are shown (with ``repr`` so stray whitespace is visible) and the first differing
    line is marked with ``>``. Session-token values are masked.

    Args:
        server_canonical_request: the server's ``CanonicalRequest``, or ``None`` if not sent.
        server_string_to_sign: the server's ``StringToSign``, or ``None`` if not sent.
        ours_canonical_request: the canonical request rawS3 signed.
        ours_string_to_sign: the string to sign rawS3 signed.

    Returns:
        A multi-line report.
    """
    sections = [
        _compare_text("canonical request", server_canonical_request, ours_canonical_request),
        _compare_text("string to sign", server_string_to_sign, ours_string_to_sign),
    ]
    if server_string_to_sign == ours_string_to_sign:
        # Equal strings to sign yet different signatures: only the signing key can differ.
        sections.append("the signing key differs: check the secret key")
    return "\n".join(sections)


def _compare_text(title: str, server: str | None, ours: str) -> str:
    ours_lines = ours.split("\n")
    if server is None:
        header = f"{title}: the server did not return its version; ours is:"
        return "\n".join([header, *_plain_lines(ours_lines)])
    server_lines = server.split("\n")
    first = _first_difference(server_lines, ours_lines)
    if first is None:
        return f"{title}: identical on both sides"
    header = f"{title}: first difference at line {first + 1} (server vs ours)"
    return "\n".join([header, *_paired_lines(server_lines, ours_lines, first)])


def _first_difference(server: list[str], ours: list[str]) -> int | None:
    for number in range(max(len(server), len(ours))):
        if _line(server, number) != _line(ours, number):
            return number
    return None


def _line(lines: list[str], number: int) -> str | None:
    return lines[number] if number < len(lines) else None


def _plain_lines(lines: list[str]) -> list[str]:
    return [f"  {number:>4}  {_mask(line)}" for number, line in enumerate(lines, 1)]


def _paired_lines(server: list[str], ours: list[str], first: int) -> list[str]:
    rendered: list[str] = []
    for number in range(max(len(server), len(ours))):
        ours_line, server_line = _line(ours, number), _line(server, number)
        if ours_line == server_line:
            rendered.append(f"  {number + 1:>4}  {_mask(ours_line or '')}")
            continue
        marker = ">" if number == first else " "
        rendered.append(f"{marker} {number + 1:>4}  server: {_shown(server_line)}")
        rendered.append(f"        ours:   {_shown(ours_line)}")
    return rendered


def _shown(line: str | None) -> str:
    return "(no such line)" if line is None else repr(_mask(line))


_TOKEN_HEADER = "x-amz-security-token:"
_TOKEN_PARAMETER = "X-Amz-Security-Token="


# SSE-C keys travel as signed headers, so canonical requests carry them too.
_KEY_HEADERS = (
    "x-amz-server-side-encryption-customer-key:",
    "x-amz-copy-source-server-side-encryption-customer-key:",
)


def _mask(line: str) -> str:
    # Canonical requests carry the session token (as a header or a presigned query
    # parameter); it is a credential and must not reach logs.
    if line.lower().startswith(_TOKEN_HEADER):
        return _TOKEN_HEADER + "***"
    for header in _KEY_HEADERS:
        if line.lower().startswith(header):
            return header + "***"
    return "&".join(_mask_parameter(item) for item in line.split("&"))


def _mask_parameter(item: str) -> str:
    if item.lower().startswith(_TOKEN_PARAMETER.lower()):
        return _TOKEN_PARAMETER + "***"
    return item


def redact_headers(headers: Mapping[str, str]) -> dict[str, str]:
    """Return ``headers`` with the Authorization signature, security token and SSE-C keys
    hidden.

    Args:
        headers: request headers as signed.

    Returns:
        A new dict; the signature and the token read ``***``.
    """
    out = dict(headers)
    for name, value in out.items():
        if name.lower() == "authorization":
            head, sep, _ = value.partition("Signature=")
            out[name] = f"{head}{sep}***" if sep else "***"
        elif name.lower() == "x-amz-security-token" or name.lower() in CUSTOMER_KEY_HEADERS:
            out[name] = "***"
    return out
