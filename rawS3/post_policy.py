"""Presigned POST: the form fields a browser posts to upload one object under a signed policy.

A presigned POST is not a signed request but a signed *policy*: a JSON document listing what
the form may contain (the bucket, the key or its prefix, a size range, a content type,
metadata) and until when. It is base64-encoded into the ``policy`` field and signed with the
SigV4 signing key of the day; the string to sign is that base64 text itself. The server
checks every form field against the policy's conditions and the signature against the
policy, so a form that breaks a condition, or a policy changed after signing, is refused.

The conditions are listed in this order: those of the options (size range, content type,
``success_action_status``, metadata), then the bucket and the key, then the signing fields
(``x-amz-algorithm``, ``x-amz-credential``, ``x-amz-date``, ``x-amz-security-token``).

Nothing here reads a clock or does I/O: the time and the credentials are arguments.
"""

from __future__ import annotations

import base64
import datetime
import json
from collections.abc import Mapping
from dataclasses import dataclass

from rawS3 import sigv4
from rawS3.validation import (
    check_bucket,
    check_expires,
    check_header,
    check_key,
    check_metadata,
)

__all__ = ["FILENAME", "SUCCESS_STATUSES", "PresignedPost", "presign_post"]

# S3 replaces this in the key field with the uploaded file's name.
FILENAME = "${filename}"
SUCCESS_STATUSES = (200, 201, 204)
MAX_POST_SIZE = 5 * 1024**3  # S3 takes at most 5 GiB in one POST
_EXPIRATION_FORMAT = "%Y-%m-%dT%H:%M:%SZ"

Condition = dict[str, str] | list[object]


@dataclass(frozen=True, slots=True, repr=False)
class PresignedPost:
    """Where to post a form upload and the fields that must come before the file.

    Post ``fields`` in order as form fields, then the object's bytes as the last field,
    named ``file`` (S3 ignores fields after the file).

    ``repr`` shows the URL, the field names and the expiry, not the values: with temporary
    credentials the fields (and the policy) hold the session token.

    Attributes:
        url: the bucket's URL, where the form is posted.
        fields: ``(name, value)`` form fields: ``key`` (with a key prefix it ends in
            ``${filename}``, which S3 replaces by the file's name; it may be replaced by any
            key with that prefix), the fields the conditions name, ``x-amz-algorithm``,
            ``x-amz-credential``, ``x-amz-date``, ``x-amz-security-token`` (temporary
            credentials only), ``policy`` and ``x-amz-signature``.
        expiration: when the policy stops being accepted, in UTC.
    """

    url: str
    fields: tuple[tuple[str, str], ...]
    expiration: datetime.datetime

    def field_map(self) -> dict[str, str]:
        """The fields as a new dict, in order (handy for form libraries).

        Returns:
            Field name → value.
        """
        return dict(self.fields)

    def __repr__(self) -> str:
        names = ", ".join(name for name, _ in self.fields)
        return (
            f"PresignedPost(url={self.url!r}, fields=[{names}], "
            f"expiration={self.expiration.isoformat()!r})"
        )


def presign_post(
    url: str,
    bucket: str,
    *,
    key: str | None,
    key_prefix: str | None,
    credentials: sigv4.Credentials,
    region: str,
    now: datetime.datetime,
    expires: int,
    content_length_range: tuple[int, int] | None = None,
    content_type: str | None = None,
    success_action_status: int | None = None,
    metadata: Mapping[str, str] | None = None,
    service: str = "s3",
) -> PresignedPost:
    """Build and sign the policy and form fields of a browser upload.

    Args:
        url: the bucket's URL (``build_url(endpoint, bucket)``).
        bucket: the bucket; the policy names it.
        key: the one key the form may write; exclusive with ``key_prefix``.
        key_prefix: the form may write any key starting with this (``""``: any key).
        credentials: the key pair; a session token becomes a field and a condition.
        region: region name.
        now: the signing time.
        expires: the policy's validity in seconds, 1 to 604800 (7 days).
        content_length_range: ``(minimum, maximum)`` size of the file in bytes, inclusive.
        content_type: the ``Content-Type`` the object must be posted with.
        success_action_status: ``200``, ``201`` (an XML answer naming the object) or ``204``.
        metadata: user metadata the form must carry exactly (``x-amz-meta-*`` fields).
        service: service name.

    Returns:
        The URL, the fields in order and the expiry.

    Raises:
        TypeError: an argument of the wrong type.
        ValueError: both or neither of ``key`` and ``key_prefix``, a bad bucket, key, range,
            status, content type, metadata or ``expires``.
    """
    check_bucket(bucket)
    check_expires(expires)
    fields, conditions = _option_fields(
        content_length_range, content_type, success_action_status, metadata
    )
    key_field, key_condition = _key_field(key, key_prefix)
    signing = _signing_fields(credentials, now, region, service)
    conditions = [
        *conditions,
        {"bucket": bucket},
        key_condition,
        *({name: value} for name, value in signing),
    ]
    expiration = _expiration(now, expires)
    policy = {"expiration": expiration.strftime(_EXPIRATION_FORMAT), "conditions": conditions}
    encoded = base64.b64encode(json.dumps(policy).encode("utf-8")).decode("ascii")
    signing_key = sigv4.signing_key(credentials.secret_key, now, region, service)
    return PresignedPost(
        url=url,
        fields=(
            ("key", key_field),
            *fields,
            *signing,
            ("policy", encoded),
            ("x-amz-signature", sigv4.signature(signing_key, encoded)),
        ),
        expiration=expiration,
    )


def _expiration(now: datetime.datetime, expires: int) -> datetime.datetime:
    moment = now if now.tzinfo is not None else now.replace(tzinfo=datetime.timezone.utc)
    return (moment + datetime.timedelta(seconds=expires)).astimezone(datetime.timezone.utc)


def _key_field(key: str | None, key_prefix: str | None) -> tuple[str, Condition]:
    if (key is None) == (key_prefix is None):
        raise ValueError("give exactly one of key (one object) and key_prefix (any key under it)")
    if key is not None:
        return check_key(key), {"key": key}
    if not isinstance(key_prefix, str):
        raise TypeError(f"key_prefix must be a str, not {type(key_prefix).__name__}")
    check_key(key_prefix + FILENAME)
    return key_prefix + FILENAME, ["starts-with", "$key", key_prefix]


def _option_fields(
    content_length_range: object,
    content_type: str | None,
    success_action_status: object,
    metadata: Mapping[str, str] | None,
) -> tuple[list[tuple[str, str]], list[Condition]]:
    fields: list[tuple[str, str]] = []
    conditions: list[Condition] = []
    if content_length_range is not None:
        low, high = _length_range(content_length_range)
        conditions.append(["content-length-range", low, high])
    if content_type is not None:
        check_header("Content-Type", content_type)
        fields.append(("Content-Type", content_type))
    if success_action_status is not None:
        fields.append(("success_action_status", _status(success_action_status)))
    for name, value in (check_metadata(metadata) if metadata is not None else {}).items():
        fields.append((f"x-amz-meta-{name.lower()}", value))
    conditions.extend({name: value} for name, value in fields)
    return fields, conditions


def _length_range(given: object) -> tuple[int, int]:
    if not isinstance(given, tuple) or len(given) != 2:
        raise TypeError("content_length_range must be a (minimum, maximum) tuple of two ints")
    low, high = given
    for value in given:
        if isinstance(value, bool) or not isinstance(value, int):
            raise TypeError(f"content_length_range holds ints, not {type(value).__name__}")
    if not 0 <= low <= high <= MAX_POST_SIZE:
        raise ValueError(
            f"content_length_range must satisfy 0 <= minimum <= maximum <= {MAX_POST_SIZE:,} "
            f"(5 GiB), got {given!r}"
        )
    return low, high


def _status(status: object) -> str:
    if isinstance(status, bool) or not isinstance(status, int):
        raise TypeError(f"success_action_status must be an int, not {type(status).__name__}")
    if status not in SUCCESS_STATUSES:
        raise ValueError(f"success_action_status must be 200, 201 or 204, not {status}")
    return str(status)


def _signing_fields(
    credentials: sigv4.Credentials, now: datetime.datetime, region: str, service: str
) -> list[tuple[str, str]]:
    scope = sigv4.credential_scope(now, region, service)
    fields = [
        ("x-amz-algorithm", sigv4.ALGORITHM),
        ("x-amz-credential", f"{credentials.access_key}/{scope}"),
        ("x-amz-date", sigv4.amz_date(now)),
    ]
    if credentials.session_token is not None:
        fields.append(("x-amz-security-token", credentials.session_token))
    return fields
